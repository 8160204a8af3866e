// Names in ext2 directories (fs/ext2/namei.c, symlink.c, and inode.c's ext2_setattr):
// lookup, links' targets, and the operations that change the tree. Each takes the VFS
// inode's fields into the ext2 inode (EI) before Ext2Fs works on it and takes back what
// Ext2Fs changed (from_ei) after.
#include <sys/sysmacros.h>

#include <optional>

#include "guestos/fs/ext2/ext2.h"
#include "guestos/include/dcache.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/writeback.h"

namespace guestos::ext2 {

namespace {

timespec now() {
    timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t;
}

// A directory's entries changed: its mtime and ctime (dir->i_mtime = dir->i_ctime = now),
// and it is dirty for the flusher (mark_inode_dirty).
void touch_dir(inode& dir) {
    dir.i_mtime = dir.i_ctime = now();
    mark_inode_dirty(dir);
}

class ext2_iops final : public inode_operations {
public:
    // ext2_lookup: the entry's inode, or a negative dentry when the name is not there.
    long lookup(inode& dir, dentry& d, task_struct&) const override {
        if (d.d_name.size() > EXT2_NAME_LEN) return -ENAMETOOLONG;
        auto ino = sb(dir).fs().lookup(sb(dir).EI(dir), d.d_name);
        if (ino.is_error()) return ino.error().errno_value == ENOENT ? 0 : base::negative_errno(ino.error());
        d_instantiate(d, TRY_ERRNO(sb(dir).iget(ino.value())));
        return 0;
    }
    long create(inode& dir, dentry& d, uint32_t mode) const override { return new_entry(dir, d, mode, nullptr); }
    long mknod(inode& dir, dentry& d, uint32_t mode, uint64_t rdev) const override {
        return new_entry(dir, d, mode, nullptr, rdev);
    }
    long mkdir(inode& dir, dentry& d, uint32_t mode) const override {
        if (dir.i_nlink >= EXT2_LINK_MAX) return -EMLINK;
        return new_entry(dir, d, mode | S_IFDIR, nullptr);
    }
    long symlink(inode& dir, dentry& d, const std::string& target) const override {
        if (target.size() + 1 > sb(dir).fs().block_size()) return -ENAMETOOLONG;
        return new_entry(dir, d, S_IFLNK | 0777, &target);
    }
    // ext2_link: one more name for the inode.
    long link(dentry& old, inode& dir, dentry& d) const override {
        inode& i = *old.d_inode;
        if (i.i_nlink >= EXT2_LINK_MAX) return -EMLINK;
        auto r = sb(dir).fs().add_link(sb(dir).EI(dir), d.d_name, uint32_t(i.i_ino), i.i_mode);
        sb(dir).from_ei(dir);
        TRY_ERRNO(std::move(r));
        ++i.i_nlink;
        i.i_ctime = now();
        mark_inode_dirty(i);
        touch_dir(dir);
        d_instantiate(d, old.d_inode);
        return 0;
    }
    // ext2_unlink: the entry goes; the inode with its last name when no one holds it.
    long unlink(inode& dir, dentry& d) const override {
        Ext2Fs& fs = sb(dir).fs();
        TRY_ERRNO(fs.delete_entry(TRY_ERRNO(fs.find_entry(sb(dir).EI(dir), d.d_name))));
        touch_dir(dir);
        inode& i = *d.d_inode;
        i.i_ctime = dir.i_ctime;
        if (i.i_nlink) --i.i_nlink;
        mark_inode_dirty(i);
        return 0;
    }
    // ext2_rmdir: only an empty directory; it and its ".." link go.
    long rmdir(inode& dir, dentry& d) const override {
        inode& i = *d.d_inode;
        if (!TRY_ERRNO(sb(dir).fs().empty_dir(sb(i).EI(i)))) return -ENOTEMPTY;
        if (long e = unlink(dir, d)) return e;
        i.i_size = 0;
        i.i_nlink = 0;
        if (dir.i_nlink) --dir.i_nlink;
        return 0;
    }
    long rename(inode& old_dir, dentry& old, inode& new_dir, dentry& nw, unsigned flags) const override;
    // ext2_get_link / page_get_link: a fast symlink's target is in i_data, a slow one's in
    // its first block.
    long get_link(dentry& d, task_struct&, std::string& target) const override {
        inode& i = *d.d_inode;
        if (!S_ISLNK(i.i_mode)) return -EINVAL;
        target = TRY_ERRNO(sb(i).fs().readlink(sb(i).EI(i)));
        return 0;
    }
    long setattr(dentry& d, const iattr& a) const override;
    long open(const path& p, unsigned flags, task_struct&, std::shared_ptr<file>& out) const override {
        return ext2_open(p, flags, out);
    }

private:
    static ext2_sb_info& sb(const inode& i) { return EXT2_SB(i); }
    // A new inode of type mode named d in dir (ext2_create, ext2_mkdir, ext2_symlink): the
    // inode, a directory's "." and "..", a link's target, then the entry; on failure the
    // new inode goes again.
    static long new_entry(inode& dir, dentry& d, uint32_t mode, const std::string* target, uint64_t rdev = 0);
    static long ext2_setsize(inode& i, uint64_t newsize);
};

long ext2_iops::new_entry(inode& dir, dentry& d, uint32_t mode, const std::string* target, uint64_t rdev) {
    if (d.d_name.size() > EXT2_NAME_LEN) return -ENAMETOOLONG;
    ext2_sb_info& s = sb(dir);
    std::shared_ptr<ext2_vfs_inode> i = TRY_ERRNO(s.new_inode(dir, mode));
    mmu::ErrorOr<void> r;
    if (S_ISDIR(mode)) {
        i->i_nlink = 2;
        r = s.fs().make_empty(s.EI(*i), uint32_t(dir.i_ino));
    } else if (target && target->size() >= sizeof(i->ei.i_data)) {
        r = s.fs().page_symlink(s.EI(*i), *target);  // slow: in a block
    } else if (target) {
        std::memcpy(i->ei.i_data.data(), target->data(), target->size());  // fast: in i_data
        i->ei.i_size = target->size();
    } else if (S_ISCHR(mode) || S_ISBLK(mode)) {  // ext2_write_inode's device encodings
        const uint32_t maj = major(rdev), mnr = minor(rdev);
        if (maj < 256 && mnr < 256) i->ei.i_data[0] = (maj << 8) | mnr;             // old_encode_dev
        else i->ei.i_data[1] = (mnr & 0xff) | (maj << 8) | ((mnr & ~0xffu) << 12);  // new_encode_dev
        i->i_rdev = rdev;
    }
    s.from_ei(*i);
    if (!r.is_error()) r = s.fs().add_link(s.EI(dir), d.d_name, uint32_t(i->i_ino), mode);
    s.from_ei(dir);
    if (r.is_error()) {
        i->i_nlink = 0;  // iput: evicted with its blocks
        i.reset();
        s.evict_orphans();
        return base::negative_errno(r.error());
    }
    if (S_ISDIR(mode)) ++dir.i_nlink;
    touch_dir(dir);
    mark_inode_dirty(*i);
    d_instantiate(d, i);
    return 0;
}

// ext2_rename: RENAME_EXCHANGE is not ext2's (EINVAL, as Linux answers).
long ext2_iops::rename(inode& old_dir, dentry& old, inode& new_dir, dentry& nw, unsigned flags) const {
    if (flags & ~RENAME_NOREPLACE_) return -EINVAL;
    ext2_sb_info& s = sb(old_dir);
    Ext2Fs& fs = s.fs();
    inode& oi = *old.d_inode;
    const bool is_dir = S_ISDIR(oi.i_mode);
    TRY_ERRNO(fs.find_entry(s.EI(old_dir), old.d_name));  // the old name is still there
    std::optional<dirent_loc> dir_de;
    if (is_dir) dir_de = TRY_ERRNO(fs.dotdot(s.EI(oi)));
    if (inode* ni = nw.d_inode.get()) {
        if (is_dir && !TRY_ERRNO(fs.empty_dir(s.EI(*ni)))) return -ENOTEMPTY;
        const dirent_loc new_de = TRY_ERRNO(fs.find_entry(s.EI(new_dir), nw.d_name));
        TRY_ERRNO(fs.set_link(new_de, uint32_t(oi.i_ino), oi.i_mode));
        touch_dir(new_dir);
        ni->i_ctime = now();
        if (is_dir && ni->i_nlink) --ni->i_nlink;  // its "." link
        if (ni->i_nlink) --ni->i_nlink;
        mark_inode_dirty(*ni);
    } else {
        if (is_dir && &new_dir != &old_dir && new_dir.i_nlink >= EXT2_LINK_MAX) return -EMLINK;
        auto r = fs.add_link(s.EI(new_dir), nw.d_name, uint32_t(oi.i_ino), oi.i_mode);
        s.from_ei(new_dir);
        TRY_ERRNO(std::move(r));
        touch_dir(new_dir);
        if (is_dir) ++new_dir.i_nlink;
    }
    oi.i_ctime = now();
    mark_inode_dirty(oi);
    // The old entry may have moved if both names are in one directory block: look again.
    TRY_ERRNO(fs.delete_entry(TRY_ERRNO(fs.find_entry(s.EI(old_dir), old.d_name))));
    touch_dir(old_dir);
    if (is_dir) {
        if (&old_dir != &new_dir) (void)fs.set_link(*dir_de, uint32_t(new_dir.i_ino), S_IFDIR);
        if (old_dir.i_nlink) --old_dir.i_nlink;
    }
    return 0;
}

// ext2_setsize: the blocks past the new end go; the block it now ends in is zeroed past it.
long ext2_iops::ext2_setsize(inode& i, uint64_t newsize) {
    if (!S_ISREG(i.i_mode)) return S_ISDIR(i.i_mode) ? -EISDIR : -EINVAL;
    if (newsize > i.i_sb->s_maxbytes) return -EFBIG;
    ext2_sb_info& s = sb(i);
    const uint32_t bs = s.fs().block_size();
    const bool partial = newsize < i.i_size && (newsize % bs);
    if (partial) {  // block_truncate_page: the tail is zeroed in the cache and written back
        TRY_ERRNO(pagecache_get_page(i.i_data, newsize >> PAGE_SHIFT));
    }
    truncate_setsize(i, newsize);
    if (partial)
        if (auto f = find_get_page(i.i_data, newsize >> PAGE_SHIFT))
            set_page_dirty(i.i_data.km.page_alloc->phys_to_page(*f));
    s.fs().truncate_blocks(s.EI(i), (newsize + bs - 1) / bs);
    s.from_ei(i);
    i.i_mtime = i.i_ctime = now();
    mark_inode_dirty(i);
    return 0;
}

long ext2_iops::setattr(dentry& d, const iattr& a) const {
    if (d.d_sb->s_flags & SB_RDONLY) return -EROFS;
    inode& i = *d.d_inode;
    if (a.ia_valid & ATTR_SIZE)
        if (long e = ext2_setsize(i, a.ia_size)) return e;
    iattr rest = a;
    rest.ia_valid &= ~ATTR_SIZE;
    if (long e = simple_setattr(i, rest)) return e;
    mark_inode_dirty(i);  // ext2_setattr: mark_inode_dirty
    return 0;
}

const ext2_iops ext2_iops_instance;

}  // namespace

const inode_operations& ext2_inode_ops = ext2_iops_instance;

}  // namespace guestos::ext2
