// File syscalls over the fd table. Until a filesystem is mounted the files are the console
// (host fds 0-2 passed through) and /proc.
#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "guestos/include/uapi/fcntl.h"
#include "guestos/drivers/base/devtmpfs.h"
#include "guestos/fs/ext2/ext2_mount.h"
#include "guestos/fs/pipe.h"
#include "guestos/fs/proc/base.h"
#include "guestos/mm/shmem.h"
#include "guestos/include/syscalls.h"
#include "guestos/drivers/tty/tty.h"

namespace guestos {

namespace {

constexpr uint64_t MAX_RW_COUNT = 0x7ffff000;  // Linux caps one read/write at this
constexpr uint64_t IO_CHUNK = 1 << 20;
constexpr uint64_t PATH_MAX_ = 4096;

// The open file behind a guest fd (fdget), or null; fds are unsigned int in syscalls, so
// only the register's low 32 bits count.
std::shared_ptr<file> fdget(SysCtx& c, uint64_t fd) {
    return c.task.files->get(static_cast<long>(static_cast<uint32_t>(fd)));
}

bool readable(const file& f) { return (f.f_flags & O_ACCMODE) != O_WRONLY; }
bool writable(const file& f) { return (f.f_flags & O_ACCMODE) != O_RDONLY; }

// The user buffers of one read or write (an iov_iter over user iovecs): segments of
// (address, length), their lengths already capped so the total is at most MAX_RW_COUNT.
using user_iovec = std::vector<std::pair<uint64_t, uint64_t>>;

// A regular file's data is all there, so a read may go on past one chunk; a pipe, tty or
// /proc file gives what one read gives (a second read could block or split a record).
bool reads_in_chunks(const file& f) { return f.f_inode && S_ISREG(f.f_inode->i_mode); }

// Writes the user bytes to a file through a bounded host buffer, chunk by chunk (gathering
// across segments, so a small writev is one write, as atomic as Linux's): bytes written,
// or the error when nothing was (EFAULT for an unreadable buffer).
long write_from_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos) {
    if (!writable(f)) return -EBADF;
    uint64_t count = 0;
    for (auto [base, len] : iov) count += len;
    std::vector<uint8_t> tmp(std::min(count, IO_CHUNK));
    size_t seg = 0;
    uint64_t seg_off = 0, done = 0;
    bool fault = false;
    while (done < count && !fault) {
        uint64_t n = 0;  // gather up to one chunk
        while (n < tmp.size() && seg < iov.size()) {
            // Up to the next page boundary of the source, so a fault keeps what came before it.
            const VirtAddr src(iov[seg].first + seg_off);
            const uint64_t k = std::min({iov[seg].second - seg_off, tmp.size() - n, PAGE_SIZE - src.page_offset()});
            if (k && !copy_from_user(c.mm, tmp.data() + n, src, k)) {
                fault = true;
                break;
            }
            n += k;
            seg_off += k;
            if (seg_off == iov[seg].second) ++seg, seg_off = 0;
        }
        if (!n) break;
        kiocb iocb{c.task, pos};
        long w = f.write_iter(iocb, tmp.data(), n);
        if (w < 0) return done ? static_cast<long>(done) : w;
        done += static_cast<uint64_t>(w);
        if (static_cast<uint64_t>(w) < n) break;
    }
    return done ? static_cast<long>(done) : (fault ? -EFAULT : 0);
}

// Reads the file into the user buffers through a bounded host buffer: one read, or for a
// regular file reads of a chunk each until the buffers are full or the file ends.
long read_to_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos) {
    if (!readable(f)) return -EBADF;
    uint64_t count = 0;
    for (auto [base, len] : iov) count += len;
    std::vector<uint8_t> tmp(std::min(count, IO_CHUNK));
    size_t seg = 0;
    uint64_t seg_off = 0, done = 0;
    do {
        const uint64_t want = std::min<uint64_t>(count - done, tmp.size());
        // (A pipe gives up the bytes it read even when the copy out faults; Linux keeps them.)
        kiocb iocb{c.task, pos};
        long r = f.read_iter(iocb, tmp.data(), want);
        if (r < 0) return done ? static_cast<long>(done) : r;
        for (uint64_t n = 0; n < static_cast<uint64_t>(r);) {  // scatter
            const uint64_t k = std::min(iov[seg].second - seg_off, static_cast<uint64_t>(r) - n);
            if (k && !copy_to_user(c.mm, VirtAddr(iov[seg].first + seg_off), tmp.data() + n, k))
                return done + n ? static_cast<long>(done + n) : -EFAULT;
            n += k;
            seg_off += k;
            if (seg_off == iov[seg].second) ++seg, seg_off = 0;
        }
        done += static_cast<uint64_t>(r);
        if (static_cast<uint64_t>(r) < want) break;
    } while (done < count && reads_in_chunks(f));
    return static_cast<long>(done);
}

// One user buffer as an iovec, its length capped at MAX_RW_COUNT (rw_verify_area).
user_iovec single_iovec(uint64_t buf, uint64_t count) { return {{buf, std::min(count, MAX_RW_COUNT)}}; }

// Reads an iovec array (struct iovec / compat_iovec) from user memory.
// Reads a user iovec array as import_iovec does: at most UIO_MAXIOV entries, no negative
// length, every buffer within access_ok (EFAULT), lengths cut so the total stays within
// MAX_RW_COUNT. Returns the total or a negative errno.
long import_iovec(SysCtx& c, VirtAddr uiov, uint64_t cnt, user_iovec& out) {
    constexpr uint64_t UIO_MAXIOV = 1024;
    if (cnt > UIO_MAXIOV) return -EINVAL;
    const uint64_t ps = c.ptr_size();
    std::vector<uint8_t> raw(cnt * 2 * ps);
    if (cnt && !copy_from_user(c.mm, raw.data(), uiov, raw.size())) return -EFAULT;
    uint64_t total = 0;
    for (uint64_t i = 0; i < cnt; ++i) {
        uint64_t base = 0, len = 0;
        std::memcpy(&base, &raw[i * 2 * ps], ps);
        std::memcpy(&len, &raw[i * 2 * ps + ps], ps);
        if (static_cast<int64_t>(len) < 0 || (c.compat && static_cast<int32_t>(len) < 0)) return -EINVAL;
        if (!access_ok(base, len)) return -EFAULT;
        len = std::min(len, MAX_RW_COUNT - total);
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

// Reads a user path as getname does: EFAULT, ENOENT for "", ENAMETOOLONG.
long getname(SysCtx& c, uint64_t upath, std::string& out) {
    const long n = strncpy_from_user(c.mm, VirtAddr(upath), PATH_MAX_, out);
    if (n < 0) return n;
    return static_cast<uint64_t>(n) == PATH_MAX_ ? -ENAMETOOLONG : 0;
}

// A tmpfs directory opened as a file: stat and getdents work, read and write do not.
class tmpfs_dir_file final : public file {
public:
    tmpfs_dir_file(const Tmpfs& fs, const timespec& mounted) : fs_(fs), dev_(fs.dev()), mounted_(mounted) {}
    long read(uint8_t*, uint64_t, int64_t*) override { return -EISDIR; }
    long llseek(int64_t offset, int whence) override {
        if (whence != SEEK_SET || offset < 0) return -EINVAL;
        return f_pos = offset;
    }
    // ".", "..", then the files: position i is the i-th entry (dcache_readdir's cursor).
    long iterate_shared(const filldir_t& emit) override {
        int64_t i = 0;
        auto take = [&](uint64_t ino, unsigned char type, const std::string& name) {
            if (i++ < f_pos) return true;
            if (!emit({ino, i, type, name})) return false;
            f_pos = i;
            return true;
        };
        if (!take(1, DT_DIR, ".") || !take(1, DT_DIR, "..")) return 0;
        for (const auto& [name, ino] : fs_.entries())
            if (!take(ino->i_ino, DT_REG, name)) break;
        return 0;
    }
    long getattr(struct stat& st) override {
        st = {};
        st.st_dev = dev_;
        st.st_ino = 1;
        st.st_mode = S_IFDIR | 01777;
        st.st_nlink = 2;
        st.st_blksize = 4096;
        st.st_atim = st.st_mtim = st.st_ctim = mounted_;
        return 0;
    }

private:
    const Tmpfs& fs_;
    uint64_t dev_;
    timespec mounted_;
};

// Opens (and with O_CREAT creates) a file of a tmpfs (shmem_lookup / shmem_create).
long tmpfs_open(SysCtx& c, Tmpfs& fs, const std::string& name, unsigned flags, unsigned mode,
                std::shared_ptr<file>& out) {
    const unsigned acc = flags & O_ACCMODE;
    if (name.empty()) {  // the mount point itself
        if (acc != O_RDONLY || (flags & O_CREAT)) return -EISDIR;
        out = std::make_shared<tmpfs_dir_file>(fs, c.kernel.mount_time());
        out->f_flags = flags;
        return 0;
    }
    if (name.find('/') != std::string::npos) return -ENOENT;  // a flat directory: no subdirectories yet
    if (name.size() > 255) return -ENAMETOOLONG;
    std::shared_ptr<inode> ino = fs.lookup(name);
    if (!ino) {
        if (!(flags & O_CREAT)) return -ENOENT;
        ino = fs.create(c.kernel.kmem(), name, mode & ~c.task.fs->umask);
    } else if ((flags & O_CREAT) && (flags & O_EXCL)) {
        return -EEXIST;
    }
    if (flags & O_DIRECTORY) return -ENOTDIR;
    if ((flags & O_TRUNC) && acc != O_RDONLY && ino->i_size) {
        truncate_setsize(*ino, 0);
        inode_touch(*ino, false, true);
    }
    auto f = std::make_shared<inode_file>(ino);
    f->f_flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
    out = std::move(f);
    return 0;
}

// The path with "//", "." and ".." folded, relative ones taken from the working directory
// (lexically: the mounts emu has hold no symbolic links to directories above them).
std::string absolute_path(const task_struct& t, const std::string& path) {
    if (path.empty() || (path[0] != '/' && t.fs->pwd.empty())) return path;
    const std::string full = path[0] == '/' ? path : t.fs->pwd + "/" + path;
    std::vector<std::string> parts;
    size_t i = 0;
    while (i < full.size()) {
        size_t j = full.find('/', i);
        if (j == std::string::npos) j = full.size();
        std::string part = full.substr(i, j - i);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(std::move(part));
        }
        i = j + 1;
    }
    std::string out;
    for (const auto& p : parts) out += "/" + p;
    if (out.empty()) return "/";
    return full.back() == '/' ? out + "/" : out;  // "file/" must still fail as Linux fails it
}

// The root directory without a disk (rootfs): the mount points of /dev, /proc and /tmp.
class rootfs_dir_file final : public file {
public:
    explicit rootfs_dir_file(const timespec& mounted) : mounted_(mounted) {}
    long read(uint8_t*, uint64_t, int64_t*) override { return -EISDIR; }
    long llseek(int64_t offset, int whence) override {
        if (whence != SEEK_SET || offset < 0) return -EINVAL;
        return f_pos = offset;
    }
    long iterate_shared(const filldir_t& emit) override {
        static const dir_entry entries[] = {{1, 1, DT_DIR, "."},   {1, 2, DT_DIR, ".."},  {2, 3, DT_DIR, "dev"},
                                            {3, 4, DT_DIR, "proc"}, {4, 5, DT_DIR, "tmp"}};
        for (; static_cast<size_t>(f_pos) < std::size(entries); ++f_pos)
            if (!emit(entries[f_pos])) break;
        return 0;
    }
    long getattr(struct stat& st) override {
        st = {};
        st.st_dev = makedev(0, 2);  // rootfs, the first anonymous device
        st.st_ino = 1;
        st.st_mode = S_IFDIR | 0755;
        st.st_nlink = 5;
        st.st_blksize = 4096;
        st.st_atim = st.st_mtim = st.st_ctim = mounted_;
        return 0;
    }

private:
    timespec mounted_;
};

long filp_open(SysCtx& c, const std::string& path, unsigned flags, std::shared_ptr<file>& out, unsigned mode = 0);

// Opens what /proc/PID/fd/N links to anew, with new flags, as following proc_fd_link does: a
// file by its path, emu's own stdin/stdout/stderr through the host's link (so O_TRUNC
// truncates a redirected output file); a pipe or anonymous file is shared.
long reopen(SysCtx& c, const std::shared_ptr<file>& f, unsigned flags, std::shared_ptr<file>& out) {
    if (!f->f_path.empty()) return filp_open(c, f->f_path, flags, out);
    if (const auto* con = dynamic_cast<const console_file*>(f.get())) {
        const std::string link = "/proc/self/fd/" + std::to_string(con->host_fd());
        const int fd = ::open(link.c_str(), static_cast<int>(flags & ~(O_CREAT | O_EXCL | O_DIRECTORY)) | O_CLOEXEC |
                                                O_NOCTTY);
        if (fd < 0) return -errno;
        out = std::make_shared<console_file>(fd, ConsoleOwnsFd::Yes);
        out->f_flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
        return 0;
    }
    out = f;
    return 0;
}

// Opens a path (do_filp_open): the tmpfs mounts (/tmp, /dev/shm), /proc, /dev, the disk or
// the bare root, and the executable itself (its path, and /proc/self/exe, which links to
// it), read-only. Links out of /dev (/dev/fd/N, /dev/stdin) are followed into /proc.
long filp_open(SysCtx& c, const std::string& path, unsigned flags, std::shared_ptr<file>& out, unsigned mode) {
    if (path.empty()) return -ENOENT;
    int err = 0;
    const bool exe_link = is_proc_path(path) && proc_readlink(c.task, path, err) == c.task.exe_path;
    if (c.task.exe_inode && (path == c.task.exe_path || exe_link)) {
        if ((flags & O_ACCMODE) != O_RDONLY) return -ETXTBSY;  // a running executable
        auto f = std::make_shared<inode_file>(c.task.exe_inode);
        f->f_flags = flags;
        out = std::move(f);
        return 0;
    }
    const std::string abs = absolute_path(c.task, path);
    if (auto f = is_proc_path(abs) ? proc_fd_file(c.task, abs) : nullptr) return reopen(c, f, flags, out);
    if (is_proc_path(abs)) return proc_open(c.task, abs, flags, out);
    // After the executable: a program run from under /tmp still finds itself there.
    std::string rest;
    if (Tmpfs* fs = c.kernel.tmpfs_for(abs, rest)) {
        long e = tmpfs_open(c, *fs, rest, flags, mode, out);
        if (!e) out->f_path = abs;
        return e;
    }
    if (Devtmpfs* dev = c.kernel.devtmpfs_for(abs, rest)) {
        if (auto target = dev->follow_link(rest); target && (rest.find('/') != std::string::npos || !(flags & O_NOFOLLOW)))
            return filp_open(c, *target, flags, out, mode);
        long e = dev->open(rest, flags, out);
        if (!e) out->f_path = abs;
        return e;
    }
    if (Ext2Mount* root = c.kernel.root_mount(); root && !abs.empty() && abs[0] == '/') {
        long e = root->open(abs, flags, out);
        if (!e) out->f_path = abs;
        return e;
    }
    if (abs == "/") {
        if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT)) return -EISDIR;
        out = std::make_shared<rootfs_dir_file>(c.kernel.mount_time());
        out->f_flags = flags;
        out->f_path = abs;
        return 0;
    }
    return (flags & O_CREAT) && abs.rfind('/') == 0 ? -EACCES : -ENOENT;  // rootfs is root's
}


// The disk mount that holds abs, an absolute path no other mount or the executable claims
// (the order filp_open tries them in), or null.
Ext2Mount* disk_for(SysCtx& c, const std::string& abs) {
    std::string rest;
    Ext2Mount* root = c.kernel.root_mount();
    if (!root || abs.empty() || abs[0] != '/' || abs == c.task.exe_path || is_proc_path(abs) ||
        c.kernel.tmpfs_for(abs, rest) || c.kernel.devtmpfs_for(abs, rest))
        return nullptr;
    return root;
}

// stat of a path: open it and ask the file (vfs_statx); lstat (follow false) of a path on
// the disk reports a symbolic link itself.
long stat_path(SysCtx& c, uint64_t upath, struct stat& st, bool follow = true) {
    std::string path;
    if (long e = getname(c, upath, path)) return e;
    const std::string abs = absolute_path(c.task, path);
    if (!follow) {  // a symbolic link reports itself
        std::string rest;
        if (Ext2Mount* disk = disk_for(c, abs)) return disk->stat(abs, false, st);
        if (Devtmpfs* dev = c.kernel.devtmpfs_for(abs, rest);
            dev && (rest.find('/') == std::string::npos || !dev->follow_link(rest)))
            return dev->lstat(rest, st);
        if (is_proc_path(abs) && abs != c.task.exe_path)
            if (long e = proc_lstat(c.task, abs, st); e <= 0) return e;
    }
    std::shared_ptr<file> f;
    if (long e = filp_open(c, path, O_RDONLY, f)) return e;
    return f->getattr(st);
}

// *at() with AT_EMPTY_PATH and an empty path means the fd itself.
bool is_empty_path(SysCtx& c, uint64_t upath, uint64_t flags) {
    if (!(flags & AT_EMPTY_PATH_)) return false;
    std::string p;
    return strncpy_from_user(c.mm, VirtAddr(upath), 1, p) == 0;
}

// A stat of an fd or a path into the guest's struct stat.
long do_stat(SysCtx& c, std::shared_ptr<file> f, uint64_t upath, VirtAddr buf, bool follow = true) {
    struct stat st;
    long e = f ? f->getattr(st) : stat_path(c, upath, st, follow);
    return e ? e : put_stat(c, buf, st);
}

long do_readlink(SysCtx& c, uint64_t upath, uint64_t buf, uint64_t size) {
    std::string path;
    if (long e = getname(c, upath, path)) return e;
    path = absolute_path(c.task, path);
    if (static_cast<int64_t>(size) <= 0 || (c.compat && static_cast<int32_t>(size) <= 0)) return -EINVAL;
    int err = ENOENT;
    auto target = is_proc_path(path) ? proc_readlink(c.task, path, err) : std::nullopt;
    std::string rest;
    if (Devtmpfs* dev = target ? nullptr : c.kernel.devtmpfs_for(path, rest)) target = dev->readlink(rest, err);
    std::string on_disk;
    if (Ext2Mount* disk = target ? nullptr : disk_for(c, path)) {
        if (long e = disk->readlink(path, on_disk)) return e;
        target = on_disk;
    }
    if (!target && err == ENOENT) {  // an existing file that is no link (a directory, a tmpfs file)
        std::shared_ptr<file> f;
        if (long e = filp_open(c, path, O_RDONLY | O_NOFOLLOW, f); e != -ENOENT) return e ? e : -EINVAL;
    }
    if (!target) return -err;
    uint64_t n = std::min<uint64_t>(size, target->size());
    return copy_to_user(c.mm, VirtAddr(buf), target->data(), n) ? static_cast<long>(n) : -EFAULT;
}

// Puts an open file at the lowest free fd >= min (alloc_fd).
long install_fd(SysCtx& c, std::shared_ptr<file> f, uint64_t min, bool cloexec) {
    auto& t = *c.task.files;
    const uint64_t nofile = c.task.signal->rlim[RLIMIT_NOFILE_].rlim_cur;
    for (uint64_t i = min; i < nofile; ++i) {
        if (i >= t.fd.size()) {
            t.fd.resize(i + 1);
            t.cloexec.resize(i + 1);
        }
        if (!t.fd[i]) {
            // alloc_empty_file: every file a task holds has its struct file in the filp cache.
            if (!f->slab.backed() && !f->slab.alloc(c.kernel.caches() ? c.kernel.caches()->filp_cachep : nullptr))
                return -ENOMEM;
            t.fd[i] = std::move(f);
            t.cloexec[i] = cloexec;
            return static_cast<long>(i);
        }
    }
    return -EMFILE;
}

// dup2/dup3's core: newfd now refers to oldfd's file.
long do_dup3(SysCtx& c, uint64_t oldfd, uint64_t newfd, bool cloexec) {
    newfd = static_cast<uint32_t>(newfd);  // unsigned int in the syscall
    auto f = fdget(c, oldfd);
    if (!f) return -EBADF;
    if (newfd >= c.task.signal->rlim[RLIMIT_NOFILE_].rlim_cur || static_cast<int64_t>(newfd) < 0) return -EBADF;
    auto& t = *c.task.files;
    if (newfd >= t.fd.size()) {
        t.fd.resize(newfd + 1);
        t.cloexec.resize(newfd + 1);
    }
    t.fd[newfd] = f;
    t.cloexec[newfd] = cloexec;
    return static_cast<long>(newfd);
}

long do_openat(SysCtx& c, uint64_t upath, uint64_t flags, uint64_t mode) {
    std::string path;
    if (long e = getname(c, upath, path)) return e;
    // force_o_largefile(): a 64-bit process always opens with O_LARGEFILE (F_GETFL shows it).
    if (!c.compat) flags |= O_LARGEFILE_;
    std::shared_ptr<file> f;
    if (long e = filp_open(c, path, static_cast<unsigned>(flags), f, static_cast<unsigned>(mode))) return e;
    return install_fd(c, std::move(f), 0, flags & O_CLOEXEC);
}

int64_t pos_arg(SysCtx& c, const uint64_t* a, int i) {
    return c.compat ? static_cast<int64_t>(a[i] | (a[i + 1] << 32)) : static_cast<int64_t>(a[i]);
}

}  // namespace

void init_console_files(task_struct& task) {
    task.files->fd.clear();
    task.files->cloexec.clear();
    for (int i = 0; i < 3; ++i) {
        auto f = std::make_shared<console_file>(i);
        f->f_flags = O_RDWR;  // the terminal emu was given; the host fd enforces the real mode
        task.files->fd.push_back(f);
        task.files->cloexec.push_back(false);
    }
}

long sys_read(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? read_to_user(c, *f, single_iovec(a[1], a[2]), &f->f_pos) : -EBADF;
}

long sys_write(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? write_from_user(c, *f, single_iovec(a[1], a[2]), &f->f_pos) : -EBADF;
}

long sys_pread64(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    int64_t pos = pos_arg(c, a, 3);
    if (!f) return -EBADF;
    if (pos < 0) return -EINVAL;
    return (f->f_mode & FMODE_PREAD) ? read_to_user(c, *f, single_iovec(a[1], a[2]), &pos) : -ESPIPE;
}

long sys_pwrite64(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    int64_t pos = pos_arg(c, a, 3);
    if (!f) return -EBADF;
    if (pos < 0) return -EINVAL;
    return (f->f_mode & FMODE_PWRITE) ? write_from_user(c, *f, single_iovec(a[1], a[2]), &pos) : -ESPIPE;
}

long sys_writev(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    if (!writable(*f)) return -EBADF;
    user_iovec iov;
    if (long e = import_iovec(c, VirtAddr(a[1]), a[2], iov); e < 0) return e;
    return write_from_user(c, *f, iov, &f->f_pos);
}

long sys_readv(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    if (!readable(*f)) return -EBADF;
    user_iovec iov;
    if (long e = import_iovec(c, VirtAddr(a[1]), a[2], iov); e < 0) return e;
    return read_to_user(c, *f, iov, &f->f_pos);
}

long sys_open(SysCtx& c, const uint64_t* a) { return do_openat(c, a[0], a[1], a[2]); }
long sys_openat(SysCtx& c, const uint64_t* a) { return do_openat(c, a[1], a[2], a[3]); }

// unlink and unlinkat (do_unlinkat / do_rmdir): only tmpfs files can go.
long do_unlinkat(SysCtx& c, uint64_t upath, bool rmdir) {
    std::string path;
    if (long e = getname(c, upath, path)) return e;
    path = absolute_path(c.task, path);
    std::string rest;
    if (Tmpfs* fs = c.kernel.tmpfs_for(path, rest)) {
        if (rest.empty()) return rmdir ? -EBUSY : -EISDIR;
        if (rest.find('/') != std::string::npos) return -ENOENT;
        if (rmdir) return fs->lookup(rest) ? -ENOTDIR : -ENOENT;
        return fs->unlink(rest);
    }
    if (is_proc_path(path)) return -EACCES;
    std::shared_ptr<file> f;
    long e = filp_open(c, path, O_RDONLY, f);
    return e ? e : -EACCES;  // the executable and the like: not ours to remove
}

long sys_unlink(SysCtx& c, const uint64_t* a) { return do_unlinkat(c, a[0], false); }
long sys_unlinkat(SysCtx& c, const uint64_t* a) {
    if (a[2] & ~AT_REMOVEDIR_) return -EINVAL;
    return do_unlinkat(c, a[1], a[2] & AT_REMOVEDIR_);
}

// ftruncate: the fd must be open for writing (do_sys_ftruncate).
long do_ftruncate(SysCtx& c, uint64_t fd, int64_t length) {
    if (length < 0) return -EINVAL;
    auto f = fdget(c, fd);
    if (!f) return -EBADF;
    if (!writable(*f)) return -EINVAL;
    return f->truncate(static_cast<uint64_t>(length));
}

long do_truncate_path(SysCtx& c, uint64_t upath, int64_t length) {
    std::string path;
    if (long e = getname(c, upath, path)) return e;
    if (length < 0) return -EINVAL;
    std::shared_ptr<file> f;
    if (long e = filp_open(c, path, O_RDONLY, f)) return e;
    struct stat st;
    if (f->getattr(st) == 0 && S_ISDIR(st.st_mode)) return -EISDIR;
    if (f->f_inode && f->f_inode == c.task.exe_inode) return -ETXTBSY;  // get_write_access: it runs
    // A /proc file: write permission needs root (DAC override), and procfs ignores a size.
    if (!f->can_mmap()) return geteuid() == 0 ? 0 : -EACCES;
    return f->truncate(static_cast<uint64_t>(length));
}

long sys_ftruncate(SysCtx& c, const uint64_t* a) {
    return do_ftruncate(c, a[0], c.compat ? static_cast<int32_t>(a[1]) : static_cast<int64_t>(a[1]));
}
long sys_truncate(SysCtx& c, const uint64_t* a) {
    return do_truncate_path(c, a[0], c.compat ? static_cast<int32_t>(a[1]) : static_cast<int64_t>(a[1]));
}
long sys_ftruncate64(SysCtx& c, const uint64_t* a) { return do_ftruncate(c, a[0], pos_arg(c, a, 1)); }
long sys_truncate64(SysCtx& c, const uint64_t* a) { return do_truncate_path(c, a[0], pos_arg(c, a, 1)); }

long sys_fsync(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? f->fsync() : -EBADF;
}
long sys_fdatasync(SysCtx& c, const uint64_t* a) { return sys_fsync(c, a); }

long sys_fallocate(SysCtx& c, const uint64_t* a) {
    constexpr uint64_t FALLOC_FL_SUPPORTED_MASK = 0x7f;  // KEEP_SIZE PUNCH_HOLE NO_HIDE_STALE COLLAPSE ZERO INSERT UNSHARE
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
    return shmem_fallocate(*f->f_inode, static_cast<int>(mode), static_cast<uint64_t>(offset), static_cast<uint64_t>(len));
}

long sys_memfd_create(SysCtx& c, const uint64_t* a) {
    constexpr uint64_t MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;
    constexpr uint64_t MFD_NAME_MAX_LEN = 249;  // NAME_MAX - strlen("memfd:")
    const uint64_t flags = a[1];
    if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)) return -EINVAL;
    if ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL)) return -EINVAL;
    if (flags & MFD_HUGETLB) return -EINVAL;  // no hugetlbfs
    std::string name;
    const long len = strncpy_from_user(c.mm, VirtAddr(a[0]), MFD_NAME_MAX_LEN + 1, name);
    if (len < 0) return len;
    if (static_cast<uint64_t>(len) > MFD_NAME_MAX_LEN) return -EINVAL;
    return install_fd(c, shmem_file_setup(c.kernel.kmem(), name), 0, flags & MFD_CLOEXEC);
}

long sys_close(SysCtx& c, const uint64_t* a) {
    if (!fdget(c, a[0])) return -EBADF;
    c.task.files->fd[static_cast<uint32_t>(a[0])].reset();
    return 0;
}

long sys_fstat(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? do_stat(c, f, 0, VirtAddr(a[1])) : -EBADF;
}
long sys_fstat64(SysCtx& c, const uint64_t* a) { return sys_fstat(c, a); }
long sys_stat(SysCtx& c, const uint64_t* a) { return do_stat(c, nullptr, a[0], VirtAddr(a[1])); }
long sys_lstat(SysCtx& c, const uint64_t* a) { return do_stat(c, nullptr, a[0], VirtAddr(a[1]), false); }
long sys_stat64(SysCtx& c, const uint64_t* a) { return sys_stat(c, a); }
long sys_lstat64(SysCtx& c, const uint64_t* a) { return sys_lstat(c, a); }

long sys_newfstatat(SysCtx& c, const uint64_t* a) {
    if (is_empty_path(c, a[1], a[3])) {
        auto f = fdget(c, a[0]);
        return f ? do_stat(c, f, 0, VirtAddr(a[2])) : -EBADF;
    }
    return do_stat(c, nullptr, a[1], VirtAddr(a[2]), !(a[3] & AT_SYMLINK_NOFOLLOW_));
}
long sys_fstatat64(SysCtx& c, const uint64_t* a) { return sys_newfstatat(c, a); }

long sys_statx(SysCtx& c, const uint64_t* a) {
    struct stat st;
    if (is_empty_path(c, a[1], a[2])) {
        auto f = fdget(c, a[0]);
        if (!f) return -EBADF;
        if (long e = f->getattr(st)) return e;
    } else if (long e = stat_path(c, a[1], st, !(a[2] & AT_SYMLINK_NOFOLLOW_))) {
        return e;
    }
    struct statx x = to_statx(st);
    return copy_to_user(c.mm, VirtAddr(a[4]), &x, sizeof x) ? 0 : -EFAULT;
}

long sys_lseek(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    int64_t off = c.compat ? static_cast<int32_t>(a[1]) : static_cast<int64_t>(a[1]);
    const uint32_t whence = static_cast<uint32_t>(a[2]);  // unsigned int in the syscall
    if (whence > SEEK_HOLE) return -EINVAL;  // SEEK_MAX: SEEK_DATA and SEEK_HOLE are valid
    long r = f->llseek(off, static_cast<int>(whence));
    if (c.compat && r > 0x7fffffff) return -EOVERFLOW;
    return r;
}

long sys_llseek(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const uint32_t whence = static_cast<uint32_t>(a[4]);
    if (whence > SEEK_HOLE) return -EINVAL;  // SEEK_MAX
    int64_t off = static_cast<int64_t>((a[1] << 32) | (a[2] & 0xffffffffu));
    long r = f->llseek(off, static_cast<int>(whence));
    if (r < 0) return r;
    int64_t res = r;
    return copy_to_user(c.mm, VirtAddr(a[3]), &res, sizeof res) ? 0 : -EFAULT;
}

long sys_ioctl(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const unsigned long cmd = a[1] & 0xffffffffu;
    size_t in = 0, out = 0;
    uint8_t buf[64] = {};
    if (f->ioctl_sizes(cmd, in, out) && in && !copy_from_user(c.mm, buf, VirtAddr(a[2]), in)) return -EFAULT;
    long r = f->ioctl(cmd, buf, in, out);
    if (r < 0) return r;
    if (out && !copy_to_user(c.mm, VirtAddr(a[2]), buf, out)) return -EFAULT;
    return r;
}

long sys_readlink(SysCtx& c, const uint64_t* a) { return do_readlink(c, a[0], a[1], a[2]); }
long sys_readlinkat(SysCtx& c, const uint64_t* a) { return do_readlink(c, a[1], a[2], a[3]); }

// access(2): the path exists; the only files, in /proc, are not writable.
static long do_access(SysCtx& c, uint64_t upath, uint64_t mode) {
    if (mode & ~7ull) return -EINVAL;
    struct stat st;
    if (long e = stat_path(c, upath, st)) return e;
    return (mode & 2) ? -EACCES : 0;
}
long sys_access(SysCtx& c, const uint64_t* a) { return do_access(c, a[0], a[1]); }
long sys_faccessat(SysCtx& c, const uint64_t* a) { return do_access(c, a[1], a[2]); }
long sys_faccessat2(SysCtx& c, const uint64_t* a) { return do_access(c, a[1], a[2]); }

// getdents64: whole struct linux_dirent64 records (d_ino, d_off, d_reclen, d_type, the name
// and its NUL, 8-byte aligned) while they fit; EINVAL when not even the first does.
long sys_getdents64(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const uint64_t count = static_cast<uint32_t>(a[2]);
    std::vector<uint8_t> buf;
    bool too_small = false;
    long err = f->iterate_shared([&](const dir_entry& d) {
        const uint64_t reclen = (19 + d.name.size() + 1 + 7) & ~uint64_t{7};
        if (buf.size() + reclen > count) {
            too_small = buf.empty();
            return false;
        }
        const size_t at = buf.size();
        buf.resize(at + reclen, 0);
        const uint16_t rl = static_cast<uint16_t>(reclen);
        std::memcpy(&buf[at], &d.ino, 8);
        std::memcpy(&buf[at + 8], &d.d_off, 8);
        std::memcpy(&buf[at + 16], &rl, 2);
        buf[at + 18] = d.d_type;
        std::memcpy(&buf[at + 19], d.name.data(), d.name.size());
        return true;
    });
    if (err) return err;
    if (too_small) return -EINVAL;
    if (!buf.empty() && !copy_to_user(c.mm, VirtAddr(a[1]), buf.data(), buf.size())) return -EFAULT;
    return static_cast<long>(buf.size());
}

// chdir: the path must open as a directory (set_fs_pwd after path_lookupat).
long set_pwd(SysCtx& c, const std::string& abs) {
    std::shared_ptr<file> f;
    if (long e = filp_open(c, abs, O_RDONLY | O_DIRECTORY, f)) return e;
    c.task.fs->pwd = abs;
    return 0;
}

long sys_chdir(SysCtx& c, const uint64_t* a) {
    std::string path;
    if (long e = getname(c, a[0], path)) return e;
    return set_pwd(c, absolute_path(c.task, path));
}

long sys_fchdir(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    struct stat st;
    if (f->getattr(st) != 0 || !S_ISDIR(st.st_mode) || f->f_path.empty()) return -ENOTDIR;
    c.task.fs->pwd = f->f_path;
    return 0;
}

long sys_getcwd(SysCtx& c, const uint64_t* a) {
    char cwd[4096];
    if (!c.task.fs->pwd.empty()) {
        std::snprintf(cwd, sizeof cwd, "%s", c.task.fs->pwd.c_str());
    } else if (!::getcwd(cwd, sizeof cwd)) {
        return -errno;
    }
    uint64_t n = std::strlen(cwd) + 1;
    if (a[1] < n) return -ERANGE;
    return copy_to_user(c.mm, VirtAddr(a[0]), cwd, n) ? static_cast<long>(n) : -EFAULT;
}

long sys_fcntl(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    switch (a[1]) {
    case F_DUPFD: return install_fd(c, f, a[2], false);
    case F_DUPFD_CLOEXEC: return install_fd(c, f, a[2], true);
    case F_GETFD: return c.task.files->cloexec[static_cast<uint32_t>(a[0])] ? FD_CLOEXEC : 0;
    case F_SETFD: c.task.files->cloexec[static_cast<uint32_t>(a[0])] = a[2] & FD_CLOEXEC; return 0;
    case F_GETFL: return f->status_flags();
    case F_SETFL: return f->set_status_flags(static_cast<int>(a[2]));
    case F_SETPIPE_SZ:
    case F_GETPIPE_SZ: return pipe_fcntl(*f, static_cast<unsigned>(a[1]), static_cast<uint32_t>(a[2]));
    default: return -EINVAL;
    }
}
long sys_fcntl64(SysCtx& c, const uint64_t* a) { return sys_fcntl(c, a); }

long sys_dup(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? install_fd(c, f, 0, false) : -EBADF;
}
long sys_dup2(SysCtx& c, const uint64_t* a) {
    if (static_cast<uint32_t>(a[0]) == static_cast<uint32_t>(a[1]))
        return fdget(c, a[0]) ? static_cast<long>(static_cast<uint32_t>(a[1])) : -EBADF;
    return do_dup3(c, a[0], a[1], false);
}
long sys_dup3(SysCtx& c, const uint64_t* a) {
    if (static_cast<uint32_t>(a[0]) == static_cast<uint32_t>(a[1])) return -EINVAL;
    if (a[2] & ~static_cast<uint64_t>(O_CLOEXEC)) return -EINVAL;
    return do_dup3(c, a[0], a[1], a[2] & O_CLOEXEC);
}

// pipe2 (do_pipe2): the read end and the write end at the two lowest free fds, given to
// the caller as int[2]; if that copy faults, neither fd stays open.
static long do_pipe2(SysCtx& c, uint64_t fildes, unsigned flags) {
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) return -EINVAL;
    std::shared_ptr<file> files[2];
    if (long e = create_pipe_files(files, flags)) return e;
    const long fdr = install_fd(c, files[0], 0, flags & O_CLOEXEC);
    if (fdr < 0) return fdr;
    const long fdw = install_fd(c, files[1], 0, flags & O_CLOEXEC);
    const int32_t fd[2] = {static_cast<int32_t>(fdr), static_cast<int32_t>(fdw)};
    if (fdw < 0 || !copy_to_user(c.mm, VirtAddr(fildes), fd, sizeof fd)) {
        c.task.files->fd[fdr].reset();
        if (fdw >= 0) c.task.files->fd[fdw].reset();
        return fdw < 0 ? fdw : -EFAULT;
    }
    return 0;
}
long sys_pipe(SysCtx& c, const uint64_t* a) { return do_pipe2(c, a[0], 0); }
long sys_pipe2(SysCtx& c, const uint64_t* a) { return do_pipe2(c, a[0], static_cast<uint32_t>(a[1])); }

long sys_umask(SysCtx& c, const uint64_t* a) {
    unsigned old = c.task.fs->umask;
    c.task.fs->umask = a[0] & 0777;
    return old;
}

}  // namespace guestos

namespace guestos {

long open_exec(SysCtx& c, const std::string& path, std::shared_ptr<file>& out, std::string& abs) {
    abs = absolute_path(c.task, path);
    return filp_open(c, path, O_RDONLY, out);
}

long get_unused_fd_install(SysCtx& c, std::shared_ptr<file> f, bool cloexec) {
    return install_fd(c, std::move(f), 0, cloexec);
}

void do_close_on_exec(files_struct& files) {
    for (size_t i = 0; i < files.fd.size(); ++i)
        if (i < files.cloexec.size() && files.cloexec[i]) {
            files.fd[i].reset();
            files.cloexec[i] = false;
        }
}

}  // namespace guestos
