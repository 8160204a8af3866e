// Pipe reads and writes with Linux's buffer rules (pipe_read, pipe_write), which decide how
// much a full pipe still takes: a write merges its first (len % PAGE_SIZE) bytes into the
// last page when they fit, then fills one fresh page per 4 KiB while slots are free. So a
// write of at most PIPE_BUF (a page) is taken whole or not at all.
#include "guestos/include/uapi/fcntl.h"
#include "guestos/kernel/time/time.h"
#include "guestos/fs/pipe.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <map>

#include "guestos/include/cred.h"
#include "guestos/include/dcache.h"
#include "guestos/include/poll.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/sysctl.h"

namespace guestos {

namespace {

// The pipefs inode numbers (get_next_ino) and device, as a host pipe shows it.
uint64_t next_pipe_ino() {
    static uint64_t ino = 1000;
    return ++ino;
}

dev_t pipefs_dev() {
    static const dev_t dev = [] {
        int fds[2];
        struct stat st {};
        if (::pipe(fds) == 0) {
            ::fstat(fds[0], &st);
            ::close(fds[0]);
            ::close(fds[1]);
        }
        return st.st_dev;
    }();
    return dev;
}

// The pipe sysctls (fs/pipe.c): the largest size F_SETPIPE_SZ gives without
// CAP_SYS_RESOURCE, and the pages an unprivileged user's pipes may hold (hard: none more;
// soft: new pipes get two slots, 16 per file descriptor of INR_OPEN_CUR).
unsigned pipe_max_size = 1048576;
unsigned long pipe_user_pages_hard = 0, pipe_user_pages_soft = PIPE_DEF_BUFFERS * 1024;
constexpr unsigned PIPE_MIN_DEF_BUFFERS = 2;

// The pipe slots each user's pipes hold (user_struct's pipe_bufs).
std::map<uint32_t, unsigned long>& pipe_bufs_by_user() {
    static std::map<uint32_t, unsigned long> bufs;
    return bufs;
}

// Moves a pipe's count from old to new slots; the user's new total (account_pipe_buffers).
unsigned long account_pipe_buffers(uint32_t user, unsigned long old, unsigned long now) {
    unsigned long& n = pipe_bufs_by_user()[user];
    n = n + now - old;
    return n;
}

bool too_many_pipe_buffers_soft(unsigned long user_bufs) {
    return pipe_user_pages_soft && user_bufs > pipe_user_pages_soft;
}
bool too_many_pipe_buffers_hard(unsigned long user_bufs) {
    return pipe_user_pages_hard && user_bufs > pipe_user_pages_hard;
}
bool pipe_is_unprivileged_user() { return !capable(CAP_SYS_RESOURCE_) && !capable(CAP_SYS_ADMIN_); }

// A pipe size rounded up to a power-of-two number of pages (round_pipe_size); 0 if too big.
unsigned long round_pipe_size(unsigned size) {
    if (size > (1u << 31)) return 0;
    if (size < PIPE_PAGE_SIZE) return PIPE_PAGE_SIZE;
    return std::bit_ceil(size);
}

// fs.pipe-max-size (proc_dopipe_max_size): an unsigned int, a write rounded as
// round_pipe_size rounds (its low 32 bits; EINVAL past 2 GiB).
long proc_dopipe_max_size(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    unsigned long v = pipe_max_size;
    ctl_table t = *table;
    t.data = &v;
    t.maxlen = sizeof v;
    t.extra1 = t.extra2 = nullptr;
    if (!write) return proc_doulongvec_minmax(&t, write, buffer, lenp, ppos);
    const int64_t pos = *ppos;
    const long ret = proc_doulongvec_minmax(&t, write, buffer, lenp, ppos);
    if (ret || pos) return ret;
    const unsigned long size = round_pipe_size(static_cast<unsigned>(v));
    if (!size) return -EINVAL;
    pipe_max_size = static_cast<unsigned>(size);
    return 0;
}

// Moves the unread buffers into a ring of nr_slots (pipe_resize_ring).
long pipe_resize_ring(pipe_inode_info& pipe, unsigned nr_slots) {
    const unsigned n = pipe.head - pipe.tail;
    if (nr_slots < n) return -EBUSY;
    std::vector<pipe_buffer> bufs(nr_slots);
    for (unsigned i = 0; i < n; ++i) bufs[i] = std::move(pipe.buf(pipe.tail + i));
    pipe.bufs = std::move(bufs);
    pipe.tail = 0;
    pipe.head = n;
    return 0;
}

}  // namespace

pipe_inode_info::~pipe_inode_info() { account_pipe_buffers(user, nr_accounted, 0); }

void pipe_sysctl_init(ctl_table_root& root) {
    root.register_sysctl(
        "fs",
        {
            {"pipe-max-size", &pipe_max_size, sizeof pipe_max_size, 0644, proc_dopipe_max_size},
            {"pipe-user-pages-hard", &pipe_user_pages_hard, sizeof pipe_user_pages_hard, 0644, proc_doulongvec_minmax},
            {"pipe-user-pages-soft", &pipe_user_pages_soft, sizeof pipe_user_pages_soft, 0644, proc_doulongvec_minmax},
        });
}

uint64_t pipe_inode_info::unread_bytes() {
    uint64_t n = 0;
    for (unsigned i = tail; i != head; ++i) n += buf(i).len;
    return n;
}

pipe_file::pipe_file(std::shared_ptr<pipe_inode_info> pipe, unsigned flags) : pipe_(std::move(pipe)) {
    f_flags = flags;
    f_mode = FMODE_NOWAIT;  // stream_open: no pread, no pwrite; RWF_NOWAIT is EAGAIN
    if (reads()) ++pipe_->readers;
    if (writes()) ++pipe_->writers;
}

pipe_file::~pipe_file() {  // __fput's fasync off, then pipe_release: the other end sees EOF or EPIPE
    if (f_flags & O_ASYNC_) fasync(-1, false);
    if (reads()) --pipe_->readers;
    if (writes()) --pipe_->writers;
    wake_up(pipe_->rd_wait);
    wake_up(pipe_->wr_wait);
    if (!pipe_->readers != !pipe_->writers) {
        kill_fasync(pipe_->fasync_readers, SIGIO_, POLL_IN_);
        kill_fasync(pipe_->fasync_writers, SIGIO_, POLL_OUT_);
    }
}

int pipe_file::fasync(int fd, bool on) {
    int ret = 0;
    if (reads()) ret = fasync_helper(fd, *this, on, pipe_->fasync_readers);
    if (writes()) ret = fasync_helper(fd, *this, on, pipe_->fasync_writers);
    return ret;
}

// Readable with data, hung up with no writer left; writable with a free slot, in error
// with no reader left (pipe_poll).
uint32_t pipe_file::poll(poll_table* wait) {
    pipe_inode_info& pipe = *pipe_;
    if (reads()) poll_wait(*this, pipe.rd_wait, wait);
    if (writes()) poll_wait(*this, pipe.wr_wait, wait);
    uint32_t mask = 0;
    if (reads()) {
        if (!pipe.empty()) mask |= EPOLLIN_ | EPOLLRDNORM_;
        if (!pipe.writers && f_pipe != pipe.w_counter) mask |= EPOLLHUP_;
    }
    if (writes()) {
        if (!pipe.full()) mask |= EPOLLOUT_ | EPOLLWRNORM_;
        if (!pipe.readers) mask |= EPOLLERR_;
    }
    return mask;
}

// Every read that got as far as the pipe tells the O_ASYNC writers (kill_fasync with
// POLL_OUT), unless a signal ended its wait; every write tells the readers (POLL_IN).
long pipe_file::read_iter(kiocb& iocb, uint8_t* to, uint64_t total_len) {
    if (!total_len) return 0;
    const long ret = pipe_read(iocb, to, total_len);
    if (ret != -ERESTARTSYS) kill_fasync(pipe_->fasync_writers, SIGIO_, POLL_OUT_);
    return ret;
}

long pipe_file::write_iter(kiocb& iocb, const uint8_t* from, uint64_t total_len) {
    if (!total_len) return 0;
    const long ret = pipe_write(iocb, from, total_len);
    kill_fasync(pipe_->fasync_readers, SIGIO_, POLL_IN_);
    return ret;
}

long pipe_file::pipe_read(kiocb& iocb, uint8_t* to, uint64_t total_len) {
    pipe_inode_info& pipe = *pipe_;
    uint64_t ret = 0;
    for (;;) {
        if (!pipe.empty()) {
            pipe_buffer& buf = pipe.buf(pipe.tail);
            const uint64_t chars = std::min<uint64_t>(buf.len, total_len);
            std::memcpy(to + ret, buf.page->data() + buf.offset, chars);
            ret += chars;
            buf.offset += static_cast<unsigned>(chars);
            buf.len -= static_cast<unsigned>(chars);
            if (buf.flags & PIPE_BUF_FLAG_PACKET) {  // a packet is read whole or its rest dropped
                total_len = chars;
                buf.len = 0;
            }
            if (!buf.len) {
                buf.page.reset();
                ++pipe.tail;
            }
            total_len -= chars;
            if (!total_len) break;
            if (!pipe.empty()) continue;
        }
        if (!pipe.writers) break;  // end of file
        if (ret) break;
        if ((f_flags & O_NONBLOCK_) || (iocb.ki_flags & IOCB_NOWAIT)) return -EAGAIN;
        kill_fasync(pipe.fasync_writers, SIGIO_, POLL_OUT_);
        const long e = wait_event_interruptible(
            iocb.task, pipe.rd_wait, [&] { return !pipe.empty() || !pipe.writers; }, "read from an empty pipe");
        if (e) return e;
    }
    if (ret) {
        pipe.i_atime = current_time();                         // file_accessed
        wake_up_poll(pipe.wr_wait, EPOLLOUT_ | EPOLLWRNORM_);  // room for writers
    }
    return static_cast<long>(ret);
}

long pipe_file::pipe_write(kiocb& iocb, const uint8_t* from, uint64_t total_len) {
    pipe_inode_info& pipe = *pipe_;
    auto send_sigpipe = [&] {  // unless RWF_NOSIGNAL
        if (!(iocb.ki_flags & IOCB_NOSIGNAL)) send_sig(SIGPIPE_, iocb.task);
    };
    if (!pipe.readers) {
        send_sigpipe();
        return -EPIPE;
    }
    uint64_t ret = 0;
    // Merge the first len % PAGE_SIZE bytes into the last buffer if they fit there.
    const uint64_t chars = total_len & (PIPE_PAGE_SIZE - 1);
    if (chars && !pipe.empty()) {
        pipe_buffer& buf = pipe.buf(pipe.head - 1);
        const uint64_t offset = buf.offset + buf.len;
        if ((buf.flags & PIPE_BUF_FLAG_CAN_MERGE) && offset + chars <= PIPE_PAGE_SIZE) {
            std::memcpy(buf.page->data() + offset, from, chars);
            buf.len += static_cast<unsigned>(chars);
            ret = chars;
            total_len -= chars;
            wake_up_poll(pipe.rd_wait, EPOLLIN_ | EPOLLRDNORM_);
            if (!total_len) return static_cast<long>(ret);
        }
    }
    for (;;) {
        if (!pipe.readers) {
            send_sigpipe();
            if (!ret) return -EPIPE;
            break;
        }
        if (!pipe.full()) {
            pipe_buffer& buf = pipe.buf(pipe.head);
            buf.page = std::make_unique<std::array<uint8_t, PIPE_PAGE_SIZE>>();
            const uint64_t n = std::min<uint64_t>(PIPE_PAGE_SIZE, total_len);
            std::memcpy(buf.page->data(), from + ret, n);
            buf.offset = 0;
            buf.len = static_cast<unsigned>(n);
            // O_DIRECT on the write end makes a packet pipe: each write a message.
            buf.flags = (f_flags & O_DIRECT_) ? PIPE_BUF_FLAG_PACKET : PIPE_BUF_FLAG_CAN_MERGE;
            ++pipe.head;
            ret += n;
            total_len -= n;
            if (!total_len) break;
        }
        if (!pipe.full()) continue;
        if ((f_flags & O_NONBLOCK_) || (iocb.ki_flags & IOCB_NOWAIT)) {
            if (!ret) return -EAGAIN;
            break;
        }
        if (signal_pending(iocb.task)) {
            if (!ret) return -ERESTARTSYS;
            break;
        }
        wake_up_poll(pipe.rd_wait, EPOLLIN_ | EPOLLRDNORM_);  // what is written so far can be read meanwhile
        kill_fasync(pipe.fasync_readers, SIGIO_, POLL_IN_);
        (void)wait_event_interruptible(
            iocb.task, pipe.wr_wait, [&] { return !pipe.full() || !pipe.readers; }, "write to a full pipe");
    }
    pipe.i_mtime = pipe.i_ctime = current_time();
    wake_up_poll(pipe.rd_wait, EPOLLIN_ | EPOLLRDNORM_);
    return static_cast<long>(ret);
}

long pipe_file::getattr(struct stat& st) {
    if (f_inode) return file::getattr(st);  // a FIFO is its inode on its filesystem
    st = {};
    st.st_dev = pipefs_dev();
    st.st_ino = pipe_->i_ino;
    st.st_mode = S_IFIFO | S_IRUSR | S_IWUSR;
    st.st_nlink = 1;
    st.st_uid = current_cred().fsuid;
    st.st_gid = current_cred().fsgid;
    st.st_blksize = PIPE_PAGE_SIZE;
    st.st_atim = pipe_->i_atime;
    st.st_mtim = pipe_->i_mtime;
    st.st_ctim = pipe_->i_ctime;
    return 0;
}

bool pipe_file::ioctl_sizes(unsigned long cmd, size_t& in_len, size_t& out_len) const {
    if (cmd != FIONREAD) return false;
    in_len = 0;
    out_len = sizeof(int32_t);
    return true;
}

long pipe_file::ioctl(unsigned long cmd, uint8_t* arg, size_t&, size_t& out_len) {
    if (cmd != FIONREAD) return -ENOTTY;
    const auto count = static_cast<int32_t>(pipe_->unread_bytes());
    std::memcpy(arg, &count, sizeof count);
    out_len = sizeof count;
    return 0;
}

pipe_inode_info* get_pipe_info(file& f) {
    auto* pf = dynamic_cast<pipe_file*>(&f);
    return pf ? &pf->pipe() : nullptr;
}

namespace {

// A new empty pipe (alloc_pipe_info): 16 slots, fewer when pipe-max-size is smaller and
// the caller lacks CAP_SYS_RESOURCE, two for an unprivileged user over the soft limit;
// null for one over the hard limit.
std::shared_ptr<pipe_inode_info> alloc_pipe_info() {
    unsigned long pipe_bufs = PIPE_DEF_BUFFERS;
    const uint32_t user = current_cred().uid;
    if (pipe_bufs * PIPE_PAGE_SIZE > pipe_max_size && !capable(CAP_SYS_RESOURCE_))
        pipe_bufs = pipe_max_size / PIPE_PAGE_SIZE;
    unsigned long user_bufs = account_pipe_buffers(user, 0, pipe_bufs);
    if (too_many_pipe_buffers_soft(user_bufs) && pipe_is_unprivileged_user()) {
        user_bufs = account_pipe_buffers(user, pipe_bufs, PIPE_MIN_DEF_BUFFERS);
        pipe_bufs = PIPE_MIN_DEF_BUFFERS;
    }
    if (too_many_pipe_buffers_hard(user_bufs) && pipe_is_unprivileged_user()) {
        account_pipe_buffers(user, pipe_bufs, 0);
        return nullptr;
    }
    auto pipe = std::make_shared<pipe_inode_info>();
    pipe->user = user;
    pipe->nr_accounted = pipe_bufs;
    pipe->max_usage = static_cast<unsigned>(pipe_bufs);
    pipe->bufs.resize(pipe_bufs);
    pipe->i_ino = next_pipe_ino();
    pipe->i_atime = pipe->i_mtime = pipe->i_ctime = current_time();
    return pipe;
}

// Wakes whoever waits in fifo_open for this end (wake_up_partner).
void wake_up_partner(pipe_inode_info& pipe) { wake_up(pipe.rd_wait); }

// Sleeps until the other end's open count moves past what it is now (wait_for_partner).
long wait_for_partner(task_struct& t, pipe_inode_info& pipe, const unsigned& cnt) {
    const unsigned cur = cnt;
    (void)wait_event_interruptible(
        t, pipe.rd_wait, [&] { return cnt != cur; }, "open a FIFO");
    return cnt == cur ? -ERESTARTSYS : 0;
}

}  // namespace

long fifo_open(const struct path& p, unsigned flags, task_struct& t, std::shared_ptr<file>& out) {
    inode& ino = *p.dentry->d_inode;
    auto pipe = ino.i_pipe.lock();
    if (!pipe) ino.i_pipe = pipe = alloc_pipe_info();
    if (!pipe) return -ENOMEM;
    const unsigned acc = flags & O_ACCMODE_;
    if (acc == O_ACCMODE_) return -EINVAL;  // neither FMODE_READ nor FMODE_WRITE
    if (acc == O_WRONLY_ && (flags & O_NONBLOCK_) && !pipe->readers) return -ENXIO;
    auto f = std::make_shared<pipe_file>(pipe, flags);  // counts it among readers/writers
    f->f_inode = p.dentry->d_inode;
    f->f_path = p;
    if (acc != O_WRONLY_) ++pipe->r_counter;
    if (acc != O_RDONLY_) ++pipe->w_counter;
    if ((acc != O_WRONLY_ && pipe->readers == 1) || (acc != O_RDONLY_ && pipe->writers == 1)) wake_up_partner(*pipe);
    if (acc == O_RDONLY_ && !pipe->writers) {
        if (flags & O_NONBLOCK_) f->f_pipe = pipe->w_counter;
        else if (long e = wait_for_partner(t, *pipe, pipe->w_counter)) return e;  // f's release undoes it
    } else if (acc == O_WRONLY_ && !pipe->readers) {
        if (long e = wait_for_partner(t, *pipe, pipe->r_counter)) return e;
    }
    out = std::move(f);
    return 0;
}

long create_pipe_files(std::shared_ptr<file> res[2], unsigned flags) {
    if (flags & O_NOTIFICATION_PIPE) return -ENOPKG;  // no watch queues (CONFIG_WATCH_QUEUE=n)
    auto pipe = alloc_pipe_info();
    if (!pipe) return -ENFILE;  // get_pipe_inode
    res[1] = std::make_shared<pipe_file>(pipe, O_WRONLY_ | (flags & (O_NONBLOCK_ | O_DIRECT_)));
    res[0] = std::make_shared<pipe_file>(pipe, O_RDONLY_ | (flags & O_NONBLOCK_));
    return 0;
}

long pipe_fcntl(file& f, unsigned cmd, unsigned long arg) {
    auto* pf = dynamic_cast<pipe_file*>(&f);
    if (!pf) return -EBADF;
    pipe_inode_info& pipe = pf->pipe();
    if (cmd == F_GETPIPE_SZ) return static_cast<long>(pipe.max_usage * PIPE_PAGE_SIZE);
    if (cmd != F_SETPIPE_SZ) return -EINVAL;
    // pipe_set_size: growing past pipe-max-size needs CAP_SYS_RESOURCE, and an unprivileged
    // user may not grow a pipe past either limit of its pages; shrinking is always allowed.
    const unsigned long size = round_pipe_size(static_cast<unsigned>(arg));
    const auto nr_slots = static_cast<unsigned>(size / PIPE_PAGE_SIZE);
    if (!nr_slots) return -EINVAL;
    if (nr_slots > pipe.max_usage && size > pipe_max_size && !capable(CAP_SYS_RESOURCE_)) return -EPERM;
    const unsigned long user_bufs = account_pipe_buffers(pipe.user, pipe.nr_accounted, nr_slots);
    long ret = 0;
    if (nr_slots > pipe.max_usage && (too_many_pipe_buffers_hard(user_bufs) || too_many_pipe_buffers_soft(user_bufs)) &&
        pipe_is_unprivileged_user())
        ret = -EPERM;
    else ret = pipe_resize_ring(pipe, nr_slots);
    if (ret) {
        account_pipe_buffers(pipe.user, nr_slots, pipe.nr_accounted);
        return ret;
    }
    pipe.nr_accounted = nr_slots;
    pipe.max_usage = nr_slots;
    return static_cast<long>(pipe.max_usage * PIPE_PAGE_SIZE);
}

// pipe2 (do_pipe2): the read end and the write end at the two lowest free fds, given to
// the caller as int[2]; if that copy faults, neither fd stays open.
static long do_pipe2(SysCtx& c, uint64_t fildes, unsigned flags) {
    if (flags & ~(O_CLOEXEC_ | O_NONBLOCK_ | O_DIRECT_ | O_NOTIFICATION_PIPE)) return -EINVAL;
    std::shared_ptr<file> files[2];
    if (long e = create_pipe_files(files, flags)) return e;
    const long fdr = get_unused_fd_install(c, files[0], flags & O_CLOEXEC_);
    if (fdr < 0) return fdr;
    const long fdw = get_unused_fd_install(c, files[1], flags & O_CLOEXEC_);
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

}  // namespace guestos
