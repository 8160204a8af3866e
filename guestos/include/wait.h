// Wait queues (include/linux/wait.h): where a task sleeps until an event, and how the
// event's source wakes it. Everything runs on one host thread, so there is no lock and no
// lost wake-up between testing a condition and sleeping: nothing else runs in between.
//
// The API poll/select/epoll build on:
//   wait_queue_head     one per event source (a pipe's readers, a child's exit, a futex)
//   wait_queue_entry    one per sleeper per queue; `func` (optional) is called on a wake-up
//                       instead of waking `task` (epoll's ep_poll_callback, poll's table)
//   add_wait_queue / remove_wait_queue   link an entry; remove it before it goes out of scope
//                       (WaitQueueGuard does both)
//   wake_up(wq)         wakes every entry: its func, else wake_up_process(task)
//   wait_event_interruptible(task, wq, cond, what)
//                       sleeps on wq until cond() or a signal (-ERESTARTSYS)
// A poll implementation adds one entry per file to each file's queue, then sleeps with
// schedule_hrtimeout (guestos/kernel/sched/core.h) until woken or timed out.
#pragma once
#include <functional>
#include <vector>

namespace guestos {

struct task_struct;

struct wait_queue_entry {
    task_struct* task = nullptr;
    std::function<void()> func;  // when set, called by wake_up instead of waking task
};

struct wait_queue_head {
    std::vector<wait_queue_entry*> head;
    bool empty() const { return head.empty(); }
};

void add_wait_queue(wait_queue_head& wq, wait_queue_entry& e);
void remove_wait_queue(wait_queue_head& wq, wait_queue_entry& e);
// Wakes every entry of wq (__wake_up with nr_exclusive 0).
void wake_up(wait_queue_head& wq);

// Links an entry for the scope it lives in.
class WaitQueueGuard {
public:
    WaitQueueGuard(wait_queue_head& wq, task_struct& task) : wq_(wq) {
        e_.task = &task;
        add_wait_queue(wq_, e_);
    }
    ~WaitQueueGuard() { remove_wait_queue(wq_, e_); }
    WaitQueueGuard(const WaitQueueGuard&) = delete;
    WaitQueueGuard& operator=(const WaitQueueGuard&) = delete;

private:
    wait_queue_head& wq_;
    wait_queue_entry e_;
};

}  // namespace guestos
