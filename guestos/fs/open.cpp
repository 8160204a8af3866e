// open, close, creat, chdir, getcwd, truncate, ftruncate, fallocate, access, chmod, chown
// (fs/open.c) and utimensat (fs/utimes.c): the syscalls that open, close or change an inode.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "guestos/drivers/tty/tty.h"
#include "guestos/fs/internal.h"
#include "guestos/include/filelock.h"
#include "guestos/include/cred.h"
#include "guestos/include/kernel.h"
#include "guestos/include/fsnotify.h"
#include "guestos/include/namei.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/mm/shmem.h"

namespace guestos {

namespace {

int dfd_arg(uint64_t a) { return static_cast<int>(static_cast<uint32_t>(a)); }

long do_sys_open(SysCtx& c, int dfd, uint64_t upath, uint64_t flags, uint64_t mode) {
    std::string name;
    if (long e = getname(c, upath, name)) return e;
    // force_o_largefile(): a 64-bit process always opens with O_LARGEFILE (F_GETFL shows it).
    if (!c.compat) flags |= O_LARGEFILE_;
    std::shared_ptr<file> f;
    if (long e = do_filp_open(c, dfd, name, static_cast<unsigned>(flags), static_cast<unsigned>(mode), f)) return e;
    return get_unused_fd_install(c, std::move(f), flags & O_CLOEXEC_);
}

// A change of attributes through a path or an fd (notify_change): EROFS on a read-only
// mount, then the filesystem's setattr.
long notify_change(const struct path& p, const iattr& a) {
    if (mnt_is_readonly(*p.mnt)) return -EROFS;
    if (long e = p.dentry->d_inode->i_op->setattr(*p.dentry, a)) return e;
    fsnotify_change(*p.dentry, a.ia_valid);
    return 0;
}

long chmod_common(const struct path& p, uint32_t mode) {
    const inode& ino = *p.dentry->d_inode;
    if (mnt_is_readonly(*p.mnt)) return -EROFS;
    if (!inode_owner_or_capable(ino)) return -EPERM;
    iattr a;
    a.ia_valid = ATTR_MODE | ATTR_CTIME;
    a.ia_mode = mode & 07777;
    // setattr_prepare: a non-member's chmod loses the setgid bit
    if ((a.ia_mode & S_ISGID) && !in_group_p(ino.i_gid) && !capable(CAP_FSETID_)) a.ia_mode &= ~S_ISGID;
    return notify_change(p, a);
}

long chown_common(const struct path& p, uint32_t uid, uint32_t gid) {
    const inode& ino = *p.dentry->d_inode;
    if (mnt_is_readonly(*p.mnt)) return -EROFS;
    iattr a;
    a.ia_valid = ATTR_CTIME;
    if (uid != 0xffffffffu) a.ia_valid |= ATTR_UID, a.ia_uid = uid;
    if (gid != 0xffffffffu) a.ia_valid |= ATTR_GID, a.ia_gid = gid;
    // chown_ok / chgrp_ok: only the same owner, and a group of one's own, without CAP_CHOWN
    if (!capable(CAP_CHOWN_)) {
        const uint32_t fsuid = current_cred().fsuid;
        if ((a.ia_valid & ATTR_UID) && (uid != ino.i_uid || ino.i_uid != fsuid)) return -EPERM;
        if ((a.ia_valid & ATTR_GID) && ino.i_uid != fsuid) return -EPERM;
        if ((a.ia_valid & ATTR_GID) && gid != ino.i_gid && !in_group_p(gid)) return -EPERM;
    }
    if (!S_ISDIR(ino.i_mode) && (ino.i_mode & (S_ISUID | S_ISGID)) && (a.ia_valid & (ATTR_UID | ATTR_GID))) {
        a.ia_valid |= ATTR_MODE;  // a chown drops set-id bits (should_remove_suid)
        a.ia_mode = ino.i_mode & ~(S_ISUID | ((ino.i_mode & 010) ? S_ISGID : 0u));
    }
    return notify_change(p, a);
}

long do_fchownat(SysCtx& c, int dfd, uint64_t upath, uint32_t uid, uint32_t gid, unsigned flags) {
    if (flags & ~(AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_)) return -EINVAL;
    struct path p;
    unsigned how = (flags & AT_SYMLINK_NOFOLLOW_) ? 0 : LOOKUP_FOLLOW;
    if (flags & AT_EMPTY_PATH_) how |= LOOKUP_EMPTY;
    if (long e = user_path_at(c, dfd, upath, how, p)) return e;
    return chown_common(p, uid, gid);
}

// A 16-bit id of the old i386 calls: 0xffff means "unchanged" (low2highuid).
uint32_t id16(uint64_t v) { return (v & 0xffff) == 0xffff ? 0xffffffffu : static_cast<uint32_t>(v & 0xffff); }
uint32_t id32(uint64_t v) { return static_cast<uint32_t>(v); }

long do_fchmodat(SysCtx& c, int dfd, uint64_t upath, uint32_t mode, unsigned flags) {
    if (flags & ~(AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_)) return -EINVAL;
    struct path p;
    unsigned how = (flags & AT_SYMLINK_NOFOLLOW_) ? 0 : LOOKUP_FOLLOW;
    if (flags & AT_EMPTY_PATH_) how |= LOOKUP_EMPTY;
    if (long e = user_path_at(c, dfd, upath, how, p)) return e;
    if (S_ISLNK(p.dentry->d_inode->i_mode)) return -EOPNOTSUPP;
    return chmod_common(p, mode);
}

// access checks with the real ids (access_override_creds): fsuid and fsgid become the real
// uid and gid, and the effective capabilities those root has (all permitted) or none; the
// caller's own cred comes back at the end.
class AccessOverrideCreds {
public:
    explicit AccessOverrideCreds(task_struct& t) : t_(t), saved_(t.cred) {
        cred& c = t.cred;
        c.fsuid = c.uid;
        c.fsgid = c.gid;
        if (!(c.securebits & (1u << SECURE_NO_SETUID_FIXUP_))) c.cap_effective = c.uid ? 0 : c.cap_permitted;
    }
    ~AccessOverrideCreds() { t_.cred = saved_; }
    AccessOverrideCreds(const AccessOverrideCreds&) = delete;
    AccessOverrideCreds& operator=(const AccessOverrideCreds&) = delete;

private:
    task_struct& t_;
    struct cred saved_;
};

// access/faccessat (do_faccessat): inode_permission with the real ids unless AT_EACCESS;
// W_OK on a read-only mount is EROFS.
long do_faccessat(SysCtx& c, int dfd, uint64_t upath, uint64_t mode, unsigned flags) {
    if (mode & ~7ull) return -EINVAL;
    if (flags & ~(AT_EACCESS_ | AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_)) return -EINVAL;
    std::optional<AccessOverrideCreds> real_ids;
    if (!(flags & AT_EACCESS_)) real_ids.emplace(c.task);
    struct path p;
    unsigned how = (flags & AT_SYMLINK_NOFOLLOW_) ? 0 : LOOKUP_FOLLOW;
    if (flags & AT_EMPTY_PATH_) how |= LOOKUP_EMPTY;
    if (long e = user_path_at(c, dfd, upath, how, p)) return e;
    const inode& ino = *p.dentry->d_inode;
    if ((mode & 2) && mnt_is_readonly(*p.mnt) && (S_ISREG(ino.i_mode) || S_ISDIR(ino.i_mode) || S_ISLNK(ino.i_mode)))
        return -EROFS;
    int mask = 0;
    if (mode & 1) mask |= MAY_EXEC;
    if (mode & 2) mask |= MAY_WRITE;
    if (mode & 4) mask |= MAY_READ;
    if ((mode & 1) && S_ISREG(ino.i_mode) && !(ino.i_mode & 0111)) return -EACCES;
    return mask ? inode_permission(ino, mask) : 0;
}

long do_truncate_path(SysCtx& c, uint64_t upath, int64_t length) {
    if (length < 0) return -EINVAL;
    struct path p;
    std::shared_ptr<file> jumped;
    if (long e = user_path_at(c, AT_FDCWD_, upath, LOOKUP_FOLLOW, p, &jumped)) return e;
    if (jumped && jumped->f_inode == c.task.exe_inode) return -ETXTBSY;
    inode& ino = *p.dentry->d_inode;
    if (S_ISDIR(ino.i_mode)) return -EISDIR;
    if (!S_ISREG(ino.i_mode)) return -EINVAL;
    if (mnt_is_readonly(*p.mnt)) return -EROFS;
    if (long e = inode_permission(ino, MAY_WRITE)) return e;
    if (p.dentry->d_inode == c.task.exe_inode ||
        (c.task.exe_inode && ino.i_ino == c.task.exe_inode->i_ino && ino.i_dev == c.task.exe_inode->i_dev))
        return -ETXTBSY;                                         // get_write_access: it runs
    if (long e = break_lease(c.task, ino, O_WRONLY_)) return e;  // vfs_truncate
    iattr a;
    if (long e = inode_newsize_ok(ino, static_cast<uint64_t>(length))) return e;
    a.ia_valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME;
    a.ia_size = static_cast<uint64_t>(length);
    return notify_change(p, a);
}

// utimensat's times: null for now, UTIME_NOW, UTIME_OMIT, or a time (EINVAL past 1e9 ns).
long utimes_common(const struct path& p, const struct timespec* times) {
    iattr a;
    a.ia_valid = ATTR_CTIME | ATTR_ATIME | ATTR_MTIME;
    const inode& ino = *p.dentry->d_inode;
    if (times) {
        for (int i = 0; i < 2; ++i)
            if (times[i].tv_nsec != UTIME_NOW_ && times[i].tv_nsec != UTIME_OMIT_ &&
                (times[i].tv_nsec < 0 || times[i].tv_nsec >= 1000000000))
                return -EINVAL;
        if (times[0].tv_nsec == UTIME_OMIT_) a.ia_valid &= ~ATTR_ATIME;
        else if (times[0].tv_nsec != UTIME_NOW_) a.ia_valid |= ATTR_ATIME_SET, a.ia_atime = times[0];
        if (times[1].tv_nsec == UTIME_OMIT_) a.ia_valid &= ~ATTR_MTIME;
        else if (times[1].tv_nsec != UTIME_NOW_) a.ia_valid |= ATTR_MTIME_SET, a.ia_mtime = times[1];
        if (times[0].tv_nsec == UTIME_OMIT_ && times[1].tv_nsec == UTIME_OMIT_) return 0;
    }
    if (mnt_is_readonly(*p.mnt)) return -EROFS;
    // Setting a time needs ownership; setting "now" write permission will do.
    const bool explicit_time = a.ia_valid & (ATTR_ATIME_SET | ATTR_MTIME_SET);
    if (!inode_owner_or_capable(ino)) {
        if (explicit_time) return -EPERM;
        if (long e = inode_permission(ino, MAY_WRITE)) return e;
    }
    return notify_change(p, a);
}

// Reads the two times in the ABI's layout: timespec (64-bit) or old_timespec32 (i386);
// utimes/futimesat pass timevals (usec scaled).
long get_times(SysCtx& c, uint64_t utimes, bool timeval, bool time64, struct timespec out[2]) {
    const bool wide = !c.compat || time64;
    uint8_t raw[32];
    const size_t sz = wide ? 32 : 16;
    if (!copy_from_user(c.mm, raw, VirtAddr(utimes), sz)) return -EFAULT;
    for (int i = 0; i < 2; ++i) {
        int64_t sec = 0, frac = 0;
        if (wide) {
            std::memcpy(&sec, raw + i * 16, 8);
            std::memcpy(&frac, raw + i * 16 + 8, 8);
        } else {
            int32_t s32, f32;
            std::memcpy(&s32, raw + i * 8, 4);
            std::memcpy(&f32, raw + i * 8 + 4, 4);
            sec = s32, frac = f32;
        }
        if (timeval) {
            if (frac < 0 || frac >= 1000000) return -EINVAL;
            frac *= 1000;
        }
        out[i] = {sec, frac};
    }
    return 0;
}

long do_utimes(SysCtx& c, int dfd, uint64_t upath, uint64_t utimes, unsigned flags, bool timeval, bool time64) {
    if (flags & ~(AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_)) return -EINVAL;
    struct timespec t[2];
    if (utimes)
        if (long e = get_times(c, utimes, timeval, time64, t)) return e;
    struct path p;
    if (!upath) {  // utimensat(fd, NULL, ...): the fd itself
        if (dfd == AT_FDCWD_) return -EFAULT;
        if (long e = path_of_fd(c, dfd, p)) return e;
    } else {
        unsigned how = (flags & AT_SYMLINK_NOFOLLOW_) ? 0 : LOOKUP_FOLLOW;
        if (flags & AT_EMPTY_PATH_) how |= LOOKUP_EMPTY;
        if (long e = user_path_at(c, dfd, upath, how, p)) return e;
    }
    return utimes_common(p, utimes ? t : nullptr);
}

}  // namespace

long reopen_file(SysCtx& c, const std::shared_ptr<file>& f, unsigned flags, std::shared_ptr<file>& out) {
    if (f->f_inode && f->f_inode == c.task.exe_inode) {  // /proc/self/exe
        if ((flags & O_ACCMODE_) != O_RDONLY_) return -ETXTBSY;
        out = f;
        out->f_flags = flags & ~(O_CREAT_ | O_EXCL_ | O_TRUNC_ | O_NOCTTY_);
        return 0;
    }
    if (const auto* con = dynamic_cast<const console_file*>(f.get())) {
        const std::string link = "/proc/self/fd/" + std::to_string(con->host_fd());
        const int fd =
            ::open(link.c_str(), static_cast<int>(flags & ~(O_CREAT_ | O_EXCL_ | O_DIRECTORY_)) | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) return -errno;
        out = std::make_shared<console_file>(fd, ConsoleOwnsFd::Yes);
        out->f_flags = flags & ~(O_CREAT_ | O_EXCL_ | O_TRUNC_ | O_NOCTTY_);
        return 0;
    }
    out = f;
    return 0;
}

long open_exec(SysCtx& c, int dfd, const std::string& name, unsigned flags, std::shared_ptr<file>& out,
               std::string& abs) {
    if (flags & ~(AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_)) return -EINVAL;
    const unsigned oflags = O_RDONLY_ | ((flags & AT_SYMLINK_NOFOLLOW_) ? O_NOFOLLOW_ : 0u);
    const unsigned lookup = (flags & AT_EMPTY_PATH_) ? LOOKUP_EMPTY : 0u;
    if (long e = do_filp_open(c, dfd, name, oflags, 0, out, lookup)) return e;
    abs = out->f_path ? d_path(out->f_path) : name;
    return 0;
}

long sys_open(SysCtx& c, const uint64_t* a) { return do_sys_open(c, AT_FDCWD_, a[0], a[1], a[2]); }
long sys_openat(SysCtx& c, const uint64_t* a) { return do_sys_open(c, dfd_arg(a[0]), a[1], a[2], a[3]); }
namespace {

// openat2's struct open_how (uapi/linux/openat2.h) and its RESOLVE_* flags.
struct open_how {
    uint64_t flags, mode, resolve;
};
constexpr uint64_t OPEN_HOW_SIZE_VER0 = 24;
constexpr uint64_t RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04,
                   RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10, RESOLVE_CACHED = 0x20;
constexpr uint64_t VALID_RESOLVE_FLAGS = 0x3f;
constexpr uint64_t VALID_OPEN_FLAGS = O_ACCMODE_ | O_CREAT_ | O_EXCL_ | O_NOCTTY_ | O_TRUNC_ | O_APPEND_ | O_NONBLOCK_ |
                                      O_SYNC_ | O_DSYNC_ | O_ASYNC_ | O_DIRECT_ | O_LARGEFILE_ | O_DIRECTORY_ |
                                      O_NOFOLLOW_ | O_NOATIME_ | O_CLOEXEC_ | O_PATH_ | O_TMPFILE_;
constexpr uint64_t O_PATH_FLAGS = O_DIRECTORY_ | O_NOFOLLOW_ | O_PATH_ | O_CLOEXEC_;

// open_how's flags, mode and resolve checked as openat2 checks them, and the lookup flags
// they ask for (build_open_flags).
long build_open_flags(const open_how& how, unsigned& lookup_flags) {
    uint64_t flags = how.flags & ~static_cast<uint64_t>(O_CLOEXEC_);
    if (flags & ~VALID_OPEN_FLAGS) return -EINVAL;
    if (how.resolve & ~VALID_RESOLVE_FLAGS) return -EINVAL;
    if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT)) return -EINVAL;
    const uint64_t O_TMPFILE_BIT = O_TMPFILE_ & ~O_DIRECTORY_;  // __O_TMPFILE
    const bool will_create = flags & (O_CREAT_ | O_TMPFILE_BIT);
    if (will_create ? (how.mode & ~07777ull) != 0 : how.mode != 0) return -EINVAL;
    if ((flags & (O_DIRECTORY_ | O_CREAT_)) == (O_DIRECTORY_ | O_CREAT_)) return -EINVAL;
    if (flags & O_TMPFILE_BIT) {
        if (!(flags & O_DIRECTORY_)) return -EINVAL;
        if ((flags & O_ACCMODE_) == O_RDONLY_) return -EINVAL;  // no MAY_WRITE
    }
    if ((flags & O_PATH_) && (flags & ~O_PATH_FLAGS)) return -EINVAL;
    lookup_flags = 0;
    if (how.resolve & RESOLVE_NO_XDEV) lookup_flags |= LOOKUP_NO_XDEV;
    if (how.resolve & RESOLVE_NO_MAGICLINKS) lookup_flags |= LOOKUP_NO_MAGICLINKS;
    if (how.resolve & RESOLVE_NO_SYMLINKS) lookup_flags |= LOOKUP_NO_SYMLINKS;
    if (how.resolve & RESOLVE_BENEATH) lookup_flags |= LOOKUP_BENEATH;
    if (how.resolve & RESOLVE_IN_ROOT) lookup_flags |= LOOKUP_IN_ROOT;
    if (how.resolve & RESOLVE_CACHED) {
        if (flags & (O_TRUNC_ | O_CREAT_ | O_TMPFILE_BIT)) return -EAGAIN;
        lookup_flags |= LOOKUP_CACHED;
    }
    return 0;
}

}  // namespace

// openat2(dfd, path, how, size): the size first (EINVAL below the first version, E2BIG
// past a page), the struct, then its flags before the path is read.
long sys_openat2(SysCtx& c, const uint64_t* a) {
    const uint64_t usize = a[3];
    if (usize < OPEN_HOW_SIZE_VER0) return -EINVAL;
    if (usize > 4096) return -E2BIG;
    open_how how{};
    if (long e = copy_struct_from_user(c.mm, &how, sizeof how, VirtAddr(a[2]), usize)) return e;
    if (!(how.flags & O_PATH_) && !c.compat) how.flags |= O_LARGEFILE_;  // force_o_largefile
    unsigned lookup_flags = 0;
    if (long e = build_open_flags(how, lookup_flags)) return e;
    std::string name;
    if (long e = getname(c, a[1], name)) return e;
    std::shared_ptr<file> f;
    const auto flags = static_cast<unsigned>(how.flags);
    if (long e = do_filp_open(c, dfd_arg(a[0]), name, flags, static_cast<unsigned>(how.mode), f, lookup_flags))
        return e;
    return get_unused_fd_install(c, std::move(f), flags & O_CLOEXEC_);
}

long sys_creat(SysCtx& c, const uint64_t* a) {
    return do_sys_open(c, AT_FDCWD_, a[0], O_CREAT_ | O_WRONLY_ | O_TRUNC_, a[1]);
}

long sys_chdir(SysCtx& c, const uint64_t* a) {
    struct path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[0], LOOKUP_FOLLOW | LOOKUP_DIRECTORY, p)) return e;
    if (long e = inode_permission(*p.dentry->d_inode, MAY_EXEC)) return e;
    c.task.fs->pwd = p;  // set_fs_pwd
    return 0;
}

long sys_fchdir(SysCtx& c, const uint64_t* a) {
    auto f = c.task.files->get(static_cast<uint32_t>(a[0]));
    if (!f) return -EBADF;
    if (!f->f_path || !S_ISDIR(f->f_path.dentry->d_inode->i_mode)) return -ENOTDIR;
    if (long e = inode_permission(*f->f_path.dentry->d_inode, MAY_EXEC)) return e;
    c.task.fs->pwd = f->f_path;
    return 0;
}

// getcwd: the working directory from the caller's root; one outside it (left there by a
// chroot) is "(unreachable)" followed by its path from the namespace's root.
long sys_getcwd(SysCtx& c, const uint64_t* a) {
    const struct path& pwd = c.task.fs->pwd;
    if (pwd.dentry->d_deleted) return -ENOENT;
    bool unreachable = false;
    std::string cwd = d_path_from(pwd, &c.task.fs->root, &unreachable);
    if (unreachable) cwd = "(unreachable)" + cwd;
    const uint64_t n = cwd.size() + 1;
    if (n > PATH_MAX_) return -ENAMETOOLONG;
    if (a[1] < n) return -ERANGE;
    return copy_to_user(c.mm, VirtAddr(a[0]), cwd.c_str(), n) ? static_cast<long>(n) : -EFAULT;
}

// chroot (fs/open.c): a searchable directory becomes the caller's "/" (CAP_SYS_CHROOT);
// the working directory stays where it is.
long sys_chroot(SysCtx& c, const uint64_t* a) {
    struct path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[0], LOOKUP_FOLLOW | LOOKUP_DIRECTORY, p)) return e;
    if (long e = inode_permission(*p.dentry->d_inode, MAY_EXEC)) return e;  // MAY_EXEC | MAY_CHDIR
    if (!capable(CAP_SYS_CHROOT_)) return -EPERM;
    c.task.fs->root = p;  // set_fs_root
    return 0;
}

long sys_truncate(SysCtx& c, const uint64_t* a) {
    return do_truncate_path(c, a[0], c.compat ? static_cast<int32_t>(a[1]) : static_cast<int64_t>(a[1]));
}
long sys_truncate64(SysCtx& c, const uint64_t* a) {
    return do_truncate_path(c, a[0], static_cast<int64_t>((a[1] & 0xffffffffu) | (a[2] << 32)));
}

long sys_access(SysCtx& c, const uint64_t* a) { return do_faccessat(c, AT_FDCWD_, a[0], a[1], 0); }
long sys_faccessat(SysCtx& c, const uint64_t* a) { return do_faccessat(c, dfd_arg(a[0]), a[1], a[2], 0); }
long sys_faccessat2(SysCtx& c, const uint64_t* a) {
    return do_faccessat(c, dfd_arg(a[0]), a[1], a[2], static_cast<unsigned>(a[3]));
}

long sys_chmod(SysCtx& c, const uint64_t* a) { return do_fchmodat(c, AT_FDCWD_, a[0], static_cast<uint32_t>(a[1]), 0); }
long sys_fchmodat(SysCtx& c, const uint64_t* a) {
    return do_fchmodat(c, dfd_arg(a[0]), a[1], static_cast<uint32_t>(a[2]), 0);
}
long sys_fchmod(SysCtx& c, const uint64_t* a) {
    if (!fdget(c, a[0])) return -EBADF;  // O_PATH too
    struct path p;
    if (long e = path_of_fd(c, dfd_arg(a[0]), p)) return e == -ENOENT ? 0 : e;
    return chmod_common(p, static_cast<uint32_t>(a[1]));
}

long sys_chown(SysCtx& c, const uint64_t* a) {
    return c.compat ? do_fchownat(c, AT_FDCWD_, a[0], id16(a[1]), id16(a[2]), 0)
                    : do_fchownat(c, AT_FDCWD_, a[0], id32(a[1]), id32(a[2]), 0);
}
long sys_lchown(SysCtx& c, const uint64_t* a) {
    return c.compat ? do_fchownat(c, AT_FDCWD_, a[0], id16(a[1]), id16(a[2]), AT_SYMLINK_NOFOLLOW_)
                    : do_fchownat(c, AT_FDCWD_, a[0], id32(a[1]), id32(a[2]), AT_SYMLINK_NOFOLLOW_);
}
long sys_fchown(SysCtx& c, const uint64_t* a) {
    if (!fdget(c, a[0])) return -EBADF;  // O_PATH too
    struct path p;
    if (long e = path_of_fd(c, dfd_arg(a[0]), p)) return e;
    return c.compat ? chown_common(p, id16(a[1]), id16(a[2])) : chown_common(p, id32(a[1]), id32(a[2]));
}
long sys_chown32(SysCtx& c, const uint64_t* a) { return do_fchownat(c, AT_FDCWD_, a[0], id32(a[1]), id32(a[2]), 0); }
long sys_lchown32(SysCtx& c, const uint64_t* a) {
    return do_fchownat(c, AT_FDCWD_, a[0], id32(a[1]), id32(a[2]), AT_SYMLINK_NOFOLLOW_);
}
long sys_fchown32(SysCtx& c, const uint64_t* a) {
    if (!fdget(c, a[0])) return -EBADF;  // O_PATH too
    struct path p;
    if (long e = path_of_fd(c, dfd_arg(a[0]), p)) return e;
    return chown_common(p, id32(a[1]), id32(a[2]));
}
long sys_fchownat(SysCtx& c, const uint64_t* a) {
    return do_fchownat(c, dfd_arg(a[0]), a[1], id32(a[2]), id32(a[3]), static_cast<unsigned>(a[4]));
}

long sys_utimensat(SysCtx& c, const uint64_t* a) {
    return do_utimes(c, dfd_arg(a[0]), a[1], a[2], static_cast<unsigned>(a[3]), false, false);
}
long sys_utimensat_time64(SysCtx& c, const uint64_t* a) {
    return do_utimes(c, dfd_arg(a[0]), a[1], a[2], static_cast<unsigned>(a[3]), false, true);
}
// utime(path, times): struct utimbuf of two longs (actime, modtime) in seconds, or null for
// now; the permission rules are utimes'.
long sys_utime(SysCtx& c, const uint64_t* a) {
    if (!a[1]) return do_utimes(c, AT_FDCWD_, a[0], 0, 0, true, false);
    int64_t secs[2] = {0, 0};
    if (c.compat) {
        int32_t v[2];
        if (!copy_from_user(c.mm, v, VirtAddr(a[1]), sizeof v)) return -EFAULT;
        secs[0] = v[0], secs[1] = v[1];
    } else if (!copy_from_user(c.mm, secs, VirtAddr(a[1]), sizeof secs)) {
        return -EFAULT;
    }
    struct timespec t[2] = {{secs[0], 0}, {secs[1], 0}};
    struct path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[0], LOOKUP_FOLLOW, p)) return e;
    return utimes_common(p, t);
}
long sys_utimes(SysCtx& c, const uint64_t* a) { return do_utimes(c, AT_FDCWD_, a[0], a[1], 0, true, false); }
long sys_futimesat(SysCtx& c, const uint64_t* a) { return do_utimes(c, dfd_arg(a[0]), a[1], a[2], 0, true, false); }

// ftruncate: the fd must be open for writing (do_sys_ftruncate).
long do_ftruncate(SysCtx& c, uint64_t fd, int64_t length) {
    if (length < 0) return -EINVAL;
    auto f = fdget(c, fd);
    if (!f) return -EBADF;
    if (!writable(*f)) return -EINVAL;
    if (f->f_path && f->f_inode && S_ISREG(f->f_inode->i_mode)) {  // do_truncate -> notify_change
        if (f->f_inode == c.task.exe_inode) return -ETXTBSY;
        if (long e = inode_newsize_ok(*f->f_inode, static_cast<uint64_t>(length))) return e;
        iattr at;
        at.ia_valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME;
        at.ia_size = static_cast<uint64_t>(length);
        if (long e = f->f_inode->i_op->setattr(*f->f_path.dentry, at)) return e;
        fsnotify_change(*f->f_path.dentry, at.ia_valid);
        return 0;
    }
    return f->truncate(static_cast<uint64_t>(length));
}

long sys_ftruncate(SysCtx& c, const uint64_t* a) {
    return do_ftruncate(c, a[0], c.compat ? static_cast<int32_t>(a[1]) : static_cast<int64_t>(a[1]));
}
long sys_ftruncate64(SysCtx& c, const uint64_t* a) { return do_ftruncate(c, a[0], pos_arg(c, a, 1)); }

long sys_fallocate(SysCtx& c, const uint64_t* a) {
    constexpr uint64_t FALLOC_FL_SUPPORTED_MASK =
        0x7f;  // KEEP_SIZE PUNCH_HOLE NO_HIDE_STALE COLLAPSE ZERO INSERT UNSHARE
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const int64_t offset = c.compat ? pos_arg(c, a, 2) : static_cast<int64_t>(a[2]);
    const int64_t len = c.compat ? pos_arg(c, a, 4) : static_cast<int64_t>(a[3]);
    const uint64_t mode = static_cast<uint32_t>(a[1]);
    if (offset < 0 || len <= 0) return -EINVAL;  // vfs_fallocate's checks, in its order
    if (mode & ~FALLOC_FL_SUPPORTED_MASK) return -EOPNOTSUPP;
    if ((mode & 2) && !(mode & 1)) return -EOPNOTSUPP;  // a hole punch must keep the size
    if (!writable(*f)) return -EBADF;
    struct stat st;
    if (f->getattr(st) == 0) {
        if (S_ISFIFO(st.st_mode)) return -ESPIPE;
        if (S_ISDIR(st.st_mode)) return -EISDIR;
        if (!S_ISREG(st.st_mode)) return -ENODEV;
    }
    if (!f->f_inode || !f->can_mmap()) return -ENODEV;
    const uint64_t end = static_cast<uint64_t>(offset) + static_cast<uint64_t>(len);
    if (f->f_inode->i_sb && end > f->f_inode->i_sb->s_maxbytes) return -EFBIG;
    // Only shmem has a fallocate (shmem_fallocate): ext2 and hostfs have none.
    const address_space_operations* aops = f->f_inode->i_data.a_ops;
    if (!aops || !aops->swap_backed) return -EOPNOTSUPP;
    if (!(mode & 1))  // FALLOC_FL_KEEP_SIZE: the file may grow
        if (long e = inode_newsize_ok(*f->f_inode, static_cast<uint64_t>(offset) + static_cast<uint64_t>(len)))
            return e;
    return shmem_fallocate(*f->f_inode, static_cast<int>(mode), static_cast<uint64_t>(offset),
                           static_cast<uint64_t>(len));
}

long sys_close(SysCtx& c, const uint64_t* a) {
    auto f = fdget_raw(c, a[0]);
    if (!f) return -EBADF;
    f->flush(c.task);                            // filp_close
    locks_remove_posix(*f, c.task.files.get());  // filp_close: a close drops the process's locks
    c.task.files->fd[static_cast<uint32_t>(a[0])].reset();
    return 0;
}

}  // namespace guestos
