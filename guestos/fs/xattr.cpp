// Extended attributes (fs/xattr.c): the twelve syscalls, the VFS's permission checks and
// handler lookup in Linux's order, and simple_xattrs, the in-memory store tmpfs uses.
#include "guestos/include/xattr.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "guestos/include/cred.h"
#include "guestos/include/dcache.h"
#include "guestos/include/fsnotify.h"
#include "guestos/include/namei.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/xattr.h"

namespace guestos {

namespace {

bool has_prefix(const std::string& s, const char* prefix) { return s.compare(0, std::strlen(prefix), prefix) == 0; }

// The handler of name's namespace (xattr_resolve_name): EOPNOTSUPP without one, EINVAL
// for a bare prefix ("user.").
long xattr_resolve_name(const inode& ino, const std::string& name, const xattr_handler*& out) {
    if (!ino.i_sb || !ino.i_sb->s_xattr) return -EOPNOTSUPP;  // no IOP_XATTR
    for (const xattr_handler* const* h = ino.i_sb->s_xattr; *h; ++h) {
        if (!has_prefix(name, (*h)->prefix)) continue;
        if (name.size() == std::strlen((*h)->prefix)) return -EINVAL;
        out = *h;
        return 0;
    }
    return -EOPNOTSUPP;
}

// system.posix_acl_access and system.posix_acl_default: no filesystem here keeps ACLs.
bool is_posix_acl_xattr(const std::string& name) {
    return name == "system.posix_acl_access" || name == "system.posix_acl_default";
}

// May the caller read or write name on ino (xattr_permission): trusted.* wants
// CAP_SYS_ADMIN, user.* a regular file or directory (and the owner in a sticky directory),
// then the inode's own permission.
long xattr_permission(const inode& ino, const std::string& name, int mask) {
    if (has_prefix(name, XATTR_SECURITY_PREFIX_) || has_prefix(name, XATTR_SYSTEM_PREFIX_)) return 0;
    if (has_prefix(name, XATTR_TRUSTED_PREFIX_)) {
        if (!capable(CAP_SYS_ADMIN_)) return (mask & MAY_WRITE) ? -EPERM : -ENODATA;
        return 0;
    }
    if (has_prefix(name, XATTR_USER_PREFIX_)) {
        if (!S_ISREG(ino.i_mode) && !S_ISDIR(ino.i_mode)) return (mask & MAY_WRITE) ? -EPERM : -ENODATA;
        if (S_ISDIR(ino.i_mode) && (ino.i_mode & S_ISVTX) && (mask & MAY_WRITE) && !inode_owner_or_capable(ino))
            return -EPERM;
    }
    return inode_permission(ino, mask);
}

// The capability module's rule for security.* (cap_inode_setxattr, cap_inode_removexattr):
// CAP_SYS_ADMIN, except security.capability, whose own checks come later.
long cap_inode_setxattr(const std::string& name) {
    if (!has_prefix(name, XATTR_SECURITY_PREFIX_) || name == XATTR_NAME_CAPS_) return 0;
    return capable(CAP_SYS_ADMIN_) ? 0 : -EPERM;
}

// vfs_setxattr, or vfs_removexattr for a null value: permission, the security hook, the
// handler; then IN_ATTRIB (fsnotify_xattr).
long vfs_setxattr(inode& ino, dentry* d, const std::string& name, const std::vector<uint8_t>* value, int flags) {
    if (long e = xattr_permission(ino, name, MAY_WRITE)) return e;
    if (long e = cap_inode_setxattr(name)) return e;
    if (is_posix_acl_xattr(name)) return -EOPNOTSUPP;
    const xattr_handler* h = nullptr;
    if (long e = xattr_resolve_name(ino, name, h)) return e;
    if (!h->set) return -EOPNOTSUPP;
    static const uint8_t empty = 0;  // an empty value is kept, not removed
    const long e = value ? h->set(*h, ino, name, value->empty() ? &empty : value->data(), value->size(), flags)
                         : h->set(*h, ino, name, nullptr, 0, XATTR_REPLACE_);
    if (!e && d) fsnotify_xattr(*d);
    return e;
}

// vfs_getxattr: permission, then the handler (security.* too: no security module here).
long vfs_getxattr(inode& ino, const std::string& name, uint8_t* buf, size_t size) {
    if (long e = xattr_permission(ino, name, MAY_READ)) return e;
    if (is_posix_acl_xattr(name)) return -EOPNOTSUPP;
    const xattr_handler* h = nullptr;
    if (long e = xattr_resolve_name(ino, name, h)) return e;
    if (!h->get) return -EOPNOTSUPP;
    return h->get(*h, ino, name, size ? buf : nullptr, size);
}

// The attribute name argument (import_xattr_name): ERANGE for "" or one of 256 bytes or more.
long import_xattr_name(SysCtx& c, uint64_t uname, std::string& out) {
    const long n = strncpy_from_user(c.mm, VirtAddr(uname), XATTR_NAME_MAX_ + 1, out);
    if (n == 0 || n == static_cast<long>(XATTR_NAME_MAX_ + 1)) return -ERANGE;
    return n < 0 ? n : 0;
}

// The name and value of a set (setxattr_copy): EINVAL flags, the name, E2BIG, EFAULT.
long setxattr_copy(SysCtx& c, uint64_t uname, uint64_t uvalue, size_t size, int flags, std::string& name,
                   std::vector<uint8_t>& value) {
    if (flags & ~(XATTR_CREATE_ | XATTR_REPLACE_)) return -EINVAL;
    if (long e = import_xattr_name(c, uname, name)) return e;
    if (!size) return 0;
    if (size > XATTR_SIZE_MAX_) return -E2BIG;
    value.resize(size);
    return copy_from_user(c.mm, value.data(), VirtAddr(uvalue), size) ? 0 : -EFAULT;
}

// Whether writes through f's mount are refused (mnt_want_write_file).
long mnt_want_write_file(const file& f) { return f.f_path && mnt_is_readonly(*f.f_path.mnt) ? -EROFS : 0; }
long mnt_want_write(const path& p) { return mnt_is_readonly(*p.mnt) ? -EROFS : 0; }

// do_getxattr: the value copied out; ERANGE with a buffer of XATTR_SIZE_MAX is E2BIG.
long do_getxattr(SysCtx& c, inode& ino, const std::string& name, uint64_t uvalue, size_t size) {
    size = std::min(size, XATTR_SIZE_MAX_);
    std::vector<uint8_t> kvalue(size);
    long n = vfs_getxattr(ino, name, kvalue.data(), size);
    if (n > 0 && size && !copy_to_user(c.mm, VirtAddr(uvalue), kvalue.data(), static_cast<uint64_t>(n))) return -EFAULT;
    if (n == -ERANGE && size >= XATTR_SIZE_MAX_) return -E2BIG;
    return n;
}

// listxattr: the names copied out; ERANGE with a buffer of XATTR_LIST_MAX is E2BIG.
long do_listxattr(SysCtx& c, inode& ino, dentry* d, uint64_t ulist, size_t size) {
    size = std::min(size, XATTR_LIST_MAX_);
    std::vector<char> klist(size);
    long n = d && ino.i_op ? ino.i_op->listxattr(*d, size ? klist.data() : nullptr, size) : 0;
    if (n > 0 && size && !copy_to_user(c.mm, VirtAddr(ulist), klist.data(), static_cast<uint64_t>(n))) return -EFAULT;
    if (n == -ERANGE && size >= XATTR_LIST_MAX_) return -E2BIG;
    return n;
}

unsigned lookup_flags(bool follow) { return follow ? LOOKUP_FOLLOW : 0; }

long path_setxattr(SysCtx& c, const uint64_t* a, bool follow) {
    std::string name;
    std::vector<uint8_t> value;
    if (long e = setxattr_copy(c, a[1], a[2], a[3], static_cast<int>(a[4]), name, value)) return e;
    path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[0], lookup_flags(follow), p)) return e;
    if (long e = mnt_want_write(p)) return e;
    return vfs_setxattr(*p.dentry->d_inode, p.dentry.get(), name, &value, static_cast<int>(a[4]));
}

long path_getxattr(SysCtx& c, const uint64_t* a, bool follow) {
    std::string name;
    if (long e = import_xattr_name(c, a[1], name)) return e;
    path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[0], lookup_flags(follow), p)) return e;
    return do_getxattr(c, *p.dentry->d_inode, name, a[2], a[3]);
}

long path_listxattr(SysCtx& c, const uint64_t* a, bool follow) {
    path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[0], lookup_flags(follow), p)) return e;
    return do_listxattr(c, *p.dentry->d_inode, p.dentry.get(), a[1], a[2]);
}

long path_removexattr(SysCtx& c, const uint64_t* a, bool follow) {
    std::string name;
    if (long e = import_xattr_name(c, a[1], name)) return e;
    path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[0], lookup_flags(follow), p)) return e;
    if (long e = mnt_want_write(p)) return e;
    return vfs_setxattr(*p.dentry->d_inode, p.dentry.get(), name, nullptr, 0);
}

// fsetxattr and fgetxattr take the name before the fd, and AT_FDCWD for the fd is the
// working directory: since Linux 6.13 they are path_setxattrat/path_getxattrat of an empty
// path.
long xattrat_inode(SysCtx& c, uint64_t fd, bool write, std::shared_ptr<file>& f, inode*& out, dentry*& d) {
    if (static_cast<int>(fd) == AT_FDCWD_) {
        const path& pwd = c.task.fs->pwd;
        if (!pwd) return -ENOENT;
        if (write)
            if (long e = mnt_want_write(pwd)) return e;
        out = pwd.dentry->d_inode.get();
        d = pwd.dentry.get();
        return 0;
    }
    f = fdget(c, fd);
    if (!f || !f->f_inode) return -EBADF;
    if (write)
        if (long e = mnt_want_write_file(*f)) return e;
    out = f->f_inode.get();
    d = f->f_path.dentry.get();
    return 0;
}

}  // namespace

long simple_xattr_get(const simple_xattrs& x, const std::string& name, uint8_t* buf, size_t size) {
    auto it = x.xattrs.find(name);
    if (it == x.xattrs.end()) return -ENODATA;
    const auto& v = it->second;
    if (buf) {
        if (size < v.size()) return -ERANGE;
        if (!v.empty()) std::memcpy(buf, v.data(), v.size());
    }
    return static_cast<long>(v.size());
}

long simple_xattr_set(simple_xattrs& x, const std::string& name, const uint8_t* value, size_t size, int flags) {
    auto it = x.xattrs.find(name);
    if (it != x.xattrs.end()) {
        if (flags & XATTR_CREATE_) return -EEXIST;
        if (value) it->second.assign(value, value + size);
        else x.xattrs.erase(it);
        return 0;
    }
    if (flags & XATTR_REPLACE_) return -ENODATA;
    if (value) x.xattrs.emplace(name, std::vector<uint8_t>(value, value + size));
    return 0;
}

long simple_xattr_list(const simple_xattrs& x, char* buf, size_t size) {
    const bool trusted = capable(CAP_SYS_ADMIN_);
    size_t used = 0;
    for (const auto& [name, value] : x.xattrs) {
        if (!trusted && has_prefix(name, XATTR_TRUSTED_PREFIX_)) continue;
        const size_t len = name.size() + 1;
        if (buf) {  // xattr_list_one
            if (size - used < len) return -ERANGE;
            std::memcpy(buf + used, name.c_str(), len);
        }
        used += len;
    }
    return static_cast<long>(used);
}

long sys_setxattr(SysCtx& c, const uint64_t* a) { return path_setxattr(c, a, true); }
long sys_lsetxattr(SysCtx& c, const uint64_t* a) { return path_setxattr(c, a, false); }

long sys_fsetxattr(SysCtx& c, const uint64_t* a) {
    std::string name;
    std::vector<uint8_t> value;
    if (long e = setxattr_copy(c, a[1], a[2], a[3], static_cast<int>(a[4]), name, value)) return e;
    std::shared_ptr<file> f;  // held while the call runs
    inode* ino = nullptr;
    dentry* d = nullptr;
    if (long e = xattrat_inode(c, a[0], true, f, ino, d)) return e;
    return vfs_setxattr(*ino, d, name, &value, static_cast<int>(a[4]));
}

long sys_getxattr(SysCtx& c, const uint64_t* a) { return path_getxattr(c, a, true); }
long sys_lgetxattr(SysCtx& c, const uint64_t* a) { return path_getxattr(c, a, false); }
long sys_fgetxattr(SysCtx& c, const uint64_t* a) {
    std::string name;
    if (long e = import_xattr_name(c, a[1], name)) return e;
    std::shared_ptr<file> f;
    inode* ino = nullptr;
    dentry* d = nullptr;
    if (long e = xattrat_inode(c, a[0], false, f, ino, d)) return e;
    return do_getxattr(c, *ino, name, a[2], a[3]);
}

long sys_listxattr(SysCtx& c, const uint64_t* a) { return path_listxattr(c, a, true); }
long sys_llistxattr(SysCtx& c, const uint64_t* a) { return path_listxattr(c, a, false); }
long sys_flistxattr(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f || !f->f_inode) return -EBADF;
    return do_listxattr(c, *f->f_inode, f->f_path.dentry.get(), a[1], a[2]);
}

long sys_removexattr(SysCtx& c, const uint64_t* a) { return path_removexattr(c, a, true); }
long sys_lremovexattr(SysCtx& c, const uint64_t* a) { return path_removexattr(c, a, false); }
long sys_fremovexattr(SysCtx& c, const uint64_t* a) {
    std::string name;  // the name before the fd, as since Linux 6.13
    if (long e = import_xattr_name(c, a[1], name)) return e;
    auto f = fdget(c, a[0]);
    if (!f || !f->f_inode) return -EBADF;
    if (long e = mnt_want_write_file(*f)) return e;
    return vfs_setxattr(*f->f_inode, f->f_path.dentry.get(), name, nullptr, 0);
}

}  // namespace guestos
