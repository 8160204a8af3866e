// Metadata buffers of a block device (fs/buffer.c).
#include "guestos/include/buffer_head.h"

#include "guestos/include/blkdev.h"
#include "guestos/include/writeback.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace guestos {

mmu::ErrorOr<buffer_head*> block_buffers::sb_bread(uint64_t block) {
    if (auto it = cache_.find(block); it != cache_.end()) return it->second.get();
    auto bh = std::make_unique<buffer_head>();
    bh->b_blocknr = block;
    bh->b_data.resize(b_size_);
    if (long r = submit_bio_read(bdev_, block * b_size_, bh->b_data.data(), b_size_); r < 0)
        return mmu::Error::from_errno(EIO,
                                      "cannot read block " + std::to_string(block) + ": " + std::strerror(int(-r)));
    buffer_head* raw = bh.get();
    cache_[block] = std::move(bh);
    return raw;
}

buffer_head* block_buffers::sb_getblk(uint64_t block) {
    auto& slot = cache_[block];
    if (!slot) {
        slot = std::make_unique<buffer_head>();
        slot->b_blocknr = block;
        slot->b_data.resize(b_size_);
    }
    std::memset(slot->b_data.data(), 0, b_size_);
    return slot.get();
}

void block_buffers::mark_buffer_dirty(buffer_head& bh) {
    if (bh.dirty) return;
    bh.dirty = true;
    if (bd_mapping_) __mark_inode_dirty(*bd_mapping_, ktime_get());
}

long block_buffers::sync_dirty_buffers() {
    long err = 0;
    blk_plug plug;  // neighbouring blocks go out as one request
    for (auto& [block, bh] : cache_) {
        if (!bh->dirty) continue;
        long r = submit_bio_write(bdev_, block * b_size_, bh->b_data.data(), b_size_);
        if (r < 0 && !err) err = r;
        if (r == 0) bh->dirty = false;
    }
    if (long r = plug.finish(); r < 0 && !err) err = r;
    if (!err && bd_mapping_) inode_io_list_del(*bd_mapping_);  // all clean: off the flusher's list
    if (cache_.size() > MAX_CLEAN)
        for (auto it = cache_.begin(); it != cache_.end();) it = it->second->dirty ? std::next(it) : cache_.erase(it);
    return err;
}

}  // namespace guestos
