// Interval timers and their syscalls.
#include "guestos/kernel/time/itimer.h"

#include <unistd.h>

#include <cerrno>

#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/time/posix-cpu-timers.h"

namespace guestos {

namespace {

// Linux adds a tick to a CPU timer's first expiry (set_cpu_itimer); Debian's HZ is 250.
constexpr ktime_t TICK_NSEC = NSEC_PER_SEC / 250;
bool valid_which(int which) { return which == ITIMER_REAL || which == ITIMER_VIRTUAL || which == ITIMER_PROF; }

// A timer's clock now: CLOCK_MONOTONIC, or the process's user (ITIMER_VIRTUAL) or user plus
// system (ITIMER_PROF) time.
ktime_t itimer_now(task_struct& task, int which) {
    if (which == ITIMER_REAL) return ktime_get();
    return cpu_clock_sample_group(which == ITIMER_VIRTUAL ? CPUCLOCK_VIRT : CPUCLOCK_PROF, task);
}

// The time left to an expiry as getitimer shows it: an expiry already due but not yet fired
// reads as 1 us (itimer_get_remtime) or a tick (get_cpu_itimer).
ktime_t itimer_remaining(task_struct& task, int which, const itimer& it) {
    if (!it.expires) return 0;
    const ktime_t left = it.expires - itimer_now(task, which);
    if (left > 0) return left;
    return which == ITIMER_REAL ? NSEC_PER_USEC : TICK_NSEC;
}

}  // namespace

std::optional<ktime_t> itimer_next_event(const task_struct& task) {
    const itimer& it = task.signal->itimers[ITIMER_REAL];
    if (!it.expires) return std::nullopt;
    return it.expires;
}

namespace {

// Tells the CPU when to interrupt next (tick_program_event).
void program_next_event(task_struct& task) {
    if (task.kernel) task.kernel->tick_program_event();
}

// ITIMER_REAL's signal (it_real_fn's kill_pid_info with SEND_SIG_PRIV).
void send_real_itimer_signal(task_struct& task) {
    kernel_siginfo si;
    si.si_signo = SIGALRM_;
    si.si_code = SI_KERNEL;
    send_signal(task, si, false);
}

// Fires ITIMER_REAL if it is due (it_real_fn); true when it did.
bool expire_real_itimer(task_struct& task) {
    itimer& it = task.signal->itimers[ITIMER_REAL];
    if (!it.expires) return false;
    const ktime_t now = ktime_get();
    if (it.expires > now) return false;
    if (!it.incr) it.expires = 0;
    else it.expires += ((now - it.expires) / it.incr + 1) * it.incr;  // hrtimer_forward
    send_real_itimer_signal(task);
    return true;
}

}  // namespace

long do_getitimer(task_struct& task, int which, itimerspec64& value) {
    if (!valid_which(which)) return -EINVAL;
    const itimer& it = task.signal->itimers[which];
    value.value = itimer_remaining(task, which, it);
    value.interval = it.incr;
    return 0;
}

long do_setitimer(task_struct& task, int which, const itimerspec64& value, itimerspec64* ovalue) {
    if (!valid_which(which)) return -EINVAL;
    if (ovalue) (void)do_getitimer(task, which, *ovalue);
    itimer& it = task.signal->itimers[which];
    if (!value.value) {  // disarm: ITIMER_REAL forgets its interval, the CPU timers keep it
        it.expires = 0;
        it.incr = which == ITIMER_REAL ? 0 : value.interval;
    } else {
        const ktime_t first = which == ITIMER_REAL ? value.value : ktime_add_safe(value.value, TICK_NSEC);
        it.expires = ktime_add_safe(itimer_now(task, which), first);
        it.incr = value.interval;
    }
    program_next_event(task);
    return 0;
}

unsigned alarm_setitimer(task_struct& task, unsigned seconds) {
    itimerspec64 value, old;
    value.value = static_cast<ktime_t>(seconds) * NSEC_PER_SEC;
    (void)do_setitimer(task, ITIMER_REAL, value, &old);
    // Never 0 while an alarm is pending, and rather too much than too little.
    uint64_t left = static_cast<uint64_t>(old.value / NSEC_PER_SEC);
    const ktime_t frac = old.value % NSEC_PER_SEC;
    if ((!left && frac) || frac >= NSEC_PER_SEC / 2) ++left;
    return static_cast<unsigned>(left);
}

void run_itimers(task_struct& task) {
    if (expire_real_itimer(task)) program_next_event(task);
}

// The syscalls: struct itimerval is two timevals of longs (i386: old_itimerval32).

namespace {

// Reads an itimerval and validates its timevals (get_itimerval): 0, -EFAULT or -EINVAL.
long get_itimerval(SysCtx& c, VirtAddr src, itimerspec64& out) {
    int64_t v[4];  // it_interval.tv_sec, tv_usec, it_value.tv_sec, tv_usec
    if (c.compat) {
        int32_t v32[4];
        if (!copy_from_user(c.mm, v32, src, sizeof v32)) return -EFAULT;
        for (int i = 0; i < 4; ++i) v[i] = v32[i];
    } else if (!copy_from_user(c.mm, v, src, sizeof v)) {
        return -EFAULT;
    }
    for (int i = 0; i < 4; i += 2)  // timeval_valid
        if (v[i] < 0 || v[i + 1] < 0 || v[i + 1] >= 1000000) return -EINVAL;
    auto ns = [](int64_t sec, int64_t usec) {
        return timespec_to_ktime(timespec{static_cast<time_t>(sec), static_cast<long>(usec * NSEC_PER_USEC)});
    };
    out.interval = ns(v[0], v[1]);
    out.value = ns(v[2], v[3]);
    return 0;
}

bool put_itimerval(SysCtx& c, VirtAddr dst, const itimerspec64& in) {
    const int64_t v[4] = {in.interval / NSEC_PER_SEC, in.interval % NSEC_PER_SEC / NSEC_PER_USEC,
                          in.value / NSEC_PER_SEC, in.value % NSEC_PER_SEC / NSEC_PER_USEC};
    if (!c.compat) return copy_to_user(c.mm, dst, v, sizeof v);
    int32_t v32[4];
    for (int i = 0; i < 4; ++i) v32[i] = static_cast<int32_t>(v[i]);
    return copy_to_user(c.mm, dst, v32, sizeof v32);
}

}  // namespace

long sys_getitimer(SysCtx& c, const uint64_t* a) {
    itimerspec64 value;
    if (long e = do_getitimer(c.task, static_cast<int>(a[0]), value)) return e;
    return put_itimerval(c, VirtAddr(a[1]), value) ? 0 : -EFAULT;
}

long sys_setitimer(SysCtx& c, const uint64_t* a) {
    itimerspec64 value, old;
    // A null new value disarms, a misfeature Linux still honours.
    if (a[1])
        if (long e = get_itimerval(c, VirtAddr(a[1]), value)) return e;
    if (long e = do_setitimer(c.task, static_cast<int>(a[0]), value, a[2] ? &old : nullptr)) return e;
    if (a[2] && !put_itimerval(c, VirtAddr(a[2]), old)) return -EFAULT;
    return 0;
}

long sys_alarm(SysCtx& c, const uint64_t* a) { return alarm_setitimer(c.task, static_cast<unsigned>(a[0])); }

}  // namespace guestos
