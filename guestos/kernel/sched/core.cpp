// The one task sleeps on the host until its next timer expiry.
#include "guestos/kernel/sched/core.h"

#include <unistd.h>

#include <cstdio>

#include "guestos/kernel/time/itimer.h"

namespace guestos {

void schedule_hrtimeout(task_struct& task, std::optional<ktime_t> until, const char* what) {
    // A sleeping task uses no CPU time: only ITIMER_REAL can come due, so the CPU's timer
    // waits for it alone (and does not keep interrupting a CPU that is not running).
    std::optional<ktime_t> real;
    if (task.itimers[ITIMER_REAL].expires) real = task.itimers[ITIMER_REAL].expires;
    if (task.cpu) task.cpu->set_next_event(real);
    std::optional<ktime_t> wake = until;
    if (real && (!wake || *real < *wake)) wake = real;
    if (!wake) {
        std::fprintf(stderr,
                     "emu: deadlock: the guest waits in %s with no timer armed and no other task to wake it; "
                     "it sleeps forever, as on Linux (interrupt emu to end it)\n",
                     what);
        for (;;) ::pause();
    }
    const timespec ts = ktime_to_timespec(*wake);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    hrtimer_interrupt(task);  // the timers now due queue their signals; the next is programmed
}

}  // namespace guestos
