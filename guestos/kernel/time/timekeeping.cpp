// The guest's clocks over the TSC (kernel/time/timekeeping.c, update_vsyscall).
#include "guestos/kernel/time/timekeeping.h"

#include <x86intrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "guestos/arch/x86/entry/vdso/vdso_time.h"

namespace guestos {

namespace {

constexpr uint32_t TK_SHIFT = 24;                       // cycles * mult >> 24: 2^40 cycles before overflow
constexpr ktime_t TK_CALIBRATE_NS = 20'000'000;         // the first rate comes from 20 ms of TSC
constexpr ktime_t TK_UPDATE_NS = 50'000'000;            // a new base every 50 ms while the guest runs
constexpr ktime_t TK_MAX_STALE_NS = 10 * NSEC_PER_SEC;  // older data: the vDSO asks the kernel
constexpr ktime_t TK_STEP_NS = 50'000'000;              // further behind than this: step forward
constexpr ktime_t TK_OFFSET_STEP_NS = 1'000'000;        // a host clock set by more than this moves ours

ktime_t host_clock(clockid_t clk) {
    timespec ts{};
    ::clock_gettime(clk, &ts);
    return timespec_to_ktime(ts);
}

// A host clock and the TSC read together: the TSC half-way through the clock's read, from
// the tightest of a few tries (a try the host preempted would skew the rate).
struct Sample {
    uint64_t cycles;
    ktime_t ns;
};
Sample sample(clockid_t clk) {
    Sample best{};
    uint64_t best_span = UINT64_MAX;
    for (int i = 0; i < 5; ++i) {
        const uint64_t a = __rdtsc();
        const ktime_t ns = host_clock(clk);
        const uint64_t b = __rdtsc();
        if (b - a < best_span) best_span = b - a, best = {a + (b - a) / 2, ns};
    }
    return best;
}

// Host clock clk minus CLOCK_MONOTONIC, read between two reads of CLOCK_MONOTONIC.
ktime_t host_offset(clockid_t clk) {
    const ktime_t m1 = host_clock(CLOCK_MONOTONIC);
    const ktime_t v = host_clock(clk);
    const ktime_t m2 = host_clock(CLOCK_MONOTONIC);
    return v - (m1 + (m2 - m1) / 2);
}

struct timekeeper {
    vdso_data data{};  // what every [vvar] page holds
    Sample origin{};   // the first sample: the rate is measured from it
    bool started = false;
    uint64_t update_cycles = 0;                                        // TK_UPDATE_NS in cycles
    ktime_t last_update = 0;                                           // CLOCK_MONOTONIC (ours) at the last update
    ktime_t offs_real = 0, offs_boot = 0, offs_tai = 0, offs_raw = 0;  // from CLOCK_MONOTONIC
    std::vector<uint8_t*> vvars;
};

timekeeper& tk() {
    static timekeeper t;
    return t;
}

// A base of clock ns as the data keeps it (seconds, shifted nanoseconds).
vdso_timestamp make_base(ktime_t ns, uint64_t shifted_frac = 0) {
    return {static_cast<uint64_t>(ns / NSEC_PER_SEC),
            (static_cast<uint64_t>(ns % NSEC_PER_SEC) << TK_SHIFT) + shifted_frac};
}

// Every clock's base from CLOCK_MONOTONIC's and the offsets; then the pages (update_vsyscall).
void update_vsyscall(timekeeper& t, const vdso_timestamp& mono) {
    vdso_data& d = t.data;
    const ktime_t mono_ns = static_cast<ktime_t>(mono.sec) * NSEC_PER_SEC + static_cast<ktime_t>(mono.nsec >> TK_SHIFT);
    const uint64_t frac = mono.nsec & ((1ull << TK_SHIFT) - 1);
    d.basetime[VDSO_CLOCK_MONOTONIC] = mono;
    d.basetime[VDSO_CLOCK_REALTIME] = make_base(mono_ns + t.offs_real, frac);
    d.basetime[VDSO_CLOCK_BOOTTIME] = make_base(mono_ns + t.offs_boot, frac);
    d.basetime[VDSO_CLOCK_TAI] = make_base(mono_ns + t.offs_real + t.offs_tai, frac);
    d.basetime[VDSO_CLOCK_MONOTONIC_RAW] = make_base(mono_ns + t.offs_raw, frac);
    d.max_cycles = static_cast<uint64_t>((static_cast<unsigned __int128>(TK_MAX_STALE_NS) << TK_SHIFT) / d.mult);
    d.hrtimer_res = 1;
    d.clock_mode = VDSO_CLOCKMODE_TSC;
    ++d.seq;  // even before and after: the guest never runs during an update
    ++d.seq;
    for (uint8_t* page : t.vvars) std::memcpy(page, &d, sizeof d);
}

// The rate that maps the cycles since the origin onto the host ns since it.
uint32_t nominal_mult(const timekeeper& t, const Sample& now) {
    const uint64_t cycles = now.cycles - t.origin.cycles;
    const uint64_t ns = static_cast<uint64_t>(now.ns - t.origin.ns);
    return cycles ? static_cast<uint32_t>((static_cast<unsigned __int128>(ns) << TK_SHIFT) / cycles) : 0;
}

// The first rate, 20 ms after the origin: the clocks leave the host's and start here.
void calibrate(timekeeper& t, const Sample& now) {
    const uint32_t mult = nominal_mult(t, now);
    if (!mult) return;
    t.offs_real = host_offset(CLOCK_REALTIME);
    t.offs_boot = std::max<ktime_t>(host_offset(CLOCK_BOOTTIME), 0);
    t.offs_tai = (host_clock(CLOCK_TAI) - host_clock(CLOCK_REALTIME) + NSEC_PER_SEC / 2) / NSEC_PER_SEC * NSEC_PER_SEC;
    t.offs_raw = host_offset(CLOCK_MONOTONIC_RAW);
    t.data.mult = mult;
    t.data.shift = TK_SHIFT;
    t.update_cycles = static_cast<uint64_t>((static_cast<unsigned __int128>(TK_UPDATE_NS) << TK_SHIFT) / mult);
    t.data.cycle_last = now.cycles;
    t.last_update = now.ns;
    update_vsyscall(t, make_base(now.ns));
}

// A later update: the new base continues the old line exactly; the rate is the nominal one
// plus a correction that closes the distance to the host's clock over about a second.
void resync(timekeeper& t, const Sample& now) {
    vdso_data& d = t.data;
    const uint64_t delta = now.cycles > d.cycle_last ? now.cycles - d.cycle_last : 0;
    if (delta > d.max_cycles) {  // too long without an update for the old line: restart it here
        d.cycle_last = now.cycles;
        update_vsyscall(t, make_base(std::max(now.ns, t.last_update)));
        t.last_update = std::max(now.ns, t.last_update);
        return;
    }
    vdso_timestamp mono = d.basetime[VDSO_CLOCK_MONOTONIC];
    mono.nsec += delta * d.mult;
    mono.sec += mono.nsec / (static_cast<uint64_t>(NSEC_PER_SEC) << TK_SHIFT);
    mono.nsec %= static_cast<uint64_t>(NSEC_PER_SEC) << TK_SHIFT;
    ktime_t ours = static_cast<ktime_t>(mono.sec) * NSEC_PER_SEC + static_cast<ktime_t>(mono.nsec >> TK_SHIFT);
    const ktime_t error = now.ns - ours;
    if (error > TK_STEP_NS) {  // far behind (a bad first rate): step forward, never back
        mono = make_base(now.ns);
        ours = now.ns;
    }
    const uint32_t nominal = nominal_mult(t, now);
    const int64_t limit = nominal / 2000;  // at most 500 ppm either way
    const int64_t adj = std::clamp<int64_t>(
        static_cast<int64_t>(nominal) * std::clamp<ktime_t>(error, -TK_STEP_NS, TK_STEP_NS) / NSEC_PER_SEC, -limit,
        limit);
    d.mult = static_cast<uint32_t>(static_cast<int64_t>(nominal) + adj);
    d.cycle_last = now.cycles;
    // A host clock that was set (settimeofday, a suspend) moves the guest's by as much.
    if (const ktime_t real = host_offset(CLOCK_REALTIME); std::abs(real - t.offs_real) > TK_OFFSET_STEP_NS)
        t.offs_real = real;
    if (const ktime_t boot = host_offset(CLOCK_BOOTTIME); boot - t.offs_boot > TK_OFFSET_STEP_NS) t.offs_boot = boot;
    t.last_update = ours;
    update_vsyscall(t, mono);
}

}  // namespace

void timekeeping_update() {
    timekeeper& t = tk();
    const Sample now = sample(CLOCK_MONOTONIC);
    if (!t.started) {
        t.origin = now;
        t.started = true;
        return;
    }
    if (t.data.clock_mode != VDSO_CLOCKMODE_TSC) {
        if (now.ns - t.origin.ns >= TK_CALIBRATE_NS) calibrate(t, now);
        return;
    }
    if (now.ns - t.last_update >= TK_UPDATE_NS) resync(t, now);
}

std::optional<ktime_t> timekeeping_read(clockid_t clk) {
    if (clk < 0 || clk >= VDSO_BASES || !(vdso_clock_hres(clk) || vdso_clock_coarse(clk))) return std::nullopt;
    timekeeper& t = tk();
    const uint64_t cycles = __rdtsc();
    if (t.data.clock_mode != VDSO_CLOCKMODE_TSC || cycles - t.data.cycle_last >= t.update_cycles) timekeeping_update();
    if (t.data.clock_mode != VDSO_CLOCKMODE_TSC) return std::nullopt;
    uint64_t sec = 0;
    uint32_t nsec = 0;
    if (vdso_clock_read(&t.data, static_cast<unsigned>(clk), __rdtsc(), &sec, &nsec)) return std::nullopt;
    return static_cast<ktime_t>(sec) * NSEC_PER_SEC + nsec;
}

std::optional<ktime_t> timekeeping_next_update() {
    const timekeeper& t = tk();
    if (!t.started) return std::nullopt;
    if (t.data.clock_mode != VDSO_CLOCKMODE_TSC) return t.origin.ns + TK_CALIBRATE_NS;
    return t.last_update + TK_UPDATE_NS;
}

void timekeeping_add_vvar(uint8_t* page) {
    timekeeper& t = tk();
    if (!t.started) timekeeping_update();  // the origin: calibration is due 20 ms from here
    t.vvars.push_back(page);
    std::memcpy(page, &t.data, sizeof t.data);
}

void timekeeping_remove_vvar(uint8_t* page) {
    auto& v = tk().vvars;
    v.erase(std::remove(v.begin(), v.end(), page), v.end());
}

}  // namespace guestos
