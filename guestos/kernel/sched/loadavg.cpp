// The load average (kernel/sched/loadavg.c): every LOAD_FREQ each of avenrun[0..2] decays
// toward the number of active tasks (running or in uninterruptible sleep) with the 1, 5
// and 15 minute factors EXP_1, EXP_5, EXP_15, in FSHIFT-bit fixed point.
#include <cstdint>

#include "guestos/include/kernel.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr uint64_t FIXED_1 = 1u << FSHIFT;
constexpr uint64_t EXP_1 = 1884, EXP_5 = 2014, EXP_15 = 2037;
constexpr ktime_t LOAD_FREQ = 5 * NSEC_PER_SEC + NSEC_PER_SEC / 250;  // 5 s + one tick

uint64_t avenrun[3];
ktime_t calc_load_update = 0;

// One step of the exponential average (calc_load).
uint64_t calc_load(uint64_t load, uint64_t exp, uint64_t active) {
    uint64_t newload = load * exp + active * (FIXED_1 - exp);
    if (active >= load) newload += FIXED_1 - 1;
    return newload / FIXED_1;
}

uint64_t nr_active(Kernel& k) {
    uint64_t n = 0;
    for (task_struct* t : k.all_tasks())
        if (!t->exited && (t->state == TASK_RUNNING || t->state == TASK_UNINTERRUPTIBLE)) ++n;
    return n;
}

}  // namespace

void calc_global_load(Kernel& k) {
    const ktime_t now = ktime_get();
    if (!calc_load_update) calc_load_update = now + LOAD_FREQ;
    if (now < calc_load_update) return;
    const uint64_t active = nr_active(k) * FIXED_1;
    for (; now >= calc_load_update; calc_load_update += LOAD_FREQ) {  // missed periods too
        avenrun[0] = calc_load(avenrun[0], EXP_1, active);
        avenrun[1] = calc_load(avenrun[1], EXP_5, active);
        avenrun[2] = calc_load(avenrun[2], EXP_15, active);
    }
}

void get_avenrun(Kernel& k, uint64_t loads[3], uint64_t offset, int shift) {
    calc_global_load(k);
    for (int i = 0; i < 3; ++i) loads[i] = (avenrun[i] + offset) << shift;
}

}  // namespace guestos
