// Reading and writing open files (fs/read_write.c): read, write and their positioned and
// vectored forms with RWF_* flags, lseek, and the in-kernel copies sendfile and
// copy_file_range (through splice, guestos/fs/splice.cpp), with Linux's checks in its order.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "guestos/fs/internal.h"
#include "guestos/fs/pipe.h"
#include "guestos/fs/splice.h"
#include "guestos/include/fsnotify.h"
#include "guestos/include/kernel.h"
#include "guestos/include/task_io_accounting_ops.h"
#include "guestos/include/uio.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"

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

// io_buffer's pool: the buffers not in use, a few kept for the next calls.
std::vector<std::unique_ptr<uint8_t[]>>& io_buffer_pool() {
    static std::vector<std::unique_ptr<uint8_t[]>> pool;
    return pool;
}
constexpr size_t IO_BUFFER_POOL_MAX = 4;

}  // namespace

io_buffer::io_buffer(uint64_t n) : n_(n) {
    auto& pool = io_buffer_pool();
    if (pool.empty()) {
        buf_ = std::make_unique_for_overwrite<uint8_t[]>(IO_CHUNK);
    } else {
        buf_ = std::move(pool.back());
        pool.pop_back();
    }
}

io_buffer::~io_buffer() {
    auto& pool = io_buffer_pool();
    if (pool.size() < IO_BUFFER_POOL_MAX) pool.push_back(std::move(buf_));
}

namespace {

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
    io_buffer tmp(std::min(count, IO_CHUNK));
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
    if (done) fsnotify_modify(f);
    return done ? static_cast<long>(done) : (fault ? -EFAULT : 0);
}

// Reads the file into the user buffers through a bounded host buffer: one read, or for a
// regular file reads of a chunk each until the buffers are full or the file ends.
long read_to_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos, unsigned ki_flags) {
    if (!readable(f)) return -EBADF;
    uint64_t count = 0;
    for (auto [base, len] : iov) count += len;
    // A regular file copies each cached page straight to the user's buffers, once.
    user_iter to(c.mm, iov);
    kiocb direct{c.task, pos, ki_flags};
    if (std::optional<long> r = f.read_iter(direct, to, count)) {
        if (*r > 0) fsnotify_access(f);
        return *r;
    }
    io_buffer tmp(std::min(count, IO_CHUNK));
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
    if (done) fsnotify_access(f);
    return static_cast<long>(done);
}

long write_from_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos) {
    return write_from_user(c, f, iov, pos, iocb_flags(f));
}
long read_to_user(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos) {
    return read_to_user(c, f, iov, pos, iocb_flags(f));
}

// Counts a read or write call and the bytes it moved (vfs_read's and do_readv's tails;
// the vectored calls count even a bad fd).
long account_read(SysCtx& c, long r) {
    if (r > 0) add_rchar(c.task, r);
    inc_syscr(c.task);
    return r;
}
long account_write(SysCtx& c, long r) {
    if (r > 0) add_wchar(c.task, r);
    inc_syscw(c.task);
    return r;
}

// read and pread of a readable file (vfs_read), write and pwrite of a writable one
// (vfs_write): a file opened the other way is EBADF and not counted.
long vfs_read(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos) {
    return readable(f) ? account_read(c, read_to_user(c, f, iov, pos)) : -EBADF;
}
long vfs_write(SysCtx& c, file& f, const user_iovec& iov, int64_t* pos) {
    return writable(f) ? account_write(c, write_from_user(c, f, iov, pos)) : -EBADF;
}

// One user buffer as an iovec, its length capped at MAX_RW_COUNT (rw_verify_area).
user_iovec single_iovec(uint64_t buf, uint64_t count) { return {{buf, std::min(count, MAX_RW_COUNT)}}; }

}  // namespace

long sys_read(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? vfs_read(c, *f, single_iovec(a[1], a[2]), &f->f_pos) : -EBADF;
}

long sys_write(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? vfs_write(c, *f, single_iovec(a[1], a[2]), &f->f_pos) : -EBADF;
}

long sys_pread64(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    int64_t pos = pos_arg(c, a, 3);
    if (!f) return -EBADF;
    if (pos < 0) return -EINVAL;
    return (f->f_mode & FMODE_PREAD) ? vfs_read(c, *f, single_iovec(a[1], a[2]), &pos) : -ESPIPE;
}

long sys_pwrite64(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    int64_t pos = pos_arg(c, a, 3);
    if (!f) return -EBADF;
    if (pos < 0) return -EINVAL;
    return (f->f_mode & FMODE_PWRITE) ? vfs_write(c, *f, single_iovec(a[1], a[2]), &pos) : -ESPIPE;
}

namespace {

long do_writev(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    if (!writable(*f)) return -EBADF;
    user_iovec iov;
    if (long e = import_iovec(c, VirtAddr(a[1]), a[2], iov); e < 0) return e;
    return write_from_user(c, *f, iov, &f->f_pos);
}

long do_readv(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    if (!readable(*f)) return -EBADF;
    user_iovec iov;
    if (long e = import_iovec(c, VirtAddr(a[1]), a[2], iov); e < 0) return e;
    return read_to_user(c, *f, iov, &f->f_pos);
}

}  // namespace

long sys_writev(SysCtx& c, const uint64_t* a) { return account_write(c, do_writev(c, a)); }
long sys_readv(SysCtx& c, const uint64_t* a) { return account_read(c, do_readv(c, a)); }

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
    if (flags & RWF_ATOMIC_) return -EOPNOTSUPP;     // no FMODE_CAN_ATOMIC_WRITE file, and never a read
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
    long r = -EBADF;
    if (f) {
        int64_t pos = f->f_pos;
        r = vfs_iter_rw(c, *f, uiov, vlen, &pos, flags, rw);
        if (r >= 0) f->f_pos = pos;
    }
    return rw == RW::Read ? account_read(c, r) : account_write(c, r);
}

// preadv/pwritev with flags at pos (do_preadv / do_pwritev): EINVAL for a negative pos,
// ESPIPE for a stream.
long do_preadv_pwritev(SysCtx& c, uint64_t fd, VirtAddr uiov, uint64_t vlen, int64_t pos, uint32_t flags, RW rw) {
    if (pos < 0) return -EINVAL;
    auto f = fdget(c, fd);
    long r = -EBADF;
    if (f)
        r = (f->f_mode & (rw == RW::Read ? FMODE_PREAD : FMODE_PWRITE))
                ? vfs_iter_rw(c, *f, uiov, vlen, &pos, flags, rw)
                : -ESPIPE;
    return rw == RW::Read ? account_read(c, r) : account_write(c, r);
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

long sys_lseek(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    int64_t off = c.compat ? static_cast<int32_t>(a[1]) : static_cast<int64_t>(a[1]);
    const uint32_t whence = static_cast<uint32_t>(a[2]);  // unsigned int in the syscall
    if (whence > SEEK_HOLE) return -EINVAL;               // SEEK_MAX: SEEK_DATA and SEEK_HOLE are valid
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

namespace {

constexpr int64_t MAX_NON_LFS = 0x7fffffff;  // the largest offset without O_LARGEFILE

// The largest file size of the filesystem f is on (s_maxbytes; a pipe's pipefs has no limit).
int64_t s_maxbytes(const file& f) {
    return f.f_inode && f.f_inode->i_sb ? static_cast<int64_t>(f.f_inode->i_sb->s_maxbytes) : INT64_MAX;
}

// f's file type (its inode's i_mode & S_IFMT), asked of the file so that pipes answer too.
uint32_t file_type(file& f) {
    struct stat st {};
    if (f.f_inode) return f.f_inode->i_mode & S_IFMT;
    return f.getattr(st) == 0 ? st.st_mode & S_IFMT : 0;
}

// Copies count bytes from in_fd (at *ppos, or its position) to out_fd (at its position)
// (do_sendfile): to a pipe by splice_file_to_pipe, to anything else by do_splice_direct;
// count is capped at MAX_RW_COUNT and at max, the largest offset the input may reach.
long do_sendfile(SysCtx& c, uint64_t out_fd, uint64_t in_fd, int64_t* ppos, uint64_t count, int64_t max) {
    auto in = fdget(c, in_fd);
    if (!in || !fmode_read(*in)) return -EBADF;
    int64_t pos = in->f_pos;
    if (ppos) {
        pos = *ppos;
        if (!(in->f_mode & FMODE_PREAD)) return -ESPIPE;
    }
    if (long e = rw_verify_area(&pos, count)) return e;
    count = std::min(count, MAX_RW_COUNT);
    auto out = fdget(c, out_fd);
    if (!out || !fmode_write(*out)) return -EBADF;
    int64_t out_pos = out->f_pos;
    if (!max) max = std::min(s_maxbytes(*in), s_maxbytes(*out));
    if (pos + static_cast<int64_t>(count) > max) {
        if (pos >= max) return -EOVERFLOW;
        count = static_cast<uint64_t>(max - pos);
    }
    long r;
    // Without an offset, at the input's own position, and always at the output's: a
    // console file given a regular file as stdin or stdout then reads or writes through the
    // host descriptor's offset, which its read(2)s and write(2)s moved.
    int64_t* in_pos = ppos ? &pos : &in->f_pos;
    if (pipe_inode_info* opipe = get_pipe_info(*out)) {
        const unsigned fl = (out->f_flags & O_NONBLOCK_) ? SPLICE_F_NONBLOCK_ : 0;
        r = splice_file_to_pipe(c.task, *in, *opipe, in_pos, count, fl);
    } else {
        if (long e = rw_verify_area(&out_pos, count)) return e;
        r = do_splice_direct(c.task, *in, in_pos, *out, &out->f_pos, count);
    }
    pos = *in_pos;
    if (r > 0) {
        if (ppos) *ppos = pos;
        add_rchar(c.task, r);
        add_wchar(c.task, r);
    }
    inc_syscr(c.task);
    inc_syscw(c.task);
    return pos > max ? -EOVERFLOW : r;
}

// sendfile with a user offset of the given width (off_t or loff_t): read, used, written back.
long sendfile_with_offset(SysCtx& c, const uint64_t* a, unsigned width, int64_t max) {
    const uint64_t count = c.compat ? static_cast<uint32_t>(a[3]) : a[3];
    if (!a[2]) return do_sendfile(c, a[0], a[1], nullptr, count, 0);
    int64_t pos = 0;
    if (width == 4) {
        int32_t off = 0;
        if (!copy_from_user(c.mm, &off, VirtAddr(a[2]), sizeof off)) return -EFAULT;
        pos = off;
    } else if (!copy_from_user(c.mm, &pos, VirtAddr(a[2]), sizeof pos)) {
        return -EFAULT;
    }
    const long r = do_sendfile(c, a[0], a[1], &pos, count, max);
    if (!copy_to_user(c.mm, VirtAddr(a[2]), &pos, width)) return -EFAULT;  // put_user (little-endian low bytes)
    return r;
}

// The filesystem a file of copy_file_range is on, as generic_copy_file_checks compares them
// (file_inode(file)->i_sb): a guest filesystem's superblock; hostfs spans the host's
// filesystems, each its own (the host device, as the guest's stat shows and as the native
// program's copy_file_range would compare them); a console redirected to a host file is a
// file of the host filesystem it is on, the one a hostfs file of the same device is on.
struct copy_fs {
    bool known = false;
    const super_block* sb = nullptr;
    uint64_t dev = 0;
    const inode* ino = nullptr;  // file_inode(file); a console's host file by st_ino
    uint64_t host_ino = 0;
    bool same_inode(const copy_fs& o) const { return ino ? ino == o.ino : !o.ino && host_ino == o.host_ino; }
};

copy_fs copy_fs_of(file& f) {
    if (f.f_inode) {
        const super_block* sb = f.f_inode->i_sb;
        if (sb && sb->s_type == "hostfs") return {true, nullptr, f.f_inode->i_dev, f.f_inode.get()};
        return {true, sb, 0, f.f_inode.get()};
    }
    struct stat st {};
    if (f.getattr(st)) return {};
    return {true, nullptr, static_cast<uint64_t>(st.st_dev), nullptr, static_cast<uint64_t>(st.st_ino)};
}

// The checks of copy_file_range before any byte moves (generic_copy_file_checks): both
// regular files (EISDIR, EINVAL), readable in and writable, non-append out (EBADF), one
// filesystem (EXDEV: none here has a copy_file_range of its own; copy_fs_of), no wrap (EOVERFLOW), the
// count cut at in's end, at the caller's RLIMIT_FSIZE (SIGXFSZ and EFBIG when nothing is left)
// and at out's size limit (EFBIG), no overlap within one file (EINVAL).
long generic_copy_file_checks(task_struct& t, file& in, int64_t pos_in, file& out, int64_t pos_out, uint64_t& count) {
    const uint32_t ti = file_type(in), to = file_type(out);
    if (ti == S_IFDIR || to == S_IFDIR) return -EISDIR;
    if (ti != S_IFREG || to != S_IFREG) return -EINVAL;
    // (The access modes as F_GETFL gives them: a console's are its host descriptor's.)
    const long fl_in = in.status_flags() < 0 ? in.f_flags : in.status_flags();
    const long fl_out = out.status_flags() < 0 ? out.f_flags : out.status_flags();
    if (!fmode_read(in) || (fl_in & O_ACCMODE_) == O_WRONLY_ || !fmode_write(out) ||
        (fl_out & O_ACCMODE_) == O_RDONLY_ || (fl_out & O_APPEND_))
        return -EBADF;
    // None has a copy_file_range of its own: one superblock, or EXDEV.
    const copy_fs fs_in = copy_fs_of(in), fs_out = copy_fs_of(out);
    if (!fs_in.known || !fs_out.known || fs_in.sb != fs_out.sb || fs_in.dev != fs_out.dev) return -EXDEV;
    const auto upos_in = static_cast<uint64_t>(pos_in), upos_out = static_cast<uint64_t>(pos_out);
    if (upos_in + count < upos_in || upos_out + count < upos_out) return -EOVERFLOW;
    struct stat st_in {};
    if (!in.f_inode && in.getattr(st_in)) return -EXDEV;
    const auto size_in = in.f_inode ? static_cast<int64_t>(in.f_inode->i_size) : static_cast<int64_t>(st_in.st_size);
    count = pos_in >= size_in ? 0 : std::min(count, static_cast<uint64_t>(size_in - pos_in));
    // generic_write_check_limits
    if (long e = write_check_fsize(t, pos_out, count)) return e;
    const int64_t max_size = (out.f_flags & O_LARGEFILE_) ? s_maxbytes(out) : MAX_NON_LFS;
    if (pos_out >= max_size) return -EFBIG;
    count = std::min(count, static_cast<uint64_t>(max_size - pos_out));
    if (fs_in.same_inode(fs_out) && pos_out + static_cast<int64_t>(count) > pos_in &&
        pos_out < pos_in + static_cast<int64_t>(count))
        return -EINVAL;
    return 0;
}

// Where a copy reads or writes the file: *ppos, which for a console file's own position
// (ppos its f_pos) is the host descriptor's offset.
int64_t copy_pos(file& f, const int64_t* ppos) {
    if (ppos != &f.f_pos || f.f_inode) return *ppos;
    const long p = f.llseek(0, SEEK_CUR);
    return p < 0 ? *ppos : p;
}

// Copies len bytes from in at *ppos_in to out at *ppos_out on one filesystem through the
// page cache (vfs_copy_file_range, its splice fallback), advancing both: bytes copied, short
// at in's end. A position that is the file's own f_pos reads or writes a console file at
// its host descriptor's offset.
long vfs_copy_file_range(SysCtx& c, file& in, int64_t* ppos_in, file& out, int64_t* ppos_out, uint64_t len) {
    int64_t pos_in = copy_pos(in, ppos_in), pos_out = copy_pos(out, ppos_out);
    if (long e = generic_copy_file_checks(c.task, in, pos_in, out, pos_out, len)) return e;
    if (long e = rw_verify_area(&pos_in, len)) return e;
    if (long e = rw_verify_area(&pos_out, len)) return e;
    if (!len) return 0;
    len = std::min(len, MAX_RW_COUNT);
    const long r = do_splice_direct(c.task, in, ppos_in, out, ppos_out, len);
    if (r > 0) add_rchar(c.task, r), add_wchar(c.task, r);
    inc_syscr(c.task);
    inc_syscw(c.task);
    return r;
}

}  // namespace

// x86-64's sendfile is sendfile64 (a loff_t offset); i386's takes a 32-bit off_t and stops
// at MAX_NON_LFS.
long sys_sendfile(SysCtx& c, const uint64_t* a) {
    return c.compat ? sendfile_with_offset(c, a, 4, MAX_NON_LFS) : sendfile_with_offset(c, a, 8, 0);
}
long sys_sendfile64(SysCtx& c, const uint64_t* a) { return sendfile_with_offset(c, a, 8, 0); }

long sys_copy_file_range(SysCtx& c, const uint64_t* a) {
    auto in = fdget(c, a[0]);
    if (!in) return -EBADF;
    auto out = fdget(c, a[2]);
    if (!out) return -EBADF;
    // Without a user offset, the file's own position (which do_splice_direct advances).
    int64_t off_in = 0, off_out = 0;
    if (a[1] && !copy_from_user(c.mm, &off_in, VirtAddr(a[1]), sizeof off_in)) return -EFAULT;
    if (a[3] && !copy_from_user(c.mm, &off_out, VirtAddr(a[3]), sizeof off_out)) return -EFAULT;
    if (static_cast<uint32_t>(a[5])) return -EINVAL;  // no flags are defined
    const uint64_t len = c.compat ? static_cast<uint32_t>(a[4]) : a[4];
    int64_t* ppos_in = a[1] ? &off_in : &in->f_pos;
    int64_t* ppos_out = a[3] ? &off_out : &out->f_pos;
    long r = vfs_copy_file_range(c, *in, ppos_in, *out, ppos_out, len);
    if (r <= 0) return r;
    if (a[1] && !copy_to_user(c.mm, VirtAddr(a[1]), &off_in, sizeof off_in)) r = -EFAULT;
    if (a[3] && !copy_to_user(c.mm, VirtAddr(a[3]), &off_out, sizeof off_out)) r = -EFAULT;
    return r;
}

}  // namespace guestos
