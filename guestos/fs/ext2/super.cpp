// The superblock and group descriptors (fs/ext2/super.c): mount checks, statfs figures,
// and the state written back at sync and unmount.
#include "guestos/fs/ext2/ext2.h"
#include "base/format.h"
#include "guestos/fs/ext2/ext2_fs.h"
#include "guestos/include/cred.h"
#include "guestos/include/dcache.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace guestos::ext2 {

namespace {

// INCOMPAT bits by the names e2fsprogs (dumpe2fs, mke2fs -O) gives them.
struct FeatureName {
    uint32_t bit;
    const char* name;
};
constexpr FeatureName incompat_names[] = {
    {0x1, "compression"},  {0x2, "filetype"},       {0x4, "needs_recovery"}, {0x8, "journal_dev"},
    {0x10, "meta_bg"},     {0x40, "extent"},        {0x80, "64bit"},         {0x100, "mmp"},
    {0x200, "flex_bg"},    {0x400, "ea_inode"},     {0x1000, "dirdata"},     {0x2000, "metadata_csum_seed"},
    {0x4000, "large_dir"}, {0x8000, "inline_data"}, {0x10000, "encrypt"},    {0x20000, "casefold"},
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
    if (long r = submit_bio_read(bdev, EXT2_SUPER_OFFSET, &sb, sizeof sb); r < 0)
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
    if (sb.s_log_block_size > 6)
        return einval("bad block size: s_log_block_size " + dec(sb.s_log_block_size) + " (0..6)");
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

// ext2_bg_has_super with sparse_super: groups 0, 1 and the powers of 3, 5 and 7.
bool bg_has_super(const ext2_super_block& sb, uint32_t group) {
    if (!(sb.s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER) || group <= 1) return true;
    for (uint32_t base : {3u, 5u, 7u}) {
        uint64_t n = base;
        while (n < group) n *= base;
        if (n == group) return true;
    }
    return false;
}

}  // namespace

uint64_t Ext2Fs::overhead_blocks() const {
    const uint64_t gdb = (group_desc_.size() * sizeof(ext2_group_desc) + block_size_ - 1) / block_size_;
    uint64_t overhead = sb_.s_first_data_block;
    for (uint32_t g = 0; g < group_desc_.size(); g++)
        if (bg_has_super(sb_, g)) overhead += 1 + gdb;
    return overhead + group_desc_.size() * (2 + uint64_t(itb_per_group_));
}

uint64_t Ext2Fs::max_size() const {
    // ext2_max_size: the block tree's reach, and i_blocks (512-byte units in 32 bits)
    // counting the indirect blocks too.
    const uint64_t ptrs = ptrs_per_block();
    const uint64_t meta = 1 + (1 + ptrs) + (1 + ptrs + ptrs * ptrs);
    uint64_t upper = ((1ull << 32) - 1) / (block_size_ / 512);
    upper = upper > meta ? upper - meta : 0;
    const uint64_t tree = EXT2_NDIR_BLOCKS + ptrs + ptrs * ptrs + ptrs * ptrs * ptrs;
    const uint64_t blocks = std::min(upper, tree);
    return blocks * block_size_;
}

std::string Ext2Fs::cannot_write() const {
    if (uint32_t f = sb_.s_feature_ro_compat & ~EXT2_FEATURE_RO_COMPAT_SUPP)
        return "unsupported RO_COMPAT features " + hex(f) + " (ext2 writes only sparse_super and large_file images)";
    if (block_size_ > mmu::PAGE_SIZE) return "blocks of " + dec(block_size_) + " bytes are larger than a page";
    return "";
}

void Ext2Fs::setup_super() {
    if (!(s_mount_state_ & EXT2_VALID_FS))
        std::fprintf(stderr, "EXT2-fs: warning: mounting unchecked fs, running e2fsck is recommended\n");
    else if (s_mount_state_ & EXT2_ERROR_FS)
        std::fprintf(stderr, "EXT2-fs: warning: mounting fs with errors, running e2fsck is recommended\n");
    if (!sb_.s_max_mnt_count) sb_.s_max_mnt_count = EXT2_DFL_MAX_MNT_COUNT;
    ++sb_.s_mnt_count;
    sb_.s_mtime = uint32_t(::time(nullptr));
    sb_.s_state &= uint16_t(~EXT2_VALID_FS);  // ext2_sync_fs: not clean while mounted
}

void Ext2Fs::group_desc_dirty(uint32_t g) {
    const uint64_t per_block = block_size_ / sizeof(ext2_group_desc);
    auto bh = bread(uint64_t(sb_.s_first_data_block) + 1 + g / per_block);
    if (bh.is_error()) return;  // reported when the table is written whole at sync
    std::memcpy(bh.value()->b_data.data() + (g % per_block) * sizeof(ext2_group_desc), &group_desc_[g],
                sizeof(ext2_group_desc));
    bh_.mark_buffer_dirty(*bh.value());
}

long Ext2Fs::sync_super(bool clean) {
    for (uint32_t g = 0; g < group_desc_.size(); g++) group_desc_dirty(g);
    sb_.s_free_blocks_count = uint32_t(count_free_blocks());
    sb_.s_free_inodes_count = uint32_t(count_free_inodes());
    sb_.s_wtime = uint32_t(::time(nullptr));
    if (clean) sb_.s_state = s_mount_state_;
    if (long e = bh_.sync_dirty_buffers()) return e;
    return submit_bio_write(bdev_, EXT2_SUPER_OFFSET, &sb_, sizeof sb_);
}

mmu::Error Ext2Fs::ext2_error(const char* function, const std::string& msg) {
    if (!s_flags_ || !(*s_flags_ & SB_RDONLY)) {
        // The image says it has errors from now on, even if emu is killed (ext2_sync_super).
        s_mount_state_ |= EXT2_ERROR_FS;
        sb_.s_state |= EXT2_ERROR_FS;
        sb_.s_free_blocks_count = uint32_t(count_free_blocks());
        sb_.s_free_inodes_count = uint32_t(count_free_inodes());
        sb_.s_wtime = uint32_t(::time(nullptr));
        (void)submit_bio_write(bdev_, EXT2_SUPER_OFFSET, &sb_, sizeof sb_);
    }
    std::fprintf(stderr, "EXT2-fs (sda): error: %s: %s\n", function, msg.c_str());
    if (s_flags_ && !(*s_flags_ & SB_RDONLY) && sb_.s_errors != EXT2_ERRORS_CONTINUE) {
        std::fprintf(stderr, "EXT2-fs (sda): error: remounting filesystem read-only\n");
        *s_flags_ |= SB_RDONLY;
        remounted_ro_ = true;
    }
    return eio(msg);
}

mmu::ErrorOr<buffer_head*> Ext2Fs::bread(uint64_t block) {
    if (!block_in_fs(block))
        return eio("read of block " + dec(block) + " outside the filesystem (blocks " + dec(sb_.s_first_data_block) +
                   ".." + dec(sb_.s_blocks_count - 1ull) + ")");
    return bh_.sb_bread(block);
}

Ext2Fs::Ext2Fs(devices::BlockDevice& bdev, const ext2_super_block& sb)
    : bdev_(bdev),
      sb_(sb),
      block_size_(EXT2_MIN_BLOCK_SIZE << sb.s_log_block_size),
      addr_per_block_bits_(sb.s_log_block_size + 8),
      inode_size_(inode_size_of(sb)),
      itb_per_group_(uint32_t((uint64_t(sb.s_inodes_per_group) * inode_size_ + block_size_ - 1) / block_size_)),
      bh_(bdev, EXT2_MIN_BLOCK_SIZE << sb.s_log_block_size),
      s_mount_state_(sb.s_state),
      s_debts_(groups_count_of(sb)) {}

ErrorOr<std::unique_ptr<Ext2Fs>> Ext2Fs::fill_super(devices::BlockDevice& bdev) {
    auto sb = TRY(read_super(bdev));
    TRY(check_magic(sb));
    TRY(check_features(sb));
    auto bs = TRY(block_size_of(sb));
    TRY(check_geometry(sb, bs, bdev.size_bytes()));
    TRY(check_inode_layout(sb, bs));
    std::unique_ptr<Ext2Fs> fs(new Ext2Fs(bdev, sb));
    TRY(fs->load_group_descs());
    TRY(fs->check_descriptors());
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
    if (long r = submit_bio_read(bdev_, gdt_block * block_size_, table.data(), table.size()); r < 0)
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

ErrorOr<void> Ext2Fs::check_group_desc(uint32_t g, const char* function) {
    const ext2_group_desc& gd = group_desc_[g];
    const uint64_t first = group_first_block(g);
    const uint64_t last = g + 1 == groups_count() ? sb_.s_blocks_count - 1ull : first + sb_.s_blocks_per_group - 1;
    // The superblock, the descriptor blocks and resize_inode's reserve (s_padding1, ext4's
    // s_reserved_gdt_blocks) at the group's start, where the group has a copy.
    const uint64_t gdb = (group_desc_.size() * sizeof(ext2_group_desc) + block_size_ - 1) / block_size_;
    const uint64_t meta_end = first + (bg_has_super(sb_, g) ? 1 + gdb + sb_.s_padding1 : 0);
    const uint64_t bb = gd.bg_block_bitmap, ib = gd.bg_inode_bitmap, it = gd.bg_inode_table,
                   it_end = it + itb_per_group_;
    auto bad = [&](const char* what, uint64_t block, const char* why) {
        return ext2_error(function,
                          std::string(what) + " for group " + dec(g) + " " + why + " (block " + dec(block) + ")");
    };
    auto placed = [&](uint64_t b) { return b >= meta_end && b <= last; };
    if (!placed(bb))
        return bad("Block bitmap", bb,
                   bb < first || bb > last ? "not in group" : "overlaps the superblock or descriptors");
    if (!placed(ib))
        return bad("Inode bitmap", ib,
                   ib < first || ib > last ? "not in group" : "overlaps the superblock or descriptors");
    if (ib == bb) return bad("Inode bitmap", ib, "overlaps the block bitmap");
    if (!placed(it) || !placed(it_end - 1))
        return bad("Inode table", it,
                   it < first || it_end - 1 > last ? "not in group" : "overlaps the superblock or descriptors");
    if (bb >= it && bb < it_end) return bad("Inode table", it, "overlaps the block bitmap");
    if (ib >= it && ib < it_end) return bad("Inode table", it, "overlaps the inode bitmap");
    return {};
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

// ---- The VFS side ----

namespace guestos::ext2 {

ext2_sb_info::ext2_sb_info(std::unique_ptr<devices::BlockDevice> bdev, std::unique_ptr<Ext2Fs> fs,
                           std::function<kernel_mem()> km)
    : bdev_(std::move(bdev)), fs_(std::move(fs)), km_(std::move(km)) {
    bd_inode_.i_sb = this;
    fs_->set_bd_mapping(&bd_inode_.i_data);
    s_type = "ext2";
    s_magic = EXT2_SUPER_MAGIC;
    s_dev = ROOT_DEV;
    s_blocksize = fs_->block_size();
    s_maxbytes = fs_->max_size();
    if (bdev_->read_only()) s_flags |= SB_RDONLY;
    fs_->set_sb_flags(&s_flags);
}

ext2_sb_info::~ext2_sb_info() {
    fs_->set_bd_mapping(nullptr);  // bd_inode_ goes first
    del_gendisk(*bdev_);
}

long ext2_sb_info::statfs(kstatfs& buf) {
    evict_orphans();
    buf.f_type = s_magic;
    buf.f_bsize = buf.f_frsize = fs_->block_size();
    buf.f_blocks = fs_->blocks_count() - fs_->overhead_blocks();
    buf.f_bfree = fs_->free_blocks();
    const uint64_t reserved = fs_->super_block().s_r_blocks_count;
    buf.f_bavail = buf.f_bfree > reserved ? buf.f_bfree - reserved : 0;
    buf.f_files = fs_->inodes_count();
    buf.f_ffree = fs_->free_inodes();
    buf.f_namelen = EXT2_NAME_LEN;
    buf.f_flags = (s_flags & SB_RDONLY) ? ST_RDONLY : 0;
    return 0;
}

ext2_inode_info& ext2_sb_info::EI(inode& vi) {
    ext2_vfs_inode& i = EXT2_I(vi);
    ext2_inode_info& ei = i.ei;
    ei.i_mode = uint16_t(i.i_mode);
    ei.i_uid = i.i_uid;
    ei.i_gid = i.i_gid;
    ei.i_size = i.i_size;
    ei.i_nlink = uint16_t(i.i_nlink);
    ei.i_atime = i.i_atime.tv_sec;
    ei.i_mtime = i.i_mtime.tv_sec;
    ei.i_ctime = i.i_ctime.tv_sec;
    return ei;
}

void ext2_sb_info::from_ei(inode& vi) {
    ext2_vfs_inode& i = EXT2_I(vi);
    i.i_size = i.ei.i_size;
    i.i_blocks = i.ei.i_blocks;
}

long ext2_sb_info::write_inode(inode& vi) {
    ext2_vfs_inode& i = EXT2_I(vi);
    const ext2_inode_info& ei = EI(i);
    if (!i.is_new && ei == i.written) return 0;
    TRY_ERRNO(fs_->write_inode(ei, i.is_new));
    i.written = ei;
    i.is_new = false;
    return 0;
}

long ext2_sb_info::writeback_inode(inode& i) {
    if (s_flags & SB_RDONLY) return 0;
    if (&i == &bd_inode_) return fs_->sync_buffers();  // the block device's dirty buffers
    long err = filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE);  // the flusher's: no wait
    if (long e = write_inode(i); e && !err) err = e;
    if (long e = fs_->sync_buffers(); e && !err) err = e;
    return err;
}

// generic_file_fsync: the data written and waited for (file_write_and_wait_range), the
// inode and metadata buffers (sync_inode_metadata, sync_mapping_buffers), then the cache
// flush, which waits for the disk's requests in flight.
long ext2_sb_info::fsync_inode(inode& i) {
    if (s_flags & SB_RDONLY) return 0;
    long err = 0;
    if (&i != &bd_inode_) {
        err = filemap_write_and_wait(i.i_data);
        if (long e = write_inode(i); e && !err) err = e;
    }
    if (long e = fs_->sync_buffers(); e && !err) err = e;
    if (long e = blkdev_issue_flush(*bdev_); e && !err) err = e;
    return err;
}

void ext2_sb_info::evict_inode(ext2_vfs_inode& i) {
    // ext2_evict_inode: no page, no block, dtime set, then the inode is free.
    truncate_inode_pages(i.i_data, 0);
    ext2_inode_info& ei = EI(i);
    ei.i_size = 0;
    if (ei.i_blocks) fs_->truncate_blocks(ei, 0);
    ei.i_dtime = ::time(nullptr);
    ei.i_nlink = 0;
    (void)fs_->write_inode(ei, i.is_new);
    fs_->free_inode(ei.i_ino, S_ISDIR(ei.i_mode));
}

void ext2_sb_info::evict_orphans(bool force) {
    if (s_flags & SB_RDONLY) return;
    icache_walk walk(*this);
    for (auto it = icache_.begin(); it != icache_.end();) {
        ext2_vfs_inode& i = *it->second;
        if (i.i_nlink == 0 && (force || it->second.use_count() == 1)) {
            evict_inode(i);
            it = icache_.erase(it);
        } else {
            ++it;
        }
    }
}

void ext2_sb_info::sync_fs() {
    if (s_flags & SB_RDONLY) return;
    icache_walk walk(*this);
    blk_plug plug;  // (blk_finish_plug at the end of the scope, before the flush returns)
    for (auto& [ino, i] : icache_) (void)filemap_write_and_wait(i->i_data);
    evict_orphans();
    for (auto& [ino, i] : icache_) (void)write_inode(*i);
    if (long e = fs_->sync_super(false); e < 0)
        std::fprintf(stderr, "EXT2-fs: error writing the superblock: %s\n", std::strerror(int(-e)));
    (void)blkdev_issue_flush(*bdev_);
}

void ext2_sb_info::put_super() {
    icache_walk walk(*this);
    if (fs_->remounted_ro()) {
        // Remounted read-only by an error: the inodes and metadata written before it still
        // reach the image (the block device's writeback), the superblock keeps its errors.
        for (auto& [ino, i] : icache_) (void)write_inode(*i);
        (void)fs_->sync_buffers();
        (void)blkdev_issue_flush(*bdev_);
        fs_->set_sb_flags(nullptr);
        return;
    }
    if (s_flags & SB_RDONLY) return;
    for (auto& [ino, i] : icache_) (void)filemap_write_and_wait(i->i_data);
    evict_orphans(true);
    for (auto& [ino, i] : icache_) (void)write_inode(*i);
    if (long e = fs_->sync_super(true); e < 0)
        std::fprintf(stderr, "EXT2-fs: error writing the superblock: %s\n", std::strerror(int(-e)));
    (void)blkdev_issue_flush(*bdev_);
    s_flags |= SB_RDONLY;  // nothing more reaches the image
}

bool ext2_sb_info::inode_unused(inode& vi) {
    if (icache_walkers_ || vi.i_nlink == 0) return false;
    auto it = icache_.find(static_cast<uint32_t>(vi.i_ino));
    if (it == icache_.end() || it->second.get() != &vi || it->second.use_count() != 1) return false;
    ext2_vfs_inode& i = EXT2_I(vi);
    if (i.is_new || !(EI(i) == i.written)) return false;  // its on-disk copy is behind (I_DIRTY_SYNC)
    return !inode_has_dirty_state(i);
}

std::shared_ptr<inode> ext2_sb_info::isolate_unused_inode(inode& vi) {
    auto it = icache_.find(static_cast<uint32_t>(vi.i_ino));
    if (it == icache_.end() || it->second.get() != &vi) return nullptr;
    std::shared_ptr<inode> i = std::move(it->second);
    icache_.erase(it);
    return i;
}

mmu::ErrorOr<std::shared_ptr<ext2_vfs_inode>> ext2_sb_info::new_inode(inode& dir, uint32_t mode) {
    evict_orphans();
    const uint32_t ino = TRY(fs_->new_inode(EI(dir), mode));
    auto i = std::make_shared<ext2_vfs_inode>();
    i->is_new = true;
    i->i_ino = ino;
    i->i_dev = s_dev;
    i->i_sb = this;
    i->i_op = &ext2_inode_ops;
    // inode_init_owner: the caller's fs ids; a setgid directory gives its group (and its
    // setgid bit to a new directory).
    i->i_uid = current_cred().fsuid;
    i->i_gid = (dir.i_mode & S_ISGID) ? dir.i_gid : current_cred().fsgid;
    if (S_ISDIR(mode) && (dir.i_mode & S_ISGID)) mode |= S_ISGID;
    i->i_mode = mode;
    i->i_nlink = 1;
    i->i_size = 0;
    i->i_blocks = 0;
    inode_touch(*i, true, true);
    i->ei.i_ino = ino;
    i->ei.i_generation = fs_->next_generation();
    i->i_blksize = fs_->block_size();
    i->i_data.a_ops = &ext2_aops;
    i->i_data.km = km_();
    icache_[ino] = i;
    return i;
}

mmu::ErrorOr<std::shared_ptr<inode>> ext2_sb_info::iget(uint32_t ino) {
    if (auto it = icache_.find(ino); it != icache_.end()) {
        inode_lru_touch(*it->second);
        return std::shared_ptr<inode>(it->second);
    }
    auto ei = TRY(fs_->iget(ino));
    auto i = std::make_shared<ext2_vfs_inode>();
    i->ei = ei;
    i->written = i->ei;
    i->i_ino = ino;
    i->i_dev = s_dev;
    i->i_sb = this;
    i->i_op = &ext2_inode_ops;
    i->i_mode = i->ei.i_mode;
    i->i_nlink = i->ei.i_nlink;
    i->i_uid = i->ei.i_uid;
    i->i_gid = i->ei.i_gid;
    i->i_size = i->ei.i_size;
    i->i_atime = {i->ei.i_atime, 0};
    i->i_mtime = {i->ei.i_mtime, 0};
    i->i_ctime = {i->ei.i_ctime, 0};
    i->i_blocks = i->ei.i_blocks;
    if (S_ISCHR(i->i_mode) || S_ISBLK(i->i_mode)) {  // init_special_inode: old or new encoding
        const uint32_t old_dev = i->ei.i_data[0], new_dev = i->ei.i_data[1];
        i->i_rdev = old_dev ? makedev((old_dev >> 8) & 0xff, old_dev & 0xff)
                            : makedev((new_dev & 0xfff00) >> 8, (new_dev & 0xff) | ((new_dev >> 12) & 0xfff00));
    }
    i->i_blksize = fs_->block_size();
    i->i_data.a_ops = &ext2_aops;
    i->i_data.km = km_();
    icache_[ino] = i;
    return std::shared_ptr<inode>(i);
}

}  // namespace guestos::ext2

namespace guestos {

mmu::ErrorOr<std::shared_ptr<super_block>> ext2_mount(const std::string& image, bool read_only,
                                                      std::function<kernel_mem()> km) {
    using devices::BlockDevice;
    auto bdev = BlockDevice::open(image, read_only ? BlockDevice::Mode::ReadOnly : BlockDevice::Mode::ReadWrite);
    if (!read_only && bdev.is_error() && (bdev.error().errno_value == EACCES || bdev.error().errno_value == EROFS)) {
        std::fprintf(stderr, "emu: %s is write-protected, mounting read-only\n", image.c_str());  // as mount(8)
        read_only = true;
        bdev = BlockDevice::open(image, BlockDevice::Mode::ReadOnly);
    }
    if (bdev.is_error()) return bdev.error();
    // The disk (sda) is known before it is mounted; ext2_sb_info forgets it.
    add_disk(*bdev.value(), "sda", major(ROOT_DEV), minor(ROOT_DEV));
    struct forget_unless_mounted {
        devices::BlockDevice* bdev;
        ~forget_unless_mounted() {
            if (bdev) del_gendisk(*bdev);
        }
    } guard{bdev.value().get()};
    auto fs = ext2::Ext2Fs::fill_super(*bdev.value());
    if (fs.is_error()) return mmu::Error::from_errno(fs.error().errno_value, image + ": " + fs.error().message);
    if (!read_only) {
        if (std::string why = fs.value()->cannot_write(); !why.empty())
            return mmu::Error::from_errno(
                EROFS, image + ": ext2: cannot mount read-write: " + why + " (use " + image + ":ro)");
        fs.value()->setup_super();
        if (long e = fs.value()->sync_super(false); e < 0)
            return mmu::Error::from_errno(int(-e), image + ": cannot write the superblock");
    }
    guard.bdev = nullptr;
    auto sb = std::make_shared<ext2::ext2_sb_info>(bdev.release_value(), fs.release_value(), std::move(km));
    auto root = sb->iget(ext2::EXT2_ROOT_INO);
    if (root.is_error()) return mmu::Error::from_errno(root.error().errno_value, image + ": " + root.error().message);
    if (!S_ISDIR(root.value()->i_mode))
        return mmu::Error::from_errno(EINVAL, image + ": ext2: the root inode is not a directory");
    sb->s_root = d_make_root(*sb, root.release_value());
    return std::shared_ptr<super_block>(sb);
}

}  // namespace guestos
