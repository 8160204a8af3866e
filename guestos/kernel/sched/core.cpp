// The run queue, sleeping and waking, and the idle wait on the host.
#include "guestos/kernel/time/timekeeping.h"
#include "guestos/kernel/sched/core.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "guestos/include/blkdev.h"
#include "guestos/include/kernel.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/writeback.h"
#include "guestos/kernel/sched/kstack.h"
#include "guestos/kernel/time/itimer.h"
#include "guestos/kernel/time/posix-cpu-timers.h"

namespace guestos {

namespace {
task_struct* current_task = nullptr;  // whose syscall runs now (current)
}  // namespace

task_struct* get_current() { return current_task; }

task_struct* find_process_by_pid(SysCtx& c, uint64_t pid) {
    const int p = static_cast<int32_t>(pid);
    if (!p) return &c.task;
    task_struct* t = c.kernel.find_task_by_vpid(p);
    return t && !t->exited ? t : nullptr;
}
CurrentTask::CurrentTask(task_struct* t) : prev_(current_task) { current_task = t; }
CurrentTask::~CurrentTask() { current_task = prev_; }

void add_wait_queue(wait_queue_head& wq, wait_queue_entry& e) {
    e.exclusive = false;
    auto first_exclusive = std::find_if(wq.head.begin(), wq.head.end(), [](auto* x) { return x->exclusive; });
    wq.head.insert(first_exclusive, &e);
}

void add_wait_queue_exclusive(wait_queue_head& wq, wait_queue_entry& e) {
    e.exclusive = true;
    wq.head.push_back(&e);
}

void remove_wait_queue(wait_queue_head& wq, wait_queue_entry& e) {
    auto it = std::find(wq.head.begin(), wq.head.end(), &e);
    if (it != wq.head.end()) wq.head.erase(it);
}

void wake_up_poll(wait_queue_head& wq, uint32_t key) {
    const auto entries = wq.head;  // a callback may unlink entries
    for (wait_queue_entry* e : entries) {
        if (std::find(wq.head.begin(), wq.head.end(), e) == wq.head.end()) continue;  // unlinked meanwhile
        bool woke = true;
        if (e->func) woke = e->func(key);
        else if (e->task) wake_up_process(*e->task);
        if (woke && e->exclusive) break;
    }
}

namespace {
std::vector<host_fd_watch*> host_fd_watches;  // one host thread: one list for every kernel

// The watches somebody waits on, as host pollfds.
std::vector<host_fd_watch*> active_host_fd_watches(std::vector<pollfd>& pfds) {
    std::vector<host_fd_watch*> active;
    for (host_fd_watch* w : host_fd_watches)
        if (!w->wq->empty() && (!w->edge || w->events)) {
            active.push_back(w);
            pfds.push_back({w->fd, w->events, 0});
        }
    return active;
}

// Polls the watched host fds, waiting at most timeout (null: forever), and wakes the queues
// of those ready. False when nobody waits on any.
bool poll_host_fds(const timespec* timeout) {
    std::vector<pollfd> pfds;
    const auto active = active_host_fd_watches(pfds);
    if (active.empty()) return false;
    if (::ppoll(pfds.data(), pfds.size(), timeout, nullptr) > 0)
        for (size_t i = 0; i < active.size(); ++i)
            if (pfds[i].revents) {
                host_fd_watch& w = *active[i];
                if (w.edge)
                    w.events = (pfds[i].revents & (POLLERR | POLLHUP | POLLNVAL))
                                   ? 0
                                   : static_cast<short>(w.events & ~pfds[i].revents);
                wake_up(*w.wq);
            }
    return true;
}

void enqueue_task(task_struct& t) {
    if (t.on_rq || t.exited || !t.kernel) return;
    t.on_rq = true;
    t.kernel->runqueue().queue.push_back(&t);
}
}  // namespace

void add_host_fd_watch(host_fd_watch& w) { host_fd_watches.push_back(&w); }

void remove_host_fd_watch(host_fd_watch& w) {
    host_fd_watches.erase(std::remove(host_fd_watches.begin(), host_fd_watches.end(), &w), host_fd_watches.end());
}

void wake_up_new_task(task_struct& t) {
    t.state = TASK_RUNNING;
    enqueue_task(t);
}

void wake_up_process(task_struct& t) {
    if (t.state != TASK_INTERRUPTIBLE && t.state != TASK_UNINTERRUPTIBLE) return;
    t.state = TASK_RUNNING;
    t.sleep_until = 0;
    if (t.kernel && t.kernel->runqueue().curr != &t) enqueue_task(t);
}

bool fatal_signal_pending(const task_struct& task);

void signal_wake_up(task_struct& t) {
    if (t.state == TASK_INTERRUPTIBLE) wake_up_process(t);
}

void dequeue_task(task_struct& t) {
    if (!t.kernel) return;
    rq& q = t.kernel->runqueue();
    if (t.on_rq) q.queue.erase(std::remove(q.queue.begin(), q.queue.end(), &t), q.queue.end());
    t.on_rq = false;
    if (q.curr == &t) q.curr = nullptr;
}

void schedule(task_struct& t) {
    if (on_kstack(t)) {
        if (t.state != TASK_RUNNING) ++t.nvcsw;
        kstack_switch_out(t);
        return;
    }
    // Called directly, outside the CPU loop: nobody else runs, so wait for t's timers.
    while (t.state != TASK_RUNNING && t.kernel) idle_wait(*t.kernel);
    t.state = TASK_RUNNING;
}

namespace {
// The clock at the last charge (0: none yet). The CPU's time is what the clock shows while a
// task is on it, as Linux's rq clock charges sum_exec_runtime: not the host thread's CPU time,
// whose read is a system call on every context switch (a quarter of a pipe ping-pong's time).
// The time the CPU waits idle is left out (idle_wait).
ktime_t last_charge = 0;
}  // namespace

void account_curr(Kernel& k) {
    const ktime_t now = ktime_get();
    task_struct* t = k.runqueue().curr;
    if (t && last_charge) {
        const ktime_t delta = now - last_charge;
        t->sum_exec_runtime += delta;
        // account_system_time / account_user_time: the part of the run spent in syscalls
        // and faults since the last charge is system time, the rest user (or nice) time.
        rq& q = k.runqueue();
        const ktime_t sys = std::clamp<ktime_t>(t->stime_ns - t->stime_charged, 0, delta);
        t->stime_charged += sys;
        q.cpustat_system += sys;
        (t->nice > 0 ? q.cpustat_nice : q.cpustat_user) += delta - sys;
    }
    last_charge = now;
}

void account_skip() {
    if (last_charge) last_charge = ktime_get();
}

namespace {
// A debugger holds t's process (a fatal signal still lets it run, to die).
bool held(const task_struct& t) { return t.signal->ptrace_held && !fatal_signal_pending(t); }
}  // namespace

task_struct* pick_next_task(Kernel& k) {
    account_curr(k);
    rq& q = k.runqueue();
    task_struct* curr = q.curr;
    const ktime_t now = ktime_get();
    if (curr && (curr->exited || curr->state != TASK_RUNNING || curr->signal->stopped)) curr = q.curr = nullptr;
    if (curr && held(*curr)) {  // a debugger holds its process: it waits in the queue
        curr->on_rq = true;
        q.queue.push_back(curr);
        curr = q.curr = nullptr;
    }
    if (curr && !curr->need_resched) return curr;
    if (curr) {  // preempted: to the back of the queue
        curr->need_resched = false;
        if (q.queue.empty()) {
            curr->slice_end = now + SCHED_SLICE_NS;
            return curr;
        }
        ++curr->nivcsw;
        curr->on_rq = true;
        q.queue.push_back(curr);
    }
    task_struct* next = nullptr;
    for (auto it = q.queue.begin(); !next && it != q.queue.end();) {
        if (held(**it)) {  // stays queued for when the debugger lets it run
            ++it;
            continue;
        }
        next = *it;
        it = q.queue.erase(it);
        next->on_rq = false;
        if (next->signal->stopped && !fatal_signal_pending(*next)) {  // its group stopped: it stops too
            next->state = TASK_STOPPED;
            next = nullptr;
        }
    }
    if (!next) return q.curr = nullptr;
    next->slice_end = now + SCHED_SLICE_NS;
    ++q.nr_switches;
    return q.curr = next;
}

bool sched_run_next(Kernel& k, task_struct& t) {
    rq& q = k.runqueue();
    if (t.exited || t.state != TASK_RUNNING) return false;
    if (q.curr != &t) {
        auto it = std::find(q.queue.begin(), q.queue.end(), &t);
        if (it == q.queue.end()) return false;
        q.queue.erase(it);
        if (task_struct* c = q.curr; c && !c->exited && c->state == TASK_RUNNING) {
            c->on_rq = true;
            q.queue.push_front(c);
        }
        t.on_rq = false;
        q.curr = &t;
    }
    t.need_resched = false;
    t.slice_end = ktime_get() + SCHED_SLICE_NS;
    return true;
}

void hrtimer_interrupt(Kernel& k) {
    ++k.runqueue().nr_interrupts;
    const timespec zero{};
    poll_host_fds(&zero);
    calc_global_load(k);
    const ktime_t now = ktime_get();
    for (task_struct* t : k.all_tasks()) {
        if (t->exited) continue;
        if (t->thread_group_leader()) run_itimers(*t);
    }
    // The CPU-time timers of the task on the CPU, whose time the tick's accounting just
    // charged (update_process_times -> run_posix_cpu_timers).
    if (task_struct* curr = k.runqueue().curr) run_posix_cpu_timers(k, *curr);
    hrtimer_run_queues(k);
    blk_mq_complete_due(now);                             // the disk's completion interrupt, first
    if (k.buddy()) (void)wb_workfn(k.page_alloc(), now);  // the flusher's delayed work, when due
    for (task_struct* t : k.all_tasks()) {
        if (t->exited) continue;
        if (t->sleep_until && t->sleep_until <= now) wake_up_process(*t);
    }
    task_struct* curr = k.runqueue().curr;
    if (curr && !k.runqueue().queue.empty() && now >= curr->slice_end) curr->need_resched = true;
    k.tick_program_event();
}

std::optional<ktime_t> next_timer_event(Kernel& k) {
    std::optional<ktime_t> next;
    auto consider = [&](ktime_t at) {
        if (!next || at < *next) next = at;
    };
    for (task_struct* t : k.all_tasks()) {
        if (t->exited) continue;
        if (t->thread_group_leader())
            if (auto e = itimer_next_event(*t)) consider(*e);
        if (t->sleep_until) consider(t->sleep_until);
    }
    if (auto e = hrtimer_next_event(k)) consider(*e);
    if (auto e = posix_cpu_timers_next_event(k)) consider(*e);
    if (k.buddy())
        if (auto e = wb_dwork_expires()) consider(*e);
    if (auto e = blk_mq_next_completion()) consider(*e);  // requests in flight complete then
    const rq& q = k.runqueue();
    if (q.curr && !q.queue.empty()) consider(q.curr->slice_end);
    // While the guest runs, the timekeeper's updates (a program may only read the vDSO).
    if (q.curr)
        if (auto t = timekeeping_next_update()) consider(*t);
    // A task runs while another waits on a host fd: look at the fd every timeslice.
    std::vector<pollfd> pfds;
    if (q.curr && !active_host_fd_watches(pfds).empty()) consider(ktime_get() + SCHED_SLICE_NS);
    return next;
}

void idle_wait(Kernel& k) {
    account_curr(k);  // the task that waits had the CPU until now, and not while it waits
    const ktime_t idle_start = ktime_get();
    struct IdleCharge {  // the time the CPU waits here is its idle time (/proc/stat, /proc/uptime)
        Kernel& k;
        ktime_t start;
        ~IdleCharge() {
            const ktime_t now = ktime_get();
            k.runqueue().cpustat_idle += now - start;
            if (last_charge) last_charge = now;
        }
    } charge{k, idle_start};
    const std::optional<ktime_t> wake = next_timer_event(k);
    timespec left{};
    if (wake) left = ktime_to_timespec(std::max<ktime_t>(*wake - ktime_get(), 0));
    if (poll_host_fds(wake ? &left : nullptr)) {  // a host fd or the next timer
        hrtimer_interrupt(k);
        return;
    }
    // Sleep until the timer is due or idle_wake is called (a debugger's interrupt, a host
    // signal); with no timer armed that may be forever, as on Linux.
    pollfd p{k.idle_wake_fd(), POLLIN, 0};
    for (;;) {
        timespec left_ts{};
        if (wake) {
            const ktime_t left = *wake - ktime_get();
            if (left <= 0) break;
            left_ts = ktime_to_timespec(left);
        }
        const int n = p.fd >= 0 ? ::ppoll(&p, 1, wake ? &left_ts : nullptr, nullptr) : (::pause(), 0);
        if (n > 0) {
            uint64_t count;
            if (::read(p.fd, &count, sizeof count) == sizeof count) return;  // woken: the caller looks why
        }
    }
    hrtimer_interrupt(k);
}

void schedule_hrtimeout(task_struct& task, std::optional<ktime_t> until, const char* what) {
    task.state = TASK_INTERRUPTIBLE;
    task.sleep_until = until ? std::max<ktime_t>(*until, 1) : 0;
    task.sleep_what = what;
    if (task.kernel) task.kernel->tick_program_event();
    if (signal_pending(task)) task.state = TASK_RUNNING;
    else schedule(task);
    task.state = TASK_RUNNING;
    task.sleep_until = 0;
}

}  // namespace guestos
