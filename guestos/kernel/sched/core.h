// The scheduler (kernel/sched/core.c) of one CPU on one host thread: a run queue of
// runnable tasks, timeslices ended by the CPU's timer, and sleeping on wait queues. A task
// sleeps inside a syscall on its own kernel stack (kstack.h); the CPU loop (emu/) asks
// pick_next_task which task to run next and, when none can, waits in idle_wait.
#pragma once
#include <deque>
#include <optional>

#include "guestos/include/errno.h"
#include "guestos/include/sched.h"
#include "guestos/include/wait.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

// A timeslice: what a task runs before another runnable task gets the CPU (4 ms, HZ 250).
inline constexpr ktime_t SCHED_SLICE_NS = 4'000'000;

bool signal_pending(const task_struct& task);  // guestos/include/signal.h

struct SysCtx;
// The task a sched_* pid names (find_process_by_pid): 0 is the caller; null when none.
task_struct* find_process_by_pid(SysCtx& c, uint64_t pid);
// The child's scheduling attributes (sched_fork): the parent's, unless SCHED_RESET_ON_FORK
// sends a real-time child back to SCHED_NORMAL and a negative nice to 0.
void sched_fork(const task_struct& parent, task_struct& p);
// Whether the caller may lower t's nice to nice (can_nice): RLIMIT_NICE or CAP_SYS_NICE.
bool can_nice(const task_struct& t, int nice);

struct rq {
    std::deque<task_struct*> queue;  // runnable tasks waiting for the CPU, oldest first
    task_struct* curr = nullptr;     // the task on the CPU
    uint64_t nr_switches = 0;
    uint64_t total_forks = 0;    // tasks created since boot (/proc/stat "processes")
    uint64_t nr_interrupts = 0;  // the CPU timer's interrupts (/proc/stat "intr")
    // CPU time since boot (kernel_cpustat), in ns: user time of tasks of nice <= 0 and > 0,
    // time in syscalls and faults, and the time the CPU waited idle.
    int64_t cpustat_user = 0, cpustat_nice = 0, cpustat_system = 0, cpustat_idle = 0;
};

// Puts a new task on the run queue (wake_up_new_task).
void wake_up_new_task(task_struct& t);
// Makes a sleeping task runnable (try_to_wake_up); a running or dead one is left alone.
void wake_up_process(task_struct& t);
// A signal came for t: wake it if it sleeps interruptibly (signal_wake_up).
void signal_wake_up(task_struct& t);
// Takes t off the CPU until something wakes it (its state says whether it sleeps). From a
// syscall on t's kernel stack it switches to the CPU loop; from a syscall called directly
// (no kernel stack: unit tests) it waits on the host for t's timers.
void schedule(task_struct& t);
// Charges the time since the last charge to the running task (what the scheduler tick's
// accounting does): its sum_exec_runtime, on the monotonic clock, the CPU's idle waits left out.
void account_curr(Kernel& k);
// The time since the last charge goes to no task (the CPU stopped: a debugger's stop).
void account_skip();
// The load averages (kernel/sched/loadavg.c): avenrun plus offset, shifted left by shift
// (/proc/loadavg: FIXED_1/200 and 0; sysinfo: 0 and SI_LOAD_SHIFT - FSHIFT), brought up to
// date every LOAD_FREQ (5 s) with the tasks running or in uninterruptible sleep.
inline constexpr int FSHIFT = 11, SI_LOAD_SHIFT = 16;
void calc_global_load(Kernel& k);
void get_avenrun(Kernel& k, uint64_t loads[3], uint64_t offset, int shift);
// Removes a dead task from the run queue.
void dequeue_task(task_struct& t);
// The task to run next (pick_next_task): curr while its slice lasts or nobody waits, else
// the oldest runnable one; null when every task sleeps. Starts its timeslice.
task_struct* pick_next_task(Kernel& k);
// A debugger steps t, a thread other than the one on the CPU: a runnable t goes on the CPU
// with a fresh slice and curr waits at the head of the queue. False when t cannot run now.
bool sched_run_next(Kernel& k, task_struct& t);
// The CPU's timer fired or a sleep ended: fires due interval timers, wakes sleepers whose
// timeout passed, and marks curr for preemption when its slice is over (hrtimer_interrupt +
// scheduler_tick).
void hrtimer_interrupt(Kernel& k);
// The next moment the CPU's timer must interrupt (tick_program_event's choice): the next
// interval timer, sleep timeout, or end of curr's slice when others wait.
std::optional<ktime_t> next_timer_event(Kernel& k);
// Every task sleeps: waits on the host until the next timer (and runs it), a watched host
// fd or idle_wake. With none of them, only a signal from the host can wake a task.
void idle_wait(Kernel& k);

// A host descriptor that guest sleepers wait on (the console's): while wq has waiters, the
// idle wait and the timer interrupt poll fd for events and wake wq when it is ready.
// An edge watch (a host socket's) is polled only while it has events, and the events that
// fired (all of them on an error or hang-up) are dropped until the owner asks again, so a
// socket that stays writable does not wake its waiters over and over.
struct host_fd_watch {
    int fd = -1;
    short events = 0;  // the host's POLLIN/POLLOUT/...
    wait_queue_head* wq = nullptr;
    bool edge = false;
};
void add_host_fd_watch(host_fd_watch& w);
void remove_host_fd_watch(host_fd_watch& w);

// Sleeps until `until` (CLOCK_MONOTONIC), a wake-up or a signal; then the caller checks
// what it waited for.
void schedule_hrtimeout(task_struct& task, std::optional<ktime_t> until, const char* what);

// Sleeps on wq until cond() holds or a signal is pending (wait_event_interruptible): 0, or
// -ERESTARTSYS when a signal ended the wait.
template <class Cond>
long wait_event_interruptible(task_struct& task, wait_queue_head& wq, Cond cond, const char* what) {
    WaitQueueGuard guard(wq, task);
    while (!cond()) {
        if (signal_pending(task)) return -ERESTARTSYS;
        schedule_hrtimeout(task, std::nullopt, what);
    }
    return 0;
}

}  // namespace guestos
