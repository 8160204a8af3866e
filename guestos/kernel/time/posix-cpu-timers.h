// CPU-time clocks and their timers (kernel/time/posix-cpu-timers.c): a thread's or a
// process's CPU time as the scheduler charges it to the guest (sum_exec_runtime, split into
// user and system time), not the time of the host thread that emulates every guest task.
// The timers on these clocks (ITIMER_VIRTUAL, ITIMER_PROF, RLIMIT_CPU and POSIX timers on a
// CPU clock) advance only while their task runs, so the CPU's timer interrupt checks them for
// the task on the CPU (run_posix_cpu_timers) and is programmed for that task's next expiry.
#pragma once
#include <optional>

#include "guestos/include/sched.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

class Kernel;
struct k_itimer;
struct itimerspec64;

// CPUCLOCK_WHICH of a clock id: what part of the CPU time it counts.
enum : int { CPUCLOCK_PROF = 0, CPUCLOCK_VIRT = 1, CPUCLOCK_SCHED = 2, CPUCLOCK_MAX = 3 };

// A thread's CPU time of kind `which` (cpu_clock_sample), charged up to now.
ktime_t cpu_clock_sample(int which, task_struct& t);
// The process's CPU time of kind `which`: its live threads' and its dead threads'
// (cpu_clock_sample_group, over thread_group_cputime).
ktime_t cpu_clock_sample_group(int which, task_struct& t);

// A CPU clock id (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID or a MAKE_*_CPUCLOCK id).
bool is_cpu_clockid(clockid_t clk);
// The task a CPU clock of `caller` measures (lookup_task): the caller's thread or leader for
// pid 0, a thread of the caller's process, or a process leader; null when none. clk becomes
// the clock's MAKE_*_CPUCLOCK form (CLOCK_PROCESS_CPUTIME_ID: pid 0, CPUCLOCK_SCHED).
task_struct* cpu_clock_task(Kernel& k, task_struct& caller, clockid_t& clk);

// The CPU-clock half of the POSIX timer operations (posix_cpu_timer_create, _set, _get,
// _rearm): the timer runs on the CPU time of the task its clock names. Set fails with -ESRCH
// once that task is reaped.
long posix_cpu_timer_create(Kernel& k, task_struct& caller, k_itimer& timr);
long posix_cpu_timer_set(k_itimer& timr, int flags, const itimerspec64& nw, itimerspec64* old);
void posix_cpu_timer_get(k_itimer& timr, itimerspec64& cur);
void posix_cpu_timer_rearm(k_itimer& timr);

// The timer interrupt found `curr` on the CPU: fires its thread's and its process's CPU
// timers that are due, the CPU itimers, and RLIMIT_CPU's SIGXCPU and SIGKILL
// (run_posix_cpu_timers with check_thread_timers and check_process_timers).
void run_posix_cpu_timers(Kernel& k, task_struct& curr);
// The CLOCK_MONOTONIC time at which a CPU timer of the task on the CPU may be due, if it
// keeps the CPU (its CPU time runs no faster than the clock); nullopt when none is armed.
std::optional<ktime_t> posix_cpu_timers_next_event(Kernel& k);

}  // namespace guestos
