// Buffer heads (include/linux/buffer_head.h, fs/buffer.c): the metadata blocks of one block
// device (bitmaps, inode tables, indirect blocks, directories) kept in memory once read,
// written back when dirty at sync. File data does not come here: it is in the page cache.
// A block freed by the filesystem is forgotten (bforget) before it may be reused for data.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "devices/block_device.h"
#include "mmu/types.h"

namespace guestos {

struct buffer_head {
    uint64_t b_blocknr = 0;
    std::vector<uint8_t> b_data;  // b_size bytes
    bool dirty = false;           // BH_Dirty
    bool verified = false;        // BH_Verified: the filesystem checked it since it was read
};

class block_buffers {
public:
    block_buffers(devices::BlockDevice& bdev, uint32_t block_size) : bdev_(bdev), b_size_(block_size) {}
    // The block, read from the device unless cached (sb_bread); EIO when the read fails.
    mmu::ErrorOr<buffer_head*> sb_bread(uint64_t block);
    // The block without reading it, zeroed when not cached (sb_getblk + memset: a block
    // the filesystem just allocated and fills itself).
    buffer_head* sb_getblk(uint64_t block);
    // Dirties the buffer, and with it the block device's inode (bd_mapping) for the flusher
    // (mark_buffer_dirty -> __mark_inode_dirty of bh->b_folio->mapping->host).
    void mark_buffer_dirty(buffer_head& bh);
    // The block device inode's page cache these buffers stand for (bdev->bd_mapping): on the
    // flusher's dirty list while a buffer is dirty; null: no flusher writes them.
    void set_bd_mapping(struct address_space* m) { bd_mapping_ = m; }
    // Drops the block, dirty or not (bforget): it was freed.
    void bforget(uint64_t block) { cache_.erase(block); }
    // Writes every dirty buffer back in block order (sync_dirty_buffer for each), then drops
    // clean ones past the cache's bound; 0 or the first error.
    long sync_dirty_buffers();
    // Block writes and reads the device saw (for /proc/diskstats-style counts in tests).
    uint64_t nr_cached() const { return cache_.size(); }

private:
    static constexpr size_t MAX_CLEAN = 16384;  // clean buffers kept after a sync
    devices::BlockDevice& bdev_;
    uint32_t b_size_;
    std::map<uint64_t, std::unique_ptr<buffer_head>> cache_;
    struct address_space* bd_mapping_ = nullptr;
};

}  // namespace guestos
