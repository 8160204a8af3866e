// A tracer attached to the machine (the GDB stub, through emu/debugger.h): the part of ptrace
// the kernel itself calls (include/linux/ptrace.h). It is an interface the kernel owns, so the
// call up to the debugger does not point up the layers.
#pragma once

namespace guestos {

struct task_struct;
struct kernel_siginfo;

// Whether the caller may inspect t with its real ids (__ptrace_may_access with
// PTRACE_MODE_READ_REALCREDS): its own thread group; else all of t's uids and gids equal
// the caller's real ones, or CAP_SYS_PTRACE; and a non-dumpable t needs CAP_SYS_PTRACE.
// 0 or -EPERM. (kernel/ptrace.cpp)
long ptrace_may_access(const task_struct& caller, const task_struct& t);

class Tracer {
public:
    virtual ~Tracer() = default;
    // A signal was dequeued for task (get_signal -> ptrace_signal). True: the task stops for
    // the tracer, the signal is held in task.last_siginfo and delivered only if the tracer
    // resumes the task with it (task.ptrace_resume_signal). SIGKILL never comes here.
    virtual bool signal_stop(task_struct& task, const kernel_siginfo& info) = 0;
    // fork or vfork (or a clone that makes a process) made child (PTRACE_EVENT_FORK/VFORK,
    // before wake_up_new_task). The tracer may hold the child (signal->ptrace_held).
    virtual void fork_event(task_struct& parent, task_struct& child, bool vfork) = 0;
    // A vfork parent goes on: its child child_pid exec'd or exited (PTRACE_EVENT_VFORK_DONE).
    virtual void vfork_done(task_struct& parent, int child_pid) = 0;
    // task runs a new program (PTRACE_EVENT_EXEC): its new mm and start registers are set.
    virtual void exec_event(task_struct& task) = 0;
    // The last thread of process tgid exited; status is its wait status.
    virtual void exit_event(int tgid, int status) = 0;
};

}  // namespace guestos
