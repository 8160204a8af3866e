// A read-only ext2 driver (Linux fs/ext2): mounts an image on a BlockDevice, finds inodes
// by path, lists directories and fills file pages for the page cache's read_folio.
// Everything is read through the device when asked for; only the superblock and the
// group descriptors are kept from mount time. A corrupt image gives an error, never a
// crash or an unbounded loop.
#pragma once
#include <array>
#include <cerrno>
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
#include "base/format.h"
#include "guestos/include/blkdev.h"
#include "guestos/include/buffer_head.h"
#include "guestos/include/fs.h"
#include "guestos/mm/filemap.h"
#include "mmu/types.h"

namespace guestos::ext2 {

using base::hex;
using devices::BlockDevice;
using mmu::Error;
using mmu::ErrorOr;

static_assert(std::endian::native == std::endian::little, "on-disk structs are read as little-endian");

inline constexpr uint64_t EXT2_SUPER_OFFSET = 1024;  // byte offset of the superblock
inline constexpr uint16_t EXT2_SUPER_MAGIC = 0xEF53;
inline constexpr uint32_t EXT2_GOOD_OLD_REV = 0, EXT2_DYNAMIC_REV = 1;
inline constexpr uint32_t EXT2_ROOT_INO = 2;
inline constexpr uint32_t EXT2_GOOD_OLD_FIRST_INO = 11;
inline constexpr uint32_t EXT2_GOOD_OLD_INODE_SIZE = 128;
inline constexpr uint32_t EXT2_MIN_BLOCK_SIZE = 1024, EXT2_MAX_BLOCK_SIZE = 65536;
inline constexpr uint32_t EXT2_NDIR_BLOCKS = 12, EXT2_IND_BLOCK = 12, EXT2_DIND_BLOCK = 13, EXT2_TIND_BLOCK = 14,
                          EXT2_N_BLOCKS = 15;
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
                         EXT2_FT_BLKDEV = 4, EXT2_FT_FIFO = 5, EXT2_FT_SOCK = 6, EXT2_FT_SYMLINK = 7, EXT2_FT_MAX = 8;

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
    uint32_t i_uid = 0, i_gid = 0;                               // with the high 16 bits from osd2
    uint64_t i_size = 0;                                         // 64-bit for regular files (i_size_high)
    int64_t i_atime = 0, i_mtime = 0, i_ctime = 0, i_dtime = 0;  // seconds, signed 32-bit on disk
    uint16_t i_nlink = 0;
    uint32_t i_blocks = 0;  // 512-byte units, indirect and xattr blocks included
    uint32_t i_flags = 0;
    uint32_t i_generation = 0;
    uint32_t i_file_acl = 0;                       // the xattr block, 0 for none
    std::array<uint32_t, EXT2_N_BLOCKS> i_data{};  // block pointers, or a fast symlink's target
    bool operator==(const ext2_inode_info&) const = default;
};

// One live directory entry as ext2_readdir reports it.
struct dir_entry {
    uint32_t ino = 0;
    uint8_t file_type = EXT2_FT_UNKNOWN;  // EXT2_FT_*; UNKNOWN without the FILETYPE feature
    std::string name;
    uint64_t d_off = 0;  // byte offset of the next entry (ctx->pos after this one)
    uint64_t phys = 0;   // the device block holding it
    uint32_t offs = 0;   // its offset in that block
};

// Where a directory entry is (the page and offset Linux's ext2_find_entry hands back).
struct dirent_loc {
    uint64_t block = 0;  // the directory block's device block
    uint32_t offs = 0;   // the entry's offset in it
    uint32_t ino = 0;
};

// s_state bits and the limits Linux's ext2 enforces.
inline constexpr uint16_t EXT2_VALID_FS = 1, EXT2_ERROR_FS = 2;
// s_errors: what ext2_error does after its message.
inline constexpr uint16_t EXT2_ERRORS_CONTINUE = 1, EXT2_ERRORS_RO = 2, EXT2_ERRORS_PANIC = 3;
inline constexpr uint16_t EXT2_DFL_MAX_MNT_COUNT = 20;
inline constexpr uint32_t EXT2_LINK_MAX = 32000;
inline constexpr uint32_t EXT2_FEATURE_RO_COMPAT_SUPP =
    EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE | 0x4 /* BTREE_DIR */;
inline constexpr uint32_t EXT2_INDEX_FL = 0x1000;  // an htree directory (ext3's); ext2 clears it when it writes

// A mounted ext2 image (struct ext2_sb_info's on-disk side). Holds a reference to the
// device, which must outlive it. Metadata goes through its buffer heads; file data is
// read and written by the caller's page cache through read_folio and write_data.
// Errors: EINVAL for an image that cannot be mounted, EIO for a failed read or for
// corruption found later (a bad block number or directory entry), ENOENT, ENOTDIR,
// ELOOP, ENAMETOOLONG, ESTALE (an unused inode) as path lookup gives them, ENOSPC when no
// block or inode is free.
class Ext2Fs {
public:
    // Reads and validates the superblock and group descriptors (ext2_fill_super).
    static mmu::ErrorOr<std::unique_ptr<Ext2Fs>> fill_super(devices::BlockDevice& bdev);

    // --- inode.cpp ---
    // Reads inode ino, 1..s_inodes_count (ext2_iget).
    mmu::ErrorOr<ext2_inode_info> iget(uint32_t ino);
    // Writes the inode into its inode-table buffer (ext2_write_inode); a new inode's slot
    // is zeroed first (EXT2_STATE_NEW).
    mmu::ErrorOr<void> write_inode(const ext2_inode_info& inode, bool is_new);
    // The device block holding file block iblock, 0 for a hole (ext2_get_block, no create).
    mmu::ErrorOr<uint64_t> get_block(const ext2_inode_info& inode, uint64_t iblock);
    // The same, allocating the block and the indirect blocks leading to it when missing
    // (ext2_get_block with create: ext2_alloc_branch + ext2_splice_branch), all or none;
    // *fresh says it was allocated now.
    mmu::ErrorOr<uint64_t> get_block_create(ext2_inode_info& inode, uint64_t iblock, bool* fresh = nullptr);
    // Frees every block of file blocks >= from and the indirect blocks left empty
    // (ext2_truncate_blocks).
    void truncate_blocks(ext2_inode_info& inode, uint64_t from);
    // Fills dst with the PAGE_SIZE bytes of file page index, zeros for holes and past
    // i_size; 0 or a negative errno (address_space_operations::read_folio).
    long read_folio(const ext2_inode_info& inode, uint64_t index, uint8_t* dst);
    // Pages [index, index + nr) into dst, each run of blocks contiguous on the disk read in
    // one request (address_space_operations::readahead, mpage_readahead).
    long readahead(const ext2_inode_info& inode, uint64_t index, uint64_t nr, uint8_t* dst);
    // Writes a slow symlink's target into its first block (page_symlink).
    mmu::ErrorOr<void> page_symlink(ext2_inode_info& inode, std::string_view target);
    // Writes one block of file data to device block `block` (block_write_full_page's I/O):
    // from a page-cache page pg under writeback, the bio points at the page and completes
    // its writeback (submit_bh of an async-write buffer); without one, from a copy.
    long write_data(uint64_t block, const uint8_t* src, page* pg = nullptr);
    // A symlink's target, fast (in i_data) or slow (in its first block).
    mmu::ErrorOr<std::string> readlink(const ext2_inode_info& inode);
    // Whether the symlink keeps its target in i_data (ext2_inode_is_fast_symlink).
    bool is_fast_symlink(const ext2_inode_info& inode) const;

    // --- dir.cpp ---
    // Every live entry of dir in on-disk order, "." and ".." included (ext2_readdir).
    mmu::ErrorOr<std::vector<dir_entry>> readdir(const ext2_inode_info& dir);
    // The inode number name has in dir (ext2_inode_by_name).
    mmu::ErrorOr<uint32_t> lookup(const ext2_inode_info& dir, std::string_view name);
    // Where name is in dir (ext2_find_entry); ENOENT when it is not.
    mmu::ErrorOr<dirent_loc> find_entry(const ext2_inode_info& dir, std::string_view name);
    // Adds name -> ino (of type mode) to dir, in the first gap that fits or a new block
    // (ext2_add_link); EEXIST when the name is there.
    mmu::ErrorOr<void> add_link(ext2_inode_info& dir, std::string_view name, uint32_t ino, uint32_t mode);
    // Removes the entry at loc, merging it into the one before (ext2_delete_entry).
    mmu::ErrorOr<void> delete_entry(const dirent_loc& loc);
    // Points the entry at loc to ino (ext2_set_link).
    mmu::ErrorOr<void> set_link(const dirent_loc& loc, uint32_t ino, uint32_t mode);
    // The ".." entry of dir (ext2_dotdot).
    mmu::ErrorOr<dirent_loc> dotdot(const ext2_inode_info& dir);
    // Gives a new directory its block with "." and ".." (ext2_make_empty).
    mmu::ErrorOr<void> make_empty(ext2_inode_info& dir, uint32_t parent_ino);
    // Whether dir holds nothing but "." and ".." (ext2_empty_dir).
    mmu::ErrorOr<bool> empty_dir(const ext2_inode_info& dir);
    // Resolves an absolute path from the root; symlinks are followed except in the last
    // component (unless the path ends in '/'), at most EXT2_LINK_MAX_FOLLOW of them.
    mmu::ErrorOr<uint32_t> namei(std::string_view absolute_path);

    // --- balloc.cpp ---
    // Allocates up to *count free blocks in a row, at goal or as near after it as can be
    // (ext2_new_blocks); *count is set to how many. ENOSPC when none is free (the reserved
    // blocks are kept for root).
    mmu::ErrorOr<uint32_t> new_blocks(uint32_t goal, uint32_t* count);
    // Marks blocks [block, block + count) free and forgets their buffers (ext2_free_blocks).
    void free_blocks(uint32_t block, uint32_t count);
    // Free blocks summed over the groups (ext2_count_free_blocks).
    uint64_t count_free_blocks() const;
    // The block group's first block (ext2_group_first_block_no).
    uint32_t group_first_block(uint32_t group) const;

    // --- ialloc.cpp ---
    // Allocates an inode for a new file of type mode under dir (ext2_new_inode): a
    // directory goes to a group picked by find_group_orlov, anything else near its parent
    // (find_group_other). ENOSPC when no inode is free.
    mmu::ErrorOr<uint32_t> new_inode(const ext2_inode_info& dir, uint32_t mode);
    // Marks ino free (ext2_free_inode).
    void free_inode(uint32_t ino, bool is_dir);
    uint64_t count_free_inodes() const;
    uint64_t count_dirs() const;

    // --- super.cpp ---
    // Marks a read-write mount: not clean, one more mount, mount time (ext2_setup_super).
    void setup_super();
    // Writes the group descriptors and the superblock with the free counts and s_wtime
    // (ext2_sync_super); clean sets s_state back to what it was at mount (ext2_put_super).
    long sync_super(bool clean);
    // Writes every dirty metadata buffer.
    long sync_buffers() { return bh_.sync_dirty_buffers(); }
    // The block device inode's mapping the buffers dirty for the flusher.
    void set_bd_mapping(address_space* m) { bh_.set_bd_mapping(m); }
    // The blocks the filesystem's own structures take (ext2_statfs's overhead).
    uint64_t overhead_blocks() const;
    // Corruption found while the filesystem is in use (ext2_error): one line naming the
    // function and what is wrong; the superblock is marked with errors; with s_errors
    // remount-ro (or panic, which emu takes as remount-ro) *s_flags gets SB_RDONLY, so later
    // writes are EROFS. Returns the EIO error for the caller to give back.
    mmu::Error ext2_error(const char* function, const std::string& msg);
    // The mount's flags, which ext2_error makes read-only.
    void set_sb_flags(unsigned* s_flags) { s_flags_ = s_flags; }
    // Whether ext2_error made the mount read-only.
    bool remounted_ro() const { return remounted_ro_; }

    // statfs figures.
    uint32_t block_size() const { return block_size_; }
    uint64_t blocks_count() const { return sb_.s_blocks_count; }
    uint64_t free_blocks() const { return count_free_blocks(); }
    uint64_t inodes_count() const { return sb_.s_inodes_count; }
    uint64_t free_inodes() const { return count_free_inodes(); }
    uint32_t groups_count() const { return uint32_t(group_desc_.size()); }
    std::array<uint8_t, 16> uuid() const;
    std::string volume_name() const;
    const ext2_super_block& super_block() const { return sb_; }
    uint32_t next_generation() { return s_next_generation_++; }
    uint32_t first_ino() const {
        return sb_.s_rev_level == EXT2_GOOD_OLD_REV ? EXT2_GOOD_OLD_FIRST_INO : sb_.s_first_ino;
    }
    bool has_filetype() const { return sb_.s_feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE; }
    // The largest file the block tree and i_blocks allow (ext2_max_size).
    uint64_t max_size() const;
    // Why this image cannot be written (unknown RO_COMPAT features, blocks larger than a
    // page), or "" when it can.
    std::string cannot_write() const;

private:
    Ext2Fs(devices::BlockDevice& bdev, const ext2_super_block& sb);

    bool block_in_fs(uint64_t block) const;
    mmu::ErrorOr<void> read_block_bytes(uint64_t block, uint64_t offset, uint8_t* dst, uint64_t len);
    mmu::ErrorOr<buffer_head*> bread(uint64_t block);
    mmu::ErrorOr<void> load_group_descs();
    mmu::ErrorOr<void> check_descriptors() const;
    // Group g's descriptor, checked before an allocation uses its bitmaps or inode table:
    // each inside the group (as ext2_check_descriptors checked at mount), none over the
    // group's copy of the superblock and descriptors, none over another. ext2_error naming
    // the group, the structure and the block (function: the caller's name) otherwise.
    mmu::ErrorOr<void> check_group_desc(uint32_t g, const char* function);
    mmu::ErrorOr<uint64_t> read_block_ptr(uint64_t block, uint64_t index);
    mmu::ErrorOr<void> check_dir_size(const ext2_inode_info& dir) const;
    mmu::ErrorOr<void> check_dir_block(const ext2_inode_info& dir, const uint8_t* kaddr, uint64_t pos) const;
    template <class Fn>
    mmu::ErrorOr<void> for_each_dirent(const ext2_inode_info& dir, Fn&& fn);
    // Inode-table buffer and offset of inode ino (ext2_get_inode).
    mmu::ErrorOr<std::pair<buffer_head*, uint32_t>> inode_slot(uint32_t ino);
    // Copies group descriptor g into its block of the table and marks that dirty.
    void group_desc_dirty(uint32_t g);
    // The goal for a new block of the inode: near the block before it (ext2_find_near).
    uint32_t find_near(const ext2_inode_info& inode, const uint32_t* slots, uint64_t index,
                       uint32_t parent_block) const;
    // Tries group g's bitmap from bit goal (-1: anywhere) for up to *count blocks in a row
    // (ext2_try_to_allocate); the first bit taken or -1.
    mmu::ErrorOr<int64_t> try_to_allocate(uint32_t g, int64_t goal, uint32_t* count);
    // Group g's block bitmap, which must mark the group's own bitmaps and inode table in
    // use (read_block_bitmap + ext2_valid_block_bitmap, once per read from the device, as
    // buffer_verified keeps it); ext2_error and EIO otherwise.
    mmu::ErrorOr<buffer_head*> read_block_bitmap(uint32_t g);
    int find_group_orlov(const ext2_inode_info& parent);
    int find_group_other(const ext2_inode_info& parent);
    // Frees the subtree under ptr (depth levels of indirection; 0: a data block).
    void free_branch(uint32_t ptr, int depth, ext2_inode_info& inode);
    // Frees file blocks >= from in the subtree under ptr that covers file blocks from base.
    void truncate_branch(uint32_t& ptr, int depth, uint64_t base, uint64_t from, ext2_inode_info& inode);
    uint64_t ptrs_per_block() const { return 1ull << addr_per_block_bits_; }

    devices::BlockDevice& bdev_;
    ext2_super_block sb_;
    uint32_t block_size_;
    uint32_t addr_per_block_bits_;  // log2(block_size / 4)
    uint32_t inode_size_;
    uint32_t itb_per_group_;  // inode table blocks per group
    std::vector<ext2_group_desc> group_desc_;
    block_buffers bh_;
    uint16_t s_mount_state_ = 0;    // s_state as found at mount
    std::vector<uint8_t> s_debts_;  // find_group_orlov's directory debt per group
    uint32_t orlov_seed_ = 1;       // its "random" start group for top-level directories
    uint32_t s_next_generation_ = 1;
    unsigned* s_flags_ = nullptr;  // the VFS super_block's s_flags
    bool remounted_ro_ = false;
};

// Errors with the "ext2: " prefix every message carries, and numbers in them.
inline mmu::Error einval(const std::string& msg) { return mmu::Error::from_errno(EINVAL, "ext2: " + msg); }
inline mmu::Error eio(const std::string& msg) { return mmu::Error::from_errno(EIO, "ext2: " + msg); }
inline std::string dec(uint64_t v) { return std::to_string(v); }

// The VFS side (fs/ext2/super.c, namei.c, file.c): an ext2 inode as the VFS holds it
// (struct ext2_inode_info around its vfs_inode) and the mounted filesystem (ext2_sb_info).
struct ext2_vfs_inode final : guestos::inode {
    ext2_vfs_inode() : guestos::inode(guestos::inode_cache_kind::ext2) {}
    ext2_inode_info ei;       // block pointers and flags; the VFS fields are copied in by EI()
    ext2_inode_info written;  // what the inode table last got (write_inode skips unchanged inodes)
    bool is_new = false;      // EXT2_STATE_NEW: its slot is zeroed at the first write
};
inline ext2_vfs_inode& EXT2_I(guestos::inode& i) { return static_cast<ext2_vfs_inode&>(i); }

class ext2_sb_info final : public guestos::super_block {
public:
    ext2_sb_info(std::unique_ptr<devices::BlockDevice> bdev, std::unique_ptr<Ext2Fs> fs,
                 std::function<guestos::kernel_mem()> km);
    ~ext2_sb_info() override;  // the disk goes from /proc/diskstats (del_gendisk)
    long statfs(guestos::kstatfs& buf) override;
    // sync_filesystem: every dirty page, then the inodes, then the metadata and superblock.
    void sync_fs() override;
    // ext2_put_super: the last sync, with the state clean again.
    void put_super() override;
    // The VFS inode of ext2 inode ino, read once (ext2_iget + iget_locked's cache).
    mmu::ErrorOr<std::shared_ptr<guestos::inode>> iget(uint32_t ino);
    // A new inode of type mode in dir, owned by the caller's ids (ext2_new_inode +
    // inode_init_owner); ENOSPC when none is free.
    mmu::ErrorOr<std::shared_ptr<ext2_vfs_inode>> new_inode(guestos::inode& dir, uint32_t mode);
    // The inode's ext2 fields with the VFS's (size, mode, owner, times, links) copied in.
    ext2_inode_info& EI(guestos::inode& i);
    // Takes back what Ext2Fs changed (the size a directory grew to, the blocks counted).
    void from_ei(guestos::inode& i);
    // Writes the inode to the inode table when it changed (ext2_write_inode).
    long write_inode(guestos::inode& i);
    // fsync: the file's pages, its inode and the metadata, then the device's cache.
    long fsync_inode(guestos::inode& i);
    // The flusher's write: the same without the device's cache flush; for the block
    // device's inode, the dirty buffers.
    long writeback_inode(guestos::inode& i) override;
    // Frees the inodes no name and no user holds any more (iput_final -> ext2_evict_inode);
    // force: those with no name at all (unmount).
    void evict_orphans(bool force = false);
    Ext2Fs& fs() { return *fs_; }
    // On the inode LRU: only icache_ holds it, it has a name, nothing of it is dirty (its
    // pages, its on-disk copy), and no walk of icache_ is under way.
    bool inode_unused(guestos::inode& i) override;
    // Out of icache_ (ext2_evict_inode then has nothing to free: the inode is linked).
    std::shared_ptr<guestos::inode> isolate_unused_inode(guestos::inode& i) override;

private:
    void evict_inode(ext2_vfs_inode& i);
    // Counts a walk of icache_ that may allocate, and so reclaim, while it lasts: the icache
    // shrinker leaves icache_ alone meanwhile.
    struct icache_walk {
        explicit icache_walk(ext2_sb_info& sb) : sb(sb) { ++sb.icache_walkers_; }
        ~icache_walk() { --sb.icache_walkers_; }
        ext2_sb_info& sb;
    };
    unsigned icache_walkers_ = 0;

    std::unique_ptr<devices::BlockDevice> bdev_;
    std::unique_ptr<Ext2Fs> fs_;
    std::function<guestos::kernel_mem()> km_;
    std::unordered_map<uint32_t, std::shared_ptr<ext2_vfs_inode>> icache_;
    // The block device's inode (bdev->bd_inode): its dirty "pages" are the dirty buffers
    // (bitmaps, group descriptors, inode tables, directories, indirect blocks), which the
    // flusher writes back as any dirty inode's.
    guestos::inode bd_inode_;
};
inline ext2_sb_info& EXT2_SB(const guestos::inode& i) { return static_cast<ext2_sb_info&>(*i.i_sb); }

// The operations of each kind of inode (ext2_dir_inode_operations and friends, in one table
// that answers by the inode's type) and the page cache's (ext2_aops).
extern const guestos::inode_operations& ext2_inode_ops;
extern const guestos::address_space_operations ext2_aops;
// Opens an ext2 inode (ext2_file_operations / ext2_dir_operations / init_special_inode's).
long ext2_open(const guestos::path& p, unsigned flags, std::shared_ptr<guestos::file>& out);

}  // namespace guestos::ext2
