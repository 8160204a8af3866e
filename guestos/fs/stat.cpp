// stat, lstat, fstatat, statx and readlink (fs/stat.c), statfs (fs/statfs.c).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>

#include "guestos/include/kernel.h"
#include "guestos/include/namei.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

namespace {

// The i386 struct stat64 layout (arch/x86/include/uapi/asm/stat.h), 96 bytes.
struct __attribute__((packed)) stat64_i386 {
    uint64_t st_dev;
    uint8_t __pad0[4];
    uint32_t __st_ino;
    uint32_t st_mode, st_nlink, st_uid, st_gid;
    uint64_t st_rdev;
    uint8_t __pad3[4];
    int64_t st_size;
    uint32_t st_blksize;
    uint64_t st_blocks;
    uint32_t st_atime_, st_atime_nsec, st_mtime_, st_mtime_nsec, st_ctime_, st_ctime_nsec;
    uint64_t st_ino;
};
static_assert(sizeof(stat64_i386) == 96);

// Copies a struct stat out in the guest's layout (cp_new_stat / cp_new_stat64).
long put_stat(SysCtx& c, VirtAddr dst, const struct stat& st) {
    if (!c.compat) return copy_to_user(c.mm, dst, &st, sizeof st) ? 0 : -EFAULT;
    stat64_i386 s{};
    s.st_dev = st.st_dev;
    s.__st_ino = static_cast<uint32_t>(st.st_ino);
    s.st_mode = st.st_mode;
    s.st_nlink = static_cast<uint32_t>(st.st_nlink);
    s.st_uid = st.st_uid;
    s.st_gid = st.st_gid;
    s.st_rdev = st.st_rdev;
    s.st_size = st.st_size;
    s.st_blksize = static_cast<uint32_t>(st.st_blksize);
    s.st_blocks = static_cast<uint64_t>(st.st_blocks);
    s.st_atime_ = static_cast<uint32_t>(st.st_atim.tv_sec);
    s.st_atime_nsec = static_cast<uint32_t>(st.st_atim.tv_nsec);
    s.st_mtime_ = static_cast<uint32_t>(st.st_mtim.tv_sec);
    s.st_mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    s.st_ctime_ = static_cast<uint32_t>(st.st_ctim.tv_sec);
    s.st_ctime_nsec = static_cast<uint32_t>(st.st_ctim.tv_nsec);
    s.st_ino = st.st_ino;
    return copy_to_user(c.mm, dst, &s, sizeof s) ? 0 : -EFAULT;
}

// struct statx from a struct stat (the basic fields; no birth time).
struct statx to_statx(const struct stat& st) {
    struct statx x {};
    x.stx_mask = STATX_BASIC_STATS;
    x.stx_blksize = static_cast<uint32_t>(st.st_blksize);
    x.stx_nlink = static_cast<uint32_t>(st.st_nlink);
    x.stx_uid = st.st_uid;
    x.stx_gid = st.st_gid;
    x.stx_mode = static_cast<uint16_t>(st.st_mode);
    x.stx_ino = st.st_ino;
    x.stx_size = static_cast<uint64_t>(st.st_size);
    x.stx_blocks = static_cast<uint64_t>(st.st_blocks);
    x.stx_atime = {st.st_atim.tv_sec, static_cast<uint32_t>(st.st_atim.tv_nsec), 0};
    x.stx_mtime = {st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec), 0};
    x.stx_ctime = {st.st_ctim.tv_sec, static_cast<uint32_t>(st.st_ctim.tv_nsec), 0};
    x.stx_rdev_major = major(st.st_rdev);
    x.stx_rdev_minor = minor(st.st_rdev);
    x.stx_dev_major = major(st.st_dev);
    x.stx_dev_minor = minor(st.st_dev);
    return x;
}

int dfd_arg(uint64_t a) { return static_cast<int>(static_cast<uint32_t>(a)); }

// vfs_statx: an fd (AT_EMPTY_PATH with ""), or a path followed unless AT_SYMLINK_NOFOLLOW;
// a magic link that leads to a file without a path (a pipe) stats that file.
long vfs_statx(SysCtx& c, int dfd, uint64_t upath, unsigned flags, struct stat& st) {
    if (flags & ~(AT_SYMLINK_NOFOLLOW_ | AT_EMPTY_PATH_ | AT_NO_AUTOMOUNT_ | 0x6000 /* AT_STATX_SYNC_TYPE */))
        return -EINVAL;
    std::string name;
    if (long e = getname(c, upath, name, flags & AT_EMPTY_PATH_)) return e;
    if (name.empty()) {
        if (dfd == AT_FDCWD_) return c.task.fs->pwd.dentry->d_inode->i_op->getattr(*c.task.fs->pwd.dentry, c.task, st);
        auto f = c.task.files->get(dfd);
        if (!f) return -EBADF;
        return f->getattr(st);
    }
    struct path p;
    if (long e = filename_lookup(c, dfd, name, (flags & AT_SYMLINK_NOFOLLOW_) ? 0 : LOOKUP_FOLLOW, p)) return e;
    inode& ino = *p.dentry->d_inode;
    if (std::shared_ptr<file> f =
            S_ISLNK(ino.i_mode) && !(flags & AT_SYMLINK_NOFOLLOW_) ? ino.i_op->magic_link(*p.dentry, c.task) : nullptr)
        return f->getattr(st);
    return ino.i_op->getattr(*p.dentry, c.task, st);
}

long do_stat(SysCtx& c, int dfd, uint64_t upath, unsigned flags, VirtAddr buf) {
    struct stat st;
    if (long e = vfs_statx(c, dfd, upath, flags, st)) return e;
    return put_stat(c, buf, st);
}

long do_fstat(SysCtx& c, uint64_t fd, VirtAddr buf) {
    auto f = c.task.files->get(static_cast<uint32_t>(fd));
    if (!f) return -EBADF;
    struct stat st;
    if (long e = f->getattr(st)) return e;
    return put_stat(c, buf, st);
}

long do_readlinkat(SysCtx& c, int dfd, uint64_t upath, uint64_t buf, uint64_t size) {
    if (static_cast<int64_t>(size) <= 0 || (c.compat && static_cast<int32_t>(size) <= 0)) return -EINVAL;
    struct path p;
    if (long e = user_path_at(c, dfd, upath, LOOKUP_EMPTY, p)) return e;
    inode& ino = *p.dentry->d_inode;
    if (!S_ISLNK(ino.i_mode)) {  // an empty path (dfd itself) that is no link: ENOENT
        char first = 0;
        return copy_from_user(c.mm, &first, VirtAddr(upath), 1) && first == '\0' ? -ENOENT : -EINVAL;
    }
    std::string target;
    if (long e = ino.i_op->get_link(*p.dentry, c.task, target)) return e;
    const uint64_t n = std::min<uint64_t>(size, target.size());
    return copy_to_user(c.mm, VirtAddr(buf), target.data(), n) ? static_cast<long>(n) : -EFAULT;
}

// struct statfs / statfs64 in the guest's layout (do_statfs_native / put_compat_statfs64).
long put_statfs(SysCtx& c, VirtAddr dst, const kstatfs& k, bool is64, uint64_t size) {
    if (!c.compat) {
        uint64_t s[15] = {k.f_type,    k.f_bsize,  k.f_blocks, k.f_bfree, k.f_bavail, k.f_files, k.f_ffree, k.f_fsid,
                          k.f_namelen, k.f_frsize, k.f_flags,  0,         0,          0,         0};
        return copy_to_user(c.mm, dst, s, sizeof s) ? 0 : -EFAULT;
    }
    if (!is64) {  // struct compat_statfs: 32-bit counts (EOVERFLOW past them)
        if ((k.f_blocks | k.f_bfree | k.f_bavail) >> 32) return -EOVERFLOW;
        uint32_t s[16] = {static_cast<uint32_t>(k.f_type),
                          static_cast<uint32_t>(k.f_bsize),
                          static_cast<uint32_t>(k.f_blocks),
                          static_cast<uint32_t>(k.f_bfree),
                          static_cast<uint32_t>(k.f_bavail),
                          static_cast<uint32_t>(k.f_files),
                          static_cast<uint32_t>(k.f_ffree),
                          static_cast<uint32_t>(k.f_fsid),
                          static_cast<uint32_t>(k.f_fsid >> 32),
                          static_cast<uint32_t>(k.f_namelen),
                          static_cast<uint32_t>(k.f_frsize),
                          static_cast<uint32_t>(k.f_flags),
                          0,
                          0,
                          0,
                          0};
        return copy_to_user(c.mm, dst, s, 64) ? 0 : -EFAULT;
    }
    if (size != 84 && size != 88) return -EINVAL;  // struct statfs64 (packed on i386: 84)
    struct __attribute__((packed)) {
        uint32_t f_type, f_bsize;
        uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
        uint32_t f_fsid[2], f_namelen, f_frsize, f_flags, f_spare[4];
    } s{};
    s.f_type = static_cast<uint32_t>(k.f_type);
    s.f_bsize = static_cast<uint32_t>(k.f_bsize);
    s.f_blocks = k.f_blocks;
    s.f_bfree = k.f_bfree;
    s.f_bavail = k.f_bavail;
    s.f_files = k.f_files;
    s.f_ffree = k.f_ffree;
    s.f_fsid[0] = static_cast<uint32_t>(k.f_fsid);
    s.f_fsid[1] = static_cast<uint32_t>(k.f_fsid >> 32);
    s.f_namelen = static_cast<uint32_t>(k.f_namelen);
    s.f_frsize = static_cast<uint32_t>(k.f_frsize);
    s.f_flags = static_cast<uint32_t>(k.f_flags);
    return copy_to_user(c.mm, dst, &s, std::min<uint64_t>(size, sizeof s)) ? 0 : -EFAULT;
}

// vfs_statfs: the filesystem's counts and the mount's flags.
long vfs_statfs(const struct path& p, kstatfs& k) {
    k = {};
    if (long e = p.dentry->d_sb->statfs(k)) return e;
    if (mnt_is_readonly(*p.mnt)) k.f_flags |= ST_RDONLY;
    k.f_fsid = p.dentry->d_sb->s_dev;
    return 0;
}

long do_statfs(SysCtx& c, uint64_t upath, VirtAddr buf, bool is64, uint64_t size) {
    struct path p;
    if (long e = user_path_at(c, AT_FDCWD_, upath, LOOKUP_FOLLOW, p)) return e;
    kstatfs k;
    if (long e = vfs_statfs(p, k)) return e;
    return put_statfs(c, buf, k, is64, size);
}

long do_fstatfs(SysCtx& c, uint64_t fd, VirtAddr buf, bool is64, uint64_t size) {
    auto f = c.task.files->get(static_cast<uint32_t>(fd));
    if (!f) return -EBADF;
    kstatfs k;
    if (!f->f_path) {           // a pipe or an anonymous file: its pseudo filesystem
        k.f_type = 0x50495045;  // PIPEFS_MAGIC
    } else if (long e = vfs_statfs(f->f_path, k)) {
        return e;
    }
    return put_statfs(c, buf, k, is64, size);
}

}  // namespace

long sys_stat(SysCtx& c, const uint64_t* a) { return do_stat(c, AT_FDCWD_, a[0], 0, VirtAddr(a[1])); }
long sys_lstat(SysCtx& c, const uint64_t* a) {
    return do_stat(c, AT_FDCWD_, a[0], AT_SYMLINK_NOFOLLOW_, VirtAddr(a[1]));
}
long sys_stat64(SysCtx& c, const uint64_t* a) { return sys_stat(c, a); }
long sys_lstat64(SysCtx& c, const uint64_t* a) { return sys_lstat(c, a); }
long sys_fstat(SysCtx& c, const uint64_t* a) { return do_fstat(c, a[0], VirtAddr(a[1])); }
long sys_fstat64(SysCtx& c, const uint64_t* a) { return sys_fstat(c, a); }
long sys_newfstatat(SysCtx& c, const uint64_t* a) {
    return do_stat(c, dfd_arg(a[0]), a[1], static_cast<unsigned>(a[3]), VirtAddr(a[2]));
}
long sys_fstatat64(SysCtx& c, const uint64_t* a) { return sys_newfstatat(c, a); }

long sys_statx(SysCtx& c, const uint64_t* a) {
    constexpr unsigned AT_STATX_SYNC_TYPE_ = 0x6000, STATX__RESERVED_ = 0x80000000u;
    const unsigned flags = static_cast<unsigned>(a[2]), mask = static_cast<unsigned>(a[3]);
    // do_statx: a reserved mask bit, or both FORCE_SYNC and DONT_SYNC, is EINVAL.
    if (mask & STATX__RESERVED_) return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE_) == AT_STATX_SYNC_TYPE_) return -EINVAL;
    struct stat st;
    if (long e = vfs_statx(c, dfd_arg(a[0]), a[1], flags & ~AT_STATX_SYNC_TYPE_, st)) return e;
    struct statx x = to_statx(st);
    return copy_to_user(c.mm, VirtAddr(a[4]), &x, sizeof x) ? 0 : -EFAULT;
}

long sys_readlink(SysCtx& c, const uint64_t* a) { return do_readlinkat(c, AT_FDCWD_, a[0], a[1], a[2]); }
long sys_readlinkat(SysCtx& c, const uint64_t* a) { return do_readlinkat(c, dfd_arg(a[0]), a[1], a[2], a[3]); }

long sys_statfs(SysCtx& c, const uint64_t* a) { return do_statfs(c, a[0], VirtAddr(a[1]), false, 0); }
long sys_fstatfs(SysCtx& c, const uint64_t* a) { return do_fstatfs(c, a[0], VirtAddr(a[1]), false, 0); }
long sys_statfs64(SysCtx& c, const uint64_t* a) { return do_statfs(c, a[0], VirtAddr(a[2]), true, a[1]); }
long sys_fstatfs64(SysCtx& c, const uint64_t* a) { return do_fstatfs(c, a[0], VirtAddr(a[2]), true, a[1]); }

}  // namespace guestos
