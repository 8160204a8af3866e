// poll, ppoll, select, pselect6 and i386's old select (fs/select.c): each pass asks every
// file for its readiness (vfs_poll); the first pass also queues the caller on each file's
// wait queues (__pollwait), so a wake-up from any of them ends the sleep and the next pass
// looks again. Passes end on readiness, the timeout or a signal (-ERESTARTNOHAND: poll
// restarts through restart_syscall with its end time, select and pselect6 only when they
// could not write the time left back).
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "guestos/include/poll.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/resource.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr ktime_t NSEC_PER_MSEC = 1'000'000, USEC_PER_SEC = 1'000'000;

// When a call stops waiting: nullopt for never, 0 for at once (Linux's {0, 0}), else the
// CLOCK_MONOTONIC time.
using end_time_t = std::optional<ktime_t>;

// The end time of a timeout of sec, nsec from now (poll_select_set_timeout): -EINVAL when
// they are not a valid timespec.
long poll_select_set_timeout(end_time_t& to, int64_t sec, int64_t nsec) {
    const timespec ts{sec, nsec};
    if (!timespec_valid(ts)) return -EINVAL;
    to = (!sec && !nsec) ? 0 : std::max<ktime_t>(ktime_add_safe(ktime_get(), timespec_to_ktime(ts)), 1);
    return 0;
}

// One wait a poll or select call queued on a file's wait queue (poll_table_entry); it holds
// the file so the queue outlives the call even if the fd is closed meanwhile.
struct poll_table_entry {
    std::shared_ptr<file> filp;
    wait_queue_head* wait_address = nullptr;
    wait_queue_entry wait;
};

// The waits of one call (struct poll_wqueues); poll_freewait unlinks them at the end.
class poll_wqueues {
public:
    explicit poll_wqueues(task_struct& task) : task_(task) {
        pt.qproc = [this](file&, wait_queue_head& wq, poll_table& p) { pollwait(wq, p.key); };
    }
    ~poll_wqueues() {
        for (auto& e : entries_) remove_wait_queue(*e->wait_address, e->wait);
    }
    poll_wqueues(const poll_wqueues&) = delete;
    poll_wqueues& operator=(const poll_wqueues&) = delete;

    // Polls f, queueing on its wait queues while this is the first pass.
    __poll_t poll(const std::shared_ptr<file>& f, __poll_t key) {
        pt.key = key;
        polled_ = f;
        const __poll_t mask = vfs_poll(*f, &pt);
        polled_.reset();
        return mask;
    }
    // Queue no more (what the first pass's end, or readiness, does to _qproc).
    void stop_queueing() { pt.qproc = nullptr; }
    // Sleeps until a queued file wakes us, the end time or a signal (poll_schedule_timeout):
    // true when the end time passed without a wake-up.
    bool schedule_timeout(const end_time_t& expires, const char* what) {
        if (!triggered_) schedule_hrtimeout(task_, expires, what);
        const bool timed_out = !triggered_ && expires && ktime_get() >= *expires;
        triggered_ = false;
        return timed_out;
    }

    poll_table pt;

private:
    // Queues the caller on wq, woken by events in key or by a wake-up without events
    // (__pollwait and pollwake).
    void pollwait(wait_queue_head& wq, __poll_t key) {
        auto e = std::make_unique<poll_table_entry>();
        e->filp = polled_;
        e->wait_address = &wq;
        e->wait.task = &task_;
        e->wait.func = [this, key](uint32_t events) {
            if (events && !(events & key)) return false;
            triggered_ = true;
            wake_up_process(task_);
            return true;
        };
        add_wait_queue(wq, e->wait);
        entries_.push_back(std::move(e));
    }

    task_struct& task_;
    std::shared_ptr<file> polled_;
    bool triggered_ = false;
    std::vector<std::unique_ptr<poll_table_entry>> entries_;
};

// ---- poll ----

struct pollfd_ {
    int32_t fd;
    int16_t events, revents;
};
static_assert(sizeof(pollfd_) == 8);

// One entry's events (do_pollfd): 0 for a negative fd, POLLNVAL for one not open, else what
// the file reports of the events asked for, POLLERR and POLLHUP.
__poll_t do_pollfd(SysCtx& c, pollfd_& p, poll_wqueues& wait) {
    __poll_t mask = 0;
    if (p.fd >= 0) {
        if (auto f = fdget(c, p.fd)) {
            const __poll_t filter = static_cast<uint16_t>(p.events) | EPOLLERR_ | EPOLLHUP_;
            mask = wait.poll(f, filter) & filter;
        } else {
            mask = EPOLLNVAL_;
        }
    }
    p.revents = static_cast<int16_t>(mask);
    return mask;
}

// Passes over the entries until one is ready, the end time passes or a signal comes
// (do_poll): how many are ready, or -ERESTARTNOHAND.
long do_poll(SysCtx& c, std::vector<pollfd_>& fds, const end_time_t& end_time) {
    poll_wqueues table(c.task);
    bool timed_out = false;
    if (end_time && *end_time == 0) {
        table.stop_queueing();
        timed_out = true;
    }
    for (;;) {
        long count = 0;
        for (pollfd_& p : fds)
            if (do_pollfd(c, p, table)) {
                ++count;
                table.stop_queueing();
            }
        table.stop_queueing();
        if (!count && signal_pending(c.task)) count = -ERESTARTNOHAND;
        if (count || timed_out) return count;
        if (table.schedule_timeout(end_time, "poll")) timed_out = true;
    }
}

// Reads the array, polls it and writes each revents back (do_sys_poll).
long do_sys_poll(SysCtx& c, uint64_t ufds, uint32_t nfds, const end_time_t& end_time) {
    if (nfds > c.task.signal->rlim[RLIMIT_NOFILE_].rlim_cur) return -EINVAL;
    std::vector<pollfd_> fds(nfds);
    if (nfds && !copy_from_user(c.mm, fds.data(), VirtAddr(ufds), nfds * sizeof(pollfd_))) return -EFAULT;
    const long fdcount = do_poll(c, fds, end_time);
    for (uint32_t i = 0; i < nfds; ++i)
        if (!copy_to_user(c.mm, VirtAddr(ufds + i * sizeof(pollfd_) + offsetof(pollfd_, revents)), &fds[i].revents, 2))
            return -EFAULT;
    return fdcount;
}

// poll's restart after a signal without a handler: the same array and end time
// (do_restart_poll).
long do_restart_poll(SysCtx& c) {
    const auto& rb = c.task.restart_block.poll;
    const end_time_t end = rb.has_timeout ? end_time_t(rb.end_time) : std::nullopt;
    const long ret = do_sys_poll(c, rb.ufds, rb.nfds, end);
    if (ret != -ERESTARTNOHAND) return ret;
    c.task.restart_block.fn = &do_restart_poll;
    return -ERESTART_RESTARTBLOCK;
}

// ---- the time left and the signal mask at the end of a call ----

enum class poll_time_type { TIMEVAL, TIMESPEC, TIMESPEC64 };

// Restores the caller's signal mask unless interrupted and writes the time left where the
// timeout came from (poll_select_finish); a failed write turns a restart into EINTR.
long poll_select_finish(SysCtx& c, const end_time_t& end_time, uint64_t p, poll_time_type type, long ret) {
    restore_saved_sigmask_unless(c.task, ret == -ERESTARTNOHAND);
    if (!p || !end_time) return ret;
    constexpr unsigned STICKY_TIMEOUTS = 0x4000000;  // personality: the timeout is left as given
    if (c.task.personality & STICKY_TIMEOUTS) return ret == -ERESTARTNOHAND ? -EINTR : ret;
    if (*end_time == 0) return ret;
    const timespec rts = ktime_to_timespec(std::max<ktime_t>(*end_time - ktime_get(), 0));
    bool ok;
    if (type == poll_time_type::TIMEVAL) {
        if (c.compat) {
            const int32_t tv[2] = {static_cast<int32_t>(rts.tv_sec), static_cast<int32_t>(rts.tv_nsec / NSEC_PER_USEC)};
            ok = copy_to_user(c.mm, VirtAddr(p), tv, sizeof tv);
        } else {
            const int64_t tv[2] = {rts.tv_sec, rts.tv_nsec / NSEC_PER_USEC};
            ok = copy_to_user(c.mm, VirtAddr(p), tv, sizeof tv);
        }
    } else {
        ok = put_timespec(c, VirtAddr(p), rts, type == poll_time_type::TIMESPEC64);
    }
    if (ok) return ret;
    return ret == -ERESTARTNOHAND ? -EINTR : ret;
}

long do_ppoll(SysCtx& c, const uint64_t* a, bool time64) {
    end_time_t end;
    if (a[2]) {
        timespec ts;
        if (!get_timespec(c, VirtAddr(a[2]), ts, time64)) return -EFAULT;
        if (long e = poll_select_set_timeout(end, ts.tv_sec, ts.tv_nsec)) return e;
    }
    if (long e = set_user_sigmask(c, a[3], a[4])) return e;
    const long ret = do_sys_poll(c, a[0], static_cast<uint32_t>(a[1]), end);
    return poll_select_finish(c, end, a[2], time64 || !c.compat ? poll_time_type::TIMESPEC64 : poll_time_type::TIMESPEC,
                              ret);
}

// ---- select ----

// The descriptor sets of one select (fd_set_bits), as bytes: a long's bits in memory order
// on little-endian x86 are the fd numbers in order, for 4- and 8-byte longs alike.
struct fd_set_bits {
    std::vector<uint8_t> in, out, ex, res_in, res_out, res_ex;
    static bool test(const std::vector<uint8_t>& s, int fd) { return s[fd / 8] >> (fd % 8) & 1; }
    static void set(std::vector<uint8_t>& s, int fd) { s[fd / 8] = static_cast<uint8_t>(s[fd / 8] | 1 << (fd % 8)); }
};

// What the fd table has room for (fdt->max_fds): 64 slots, then 128 times a power of two
// (alloc_fdtable's growth for a 64-bit kernel, which runs i386 programs too).
int max_fds(const files_struct& files) {
    const size_t used = files.fd.size();
    if (used <= 64) return 64;
    size_t n = 1;
    while (n * 128 < used) n <<= 1;
    return static_cast<int>(n * 128);
}

// The highest set fd + 1, or -EBADF when a set names a descriptor that is not open
// (max_select_fd).
int max_select_fd(SysCtx& c, int n, const fd_set_bits& fds) {
    int max = 0;
    for (int i = 0; i < n; ++i) {
        if (!fd_set_bits::test(fds.in, i) && !fd_set_bits::test(fds.out, i) && !fd_set_bits::test(fds.ex, i)) continue;
        if (!fdget(c, i)) return -EBADF;
        max = i + 1;
    }
    return max;
}

constexpr __poll_t POLLIN_SET = EPOLLRDNORM_ | EPOLLRDBAND_ | EPOLLIN_ | EPOLLHUP_ | EPOLLERR_;
constexpr __poll_t POLLOUT_SET = EPOLLWRBAND_ | EPOLLWRNORM_ | EPOLLOUT_ | EPOLLERR_;
constexpr __poll_t POLLEX_SET = EPOLLPRI_;

// Passes over the sets until a descriptor is ready, the end time passes or a signal comes
// (do_select): how many bits are set in the results.
long do_select(SysCtx& c, int n, fd_set_bits& fds, const end_time_t& end_time) {
    const int max = max_select_fd(c, n, fds);
    if (max < 0) return max;
    poll_wqueues table(c.task);
    bool timed_out = false;
    if (end_time && *end_time == 0) {
        table.stop_queueing();
        timed_out = true;
    }
    for (;;) {
        long retval = 0;
        for (int i = 0; i < max; ++i) {
            const bool in = fd_set_bits::test(fds.in, i), out = fd_set_bits::test(fds.out, i),
                       ex = fd_set_bits::test(fds.ex, i);
            if (!in && !out && !ex) continue;
            auto f = fdget(c, i);
            if (!f) continue;
            const __poll_t mask = table.poll(f, POLLEX_SET | (in ? POLLIN_SET : 0) | (out ? POLLOUT_SET : 0));
            auto report = [&](bool asked, __poll_t set, std::vector<uint8_t>& res) {
                if (!asked || !(mask & set)) return;
                fd_set_bits::set(res, i);
                ++retval;
                table.stop_queueing();
            };
            report(in, POLLIN_SET, fds.res_in);
            report(out, POLLOUT_SET, fds.res_out);
            report(ex, POLLEX_SET, fds.res_ex);
        }
        table.stop_queueing();
        if (retval || timed_out || signal_pending(c.task)) return retval;
        if (table.schedule_timeout(end_time, "select")) timed_out = true;
    }
}

// Reads a set (zeros for a null pointer): false on a fault (get_fd_set).
bool get_fd_set(SysCtx& c, uint64_t ufdset, std::vector<uint8_t>& set) {
    return !ufdset || copy_from_user(c.mm, set.data(), VirtAddr(ufdset), set.size());
}

// The sets in, the selection, the results out (core_sys_select): -ERESTARTNOHAND when a
// signal ended an empty wait.
long core_sys_select(SysCtx& c, int n, uint64_t inp, uint64_t outp, uint64_t exp, const end_time_t& end_time) {
    if (n < 0) return -EINVAL;
    n = std::min(n, max_fds(*c.task.files));
    const uint64_t bits_per_long = 8 * c.ptr_size();
    const size_t size = (n + bits_per_long - 1) / bits_per_long * c.ptr_size();  // FDS_BYTES
    fd_set_bits fds;
    for (auto* s : {&fds.in, &fds.out, &fds.ex, &fds.res_in, &fds.res_out, &fds.res_ex}) s->assign(size, 0);
    if (!get_fd_set(c, inp, fds.in) || !get_fd_set(c, outp, fds.out) || !get_fd_set(c, exp, fds.ex)) return -EFAULT;
    const long ret = do_select(c, n, fds, end_time);
    if (ret < 0) return ret;
    if (!ret && signal_pending(c.task)) return -ERESTARTNOHAND;
    if ((inp && !copy_to_user(c.mm, VirtAddr(inp), fds.res_in.data(), size)) ||
        (outp && !copy_to_user(c.mm, VirtAddr(outp), fds.res_out.data(), size)) ||
        (exp && !copy_to_user(c.mm, VirtAddr(exp), fds.res_ex.data(), size)))
        return -EFAULT;
    return ret;
}

// select with a struct timeval timeout, written back with the time left (kern_select).
long kern_select(SysCtx& c, int n, uint64_t inp, uint64_t outp, uint64_t exp, uint64_t tvp) {
    end_time_t end;
    if (tvp) {
        int64_t tv[2];
        if (c.compat) {
            int32_t tv32[2];
            if (!copy_from_user(c.mm, tv32, VirtAddr(tvp), sizeof tv32)) return -EFAULT;
            tv[0] = tv32[0], tv[1] = tv32[1];
        } else if (!copy_from_user(c.mm, tv, VirtAddr(tvp), sizeof tv)) {
            return -EFAULT;
        }
        if (long e = poll_select_set_timeout(end, tv[0] + tv[1] / USEC_PER_SEC, (tv[1] % USEC_PER_SEC) * NSEC_PER_USEC))
            return e;
    }
    const long ret = core_sys_select(c, n, inp, outp, exp, end);
    return poll_select_finish(c, end, tvp, poll_time_type::TIMEVAL, ret);
}

// pselect6: a timespec timeout and a {sigset pointer, size} pair (do_pselect).
long do_pselect(SysCtx& c, const uint64_t* a, bool time64) {
    uint64_t sigmask = 0, sigsetsize = 0;
    if (a[5]) {  // get_sigset_argpack
        uint64_t pack[2] = {};
        if (c.compat) {
            uint32_t p32[2];
            if (!copy_from_user(c.mm, p32, VirtAddr(a[5]), sizeof p32)) return -EFAULT;
            pack[0] = p32[0], pack[1] = p32[1];
        } else if (!copy_from_user(c.mm, pack, VirtAddr(a[5]), sizeof pack)) {
            return -EFAULT;
        }
        sigmask = pack[0], sigsetsize = pack[1];
    }
    end_time_t end;
    if (a[4]) {
        timespec ts;
        if (!get_timespec(c, VirtAddr(a[4]), ts, time64)) return -EFAULT;
        if (long e = poll_select_set_timeout(end, ts.tv_sec, ts.tv_nsec)) return e;
    }
    if (long e = set_user_sigmask(c, sigmask, sigsetsize)) return e;
    const long ret = core_sys_select(c, static_cast<int32_t>(a[0]), a[1], a[2], a[3], end);
    return poll_select_finish(c, end, a[4], time64 || !c.compat ? poll_time_type::TIMESPEC64 : poll_time_type::TIMESPEC,
                              ret);
}

}  // namespace

long sys_poll(SysCtx& c, const uint64_t* a) {
    const int32_t timeout_msecs = static_cast<int32_t>(a[2]);
    end_time_t end;
    if (timeout_msecs >= 0)
        (void)poll_select_set_timeout(end, timeout_msecs / 1000, NSEC_PER_MSEC * (timeout_msecs % 1000));
    const uint32_t nfds = static_cast<uint32_t>(a[1]);
    const long ret = do_sys_poll(c, a[0], nfds, end);
    if (ret != -ERESTARTNOHAND) return ret;
    auto& rb = c.task.restart_block;
    rb.poll.ufds = a[0];
    rb.poll.nfds = nfds;
    rb.poll.has_timeout = end.has_value();
    rb.poll.end_time = end.value_or(0);
    rb.fn = &do_restart_poll;
    return -ERESTART_RESTARTBLOCK;
}

long sys_ppoll(SysCtx& c, const uint64_t* a) { return do_ppoll(c, a, false); }
long sys_ppoll_time64(SysCtx& c, const uint64_t* a) { return do_ppoll(c, a, true); }

long sys_select(SysCtx& c, const uint64_t* a) {
    return kern_select(c, static_cast<int32_t>(a[0]), a[1], a[2], a[3], a[4]);
}

// i386's select (82): its arguments in a struct sel_arg_struct (sys_old_select).
long sys_old_select(SysCtx& c, const uint64_t* a) {
    uint32_t arg[5];
    if (!copy_from_user(c.mm, arg, VirtAddr(a[0]), sizeof arg)) return -EFAULT;
    return kern_select(c, static_cast<int32_t>(arg[0]), arg[1], arg[2], arg[3], arg[4]);
}

long sys_pselect6(SysCtx& c, const uint64_t* a) { return do_pselect(c, a, false); }
long sys_pselect6_time64(SysCtx& c, const uint64_t* a) { return do_pselect(c, a, true); }

}  // namespace guestos
