// Sleeping (kernel/sched/core.c schedule, kernel/time/hrtimer.c schedule_hrtimeout) on a
// machine with one task: nothing but the task's own timers can change what it waits for.
#pragma once
#include <optional>

#include "guestos/include/signal.h"
#include "guestos/include/sched.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

// Sleeps until `until` (CLOCK_MONOTONIC) or the task's next ITIMER_REAL expiry, whichever
// comes first, then runs the timers that are due (queueing their signals). With neither,
// nothing could ever wake the task: like Linux it sleeps forever, after a note on stderr
// naming `what`; a host signal such as Ctrl-C still ends emu. (CPU-time timers do not run
// while the task sleeps.)
void schedule_hrtimeout(task_struct& task, std::optional<ktime_t> until, const char* what);

// Sleeps until cond() holds or a signal is pending (wait_event_interruptible): 0, or
// -ERESTARTSYS when a signal ended the wait.
template <class Cond>
long wait_event_interruptible(task_struct& task, Cond cond, const char* what) {
    while (!cond()) {
        if (signal_pending(task)) return -ERESTARTSYS;
        schedule_hrtimeout(task, std::nullopt, what);
    }
    return 0;
}

}  // namespace guestos
