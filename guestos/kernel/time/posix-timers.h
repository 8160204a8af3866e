// POSIX timers (kernel/time/posix-timers.c): timer_create and friends. A timer belongs to
// its process (signal_struct), runs on an hrtimer of its clock and sends its signal with
// SI_TIMER; a periodic timer is re-armed when its signal is dequeued, so the expiries
// missed meanwhile become the overrun the signal and timer_getoverrun report.
#pragma once
#include <memory>

#include "guestos/include/pid.h"
#include "guestos/include/sched.h"
#include "guestos/kernel/time/hrtimer.h"

namespace guestos {

struct SysCtx;

// The user's struct sigevent (64 bytes; compat_sigevent on i386).
struct sigevent_k {
    uint64_t sigev_value = 0;
    int sigev_signo = 0, sigev_notify = 0, sigev_notify_thread_id = 0;
};
// Reads a struct sigevent of the caller's ABI (get_compat_sigevent's layout on i386): false
// when it cannot be read.
[[nodiscard]] bool get_sigevent(SysCtx& c, VirtAddr src, sigevent_k& ev);

struct k_itimer {
    int it_id = 0;
    clockid_t it_clock = CLOCK_REALTIME;
    int it_sigev_notify = 0;
    int it_pid = 0;       // the process, or the thread for SIGEV_THREAD_ID
    kernel_siginfo sigq;  // the signal it sends: si_signo, si_value, si_tid
    ktime_t it_interval = 0;
    int64_t it_overrun = -1, it_overrun_last = 0;
    int it_requeue_pending = 0;  // odd: a signal is queued and will re-arm the timer
    bool it_active = false;
    Kernel* kernel = nullptr;
    hrtimer timer;  // a timer on a wall or monotonic clock runs on it
    // A timer on a CPU clock (posix-cpu-timers.h, it.cpu): the task the clock measures, the
    // expiry on that clock (0: disarmed), and whether the tick checks it (armed: it is not
    // SIGEV_NONE and its signal is not waiting to re-arm it).
    std::shared_ptr<pid_ref> cpu_task;
    ktime_t cpu_expires = 0;
    bool cpu_armed = false;
};

// Queues the timer's signal (posix_timer_event): false when it was dropped as ignored.
bool posix_timer_event(k_itimer& timr, int si_private);

// A periodic timer's signal is being dequeued: re-arms the timer and sets the signal's
// si_overrun (posixtimer_rearm).
void posixtimer_rearm(task_struct& task, kernel_siginfo& info);
// Deletes every POSIX timer of the process (exit_itimers), at its last thread's exit and
// at exec.
void exit_itimers(signal_struct& sig);
// Drops the queued signals of POSIX timers (flush_itimer_signals, at exec).
void flush_itimer_signals(task_struct& task);

}  // namespace guestos
