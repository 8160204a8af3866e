// nanosleep and clock_nanosleep (kernel/time/hrtimer.c hrtimer_nanosleep, do_nanosleep):
// the task sleeps until the expiry or a signal; an interrupted relative sleep writes the
// time left and, when no handler runs, resumes through restart_syscall.
#include "guestos/kernel/time/hrtimer.h"

#include <algorithm>
#include <cerrno>
#include <optional>

#include "guestos/include/cred.h"
#include "guestos/include/kernel.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/time/posix-cpu-timers.h"

namespace guestos {

namespace {

enum { TT_NONE = 0, TT_NATIVE = 1, TT_COMPAT = 2 };  // where the time left goes

// The clocks emu sleeps on itself: the wall and monotonic ones (common_nsleep).
bool hrtimer_clock(clockid_t clk) {
    return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC || clk == CLOCK_BOOTTIME || clk == CLOCK_TAI;
}

// A process CPU-time clock (CLOCK_PROCESS_CPUTIME_ID, or one made by MAKE_PROCESS_CPUCLOCK):
// a sleep on it ends when the process has run long enough, which a sleeping process with no
// other running thread never does, so a signal ends it (posix_cpu_nsleep).
bool process_cpu_clock(clockid_t clk) {
    return clk == CLOCK_PROCESS_CPUTIME_ID || (clk < 0 && (clk & 7) != 3 && !(clk & 4));
}

// What clock_nanosleep answers for a CPU or fd clock before sleeping (clockid_to_kclock,
// posix_cpu_nsleep, posix_cpu_timer_create): a thread clock and a dynamic (fd) clock have no
// nsleep (EOPNOTSUPP); the caller's own thread clock, a bad CPUCLOCK_WHICH or a pid that
// names no process is EINVAL. 1 when clk is no CPU clock at all.
long check_cpu_nsleep_clock(SysCtx& c, clockid_t clk) {
    if (clk == CLOCK_THREAD_CPUTIME_ID || (clk < 0 && (clk & 7) == 3)) return -EOPNOTSUPP;
    if (clk >= 0) return clk == CLOCK_PROCESS_CPUTIME_ID ? 0 : 1;
    const int pid = ~(clk >> 3);
    const bool thread = clk & 4;
    if (thread && (pid == 0 || pid == c.task.pid)) return -EINVAL;
    if ((clk & 3) == 3) return -EINVAL;
    if (pid == 0) return 0;
    const task_struct* t = c.kernel.find_task_by_vpid(pid);
    if (!t || (!thread && t->pid != t->tgid)) return -EINVAL;
    return 0;
}

// The time now on a sleep's clock: a process CPU clock is the guest's own CPU time (the
// process may be gone: then its time stands still at 0).
ktime_t nsleep_clock_now(SysCtx& c, clockid_t clk) {
    if (!process_cpu_clock(clk)) return clock_now(clk);
    task_struct* p = cpu_clock_task(c.kernel, c.task, clk);
    return p ? cpu_clock_sample_group(clk & 3, *p) : 0;
}

// Sleeps until restart_block.nanosleep.expires on its clock: 0 once it has passed, or
// -ERESTART_RESTARTBLOCK when a signal came first, after writing the time left (-EFAULT
// if that fails).
long do_nanosleep(SysCtx& c) {
    auto& ns = c.task.restart_block.nanosleep;
    for (ktime_t now; (now = nsleep_clock_now(c, ns.clockid)) < ns.expires;) {
        if (!signal_pending(c.task)) {
            // A CPU-time expiry does not come while the process sleeps: wait for a signal.
            std::optional<ktime_t> until;
            if (!process_cpu_clock(ns.clockid)) until = ktime_add_safe(ktime_get(), ns.expires - now);
            schedule_hrtimeout(c.task, until, "nanosleep");
            continue;
        }
        if (ns.type != TT_NONE &&
            !put_timespec(c, VirtAddr(ns.rmtp), ktime_to_timespec(ns.expires - now), ns.type == TT_NATIVE))
            return -EFAULT;
        return -ERESTART_RESTARTBLOCK;
    }
    return 0;
}

// What restart_syscall runs for an interrupted relative sleep: the rest of it.
long hrtimer_nanosleep_restart(SysCtx& c) { return do_nanosleep(c); }

long hrtimer_nanosleep(SysCtx& c, ktime_t t, bool abs, clockid_t clk) {
    auto& rb = c.task.restart_block;
    rb.nanosleep.clockid = clk;
    rb.nanosleep.expires = abs ? t : ktime_add_safe(nsleep_clock_now(c, clk), t);
    const long ret = do_nanosleep(c);
    if (ret != -ERESTART_RESTARTBLOCK) return ret;
    if (abs) return -ERESTARTNOHAND;  // an absolute sleep simply runs again
    rb.fn = &hrtimer_nanosleep_restart;
    return ret;
}

// clock_nanosleep and clock_nanosleep_time64 (time64: 64-bit timespecs on i386).
long do_clock_nanosleep(SysCtx& c, const uint64_t* a, bool time64) {
    constexpr int TIMER_ABSTIME_ = 1;
    auto clk = static_cast<clockid_t>(a[0]);
    const int flags = static_cast<int>(a[1]);
    // The alarm clocks (alarm_timer_nsleep) sleep as their base clocks here (no suspend to
    // wake from), after the same CAP_WAKE_ALARM check.
    if (clk == CLOCK_REALTIME_ALARM || clk == CLOCK_BOOTTIME_ALARM) {
        if (!capable(CAP_WAKE_ALARM_)) return -EPERM;
        clk = clk == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
    }
    if (long e = check_cpu_nsleep_clock(c, clk); e <= 0) {
        if (e < 0) return e;
    } else if (!hrtimer_clock(clk)) {
        // Clocks that cannot be slept on (EOPNOTSUPP: the raw and coarse ones) or do not
        // exist (EINVAL): the host's answer for a zero sleep, which returns at once.
        const timespec zero{};
        if (int e = clock_nanosleep(clk, 0, &zero, nullptr)) return -e;
        return -EINVAL;
    }
    timespec t;
    if (!get_timespec(c, VirtAddr(a[2]), t, time64)) return -EFAULT;
    if (!timespec_valid(t)) return -EINVAL;
    const uint64_t rmtp = (flags & TIMER_ABSTIME_) ? 0 : a[3];
    auto& rb = c.task.restart_block;
    rb.fn = nullptr;
    rb.nanosleep.type = !rmtp ? TT_NONE : (time64 || !c.compat) ? TT_NATIVE : TT_COMPAT;
    rb.nanosleep.rmtp = rmtp;
    return hrtimer_nanosleep(c, timespec_to_ktime(t), flags & TIMER_ABSTIME_, clk);
}

}  // namespace

long sys_nanosleep(SysCtx& c, const uint64_t* a) {
    timespec t;
    if (!get_timespec(c, VirtAddr(a[0]), t, false)) return -EFAULT;
    if (!timespec_valid(t)) return -EINVAL;
    auto& rb = c.task.restart_block;
    rb.fn = nullptr;
    rb.nanosleep.type = !a[1] ? TT_NONE : c.compat ? TT_COMPAT : TT_NATIVE;
    rb.nanosleep.rmtp = a[1];
    return hrtimer_nanosleep(c, timespec_to_ktime(t), false, CLOCK_MONOTONIC);
}

long sys_clock_nanosleep(SysCtx& c, const uint64_t* a) { return do_clock_nanosleep(c, a, false); }
long sys_clock_nanosleep_time64(SysCtx& c, const uint64_t* a) { return do_clock_nanosleep(c, a, true); }

}  // namespace guestos

// The timer queue (hrtimer_start, __hrtimer_run_queues): a short list, searched whole; a
// timer's clock is read when it is looked at, so a clock that jumps moves its timers.

namespace guestos {

hrtimer_cpu_base::~hrtimer_cpu_base() {
    for (hrtimer* t : active) t->base = nullptr;
}

hrtimer::~hrtimer() { hrtimer_cancel(*this); }

ktime_t hrtimer_get_time(const hrtimer& timer) { return clock_now(timer.clockid); }

void hrtimer_start(Kernel& k, hrtimer& timer, ktime_t expires) {
    hrtimer_cancel(timer);
    timer.expires = expires;
    timer.base = &k.hrtimer_base();
    timer.base->active.push_back(&timer);
    k.tick_program_event();
}

bool hrtimer_cancel(hrtimer& timer) {
    if (!timer.base) return false;
    auto& v = timer.base->active;
    v.erase(std::remove(v.begin(), v.end(), &timer), v.end());
    timer.base = nullptr;
    return true;
}

uint64_t hrtimer_forward(hrtimer& timer, ktime_t now, ktime_t interval) {
    const ktime_t delta = now - timer.expires;
    if (delta < 0 || interval <= 0) return 0;
    const uint64_t orun = static_cast<uint64_t>(delta / interval) + 1;
    timer.expires = ktime_add_safe(timer.expires, static_cast<ktime_t>(orun) * interval);
    return orun;
}

void hrtimer_run_queues(Kernel& k) {
    // A callback may start or cancel timers: take the expired ones first, then run each
    // that is still queued.
    std::vector<hrtimer*> due;
    for (hrtimer* t : k.hrtimer_base().active)
        if (t->expires <= hrtimer_get_time(*t)) due.push_back(t);
    for (hrtimer* t : due) {
        if (t->base != &k.hrtimer_base() || t->expires > hrtimer_get_time(*t)) continue;
        hrtimer_cancel(*t);
        if (t->function && t->function(*t) == hrtimer_restart::RESTART) {
            t->base = &k.hrtimer_base();
            t->base->active.push_back(t);
        }
    }
}

std::optional<ktime_t> hrtimer_next_event(Kernel& k) {
    std::optional<ktime_t> next;
    const ktime_t now = ktime_get();
    for (const hrtimer* t : k.hrtimer_base().active) {
        // A CPU-time expiry comes no sooner than its CPU time left; other clocks run at the
        // monotonic clock's rate.
        const ktime_t at = ktime_add_safe(now, std::max<ktime_t>(hrtimer_expires_remaining(*t), 0));
        if (!next || at < *next) next = at;
    }
    return next;
}

}  // namespace guestos
