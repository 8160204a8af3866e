// timerfd (fs/timerfd.c): a timer behind a file. Each expiry adds a tick and makes the file
// readable; read takes the ticks (a periodic timer's missed periods counted in); poll and
// epoll see EPOLLIN while ticks wait.
#include <cerrno>
#include <cstring>

#include "guestos/include/anon_inodes.h"
#include "guestos/include/cred.h"
#include "guestos/include/poll.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/wait.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/kernel/time/hrtimer.h"

namespace guestos {

namespace {

constexpr int TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2;
constexpr int TFD_SETTIME_FLAGS = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;

bool isalarm(clockid_t clk) { return clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM; }

class timerfd_ctx final : public file {
public:
    timerfd_ctx(Kernel& k, clockid_t clockid, unsigned flags) : kernel_(k), clockid_(clockid) {
        f_flags = O_RDWR_ | (flags & O_NONBLOCK_);
        f_mode = 0;
        tmr_.function = [this](hrtimer&) { return timerfd_tmrproc(); };
    }
    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) override {
        if (n < 8) return -EINVAL;
        if (!ticks_) {
            if (f_flags & O_NONBLOCK_) return -EAGAIN;
            if (long e = wait_event_interruptible(
                    iocb.task, wqh_, [&] { return ticks_ != 0; }, "a timerfd read"))
                return e;
        }
        uint64_t ticks = ticks_;
        // A periodic timer that expired is re-armed now; the periods it missed count too.
        if (expired_ && tintv_) {
            ticks += hrtimer_forward(tmr_, hrtimer_get_time(tmr_), tintv_) - 1;
            hrtimer_start(kernel_, tmr_, tmr_.expires);
        }
        expired_ = false;
        ticks_ = 0;
        std::memcpy(buf, &ticks, 8);
        return 8;
    }
    bool can_poll() const override { return true; }
    uint32_t poll(poll_table* wait) override {
        poll_wait(*this, wqh_, wait);
        return ticks_ ? EPOLLIN_ : 0;
    }
    long getattr(struct stat& st) override { return anon_inode_getattr(st, 0600); }

    // timerfd_settime's work after the checks (do_timerfd_settime): the old setting, then
    // the new one.
    void settime(int flags, const itimerspec64& nw, itimerspec64& old) {
        hrtimer_cancel(tmr_);
        // An expired periodic timer moves on, so the old setting shows its next expiry.
        if (expired_ && tintv_) hrtimer_forward(tmr_, hrtimer_get_time(tmr_), tintv_);
        old.value = remaining();
        old.interval = tintv_;
        timerfd_setup(flags, nw);
    }
    // timerfd_gettime: an expired periodic timer is re-armed first, its missed periods kept
    // as ticks.
    void gettime(itimerspec64& cur) {
        if (expired_ && tintv_) {
            expired_ = false;
            ticks_ += hrtimer_forward(tmr_, hrtimer_get_time(tmr_), tintv_) - 1;
            hrtimer_start(kernel_, tmr_, tmr_.expires);
        }
        cur.value = remaining();
        cur.interval = tintv_;
    }
    clockid_t clockid() const { return clockid_; }

private:
    hrtimer_restart timerfd_tmrproc() {
        expired_ = true;
        ++ticks_;
        wake_up_poll(wqh_, EPOLLIN_);
        return hrtimer_restart::NORESTART;
    }
    // The time to the (last set) expiry, 0 once passed (timerfd_get_remaining).
    ktime_t remaining() const {
        const ktime_t left = hrtimer_expires_remaining(tmr_);
        return left < 0 ? 0 : left;
    }
    // timerfd_setup: a relative CLOCK_REALTIME timer runs on the monotonic clock.
    void timerfd_setup(int flags, const itimerspec64& nw) {
        const bool abs = flags & TFD_TIMER_ABSTIME;
        clockid_t clk = clockid_ == CLOCK_REALTIME_ALARM   ? CLOCK_REALTIME
                        : clockid_ == CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME
                                                           : clockid_;
        if (clk == CLOCK_REALTIME && !abs) clk = CLOCK_MONOTONIC;
        tmr_.clockid = clk;
        ticks_ = 0;
        expired_ = false;
        tintv_ = nw.interval;
        tmr_.expires = 0;  // hrtimer_init: a disarmed timer has nothing left
        if (!nw.value) return;
        const ktime_t expires = abs ? nw.value : ktime_add_safe(nw.value, hrtimer_get_time(tmr_));
        hrtimer_start(kernel_, tmr_, expires);
    }

    Kernel& kernel_;
    clockid_t clockid_;
    hrtimer tmr_;
    ktime_t tintv_ = 0;
    uint64_t ticks_ = 0;
    bool expired_ = false;
    wait_queue_head wqh_;  // readers and pollers
};

// The timerfd of a descriptor (timerfd_fget): -EBADF, or -EINVAL for another file.
long timerfd_fget(SysCtx& c, uint64_t fd, timerfd_ctx*& ctx) {
    auto f = c.task.files->get(static_cast<int32_t>(fd));
    if (!f) return -EBADF;
    ctx = dynamic_cast<timerfd_ctx*>(f.get());
    return ctx ? 0 : -EINVAL;
}

long do_timerfd_settime(SysCtx& c, const uint64_t* a, bool time64) {
    itimerspec64 nw, old;
    // The copy's fault comes first, then bad flags or values (both EINVAL).
    if (long e = get_itimerspec64(c, VirtAddr(a[2]), nw, time64)) return e;
    const int flags = static_cast<int>(a[1]);
    if (flags & ~TFD_SETTIME_FLAGS) return -EINVAL;
    timerfd_ctx* ctx;
    if (long e = timerfd_fget(c, a[0], ctx)) return e;
    if (isalarm(ctx->clockid()) && !capable(CAP_WAKE_ALARM_)) return -EPERM;
    ctx->settime(flags, nw, old);
    if (a[3] && !put_itimerspec64(c, VirtAddr(a[3]), old, time64)) return -EFAULT;
    return 0;
}

long do_timerfd_gettime(SysCtx& c, const uint64_t* a, bool time64) {
    timerfd_ctx* ctx;
    if (long e = timerfd_fget(c, a[0], ctx)) return e;
    itimerspec64 cur;
    ctx->gettime(cur);
    return put_itimerspec64(c, VirtAddr(a[1]), cur, time64) ? 0 : -EFAULT;
}

}  // namespace

long sys_timerfd_create(SysCtx& c, const uint64_t* a) {
    const auto clockid = static_cast<clockid_t>(a[0]);
    const int flags = static_cast<int>(a[1]);
    if ((flags & ~(O_CLOEXEC_ | O_NONBLOCK_)) ||
        (clockid != CLOCK_MONOTONIC && clockid != CLOCK_REALTIME && clockid != CLOCK_REALTIME_ALARM &&
         clockid != CLOCK_BOOTTIME && clockid != CLOCK_BOOTTIME_ALARM))
        return -EINVAL;
    if (isalarm(clockid) && !capable(CAP_WAKE_ALARM_)) return -EPERM;
    auto f = std::make_shared<timerfd_ctx>(c.kernel, clockid, static_cast<unsigned>(flags));
    return get_unused_fd_install(c, std::move(f), flags & O_CLOEXEC_);
}

long sys_timerfd_settime(SysCtx& c, const uint64_t* a) { return do_timerfd_settime(c, a, false); }
long sys_timerfd_settime64(SysCtx& c, const uint64_t* a) { return do_timerfd_settime(c, a, true); }
long sys_timerfd_gettime(SysCtx& c, const uint64_t* a) { return do_timerfd_gettime(c, a, false); }
long sys_timerfd_gettime64(SysCtx& c, const uint64_t* a) { return do_timerfd_gettime(c, a, true); }

}  // namespace guestos
