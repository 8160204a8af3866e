// Time between the guest and the kernel (kernel/time/time.c): nanoseconds as ktime_t, the
// clocks the timers run on, and the timespec layouts of both ABIs.
#pragma once
#include <time.h>

#include <cstdint>

#include "guestos/mm/memory.h"

namespace guestos {

struct SysCtx;

using ktime_t = int64_t;  // nanoseconds
inline constexpr ktime_t NSEC_PER_USEC = 1000, NSEC_PER_SEC = 1000000000;
inline constexpr ktime_t KTIME_MAX = INT64_MAX;

// The time a file's timestamps take now (current_time): the guest's CLOCK_REALTIME.
timespec current_time();
// CLOCK_MONOTONIC now (ktime_get).
ktime_t ktime_get();
// A clock's time now in ns (the host's clock of that id).
ktime_t clock_now(clockid_t clk);
// a + b, saturating at KTIME_MAX (ktime_add_safe).
ktime_t ktime_add_safe(ktime_t a, ktime_t b);

// A timespec as ns, saturating at KTIME_MAX (timespec64_to_ktime).
ktime_t timespec_to_ktime(const timespec& ts);
timespec ktime_to_timespec(ktime_t t);
// tv_sec >= 0 and 0 <= tv_nsec < 1e9 (timespec64_valid).
bool timespec_valid(const timespec& ts);

// A timespec in the layout the call expects: 64-bit fields (x86-64, and i386's *_time64
// calls), or i386's 32-bit ones.
[[nodiscard]] bool get_timespec(SysCtx& c, VirtAddr src, timespec& ts, bool time64);
[[nodiscard]] bool put_timespec(SysCtx& c, VirtAddr dst, const timespec& ts, bool time64);

// An itimerspec or itimerval in ns: the time to the next expiry and the reload interval.
struct itimerspec64 {
    ktime_t value = 0;
    ktime_t interval = 0;
};
// Reads a struct itimerspec (interval, then value) of the call's layout and validates both
// timespecs (get_itimerspec64 + itimerspec64_valid): 0, -EFAULT or -EINVAL.
long get_itimerspec64(SysCtx& c, VirtAddr src, itimerspec64& out, bool time64);
[[nodiscard]] bool put_itimerspec64(SysCtx& c, VirtAddr dst, const itimerspec64& in, bool time64);

}  // namespace guestos
