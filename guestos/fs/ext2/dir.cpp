// Directories (fs/ext2/dir.c): entries in directory blocks, found, added, removed, and
// path walks over them.
#include "guestos/fs/ext2/ext2.h"
#include "base/format.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace guestos::ext2 {

namespace {

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

// A directory is whole blocks, all allocated: its size can be no more than its i_blocks
// and the filesystem, which bounds every walk over it.
ErrorOr<void> Ext2Fs::check_dir_size(const ext2_inode_info& dir) const {
    if (dir.i_size % block_size_ != 0)
        return eio("size " + dec(dir.i_size) + " of directory #" + dec(dir.i_ino) +
                   " is not a multiple of the block size");
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
    if (!S_ISDIR(dir.i_mode))
        return Error::from_errno(ENOTDIR, "ext2: inode " + dec(dir.i_ino) + " is not a directory");
    TRY(check_dir_size(dir));
    bool filetype = sb_.s_feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE;
    std::vector<uint8_t> kaddr(block_size_);
    for (uint64_t n = 0; n < dir.i_size / block_size_; n++) {
        auto phys = TRY(get_block(dir, n));
        if (phys == 0) return eio("directory #" + dec(dir.i_ino) + " has a hole at block " + dec(n));
        TRY(read_block_bytes(phys, 0, kaddr.data(), block_size_));
        TRY(check_dir_block(dir, kaddr.data(), n * block_size_));
        for (uint32_t offs = 0, rec_len; offs < block_size_; offs += rec_len) {
            ext2_dir_entry_2 de = dirent_header(kaddr.data(), offs);
            rec_len = rec_len_from_disk(de.rec_len, block_size_);
            if (de.inode == 0) continue;
            dir_entry e;
            e.ino = de.inode;
            e.file_type = filetype && de.file_type < EXT2_FT_MAX ? de.file_type : EXT2_FT_UNKNOWN;
            e.name.assign(reinterpret_cast<const char*>(kaddr.data()) + offs + 8, de.name_len);
            e.d_off = n * block_size_ + offs + rec_len;
            e.phys = phys;
            e.offs = offs;
            if (fn(e)) return {};
        }
    }
    return {};
}

ErrorOr<std::vector<dir_entry>> Ext2Fs::readdir(const ext2_inode_info& dir) {
    std::vector<dir_entry> entries;
    TRY(for_each_dirent(dir, [&](dir_entry& e) {
        entries.push_back(std::move(e));
        return false;
    }));
    return entries;
}

ErrorOr<uint32_t> Ext2Fs::lookup(const ext2_inode_info& dir, std::string_view name) {
    if (name.size() > EXT2_NAME_LEN)
        return Error::from_errno(ENAMETOOLONG, "ext2: name of " + dec(name.size()) + " bytes is longer than 255");
    uint32_t found = 0;
    TRY(for_each_dirent(dir, [&](const dir_entry& e) {
        if (e.name == name) found = e.ino;
        return found != 0;
    }));
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
        auto dir = TRY(iget(cur));
        if (!S_ISDIR(dir.i_mode))
            return Error::from_errno(ENOTDIR,
                                     "ext2: '" + std::string(path) + "': inode " + dec(cur) + " is not a directory");
        if (name == ".") continue;
        auto child = TRY(lookup(dir, name));
        auto inode = TRY(iget(child));
        bool follow = !stack.empty() || must_be_dir;
        if (!S_ISLNK(inode.i_mode) || !follow) {
            cur = child;
            continue;
        }
        if (++links > EXT2_LINK_MAX_FOLLOW)
            return Error::from_errno(ELOOP, "ext2: '" + std::string(path) + "': more than 40 symlinks");
        auto target = TRY(readlink(inode));
        if (target.empty()) return Error::from_errno(ENOENT, "ext2: symlink inode " + dec(child) + " is empty");
        if (target.front() == '/') cur = EXT2_ROOT_INO;
        push_components(stack, target);
    }
    if (must_be_dir) {
        auto last = TRY(iget(cur));
        if (!S_ISDIR(last.i_mode))
            return Error::from_errno(ENOTDIR, "ext2: '" + std::string(path) + "' is not a directory");
    }
    return cur;
}

namespace {

uint8_t file_type_of(uint32_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return EXT2_FT_REG_FILE;
    case S_IFDIR: return EXT2_FT_DIR;
    case S_IFCHR: return EXT2_FT_CHRDEV;
    case S_IFBLK: return EXT2_FT_BLKDEV;
    case S_IFIFO: return EXT2_FT_FIFO;
    case S_IFSOCK: return EXT2_FT_SOCK;
    case S_IFLNK: return EXT2_FT_SYMLINK;
    default: return EXT2_FT_UNKNOWN;
    }
}

// Writes an entry's header and name at kaddr + offs.
void put_dirent(uint8_t* kaddr, uint32_t offs, uint32_t ino, uint32_t rec_len, std::string_view name, uint8_t type) {
    ext2_dir_entry_2 de{};
    de.inode = ino;
    de.rec_len = uint16_t(rec_len);
    de.name_len = uint8_t(name.size());
    de.file_type = type;
    std::memcpy(kaddr + offs, &de, offsetof(ext2_dir_entry_2, name));
    std::memcpy(kaddr + offs + offsetof(ext2_dir_entry_2, name), name.data(), name.size());
}

}  // namespace

ErrorOr<dirent_loc> Ext2Fs::find_entry(const ext2_inode_info& dir, std::string_view name) {
    if (name.size() > EXT2_NAME_LEN) return Error::from_errno(ENAMETOOLONG, "ext2: name too long");
    dirent_loc loc;
    bool found = false;
    TRY(for_each_dirent(dir, [&](const dir_entry& e) {
        if (e.name != name) return false;
        loc = {e.phys, e.offs, e.ino};
        return found = true;
    }));
    if (!found) return Error::from_errno(ENOENT, "ext2: no entry '" + std::string(name) + "'");
    return loc;
}

ErrorOr<dirent_loc> Ext2Fs::dotdot(const ext2_inode_info& dir) {
    const uint64_t block = TRY(get_block(dir, 0));
    if (!block) return eio("directory #" + dec(dir.i_ino) + " has no first block");
    buffer_head* bh = TRY(bread(block));
    TRY(check_dir_block(dir, bh->b_data.data(), 0));
    const uint32_t offs = rec_len_from_disk(dirent_header(bh->b_data.data(), 0).rec_len, block_size_);
    if (offs >= block_size_) return eio("directory #" + dec(dir.i_ino) + " has no '..' entry");
    return dirent_loc{block, offs, dirent_header(bh->b_data.data(), offs).inode};
}

ErrorOr<void> Ext2Fs::add_link(ext2_inode_info& dir, std::string_view name, uint32_t ino, uint32_t mode) {
    const uint32_t reclen = EXT2_DIR_REC_LEN(uint32_t(name.size()));
    const uint8_t type = has_filetype() ? file_type_of(mode) : EXT2_FT_UNKNOWN;
    TRY(check_dir_size(dir));
    const uint64_t nblocks = dir.i_size / block_size_;
    for (uint64_t n = 0; n < nblocks; n++) {
        const uint64_t block = TRY(get_block(dir, n));
        if (!block) return eio("directory #" + dec(dir.i_ino) + " has a hole at block " + dec(n));
        buffer_head* bh = TRY(bread(block));
        uint8_t* kaddr = bh->b_data.data();
        TRY(check_dir_block(dir, kaddr, n * block_size_));
        for (uint32_t offs = 0, rec_len; offs < block_size_; offs += rec_len) {
            ext2_dir_entry_2 de = dirent_header(kaddr, offs);
            rec_len = rec_len_from_disk(de.rec_len, block_size_);
            if (de.inode && de.name_len == name.size() &&
                std::memcmp(kaddr + offs + offsetof(ext2_dir_entry_2, name), name.data(), name.size()) == 0)
                return Error::from_errno(EEXIST, "ext2: '" + std::string(name) + "' exists");
            const uint32_t used = de.inode ? EXT2_DIR_REC_LEN(de.name_len) : 0;
            if (rec_len < used + reclen) continue;
            if (de.inode) {  // split: the entry keeps what it uses, the new one the rest
                de.rec_len = uint16_t(used);
                std::memcpy(kaddr + offs, &de, offsetof(ext2_dir_entry_2, name));
                put_dirent(kaddr, offs + used, ino, rec_len - used, name, type);
            } else {
                put_dirent(kaddr, offs, ino, rec_len, name, type);
            }
            bh_.mark_buffer_dirty(*bh);
            dir.i_flags &= ~EXT2_INDEX_FL;  // ext2 keeps no htree up to date
            return {};
        }
    }
    // No room: a new block at the end, one entry spanning it.
    const uint64_t block = TRY(get_block_create(dir, nblocks));
    buffer_head* bh = bh_.sb_getblk(block);
    put_dirent(bh->b_data.data(), 0, ino, block_size_, name, type);
    bh_.mark_buffer_dirty(*bh);
    dir.i_size += block_size_;
    dir.i_flags &= ~EXT2_INDEX_FL;
    return {};
}

ErrorOr<void> Ext2Fs::delete_entry(const dirent_loc& loc) {
    buffer_head* bh = TRY(bread(loc.block));
    uint8_t* kaddr = bh->b_data.data();
    // The entry before it in the block absorbs it; the first entry of a block is cleared.
    int64_t prev = -1;
    uint32_t offs = 0;
    while (offs < loc.offs) {
        const uint32_t rec_len = rec_len_from_disk(dirent_header(kaddr, offs).rec_len, block_size_);
        if (rec_len == 0) return eio("zero-length directory entry in block " + dec(loc.block));
        prev = offs;
        offs += rec_len;
    }
    if (offs != loc.offs)
        return eio("directory entry not found at offset " + dec(loc.offs) + " of block " + dec(loc.block));
    ext2_dir_entry_2 de = dirent_header(kaddr, offs);
    if (prev >= 0) {
        ext2_dir_entry_2 pde = dirent_header(kaddr, uint32_t(prev));
        pde.rec_len = uint16_t(pde.rec_len + de.rec_len);
        std::memcpy(kaddr + prev, &pde, offsetof(ext2_dir_entry_2, name));
    }
    de.inode = 0;
    std::memcpy(kaddr + offs, &de, offsetof(ext2_dir_entry_2, name));
    bh_.mark_buffer_dirty(*bh);
    return {};
}

ErrorOr<void> Ext2Fs::set_link(const dirent_loc& loc, uint32_t ino, uint32_t mode) {
    buffer_head* bh = TRY(bread(loc.block));
    ext2_dir_entry_2 de = dirent_header(bh->b_data.data(), loc.offs);
    de.inode = ino;
    de.file_type = has_filetype() ? file_type_of(mode) : EXT2_FT_UNKNOWN;
    std::memcpy(bh->b_data.data() + loc.offs, &de, offsetof(ext2_dir_entry_2, name));
    bh_.mark_buffer_dirty(*bh);
    return {};
}

ErrorOr<void> Ext2Fs::make_empty(ext2_inode_info& dir, uint32_t parent_ino) {
    const uint64_t block = TRY(get_block_create(dir, 0));
    buffer_head* bh = bh_.sb_getblk(block);
    const uint8_t type = has_filetype() ? EXT2_FT_DIR : EXT2_FT_UNKNOWN;
    put_dirent(bh->b_data.data(), 0, dir.i_ino, EXT2_DIR_REC_LEN(1), ".", type);
    put_dirent(bh->b_data.data(), EXT2_DIR_REC_LEN(1), parent_ino, block_size_ - EXT2_DIR_REC_LEN(1), "..", type);
    bh_.mark_buffer_dirty(*bh);
    dir.i_size = block_size_;
    return {};
}

ErrorOr<bool> Ext2Fs::empty_dir(const ext2_inode_info& dir) {
    bool empty = true;
    TRY(for_each_dirent(dir, [&](const dir_entry& e) {
        if (e.name == "." ? e.ino != dir.i_ino : e.name != "..") empty = false;
        return !empty;
    }));
    return empty;
}

}  // namespace guestos::ext2
