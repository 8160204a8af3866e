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
//   wake_up(wq)         wakes every entry: its func, else wake_up_process(task); an
//                       exclusive entry (EPOLLEXCLUSIVE) that woke ends the walk
//   wake_up_poll(wq, key)  the same with the events that happened (EPOLLIN, ...): a func
//                       interested in others may ignore it (pollwake, ep_poll_callback)
//   wait_event_interruptible(task, wq, cond, what)
//                       sleeps on wq until cond() or a signal (-ERESTARTSYS)
// A poll implementation adds one entry per file to each file's queue, then sleeps with
// schedule_hrtimeout (guestos/kernel/sched/core.h) until woken or timed out.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace guestos {

struct task_struct;

struct wait_queue_entry {
    task_struct* task = nullptr;
    // When set, called by wake_up with its key (0: any event) instead of waking task; it
    // says whether it woke anything (what an exclusive entry's walk counts).
    std::function<bool(uint32_t key)> func;
    bool exclusive = false;  // WQ_FLAG_EXCLUSIVE: queued last, one wake-up ends the walk
};

// The events a wake-up passes when the queue itself is going away (POLLFREE): an entry
// whose func outlives the queue (epoll's) forgets it then.
inline constexpr uint32_t WAIT_POLLFREE = 0x4000;

struct wait_queue_head {
    wait_queue_head() = default;
    wait_queue_head(const wait_queue_head&) = delete;
    wait_queue_head& operator=(const wait_queue_head&) = delete;
    ~wait_queue_head() {  // wake_up_pollfree
        const auto entries = head;
        for (wait_queue_entry* e : entries)
            if (e->func) e->func(WAIT_POLLFREE);
    }
    std::vector<wait_queue_entry*> head;
    bool empty() const { return head.empty(); }
};

void add_wait_queue(wait_queue_head& wq, wait_queue_entry& e);
// Queues e after every other entry, as exclusive (add_wait_queue_exclusive).
void add_wait_queue_exclusive(wait_queue_head& wq, wait_queue_entry& e);
void remove_wait_queue(wait_queue_head& wq, wait_queue_entry& e);
// Wakes the entries of wq up to and including the first exclusive one that woke (__wake_up
// with nr_exclusive 1), telling each the events in key (0: unknown, any).
void wake_up_poll(wait_queue_head& wq, uint32_t key);
inline void wake_up(wait_queue_head& wq) { wake_up_poll(wq, 0); }

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
