// Interval timers (kernel/time/itimer.c): setitimer, getitimer and alarm. ITIMER_REAL runs
// on CLOCK_MONOTONIC and sends SIGALRM; ITIMER_VIRTUAL (SIGVTALRM) and ITIMER_PROF (SIGPROF)
// both run on the CPU time of the thread that emulates the guest, since the guest's user
// time cannot be told apart from emu's work on its behalf. Expiries are found by the CPU's
// timer interrupt (hrtimer_interrupt), at every syscall exit and when the task sleeps.
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

// A timer of the task is armed (a cheap test before reading clocks).
bool itimers_armed(const task_struct& task);
// Fires the timers that are due: queues their signals and reloads or disarms them
// (it_real_fn, check_cpu_itimer); when one fired, programs the CPU for the next expiry.
void run_itimers(task_struct& task);
// The CLOCK_MONOTONIC time at which one of the process's timers may be due, if armed.
std::optional<ktime_t> itimer_next_event(const task_struct& task);

}  // namespace guestos
