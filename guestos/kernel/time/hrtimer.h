// High-resolution timers (kernel/time/hrtimer.c): a callback at an absolute time on a clock.
// POSIX timers and timerfds arm them; the CPU's timer interrupt (hrtimer_interrupt) runs the
// expired ones and the next expiry programs the CPU's timer (tick_program_event).
#pragma once
#include <time.h>

#include <functional>
#include <optional>
#include <vector>

#include "guestos/kernel/time/time.h"

namespace guestos {

class Kernel;
struct hrtimer;

enum class hrtimer_restart { NORESTART, RESTART };

// The timers armed on one machine (hrtimer_cpu_base); it outlives none of them: a timer
// still queued when the base goes is simply forgotten.
struct hrtimer_cpu_base {
    hrtimer_cpu_base() = default;
    hrtimer_cpu_base(const hrtimer_cpu_base&) = delete;
    hrtimer_cpu_base& operator=(const hrtimer_cpu_base&) = delete;
    ~hrtimer_cpu_base();
    std::vector<hrtimer*> active;
};

struct hrtimer {
    hrtimer() = default;
    hrtimer(const hrtimer&) = delete;
    hrtimer& operator=(const hrtimer&) = delete;
    ~hrtimer();  // hrtimer_cancel
    // CLOCK_REALTIME, MONOTONIC, BOOTTIME or TAI.
    clockid_t clockid = CLOCK_MONOTONIC;
    ktime_t expires = 0;  // absolute, on clockid
    // Runs at expiry; RESTART re-queues the timer at its (forwarded) expires.
    std::function<hrtimer_restart(hrtimer&)> function;
    hrtimer_cpu_base* base = nullptr;  // where it is queued; null: inactive
};

// The time now on the timer's clock (base->get_time()).
ktime_t hrtimer_get_time(const hrtimer& timer);
// Queues the timer to fire at `expires` on its clock (hrtimer_start, HRTIMER_MODE_ABS).
void hrtimer_start(Kernel& k, hrtimer& timer, ktime_t expires);
// Dequeues the timer; true if it was queued (hrtimer_try_to_cancel).
bool hrtimer_cancel(hrtimer& timer);
inline bool hrtimer_active(const hrtimer& timer) { return timer.base != nullptr; }
// Moves expires forward by whole intervals until it is after now; the number of intervals
// (hrtimer_forward), 0 when it already was.
uint64_t hrtimer_forward(hrtimer& timer, ktime_t now, ktime_t interval);
// The time left to expiry on the timer's clock (hrtimer_expires_remaining).
inline ktime_t hrtimer_expires_remaining(const hrtimer& timer) { return timer.expires - hrtimer_get_time(timer); }
// Runs every expired timer (__hrtimer_run_queues).
void hrtimer_run_queues(Kernel& k);
// The CLOCK_MONOTONIC time of the earliest expiry, if any is queued.
std::optional<ktime_t> hrtimer_next_event(Kernel& k);

}  // namespace guestos
