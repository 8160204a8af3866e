// splice, tee, vmsplice and the in-kernel copy behind sendfile and copy_file_range
// (fs/splice.c). Data moves between a file's page cache and pipe buffers through the
// files' own read_iter/write_iter, so it takes the same path as read and write; a regular
// file's pages become pipe buffers cut at the file's page boundaries, as
// filemap_splice_read cuts them. Sleeps are on the pipes' wait queues, so a splice in one
// process wakes a reader or writer in another.
#include "guestos/fs/splice.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "guestos/fs/internal.h"
#include "guestos/fs/pipe.h"
#include "guestos/include/poll.h"
#include "guestos/include/signal.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

namespace {

constexpr unsigned PIPE_BUF_FLAG_GIFT = 0x04;

unsigned pipe_buf_usage(const pipe_inode_info& p) { return p.head - p.tail; }

void wakeup_pipe_readers(pipe_inode_info& p) { wake_up_poll(p.rd_wait, EPOLLIN_ | EPOLLRDNORM_); }
void wakeup_pipe_writers(pipe_inode_info& p) { wake_up_poll(p.wr_wait, EPOLLOUT_ | EPOLLWRNORM_); }

// Appends n bytes as one new buffer at the head (the caller checked a slot is free).
void pipe_push(pipe_inode_info& p, const uint8_t* src, unsigned offset, unsigned n, unsigned flags) {
    pipe_buffer& buf = p.buf(p.head);
    buf.page = std::make_unique<std::array<uint8_t, PIPE_PAGE_SIZE>>();
    std::memcpy(buf.page->data() + offset, src, n);
    buf.offset = offset;
    buf.len = n;
    buf.flags = flags;
    ++p.head;
}

// Drops n bytes from the tail buffer, freeing it when empty: true when it was freed.
bool pipe_consume(pipe_inode_info& p, unsigned n) {
    pipe_buffer& buf = p.buf(p.tail);
    buf.offset += n;
    buf.len -= n;
    if (buf.len) return false;
    buf.page.reset();
    ++p.tail;
    return true;
}

// Waits until the pipe has a free slot (wait_for_space): EPIPE (and SIGPIPE) without
// readers, EAGAIN for SPLICE_F_NONBLOCK, ERESTARTSYS for a signal.
long wait_for_space(task_struct& task, pipe_inode_info& p, unsigned flags) {
    for (;;) {
        if (!p.readers) {
            send_sig(SIGPIPE_, task);
            return -EPIPE;
        }
        if (!p.full()) return 0;
        if (flags & SPLICE_F_NONBLOCK_) return -EAGAIN;
        if (signal_pending(task)) return -ERESTARTSYS;
        (void)wait_event_interruptible(
            task, p.wr_wait, [&] { return !p.full() || !p.readers; }, "splice to a full pipe");
    }
}

// Waits until the pipe has data or no writer (splice_from_pipe_next): 1 with data, 0 at
// its end or once something was spliced, else EAGAIN or ERESTARTSYS.
long splice_from_pipe_next(task_struct& task, pipe_inode_info& p, unsigned flags, uint64_t num_spliced) {
    if (signal_pending(task)) return -ERESTARTSYS;
    while (p.empty()) {
        if (!p.writers || num_spliced) return 0;
        if (flags & SPLICE_F_NONBLOCK_) return -EAGAIN;
        wakeup_pipe_writers(p);
        if (wait_event_interruptible(
                task, p.rd_wait, [&] { return !p.empty() || !p.writers; }, "splice from an empty pipe"))
            return -ERESTARTSYS;
    }
    return 1;
}

// Reads up to len bytes of a regular file at *ppos into pipe buffers, one per file page
// touched (filemap_splice_read): short at the end of the file, never blocking.
long filemap_splice_read(task_struct& task, file& in, int64_t* ppos, pipe_inode_info& p, uint64_t len) {
    uint64_t done = 0;
    std::array<uint8_t, PIPE_PAGE_SIZE> page;
    while (done < len && !p.full()) {
        const auto offset = static_cast<unsigned>(static_cast<uint64_t>(*ppos) & (PIPE_PAGE_SIZE - 1));
        const uint64_t want = std::min<uint64_t>(len - done, PIPE_PAGE_SIZE - offset);
        kiocb iocb{task, ppos, 0};
        const long r = in.read_iter(iocb, page.data(), want);
        if (r < 0) return done ? static_cast<long>(done) : r;
        if (!r) break;
        pipe_push(p, page.data(), offset, static_cast<unsigned>(r), 0);
        done += static_cast<uint64_t>(r);
        if (static_cast<uint64_t>(r) < want) break;
    }
    return static_cast<long>(done);
}

// Reads once, up to len bytes (at most IO_CHUNK), into whole-page pipe buffers
// (copy_splice_read): what a /proc file, a tty, a device or a socket gives, with the
// file's own splice_read flags.
long copy_splice_read(task_struct& task, file& in, int64_t* ppos, pipe_inode_info& p, uint64_t len, unsigned flags) {
    io_buffer tmp(std::min(len, IO_CHUNK));
    kiocb iocb{task, ppos, in.splice_read_iocb_flags(flags)};
    const long r = in.read_iter(iocb, tmp.data(), tmp.size());
    if (r <= 0) return r;
    for (uint64_t off = 0; off < static_cast<uint64_t>(r); off += PIPE_PAGE_SIZE)
        pipe_push(p, tmp.data() + off, 0, static_cast<unsigned>(std::min<uint64_t>(PIPE_PAGE_SIZE, r - off)), 0);
    return r;
}

// Writes up to len bytes from the pipe's buffers to out at *ppos (iter_file_splice_write):
// waits for data as a pipe read does, writes what the buffers hold in one write each round,
// stops at a short write. Bytes spliced, or the error when none were.
long iter_file_splice_write(task_struct& task, pipe_inode_info& p, file& out, int64_t* ppos, uint64_t len,
                            unsigned flags) {
    uint64_t spliced = 0;
    std::vector<uint8_t> tmp;
    long ret = 0;
    while (spliced < len) {
        ret = splice_from_pipe_next(task, p, flags, spliced);
        if (ret <= 0) break;
        // Gather the buffers' bytes, up to what is left and one host chunk.
        const uint64_t left = std::min(len - spliced, IO_CHUNK);
        tmp.clear();
        for (unsigned i = p.tail; i != p.head && tmp.size() < left; ++i) {
            const pipe_buffer& buf = p.buf(i);
            const uint64_t k = std::min<uint64_t>(buf.len, left - tmp.size());
            tmp.insert(tmp.end(), buf.page->data() + buf.offset, buf.page->data() + buf.offset + k);
        }
        kiocb iocb{task, ppos, iocb_flags(out)};
        ret = out.write_iter(iocb, tmp.data(), tmp.size());
        if (ret <= 0) break;
        for (auto n = static_cast<uint64_t>(ret); n;) {  // consume what was written
            const unsigned k = static_cast<unsigned>(std::min<uint64_t>(n, p.buf(p.tail).len));
            pipe_consume(p, k);
            n -= k;
        }
        spliced += static_cast<uint64_t>(ret);
        wakeup_pipe_writers(p);  // a short write goes on: the next one tells why (EFBIG, ENOSPC)
    }
    return spliced ? static_cast<long>(spliced) : ret;
}

// Waits for data in the input pipe of a pipe-to-pipe splice or tee (ipipe_prep): 0 with
// data or no writer left.
long ipipe_prep(task_struct& task, pipe_inode_info& p, unsigned flags) {
    while (p.empty()) {
        if (signal_pending(task)) return -ERESTARTSYS;
        if (!p.writers) return 0;
        if (flags & SPLICE_F_NONBLOCK_) return -EAGAIN;
        if (wait_event_interruptible(
                task, p.rd_wait, [&] { return !p.empty() || !p.writers; }, "splice from an empty pipe"))
            return -ERESTARTSYS;
    }
    return 0;
}

// Waits for room in the output pipe (opipe_prep): EPIPE and SIGPIPE without readers.
long opipe_prep(task_struct& task, pipe_inode_info& p, unsigned flags) {
    while (p.full()) {
        if (!p.readers) {
            send_sig(SIGPIPE_, task);
            return -EPIPE;
        }
        if (flags & SPLICE_F_NONBLOCK_) return -EAGAIN;
        if (signal_pending(task)) return -ERESTARTSYS;
        (void)wait_event_interruptible(
            task, p.wr_wait, [&] { return !p.full() || !p.readers; }, "splice to a full pipe");
    }
    return 0;
}

// A copy of the buffer's bytes as a new buffer of o, its first n bytes, not mergeable (a
// reference to the same page in Linux: the bytes are the same).
void pipe_buf_dup(pipe_inode_info& o, const pipe_buffer& ibuf, unsigned n) {
    pipe_push(o, ibuf.page->data() + ibuf.offset, ibuf.offset, n,
              ibuf.flags & ~(PIPE_BUF_FLAG_GIFT | PIPE_BUF_FLAG_CAN_MERGE));
}

// Moves up to len bytes of buffers from ipipe to opipe (splice_pipe_to_pipe): whole buffers
// move as they are, the last one is split.
long splice_pipe_to_pipe(task_struct& task, pipe_inode_info& ip, pipe_inode_info& op, uint64_t len, unsigned flags) {
    long ret = 0;
    bool input_wakeup = false;
    for (;;) {
        if (long e = ipipe_prep(task, ip, flags)) return e;
        if (long e = opipe_prep(task, op, flags)) return e;
        bool again = false;
        do {
            if (!op.readers) {
                send_sig(SIGPIPE_, task);
                if (!ret) ret = -EPIPE;
                break;
            }
            if (ip.empty() && !ip.writers) break;
            if (ip.empty() || op.full()) {  // no progress possible
                if (ret) break;
                if (flags & SPLICE_F_NONBLOCK_) {
                    ret = -EAGAIN;
                    break;
                }
                again = true;  // raced: wait again
                break;
            }
            pipe_buffer& ibuf = ip.buf(ip.tail);
            uint64_t o_len;
            if (len >= ibuf.len) {  // the whole buffer moves
                pipe_buffer& obuf = op.buf(op.head);
                obuf = std::move(ibuf);
                ibuf = pipe_buffer{};
                ++ip.tail;
                input_wakeup = true;
                o_len = obuf.len;
                ++op.head;
            } else {
                pipe_buf_dup(op, ibuf, static_cast<unsigned>(len));
                ibuf.offset += static_cast<unsigned>(len);
                ibuf.len -= static_cast<unsigned>(len);
                o_len = len;
            }
            ret += static_cast<long>(o_len);
            len -= o_len;
        } while (len);
        if (!again) break;
    }
    if (ret > 0) wakeup_pipe_readers(op);
    if (input_wakeup) wakeup_pipe_writers(ip);
    return ret;
}

// Duplicates up to len bytes of ipipe's buffers into opipe, leaving ipipe as it was
// (link_pipe, tee's core).
long link_pipe(task_struct& task, pipe_inode_info& ip, pipe_inode_info& op, uint64_t len) {
    long ret = 0;
    for (unsigned i_tail = ip.tail; len;) {
        if (!op.readers) {
            send_sig(SIGPIPE_, task);
            if (!ret) ret = -EPIPE;
            break;
        }
        if (i_tail == ip.head || op.full()) break;
        const pipe_buffer& ibuf = ip.buf(i_tail);
        const auto n = static_cast<unsigned>(std::min<uint64_t>(ibuf.len, len));
        pipe_buf_dup(op, ibuf, n);
        ret += n;
        len -= n;
        ++i_tail;
    }
    if (ret > 0) wakeup_pipe_readers(op);
    return ret;
}

// Checks what a splice of len bytes from a file may read, then reads it into the pipe
// (do_splice_read): no more than the pipe's free slots hold.
long do_splice_read(task_struct& task, file& in, int64_t* ppos, pipe_inode_info& p, uint64_t len, unsigned flags) {
    if (!fmode_read(in)) return -EBADF;
    if (!len) return 0;
    len = std::min<uint64_t>(len, static_cast<uint64_t>(p.max_usage - pipe_buf_usage(p)) * PIPE_PAGE_SIZE);
    if (long e = rw_verify_area(ppos, len)) return e;
    len = std::min(len, MAX_RW_COUNT);
    if (!in.has_splice_read()) return -EINVAL;
    const bool filemap = in.f_inode && S_ISREG(in.f_inode->i_mode) && dynamic_cast<inode_file*>(&in);
    return filemap ? filemap_splice_read(task, in, ppos, p, len) : copy_splice_read(task, in, ppos, p, len, flags);
}

// Writes from the pipe to out (do_splice_from): EINVAL for a file splice cannot write.
long do_splice_from(task_struct& task, pipe_inode_info& p, file& out, int64_t* ppos, uint64_t len, unsigned flags) {
    if (!out.has_splice_write()) return -EINVAL;
    return iter_file_splice_write(task, p, out, ppos, len, flags);
}

// Copies the user buffers into pipe buffers, one per user page touched (iter_to_pipe):
// bytes taken, or EFAULT when the first page cannot be read.
long iter_to_pipe(SysCtx& c, const user_iovec& iov, pipe_inode_info& p, unsigned buf_flag) {
    long total = 0;
    std::array<uint8_t, PIPE_PAGE_SIZE> page;
    for (auto [base, len] : iov) {
        for (uint64_t off = 0; off < len;) {
            if (p.full()) return total;
            const VirtAddr src(base + off);
            const auto n = static_cast<unsigned>(std::min<uint64_t>(len - off, PAGE_SIZE - src.page_offset()));
            if (!copy_from_user(c.mm, page.data(), src, n)) return total ? total : -EFAULT;
            pipe_push(p, page.data(), static_cast<unsigned>(src.page_offset()), n, buf_flag);
            total += n;
            off += n;
        }
    }
    return total;
}

// vmsplice of user memory into a pipe (vmsplice_to_pipe).
long vmsplice_to_pipe(SysCtx& c, pipe_inode_info& p, const user_iovec& iov, unsigned flags) {
    if (long e = wait_for_space(c.task, p, flags)) return e;
    const long r = iter_to_pipe(c, iov, p, (flags & SPLICE_F_GIFT_) ? PIPE_BUF_FLAG_GIFT : 0);
    if (r > 0) {
        p.i_mtime = p.i_ctime = current_time();
        wakeup_pipe_readers(p);
    }
    return r;
}

// vmsplice from a pipe into user memory (vmsplice_to_user, __splice_from_pipe with
// pipe_to_user): bytes copied, or the error when none were.
long vmsplice_to_user(SysCtx& c, pipe_inode_info& p, const user_iovec& iov, unsigned flags) {
    uint64_t total_len = 0;
    for (auto [base, len] : iov) total_len += len;
    uint64_t spliced = 0;
    size_t seg = 0;
    uint64_t seg_off = 0;
    long ret = 0;
    while (spliced < total_len) {
        ret = splice_from_pipe_next(c.task, p, flags, spliced);
        if (ret <= 0) break;
        while (!p.empty() && spliced < total_len) {  // splice_from_pipe_feed
            pipe_buffer& buf = p.buf(p.tail);
            const auto n = static_cast<unsigned>(std::min<uint64_t>({buf.len, iov[seg].second - seg_off}));
            if (n && !copy_to_user(c.mm, VirtAddr(iov[seg].first + seg_off), buf.page->data() + buf.offset, n)) {
                ret = -EFAULT;
                break;
            }
            spliced += n;
            seg_off += n;
            if (seg_off == iov[seg].second) ++seg, seg_off = 0;
            if (pipe_consume(p, n)) wakeup_pipe_writers(p);
        }
        if (ret < 0) break;
    }
    if (spliced) p.i_atime = current_time();
    return spliced ? static_cast<long>(spliced) : ret;
}

// splice's core with the offsets already read (do_splice): the pipe end takes no offset
// (ESPIPE), the file end's offset must be one it can pread/pwrite (EINVAL), an O_APPEND
// output is EINVAL, and neither end a pipe is EINVAL.
long do_splice(task_struct& task, file& in, int64_t* off_in, file& out, int64_t* off_out, uint64_t len,
               unsigned flags) {
    if (!fmode_read(in) || !fmode_write(out)) return -EBADF;
    pipe_inode_info* ip = get_pipe_info(in);
    pipe_inode_info* op = get_pipe_info(out);
    if (ip && op) {
        if (off_in || off_out) return -ESPIPE;
        if (ip == op) return -EINVAL;  // a pipe into itself
        if ((in.f_flags | out.f_flags) & O_NONBLOCK_) flags |= SPLICE_F_NONBLOCK_;
        return splice_pipe_to_pipe(task, *ip, *op, len, flags);
    }
    if (ip) {
        if (off_in) return -ESPIPE;
        if (off_out && !(out.f_mode & FMODE_PWRITE)) return -EINVAL;
        if (out.f_flags & O_APPEND_) return -EINVAL;
        // Without an offset, at the file's own position: a console file given a regular
        // file as stdout then writes through the host descriptor's offset, which its
        // write(2)s moved (as do_sendfile does).
        int64_t* ppos = off_out ? off_out : &out.f_pos;
        int64_t offset = *ppos;
        if (long e = rw_verify_area(&offset, len)) return e;
        if (in.f_flags & O_NONBLOCK_) flags |= SPLICE_F_NONBLOCK_;
        return do_splice_from(task, *ip, out, ppos, len, flags);
    }
    if (op) {
        if (off_out) return -ESPIPE;
        if (off_in && !(in.f_mode & FMODE_PREAD)) return -EINVAL;
        if (out.f_flags & O_NONBLOCK_) flags |= SPLICE_F_NONBLOCK_;
        // The same for a console file given a regular file as stdin: its read(2)s moved the
        // host descriptor's offset.
        return splice_file_to_pipe(task, in, *op, off_in ? off_in : &in.f_pos, len, flags);
    }
    return -EINVAL;
}

// Reads a user loff_t (an offset argument), or EFAULT.
bool get_user_loff(SysCtx& c, uint64_t uaddr, int64_t& v) {
    return copy_from_user(c.mm, &v, VirtAddr(uaddr), sizeof v);
}
bool put_user_loff(SysCtx& c, uint64_t uaddr, int64_t v) { return copy_to_user(c.mm, VirtAddr(uaddr), &v, sizeof v); }

}  // namespace

long splice_file_to_pipe(task_struct& task, file& in, pipe_inode_info& p, int64_t* offset, uint64_t len,
                         unsigned flags) {
    long r = wait_for_space(task, p, flags);
    if (!r) r = do_splice_read(task, in, offset, p, len, flags);
    if (r > 0) wakeup_pipe_readers(p);
    return r;
}

long do_splice_direct(task_struct& task, file& in, int64_t* ppos, file& out, int64_t* opos, uint64_t len) {
    if (!fmode_write(out)) return -EBADF;
    if (out.f_flags & O_APPEND_) return -EINVAL;
    // A seekable input only (FMODE_LSEEK): a stream (pipe, socket) would lose what was read.
    if (!(in.f_mode & FMODE_PREAD)) return -EINVAL;
    // A private pipe of Linux's default size carries each round (current->splice_pipe).
    pipe_inode_info p;
    p.bufs.resize(PIPE_DEF_BUFFERS);
    p.readers = p.writers = 1;
    uint64_t bytes = 0;
    long ret = 0;
    while (len) {
        // (Read at *ppos itself: a console file given a regular file as stdin reads at the
        // host descriptor's offset when ppos is its f_pos.)
        const int64_t prev_pos = *ppos;
        ret = do_splice_read(task, in, ppos, p, len, 0);
        if (ret <= 0) break;
        const auto read_len = static_cast<uint64_t>(ret);
        ret = do_splice_from(task, p, out, opos, read_len, 0);
        if (ret <= 0) {
            *ppos = prev_pos;
            break;
        }
        bytes += static_cast<uint64_t>(ret);
        len -= static_cast<uint64_t>(ret);
        if (static_cast<uint64_t>(ret) < read_len) {
            *ppos = prev_pos + ret;
            break;
        }
    }
    return bytes ? static_cast<long>(bytes) : ret;
}

long sys_splice(SysCtx& c, const uint64_t* a) {
    const uint64_t len = c.compat ? static_cast<uint32_t>(a[4]) : a[4];
    const auto flags = static_cast<uint32_t>(a[5]);
    if (!len) return 0;
    if (flags & ~SPLICE_F_ALL_) return -EINVAL;
    auto in = fdget(c, a[0]);
    if (!in) return -EBADF;
    auto out = fdget(c, a[2]);
    if (!out) return -EBADF;
    // __do_splice: an offset for a pipe end is ESPIPE before any is read.
    const bool ipipe = get_pipe_info(*in), opipe = get_pipe_info(*out);
    if ((ipipe && a[1]) || (opipe && a[3])) return -ESPIPE;
    int64_t off_in = 0, off_out = 0;
    if (a[3] && !get_user_loff(c, a[3], off_out)) return -EFAULT;
    if (a[1] && !get_user_loff(c, a[1], off_in)) return -EFAULT;
    const long r = do_splice(c.task, *in, a[1] ? &off_in : nullptr, *out, a[3] ? &off_out : nullptr, len, flags);
    if (r < 0) return r;
    if (a[3] && !put_user_loff(c, a[3], off_out)) return -EFAULT;
    if (a[1] && !put_user_loff(c, a[1], off_in)) return -EFAULT;
    return r;
}

long sys_tee(SysCtx& c, const uint64_t* a) {
    const uint64_t len = c.compat ? static_cast<uint32_t>(a[2]) : a[2];
    unsigned flags = static_cast<uint32_t>(a[3]);
    if (flags & ~SPLICE_F_ALL_) return -EINVAL;
    if (!len) return 0;
    auto in = fdget(c, a[0]);
    if (!in) return -EBADF;
    auto out = fdget(c, a[1]);
    if (!out) return -EBADF;
    // do_tee: two different pipes, read end to write end.
    if (!fmode_read(*in) || !fmode_write(*out)) return -EBADF;
    pipe_inode_info* ip = get_pipe_info(*in);
    pipe_inode_info* op = get_pipe_info(*out);
    if (!ip || !op || ip == op) return -EINVAL;
    if ((in->f_flags | out->f_flags) & O_NONBLOCK_) flags |= SPLICE_F_NONBLOCK_;
    if (long e = ipipe_prep(c.task, *ip, flags)) return e;
    if (long e = opipe_prep(c.task, *op, flags)) return e;
    return link_pipe(c.task, *ip, *op, len);
}

long sys_vmsplice(SysCtx& c, const uint64_t* a) {
    const auto flags = static_cast<uint32_t>(a[3]);
    if (flags & ~SPLICE_F_ALL_) return -EINVAL;
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const bool to_pipe = fmode_write(*f);
    if (!to_pipe && !fmode_read(*f)) return -EBADF;
    user_iovec iov;
    const long total = import_iovec(c, VirtAddr(a[1]), a[2], iov);
    if (total <= 0) return total;
    pipe_inode_info* p = get_pipe_info(*f);
    if (!p) return -EBADF;
    return to_pipe ? vmsplice_to_pipe(c, *p, iov, flags) : vmsplice_to_user(c, *p, iov, flags);
}

}  // namespace guestos
