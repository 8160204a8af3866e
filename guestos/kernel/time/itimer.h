// Interval timers (kernel/time/itimer.c): setitimer, getitimer and alarm. ITIMER_REAL runs
// on CLOCK_MONOTONIC and sends SIGALRM; ITIMER_VIRTUAL (SIGVTALRM) and ITIMER_PROF (SIGPROF)
// run on the process's CPU time as the guest's accounting charges it, user time only and
// user plus system time (posix-cpu-timers.h checks them at the CPU's timer interrupt).
// ITIMER_REAL's expiries are found by the timer interrupt, at every syscall exit and when the
// task sleeps.
#pragma once
#include <sys/time.h>  // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF: the ABI's numbers

#include <optional>

#include "guestos/include/sched.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

// Arms or disarms timer `which`, giving the old setting (do_setitimer): 0 or -EINVAL.
long do_setitimer(task_struct& task, int which, const itimerspec64& value, itimerspec64* ovalue);
// The setting of timer `which` (do_getitimer): 0 or -EINVAL.
long do_getitimer(task_struct& task, int which, itimerspec64& value);
// alarm(seconds): ITIMER_REAL once; the seconds that were left, rounded (alarm_setitimer).
unsigned alarm_setitimer(task_struct& task, unsigned seconds);

// Fires ITIMER_REAL when it is due: queues SIGALRM and reloads or disarms it (it_real_fn);
// when it fired, programs the CPU for the next expiry.
void run_itimers(task_struct& task);
// The CLOCK_MONOTONIC time at which ITIMER_REAL is due, if armed.
std::optional<ktime_t> itimer_next_event(const task_struct& task);

}  // namespace guestos
