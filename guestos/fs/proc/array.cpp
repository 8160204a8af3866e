// fs/proc/array.c: /proc/PID/stat (do_task_stat) and /proc/PID/statm (proc_pid_statm).
#include <sys/sysmacros.h>

#include <cinttypes>
#include <cstdio>
#include <string>

#include "guestos/fs/proc/base.h"
#include "guestos/include/kernel.h"
#include "guestos/include/tty.h"
#include "guestos/include/uapi/sched.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

namespace {

constexpr int64_t USER_HZ = 100;

// ns as clock ticks of USER_HZ (nsec_to_clock_t).
uint64_t nsec_to_clock_t(int64_t ns) { return ns > 0 ? static_cast<uint64_t>(ns / (NSEC_PER_SEC / USER_HZ)) : 0; }

// The priority /proc shows (task_prio: p->prio - MAX_RT_PRIO): 20 + nice for the fair
// classes, -1 - rt_priority for the real-time ones, -101 for SCHED_DEADLINE.
long task_prio(const task_struct& t) {
    if (t.policy == SCHED_DEADLINE_) return -101;
    if (t.policy == SCHED_FIFO_ || t.policy == SCHED_RR_) return -1 - static_cast<long>(t.rt_priority);
    return 20 + t.nice;
}

// CLOCK_BOOTTIME of a CLOCK_MONOTONIC instant (the task's start_boottime).
int64_t monotonic_to_boottime(int64_t mono) { return mono + (clock_now(CLOCK_BOOTTIME) - ktime_get()); }

}  // namespace

std::string do_task_stat(task_struct& task, bool whole) {
    const signal_struct& sig = *task.signal;
    const mm_struct* mm = task.mm.get();
    uint64_t ign = 0, cgt = 0;
    collect_sigign_sigcatch(task, ign, cgt);
    const int num_threads = sig.nr_threads;
    // The usage: the thread's own, or the whole group's with its exited threads (k_getrusage).
    const task_rusage r = k_getrusage(task, whole ? RusageWho::Self : RusageWho::Thread);
    int exit_code = task.exit_code;
    if (whole && sig.group_exit) exit_code = sig.group_exit_code;
    const task_struct* parent = task.group_leader->real_parent;
    const bool wchan = (!whole || num_threads < 2) && task.state != TASK_RUNNING && !task.exit_state;
    const char state = get_task_state(task)[0];
    // The controlling terminal's device (new_encode_dev) and foreground group, if any.
    int tty_nr = 0, tpgid = -1;
    if (sig.tty) {
        const unsigned maj = major(sig.tty->rdev), min = minor(sig.tty->rdev);
        tty_nr = static_cast<int>((min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12));
        tpgid = sig.tty->pgrp;
    }
    char buf[1024];
    int n = std::snprintf(
        buf, sizeof buf,
        "%d (%s) %c %d %d %d %d %d %u %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
        " %" PRIu64 " %ld %d %d 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
        task.pid, task.comm.c_str(), state, parent ? parent->tgid : 1 /* emu's init */, sig.pgrp, sig.session, tty_nr,
        tpgid, task.flags, r.min_flt, sig.cmin_flt, r.maj_flt, sig.cmaj_flt, nsec_to_clock_t(r.utime_ns),
        nsec_to_clock_t(r.stime_ns), nsec_to_clock_t(sig.cutime_ns), nsec_to_clock_t(sig.cstime_ns), task_prio(task),
        task.nice, num_threads, nsec_to_clock_t(monotonic_to_boottime(task.start_time)),
        mm ? mm->total_vm * PAGE_SIZE : 0, mm ? mm->rss() : 0, sig.rlim[RLIMIT_RSS_].rlim_cur);
    // start_code end_code start_stack, esp and eip (zeroed as Linux does for a live task),
    // the obsolete signal words (decimal, the first 31 signals), wchan's flag, nswap, cnswap
    n += std::snprintf(buf + n, sizeof buf - n,
                       " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                       " %d 0 0 %d 0 %u %u 0 0 0",
                       mm ? mm->start_code : 0, mm ? mm->end_code : 0, mm ? mm->start_stack : 0,
                       task.pending & 0x7fffffffu, task.blocked & 0x7fffffffu, ign & 0x7fffffffu, cgt & 0x7fffffffu,
                       wchan ? 1 : 0, task.exit_signal, task.rt_priority, task.policy);
    // exit_signal processor rt_priority policy delayacct_blkio_ticks gtime cgtime above;
    // then the data, brk, argument and environment bounds, and the exit code.
    if (mm)
        n += std::snprintf(buf + n, sizeof buf - n,
                           " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
                           mm->start_data, mm->end_data, mm->start_brk, mm->arg_start, mm->arg_end, mm->env_start,
                           mm->env_end);
    else n += std::snprintf(buf + n, sizeof buf - n, " 0 0 0 0 0 0 0");
    std::snprintf(buf + n, sizeof buf - n, " %d\n", exit_code);
    return buf;
}

std::string proc_pid_statm(task_struct& task) {
    const mm_struct* mm = task.mm.get();
    if (!mm) return "0 0 0 0 0 0 0\n";
    // task_statm: shared = file + shmem pages, text = the code's pages, data = data + stack
    const uint64_t shared = mm->rss_file + mm->rss_shmem;
    const uint64_t text = (mmu::page_align_up(mm->end_code) - (mm->start_code & mmu::PAGE_MASK)) >> PAGE_SHIFT;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 %" PRIu64 " 0\n", mm->total_vm,
                  shared + mm->rss_anon, shared, text, mm->data_vm + mm->stack_vm);
    return buf;
}

}  // namespace guestos
