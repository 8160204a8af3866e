// POSIX timers and their syscalls (kernel/time/posix-timers.c, the common_* clock
// operations; timers on CPU-time clocks are in posix-cpu-timers.cpp).
#include "guestos/kernel/time/posix-timers.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "guestos/include/cred.h"
#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/time/posix-cpu-timers.h"

namespace guestos {

namespace {

constexpr int TIMER_ABSTIME_ = 1;
constexpr int REQUEUE_PENDING = 1;
constexpr ktime_t TICK_NSEC = NSEC_PER_SEC / 250;  // a jiffy at Debian's HZ

// What a clock id offers timers (clockid_to_kclock + kc->timer_create): 0 when timers run
// on it, -EOPNOTSUPP for a clock without timers, -EINVAL for no clock.
long clock_timer_support(clockid_t clk) {
    if (clk < 0) return 0;  // a CPU clock or a dynamic one: posix_cpu_timer_create decides
    switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM: return 0;
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE: return -EOPNOTSUPP;
    default: return -EINVAL;
    }
}

// The clock-specific part of timer_create (posix_cpu_timer_create, alarm_timer_create): a
// CPU clock must name a process or a thread of ours; an alarm clock needs CAP_WAKE_ALARM.
long kclock_timer_create(SysCtx& c, k_itimer& timr) {
    const clockid_t clk = timr.it_clock;
    if (clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM) return capable(CAP_WAKE_ALARM_) ? 0 : -EPERM;
    if (!is_cpu_clockid(clk)) return clk < 0 ? -EINVAL : 0;  // CLOCKFD: no such descriptor clock here
    return posix_cpu_timer_create(c.kernel, c.task, timr);
}

// The clock the timer's hrtimer runs on: the alarm clocks run as their base clocks.
clockid_t hrtimer_clock(clockid_t clk) {
    if (clk == CLOCK_REALTIME_ALARM) return CLOCK_REALTIME;
    if (clk == CLOCK_BOOTTIME_ALARM) return CLOCK_BOOTTIME;
    return clk;
}

// The pid the timer signals (good_sigevent), or 0 when the sigevent is invalid.
int good_sigevent(SysCtx& c, const sigevent_k& ev) {
    int pid = c.task.tgid;
    switch (ev.sigev_notify) {
    case SIGEV_SIGNAL_ | SIGEV_THREAD_ID_: {
        const task_struct* t = c.kernel.find_task_by_vpid(ev.sigev_notify_thread_id);
        if (!t || t->exited || t->tgid != c.task.tgid) return 0;
        pid = t->pid;
    }
        [[fallthrough]];
    case SIGEV_SIGNAL_:
    case SIGEV_THREAD_:
        if (ev.sigev_signo <= 0 || ev.sigev_signo > SIGRTMAX_) return 0;
        [[fallthrough]];
    case SIGEV_NONE_: return pid;
    default: return 0;
    }
}

// A free id, from where the last search stopped (posix_timer_add): the id or -EAGAIN.
int posix_timer_add(signal_struct& sig) {
    const int first = sig.next_posix_timer_id;
    do {
        const int id = sig.next_posix_timer_id;
        if (++sig.next_posix_timer_id < 0) sig.next_posix_timer_id = 0;
        if (!sig.posix_timers.count(id)) return id;
    } while (sig.next_posix_timer_id != first);
    return -EAGAIN;
}

// The caller's timer of that id (lock_timer), or null.
k_itimer* lock_timer(SysCtx& c, uint64_t timer_id) {
    if (timer_id > static_cast<uint64_t>(INT_MAX)) return nullptr;
    auto it = c.task.signal->posix_timers.find(static_cast<int>(timer_id));
    return it == c.task.signal->posix_timers.end() ? nullptr : it->second.get();
}

int timer_overrun_to_int(const k_itimer& timr, int baseval) {
    const int64_t sum = timr.it_overrun_last + baseval;
    return sum > INT_MAX ? INT_MAX : static_cast<int>(sum);
}

}  // namespace

bool posix_timer_event(k_itimer& timr, int si_private) {
    timr.sigq.sys_private = si_private;
    timr.sigq.overrun = 0;
    task_struct* t = timr.kernel->find_task_by_vpid(timr.it_pid);
    if (!t || t->exited) return true;  // nobody to signal: the timer stops
    if (timr.it_sigev_notify & SIGEV_THREAD_ID_) return send_signal(*t, timr.sigq, false);
    return send_signal_group(*t, timr.sigq, false);
}

namespace {

// The hrtimer expired (posix_timer_fn): the signal goes out; a periodic timer whose signal
// is ignored runs on by itself (at most once a tick), otherwise dequeue re-arms it.
hrtimer_restart posix_timer_fn(k_itimer& timr) {
    timr.it_active = false;
    int si_private = 0;
    if (timr.it_interval) si_private = ++timr.it_requeue_pending;
    if (posix_timer_event(timr, si_private) || !timr.it_interval) return hrtimer_restart::NORESTART;
    ktime_t now = hrtimer_get_time(timr.timer);
    if (timr.it_interval < TICK_NSEC) now += TICK_NSEC;
    timr.it_overrun += static_cast<int64_t>(hrtimer_forward(timr.timer, now, timr.it_interval));
    ++timr.it_requeue_pending;
    timr.it_active = true;
    return hrtimer_restart::RESTART;
}

// The setting as timer_gettime reports it (common_timer_get).
void common_timer_get(k_itimer& timr, itimerspec64& cur) {
    const bool sig_none = timr.it_sigev_notify == SIGEV_NONE_;
    const ktime_t iv = timr.it_interval;
    cur = {};
    if (iv) cur.interval = iv;
    else if (!timr.it_active && !sig_none) return;
    const ktime_t now = hrtimer_get_time(timr.timer);
    // A timer waiting for its signal's delivery, or a SIGEV_NONE one, shows its next expiry.
    if (iv && ((timr.it_requeue_pending & REQUEUE_PENDING) || sig_none))
        timr.it_overrun += static_cast<int64_t>(hrtimer_forward(timr.timer, now, iv));
    const ktime_t remaining = timr.timer.expires - now;
    if (remaining <= 0) {
        if (!sig_none) cur.value = 1;  // expired but not yet delivered
    } else {
        cur.value = remaining;
    }
}

// Arms the timer (common_hrtimer_arm): a relative CLOCK_REALTIME timer runs on the
// monotonic clock, so setting the clock does not move it.
void common_hrtimer_arm(k_itimer& timr, ktime_t expires, bool absolute, bool sigev_none) {
    clockid_t clk = hrtimer_clock(timr.it_clock);
    if (clk == CLOCK_REALTIME && !absolute) clk = CLOCK_MONOTONIC;
    timr.timer.clockid = clk;
    if (!absolute) expires = ktime_add_safe(expires, hrtimer_get_time(timr.timer));
    timr.timer.expires = expires;
    if (!sigev_none) hrtimer_start(*timr.kernel, timr.timer, expires);
}

void common_timer_set(k_itimer& timr, int flags, const itimerspec64& nw, itimerspec64* old) {
    if (old) common_timer_get(timr, *old);
    timr.it_interval = 0;
    hrtimer_cancel(timr.timer);
    timr.it_active = false;
    timr.it_requeue_pending = (timr.it_requeue_pending + 2) & ~REQUEUE_PENDING;
    timr.it_overrun_last = 0;
    if (!nw.value) return;  // disarmed
    timr.it_interval = nw.interval;
    const bool sigev_none = timr.it_sigev_notify == SIGEV_NONE_;
    common_hrtimer_arm(timr, nw.value, flags & TIMER_ABSTIME_, sigev_none);
    timr.it_active = !sigev_none;
}

}  // namespace

void posixtimer_rearm(task_struct& task, kernel_siginfo& info) {
    auto it = task.signal->posix_timers.find(info.tid);
    if (it == task.signal->posix_timers.end()) return;
    k_itimer& timr = *it->second;
    if (!timr.it_interval || timr.it_requeue_pending != info.sys_private) return;
    if (timr.cpu_task) {
        posix_cpu_timer_rearm(timr);
    } else {
        // common_hrtimer_rearm: skip the periods that passed while the signal was queued.
        timr.it_overrun +=
            static_cast<int64_t>(hrtimer_forward(timr.timer, hrtimer_get_time(timr.timer), timr.it_interval));
        hrtimer_start(*timr.kernel, timr.timer, timr.timer.expires);
    }
    timr.it_active = true;
    timr.it_overrun_last = timr.it_overrun;
    timr.it_overrun = -1;
    ++timr.it_requeue_pending;
    info.overrun = timer_overrun_to_int(timr, info.overrun);
}

void exit_itimers(signal_struct& sig) { sig.posix_timers.clear(); }

void flush_itimer_signals(task_struct& task) {
    for (int sig = 1; sig <= KERNEL_NSIG; ++sig) {
        auto& q = task.sigqueue[sig - 1];
        if (!std::erase_if(q, [](const kernel_siginfo& i) { return i.si_code == SI_TIMER; })) continue;
        if (q.empty()) task.pending &= ~sigmask(sig);
    }
}

long sys_timer_create(SysCtx& c, const uint64_t* a) {
    const auto clk = static_cast<clockid_t>(a[0]);
    sigevent_k ev;
    const bool has_event = a[1] != 0;
    if (has_event && !get_sigevent(c, VirtAddr(a[1]), ev)) return -EFAULT;
    if (long e = clock_timer_support(clk)) return e;
    signal_struct& sig = *c.task.signal;
    const int id = posix_timer_add(sig);
    if (id < 0) return id;
    auto timr = std::make_shared<k_itimer>();
    timr->it_id = id;
    timr->it_clock = clk;
    timr->kernel = &c.kernel;
    if (has_event) {
        timr->it_pid = good_sigevent(c, ev);
        if (!timr->it_pid) return -EINVAL;
        timr->it_sigev_notify = ev.sigev_notify;
        timr->sigq.si_signo = ev.sigev_signo;
        timr->sigq.value = ev.sigev_value;
    } else {  // SIGALRM with the timer id as its value
        timr->it_sigev_notify = SIGEV_SIGNAL_;
        timr->sigq.si_signo = SIGALRM_;
        timr->sigq.value = static_cast<uint64_t>(id);
        timr->it_pid = c.task.tgid;
    }
    timr->sigq.tid = id;
    timr->sigq.si_code = SI_TIMER;
    const int32_t uid = id;
    if (!copy_to_user(c.mm, VirtAddr(a[2]), &uid, sizeof uid)) return -EFAULT;
    if (long e = kclock_timer_create(c, *timr)) return e;
    k_itimer* t = timr.get();
    timr->timer.clockid = hrtimer_clock(clk);
    timr->timer.function = [t](hrtimer&) { return posix_timer_fn(*t); };
    sig.posix_timers.emplace(id, std::move(timr));
    return 0;
}

bool get_sigevent(SysCtx& c, VirtAddr src, sigevent_k& ev) {
    uint8_t raw[64];
    if (!copy_from_user(c.mm, raw, src, sizeof raw)) return false;
    const size_t ps = c.ptr_size();
    std::memcpy(&ev.sigev_value, raw, ps);
    std::memcpy(&ev.sigev_signo, raw + ps, 4);
    std::memcpy(&ev.sigev_notify, raw + ps + 4, 4);
    std::memcpy(&ev.sigev_notify_thread_id, raw + ps + 8, 4);
    return true;
}

namespace {
long do_timer_settime(SysCtx& c, const uint64_t* a, bool time64) {
    if (!a[2]) return -EINVAL;
    itimerspec64 nw, old;
    if (long e = get_itimerspec64(c, VirtAddr(a[2]), nw, time64)) return e;
    k_itimer* timr = lock_timer(c, a[0]);
    if (!timr) return -EINVAL;
    if (!timr->cpu_task) common_timer_set(*timr, static_cast<int>(a[1]), nw, a[3] ? &old : nullptr);
    else if (long e = posix_cpu_timer_set(*timr, static_cast<int>(a[1]), nw, a[3] ? &old : nullptr)) return e;
    if (a[3] && !put_itimerspec64(c, VirtAddr(a[3]), old, time64)) return -EFAULT;
    return 0;
}

long do_timer_gettime(SysCtx& c, const uint64_t* a, bool time64) {
    k_itimer* timr = lock_timer(c, a[0]);
    if (!timr) return -EINVAL;
    itimerspec64 cur;
    if (timr->cpu_task) posix_cpu_timer_get(*timr, cur);
    else common_timer_get(*timr, cur);
    return put_itimerspec64(c, VirtAddr(a[1]), cur, time64) ? 0 : -EFAULT;
}
}  // namespace

long sys_timer_settime(SysCtx& c, const uint64_t* a) { return do_timer_settime(c, a, false); }
long sys_timer_settime64(SysCtx& c, const uint64_t* a) { return do_timer_settime(c, a, true); }
long sys_timer_gettime(SysCtx& c, const uint64_t* a) { return do_timer_gettime(c, a, false); }
long sys_timer_gettime64(SysCtx& c, const uint64_t* a) { return do_timer_gettime(c, a, true); }

long sys_timer_getoverrun(SysCtx& c, const uint64_t* a) {
    k_itimer* timr = lock_timer(c, a[0]);
    if (!timr) return -EINVAL;
    return timer_overrun_to_int(*timr, 0);
}

long sys_timer_delete(SysCtx& c, const uint64_t* a) {
    k_itimer* timr = lock_timer(c, a[0]);
    if (!timr) return -EINVAL;
    c.task.signal->posix_timers.erase(timr->it_id);  // its hrtimer is cancelled with it
    return 0;
}

}  // namespace guestos
