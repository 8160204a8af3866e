// Path lookup and the directory-changing syscalls (fs/namei.c): link_path_walk over the
// dcache, mount crossing, symbolic links, permissions, and mkdir, rmdir, unlink, symlink,
// link and rename with their checks in Linux's order.
#include "guestos/include/namei.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "guestos/fs/internal.h"
#include "guestos/include/cred.h"
#include "guestos/include/filelock.h"
#include "guestos/include/fsnotify.h"
#include "guestos/include/kernel.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/fs/pipe.h"

namespace guestos {

namespace {

enum last_type { LAST_NORM, LAST_ROOT, LAST_DOT, LAST_DOTDOT, LAST_BIND };

// One walk's state (struct nameidata): where it is, the root it may not climb above, the
// component still to look up and the links followed so far.
struct nameidata {
    explicit nameidata(SysCtx& ctx) : c(ctx) {}
    SysCtx& c;
    struct path path, root;
    std::string last;
    last_type type = LAST_ROOT;
    bool trailing_slash = false;  // the last component had a '/' after it
    int total_link_count = 0;
    unsigned flags = 0;            // LOOKUP_NO_* and the scoping flags of openat2
    std::shared_ptr<file> jumped;  // a magic link's open file that has no path
};

bool is_dir(const dentry& d) { return d.d_inode && S_ISDIR(d.d_inode->i_mode); }
bool is_link(const dentry& d) { return d.d_inode && S_ISLNK(d.d_inode->i_mode); }

mnt_namespace& ns(SysCtx& c) { return c.kernel.mnt_ns(); }

// Steps onto the root of whatever is mounted on p, repeatedly (traverse_mounts); with
// LOOKUP_NO_XDEV a mount to cross is EXDEV.
long traverse_mounts(SysCtx& c, struct path& p, unsigned flags = 0) {
    while (p.dentry->d_mounted) {
        vfsmount* m = ns(c).lookup_mnt(p);
        if (!m) return 0;
        if (flags & LOOKUP_NO_XDEV) return -EXDEV;
        p = {m, m->mnt_root};
    }
    return 0;
}

// ".." (follow_dotdot): never above the root (EXDEV with LOOKUP_BENEATH); from a mount's
// root to its mountpoint first (EXDEV with LOOKUP_NO_XDEV).
long follow_dotdot(nameidata& nd) {
    for (;;) {
        if (nd.path == nd.root) return (nd.flags & LOOKUP_BENEATH) ? -EXDEV : 0;
        if (nd.path.dentry != nd.path.mnt->mnt_root) break;
        if (nd.path.mnt->mnt_parent == nd.path.mnt) return 0;  // the namespace's root
        if (nd.flags & LOOKUP_NO_XDEV) return -EXDEV;
        nd.path = {nd.path.mnt->mnt_parent, nd.path.mnt->mnt_mountpoint};
    }
    if (!nd.path.dentry->d_parent) return 0;
    nd.path.dentry = nd.path.dentry->d_parent;
    return traverse_mounts(nd.c, nd.path, nd.flags);
}

// An absolute name or link starts over at the root (nd_jump_root): not beneath a start
// (EXDEV), nor onto another mount with LOOKUP_NO_XDEV.
long nd_jump_root(nameidata& nd) {
    if (nd.flags & LOOKUP_BENEATH) return -EXDEV;
    if ((nd.flags & LOOKUP_NO_XDEV) && nd.path.mnt && nd.path.mnt != nd.root.mnt) return -EXDEV;
    nd.path = nd.root;
    return 0;
}

// A magic link's jump (nd_jump_link): refused by LOOKUP_NO_MAGICLINKS (ELOOP), onto another
// mount by LOOKUP_NO_XDEV and by any scoped walk (EXDEV).
long nd_jump_link_check(const nameidata& nd, const struct path& to) {
    if (nd.flags & LOOKUP_NO_MAGICLINKS) return -ELOOP;
    if ((nd.flags & LOOKUP_NO_XDEV) && to.mnt && nd.path.mnt != to.mnt) return -EXDEV;
    if (nd.flags & LOOKUP_IS_SCOPED) return -EXDEV;
    return 0;
}

// Search permission on the directory the walk is in (may_lookup).
long may_lookup(nameidata& nd) {
    const inode& dir = *nd.path.dentry->d_inode;
    if (!S_ISDIR(dir.i_mode)) return -ENOTDIR;
    return inode_permission(dir, MAY_EXEC);
}

// Starts following the link at p (pick_link): jumps to the root for an absolute target and
// walks all but the target's last component, which nd.last now holds.
long link_path_walk(const std::string& name, nameidata& nd);
long pick_link(nameidata& nd, const struct path& link) {
    if (nd.total_link_count++ >= MAXSYMLINKS) return -ELOOP;
    if (nd.flags & LOOKUP_NO_SYMLINKS) return -ELOOP;
    const inode& ino = *link.dentry->d_inode;
    if (auto f = ino.i_op->magic_link(*link.dentry, nd.c.task)) {  // nd_jump_link
        if (long e = nd_jump_link_check(nd, f->f_path)) return e;
        if (f->f_path) nd.path = f->f_path;
        else nd.jumped = f, nd.path = link;
        nd.type = LAST_BIND;
        nd.last.clear();
        return 0;
    }
    std::string target;
    if (long e = ino.i_op->get_link(*link.dentry, nd.c.task, target)) return e;
    if (target.empty()) return -ENOENT;
    if (target[0] == '/')
        if (long e = nd_jump_root(nd)) return e;
    return link_path_walk(target, nd);
}

// The child called name (lookup_fast, else lookup_slow): with LOOKUP_CACHED only a
// dentry the cache holds, EAGAIN otherwise.
long lookup_fast_or_slow(nameidata& nd, const std::string& name, std::shared_ptr<dentry>& out) {
    if (nd.flags & LOOKUP_CACHED) {
        dentry& parent = *nd.path.dentry;
        auto d = d_lookup(parent, name);
        if (!d || (!d->d_mounted && !parent.d_sb->d_revalidate(*d))) return -EAGAIN;
    }
    return lookup_one(nd.c, *nd.path.dentry, name, out);
}

// Looks one component up in the walk's directory and steps onto it, across mounts; a
// symbolic link to follow is picked instead and 1 returned (walk_component + step_into).
long walk_component(nameidata& nd, const std::string& name, last_type type, bool follow) {
    if (type == LAST_DOT || type == LAST_ROOT || type == LAST_BIND) return 0;
    if (type == LAST_DOTDOT) return follow_dotdot(nd);
    std::shared_ptr<dentry> d;
    if (long e = lookup_fast_or_slow(nd, name, d)) return e;
    if (d->is_negative()) return -ENOENT;
    struct path next {
        nd.path.mnt, d
    };
    if (long e = traverse_mounts(nd.c, next, nd.flags)) return e;
    if (is_link(*next.dentry) && follow) {
        if (long e = pick_link(nd, next)) return e;
        return 1;
    }
    nd.path = next;
    return 0;
}

// Walks a component to its end, following links it leads to (and theirs) when follow.
long walk_to_end(nameidata& nd, std::string name, last_type type, bool follow) {
    for (;;) {
        long e = walk_component(nd, name, type, follow);
        if (e != 1) return e;
        if (nd.type == LAST_ROOT || nd.type == LAST_BIND) return 0;
        if (long pe = may_lookup(nd)) return pe;
        name = nd.last;
        type = nd.type;
        follow = true;
    }
}

// Walks every component but the last, which it leaves in nd.last (link_path_walk).
long link_path_walk(const std::string& name, nameidata& nd) {
    size_t i = 0;
    while (i < name.size() && name[i] == '/') ++i;
    nd.type = LAST_ROOT;
    nd.last.clear();
    nd.trailing_slash = false;
    while (i < name.size()) {
        if (long e = may_lookup(nd)) return e;
        size_t j = name.find('/', i);
        if (j == std::string::npos) j = name.size();
        std::string comp = name.substr(i, j - i);
        if (comp.size() > NAME_MAX_) return -ENAMETOOLONG;
        const last_type type = comp == "." ? LAST_DOT : comp == ".." ? LAST_DOTDOT : LAST_NORM;
        size_t k = j;
        while (k < name.size() && name[k] == '/') ++k;
        if (k >= name.size()) {
            nd.last = std::move(comp);
            nd.type = type;
            nd.trailing_slash = j < name.size();
            return 0;
        }
        if (long e = walk_to_end(nd, comp, type, true)) return e;
        if (!is_dir(*nd.path.dentry)) return -ENOTDIR;
        i = k;
    }
    return 0;
}

// Looks up the last component (lookup_last): a trailing slash follows and wants a directory.
long lookup_last(nameidata& nd, bool follow, bool want_dir) {
    const bool trailing = nd.trailing_slash;
    if (nd.type == LAST_NORM || nd.type == LAST_DOTDOT)
        if (long e = walk_to_end(nd, nd.last, nd.type, follow || trailing)) return e;
    if ((trailing || want_dir) && !nd.jumped && !is_dir(*nd.path.dentry)) return -ENOTDIR;
    return 0;
}

// Where the walk starts (path_init): the root for an absolute name, else the working
// directory or dfd; a scoped walk (openat2's RESOLVE_BENEATH, RESOLVE_IN_ROOT) takes that
// start as its root, and an absolute name is EXDEV beneath it, relative to it in root.
// With LOOKUP_EMPTY an empty name is the file open at dfd, whatever its type.
long path_init(nameidata& nd, int dfd, const std::string& name) {
    nd.root = nd.c.task.fs->root;
    if (!nd.root) return -ENOENT;
    const bool absolute = !name.empty() && name[0] == '/';
    if (absolute && !(nd.flags & LOOKUP_IN_ROOT)) {
        nd.path = {};
        return nd_jump_root(nd);
    }
    if (name.empty() && (nd.flags & LOOKUP_EMPTY) && dfd != AT_FDCWD_) {  // the fd itself, of any type
        auto f = nd.c.task.files->get(dfd);
        if (!f) return -EBADF;
        if (f->f_path) nd.path = f->f_path;
        else nd.jumped = f;
        return 0;
    }
    if (long e = path_start(nd.c, dfd, nd.path)) return e;
    if (nd.flags & LOOKUP_IS_SCOPED) nd.root = nd.path;
    return 0;
}

// The parent directory of name and its last component (filename_parentat).
long filename_parentat(SysCtx& c, int dfd, const std::string& name, nameidata& nd) {
    if (long e = path_init(nd, dfd, name)) return e;
    if (long e = link_path_walk(name, nd)) return e;
    if (nd.type == LAST_NORM || nd.type == LAST_DOT || nd.type == LAST_DOTDOT)
        if (long e = may_lookup(nd)) return e;
    return 0;
}

long may_create(const dentry& dir, const dentry& child) {
    if (child.d_inode) return -EEXIST;
    if (dir.d_deleted) return -ENOENT;
    return inode_permission(*dir.d_inode, MAY_WRITE | MAY_EXEC);
}

// May victim be removed from dir (may_delete): it exists, the directory is writable, the
// sticky bit's owner rule, and the type the caller expects.
long may_delete(const dentry& dir, const dentry& victim, bool isdir) {
    if (!victim.d_inode) return -ENOENT;
    if (long e = inode_permission(*dir.d_inode, MAY_WRITE | MAY_EXEC)) return e;
    const uint32_t fsuid = current_cred().fsuid;
    if ((dir.d_inode->i_mode & S_ISVTX) && victim.d_inode->i_uid != fsuid && dir.d_inode->i_uid != fsuid &&
        !capable(CAP_FOWNER_))
        return -EPERM;
    if (isdir) {
        if (!S_ISDIR(victim.d_inode->i_mode)) return -ENOTDIR;
        if (victim.is_root()) return -EBUSY;
    } else if (S_ISDIR(victim.d_inode->i_mode)) {
        return -EISDIR;
    }
    return 0;
}

long mnt_want_write(const vfsmount& m) { return mnt_is_readonly(m) ? -EROFS : 0; }

// The parent and the new negative dentry of a name being created (filename_create): EEXIST
// for an existing name (before EROFS), ENOENT for a trailing slash unless for a directory.
long filename_create(SysCtx& c, int dfd, const std::string& name, bool is_dir_create, struct path& parent,
                     std::shared_ptr<dentry>& child) {
    nameidata nd{c};
    if (long e = filename_parentat(c, dfd, name, nd)) return e;
    if (nd.type != LAST_NORM) return -EEXIST;
    const long rofs = mnt_want_write(*nd.path.mnt);
    if (long e = lookup_one(nd.c, *nd.path.dentry, nd.last, child)) return e;
    if (child->d_inode) return -EEXIST;
    if (nd.trailing_slash && !is_dir_create) return -ENOENT;
    if (rofs) return rofs;
    parent = nd.path;
    return 0;
}

namespace {

// The parent and the new dentry of a user path about to be created, checked as Linux's
// *at() calls check it (getname, filename_create, may_create).
long user_path_create(SysCtx& c, int dfd, uint64_t upath, bool is_dir, struct path& parent,
                      std::shared_ptr<dentry>& d) {
    std::string name;
    if (long e = getname(c, upath, name)) return e;
    if (long e = filename_create(c, dfd, name, is_dir, parent, d)) return e;
    return may_create(*parent.dentry, *d);
}

}  // namespace

long do_mkdirat(SysCtx& c, int dfd, uint64_t upath, uint32_t mode) {
    struct path parent;
    std::shared_ptr<dentry> d;
    if (long e = user_path_create(c, dfd, upath, true, parent, d)) return e;
    inode& dir = *parent.dentry->d_inode;
    if (long e = dir.i_op->mkdir(dir, *d, (mode & 07777 & ~c.task.fs->umask) | S_IFDIR)) return e;
    fsnotify_create(dir, *d);  // fsnotify_mkdir
    return 0;
}

namespace {

// Which file types mknod makes (may_mknod): a directory is EPERM, an unknown type EINVAL.
long may_mknod(uint32_t mode) {
    switch (mode & S_IFMT) {
    case 0:
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK: return 0;
    case S_IFDIR: return -EPERM;
    default: return -EINVAL;
    }
}

// The device of mknod's dev argument, a kernel dev_t of 12-bit major and 20-bit minor
// (new_decode_dev), as the host's dev_t that inodes keep.
uint64_t new_decode_dev(uint32_t dev) { return makedev((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00)); }

}  // namespace

long vfs_mknod(inode& dir, dentry& d, uint32_t mode, uint32_t dev);

// mknod (do_mknodat): a regular file through create, a device, FIFO or socket through the
// filesystem's mknod; devices need CAP_MKNOD; the umask applies.
long do_mknodat(SysCtx& c, int dfd, uint64_t upath, uint32_t mode, uint32_t dev) {
    if (long e = may_mknod(mode)) return e;
    struct path parent;
    std::shared_ptr<dentry> d;
    if (long e = user_path_create(c, dfd, upath, false, parent, d)) return e;
    inode& dir = *parent.dentry->d_inode;
    mode &= ~c.task.fs->umask & (S_IFMT | 07777);  // mode_strip_umask
    if (long e = vfs_mknod(dir, *d, mode, dev)) return e;
    fsnotify_create(dir, *d);
    return 0;
}

// The filesystem's create or mknod by type (vfs_create / vfs_mknod).
long vfs_mknod(inode& dir, dentry& d, uint32_t mode, uint32_t dev) {
    switch (mode & S_IFMT) {
    case 0:
    case S_IFREG: return dir.i_op->create(dir, d, (mode & 07777) | S_IFREG);  // vfs_create
    case S_IFCHR:
    case S_IFBLK:
        if (!capable(CAP_MKNOD_)) return -EPERM;
        return dir.i_op->mknod(dir, d, mode, new_decode_dev(dev));
    default: return dir.i_op->mknod(dir, d, mode, 0);  // a FIFO or a socket
    }
}

long do_symlinkat(SysCtx& c, uint64_t utarget, int dfd, uint64_t upath) {
    std::string target;
    if (long e = getname(c, utarget, target)) return e;
    struct path parent;
    std::shared_ptr<dentry> d;
    if (long e = user_path_create(c, dfd, upath, false, parent, d)) return e;
    inode& dir = *parent.dentry->d_inode;
    if (long e = dir.i_op->symlink(dir, *d, target)) return e;
    fsnotify_create(dir, *d);
    return 0;
}

// The name d in dir is gone (d_delete_notify): when nothing else holds d, the inode's last
// link goes with it now (dentry_unlink_inode: IN_DELETE_SELF), before dir hears IN_DELETE.
void d_delete_notify(inode& dir, std::shared_ptr<dentry>& d) {
    std::shared_ptr<inode> ino = d->d_inode;
    const std::string name = d->d_name;
    d_delete(*d);
    if (d.use_count() == 1 && ino->i_nlink == 0) fsnotify_inoderemove(*ino);
    fsnotify_delete(dir, *ino, name);
}

long do_rmdir(SysCtx& c, int dfd, uint64_t upath) {
    std::string name;
    if (long e = getname(c, upath, name)) return e;
    nameidata nd{c};
    if (long e = filename_parentat(c, dfd, name, nd)) return e;
    if (nd.type == LAST_DOTDOT) return -ENOTEMPTY;
    if (nd.type == LAST_DOT) return -EINVAL;
    if (nd.type == LAST_ROOT) return -EBUSY;
    if (long e = mnt_want_write(*nd.path.mnt)) return e;
    std::shared_ptr<dentry> d;
    if (long e = lookup_one(nd.c, *nd.path.dentry, nd.last, d)) return e;
    if (long e = may_delete(*nd.path.dentry, *d, true)) return e;
    if (d->d_mounted) return -EBUSY;
    inode& dir = *nd.path.dentry->d_inode;
    if (long e = dir.i_op->rmdir(dir, *d)) return e;
    d_delete_notify(dir, d);
    return 0;
}

long do_unlinkat(SysCtx& c, int dfd, uint64_t upath) {
    std::string name;
    if (long e = getname(c, upath, name)) return e;
    nameidata nd{c};
    if (long e = filename_parentat(c, dfd, name, nd)) return e;
    if (nd.type != LAST_NORM) return -EISDIR;
    if (long e = mnt_want_write(*nd.path.mnt)) return e;
    std::shared_ptr<dentry> d;
    if (long e = lookup_one(nd.c, *nd.path.dentry, nd.last, d)) return e;
    if (nd.trailing_slash) return d->is_negative() ? -ENOENT : is_dir(*d) ? -EISDIR : -ENOTDIR;
    if (long e = may_delete(*nd.path.dentry, *d, false)) return e;
    if (d->d_mounted) return -EBUSY;
    if (d->d_inode == c.task.exe_inode) return -ETXTBSY;
    inode& dir = *nd.path.dentry->d_inode;
    if (long e = dir.i_op->unlink(dir, *d)) return e;
    fsnotify_link_count(*d->d_inode);
    d_delete_notify(dir, d);
    return 0;
}

long do_linkat(SysCtx& c, int olddfd, uint64_t oldname, int newdfd, uint64_t newname, unsigned flags) {
    if (flags & ~(AT_SYMLINK_FOLLOW_ | AT_EMPTY_PATH_)) return -EINVAL;
    struct path old;
    unsigned how = (flags & AT_SYMLINK_FOLLOW_) ? LOOKUP_FOLLOW : 0;
    if (flags & AT_EMPTY_PATH_) how |= LOOKUP_EMPTY;
    if (long e = user_path_at(c, olddfd, oldname, how, old)) return e;
    std::string name;
    if (long e = getname(c, newname, name)) return e;
    struct path parent;
    std::shared_ptr<dentry> d;
    if (long e = filename_create(c, newdfd, name, false, parent, d)) return e;
    if (old.mnt != parent.mnt) return -EXDEV;
    inode& dir = *parent.dentry->d_inode;
    if (long e = may_create(*parent.dentry, *d)) return e;
    if (is_dir(*old.dentry)) return -EPERM;
    if (old.dentry->d_sb != dir.i_sb) return -EXDEV;
    if (long e = dir.i_op->link(*old.dentry, dir, *d)) return e;
    fsnotify_link(dir, *old.dentry->d_inode, *d);
    return 0;
}

// The child of the ancestor among a and b on the way to the other (lock_rename's trap).
const dentry* rename_trap(const dentry* a, const dentry* b) {
    for (const dentry* p = b; p; p = p->d_parent.get())
        if (p->d_parent.get() == a) return p;
    for (const dentry* p = a; p; p = p->d_parent.get())
        if (p->d_parent.get() == b) return p;
    return nullptr;
}

long do_renameat2(SysCtx& c, int olddfd, uint64_t oldname, int newdfd, uint64_t newname, unsigned flags) {
    if (flags & ~(RENAME_NOREPLACE_ | RENAME_EXCHANGE_ | RENAME_WHITEOUT_)) return -EINVAL;
    if ((flags & RENAME_NOREPLACE_) && (flags & RENAME_EXCHANGE_)) return -EINVAL;
    if (flags & RENAME_WHITEOUT_) return -EINVAL;  // no overlayfs here
    std::string from, to;
    if (long e = getname(c, oldname, from)) return e;
    if (long e = getname(c, newname, to)) return e;
    nameidata ond{c}, nnd{c};
    if (long e = filename_parentat(c, olddfd, from, ond)) return e;
    if (long e = filename_parentat(c, newdfd, to, nnd)) return e;
    if (ond.path.mnt != nnd.path.mnt) return -EXDEV;
    if (ond.type != LAST_NORM) return -EBUSY;
    if (nnd.type != LAST_NORM) return (flags & RENAME_NOREPLACE_) ? -EEXIST : -EBUSY;
    if (long e = mnt_want_write(*ond.path.mnt)) return e;
    std::shared_ptr<dentry> od, nw;
    if (long e = lookup_one(c, *ond.path.dentry, ond.last, od)) return e;
    if (od->is_negative()) return -ENOENT;
    if (long e = lookup_one(c, *nnd.path.dentry, nnd.last, nw)) return e;
    if ((flags & RENAME_EXCHANGE_) && nw->is_negative()) return -ENOENT;
    if ((flags & RENAME_NOREPLACE_) && !nw->is_negative()) return -EEXIST;
    if (!(flags & RENAME_EXCHANGE_) && !is_dir(*od) && (ond.trailing_slash || nnd.trailing_slash)) return -ENOTDIR;
    if ((flags & RENAME_EXCHANGE_) && !is_dir(*nw) && nnd.trailing_slash) return -ENOTDIR;
    const dentry* trap = rename_trap(ond.path.dentry.get(), nnd.path.dentry.get());
    if (od.get() == trap) return -EINVAL;
    if (nw.get() == trap) return (flags & RENAME_EXCHANGE_) ? -EINVAL : -ENOTEMPTY;
    // vfs_rename
    if (od->d_inode == nw->d_inode) return 0;
    const bool old_is_dir = is_dir(*od), new_is_dir = nw->d_inode && is_dir(*nw);
    inode& odir = *ond.path.dentry->d_inode;
    inode& ndir = *nnd.path.dentry->d_inode;
    if (long e = may_delete(*ond.path.dentry, *od, old_is_dir)) return e;
    if (nw->is_negative()) {
        if (long e = may_create(*nnd.path.dentry, *nw)) return e;
    } else if (long e = may_delete(*nnd.path.dentry, *nw, (flags & RENAME_EXCHANGE_) ? new_is_dir : old_is_dir)) {
        return e;
    }
    if (od->d_mounted || nw->d_mounted) return -EBUSY;
    if (ond.path.dentry != nnd.path.dentry) {  // a directory moved elsewhere rewrites its ".."
        if (old_is_dir)
            if (long e = inode_permission(*od->d_inode, MAY_WRITE)) return e;
        if ((flags & RENAME_EXCHANGE_) && new_is_dir)
            if (long e = inode_permission(*nw->d_inode, MAY_WRITE)) return e;
    }
    const std::string old_name = od->d_name;  // take_dentry_name_snapshot
    std::shared_ptr<inode> source = od->d_inode, target = nw->d_inode;
    if (long e = odir.i_op->rename(odir, *od, ndir, *nw, flags)) return e;
    if (flags & RENAME_EXCHANGE_) d_exchange(*od, *nw);
    else d_move(*od, *nnd.path.dentry, nnd.last);
    fsnotify_move(odir, ndir, old_name, nnd.last, old_is_dir, (flags & RENAME_EXCHANGE_) ? nullptr : target.get(),
                  *source);
    if (flags & RENAME_EXCHANGE_) fsnotify_move(ndir, odir, nnd.last, old_name, new_is_dir, nullptr, *target);
    else if (target && target->i_nlink == 0 && nw.use_count() == 1) fsnotify_inoderemove(*target);
    return 0;
}

int dfd_arg(uint64_t a) { return static_cast<int>(static_cast<uint32_t>(a)); }

}  // namespace

long kern_path_create(SysCtx& c, int dfd, const std::string& name, struct path& parent, std::shared_ptr<dentry>& d) {
    if (long e = filename_create(c, dfd, name, false, parent, d)) return e;
    return may_create(*parent.dentry, *d);
}

long getname(SysCtx& c, uint64_t upath, std::string& out, bool empty_ok) {
    const long n = strncpy_from_user(c.mm, VirtAddr(upath), PATH_MAX_, out);
    if (n < 0) return n;
    if (static_cast<uint64_t>(n) == PATH_MAX_) return -ENAMETOOLONG;
    return n == 0 && !empty_ok ? -ENOENT : 0;
}

long inode_permission(const inode& ino, int mask) {
    uint32_t mode = ino.i_mode;
    const uint32_t fsuid = current_cred().fsuid;
    if (ino.i_uid == fsuid) mode >>= 6;
    else if (in_group_p(ino.i_gid)) mode >>= 3;
    if ((mask & ~static_cast<int>(mode) & 7) == 0) return 0;
    // generic_permission's capability overrides
    if (S_ISDIR(ino.i_mode)) {
        if (!(mask & MAY_WRITE) && capable(CAP_DAC_READ_SEARCH_)) return 0;
        return capable(CAP_DAC_OVERRIDE_) ? 0 : -EACCES;
    }
    if (mask == MAY_READ && capable(CAP_DAC_READ_SEARCH_)) return 0;
    // Execute needs an execute bit somewhere even for root.
    if (capable(CAP_DAC_OVERRIDE_) && (!(mask & MAY_EXEC) || (ino.i_mode & 0111))) return 0;
    return -EACCES;
}

bool inode_owner_or_capable(const inode& ino) { return ino.i_uid == current_cred().fsuid || capable(CAP_FOWNER_); }

long lookup_one(SysCtx& c, dentry& parent, const std::string& name, std::shared_ptr<dentry>& out) {
    if (parent.d_deleted) return -ENOENT;  // IS_DEADDIR
    std::shared_ptr<dentry> d = d_lookup(parent, name);
    if (d && !d->d_mounted && !parent.d_sb->d_revalidate(*d)) {
        d_drop(*d);
        d.reset();
    }
    if (!d) {  // lookup_slow
        d = d_alloc(parent, name);
        if (long e = parent.d_inode->i_op->lookup(*parent.d_inode, *d, c.task)) {
            d_drop(*d);
            return e;
        }
    }
    out = std::move(d);
    return 0;
}

long path_start(SysCtx& c, int dfd, struct path& out) {
    if (dfd == AT_FDCWD_) {
        out = c.task.fs->pwd;
        return out ? 0 : -ENOENT;
    }
    auto f = c.task.files->get(dfd);
    if (!f) return -EBADF;
    if (!f->f_path || !is_dir(*f->f_path.dentry)) return -ENOTDIR;
    out = f->f_path;
    return 0;
}

long filename_lookup(SysCtx& c, int dfd, const std::string& name, unsigned flags, struct path& out,
                     std::shared_ptr<file>* jumped) {
    nameidata nd{c};
    if (long e = path_init(nd, dfd, name)) return e;
    if (long e = link_path_walk(name, nd)) return e;
    if (long e = lookup_last(nd, flags & LOOKUP_FOLLOW, flags & LOOKUP_DIRECTORY)) return e;
    out = nd.jumped && nd.jumped->f_path ? nd.jumped->f_path : nd.path;
    if (jumped) *jumped = nd.jumped;
    return 0;
}

long user_path_at(SysCtx& c, int dfd, uint64_t upath, unsigned flags, struct path& out, std::shared_ptr<file>* jumped) {
    std::string name;
    if (long e = getname(c, upath, name, flags & LOOKUP_EMPTY)) return e;
    if (name.empty()) {
        if (dfd != AT_FDCWD_) return path_of_fd(c, dfd, out);
        out = c.task.fs->pwd;
        return 0;
    }
    return filename_lookup(c, dfd, name, flags, out, jumped);
}

long path_of_fd(SysCtx& c, int dfd, struct path& out) {
    auto f = c.task.files->get(dfd);
    if (!f) return -EBADF;
    if (!f->f_path) return -ENOENT;
    out = f->f_path;
    return 0;
}

// The file O_PATH gives: a place in the tree, no reads or writes (path_openat with O_PATH).
class o_path_file final : public file {
public:
    explicit o_path_file(const struct path& p) : file(p.dentry->d_inode) {
        f_path = p;
        f_mode = 0;
    }
    long read(uint8_t*, uint64_t, int64_t*) override { return -EBADF; }
    long write(const uint8_t*, uint64_t, int64_t*) override { return -EBADF; }
    long getattr(struct stat& st) override {
        generic_fillattr(*f_inode, st);
        return 0;
    }
};

namespace {
// get_write_access's ETXTBSY: some live process runs ino (its mm's exe_file; exec keeps its
// own inode of the program, with the file's device and number).
bool runs_program(Kernel& k, const std::shared_ptr<inode>& ino) {
    for (task_struct* t : k.all_tasks()) {
        const inode* exe = t->exited ? nullptr : t->exe_inode.get();
        if (exe && (exe == ino.get() || (exe->i_ino == ino->i_ino && exe->i_dev == ino->i_dev))) return true;
    }
    return false;
}
}  // namespace

// Opens what the walk ended on (do_open): type checks, permissions, O_TRUNC, the file.
long do_open(nameidata& nd, unsigned flags, bool created, std::shared_ptr<file>& out) {
    SysCtx& c = nd.c;
    if (nd.jumped) return reopen_file(c, nd.jumped, flags, out);
    const struct path& p = nd.path;
    inode& ino = *p.dentry->d_inode;
    if ((flags & O_DIRECTORY_) && !S_ISDIR(ino.i_mode)) return -ENOTDIR;
    if (flags & O_PATH_) {
        out = std::make_shared<o_path_file>(p);
        out->f_flags = flags & (O_PATH_ | O_DIRECTORY_ | O_NOFOLLOW_ | O_CLOEXEC_);  // build_open_flags
        return 0;
    }
    if (S_ISLNK(ino.i_mode)) return -ELOOP;
    const unsigned acc = flags & O_ACCMODE_;
    int mask = acc == O_RDONLY_ ? MAY_READ : acc == O_WRONLY_ ? MAY_WRITE : MAY_READ | MAY_WRITE;
    if (flags & O_TRUNC_) mask |= MAY_WRITE;
    if (S_ISDIR(ino.i_mode) && ((mask & MAY_WRITE) || (flags & O_CREAT_))) return -EISDIR;
    if ((S_ISCHR(ino.i_mode) || S_ISBLK(ino.i_mode)) && (p.mnt->mnt_flags & MNT_NODEV)) return -EACCES;  // may_open_dev
    if (!created) {
        if ((mask & MAY_WRITE) && (S_ISREG(ino.i_mode) || S_ISDIR(ino.i_mode)) && mnt_is_readonly(*p.mnt))
            return -EROFS;
        if (long e = inode_permission(ino, mask)) return e;
    }
    // may_open: O_NOATIME is for the owner or CAP_FOWNER only.
    if ((flags & O_NOATIME_) && !inode_owner_or_capable(ino)) return -EPERM;
    if ((mask & MAY_WRITE) && runs_program(c.kernel, p.dentry->d_inode)) return -ETXTBSY;
    const unsigned oflags = flags & ~(O_CREAT_ | O_EXCL_ | O_NOCTTY_ | O_TRUNC_);
    if (long e = break_lease(c.task, ino, oflags)) return e;  // do_dentry_open
    if (S_ISFIFO(ino.i_mode)) {                               // init_special_inode: every filesystem's FIFO is a pipe
        if (long e = fifo_open(p, oflags, c.task, out)) return e;
    } else if (long e = ino.i_op->open(p, oflags, c.task, out)) {
        return e;
    }
    if (!out->f_path) out->f_path = p;
    if (created) out->f_mode |= FMODE_CREATED;
    fsnotify_open(*out);
    if ((flags & O_TRUNC_) && S_ISREG(ino.i_mode) && !created) {
        iattr a;
        a.ia_valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME;
        if (long e = ino.i_op->setattr(*p.dentry, a)) return e;
        fsnotify_change(*p.dentry, a.ia_valid);
    }
    return 0;
}

// O_CREAT's last component (open_last_lookups): create it when missing, EEXIST with O_EXCL,
// follow a link to its (possibly missing) target otherwise.
long open_last_create(nameidata& nd, unsigned flags, unsigned mode, bool& created) {
    for (;;) {
        if (nd.type == LAST_BIND) return 0;
        if (nd.type != LAST_NORM || nd.trailing_slash) return -EISDIR;
        if (long e = may_lookup(nd)) return e;
        std::shared_ptr<dentry> d;
        if (long e = lookup_fast_or_slow(nd, nd.last, d)) return e;
        if (d->is_negative()) {
            if (long e = mnt_want_write(*nd.path.mnt)) return e;
            if (long e = may_create(*nd.path.dentry, *d)) return e;
            inode& dir = *nd.path.dentry->d_inode;
            if (long e = dir.i_op->create(dir, *d, (mode & 07777 & ~nd.c.task.fs->umask) | S_IFREG)) return e;
            fsnotify_create(dir, *d);
            nd.path.dentry = d;
            created = true;
            return 0;
        }
        if (flags & O_EXCL_) return -EEXIST;
        struct path next {
            nd.path.mnt, d
        };
        if (long e = traverse_mounts(nd.c, next, nd.flags)) return e;
        if (!is_link(*next.dentry)) {
            nd.path = next;
            return 0;
        }
        if (flags & O_NOFOLLOW_) return -ELOOP;
        if (long e = pick_link(nd, next)) return e;
    }
}

long do_filp_open(SysCtx& c, int dfd, const std::string& name, unsigned flags, unsigned mode,
                  std::shared_ptr<file>& out, unsigned lookup_flags) {
    if ((flags & O_CREAT_) && (flags & O_DIRECTORY_) && !(flags & O_PATH_)) return -EINVAL;
    nameidata nd{c};
    nd.flags = lookup_flags;
    if (long e = path_init(nd, dfd, name)) return e;
    if (long e = link_path_walk(name, nd)) return e;
    bool created = false;
    if ((flags & O_CREAT_) && !(flags & O_PATH_)) {
        if (long e = open_last_create(nd, flags, mode, created)) return e;
    } else if (long e = lookup_last(nd, !(flags & O_NOFOLLOW_), flags & O_DIRECTORY_)) {
        return e;
    }
    return do_open(nd, flags, created, out);
}

long sys_mknod(SysCtx& c, const uint64_t* a) {
    return do_mknodat(c, AT_FDCWD_, a[0], static_cast<uint16_t>(a[1]), static_cast<uint32_t>(a[2]));  // umode_t
}
long sys_mknodat(SysCtx& c, const uint64_t* a) {
    return do_mknodat(c, dfd_arg(a[0]), a[1], static_cast<uint16_t>(a[2]), static_cast<uint32_t>(a[3]));
}
long sys_mkdir(SysCtx& c, const uint64_t* a) { return do_mkdirat(c, AT_FDCWD_, a[0], static_cast<uint32_t>(a[1])); }
long sys_mkdirat(SysCtx& c, const uint64_t* a) {
    return do_mkdirat(c, dfd_arg(a[0]), a[1], static_cast<uint32_t>(a[2]));
}
long sys_rmdir(SysCtx& c, const uint64_t* a) { return do_rmdir(c, AT_FDCWD_, a[0]); }
long sys_unlink(SysCtx& c, const uint64_t* a) { return do_unlinkat(c, AT_FDCWD_, a[0]); }
long sys_unlinkat(SysCtx& c, const uint64_t* a) {
    if (a[2] & ~static_cast<uint64_t>(AT_REMOVEDIR_)) return -EINVAL;
    return (a[2] & AT_REMOVEDIR_) ? do_rmdir(c, dfd_arg(a[0]), a[1]) : do_unlinkat(c, dfd_arg(a[0]), a[1]);
}
long sys_symlink(SysCtx& c, const uint64_t* a) { return do_symlinkat(c, a[0], AT_FDCWD_, a[1]); }
long sys_symlinkat(SysCtx& c, const uint64_t* a) { return do_symlinkat(c, a[0], dfd_arg(a[1]), a[2]); }
long sys_link(SysCtx& c, const uint64_t* a) { return do_linkat(c, AT_FDCWD_, a[0], AT_FDCWD_, a[1], 0); }
long sys_linkat(SysCtx& c, const uint64_t* a) {
    return do_linkat(c, dfd_arg(a[0]), a[1], dfd_arg(a[2]), a[3], static_cast<unsigned>(a[4]));
}
long sys_rename(SysCtx& c, const uint64_t* a) { return do_renameat2(c, AT_FDCWD_, a[0], AT_FDCWD_, a[1], 0); }
long sys_renameat(SysCtx& c, const uint64_t* a) { return do_renameat2(c, dfd_arg(a[0]), a[1], dfd_arg(a[2]), a[3], 0); }
long sys_renameat2(SysCtx& c, const uint64_t* a) {
    return do_renameat2(c, dfd_arg(a[0]), a[1], dfd_arg(a[2]), a[3], static_cast<unsigned>(a[4]));
}

}  // namespace guestos
