// Inodes and their blocks (fs/ext2/inode.c, symlink.c): reading and writing inodes, the
// block tree with allocation on demand, truncation, and file pages.
#include "guestos/fs/ext2/ext2.h"
#include "base/format.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace guestos::ext2 {

namespace {

// The seven file types a mode may carry; anything else is a corrupt inode.
bool valid_file_type(uint16_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG:
    case S_IFDIR:
    case S_IFLNK:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK: return true;
    default: return false;
    }
}

// The in-memory inode from the on-disk one (the field copies of ext2_iget).
ext2_inode_info inode_info_from(uint32_t ino, const ext2_inode& raw) {
    ext2_inode_info i;
    i.i_ino = ino;
    i.i_mode = raw.i_mode;
    i.i_uid = raw.i_uid | (uint32_t(raw.l_i_uid_high) << 16);
    i.i_gid = raw.i_gid | (uint32_t(raw.l_i_gid_high) << 16);
    i.i_size = raw.i_size;
    if (S_ISREG(raw.i_mode)) i.i_size |= uint64_t(raw.i_size_high) << 32;
    i.i_atime = int32_t(raw.i_atime);
    i.i_mtime = int32_t(raw.i_mtime);
    i.i_ctime = int32_t(raw.i_ctime);
    i.i_dtime = int32_t(raw.i_dtime);
    i.i_nlink = raw.i_links_count;
    i.i_blocks = raw.i_blocks;
    i.i_flags = raw.i_flags;
    i.i_generation = raw.i_generation;
    i.i_file_acl = raw.i_file_acl;
    std::copy(std::begin(raw.i_block), std::end(raw.i_block), i.i_data.begin());
    return i;
}

// ext2_block_to_path: the index of iblock at each level of the block tree (i_data slot,
// then one index per indirect block); depth 0 past the triple-indirect tree.
struct BlockPath {
    std::array<uint64_t, 4> offsets{};
    int depth = 0;
};
BlockPath block_to_path(uint64_t i_block, uint32_t ptrs_bits) {
    const uint64_t ptrs = 1ull << ptrs_bits, mask = ptrs - 1;
    const uint64_t double_blocks = 1ull << (ptrs_bits * 2);
    if (i_block < EXT2_NDIR_BLOCKS) return {{i_block}, 1};
    i_block -= EXT2_NDIR_BLOCKS;
    if (i_block < ptrs) return {{EXT2_IND_BLOCK, i_block}, 2};
    i_block -= ptrs;
    if (i_block < double_blocks) return {{EXT2_DIND_BLOCK, i_block >> ptrs_bits, i_block & mask}, 3};
    i_block -= double_blocks;
    if ((i_block >> (ptrs_bits * 2)) < ptrs)
        return {{EXT2_TIND_BLOCK, i_block >> (ptrs_bits * 2), (i_block >> ptrs_bits) & mask, i_block & mask}, 4};
    return {};
}

}  // namespace

bool Ext2Fs::block_in_fs(uint64_t block) const { return block >= sb_.s_first_data_block && block < sb_.s_blocks_count; }

// Reads len bytes at offset inside metadata block `block` through its buffer.
ErrorOr<void> Ext2Fs::read_block_bytes(uint64_t block, uint64_t offset, uint8_t* dst, uint64_t len) {
    if (offset + len > block_size_) return eio("read past the end of block " + dec(block));
    auto bh = TRY(bread(block));
    std::memcpy(dst, bh->b_data.data() + offset, len);
    return {};
}

namespace {

// Reads len bytes of file data at offset inside a block straight from the device (the
// page cache holds it from then on); a request not on sector boundaries goes through a
// bounce buffer.
long read_data_bytes(BlockDevice& bdev, uint64_t pos, uint8_t* dst, uint64_t len) {
    const uint64_t sector = BlockDevice::SECTOR_SIZE;
    uint64_t start = pos & ~(sector - 1), end = (pos + len + sector - 1) & ~(sector - 1);
    if (start == pos && end == pos + len) return submit_bio_read(bdev, pos, dst, len);
    std::vector<uint8_t> bounce(end - start);
    long r = submit_bio_read(bdev, start, bounce.data(), bounce.size());
    if (r == 0) std::memcpy(dst, bounce.data() + (pos - start), len);
    return r;
}

}  // namespace

ErrorOr<ext2_inode_info> Ext2Fs::iget(uint32_t ino) {
    if (ino < 1 || ino > sb_.s_inodes_count)
        return einval("bad inode number " + dec(ino) + " (1.." + dec(sb_.s_inodes_count) + ")");
    // ext2_get_inode: the group's inode table, then the slot inside it.
    uint32_t group = (ino - 1) / sb_.s_inodes_per_group;
    uint64_t offset = uint64_t((ino - 1) % sb_.s_inodes_per_group) * inode_size_;
    uint64_t block = group_desc_[group].bg_inode_table + offset / block_size_;
    ext2_inode raw;
    TRY(read_block_bytes(block, offset % block_size_, reinterpret_cast<uint8_t*>(&raw), sizeof raw));
    if (raw.i_links_count == 0 && (raw.i_mode == 0 || raw.i_dtime != 0))
        return Error::from_errno(ESTALE, "ext2: inode " + dec(ino) + " is not in use");
    if (!valid_file_type(raw.i_mode)) return eio("inode " + dec(ino) + " has a bad mode " + hex(raw.i_mode));
    return inode_info_from(ino, raw);
}

// Entry `index` of indirect block `block`, itself checked to be inside the filesystem.
ErrorOr<uint64_t> Ext2Fs::read_block_ptr(uint64_t block, uint64_t index) {
    uint32_t ptr = 0;
    TRY(read_block_bytes(block, index * sizeof ptr, reinterpret_cast<uint8_t*>(&ptr), sizeof ptr));
    return uint64_t(ptr);
}

// ext2_get_branch without allocation: follows at most three indirect blocks, so even an
// indirect block that points at itself ends the walk; every pointer is range-checked.
ErrorOr<uint64_t> Ext2Fs::get_block(const ext2_inode_info& inode, uint64_t iblock) {
    BlockPath path = block_to_path(iblock, addr_per_block_bits_);
    if (path.depth == 0)
        return eio("inode " + dec(inode.i_ino) + ": file block " + dec(iblock) + " is beyond the triple-indirect tree");
    uint64_t block = inode.i_data[path.offsets[0]];
    for (int level = 1;; level++) {
        if (block == 0) return uint64_t(0);  // a hole (a missing indirect block is one too)
        if (!block_in_fs(block))
            return eio("inode " + dec(inode.i_ino) + ": block pointer " + dec(block) + " for file block " +
                       dec(iblock) + " is outside the filesystem (blocks " + dec(sb_.s_first_data_block) + ".." +
                       dec(sb_.s_blocks_count - 1ull) + ")");
        if (level == path.depth) return block;
        auto next = TRY(read_block_ptr(block, path.offsets[level]));
        block = next;
    }
}

long Ext2Fs::readahead(const ext2_inode_info& inode, uint64_t index, uint64_t nr, uint8_t* dst) {
    std::memset(dst, 0, nr << mmu::PAGE_SHIFT);
    if (is_fast_symlink(inode)) return -EINVAL;
    const uint64_t chunk = std::min<uint64_t>(block_size_, mmu::PAGE_SIZE);
    const uint64_t from = index << mmu::PAGE_SHIFT;
    const uint64_t to = std::min<uint64_t>(inode.i_size, (index + nr) << mmu::PAGE_SHIFT);
    // The run of blocks contiguous on the disk not yet read: one bio (do_mpage_readpage
    // grows a bio while the next block follows the last).
    uint64_t run_pos = 0, run_len = 0;
    uint8_t* run_dst = nullptr;
    auto submit = [&]() -> long {
        const long r = run_len ? read_data_bytes(bdev_, run_pos, run_dst, run_len) : 0;
        run_len = 0;
        return r < 0 ? -EIO : 0;
    };
    for (uint64_t pos = from; pos < to; pos += chunk) {
        const uint64_t phys = TRY_ERRNO(get_block(inode, pos / block_size_));
        if (phys && !block_in_fs(phys)) return -EIO;
        const uint64_t disk = phys * block_size_ + pos % block_size_;
        if (phys && run_len && run_pos + run_len == disk) {
            run_len += chunk;
            continue;
        }
        if (long e = submit()) return e;
        if (phys) run_pos = disk, run_dst = dst + (pos - from), run_len = chunk;  // a hole stays zeros
    }
    if (long e = submit()) return e;
    if (to > from) std::memset(dst + (to - from), 0, (nr << mmu::PAGE_SHIFT) - (to - from));  // past i_size
    return 0;
}

long Ext2Fs::read_folio(const ext2_inode_info& inode, uint64_t index, uint8_t* dst) {
    std::memset(dst, 0, mmu::PAGE_SIZE);
    if (is_fast_symlink(inode)) return -EINVAL;  // i_data holds text, not block pointers
    if (inode.i_size == 0 || index > (inode.i_size - 1) >> mmu::PAGE_SHIFT) return 0;  // wholly past EOF
    // A page is several small blocks, or a piece of one block larger than a page.
    const uint64_t chunk = std::min<uint64_t>(block_size_, mmu::PAGE_SIZE);
    const uint64_t page_pos = index << mmu::PAGE_SHIFT;
    for (uint64_t done = 0; done < mmu::PAGE_SIZE && page_pos + done < inode.i_size; done += chunk) {
        uint64_t pos = page_pos + done;
        const uint64_t phys = TRY_ERRNO(get_block(inode, pos / block_size_));
        if (phys == 0) continue;  // a hole reads as zeros
        if (!block_in_fs(phys)) return -EIO;
        if (read_data_bytes(bdev_, phys * block_size_ + pos % block_size_, dst + done, chunk) < 0) return -EIO;
        if (uint64_t valid = inode.i_size - pos; valid < chunk) std::memset(dst + done + valid, 0, chunk - valid);
    }
    return 0;
}

ErrorOr<std::string> Ext2Fs::readlink(const ext2_inode_info& inode) {
    if (!S_ISLNK(inode.i_mode)) return einval("inode " + dec(inode.i_ino) + " is not a symlink");
    if (is_fast_symlink(inode)) {
        if (inode.i_size >= sizeof(inode.i_data))
            return eio("fast symlink inode " + dec(inode.i_ino) + " has size " + dec(inode.i_size) + " (< 60)");
        return std::string(reinterpret_cast<const char*>(inode.i_data.data()), inode.i_size);
    }
    if (inode.i_size >= mmu::PAGE_SIZE)
        return eio("symlink inode " + dec(inode.i_ino) + " has size " + dec(inode.i_size) + " (< 4096)");
    if (inode.i_size >= block_size_)
        return eio("symlink inode " + dec(inode.i_ino) + " has size " + dec(inode.i_size) + " (< the block size)");
    auto block = TRY(get_block(inode, 0));
    if (block == 0) return eio("symlink inode " + dec(inode.i_ino) + " has no block");
    auto bh = TRY(bread(block));
    return std::string(reinterpret_cast<const char*>(bh->b_data.data()), inode.i_size);
}

bool Ext2Fs::is_fast_symlink(const ext2_inode_info& inode) const {
    const uint32_t ea_blocks = inode.i_file_acl ? block_size_ >> 9 : 0;
    return S_ISLNK(inode.i_mode) && inode.i_blocks == ea_blocks;
}

ErrorOr<std::pair<buffer_head*, uint32_t>> Ext2Fs::inode_slot(uint32_t ino) {
    if (ino < 1 || ino > sb_.s_inodes_count)
        return einval("bad inode number " + dec(ino) + " (1.." + dec(sb_.s_inodes_count) + ")");
    const uint32_t group = (ino - 1) / sb_.s_inodes_per_group;
    const uint64_t offset = uint64_t((ino - 1) % sb_.s_inodes_per_group) * inode_size_;
    auto bh = TRY(bread(group_desc_[group].bg_inode_table + offset / block_size_));
    return std::pair<buffer_head*, uint32_t>{bh, uint32_t(offset % block_size_)};
}

ErrorOr<void> Ext2Fs::write_inode(const ext2_inode_info& i, bool is_new) {
    auto slot = TRY(inode_slot(i.i_ino));
    auto [bh, offs] = slot;
    uint8_t* at = bh->b_data.data() + offs;
    if (is_new) std::memset(at, 0, inode_size_);
    ext2_inode raw;
    std::memcpy(&raw, at, sizeof raw);  // fields ext2 does not keep stay as they are
    raw.i_mode = i.i_mode;
    raw.i_uid = uint16_t(i.i_uid);
    raw.l_i_uid_high = uint16_t(i.i_uid >> 16);
    raw.i_gid = uint16_t(i.i_gid);
    raw.l_i_gid_high = uint16_t(i.i_gid >> 16);
    raw.i_size = uint32_t(i.i_size);
    raw.i_size_high = S_ISREG(i.i_mode) ? uint32_t(i.i_size >> 32) : 0;
    raw.i_atime = uint32_t(i.i_atime);
    raw.i_ctime = uint32_t(i.i_ctime);
    raw.i_mtime = uint32_t(i.i_mtime);
    raw.i_dtime = uint32_t(i.i_dtime);
    raw.i_links_count = i.i_nlink;
    raw.i_blocks = i.i_blocks;
    raw.i_flags = i.i_flags;
    raw.i_generation = i.i_generation;
    raw.i_file_acl = i.i_file_acl;
    std::copy(i.i_data.begin(), i.i_data.end(), raw.i_block);
    std::memcpy(at, &raw, sizeof raw);
    bh_.mark_buffer_dirty(*bh);
    // A file past 2 GiB needs large_file (ext2_update_dynamic_rev + the feature).
    if (S_ISREG(i.i_mode) && i.i_size > 0x7fffffffull) sb_.s_feature_ro_compat |= EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
    return {};
}

uint32_t Ext2Fs::find_near(const ext2_inode_info& inode, const uint32_t* slots, uint64_t index,
                           uint32_t parent_block) const {
    for (uint64_t i = index; i-- > 0;)  // the nearest block before, in the same array
        if (slots[i]) return slots[i];
    if (parent_block) return parent_block;  // else the indirect block holding the array
    // Else the inode's group, spread by process as Linux colours by pid.
    const uint32_t group = (inode.i_ino - 1) / sb_.s_inodes_per_group;
    const uint32_t colour = (uint32_t(::getpid()) % 16) * (sb_.s_blocks_per_group / 16);
    return group_first_block(group) + colour;
}

ErrorOr<uint64_t> Ext2Fs::get_block_create(ext2_inode_info& inode, uint64_t iblock, bool* fresh) {
    if (fresh) *fresh = false;
    BlockPath path = block_to_path(iblock, addr_per_block_bits_);
    if (path.depth == 0) return Error::from_errno(EFBIG, "ext2: file block " + dec(iblock) + " is past the tree");
    // ext2_get_branch: follow the existing part of the chain.
    uint32_t* slot = &inode.i_data[path.offsets[0]];
    buffer_head* holder = nullptr;  // the indirect block holding *slot, null for i_data
    int level = 0;
    for (; level < path.depth && *slot; level++) {
        if (!block_in_fs(*slot))
            return eio("inode " + dec(inode.i_ino) + ": block pointer " + dec(*slot) + " outside the filesystem");
        if (level + 1 == path.depth) return uint64_t(*slot);
        auto bh = TRY(bread(*slot));
        holder = bh;
        slot = reinterpret_cast<uint32_t*>(holder->b_data.data()) + path.offsets[level + 1];
    }
    // ext2_alloc_branch: every missing block at once, or none.
    const int missing = path.depth - level;
    const uint32_t* array = holder ? reinterpret_cast<uint32_t*>(holder->b_data.data()) : inode.i_data.data();
    uint32_t goal = find_near(inode, array, path.offsets[level], holder ? uint32_t(holder->b_blocknr) : 0);
    std::vector<uint32_t> got;
    for (int k = 0; k < missing; k++) {
        uint32_t count = 1;
        auto b = new_blocks(goal, &count);
        if (b.is_error()) {
            for (uint32_t x : got) free_blocks(x, 1);
            return b.error();
        }
        got.push_back(b.value());
        goal = b.value() + 1;
    }
    // Each new indirect block starts zeroed and points at the next; the data block last.
    for (int k = 0; k + 1 < missing; k++) {
        buffer_head* ind = bh_.sb_getblk(got[k]);
        reinterpret_cast<uint32_t*>(ind->b_data.data())[path.offsets[level + k + 1]] = got[k + 1];
        bh_.mark_buffer_dirty(*ind);
    }
    // ext2_splice_branch: link the new chain in.
    *slot = got[0];
    if (holder) bh_.mark_buffer_dirty(*holder);
    inode.i_blocks += uint32_t(missing) * (block_size_ >> 9);
    if (fresh) *fresh = true;
    return uint64_t(got.back());
}

long Ext2Fs::write_data(uint64_t block, const uint8_t* src, page* pg) {
    if (!block_in_fs(block)) return -EIO;
    if (!pg) return submit_bio_write(bdev_, block * block_size_, src, block_size_);
    return submit_bio_write_page(bdev_, block * block_size_, src, block_size_, mark_page_async_write(*pg));
}

void Ext2Fs::free_branch(uint32_t ptr, int depth, ext2_inode_info& inode) {
    if (!block_in_fs(ptr)) return;  // a corrupt pointer frees nothing
    if (depth > 0) {
        auto bh = bread(ptr);
        if (!bh.is_error()) {
            std::vector<uint32_t> children(ptrs_per_block());
            std::memcpy(children.data(), bh.value()->b_data.data(), block_size_);
            for (uint32_t c : children)
                if (c) free_branch(c, depth - 1, inode);
        }
    }
    free_blocks(ptr, 1);
    inode.i_blocks -= std::min<uint32_t>(inode.i_blocks, block_size_ >> 9);
}

void Ext2Fs::truncate_branch(uint32_t& ptr, int depth, uint64_t base, uint64_t from, ext2_inode_info& inode) {
    if (!ptr) return;
    uint64_t child_span = 1;
    for (int d = 1; d < depth; d++) child_span <<= addr_per_block_bits_;
    if (from <= base) {  // the whole subtree goes
        free_branch(ptr, depth, inode);
        ptr = 0;
        return;
    }
    if (depth == 0 || from >= base + child_span * ptrs_per_block() || !block_in_fs(ptr)) return;
    auto bh = bread(ptr);
    if (bh.is_error()) return;
    auto* entries = reinterpret_cast<uint32_t*>(bh.value()->b_data.data());
    for (uint64_t i = 0; i < ptrs_per_block(); i++) {
        const uint64_t child_base = base + i * child_span;
        if (child_base + child_span <= from || !entries[i]) continue;
        uint32_t child = entries[i];
        truncate_branch(child, depth - 1, child_base, from, inode);
        entries[i] = child;
    }
    bh_.mark_buffer_dirty(*bh.value());
}

void Ext2Fs::truncate_blocks(ext2_inode_info& inode, uint64_t from) {
    if (is_fast_symlink(inode)) return;  // i_data is text
    for (uint64_t i = from; i < EXT2_NDIR_BLOCKS; i++)
        if (inode.i_data[i]) {
            free_branch(inode.i_data[i], 0, inode);
            inode.i_data[i] = 0;
        }
    const uint64_t ptrs = ptrs_per_block();
    truncate_branch(inode.i_data[EXT2_IND_BLOCK], 1, EXT2_NDIR_BLOCKS, from, inode);
    truncate_branch(inode.i_data[EXT2_DIND_BLOCK], 2, EXT2_NDIR_BLOCKS + ptrs, from, inode);
    truncate_branch(inode.i_data[EXT2_TIND_BLOCK], 3, EXT2_NDIR_BLOCKS + ptrs + ptrs * ptrs, from, inode);
}

ErrorOr<void> Ext2Fs::page_symlink(ext2_inode_info& inode, std::string_view target) {
    const uint64_t block = TRY(get_block_create(inode, 0));
    buffer_head* bh = bh_.sb_getblk(block);
    std::memcpy(bh->b_data.data(), target.data(), target.size());
    bh_.mark_buffer_dirty(*bh);
    inode.i_size = target.size();
    return {};
}

}  // namespace guestos::ext2
