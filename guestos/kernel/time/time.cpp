// Clocks and the user layouts of time values.
#include "guestos/kernel/time/time.h"

#include "guestos/include/syscalls.h"
#include "guestos/kernel/time/timekeeping.h"

namespace guestos {

ktime_t clock_now(clockid_t clk) {
    if (auto t = timekeeping_read(clk)) return *t;
    timespec ts{};
    clock_gettime(clk, &ts);
    return timespec_to_ktime(ts);
}

timespec current_time() { return ktime_to_timespec(clock_now(CLOCK_REALTIME)); }

ktime_t ktime_get() { return clock_now(CLOCK_MONOTONIC); }

ktime_t ktime_add_safe(ktime_t a, ktime_t b) {
    ktime_t r;
    return __builtin_add_overflow(a, b, &r) || r < 0 ? KTIME_MAX : r;
}

ktime_t timespec_to_ktime(const timespec& ts) {
    if (ts.tv_sec >= KTIME_MAX / NSEC_PER_SEC) return KTIME_MAX;
    return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

timespec ktime_to_timespec(ktime_t t) {
    timespec ts{};
    ts.tv_sec = t / NSEC_PER_SEC;
    ts.tv_nsec = t % NSEC_PER_SEC;
    return ts;
}

bool timespec_valid(const timespec& ts) {
    return ts.tv_sec >= 0 && static_cast<uint64_t>(ts.tv_nsec) < static_cast<uint64_t>(NSEC_PER_SEC);
}

bool put_timespec(SysCtx& c, VirtAddr dst, const timespec& ts, bool time64) {
    if (time64 || !c.compat) {
        int64_t v[2] = {ts.tv_sec, ts.tv_nsec};
        return copy_to_user(c.mm, dst, v, sizeof v);
    }
    int32_t v[2] = {static_cast<int32_t>(ts.tv_sec), static_cast<int32_t>(ts.tv_nsec)};
    return copy_to_user(c.mm, dst, v, sizeof v);
}

bool get_timespec(SysCtx& c, VirtAddr src, timespec& ts, bool time64) {
    if (time64 || !c.compat) {
        int64_t v[2];
        if (!copy_from_user(c.mm, v, src, sizeof v)) return false;
        ts.tv_sec = v[0];
        ts.tv_nsec = c.compat ? static_cast<uint32_t>(v[1]) : v[1];  // i386: tv_nsec's padding is ignored
        return true;
    }
    int32_t v[2];
    if (!copy_from_user(c.mm, v, src, sizeof v)) return false;
    ts.tv_sec = v[0];
    ts.tv_nsec = v[1];
    return true;
}

namespace {
// struct itimerspec: interval then value, each a timespec of the call's layout.
bool get_itimerspec(SysCtx& c, VirtAddr src, timespec ts[2], bool time64) {
    const uint64_t half = (time64 || !c.compat) ? 16 : 8;
    return get_timespec(c, src, ts[0], time64) && get_timespec(c, src + half, ts[1], time64);
}
}  // namespace

long get_itimerspec64(SysCtx& c, VirtAddr src, itimerspec64& out, bool time64) {
    timespec ts[2];
    if (!get_itimerspec(c, src, ts, time64)) return -EFAULT;
    if (!timespec_valid(ts[0]) || !timespec_valid(ts[1])) return -EINVAL;
    out.interval = timespec_to_ktime(ts[0]);
    out.value = timespec_to_ktime(ts[1]);
    return 0;
}

bool put_itimerspec64(SysCtx& c, VirtAddr dst, const itimerspec64& in, bool time64) {
    const uint64_t half = (time64 || !c.compat) ? 16 : 8;
    return put_timespec(c, dst, ktime_to_timespec(in.interval), time64) &&
           put_timespec(c, dst + half, ktime_to_timespec(in.value), time64);
}

}  // namespace guestos
