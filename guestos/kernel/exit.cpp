// The end of tasks (kernel/exit.c): do_exit, thread-group exit, zombies, reparenting, and
// wait4/waitid/waitpid.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/kernel.h"
#include "guestos/include/tty.h"
#include "guestos/include/ptrace.h"
#include "guestos/include/pid.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/futex.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/ipc/util.h"
#include "guestos/kernel/time/posix-timers.h"

namespace guestos {

namespace {

enum : int { CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_STOPPED = 5, CLD_CONTINUED = 6 };
enum : uint64_t {
    WNOHANG_ = 1,
    WUNTRACED_ = 2,
    WEXITED_ = 4,
    WCONTINUED_ = 8,
    WNOWAIT_ = 0x01000000,
    __WNOTHREAD_ = 0x20000000,
    __WALL_ = 0x40000000,
    __WCLONE_ = 0x80000000
};
constexpr uint64_t SA_NOCLDSTOP = 1, SA_NOCLDWAIT = 2, SIG_IGN_ = 1;
constexpr uint64_t P_PIDFD = 3;  // waitid's idtype for a pidfd (uapi/linux/wait.h's P_PIDFD)

// The siginfo of a child's state change (CLD_EXITED with the code, CLD_KILLED with the signal).
kernel_siginfo child_info(const task_struct& p, int code, int status) {
    kernel_siginfo si;
    si.si_signo = SIGCHLD_;
    si.si_code = code;
    si.pid = p.tgid;
    si.uid = p.cred.uid;
    si.value = static_cast<uint32_t>(status);
    return si;
}

// Unlinks a reaped or self-reaping task: from its parent's children and the pid table.
void release_task(task_struct& p) {
    p.exit_state = EXIT_DEAD;
    if (p.real_parent && p.thread_group_leader()) {
        auto& ch = p.real_parent->children;
        ch.erase(std::remove(ch.begin(), ch.end(), &p), ch.end());
    }
    detach_task_pid(p);
    if (p.kernel) p.kernel->detach_pid(p);
}

// The whole group of leader p has exited: tell the parent, or reap at once when nobody will
// wait (init's children, SIGCHLD ignored, SA_NOCLDWAIT) (do_notify_parent). True if reaped.
bool do_notify_parent(task_struct& p) {
    task_struct* parent = p.real_parent;
    const int status = p.signal->group_exit ? p.signal->group_exit_code : p.exit_code;
    if (p.kernel && p.tgid == p.kernel->init_tgid) p.kernel->init_exit_status = status;
    if (!parent || parent->exited) {  // emu's init reaps at once
        release_task(p);
        return true;
    }
    const k_sigaction& ka = parent->sighand->action[SIGCHLD_ - 1];
    bool autoreap = false;
    if (p.exit_signal == SIGCHLD_ && (ka.handler == SIG_IGN_ || (ka.flags & SA_NOCLDWAIT))) autoreap = true;
    const int sig = status & 0x7f;
    const int code = sig ? ((status & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
    if (p.exit_signal > 0 && !(p.exit_signal == SIGCHLD_ && ka.handler == SIG_IGN_))
        send_signal_group(*parent, child_info(p, code, sig ? sig : (status >> 8) & 0xff), false);
    p.exit_state = EXIT_ZOMBIE;
    do_notify_pidfd(p);
    wake_up(parent->signal->wait_chldexit);
    if (autoreap) release_task(p);
    return autoreap;
}

// The nearest live ancestor that is a child subreaper (PR_SET_CHILD_SUBREAPER), or null
// for emu's init (find_new_reaper).
task_struct* find_new_reaper(task_struct& father) {
    if (!father.signal->has_child_subreaper) return nullptr;
    for (task_struct* p = father.group_leader->real_parent; p; p = p->group_leader->real_parent)
        if (p->signal->is_child_subreaper && !p->signal->group_exit && p->signal->nr_threads > 0)
            return p->group_leader;
    return nullptr;
}

// Some process of pgrp is stopped (has_stopped_jobs).
bool has_stopped_jobs(Kernel& k, int pgrp) {
    for (task_struct* p : k.all_tasks())
        if (p->thread_group_leader() && !p->exit_state && p->signal->pgrp == pgrp && p->signal->stopped) return true;
    return false;
}

// tsk's exit (parent null), or its parent's (reparenting), cut the last link of tsk's group
// to another group of the session: if the group has stopped members, nobody could continue
// them, so the group gets SIGHUP then SIGCONT (kill_orphaned_pgrp).
void kill_orphaned_pgrp(task_struct& tsk, task_struct* parent) {
    Kernel* k = tsk.kernel;
    const task_struct* ignored_task = &tsk;
    if (!parent) parent = tsk.real_parent;  // exit: we were the group's only link outside
    else ignored_task = nullptr;            // reparent: our child was its group's only link
    if (!k || !parent) return;              // emu's own parent is no guest's business
    const int pgrp = tsk.signal->pgrp;
    if (parent->signal->pgrp == pgrp || parent->signal->session != tsk.signal->session) return;
    if (!will_become_orphaned_pgrp(*k, pgrp, ignored_task) || !has_stopped_jobs(*k, pgrp)) return;
    for (int sig : {SIGHUP_, SIGCONT_}) {  // __kill_pgrp_info(SEND_SIG_PRIV)
        kernel_siginfo si;
        si.si_signo = sig;
        si.si_code = SI_KERNEL;
        kill_pgrp_info(*k, pgrp, si);
    }
}

// Orphans go to the nearest subreaper or to emu's init, which reaps them when they exit; a
// child that asked for PR_SET_PDEATHSIG gets its signal; a child's group our exit orphans
// is hung up (forget_original_parent, reparent_leader).
void forget_original_parent(task_struct& t) {
    if (!t.thread_group_leader() && t.signal->nr_threads > 0) return;  // the group lives on
    task_struct* reaper = find_new_reaper(t);
    for (task_struct* child : std::vector<task_struct*>(t.children)) {
        child->real_parent = reaper;
        for (task_struct* th : std::vector<task_struct*>(child->signal->thread_head))
            if (th->pdeath_signal) {
                kernel_siginfo si;
                si.si_signo = th->pdeath_signal;
                si.si_code = SI_USER;
                si.pid = t.tgid;
                si.uid = t.cred.uid;
                send_signal_group(*th, si, false);
            }
        if (!child->exit_state) kill_orphaned_pgrp(*child, &t);
        if (reaper) {
            reaper->children.push_back(child);
            if (child->exit_state == EXIT_ZOMBIE) {  // tell the new parent (reparent_leader)
                child->exit_state = 0;
                do_notify_parent(*child);
            }
        } else if (child->exit_state == EXIT_ZOMBIE) {
            release_task(*child);
        }
    }
    t.children.clear();
}

// CLONE_CHILD_CLEARTID: zero the tid word and wake one futex waiter (mm_release).
void mm_release(task_struct& t) {
    if (t.clear_child_tid && t.mm && t.mm->mm_users > 1) {
        const uint32_t zero = 0;
        if (copy_to_user(*t.mm, VirtAddr(t.clear_child_tid), &zero, 4)) futex_wake(t, t.clear_child_tid, 1, ~0u, false);
    }
    t.clear_child_tid = 0;
    mm_release_vfork(t);
}

// The group leader of t's process, when its group has emptied and it already exited.
void exit_notify(task_struct& t) {
    forget_original_parent(t);
    if (t.signal->nr_threads == 0) kill_orphaned_pgrp(*t.group_leader, nullptr);  // group_dead
    task_struct* leader = t.group_leader;
    if (!t.thread_group_leader()) {  // a thread reaps itself
        release_task(t);
        if (leader->exited && leader->signal->nr_threads == 0 && leader->exit_state == 0) {
            forget_original_parent(*leader);
            do_notify_parent(*leader);
        }
        return;
    }
    if (t.signal->nr_threads == 0) do_notify_parent(t);  // else delay_group_leader
}

}  // namespace

void do_exit(task_struct& t, int code) {
    if (t.exited) return;
    t.exited = true;
    t.flags |= PF_EXITING;
    t.exit_code = code;
    t.state = TASK_DEAD;
    account_exited_thread(t);
    --t.signal->nr_threads;
    auto& th = t.signal->thread_head;
    th.erase(std::remove(th.begin(), th.end(), &t), th.end());
    t.signal->ioac.add(t.ioac);  // the process's io keeps its dead threads' (__exit_signal)
    // A session leader's end lets its terminal go (disassociate_ctty).
    if (t.signal->nr_threads == 0 && t.signal->session == t.tgid && t.kernel) disassociate_ctty(t, true);
    if (t.signal->nr_threads == 0) {  // exit_itimers
        t.signal->itimers = {};
        exit_itimers(*t.signal);
        if (t.kernel) exit_sem(t.kernel->ipc_ns(), t.tgid);
    }
    exit_robust_list(t);
    mm_release(t);
    if (t.mm) {  // exit_mm
        mmput(t.kernel, *t.mm);
        t.mm.reset();
    }
    if (t.files && t.files.use_count() == 1)  // exit_files -> close_files: each file's flush
        for (const auto& f : t.files->fd)
            if (f) f->flush(t);
    t.files.reset();  // exit_files: the last reference closes them
    t.fs.reset();
    dequeue_task(t);
    // The process's last thread: a tracer sees the wait status its parent will.
    if (t.signal->nr_threads == 0 && t.kernel && t.kernel->tracer)
        t.kernel->tracer->exit_event(t.tgid,
                                     t.signal->group_exit ? t.signal->group_exit_code : t.group_leader->exit_code);
    exit_notify(t);
}

void do_group_exit(task_struct& t, int code) {
    signal_struct& sig = *t.signal;
    if (!sig.group_exit) {
        sig.group_exit = true;
        sig.group_exit_code = code;
        for (task_struct* other : std::vector<task_struct*>(sig.thread_head))  // zap_other_threads
            if (other != &t) {
                other->pending |= sigmask(SIGKILL_);
                signal_wake_up(*other);
                wake_up_process(*other);
            }
    }
    do_exit(t, sig.group_exit_code);
}

long sys_exit(SysCtx& c, const uint64_t* a) {
    do_exit(c.task, static_cast<int>((a[0] & 0xff) << 8));
    return 0;
}

long sys_exit_group(SysCtx& c, const uint64_t* a) {
    do_group_exit(c.task, static_cast<int>((a[0] & 0xff) << 8));
    return 0;
}

namespace {

struct wait_opts {
    int type = 0;  // P_ALL 0, P_PID 1, P_PGID 2
    int id = 0;
    uint64_t flags = 0;
    // What was found: the child's pid, the wait status and the siginfo code.
    int pid = 0, status = 0, code = 0, info_status = 0;
    uint32_t uid = 0;  // the child's real uid (si_uid)
    task_rusage ru;    // the reaped child's usage and its children's
};

bool eligible_child(const wait_opts& wo, const task_struct& p) {
    if (wo.type == 1 && p.tgid != wo.id) return false;
    if (wo.type == 2 && p.signal->pgrp != wo.id) return false;
    // A clone child (exit_signal other than SIGCHLD) is waited for only with __WCLONE_ or __WALL_.
    const bool clone_child = p.exit_signal != SIGCHLD_;
    if (!(wo.flags & __WALL_) && clone_child != bool(wo.flags & __WCLONE_)) return false;
    return true;
}

// One pass over the children (do_wait_thread): 1 with wo filled, 0 when some child may
// still report, -ECHILD when none can.
int wait_consider_children(task_struct& cur, wait_opts& wo) {
    bool any = false;
    for (task_struct* p : std::vector<task_struct*>(cur.group_leader->children)) {
        if (!eligible_child(wo, *p)) continue;
        any = true;
        if (p->exit_state == EXIT_ZOMBIE && (wo.flags & WEXITED_)) {
            const int status = p->signal->group_exit ? p->signal->group_exit_code : p->exit_code;
            wo.pid = p->tgid;
            wo.uid = p->cred.uid;
            wo.status = status;
            const int sig = status & 0x7f;
            wo.code = sig ? ((status & 0x80) ? CLD_DUMPED : CLD_KILLED) : CLD_EXITED;
            wo.info_status = sig ? sig : (status >> 8) & 0xff;
            wo.ru = k_getrusage(*p, RusageWho::Both);
            if (!(wo.flags & WNOWAIT_)) {
                account_reaped_child(cur, *p);
                cur.signal->ioac.add(p->signal->ioac);  // a reaped child's I/O is its parent's (wait_task_zombie)
                release_task(*p);
            }
            return 1;
        }
        if ((wo.flags & WCONTINUED_) && p->signal->continued) {
            if (!(wo.flags & WNOWAIT_)) p->signal->continued = false;
            wo.pid = p->tgid;
            wo.uid = p->cred.uid;
            wo.status = 0xffff;
            wo.code = CLD_CONTINUED;
            wo.info_status = SIGCONT_;
            return 1;
        }
        if ((wo.flags & WUNTRACED_) && p->signal->stopped && !p->signal->stop_reported) {
            if (!(wo.flags & WNOWAIT_)) p->signal->stop_reported = true;
            wo.pid = p->tgid;
            wo.uid = p->cred.uid;
            wo.status = (p->signal->stop_signal << 8) | 0x7f;
            wo.code = CLD_STOPPED;
            wo.info_status = p->signal->stop_signal;
            return 1;
        }
    }
    return any ? 0 : -ECHILD;
}

// do_wait: a child that reports, 0 for WNOHANG_ with none yet, -ECHILD, or -ERESTARTSYS.
long do_wait(task_struct& cur, wait_opts& wo) {
    WaitQueueGuard guard(cur.signal->wait_chldexit, cur);
    for (;;) {
        const int r = wait_consider_children(cur, wo);
        if (r) return r < 0 ? r : wo.pid;
        if (wo.flags & WNOHANG_) return 0;
        if (signal_pending(cur)) return -ERESTARTSYS;
        schedule_hrtimeout(cur, std::nullopt, "wait4");
    }
}

}  // namespace

long do_wait4(SysCtx& c, int pid, uint64_t stat_addr, uint64_t options, uint64_t ru) {
    if (options & ~(WNOHANG_ | WUNTRACED_ | WCONTINUED_ | __WNOTHREAD_ | __WCLONE_ | __WALL_)) return -EINVAL;
    if (pid == INT32_MIN) return -ESRCH;  // -INT_MIN overflows
    wait_opts wo;
    wo.flags = options | WEXITED_;
    if (pid == -1) wo.type = 0;
    else if (pid < 0) wo.type = 2, wo.id = -pid;
    else if (pid == 0) wo.type = 2, wo.id = c.task.signal->pgrp;
    else wo.type = 1, wo.id = pid;
    const long r = do_wait(c.task, wo);
    if (r > 0) {
        const int32_t st = wo.status;
        if (stat_addr && !copy_to_user(c.mm, VirtAddr(stat_addr), &st, 4)) return -EFAULT;
        if (!put_rusage(c, ru, wo.ru)) return -EFAULT;
    }
    return r;
}

long sys_wait4(SysCtx& c, const uint64_t* a) { return do_wait4(c, static_cast<int32_t>(a[0]), a[1], a[2], a[3]); }
long sys_waitpid(SysCtx& c, const uint64_t* a) { return do_wait4(c, static_cast<int32_t>(a[0]), a[1], a[2], 0); }

// waitid(idtype, id, infop, options, rusage): the siginfo of the child that reported.
long sys_waitid(SysCtx& c, const uint64_t* a) {
    const uint64_t options = a[3];
    if (options & ~(WNOHANG_ | WNOWAIT_ | WEXITED_ | WUNTRACED_ | WCONTINUED_ | __WNOTHREAD_ | __WCLONE_ | __WALL_))
        return -EINVAL;
    if (!(options & (WEXITED_ | WUNTRACED_ | WCONTINUED_))) return -EINVAL;
    wait_opts wo;
    wo.flags = options;
    const int id = static_cast<int32_t>(a[1]);
    bool nonblock_pidfd = false;
    switch (a[0]) {
    case 0: wo.type = 0; break;
    case 1:
        if (id <= 0) return -EINVAL;
        wo.type = 1;
        wo.id = id;
        break;
    case 2:
        if (id < 0) return -EINVAL;
        wo.type = 2;
        wo.id = id ? id : c.task.signal->pgrp;
        break;
    case P_PIDFD: {  // the pidfd's process (pidfd_get_pid); a reaped one is nobody's child
        if (id < 0) return -EINVAL;
        const auto f = c.task.files->get(id);
        pid_ref* pid = f ? pidfd_pid(*f) : nullptr;
        if (!pid) return -EBADF;
        wo.type = 1;
        wo.id = pid->task ? pid->nr : -1;
        nonblock_pidfd = f->f_flags & O_NONBLOCK_;
        if (nonblock_pidfd) wo.flags |= WNOHANG_;
        break;
    }
    default: return -EINVAL;
    }
    long r = do_wait(c.task, wo);
    if (r == 0 && nonblock_pidfd && !(options & WNOHANG_)) r = -EAGAIN;  // a non-blocking pidfd's child runs
    if (r < 0) return r;
    if (a[2]) {  // siginfo: signo, errno, code, then pid, uid, status (zeros when none reported)
        uint8_t info[128] = {};
        if (r > 0) {
            const int32_t head[3] = {SIGCHLD_, 0, wo.code};
            std::memcpy(info, head, sizeof head);
            const size_t base = c.compat ? 12 : 16;
            const int32_t body[3] = {wo.pid, static_cast<int32_t>(wo.uid), wo.info_status};
            std::memcpy(info + base, body, sizeof body);
        }
        if (!copy_to_user(c.mm, VirtAddr(a[2]), info, sizeof info)) return -EFAULT;
    }
    if (r > 0 && !put_rusage(c, a[4], wo.ru)) return -EFAULT;
    return 0;
}

}  // namespace guestos
