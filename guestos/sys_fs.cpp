// File syscalls over the fd table. Until the VFS exists the only files are the console
// (host fds 0-2 passed through) and /proc/self/exe for readlink.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "guestos/syscalls.h"

namespace guestos {

namespace {

constexpr long AT_FDCWD_ = -100;
constexpr uint64_t MAX_RW_COUNT = 0x7ffff000;  // Linux caps one read/write at this
constexpr uint64_t IO_CHUNK = 1 << 20;

long host_errno() { return -static_cast<long>(errno); }

// The host fd behind a guest fd, or -EBADF.
long host_fd(SysCtx& c, uint64_t fd) {
    auto f = c.task.files.get(static_cast<long>(fd));
    return f ? f->host_fd : -EBADF;
}

// Writes user bytes to a host fd chunk by chunk; EFAULT only when nothing was written.
long write_from_user(SysCtx& c, int hfd, VirtAddr buf, uint64_t count, long long pos) {
    count = std::min(count, MAX_RW_COUNT);
    std::vector<uint8_t> tmp(std::min(count, IO_CHUNK));
    uint64_t done = 0;
    while (done < count) {
        uint64_t n = std::min<uint64_t>(count - done, tmp.size());
        if (!copy_from_user(c.mm, tmp.data(), buf + done, n)) return done ? static_cast<long>(done) : -EFAULT;
        ssize_t w = pos < 0 ? ::write(hfd, tmp.data(), n) : ::pwrite(hfd, tmp.data(), n, pos + done);
        if (w < 0) return done ? static_cast<long>(done) : host_errno();
        done += static_cast<uint64_t>(w);
        if (static_cast<uint64_t>(w) < n) break;
    }
    return static_cast<long>(done);
}

// One host read into user memory (a read returns what one read gives, like Linux).
long read_to_user(SysCtx& c, int hfd, VirtAddr buf, uint64_t count, long long pos) {
    count = std::min(count, MAX_RW_COUNT);
    std::vector<uint8_t> tmp(std::min(count, IO_CHUNK));
    ssize_t r = pos < 0 ? ::read(hfd, tmp.data(), tmp.size()) : ::pread(hfd, tmp.data(), tmp.size(), pos);
    if (r < 0) return host_errno();
    if (!copy_to_user(c.mm, buf, tmp.data(), static_cast<uint64_t>(r))) return -EFAULT;
    return r;
}

// Reads an iovec array (struct iovec / compat_iovec) from user memory.
long read_iovec(SysCtx& c, VirtAddr iov, uint64_t cnt, std::vector<std::pair<uint64_t, uint64_t>>& out) {
    if (cnt > 1024) return -EINVAL;
    const uint64_t ps = c.ptr_size();
    std::vector<uint8_t> raw(cnt * 2 * ps);
    if (cnt && !copy_from_user(c.mm, raw.data(), iov, raw.size())) return -EFAULT;
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt; ++i) {
        uint64_t base = 0, len = 0;
        std::memcpy(&base, &raw[i * 2 * ps], ps);
        std::memcpy(&len, &raw[i * 2 * ps + ps], ps);
        if (static_cast<int64_t>(len) < 0 || (c.compat && static_cast<int32_t>(len) < 0)) return -EINVAL;
        total += len;
        out.emplace_back(base, len);
    }
    return static_cast<long>(total);
}

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

// Copies a host struct stat out in the guest's layout (cp_new_stat / cp_new_stat64).
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

// fstat of a guest fd.
long do_fstat(SysCtx& c, uint64_t fd, VirtAddr buf) {
    long h = host_fd(c, fd);
    if (h < 0) return h;
    struct stat st;
    if (fstat(static_cast<int>(h), &st) < 0) return host_errno();
    return put_stat(c, buf, st);
}

// A path lookup; no filesystem is mounted yet, so every path is absent (ENOENT),
// after the path itself is checked (EFAULT, ENAMETOOLONG) as Linux's getname does.
long lookup_path(SysCtx& c, uint64_t upath) {
    auto path = strncpy_from_user(c.mm, VirtAddr(upath), 4096);
    if (!path) return -EFAULT;
    if (path->empty()) return -ENOENT;
    return -ENOENT;
}

// *at() with AT_EMPTY_PATH and an empty path means the fd itself.
bool is_empty_path(SysCtx& c, uint64_t upath, uint64_t flags) {
    constexpr uint64_t AT_EMPTY_PATH_ = 0x1000;
    if (!(flags & AT_EMPTY_PATH_)) return false;
    auto p = strncpy_from_user(c.mm, VirtAddr(upath), 4096);
    return p && p->empty();
}

// readlink of the one link that exists: /proc/self/exe (and /proc/<pid>/exe).
long do_readlink(SysCtx& c, uint64_t upath, uint64_t buf, uint64_t size) {
    auto path = strncpy_from_user(c.mm, VirtAddr(upath), 4096);
    if (!path) return -EFAULT;
    if (static_cast<int64_t>(size) <= 0 || (c.compat && static_cast<int32_t>(size) <= 0)) return -EINVAL;
    const std::string self = "/proc/" + std::to_string(c.task.tgid) + "/exe";
    if (*path != "/proc/self/exe" && *path != self && *path != "/proc/thread-self/exe") return -ENOENT;
    uint64_t n = std::min<uint64_t>(size, c.task.exe_path.size());
    return copy_to_user(c.mm, VirtAddr(buf), c.task.exe_path.data(), n) ? static_cast<long>(n) : -EFAULT;
}

// Puts an open file at the lowest free fd >= min (alloc_fd).
long install_fd(SysCtx& c, std::shared_ptr<open_file> f, uint64_t min, bool cloexec) {
    auto& t = c.task.files;
    const uint64_t nofile = c.task.rlim[7].rlim_cur;  // RLIMIT_NOFILE
    for (uint64_t i = min; i < nofile; ++i) {
        if (i >= t.fd.size()) {
            t.fd.resize(i + 1);
            t.cloexec.resize(i + 1);
        }
        if (!t.fd[i]) {
            t.fd[i] = std::move(f);
            t.cloexec[i] = cloexec;
            return static_cast<long>(i);
        }
    }
    return -EMFILE;
}

// dup2/dup3's core: newfd now refers to oldfd's file.
long do_dup3(SysCtx& c, uint64_t oldfd, uint64_t newfd, bool cloexec) {
    auto f = c.task.files.get(static_cast<long>(oldfd));
    if (!f) return -EBADF;
    if (newfd >= c.task.rlim[7].rlim_cur || static_cast<int64_t>(newfd) < 0) return -EBADF;
    auto& t = c.task.files;
    if (newfd >= t.fd.size()) {
        t.fd.resize(newfd + 1);
        t.cloexec.resize(newfd + 1);
    }
    t.fd[newfd] = f;
    t.cloexec[newfd] = cloexec;
    return static_cast<long>(newfd);
}

}  // namespace

void init_console_files(task_struct& task) {
    task.files.fd.clear();
    task.files.cloexec.clear();
    for (int i = 0; i < 3; ++i) {
        auto f = std::make_shared<open_file>();
        f->host_fd = i;
        task.files.fd.push_back(f);
        task.files.cloexec.push_back(false);
    }
}

long sys_read(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    return h < 0 ? h : read_to_user(c, static_cast<int>(h), VirtAddr(a[1]), a[2], -1);
}

long sys_write(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    return h < 0 ? h : write_from_user(c, static_cast<int>(h), VirtAddr(a[1]), a[2], -1);
}

long sys_pread64(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    long long pos = c.compat ? static_cast<long long>(a[3] | (a[4] << 32)) : static_cast<long long>(a[3]);
    if (h < 0) return h;
    return pos < 0 ? -EINVAL : read_to_user(c, static_cast<int>(h), VirtAddr(a[1]), a[2], pos);
}

long sys_pwrite64(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    long long pos = c.compat ? static_cast<long long>(a[3] | (a[4] << 32)) : static_cast<long long>(a[3]);
    if (h < 0) return h;
    return pos < 0 ? -EINVAL : write_from_user(c, static_cast<int>(h), VirtAddr(a[1]), a[2], pos);
}

long sys_writev(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    if (h < 0) return h;
    std::vector<std::pair<uint64_t, uint64_t>> iov;
    long total = read_iovec(c, VirtAddr(a[1]), a[2], iov);
    if (total < 0) return total;
    // Gather into one buffer so the write is one host write, as atomic as Linux's.
    std::vector<uint8_t> buf;
    buf.reserve(std::min<uint64_t>(static_cast<uint64_t>(total), 1 << 24));
    for (auto [base, len] : iov) {
        size_t at = buf.size();
        buf.resize(at + len);
        if (len && !copy_from_user(c.mm, buf.data() + at, VirtAddr(base), len)) {
            buf.resize(at);
            if (buf.empty()) return -EFAULT;
            break;
        }
    }
    ssize_t w = ::write(static_cast<int>(h), buf.data(), buf.size());
    return w < 0 ? host_errno() : w;
}

long sys_readv(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    if (h < 0) return h;
    std::vector<std::pair<uint64_t, uint64_t>> iov;
    long total = read_iovec(c, VirtAddr(a[1]), a[2], iov);
    if (total < 0) return total;
    std::vector<uint8_t> buf(std::min<uint64_t>(static_cast<uint64_t>(total), MAX_RW_COUNT));
    ssize_t r = ::read(static_cast<int>(h), buf.data(), buf.size());
    if (r < 0) return host_errno();
    uint64_t off = 0;
    for (auto [base, len] : iov) {
        uint64_t n = std::min<uint64_t>(len, static_cast<uint64_t>(r) - off);
        if (n && !copy_to_user(c.mm, VirtAddr(base), buf.data() + off, n)) return -EFAULT;
        off += n;
    }
    return r;
}

long sys_open(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[0]); }
long sys_openat(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[1]); }

long sys_close(SysCtx& c, const uint64_t* a) {
    auto& t = c.task.files;
    if (!t.get(static_cast<long>(a[0]))) return -EBADF;
    t.fd[a[0]].reset();
    return 0;
}

long sys_fstat(SysCtx& c, const uint64_t* a) { return do_fstat(c, a[0], VirtAddr(a[1])); }
long sys_fstat64(SysCtx& c, const uint64_t* a) { return do_fstat(c, a[0], VirtAddr(a[1])); }
long sys_stat(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[0]); }
long sys_lstat(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[0]); }
long sys_stat64(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[0]); }
long sys_lstat64(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[0]); }

long sys_newfstatat(SysCtx& c, const uint64_t* a) {
    if (is_empty_path(c, a[1], a[3])) return do_fstat(c, a[0], VirtAddr(a[2]));
    return lookup_path(c, a[1]);
}
long sys_fstatat64(SysCtx& c, const uint64_t* a) { return sys_newfstatat(c, a); }

long sys_statx(SysCtx& c, const uint64_t* a) {
    if (!is_empty_path(c, a[1], a[2])) return lookup_path(c, a[1]);
    long h = host_fd(c, a[0]);
    if (h < 0) return h;
    struct statx stx;
    if (::statx(static_cast<int>(h), "", AT_EMPTY_PATH, static_cast<unsigned>(a[3]), &stx) < 0) return host_errno();
    return copy_to_user(c.mm, VirtAddr(a[4]), &stx, sizeof stx) ? 0 : -EFAULT;
}

long sys_lseek(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    if (h < 0) return h;
    off_t off = c.compat ? static_cast<int32_t>(a[1]) : static_cast<off_t>(a[1]);
    off_t r = ::lseek(static_cast<int>(h), off, static_cast<int>(a[2]));
    return r < 0 ? host_errno() : static_cast<long>(r);
}

long sys_llseek(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    if (h < 0) return h;
    off_t off = static_cast<off_t>((a[1] << 32) | (a[2] & 0xffffffffu));
    off_t r = ::lseek(static_cast<int>(h), off, static_cast<int>(a[4]));
    if (r < 0) return host_errno();
    int64_t res = r;
    return copy_to_user(c.mm, VirtAddr(a[3]), &res, sizeof res) ? 0 : -EFAULT;
}

long sys_ioctl(SysCtx& c, const uint64_t* a) {
    long h = host_fd(c, a[0]);
    if (h < 0) return h;
    // Terminal ioctls are passed to the console with their fixed argument sizes.
    struct Known { unsigned long cmd; size_t in, out; };
    static const Known known[] = {
        {0x5401, 0, 36}, {0x5402, 36, 0}, {0x5403, 36, 0}, {0x5404, 36, 0},  // TCGETS, TCSETS*
        {0x5413, 0, 8},  {0x5414, 8, 0},                                     // TIOCGWINSZ/SWINSZ
        {0x540F, 0, 4},  {0x541B, 0, 4},                                     // TIOCGPGRP, FIONREAD
    };
    for (const auto& k : known) {
        if (k.cmd != (a[1] & 0xffffffffu)) continue;
        uint8_t buf[64] = {};
        if (k.in && !copy_from_user(c.mm, buf, VirtAddr(a[2]), k.in)) return -EFAULT;
        if (::ioctl(static_cast<int>(h), k.cmd, buf) < 0) return host_errno();
        if (k.out && !copy_to_user(c.mm, VirtAddr(a[2]), buf, k.out)) return -EFAULT;
        return 0;
    }
    return isatty(static_cast<int>(h)) ? -EINVAL : -ENOTTY;
}

long sys_readlink(SysCtx& c, const uint64_t* a) { return do_readlink(c, a[0], a[1], a[2]); }
long sys_readlinkat(SysCtx& c, const uint64_t* a) { return do_readlink(c, a[1], a[2], a[3]); }
long sys_access(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[0]); }
long sys_faccessat(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[1]); }
long sys_faccessat2(SysCtx& c, const uint64_t* a) { return lookup_path(c, a[1]); }

long sys_getcwd(SysCtx& c, const uint64_t* a) {
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return host_errno();
    uint64_t n = std::strlen(cwd) + 1;
    if (a[1] < n) return -ERANGE;
    return copy_to_user(c.mm, VirtAddr(a[0]), cwd, n) ? static_cast<long>(n) : -EFAULT;
}

long sys_fcntl(SysCtx& c, const uint64_t* a) {
    auto f = c.task.files.get(static_cast<long>(a[0]));
    if (!f) return -EBADF;
    switch (a[1]) {
    case F_DUPFD: return install_fd(c, f, a[2], false);
    case F_DUPFD_CLOEXEC: return install_fd(c, f, a[2], true);
    case F_GETFD: return c.task.files.cloexec[a[0]] ? FD_CLOEXEC : 0;
    case F_SETFD: c.task.files.cloexec[a[0]] = a[2] & FD_CLOEXEC; return 0;
    case F_GETFL: {
        int r = ::fcntl(f->host_fd, F_GETFL);
        return r < 0 ? host_errno() : r;
    }
    case F_SETFL: return ::fcntl(f->host_fd, F_SETFL, static_cast<int>(a[2])) < 0 ? host_errno() : 0;
    default: return -EINVAL;
    }
}
long sys_fcntl64(SysCtx& c, const uint64_t* a) { return sys_fcntl(c, a); }

long sys_dup(SysCtx& c, const uint64_t* a) {
    auto f = c.task.files.get(static_cast<long>(a[0]));
    return f ? install_fd(c, f, 0, false) : -EBADF;
}
long sys_dup2(SysCtx& c, const uint64_t* a) {
    if (a[0] == a[1]) return c.task.files.get(static_cast<long>(a[0])) ? static_cast<long>(a[1]) : -EBADF;
    return do_dup3(c, a[0], a[1], false);
}
long sys_dup3(SysCtx& c, const uint64_t* a) {
    if (a[0] == a[1]) return -EINVAL;
    if (a[2] & ~static_cast<uint64_t>(O_CLOEXEC)) return -EINVAL;
    return do_dup3(c, a[0], a[1], a[2] & O_CLOEXEC);
}

long sys_umask(SysCtx& c, const uint64_t* a) {
    unsigned old = c.task.umask;
    c.task.umask = a[0] & 0777;
    return old;
}

}  // namespace guestos
