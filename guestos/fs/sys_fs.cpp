// File syscalls over the fd table (fs/read_write.c, fs/file.c, fs/fcntl.c, fs/ioctl.c,
// fs/readdir.c): what is done to an open file. Paths are namei's (namei.cpp, open.cpp).
#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/dcache.h"
#include "guestos/include/kernel.h"
#include "guestos/include/mount.h"
#include "guestos/include/filelock.h"
#include "guestos/fs/internal.h"
#include "guestos/fs/pipe.h"
#include "guestos/fs/proc/base.h"
#include "guestos/mm/shmem.h"
#include "guestos/include/syscalls.h"
#include "guestos/drivers/tty/tty.h"

namespace guestos {

// The IOCB_* flags a plain read or write of f has (iocb_flags): its O_APPEND, O_DSYNC, O_SYNC.
unsigned iocb_flags(const file& f) {
    unsigned r = 0;
    if (f.f_flags & O_APPEND_) r |= IOCB_APPEND;
    if (f.f_flags & O_DSYNC_) r |= IOCB_DSYNC;
    if ((f.f_flags & O_SYNC_) == O_SYNC_) r |= IOCB_SYNC;
    return r;
}

long import_iovec(SysCtx& c, VirtAddr uiov, uint64_t cnt, user_iovec& out) {
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


long rw_verify_area(const int64_t* pos, uint64_t count) {
    if (static_cast<int64_t>(count) < 0) return -EINVAL;
    if (pos && (*pos < 0 || static_cast<int64_t>(static_cast<uint64_t>(*pos) + count) < 0)) return -EINVAL;
    return 0;
}

namespace {

// The open file behind a guest fd (fdget), or null; fds are unsigned int in syscalls, so
// only the register's low 32 bits count.
std::shared_ptr<file> fdget(SysCtx& c, uint64_t fd) {
    return c.task.files->get(static_cast<long>(static_cast<uint32_t>(fd)));
}

bool readable(const file& f) { return (f.f_flags & O_ACCMODE) != O_WRONLY; }
bool writable(const file& f) { return (f.f_flags & O_ACCMODE) != O_RDONLY; }

// A regular file's data is all there, so a read may go on past one chunk; a pipe, tty or
// /proc file gives what one read gives (a second read could block or split a record).
bool reads_in_chunks(const file& f) { return f.f_inode && S_ISREG(f.f_inode->i_mode); }

// Writes the user bytes to a file through a bounded host buffer, chunk by chunk (gathering
// across segments, so a small writev is one write, as atomic as Linux's): bytes written,
// or the error when nothing was (EFAULT for an unreadable buffer).
long write_from_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos, unsigned ki_flags) {
    if (!writable(f)) return -EBADF;
    uint64_t count = 0;
    for (auto [base, len] : iov) count += len;
    std::vector<uint8_t> tmp(std::min(count, IO_CHUNK));
    if (!count) {  // the file decides what writing nothing means (a datagram socket sends one)
        kiocb iocb{c.task, pos, ki_flags};
        return f.write_iter(iocb, tmp.data(), 0);
    }
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
        kiocb iocb{c.task, pos, ki_flags};
        long w = f.write_iter(iocb, tmp.data(), n);
        if (w < 0) return done ? static_cast<long>(done) : w;
        done += static_cast<uint64_t>(w);
        if (static_cast<uint64_t>(w) < n) break;
    }
    return done ? static_cast<long>(done) : (fault ? -EFAULT : 0);
}

// Reads the file into the user buffers through a bounded host buffer: one read, or for a
// regular file reads of a chunk each until the buffers are full or the file ends.
long read_to_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos, unsigned ki_flags) {
    if (!readable(f)) return -EBADF;
    uint64_t count = 0;
    for (auto [base, len] : iov) count += len;
    std::vector<uint8_t> tmp(std::min(count, IO_CHUNK));
    size_t seg = 0;
    uint64_t seg_off = 0, done = 0;
    do {
        const uint64_t want = std::min<uint64_t>(count - done, tmp.size());
        // (A pipe gives up the bytes it read even when the copy out faults; Linux keeps them.)
        kiocb iocb{c.task, pos, ki_flags};
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

long write_from_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos) {
    return write_from_user(c, f, iov, pos, iocb_flags(f));
}
long read_to_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos) {
    return read_to_user(c, f, iov, pos, iocb_flags(f));
}

// One user buffer as an iovec, its length capped at MAX_RW_COUNT (rw_verify_area).
user_iovec single_iovec(uint64_t buf, uint64_t count) { return {{buf, std::min(count, MAX_RW_COUNT)}}; }

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
    if (t.fd[newfd]) locks_remove_posix(*t.fd[newfd], &t);  // the replaced file is closed
    t.fd[newfd] = f;
    t.cloexec[newfd] = cloexec;
    return static_cast<long>(newfd);
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

namespace {

enum class RW { Read, Write };

// Adds the call's RWF_* to a kiocb's flags as kiocb_set_rw_flags does: unknown bits, a
// RWF_NOWAIT the file cannot honour, RWF_ATOMIC and RWF_DONTCACHE (no filesystem here
// supports them) are EOPNOTSUPP; APPEND with NOAPPEND EINVAL.
long kiocb_set_rw_flags(const file& f, unsigned& ki_flags, uint32_t flags) {
    if (!flags) return 0;
    if (flags & ~RWF_SUPPORTED_) return -EOPNOTSUPP;
    if ((flags & RWF_APPEND_) && (flags & RWF_NOAPPEND_)) return -EINVAL;
    if ((flags & RWF_NOWAIT_) && !(f.f_mode & FMODE_NOWAIT)) return -EOPNOTSUPP;
    if (flags & RWF_ATOMIC_) return -EOPNOTSUPP;  // no FMODE_CAN_ATOMIC_WRITE file, and never a read
    if (flags & RWF_DONTCACHE_) return -EOPNOTSUPP;  // no FOP_DONTCACHE filesystem
    ki_flags |= flags & (RWF_HIPRI_ | RWF_DSYNC_ | RWF_SYNC_ | RWF_NOWAIT_ | RWF_APPEND_ | RWF_NOSIGNAL_);
    if (flags & RWF_SYNC_) ki_flags |= IOCB_DSYNC;
    if (flags & RWF_NOAPPEND_) ki_flags &= ~IOCB_APPEND;
    return 0;
}

// A vectored read or write at *pos with the call's flags (vfs_readv / vfs_writev): the
// iovecs are imported first, and the flags only checked when there is something to move.
// A synchronous write (RWF_DSYNC, O_SYNC...) of a regular file is synced before it returns
// (generic_write_sync).
long vfs_iter_rw(SysCtx& c, file& f, VirtAddr uiov, uint64_t vlen, int64_t* pos, uint32_t flags, RW rw) {
    if (rw == RW::Read ? !readable(f) : !writable(f)) return -EBADF;
    user_iovec iov;
    const long total = import_iovec(c, uiov, vlen, iov);
    if (total <= 0) return total;
    if (long e = rw_verify_area(pos, static_cast<uint64_t>(total))) return e;
    unsigned ki_flags = iocb_flags(f);
    if (!(rw == RW::Read ? f.has_read_iter() : f.has_write_iter())) {  // do_loop_readv_writev
        if (flags & ~RWF_HIPRI_) return -EOPNOTSUPP;
    } else if (long e = kiocb_set_rw_flags(f, ki_flags, flags)) {
        return e;
    }
    if (rw == RW::Read) return read_to_user(c, f, iov, pos, ki_flags);
    const long r = write_from_user(c, f, iov, pos, ki_flags);
    if (r > 0 && (ki_flags & (IOCB_DSYNC | IOCB_SYNC)) && reads_in_chunks(f))
        if (long e = f.fsync(); e < 0) return e;
    return r;
}

// readv/writev with flags at the file position (do_readv / do_writev).
long do_readv_writev(SysCtx& c, uint64_t fd, VirtAddr uiov, uint64_t vlen, uint32_t flags, RW rw) {
    auto f = fdget(c, fd);
    if (!f) return -EBADF;
    int64_t pos = f->f_pos;
    const long r = vfs_iter_rw(c, *f, uiov, vlen, &pos, flags, rw);
    if (r >= 0) f->f_pos = pos;
    return r;
}

// preadv/pwritev with flags at pos (do_preadv / do_pwritev): EINVAL for a negative pos,
// ESPIPE for a stream.
long do_preadv_pwritev(SysCtx& c, uint64_t fd, VirtAddr uiov, uint64_t vlen, int64_t pos, uint32_t flags, RW rw) {
    if (pos < 0) return -EINVAL;
    auto f = fdget(c, fd);
    if (!f) return -EBADF;
    if (!(f->f_mode & (rw == RW::Read ? FMODE_PREAD : FMODE_PWRITE))) return -ESPIPE;
    return vfs_iter_rw(c, *f, uiov, vlen, &pos, flags, rw);
}

// The offset of preadv and friends from its two halves (pos_from_hilo): on x86-64 pos_l is
// all of it; i386 splits it into pos_l and pos_h.
int64_t pos_from_hilo(SysCtx& c, uint64_t pos_l, uint64_t pos_h) {
    return c.compat ? static_cast<int64_t>((pos_h << 32) | static_cast<uint32_t>(pos_l)) : static_cast<int64_t>(pos_l);
}

// preadv2/pwritev2: offset -1 is the file position (readv/writev with flags).
long do_rwv2(SysCtx& c, const uint64_t* a, RW rw) {
    const int64_t pos = pos_from_hilo(c, a[3], a[4]);
    const auto flags = static_cast<uint32_t>(a[5]);
    if (pos == -1) return do_readv_writev(c, a[0], VirtAddr(a[1]), a[2], flags, rw);
    return do_preadv_pwritev(c, a[0], VirtAddr(a[1]), a[2], pos, flags, rw);
}

}  // namespace

long sys_preadv(SysCtx& c, const uint64_t* a) {
    return do_preadv_pwritev(c, a[0], VirtAddr(a[1]), a[2], pos_from_hilo(c, a[3], a[4]), 0, RW::Read);
}
long sys_pwritev(SysCtx& c, const uint64_t* a) {
    return do_preadv_pwritev(c, a[0], VirtAddr(a[1]), a[2], pos_from_hilo(c, a[3], a[4]), 0, RW::Write);
}
long sys_preadv2(SysCtx& c, const uint64_t* a) { return do_rwv2(c, a, RW::Read); }
long sys_pwritev2(SysCtx& c, const uint64_t* a) { return do_rwv2(c, a, RW::Write); }


// ftruncate: the fd must be open for writing (do_sys_ftruncate).
long do_ftruncate(SysCtx& c, uint64_t fd, int64_t length) {
    if (length < 0) return -EINVAL;
    auto f = fdget(c, fd);
    if (!f) return -EBADF;
    if (!writable(*f)) return -EINVAL;
    if (f->f_path && f->f_inode && S_ISREG(f->f_inode->i_mode)) {  // do_truncate -> notify_change
        if (f->f_inode == c.task.exe_inode) return -ETXTBSY;
        iattr at;
        at.ia_valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME;
        at.ia_size = static_cast<uint64_t>(length);
        return f->f_inode->i_op->setattr(*f->f_path.dentry, at);
    }
    return f->truncate(static_cast<uint64_t>(length));
}

long sys_ftruncate(SysCtx& c, const uint64_t* a) {
    return do_ftruncate(c, a[0], c.compat ? static_cast<int32_t>(a[1]) : static_cast<int64_t>(a[1]));
}
long sys_ftruncate64(SysCtx& c, const uint64_t* a) { return do_ftruncate(c, a[0], pos_arg(c, a, 1)); }

long sys_fsync(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? f->fsync() : -EBADF;
}
long sys_fdatasync(SysCtx& c, const uint64_t* a) { return sys_fsync(c, a); }

// sync: every filesystem's dirty pages and metadata (ksys_sync).
long sys_sync(SysCtx& c, const uint64_t*) {
    c.kernel.mnt_ns().sync_all();
    return 0;
}

// syncfs: the filesystem the fd is on (sync_filesystem).
long sys_syncfs(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    if (f->f_inode && f->f_inode->i_sb) f->f_inode->i_sb->sync_fs();
    return 0;
}

// sync_file_range: writes back the dirty pages of a file (ksys_sync_file_range). Flags
// other than WAIT_BEFORE, WRITE and WAIT_AFTER, a negative offset or a range that wraps are
// EINVAL; anything but a regular file, block device, directory or link is ESPIPE. The
// whole file's pages are written (a superset of the range), synchronously.
long ksys_sync_file_range(SysCtx& c, uint64_t fd, int64_t offset, int64_t nbytes, uint64_t flags) {
    constexpr uint32_t VALID_FLAGS = SYNC_FILE_RANGE_WAIT_BEFORE_ | SYNC_FILE_RANGE_WRITE_ | SYNC_FILE_RANGE_WAIT_AFTER_;
    auto f = fdget(c, fd);
    if (!f) return -EBADF;
    const uint32_t fl = static_cast<uint32_t>(flags);
    const auto endbyte = static_cast<int64_t>(static_cast<uint64_t>(offset) + static_cast<uint64_t>(nbytes));
    if ((fl & ~VALID_FLAGS) || offset < 0 || endbyte < 0 || endbyte < offset) return -EINVAL;
    struct stat st {};
    if (f->f_inode) st.st_mode = f->f_inode->i_mode;
    else if (f->getattr(st)) return -ESPIPE;
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return -ESPIPE;
    if ((fl & SYNC_FILE_RANGE_WRITE_) && f->f_inode) return filemap_write_and_wait(f->f_inode->i_data);
    return 0;
}

long sys_sync_file_range(SysCtx& c, const uint64_t* a) {
    if (c.compat)  // sys_ia32_sync_file_range: offset and nbytes in halves
        return ksys_sync_file_range(c, a[0], pos_arg(c, a, 1), pos_arg(c, a, 3), a[5]);
    return ksys_sync_file_range(c, a[0], static_cast<int64_t>(a[1]), static_cast<int64_t>(a[2]), a[3]);
}

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
    auto f = shmem_file_setup(c.kernel.kmem(), name);
    if (flags & MFD_NOEXEC_SEAL) {  // not executable, and sealed so (F_SEAL_EXEC)
        f->f_inode->i_mode &= ~0111u;
        f->f_inode->seals = (f->f_inode->seals & ~F_SEAL_SEAL_) | F_SEAL_EXEC_;
    } else if (flags & MFD_ALLOW_SEALING) {
        f->f_inode->seals &= ~F_SEAL_SEAL_;
    }
    return install_fd(c, f, 0, flags & MFD_CLOEXEC);
}

long sys_close(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    locks_remove_posix(*f, c.task.files.get());  // filp_close: a close drops the process's locks
    c.task.files->fd[static_cast<uint32_t>(a[0])].reset();
    return 0;
}

// close_range(fd, max_fd, flags): closes (or with CLOSE_RANGE_CLOEXEC_ marks close-on-exec)
// every open fd in [fd, max_fd]; CLOSE_RANGE_UNSHARE_ first gives the caller its own table.
long sys_close_range(SysCtx& c, const uint64_t* a) {
    constexpr uint32_t CLOSE_RANGE_UNSHARE_ = 1u << 1, CLOSE_RANGE_CLOEXEC_ = 1u << 2;
    const uint32_t fd = static_cast<uint32_t>(a[0]), max_fd = static_cast<uint32_t>(a[1]);
    const uint32_t flags = static_cast<uint32_t>(a[2]);
    if (flags & ~(CLOSE_RANGE_UNSHARE_ | CLOSE_RANGE_CLOEXEC_)) return -EINVAL;
    if (fd > max_fd) return -EINVAL;
    if ((flags & CLOSE_RANGE_UNSHARE_) && c.task.files.use_count() > 1)
        c.task.files = std::make_shared<files_struct>(*c.task.files);  // unshare_fd
    files_struct& files = *c.task.files;
    const uint64_t end = std::min<uint64_t>(max_fd, files.fd.size() ? files.fd.size() - 1 : 0);
    for (uint64_t i = fd; i < files.fd.size() && i <= end; ++i) {
        if (!files.fd[i]) continue;
        if (flags & CLOSE_RANGE_CLOEXEC_) {
            if (files.cloexec.size() <= i) files.cloexec.resize(i + 1, false);
            files.cloexec[i] = true;
            continue;
        }
        locks_remove_posix(*files.fd[i], &files);
        files.fd[i].reset();
        if (i < files.cloexec.size()) files.cloexec[i] = false;
    }
    return 0;
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

// getdents (the old call): struct linux_dirent records of the ABI's longs (d_ino, d_off),
// d_reclen, the name and its NUL, then d_type in the record's last byte, long-aligned;
// EOVERFLOW for an inode or offset a 32-bit long cannot hold.
long sys_getdents(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const uint64_t count = static_cast<uint32_t>(a[2]);
    const uint64_t L = c.ptr_size();
    std::vector<uint8_t> buf;
    long error = 0;
    long err = f->iterate_shared([&](const dir_entry& d) {
        const uint64_t reclen = (2 * L + 2 + d.name.size() + 2 + L - 1) & ~(L - 1);
        if (L == 4 && (d.ino > 0xffffffffull || static_cast<uint64_t>(d.d_off) > 0x7fffffffull)) {
            error = -EOVERFLOW;
            return false;
        }
        if (buf.size() + reclen > count) {
            if (buf.empty()) error = -EINVAL;
            return false;
        }
        const size_t at = buf.size();
        buf.resize(at + reclen, 0);
        const uint16_t rl = static_cast<uint16_t>(reclen);
        std::memcpy(&buf[at], &d.ino, L);
        std::memcpy(&buf[at + L], &d.d_off, L);
        std::memcpy(&buf[at + 2 * L], &rl, 2);
        std::memcpy(&buf[at + 2 * L + 2], d.name.data(), d.name.size());
        buf[at + reclen - 1] = d.d_type;
        return true;
    });
    if (err) return err;
    if (buf.empty() && error) return error;
    if (!buf.empty() && !copy_to_user(c.mm, VirtAddr(a[1]), buf.data(), buf.size())) return -EFAULT;
    return static_cast<long>(buf.size());
}

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

// fcntl: i386's old fcntl has no 64-bit or OFD lock commands (compat_sys_fcntl); fcntl64 has.
long do_fcntl(SysCtx& c, const uint64_t* a) {
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
    case F_ADD_SEALS_:
    case F_GET_SEALS_: return memfd_fcntl(*f, static_cast<unsigned>(a[1]), a[2]);
    case F_GETLK_:
    case F_SETLK_:
    case F_SETLKW_:
    case F_GETLK64_:
    case F_SETLK64_:
    case F_SETLKW64_:
    case F_OFD_GETLK_:
    case F_OFD_SETLK_:
    case F_OFD_SETLKW_: return fcntl_lock(c, *f, static_cast<int>(a[1]), a[2]);
    default: return -EINVAL;
    }
}
long sys_fcntl(SysCtx& c, const uint64_t* a) {
    if (c.compat && ((a[1] >= F_GETLK64_ && a[1] <= F_SETLKW64_) || (a[1] >= F_OFD_GETLK_ && a[1] <= F_OFD_SETLKW_)))
        return -EINVAL;
    return do_fcntl(c, a);
}
long sys_fcntl64(SysCtx& c, const uint64_t* a) { return do_fcntl(c, a); }

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

long get_unused_fd_install(SysCtx& c, std::shared_ptr<file> f, bool cloexec) {
    return install_fd(c, std::move(f), 0, cloexec);
}

void do_close_on_exec(files_struct& files) {
    for (size_t i = 0; i < files.fd.size(); ++i)
        if (i < files.cloexec.size() && files.cloexec[i]) {
            if (files.fd[i]) locks_remove_posix(*files.fd[i], &files);
            files.fd[i].reset();
            files.cloexec[i] = false;
        }
}

}  // namespace guestos
