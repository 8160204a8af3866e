// How a file reports readiness and lets a waiter queue itself (include/linux/poll.h): a
// file's poll() returns its EPOLL* mask now and, given a poll_table that queues, calls
// poll_wait for each wait queue whose wake-up may change that mask. poll/select
// (fs/select.cpp) and epoll (fs/eventpoll.cpp) supply the queueing function.
#pragma once
#include <cstdint>
#include <functional>

#include "guestos/include/fs.h"
#include "guestos/include/uapi/poll.h"
#include "guestos/include/wait.h"

namespace guestos {

using __poll_t = uint32_t;

// What a file without f_op->poll reports: always ready both ways (DEFAULT_POLLMASK).
inline constexpr __poll_t DEFAULT_POLLMASK = EPOLLIN_ | EPOLLOUT_ | EPOLLRDNORM_ | EPOLLWRNORM_;

// The queueing callback and the events the caller cares about (poll_table_struct).
struct poll_table {
    std::function<void(file&, wait_queue_head&, poll_table&)> qproc;  // null: do not queue
    __poll_t key = ~0u;
};

// Queues the caller on wq if the table asks for it (poll_wait).
inline void poll_wait(file& f, wait_queue_head& wq, poll_table* p) {
    if (p && p->qproc) p->qproc(f, wq, *p);
}

// The file's readiness (vfs_poll): DEFAULT_POLLMASK for one that cannot poll.
inline __poll_t vfs_poll(file& f, poll_table* pt) { return f.can_poll() ? f.poll(pt) : DEFAULT_POLLMASK; }

}  // namespace guestos
