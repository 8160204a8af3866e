// fs/proc/stat.c and fs/proc/uptime.c: the CPU's time, the scheduler's counts and the uptime.
#include "guestos/fs/proc/stat.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "guestos/include/kernel.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

namespace {

constexpr int64_t NSEC_PER_TICK = NSEC_PER_SEC / 100;  // USER_HZ
// The interrupt lines show_all_irqs lists (the legacy PIC's): the timer is a local APIC
// interrupt, counted in the sum only (arch_irq_stat_cpu), as on x86.
constexpr int NR_IRQS_LEGACY = 16;
constexpr int NR_SOFTIRQS = 10;

// One "cpu" line: user nice system idle iowait irq softirq steal guest guest_nice, in ticks.
std::string cpu_line(const char* name, const rq& q) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " 0 0 0 0 0 0\n", name,
                  q.cpustat_user / NSEC_PER_TICK, q.cpustat_nice / NSEC_PER_TICK, q.cpustat_system / NSEC_PER_TICK,
                  q.cpustat_idle / NSEC_PER_TICK);
    return buf;
}

}  // namespace

std::string show_stat(Kernel& k) {
    account_curr(k);  // the running task's time so far
    const rq& q = k.runqueue();
    std::string out = cpu_line("cpu ", q) + cpu_line("cpu0", q);
    out += "intr " + std::to_string(q.nr_interrupts);
    for (int i = 0; i < NR_IRQS_LEGACY; ++i) out += " 0";
    unsigned running = 0;
    for (const task_struct* t : k.all_tasks())
        if (!t->exited && t->state == TASK_RUNNING) ++running;
    const unsigned blocked = 0;  // nr_iowait: emu's block I/O completes before the call returns
    const int64_t btime = (clock_now(CLOCK_REALTIME) - clock_now(CLOCK_BOOTTIME)) / NSEC_PER_SEC;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "\nctxt %" PRIu64 "\nbtime %" PRId64 "\nprocesses %" PRIu64
                  "\nprocs_running %u\nprocs_blocked %u\nsoftirq 0",
                  q.nr_switches, btime, q.total_forks, running, blocked);
    out += buf;
    for (int i = 0; i < NR_SOFTIRQS; ++i) out += " 0";
    return out + "\n";
}

std::string uptime_proc_show(Kernel& k) {
    const timespec up = ktime_to_timespec(clock_now(CLOCK_BOOTTIME));
    const timespec idle = ktime_to_timespec(k.runqueue().cpustat_idle);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%lu.%02lu %lu.%02lu\n", static_cast<unsigned long>(up.tv_sec),
                  static_cast<unsigned long>(up.tv_nsec / (NSEC_PER_SEC / 100)),
                  static_cast<unsigned long>(idle.tv_sec),
                  static_cast<unsigned long>(idle.tv_nsec / (NSEC_PER_SEC / 100)));
    return buf;
}

}  // namespace guestos
