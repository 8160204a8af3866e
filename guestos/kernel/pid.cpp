// Pid file descriptors (kernel/pid.c): pidfd_open and pidfd_getfd.
#include <fcntl.h>

#include "guestos/include/kernel.h"
#include "guestos/include/pid.h"
#include "guestos/include/ptrace.h"
#include "guestos/include/syscalls.h"

namespace guestos {

// pidfd_open(pid, flags): a close-on-exec pidfd for a process (or, with PIDFD_THREAD, a
// thread); EINVAL for bad flags or pid, ESRCH when no task has the pid, ENOENT for a
// thread's id without PIDFD_THREAD.
long sys_pidfd_open(SysCtx& c, const uint64_t* a) {
    const int pid = static_cast<int32_t>(a[0]);
    const unsigned flags = static_cast<unsigned>(a[1]);
    if ((a[1] >> 32) || (flags & ~(PIDFD_NONBLOCK | PIDFD_THREAD))) return -EINVAL;
    if (pid <= 0) return -EINVAL;
    task_struct* t = c.kernel.find_task_by_vpid(pid);
    if (!t || t->exit_state == EXIT_DEAD) return -ESRCH;
    if (!(flags & PIDFD_THREAD) && !t->thread_group_leader()) return -ENOENT;  // a thread's tid
    std::shared_ptr<file> f;
    if (long e = pidfd_prepare(*t, flags, f)) return e;
    return get_unused_fd_install(c, std::move(f), true);
}

namespace {

// The file at fd in t's table, for pidfd_getfd (__pidfd_fget): EPERM unless the caller may
// attach to t, ESRCH once t's files are gone (it is exiting), EBADF for no such fd.
long pidfd_fget(SysCtx& c, task_struct& t, long fd, std::shared_ptr<file>& out) {
    if (ptrace_may_access(c.task, t)) return -EPERM;
    out = t.files ? t.files->get(fd) : nullptr;
    if (out) return 0;
    return (t.flags & PF_EXITING) ? -ESRCH : -EBADF;
}

}  // namespace

// pidfd_getfd(pidfd, targetfd, flags): a close-on-exec duplicate of another process's fd.
long sys_pidfd_getfd(SysCtx& c, const uint64_t* a) {
    if (static_cast<uint32_t>(a[2])) return -EINVAL;
    const auto pf = c.task.files->get(static_cast<int32_t>(a[0]));
    if (!pf) return -EBADF;
    pid_ref* pid = pidfd_pid(*pf);
    if (!pid) return -EBADF;
    if (!pid->task) return -ESRCH;
    std::shared_ptr<file> f;
    if (long e = pidfd_fget(c, *pid->task, static_cast<int32_t>(a[1]), f)) return e;
    return get_unused_fd_install(c, std::move(f), true);
}

}  // namespace guestos
