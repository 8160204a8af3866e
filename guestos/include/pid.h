// Pids as objects that outlive their task (include/linux/pid.h's struct pid): a pidfd holds
// one, learns through it whether the task still exists, and polls its wait queue.
#pragma once
#include <memory>

#include "guestos/include/fs.h"
#include "guestos/include/wait.h"

namespace guestos {

struct task_struct;
struct SysCtx;

// A task's pid (struct pid): the task while it is not reaped (pid_task), its number, and
// the queue pidfd pollers sleep on until it exits (wait_pidfd).
struct pid_ref {
    task_struct* task = nullptr;
    int nr = 0;
    wait_queue_head wait_pidfd;
};

// PIDFD_NONBLOCK and PIDFD_THREAD (uapi/linux/pidfd.h): O_NONBLOCK and O_EXCL.
inline constexpr unsigned PIDFD_NONBLOCK = 04000, PIDFD_THREAD = 0200;

// The task's pid object, made at its first use (get_task_pid).
std::shared_ptr<pid_ref> get_task_pid(task_struct& t);
// The process of t has exited: pidfd pollers are woken (do_notify_pidfd).
void do_notify_pidfd(task_struct& t);
// t is reaped: its pid object no longer names a task; pollers see EPOLLHUP (detach_pid).
void detach_task_pid(task_struct& t);
// A pidfd file for t (pidfd_prepare): -EINVAL unless t leads its group or flags has
// PIDFD_THREAD; else 0 with the file in out.
long pidfd_prepare(task_struct& t, unsigned flags, std::shared_ptr<file>& out);
// The pid object a pidfd holds and whether it is a thread pidfd (pidfd_pid); null for any
// other file.
pid_ref* pidfd_pid(const file& f, bool* thread = nullptr);

}  // namespace guestos
