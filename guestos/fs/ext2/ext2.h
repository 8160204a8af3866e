// A read-only ext2 driver (Linux fs/ext2): mounts an image on a BlockDevice, finds inodes
// by path, lists directories and fills file pages for the page cache's read_folio.
// Everything is read through the device when asked for; only the superblock and the
// group descriptors are kept from mount time. A corrupt image gives an error, never a
// crash or an unbounded loop.
#pragma once
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "devices/block_device.h"
#include "guestos/include/fs.h"
#include "mmu/types.h"

namespace guestos::ext2 {

static_assert(std::endian::native == std::endian::little, "on-disk structs are read as little-endian");

inline constexpr uint64_t EXT2_SUPER_OFFSET = 1024;  // byte offset of the superblock
inline constexpr uint16_t EXT2_SUPER_MAGIC = 0xEF53;
inline constexpr uint32_t EXT2_GOOD_OLD_REV = 0, EXT2_DYNAMIC_REV = 1;
inline constexpr uint32_t EXT2_ROOT_INO = 2;
inline constexpr uint32_t EXT2_GOOD_OLD_FIRST_INO = 11;
inline constexpr uint32_t EXT2_GOOD_OLD_INODE_SIZE = 128;
inline constexpr uint32_t EXT2_MIN_BLOCK_SIZE = 1024, EXT2_MAX_BLOCK_SIZE = 65536;
inline constexpr uint32_t EXT2_NDIR_BLOCKS = 12, EXT2_IND_BLOCK = 12, EXT2_DIND_BLOCK = 13,
                          EXT2_TIND_BLOCK = 14, EXT2_N_BLOCKS = 15;
inline constexpr uint32_t EXT2_NAME_LEN = 255;
inline constexpr uint32_t EXT2_LINK_MAX_FOLLOW = 40;  // symlinks followed in one namei (MAXSYMLINKS)

// s_feature_compat: nothing here changes how a read-only driver reads (an ext3 journal is
// a plain inode it need not replay when the image was cleanly unmounted).
inline constexpr uint32_t EXT2_FEATURE_COMPAT_DIR_PREALLOC = 0x1, EXT2_FEATURE_COMPAT_IMAGIC_INODES = 0x2,
                          EXT3_FEATURE_COMPAT_HAS_JOURNAL = 0x4, EXT2_FEATURE_COMPAT_EXT_ATTR = 0x8,
                          EXT2_FEATURE_COMPAT_RESIZE_INO = 0x10, EXT2_FEATURE_COMPAT_DIR_INDEX = 0x20;
// s_feature_ro_compat: all readable; they only forbid writing.
inline constexpr uint32_t EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER = 0x1, EXT2_FEATURE_RO_COMPAT_LARGE_FILE = 0x2;
// s_feature_incompat: the layout differs; only FILETYPE is understood.
inline constexpr uint32_t EXT2_FEATURE_INCOMPAT_COMPRESSION = 0x1, EXT2_FEATURE_INCOMPAT_FILETYPE = 0x2,
                          EXT3_FEATURE_INCOMPAT_RECOVER = 0x4, EXT3_FEATURE_INCOMPAT_JOURNAL_DEV = 0x8,
                          EXT2_FEATURE_INCOMPAT_META_BG = 0x10, EXT4_FEATURE_INCOMPAT_EXTENTS = 0x40,
                          EXT4_FEATURE_INCOMPAT_64BIT = 0x80, EXT4_FEATURE_INCOMPAT_FLEX_BG = 0x200;
inline constexpr uint32_t EXT2_FEATURE_INCOMPAT_SUPP = EXT2_FEATURE_INCOMPAT_FILETYPE;

// ext2_dir_entry_2::file_type
inline constexpr uint8_t EXT2_FT_UNKNOWN = 0, EXT2_FT_REG_FILE = 1, EXT2_FT_DIR = 2, EXT2_FT_CHRDEV = 3,
                         EXT2_FT_BLKDEV = 4, EXT2_FT_FIFO = 5, EXT2_FT_SOCK = 6, EXT2_FT_SYMLINK = 7,
                         EXT2_FT_MAX = 8;

// The superblock, 1024 bytes at byte 1024 of the device (all fields little-endian).
struct ext2_super_block {
    uint32_t s_inodes_count;
    uint32_t s_blocks_count;
    uint32_t s_r_blocks_count;
    uint32_t s_free_blocks_count;
    uint32_t s_free_inodes_count;
    uint32_t s_first_data_block;
    uint32_t s_log_block_size;  // block size = 1024 << s_log_block_size
    uint32_t s_log_frag_size;
    uint32_t s_blocks_per_group;
    uint32_t s_frags_per_group;
    uint32_t s_inodes_per_group;
    uint32_t s_mtime;
    uint32_t s_wtime;
    uint16_t s_mnt_count;
    uint16_t s_max_mnt_count;
    uint16_t s_magic;
    uint16_t s_state;
    uint16_t s_errors;
    uint16_t s_minor_rev_level;
    uint32_t s_lastcheck;
    uint32_t s_checkinterval;
    uint32_t s_creator_os;
    uint32_t s_rev_level;
    uint16_t s_def_resuid;
    uint16_t s_def_resgid;
    // EXT2_DYNAMIC_REV only:
    uint32_t s_first_ino;
    uint16_t s_inode_size;
    uint16_t s_block_group_nr;
    uint32_t s_feature_compat;
    uint32_t s_feature_incompat;
    uint32_t s_feature_ro_compat;
    uint8_t s_uuid[16];
    char s_volume_name[16];
    char s_last_mounted[64];
    uint32_t s_algorithm_usage_bitmap;
    uint8_t s_prealloc_blocks;
    uint8_t s_prealloc_dir_blocks;
    uint16_t s_padding1;
    uint8_t s_journal_uuid[16];
    uint32_t s_journal_inum;
    uint32_t s_journal_dev;
    uint32_t s_last_orphan;
    uint32_t s_hash_seed[4];
    uint8_t s_def_hash_version;
    uint8_t s_reserved_char_pad;
    uint16_t s_reserved_word_pad;
    uint32_t s_default_mount_opts;
    uint32_t s_first_meta_bg;
    uint32_t s_reserved[190];
};
static_assert(sizeof(ext2_super_block) == 1024);
static_assert(offsetof(ext2_super_block, s_magic) == 56);
static_assert(offsetof(ext2_super_block, s_rev_level) == 76);
static_assert(offsetof(ext2_super_block, s_inode_size) == 88);
static_assert(offsetof(ext2_super_block, s_feature_incompat) == 96);
static_assert(offsetof(ext2_super_block, s_uuid) == 104);
static_assert(offsetof(ext2_super_block, s_volume_name) == 120);
static_assert(offsetof(ext2_super_block, s_first_meta_bg) == 260);

// One block group's descriptor; the table starts in the block after the superblock's.
struct ext2_group_desc {
    uint32_t bg_block_bitmap;
    uint32_t bg_inode_bitmap;
    uint32_t bg_inode_table;
    uint16_t bg_free_blocks_count;
    uint16_t bg_free_inodes_count;
    uint16_t bg_used_dirs_count;
    uint16_t bg_pad;
    uint32_t bg_reserved[3];
};
static_assert(sizeof(ext2_group_desc) == 32);
static_assert(offsetof(ext2_group_desc, bg_inode_table) == 8);

// The first 128 bytes of an on-disk inode (s_inode_size may be larger; the rest is ignored).
struct ext2_inode {
    uint16_t i_mode;
    uint16_t i_uid;
    uint32_t i_size;
    uint32_t i_atime;
    uint32_t i_ctime;
    uint32_t i_mtime;
    uint32_t i_dtime;
    uint16_t i_gid;
    uint16_t i_links_count;
    uint32_t i_blocks;  // 512-byte units
    uint32_t i_flags;
    uint32_t l_i_reserved1;  // osd1
    uint32_t i_block[EXT2_N_BLOCKS];
    uint32_t i_generation;
    uint32_t i_file_acl;
    uint32_t i_size_high;  // i_dir_acl for a directory
    uint32_t i_faddr;
    // osd2 (linux2)
    uint8_t l_i_frag;
    uint8_t l_i_fsize;
    uint16_t i_pad1;
    uint16_t l_i_uid_high;
    uint16_t l_i_gid_high;
    uint32_t l_i_reserved2;
};
static_assert(sizeof(ext2_inode) == EXT2_GOOD_OLD_INODE_SIZE);
static_assert(offsetof(ext2_inode, i_block) == 40);
static_assert(offsetof(ext2_inode, i_size_high) == 108);
static_assert(offsetof(ext2_inode, l_i_uid_high) == 120);

// A directory entry: an 8-byte header, then name_len bytes of name (no NUL); rec_len
// reaches the next entry, 4-byte aligned.
struct ext2_dir_entry_2 {
    uint32_t inode;  // 0: an unused entry
    uint16_t rec_len;
    uint8_t name_len;
    uint8_t file_type;  // EXT2_FT_*, when the FILETYPE feature is on
    char name[EXT2_NAME_LEN];
};
static_assert(offsetof(ext2_dir_entry_2, name) == 8);
// Bytes an entry with a name of name_len needs (EXT2_DIR_REC_LEN).
constexpr uint32_t EXT2_DIR_REC_LEN(uint32_t name_len) { return (name_len + 8 + 3) & ~3u; }

// An inode as the driver keeps it after ext2_iget: the VFS fields plus ext2's own.
struct ext2_inode_info {
    uint32_t i_ino = 0;
    uint16_t i_mode = 0;
    uint32_t i_uid = 0, i_gid = 0;  // with the high 16 bits from osd2
    uint64_t i_size = 0;            // 64-bit for regular files (i_size_high)
    int64_t i_atime = 0, i_mtime = 0, i_ctime = 0, i_dtime = 0;  // seconds, signed 32-bit on disk
    uint16_t i_nlink = 0;
    uint32_t i_blocks = 0;  // 512-byte units, indirect and xattr blocks included
    uint32_t i_flags = 0;
    uint32_t i_generation = 0;
    uint32_t i_file_acl = 0;  // the xattr block, 0 for none
    std::array<uint32_t, EXT2_N_BLOCKS> i_data{};  // block pointers, or a fast symlink's target
};

// One live directory entry as ext2_readdir reports it.
struct dir_entry {
    uint32_t ino = 0;
    uint8_t file_type = EXT2_FT_UNKNOWN;  // EXT2_FT_*; UNKNOWN without the FILETYPE feature
    std::string name;
    uint64_t d_off = 0;  // byte offset of the next entry (ctx->pos after this one)
};

// A mounted ext2 image. Holds a reference to the device, which must outlive it.
// Errors: EINVAL for an image that cannot be mounted, EIO for a failed read or for
// corruption found later (a bad block number or directory entry), ENOENT, ENOTDIR,
// ELOOP, ENAMETOOLONG, ESTALE (an unused inode) as path lookup gives them.
class Ext2Fs {
public:
    // Reads and validates the superblock and group descriptors (ext2_fill_super).
    static mmu::ErrorOr<std::unique_ptr<Ext2Fs>> fill_super(devices::BlockDevice& bdev);

    // Reads inode ino, 1..s_inodes_count (ext2_iget).
    mmu::ErrorOr<ext2_inode_info> iget(uint32_t ino);
    // The device block holding file block iblock, 0 for a hole (ext2_get_block, no create).
    mmu::ErrorOr<uint64_t> get_block(const ext2_inode_info& inode, uint64_t iblock);
    // Fills dst with the PAGE_SIZE bytes of file page index, zeros for holes and past
    // i_size; 0 or a negative errno (address_space_operations::read_folio).
    long read_folio(const ext2_inode_info& inode, uint64_t index, uint8_t* dst);

    // Every live entry of dir in on-disk order, "." and ".." included (ext2_readdir).
    mmu::ErrorOr<std::vector<dir_entry>> readdir(const ext2_inode_info& dir);
    // The inode number name has in dir (ext2_inode_by_name).
    mmu::ErrorOr<uint32_t> lookup(const ext2_inode_info& dir, std::string_view name);
    // Resolves an absolute path from the root; symlinks are followed except in the last
    // component (unless the path ends in '/'), at most EXT2_LINK_MAX_FOLLOW of them.
    mmu::ErrorOr<uint32_t> namei(std::string_view absolute_path);
    // A symlink's target, fast (in i_data) or slow (in its first block).
    mmu::ErrorOr<std::string> readlink(const ext2_inode_info& inode);

    // statfs figures.
    uint32_t block_size() const { return block_size_; }
    uint64_t blocks_count() const { return sb_.s_blocks_count; }
    uint64_t free_blocks() const { return sb_.s_free_blocks_count; }
    uint64_t inodes_count() const { return sb_.s_inodes_count; }
    uint64_t free_inodes() const { return sb_.s_free_inodes_count; }
    uint32_t groups_count() const { return uint32_t(group_desc_.size()); }
    std::array<uint8_t, 16> uuid() const;
    std::string volume_name() const;
    const ext2_super_block& super_block() const { return sb_; }

private:
    Ext2Fs(devices::BlockDevice& bdev, const ext2_super_block& sb);

    bool block_in_fs(uint64_t block) const;
    mmu::ErrorOr<void> read_block_bytes(uint64_t block, uint64_t offset, uint8_t* dst, uint64_t len);
    mmu::ErrorOr<void> load_group_descs();
    mmu::ErrorOr<void> check_descriptors() const;
    mmu::ErrorOr<uint64_t> read_block_ptr(uint64_t block, uint64_t index);
    mmu::ErrorOr<void> check_dir_size(const ext2_inode_info& dir) const;
    mmu::ErrorOr<void> check_dir_block(const ext2_inode_info& dir, const uint8_t* kaddr, uint64_t pos) const;
    template <class Fn>
    mmu::ErrorOr<void> for_each_dirent(const ext2_inode_info& dir, Fn&& fn);

    devices::BlockDevice& bdev_;
    ext2_super_block sb_;
    uint32_t block_size_;
    uint32_t addr_per_block_bits_;  // log2(block_size / 4)
    uint32_t inode_size_;
    uint32_t itb_per_group_;  // inode table blocks per group
    std::vector<ext2_group_desc> group_desc_;
};

// The VFS side (fs/ext2/super.c, namei.c, file.c): an ext2 inode as the VFS holds it
// (struct ext2_inode_info around its vfs_inode) and the mounted filesystem (ext2_sb_info).
struct ext2_vfs_inode final : guestos::inode {
    ext2_inode_info ei;
};
inline ext2_vfs_inode& EXT2_I(guestos::inode& i) { return static_cast<ext2_vfs_inode&>(i); }

class ext2_sb_info final : public guestos::super_block {
public:
    ext2_sb_info(std::unique_ptr<devices::BlockDevice> bdev, std::unique_ptr<Ext2Fs> fs,
                 std::function<guestos::kernel_mem()> km);
    long statfs(guestos::kstatfs& buf) override;
    // The VFS inode of ext2 inode ino, read once (ext2_iget + iget_locked's cache).
    mmu::ErrorOr<std::shared_ptr<guestos::inode>> iget(uint32_t ino);
    Ext2Fs& fs() { return *fs_; }

private:
    std::unique_ptr<devices::BlockDevice> bdev_;
    std::unique_ptr<Ext2Fs> fs_;
    std::function<guestos::kernel_mem()> km_;
    std::unordered_map<uint32_t, std::shared_ptr<ext2_vfs_inode>> icache_;
};
inline ext2_sb_info& EXT2_SB(const guestos::inode& i) { return static_cast<ext2_sb_info&>(*i.i_sb); }

// The operations of each kind of inode (ext2_dir_inode_operations and friends, in one table
// that answers by the inode's type) and the page cache's (ext2_aops).
extern const guestos::inode_operations& ext2_inode_ops;
extern const guestos::address_space_operations ext2_aops;
// Opens an ext2 inode (ext2_file_operations / ext2_dir_operations / init_special_inode's).
long ext2_open(const guestos::path& p, unsigned flags, std::shared_ptr<guestos::file>& out);

}  // namespace guestos::ext2
