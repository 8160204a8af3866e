#include "guestos/drivers/tty/tty.h"

#include <poll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "guestos/include/errno.h"
#include "guestos/include/poll.h"
#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/include/tty.h"
#include "guestos/include/uapi/ioctls.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

console_file::console_file(int host_fd, ConsoleOwnsFd owns) : con_(host_fd), owns_(owns) {
    struct stat st;
    if (::fstat(host_fd, &st) == 0) {
        if (S_ISCHR(st.st_mode) && ::isatty(host_fd)) rdev_ = st.st_rdev;
        never_blocks_ = S_ISREG(st.st_mode);
    }
    watch_.fd = host_fd;
    watch_.wq = &wq_;
    add_host_fd_watch(watch_);
}

console_file::~console_file() {
    remove_host_fd_watch(watch_);
    if (owns_ == ConsoleOwnsFd::Yes) ::close(con_.host_fd());
}

uint32_t console_file::poll(poll_table* wait) {
    // The host's POLL* bits are the guest's (both are Linux's); ask only for what is wanted.
    const short want = static_cast<short>(wait ? (wait->key & (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM))
                                               : (POLLIN | POLLPRI | POLLOUT));
    if (wait && wait->qproc) {
        if (wq_.empty()) watch_.events = 0;
        watch_.events = static_cast<short>(watch_.events | want);
        poll_wait(*this, wq_, wait);
    }
    pollfd p{con_.host_fd(),
             static_cast<short>(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM | POLLRDBAND | POLLWRBAND), 0};
    if (::poll(&p, 1, 0) < 0) return EPOLLERR_;
    return static_cast<uint16_t>(p.revents);
}

namespace {
// Whether the host fd has one of events (or an error or hang-up) now.
bool host_ready(int fd, short events) {
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, 0) != 0;  // an error of poll itself: let the call report it
}
}  // namespace

long console_file::wait_host_ready(kiocb& iocb, short events, const char* what) {
    if (never_blocks_ || host_ready(con_.host_fd(), events)) return 0;
    if (con_.status_flags() & O_NONBLOCK_) return 0;  // the host answers EAGAIN itself
    if (iocb.ki_flags & IOCB_NOWAIT) return -EAGAIN;
    if (wq_.empty()) watch_.events = 0;
    watch_.events = static_cast<short>(watch_.events | events);
    return wait_event_interruptible(
        iocb.task, wq_, [&] { return host_ready(con_.host_fd(), events); }, what);
}

tty_struct* console_file::tty_of(const task_struct& t) const {
    if (!rdev_ || !t.kernel) return nullptr;
    tty_struct& tty = t.kernel->console_tty();
    return tty.rdev == rdev_ ? &tty : nullptr;
}

long console_file::job_control(task_struct& t, int sig) {
    tty_struct* tty = tty_of(t);
    if (!tty || t.signal->tty != tty || !tty->pgrp || t.signal->pgrp == tty->pgrp) return 0;  // the foreground
    if (sig == SIGTTOU_) {  // n_tty_write checks only with TOSTOP set
        struct termios tio;
        if (::tcgetattr(con_.host_fd(), &tio) != 0 || !(tio.c_lflag & TOSTOP_)) return 0;
    }
    return tty_check_change(t, *tty, sig);
}

long console_file::ioctl(unsigned long cmd, uint8_t* arg, size_t& in_len, size_t& out_len) {
    task_struct* t = get_current();
    tty_struct* tty = t ? tty_of(*t) : nullptr;
    if (tty) {
        if (long r = tty_jobctrl_ioctl(*t, *tty, cmd, arg); r != -ENOIOCTLCMD) return r;
        const bool sets = cmd == TCSETS_ || cmd == TCSETSW_ || cmd == TCSETSF_ || cmd == TCSETA_ || cmd == TCSETAW_ ||
                          cmd == TCSETAF_;
        if (sets)  // tty_mode_ioctl: a background job changing the settings
            if (long r = tty_check_change(*t, *tty, SIGTTOU_); r) return r;
    } else if (cmd == TIOCGPGRP_ || cmd == TIOCSPGRP_ || cmd == TIOCGSID_ || cmd == TIOCNOTTY_) {
        return -ENOTTY;  // not the caller's controlling terminal (or no terminal)
    } else if (cmd == TIOCSCTTY_) {
        return rdev_ ? -EPERM : -ENOTTY;  // emu takes no other terminal of the host
    }
    return con_.ioctl(cmd, arg, in_len, out_len);
}

long console_file::read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) {
    if (long e = job_control(iocb.task, SIGTTIN_); e) return e;
    if (n)
        if (long e = wait_host_ready(iocb, POLLIN, "read from the console"); e) return e;
    return read(buf, n, iocb.ki_pos);
}

long console_file::write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) {
    if (long e = job_control(iocb.task, SIGTTOU_); e) return e;
    if (n)
        if (long e = wait_host_ready(iocb, POLLOUT, "write to the console"); e) return e;
    const long r = write(buf, n, iocb.ki_pos);
    // A host pipe or socket whose reader left: EPIPE, and SIGPIPE as pipe_write sends it.
    if (r == -EPIPE && !(iocb.ki_flags & IOCB_NOSIGNAL)) send_sig(SIGPIPE_, iocb.task);
    return r;
}

// A pipe or terminal ignores the position; a regular file given as stdin or stdout moves it
// through the host descriptor's own offset, as with the native program.
long console_file::read(uint8_t* buf, uint64_t n, int64_t* pos) {
    return (pos == &f_pos) ? con_.read(buf, n) : con_.pread(buf, n, *pos);
}

long console_file::write(const uint8_t* buf, uint64_t n, int64_t* pos) {
    return (pos == &f_pos) ? con_.write(buf, n) : con_.pwrite(buf, n, *pos);
}

}  // namespace guestos
