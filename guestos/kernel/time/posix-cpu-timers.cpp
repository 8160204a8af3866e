// CPU-time clocks and their timers, on the guest's own CPU accounting.
#include "guestos/kernel/time/posix-cpu-timers.h"

#include <algorithm>
#include <cerrno>

#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/kernel/time/itimer.h"
#include "guestos/kernel/time/posix-timers.h"

namespace guestos {

namespace {

constexpr int TIMER_ABSTIME_ = 1;
constexpr int REQUEUE_PENDING = 1;
// A clock id's parts (CPUCLOCK_PERTHREAD, CPUCLOCK_PID, CPUCLOCK_WHICH).
constexpr clockid_t CPUCLOCK_PERTHREAD_MASK = 4, CPUCLOCK_CLOCK_MASK = 3;
constexpr clockid_t CLOCKFD = 3;
bool cpuclock_perthread(clockid_t clk) { return clk & CPUCLOCK_PERTHREAD_MASK; }
int cpuclock_which(clockid_t clk) { return clk & CPUCLOCK_CLOCK_MASK; }
int cpuclock_pid(clockid_t clk) { return ~(clk >> 3); }

// The user and system parts of a CPU time, and their sum (struct task_cputime).
struct task_cputime {
    ktime_t utime = 0, stime = 0, sum_exec_runtime = 0;
    ktime_t sample(int which) const {
        return which == CPUCLOCK_VIRT ? utime : which == CPUCLOCK_PROF ? utime + stime : sum_exec_runtime;
    }
};

// A thread's time as cputime_adjust splits it: system time at most the runtime, user time
// the rest.
void add_thread_cputime(task_cputime& c, const task_struct& t) {
    const ktime_t stime = std::min(t.stime_ns, t.sum_exec_runtime);
    c.stime += stime;
    c.utime += t.sum_exec_runtime - stime;
    c.sum_exec_runtime += t.sum_exec_runtime;
}

// The time of the task on the CPU is charged up to now first.
void charge_curr(const task_struct& t) {
    if (t.kernel) account_curr(*t.kernel);
}

task_cputime thread_group_cputime(const signal_struct& sig) {
    task_cputime c;
    c.utime = sig.utime_ns, c.stime = sig.stime_ns, c.sum_exec_runtime = sig.utime_ns + sig.stime_ns;
    for (const task_struct* th : sig.thread_head) add_thread_cputime(c, *th);
    return c;
}

// The task a CPU timer runs on (it.cpu.task), while it is not reaped.
task_struct* timer_task(const k_itimer& timr) { return timr.cpu_task ? timr.cpu_task->task : nullptr; }

// The timer's clock now: -1 when its task is gone.
ktime_t timer_clock_sample(const k_itimer& timr) {
    task_struct* p = timer_task(timr);
    if (!p) return -1;
    const int which = cpuclock_which(timr.it_clock);
    return cpuclock_perthread(timr.it_clock) ? cpu_clock_sample(which, *p) : cpu_clock_sample_group(which, *p);
}

bool sigev_none(const k_itimer& timr) { return (timr.it_sigev_notify & ~SIGEV_THREAD_ID_) == SIGEV_NONE_; }

// Moves a periodic timer's expiry past now by whole intervals, counting them as overruns
// (bump_cpu_timer).
void bump_cpu_timer(k_itimer& timr, ktime_t now) {
    if (!timr.it_interval || now < timr.cpu_expires) return;
    const uint64_t n = static_cast<uint64_t>((now - timr.cpu_expires) / timr.it_interval) + 1;
    timr.cpu_expires = ktime_add_safe(timr.cpu_expires, static_cast<ktime_t>(n) * timr.it_interval);
    timr.it_overrun += static_cast<int64_t>(n);
}

// The timer expired (cpu_timer_fire): a one-shot timer is spent; a periodic one waits for its
// signal's dequeue to re-arm, unless the signal was ignored: then it runs on by itself.
void cpu_timer_fire(k_itimer& timr) {
    timr.cpu_armed = false;
    if (sigev_none(timr)) return;
    if (!timr.it_interval) {
        posix_timer_event(timr, 0);
        timr.cpu_expires = 0;
    } else if (!posix_timer_event(timr, ++timr.it_requeue_pending)) {
        posix_cpu_timer_rearm(timr);
        ++timr.it_requeue_pending;
    }
}

// Calls fn on every CPU timer of every live process (the processes own them; the task whose
// clock one runs on may be any).
template <class Fn>
void for_each_cpu_timer(Kernel& k, Fn fn) {
    for (task_struct* t : k.all_tasks()) {
        if (t->exited || t->signal->thread_head.empty() || t->signal->thread_head.front() != t) continue;
        for (auto& [id, timr] : t->signal->posix_timers)
            if (timr->cpu_task) fn(*timr);
    }
}

// Whether an armed timer runs on the clock of `curr`'s thread or of its process: only those
// advance while curr has the CPU.
bool runs_on(const k_itimer& timr, const task_struct& curr) {
    const task_struct* p = timer_task(timr);
    if (!p) return false;
    return cpuclock_perthread(timr.it_clock) ? p == &curr : p->signal == curr.signal;
}

ktime_t rlimit_cpu_expiry(const signal_struct& sig) {
    const uint64_t soft = sig.rlim[RLIMIT_CPU_].rlim_cur;
    if (soft == RLIM_INFINITY_ || soft >= static_cast<uint64_t>(KTIME_MAX / NSEC_PER_SEC)) return 0;
    return static_cast<ktime_t>(soft) * NSEC_PER_SEC;  // 0 for a soft limit of 0, as Linux's cache
}

// The process-wide signals of the CPU itimers and RLIMIT_CPU (SEND_SIG_PRIV).
void group_send_kernel_signal(task_struct& t, int sig) {
    kernel_siginfo si;
    si.si_signo = sig;
    si.si_code = SI_KERNEL;
    send_signal_group(t, si, false);
}

// An itimer on the process's CPU clock fires once per check and reloads once
// (check_cpu_itimer).
void check_cpu_itimer(task_struct& t, itimer& it, ktime_t now, int sig) {
    if (!it.expires || now < it.expires) return;
    it.expires = it.incr ? it.expires + it.incr : 0;
    group_send_kernel_signal(t, sig);
}

// RLIMIT_CPU (check_process_timers): SIGKILL at the hard limit; past the soft limit SIGXCPU,
// and the soft limit moves a second on while it is below the hard one.
void check_rlimit_cpu(task_struct& t, ktime_t ptime) {
    rlimit64& lim = t.signal->rlim[RLIMIT_CPU_];
    if (lim.rlim_cur == RLIM_INFINITY_) return;
    const uint64_t psecs = static_cast<uint64_t>(ptime / NSEC_PER_SEC);
    if (psecs >= lim.rlim_max) {
        group_send_kernel_signal(t, SIGKILL_);
        return;
    }
    if (psecs >= lim.rlim_cur) {
        group_send_kernel_signal(t, SIGXCPU_);
        if (lim.rlim_cur < lim.rlim_max) ++lim.rlim_cur;
    }
}

}  // namespace

ktime_t cpu_clock_sample(int which, task_struct& t) {
    charge_curr(t);
    task_cputime c;
    add_thread_cputime(c, t);
    return c.sample(which);
}

ktime_t cpu_clock_sample_group(int which, task_struct& t) {
    charge_curr(t);
    return thread_group_cputime(*t.signal).sample(which);
}

bool is_cpu_clockid(clockid_t clk) {
    return clk == CLOCK_PROCESS_CPUTIME_ID || clk == CLOCK_THREAD_CPUTIME_ID || (clk < 0 && (clk & 7) != CLOCKFD);
}

task_struct* cpu_clock_task(Kernel& k, task_struct& caller, clockid_t& clk) {
    // The fixed ids are the caller's own: MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), and the
    // thread's MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED).
    constexpr auto PID_0 = static_cast<clockid_t>(~0u << 3);
    if (clk == CLOCK_PROCESS_CPUTIME_ID) clk = PID_0 | CPUCLOCK_SCHED;
    else if (clk == CLOCK_THREAD_CPUTIME_ID) clk = PID_0 | CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED;
    const bool thread = cpuclock_perthread(clk);
    if (cpuclock_which(clk) >= CPUCLOCK_MAX) return nullptr;
    const int pid = cpuclock_pid(clk);
    if (pid == 0) return thread ? &caller : caller.group_leader;
    task_struct* t = k.find_task_by_vpid(pid);
    if (!t || t->exit_state == EXIT_DEAD) return nullptr;
    if (thread) return t->tgid == caller.tgid ? t : nullptr;
    if (t == &caller) return caller.group_leader;
    return t->thread_group_leader() ? t : nullptr;
}

long posix_cpu_timer_create(Kernel& k, task_struct& caller, k_itimer& timr) {
    task_struct* p = cpu_clock_task(k, caller, timr.it_clock);
    if (!p) return -EINVAL;
    timr.cpu_task = get_task_pid(*p);
    return 0;
}

long posix_cpu_timer_set(k_itimer& timr, int flags, const itimerspec64& nw, itimerspec64* old) {
    const ktime_t val = timer_clock_sample(timr);
    if (val < 0) return -ESRCH;
    timr.cpu_armed = false;
    if (old) {
        old->interval = timr.it_interval;
        old->value = 0;
        if (timr.cpu_expires) {  // a due timer not yet fired counts as an overrun
            bump_cpu_timer(timr, val);
            old->value = val < timr.cpu_expires ? timr.cpu_expires - val : 1;
        }
    }
    ktime_t expires = nw.value;
    if (expires && !(flags & TIMER_ABSTIME_)) expires = ktime_add_safe(expires, val);
    timr.cpu_expires = expires;
    timr.it_interval = nw.interval;
    // A modification stamp: a signal of the old setting re-arms nothing.
    timr.it_requeue_pending = (timr.it_requeue_pending + 2) & ~REQUEUE_PENDING;
    timr.it_overrun_last = 0;
    timr.it_overrun = -1;
    if (!expires) return 0;
    if (val < expires) {
        timr.cpu_armed = !sigev_none(timr);
        if (timr.kernel) timr.kernel->tick_program_event();
    } else if (!sigev_none(timr)) {
        cpu_timer_fire(timr);  // already passed: now, though the task may never run again
    }
    return 0;
}

void posix_cpu_timer_get(k_itimer& timr, itimerspec64& cur) {
    cur.interval = timr.it_interval;
    cur.value = 0;
    if (!timr.cpu_expires) return;
    const ktime_t now = timer_clock_sample(timr);
    if (now < 0) {  // its task was reaped: no sample, the timer counts as disarmed
        timr.cpu_expires = 0;
        return;
    }
    // A periodic timer waiting for its signal's delivery, or a SIGEV_NONE one, shows its next
    // expiry.
    if (timr.it_interval && !timr.cpu_armed) bump_cpu_timer(timr, now);
    if (now < timr.cpu_expires) cur.value = timr.cpu_expires - now;
    else if (!sigev_none(timr)) cur.value = 1;  // due, not yet fired
}

void posix_cpu_timer_rearm(k_itimer& timr) {
    const ktime_t now = timer_clock_sample(timr);
    if (now < 0) {
        timr.cpu_expires = 0;
        return;
    }
    bump_cpu_timer(timr, now);
    timr.cpu_armed = !sigev_none(timr) && timr.cpu_expires;
    if (timr.kernel) timr.kernel->tick_program_event();
}

void run_posix_cpu_timers(Kernel& k, task_struct& curr) {
    if (curr.exited) return;
    // The timers first, off the armed set, then each fires (a signal may re-arm one).
    std::vector<k_itimer*> firing;
    for_each_cpu_timer(k, [&](k_itimer& timr) {
        if (timr.cpu_armed && runs_on(timr, curr) && timer_clock_sample(timr) >= timr.cpu_expires) {
            timr.cpu_armed = false;
            firing.push_back(&timr);
        }
    });
    signal_struct& sig = *curr.signal;
    if (sig.itimers[ITIMER_VIRTUAL].expires || sig.itimers[ITIMER_PROF].expires ||
        sig.rlim[RLIMIT_CPU_].rlim_cur != RLIM_INFINITY_) {
        const task_cputime c = (charge_curr(curr), thread_group_cputime(sig));
        const ktime_t ptime = c.sample(CPUCLOCK_PROF);
        check_cpu_itimer(curr, sig.itimers[ITIMER_PROF], ptime, SIGPROF_);
        check_cpu_itimer(curr, sig.itimers[ITIMER_VIRTUAL], c.utime, SIGVTALRM_);
        // Linux looks at the limit when an expiry of the process's clocks is due; a soft
        // limit of 0 is no expiry.
        const ktime_t x = rlimit_cpu_expiry(sig);
        if (x && ptime >= x) check_rlimit_cpu(curr, ptime);
    }
    for (k_itimer* timr : firing) cpu_timer_fire(*timr);
}

std::optional<ktime_t> posix_cpu_timers_next_event(Kernel& k) {
    task_struct* curr = k.runqueue().curr;
    if (!curr || curr->exited || curr->state != TASK_RUNNING) return std::nullopt;
    std::optional<ktime_t> left;
    auto consider = [&](ktime_t l) {
        if (!left || l < *left) left = l;
    };
    for_each_cpu_timer(k, [&](k_itimer& timr) {
        if (timr.cpu_armed && runs_on(timr, *curr)) consider(timr.cpu_expires - timer_clock_sample(timr));
    });
    const signal_struct& sig = *curr->signal;
    const ktime_t rlim = rlimit_cpu_expiry(sig);
    if (sig.itimers[ITIMER_VIRTUAL].expires || sig.itimers[ITIMER_PROF].expires || rlim) {
        const task_cputime c = (charge_curr(*curr), thread_group_cputime(sig));
        if (sig.itimers[ITIMER_VIRTUAL].expires) consider(sig.itimers[ITIMER_VIRTUAL].expires - c.utime);
        if (sig.itimers[ITIMER_PROF].expires) consider(sig.itimers[ITIMER_PROF].expires - c.sample(CPUCLOCK_PROF));
        if (rlim) consider(rlim - c.sample(CPUCLOCK_PROF));
    }
    if (!left) return std::nullopt;
    // Something due now is checked at the next interrupt, though not sooner than a
    // millisecond from here, so that what stays due (a tiny reload) cannot storm the CPU.
    return ktime_add_safe(ktime_get(), std::max<ktime_t>(*left, NSEC_PER_SEC / 1000));
}

}  // namespace guestos
