#include "guestos/fs/ext2/ext2.h"
#include "base/format.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace guestos::ext2 {

namespace {

using devices::BlockDevice;
using mmu::Error;
using mmu::ErrorOr;

Error einval(const std::string& msg) { return Error::from_errno(EINVAL, "ext2: " + msg); }
Error eio(const std::string& msg) { return Error::from_errno(EIO, "ext2: " + msg); }

using base::hex;
std::string dec(uint64_t v) { return std::to_string(v); }

// INCOMPAT bits by the names e2fsprogs (dumpe2fs, mke2fs -O) gives them.
struct FeatureName {
    uint32_t bit;
    const char* name;
};
constexpr FeatureName incompat_names[] = {
    {0x1, "compression"},  {0x2, "filetype"},    {0x4, "needs_recovery"},      {0x8, "journal_dev"},
    {0x10, "meta_bg"},     {0x40, "extent"},     {0x80, "64bit"},              {0x100, "mmp"},
    {0x200, "flex_bg"},    {0x400, "ea_inode"},  {0x1000, "dirdata"},          {0x2000, "metadata_csum_seed"},
    {0x4000, "large_dir"}, {0x8000, "inline_data"}, {0x10000, "encrypt"},      {0x20000, "casefold"},
};

// "extent 64bit ..." for the bits set; an unnamed bit n as FEATURE_In, as e2fsprogs prints it.
std::string incompat_feature_names(uint32_t bits) {
    std::string out;
    for (uint32_t i = 0; i < 32; i++) {
        uint32_t bit = 1u << i;
        if (!(bits & bit)) continue;
        const char* name = nullptr;
        for (const auto& f : incompat_names)
            if (f.bit == bit) name = f.name;
        if (!out.empty()) out += ' ';
        out += name ? std::string(name) : "FEATURE_I" + dec(i);
    }
    return out;
}

// Reads the superblock at byte 1024; EINVAL when the device cannot hold one.
ErrorOr<ext2_super_block> read_super(BlockDevice& bdev) {
    if (bdev.size_bytes() < EXT2_SUPER_OFFSET + sizeof(ext2_super_block))
        return einval("device of " + dec(bdev.size_bytes()) + " bytes is too small to hold a superblock");
    ext2_super_block sb;
    if (long r = bdev.read(EXT2_SUPER_OFFSET, &sb, sizeof sb); r < 0)
        return eio(std::string("cannot read the superblock: ") + std::strerror(int(-r)));
    return sb;
}

// The magic and revision say this is an ext2 image of a revision the driver knows.
ErrorOr<void> check_magic(const ext2_super_block& sb) {
    if (sb.s_magic != EXT2_SUPER_MAGIC) return einval("bad magic " + hex(sb.s_magic) + " (not an ext2 image)");
    if (sb.s_rev_level > EXT2_DYNAMIC_REV)
        return einval("unsupported revision level " + dec(sb.s_rev_level) + " (ext2 has 0 and 1)");
    return {};
}

// Refuses INCOMPAT features other than FILETYPE, whose layout this driver cannot read
// (ext2_fill_super); COMPAT and RO_COMPAT ones only matter to a writer.
ErrorOr<void> check_features(const ext2_super_block& sb) {
    uint32_t unsupported = sb.s_feature_incompat & ~EXT2_FEATURE_INCOMPAT_SUPP;
    if (unsupported == 0) return {};
    return einval("unsupported INCOMPAT features " + hex(unsupported) + " (" + incompat_feature_names(unsupported) +
                  "); only filetype is supported (an ext3/ext4 image needing more than ext2?)");
}

// 1024 << s_log_block_size, refused outside 1 KiB..64 KiB.
ErrorOr<uint32_t> block_size_of(const ext2_super_block& sb) {
    if (sb.s_log_block_size > 6) return einval("bad block size: s_log_block_size " + dec(sb.s_log_block_size) + " (0..6)");
    return EXT2_MIN_BLOCK_SIZE << sb.s_log_block_size;
}

uint32_t inode_size_of(const ext2_super_block& sb) {
    return sb.s_rev_level == EXT2_GOOD_OLD_REV ? EXT2_GOOD_OLD_INODE_SIZE : sb.s_inode_size;
}
uint32_t first_ino_of(const ext2_super_block& sb) {
    return sb.s_rev_level == EXT2_GOOD_OLD_REV ? EXT2_GOOD_OLD_FIRST_INO : sb.s_first_ino;
}

// Block groups covering s_blocks_count (s_groups_count); needs blocks_count > first_data_block.
uint64_t groups_count_of(const ext2_super_block& sb) {
    return (uint64_t(sb.s_blocks_count) - sb.s_first_data_block - 1) / sb.s_blocks_per_group + 1;
}

// Group sizes that agree with the totals, and a filesystem that fits on the device.
ErrorOr<void> check_geometry(const ext2_super_block& sb, uint32_t bs, uint64_t device_bytes) {
    if (sb.s_blocks_per_group == 0 || sb.s_blocks_per_group > bs * 8)
        return einval("bad blocks per group " + dec(sb.s_blocks_per_group) + " (1.." + dec(bs * 8) + ")");
    if (sb.s_inodes_per_group == 0 || sb.s_inodes_per_group > bs * 8)
        return einval("bad inodes per group " + dec(sb.s_inodes_per_group) + " (1.." + dec(bs * 8) + ")");
    if (sb.s_first_data_block >= sb.s_blocks_count)
        return einval("first data block " + dec(sb.s_first_data_block) + " is not below the block count " +
                      dec(sb.s_blocks_count));
    uint64_t device_blocks = device_bytes / bs;
    if (sb.s_blocks_count > device_blocks)
        return einval("block count " + dec(sb.s_blocks_count) + " exceeds the device (" + dec(device_blocks) +
                      " blocks of " + dec(bs) + " bytes; truncated image?)");
    uint64_t groups = groups_count_of(sb);
    if (groups * sb.s_inodes_per_group != sb.s_inodes_count)
        return einval("inode count " + dec(sb.s_inodes_count) + " is not " + dec(groups) + " groups * " +
                      dec(sb.s_inodes_per_group) + " inodes per group");
    return {};
}

// An inode size the inode table can be indexed with, and a plausible first inode.
ErrorOr<void> check_inode_layout(const ext2_super_block& sb, uint32_t bs) {
    uint32_t size = inode_size_of(sb);
    if (size < EXT2_GOOD_OLD_INODE_SIZE || !std::has_single_bit(size) || size > bs)
        return einval("unsupported inode size " + dec(size) + " (a power of two, 128.." + dec(bs) + ")");
    uint32_t first = first_ino_of(sb);
    if (first < EXT2_GOOD_OLD_FIRST_INO || first > sb.s_inodes_count)
        return einval("bad first inode " + dec(first) + " (11.." + dec(sb.s_inodes_count) + ")");
    return {};
}

// ext2_rec_len_from_disk: a 64 KiB block's whole-block entry is stored as 65535 (or 0).
uint32_t rec_len_from_disk(uint16_t dlen, uint32_t block_size) {
    if (block_size >= 65536 && (dlen == 0xFFFF || dlen == 0)) return block_size;
    return dlen;
}

// The fixed part of the entry at kaddr + offs (the caller keeps offs + 8 inside the block).
ext2_dir_entry_2 dirent_header(const uint8_t* kaddr, uint32_t offs) {
    ext2_dir_entry_2 de;
    std::memcpy(&de, kaddr + offs, offsetof(ext2_dir_entry_2, name));
    return de;
}

// The seven file types a mode may carry; anything else is a corrupt inode.
bool valid_file_type(uint16_t mode) {
    switch (mode & S_IFMT) {
        case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
            return true;
        default:
            return false;
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

// ext2_inode_is_fast_symlink: the target lives in i_data when no data block is allocated.
bool is_fast_symlink(const ext2_inode_info& inode, uint32_t block_size) {
    uint32_t ea_blocks = inode.i_file_acl ? block_size >> 9 : 0;
    return S_ISLNK(inode.i_mode) && inode.i_blocks == ea_blocks;
}

// Path components of `path`, pushed so that the first one is at the back (the next to walk).
void push_components(std::vector<std::string>& stack, std::string_view path) {
    std::vector<std::string> parts;
    for (size_t pos = 0; pos <= path.size();) {
        size_t end = path.find('/', pos);
        if (end == std::string_view::npos) end = path.size();
        if (end > pos) parts.emplace_back(path.substr(pos, end - pos));
        pos = end + 1;
    }
    stack.insert(stack.end(), parts.rbegin(), parts.rend());
}

}  // namespace

Ext2Fs::Ext2Fs(devices::BlockDevice& bdev, const ext2_super_block& sb)
    : bdev_(bdev),
      sb_(sb),
      block_size_(EXT2_MIN_BLOCK_SIZE << sb.s_log_block_size),
      addr_per_block_bits_(sb.s_log_block_size + 8),
      inode_size_(inode_size_of(sb)),
      itb_per_group_(uint32_t((uint64_t(sb.s_inodes_per_group) * inode_size_ + block_size_ - 1) / block_size_)) {}

ErrorOr<std::unique_ptr<Ext2Fs>> Ext2Fs::fill_super(devices::BlockDevice& bdev) {
    auto sb = read_super(bdev);
    if (sb.is_error()) return sb.error();
    if (auto r = check_magic(*sb); r.is_error()) return r.error();
    if (auto r = check_features(*sb); r.is_error()) return r.error();
    auto bs = block_size_of(*sb);
    if (bs.is_error()) return bs.error();
    if (auto r = check_geometry(*sb, *bs, bdev.size_bytes()); r.is_error()) return r.error();
    if (auto r = check_inode_layout(*sb, *bs); r.is_error()) return r.error();
    std::unique_ptr<Ext2Fs> fs(new Ext2Fs(bdev, *sb));
    if (auto r = fs->load_group_descs(); r.is_error()) return r.error();
    if (auto r = fs->check_descriptors(); r.is_error()) return r.error();
    return fs;
}

// Reads the group descriptor table, which follows the superblock's block, whole.
ErrorOr<void> Ext2Fs::load_group_descs() {
    uint64_t groups = groups_count_of(sb_);
    uint64_t gdt_block = uint64_t(sb_.s_first_data_block) + 1;
    uint64_t gdt_blocks = (groups * sizeof(ext2_group_desc) + block_size_ - 1) / block_size_;
    if (gdt_block + gdt_blocks > sb_.s_blocks_count)
        return einval("group descriptor table (blocks " + dec(gdt_block) + ".." + dec(gdt_block + gdt_blocks - 1) +
                      ") runs past the block count " + dec(sb_.s_blocks_count));
    std::vector<uint8_t> table(gdt_blocks * block_size_);
    if (long r = bdev_.read(gdt_block * block_size_, table.data(), table.size()); r < 0)
        return eio(std::string("cannot read the group descriptors: ") + std::strerror(int(-r)));
    group_desc_.resize(groups);
    std::memcpy(group_desc_.data(), table.data(), groups * sizeof(ext2_group_desc));
    return {};
}

// ext2_check_descriptors: each group's bitmaps and inode table lie inside the group, so
// iget never reads outside the filesystem.
ErrorOr<void> Ext2Fs::check_descriptors() const {
    for (uint64_t i = 0; i < group_desc_.size(); i++) {
        const auto& gd = group_desc_[i];
        uint64_t first = sb_.s_first_data_block + i * sb_.s_blocks_per_group;
        uint64_t last = i + 1 == group_desc_.size() ? sb_.s_blocks_count - 1ull : first + sb_.s_blocks_per_group - 1;
        auto outside = [&](uint64_t b) { return b < first || b > last; };
        std::string where = " for group " + dec(i) + " not in group (blocks " + dec(first) + ".." + dec(last) + ")";
        if (outside(gd.bg_block_bitmap)) return einval("block bitmap " + dec(gd.bg_block_bitmap) + where);
        if (outside(gd.bg_inode_bitmap)) return einval("inode bitmap " + dec(gd.bg_inode_bitmap) + where);
        if (outside(gd.bg_inode_table) || outside(uint64_t(gd.bg_inode_table) + itb_per_group_ - 1))
            return einval("inode table " + dec(gd.bg_inode_table) + "+" + dec(itb_per_group_) + where);
    }
    return {};
}

bool Ext2Fs::block_in_fs(uint64_t block) const {
    return block >= sb_.s_first_data_block && block < sb_.s_blocks_count;
}

// Reads len bytes at offset inside block, which must be a block of the filesystem; a
// request not on sector boundaries goes through a bounce buffer.
ErrorOr<void> Ext2Fs::read_block_bytes(uint64_t block, uint64_t offset, uint8_t* dst, uint64_t len) {
    if (!block_in_fs(block) || offset + len > block_size_)
        return eio("read of block " + dec(block) + " outside the filesystem (blocks " + dec(sb_.s_first_data_block) +
                   ".." + dec(sb_.s_blocks_count - 1ull) + ")");
    const uint64_t sector = BlockDevice::SECTOR_SIZE;
    uint64_t pos = block * block_size_ + offset;
    uint64_t start = pos & ~(sector - 1), end = (pos + len + sector - 1) & ~(sector - 1);
    long r;
    if (start == pos && end == pos + len) {
        r = bdev_.read(pos, dst, len);
    } else {
        std::vector<uint8_t> bounce(end - start);
        r = bdev_.read(start, bounce.data(), bounce.size());
        if (r == 0) std::memcpy(dst, bounce.data() + (pos - start), len);
    }
    if (r < 0) return eio("cannot read block " + dec(block) + ": " + std::strerror(int(-r)));
    return {};
}

ErrorOr<ext2_inode_info> Ext2Fs::iget(uint32_t ino) {
    if (ino < 1 || ino > sb_.s_inodes_count)
        return einval("bad inode number " + dec(ino) + " (1.." + dec(sb_.s_inodes_count) + ")");
    // ext2_get_inode: the group's inode table, then the slot inside it.
    uint32_t group = (ino - 1) / sb_.s_inodes_per_group;
    uint64_t offset = uint64_t((ino - 1) % sb_.s_inodes_per_group) * inode_size_;
    uint64_t block = group_desc_[group].bg_inode_table + offset / block_size_;
    ext2_inode raw;
    auto r = read_block_bytes(block, offset % block_size_, reinterpret_cast<uint8_t*>(&raw), sizeof raw);
    if (r.is_error()) return r.error();
    if (raw.i_links_count == 0 && (raw.i_mode == 0 || raw.i_dtime != 0))
        return Error::from_errno(ESTALE, "ext2: inode " + dec(ino) + " is not in use");
    if (!valid_file_type(raw.i_mode)) return eio("inode " + dec(ino) + " has a bad mode " + hex(raw.i_mode));
    return inode_info_from(ino, raw);
}

// Entry `index` of indirect block `block`, itself checked to be inside the filesystem.
ErrorOr<uint64_t> Ext2Fs::read_block_ptr(uint64_t block, uint64_t index) {
    uint32_t ptr = 0;
    auto r = read_block_bytes(block, index * sizeof ptr, reinterpret_cast<uint8_t*>(&ptr), sizeof ptr);
    if (r.is_error()) return r.error();
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
        auto next = read_block_ptr(block, path.offsets[level]);
        if (next.is_error()) return next.error();
        block = *next;
    }
}

long Ext2Fs::read_folio(const ext2_inode_info& inode, uint64_t index, uint8_t* dst) {
    std::memset(dst, 0, mmu::PAGE_SIZE);
    if (is_fast_symlink(inode, block_size_)) return -EINVAL;  // i_data holds text, not block pointers
    if (inode.i_size == 0 || index > (inode.i_size - 1) >> mmu::PAGE_SHIFT) return 0;  // wholly past EOF
    // A page is several small blocks, or a piece of one block larger than a page.
    const uint64_t chunk = std::min<uint64_t>(block_size_, mmu::PAGE_SIZE);
    const uint64_t page_pos = index << mmu::PAGE_SHIFT;
    for (uint64_t done = 0; done < mmu::PAGE_SIZE && page_pos + done < inode.i_size; done += chunk) {
        uint64_t pos = page_pos + done;
        auto phys = get_block(inode, pos / block_size_);
        if (phys.is_error()) return -phys.error().errno_value;
        if (*phys == 0) continue;  // a hole reads as zeros
        auto r = read_block_bytes(*phys, pos % block_size_, dst + done, chunk);
        if (r.is_error()) return -r.error().errno_value;
        if (uint64_t valid = inode.i_size - pos; valid < chunk) std::memset(dst + done + valid, 0, chunk - valid);
    }
    return 0;
}

// A directory is whole blocks, all allocated: its size can be no more than its i_blocks
// and the filesystem, which bounds every walk over it.
ErrorOr<void> Ext2Fs::check_dir_size(const ext2_inode_info& dir) const {
    if (dir.i_size % block_size_ != 0)
        return eio("size " + dec(dir.i_size) + " of directory #" + dec(dir.i_ino) + " is not a multiple of the block size");
    uint64_t allocated = std::min(uint64_t(dir.i_blocks) * 512, blocks_count() * block_size_);
    if (dir.i_size > allocated)
        return eio("size " + dec(dir.i_size) + " of directory #" + dec(dir.i_ino) + " exceeds its " + dec(allocated) +
                   " allocated bytes");
    return {};
}

// ext2_check_page for one directory block read from byte pos of the directory: the
// entries tile the block exactly, each long enough for its name, inode numbers in range.
ErrorOr<void> Ext2Fs::check_dir_block(const ext2_inode_info& dir, const uint8_t* kaddr, uint64_t pos) const {
    uint32_t offs = 0;
    for (uint32_t rec_len = 0; offs <= block_size_ - EXT2_DIR_REC_LEN(1); offs += rec_len) {
        ext2_dir_entry_2 de = dirent_header(kaddr, offs);
        rec_len = rec_len_from_disk(de.rec_len, block_size_);
        const char* problem = nullptr;
        if (rec_len < EXT2_DIR_REC_LEN(1)) problem = "rec_len is smaller than minimal";
        else if (rec_len & 3) problem = "unaligned directory entry";
        else if (rec_len < EXT2_DIR_REC_LEN(de.name_len)) problem = "rec_len is too small for name_len";
        else if (offs + rec_len > block_size_) problem = "directory entry across blocks";
        else if (de.inode > sb_.s_inodes_count) problem = "inode out of bounds";
        else if (de.inode != 0 && de.name_len == 0) problem = "empty name";
        if (problem)
            return eio("bad entry in directory #" + dec(dir.i_ino) + ": " + problem + " - offset=" + dec(pos + offs) +
                       ", inode=" + dec(de.inode) + ", rec_len=" + dec(rec_len) + ", name_len=" + dec(de.name_len));
    }
    if (offs != block_size_)
        return eio("entry in directory #" + dec(dir.i_ino) + " spans the block boundary - offset=" + dec(pos + offs));
    return {};
}

// Calls fn(entry) for every live entry in on-disk order until it returns true; each block
// is checked whole before any of its entries is used.
template <class Fn>
ErrorOr<void> Ext2Fs::for_each_dirent(const ext2_inode_info& dir, Fn&& fn) {
    if (!S_ISDIR(dir.i_mode)) return Error::from_errno(ENOTDIR, "ext2: inode " + dec(dir.i_ino) + " is not a directory");
    if (auto r = check_dir_size(dir); r.is_error()) return r.error();
    bool filetype = sb_.s_feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE;
    std::vector<uint8_t> kaddr(block_size_);
    for (uint64_t n = 0; n < dir.i_size / block_size_; n++) {
        auto phys = get_block(dir, n);
        if (phys.is_error()) return phys.error();
        if (*phys == 0) return eio("directory #" + dec(dir.i_ino) + " has a hole at block " + dec(n));
        if (auto r = read_block_bytes(*phys, 0, kaddr.data(), block_size_); r.is_error()) return r.error();
        if (auto r = check_dir_block(dir, kaddr.data(), n * block_size_); r.is_error()) return r.error();
        for (uint32_t offs = 0, rec_len; offs < block_size_; offs += rec_len) {
            ext2_dir_entry_2 de = dirent_header(kaddr.data(), offs);
            rec_len = rec_len_from_disk(de.rec_len, block_size_);
            if (de.inode == 0) continue;
            dir_entry e;
            e.ino = de.inode;
            e.file_type = filetype && de.file_type < EXT2_FT_MAX ? de.file_type : EXT2_FT_UNKNOWN;
            e.name.assign(reinterpret_cast<const char*>(kaddr.data()) + offs + 8, de.name_len);
            e.d_off = n * block_size_ + offs + rec_len;
            if (fn(e)) return {};
        }
    }
    return {};
}

ErrorOr<std::vector<dir_entry>> Ext2Fs::readdir(const ext2_inode_info& dir) {
    std::vector<dir_entry> entries;
    auto r = for_each_dirent(dir, [&](dir_entry& e) {
        entries.push_back(std::move(e));
        return false;
    });
    if (r.is_error()) return r.error();
    return entries;
}

ErrorOr<uint32_t> Ext2Fs::lookup(const ext2_inode_info& dir, std::string_view name) {
    if (name.size() > EXT2_NAME_LEN)
        return Error::from_errno(ENAMETOOLONG, "ext2: name of " + dec(name.size()) + " bytes is longer than 255");
    uint32_t found = 0;
    auto r = for_each_dirent(dir, [&](const dir_entry& e) {
        if (e.name == name) found = e.ino;
        return found != 0;
    });
    if (r.is_error()) return r.error();
    if (found == 0)
        return Error::from_errno(ENOENT, "ext2: no entry '" + std::string(name) + "' in directory #" + dec(dir.i_ino));
    return found;
}

// Components are walked from a stack; a symlink met before the last component (or with a
// trailing '/') pushes its target's components and restarts from the root if absolute.
ErrorOr<uint32_t> Ext2Fs::namei(std::string_view path) {
    if (path.empty()) return Error::from_errno(ENOENT, "ext2: empty path");
    if (path.front() != '/') return einval("path '" + std::string(path) + "' is not absolute");
    const bool must_be_dir = path.back() == '/';
    std::vector<std::string> stack;
    push_components(stack, path);
    uint32_t cur = EXT2_ROOT_INO, links = 0;
    while (!stack.empty()) {
        std::string name = std::move(stack.back());
        stack.pop_back();
        auto dir = iget(cur);
        if (dir.is_error()) return dir.error();
        if (!S_ISDIR(dir->i_mode))
            return Error::from_errno(ENOTDIR, "ext2: '" + std::string(path) + "': inode " + dec(cur) + " is not a directory");
        if (name == ".") continue;
        auto child = lookup(*dir, name);
        if (child.is_error()) return child.error();
        auto inode = iget(*child);
        if (inode.is_error()) return inode.error();
        bool follow = !stack.empty() || must_be_dir;
        if (!S_ISLNK(inode->i_mode) || !follow) {
            cur = *child;
            continue;
        }
        if (++links > EXT2_LINK_MAX_FOLLOW)
            return Error::from_errno(ELOOP, "ext2: '" + std::string(path) + "': more than 40 symlinks");
        auto target = readlink(*inode);
        if (target.is_error()) return target.error();
        if (target->empty()) return Error::from_errno(ENOENT, "ext2: symlink inode " + dec(*child) + " is empty");
        if (target->front() == '/') cur = EXT2_ROOT_INO;
        push_components(stack, *target);
    }
    if (must_be_dir) {
        auto last = iget(cur);
        if (last.is_error()) return last.error();
        if (!S_ISDIR(last->i_mode))
            return Error::from_errno(ENOTDIR, "ext2: '" + std::string(path) + "' is not a directory");
    }
    return cur;
}

ErrorOr<std::string> Ext2Fs::readlink(const ext2_inode_info& inode) {
    if (!S_ISLNK(inode.i_mode)) return einval("inode " + dec(inode.i_ino) + " is not a symlink");
    if (is_fast_symlink(inode, block_size_)) {
        if (inode.i_size >= sizeof(inode.i_data))
            return eio("fast symlink inode " + dec(inode.i_ino) + " has size " + dec(inode.i_size) + " (< 60)");
        return std::string(reinterpret_cast<const char*>(inode.i_data.data()), inode.i_size);
    }
    if (inode.i_size >= mmu::PAGE_SIZE)
        return eio("symlink inode " + dec(inode.i_ino) + " has size " + dec(inode.i_size) + " (< 4096)");
    std::vector<uint8_t> page(mmu::PAGE_SIZE);
    if (long r = read_folio(inode, 0, page.data()); r < 0)
        return Error::from_errno(int(-r), "ext2: cannot read symlink inode " + dec(inode.i_ino));
    return std::string(reinterpret_cast<const char*>(page.data()), inode.i_size);
}

std::array<uint8_t, 16> Ext2Fs::uuid() const {
    std::array<uint8_t, 16> u;
    std::copy(std::begin(sb_.s_uuid), std::end(sb_.s_uuid), u.begin());
    return u;
}

std::string Ext2Fs::volume_name() const {
    return std::string(sb_.s_volume_name, strnlen(sb_.s_volume_name, sizeof sb_.s_volume_name));
}

}  // namespace guestos::ext2
