// Signal syscalls: dispositions, the mask, the alternate stack, and kill to self.
#include <cerrno>
#include <unistd.h>

#include <cstring>

#include "guestos/include/kernel.h"
#include "guestos/include/pid.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {
constexpr uint64_t UNBLOCKABLE = sigmask(SIGKILL_) | sigmask(SIGSTOP_);

// Reads a struct sigaction in the ABI's layout.
bool get_sigaction(SysCtx& c, VirtAddr src, k_sigaction& ka) {
    if (!c.compat) return copy_from_user(c.mm, &ka, src, sizeof ka);
    uint32_t v[5];
    if (!copy_from_user(c.mm, v, src, sizeof v)) return false;
    ka = k_sigaction{v[0], v[1], v[2], v[3] | (static_cast<uint64_t>(v[4]) << 32)};
    return true;
}

bool put_sigaction(SysCtx& c, VirtAddr dst, const k_sigaction& ka) {
    if (!c.compat) return copy_to_user(c.mm, dst, &ka, sizeof ka);
    uint32_t v[5] = {static_cast<uint32_t>(ka.handler), static_cast<uint32_t>(ka.flags),
                     static_cast<uint32_t>(ka.restorer), static_cast<uint32_t>(ka.mask),
                     static_cast<uint32_t>(ka.mask >> 32)};
    return copy_to_user(c.mm, dst, v, sizeof v);
}

// The siginfo of kill/tkill from the caller.
kernel_siginfo user_info(SysCtx& c, uint64_t sig, int code) {
    kernel_siginfo si;
    si.si_signo = static_cast<int>(sig);
    si.si_code = code;
    si.pid = c.task.tgid;
    si.uid = c.task.cred.uid;
    return si;
}

// Whether the caller's ids let it signal t (kill_ok_by_cred): its real or effective uid
// is t's real or saved uid, or it has CAP_KILL.
bool kill_ok_by_cred(const task_struct& caller, const task_struct& t) {
    const cred& c = caller.cred;
    const cred& tc = t.cred;
    return c.euid == tc.suid || c.euid == tc.uid || c.uid == tc.suid || c.uid == tc.uid || capable(CAP_KILL_);
}

// check_kill_permission: another process needs kill_ok_by_cred, except SIGCONT within the
// caller's session.
long check_kill_permission(SysCtx& c, uint64_t sig, const task_struct& t) {
    if (t.tgid == c.task.tgid || kill_ok_by_cred(c.task, t)) return 0;
    if (sig == SIGCONT_ && t.signal->session == c.task.signal->session) return 0;
    return -EPERM;
}

// The process t gets sig from the caller (group_send_sig_info): 0 or -EPERM.
long group_send_sig_info(SysCtx& c, uint64_t sig, task_struct& t) {
    if (long e = check_kill_permission(c, sig, t)) return e;
    if (sig) send_signal_group(t, user_info(c, sig, SI_USER), false);
    return 0;
}

// A zombie keeps its pid until it is reaped, so kill finds it: the signal passes the same
// permission check and is dropped (no thread is left to take it).
bool is_zombie(const task_struct& t) { return t.exited && t.exit_state == EXIT_ZOMBIE; }
long send_to_process(SysCtx& c, uint64_t sig, task_struct& t) {
    return is_zombie(t) ? check_kill_permission(c, sig, t) : group_send_sig_info(c, sig, t);
}

// Every process of group pgrp gets sig (__kill_pgrp_info): 0 when one got it, else the last
// error, or -ESRCH when none exists.
long kill_pgrp(SysCtx& c, int pgrp, uint64_t sig) {
    bool success = false;
    long retval = -ESRCH;
    for (task_struct* t : c.kernel.all_tasks())
        if (t->thread_group_leader() && (!t->exited || is_zombie(*t)) && t->signal->pgrp == pgrp) {
            retval = send_to_process(c, sig, *t);
            success |= !retval;
        }
    return success ? 0 : retval;
}

// kill(pid, sig) (kill_something_info): a process, the caller's group (0), every process
// but init and the caller's (-1), or a group (-pgrp).
long kill_something_info(SysCtx& c, long pid, uint64_t sig) {
    if (sig > KERNEL_NSIG) return -EINVAL;
    if (pid > 0) {
        task_struct* t = c.kernel.find_task_by_vpid(static_cast<int>(pid));
        if (!t || (t->exited && !is_zombie(*t))) return -ESRCH;
        return send_to_process(c, sig, *t);
    }
    if (pid == 0) return kill_pgrp(c, c.task.signal->pgrp, sig);
    if (pid != -1) return kill_pgrp(c, static_cast<int>(-pid), sig);
    long retval = 0, count = 0;  // every permitted process; EPERM alone is no error here
    for (task_struct* t : c.kernel.all_tasks())
        if (t->thread_group_leader() && (!t->exited || is_zombie(*t)) && t->tgid != c.task.tgid) {
            const long err = send_to_process(c, sig, *t);
            ++count;
            if (err != -EPERM) retval = err;
        }
    return count ? retval : -ESRCH;
}

// tkill/tgkill: one thread (of group tgid when tgid > 0).
long do_tkill(SysCtx& c, int tgid, int pid, uint64_t sig) {
    if (sig > KERNEL_NSIG) return -EINVAL;
    task_struct* t = c.kernel.find_task_by_vpid(pid);
    if (!t || (t->exited && !is_zombie(*t)) || (tgid > 0 && t->tgid != tgid)) return -ESRCH;
    if (long e = check_kill_permission(c, sig, *t)) return e;
    if (sig && !t->exited) send_signal(*t, user_info(c, sig, SI_TKILL), false);
    return 0;
}
}  // namespace

long sys_rt_sigaction(SysCtx& c, const uint64_t* a) {
    const int sig = static_cast<int>(a[0]);
    if (a[3] != 8) return -EINVAL;
    if (sig < 1 || sig > KERNEL_NSIG) return -EINVAL;
    k_sigaction nw;
    if (a[1]) {
        if (sig == SIGKILL_ || sig == SIGSTOP_) return -EINVAL;
        if (!get_sigaction(c, VirtAddr(a[1]), nw)) return -EFAULT;
    }
    if (a[2] && !put_sigaction(c, VirtAddr(a[2]), c.task.sighand->action[sig - 1])) return -EFAULT;
    if (a[1]) {
        nw.mask &= ~UNBLOCKABLE;
        c.task.sighand->action[sig - 1] = nw;
        flush_signals_ignored(c.task, sig);
    }
    return 0;
}

long sys_rt_sigpending(SysCtx& c, const uint64_t* a) {
    if (a[1] > 8) return -EINVAL;
    const uint64_t set = c.task.pending & c.task.blocked;
    return copy_to_user(c.mm, VirtAddr(a[0]), &set, a[1]) ? 0 : -EFAULT;
}

long sys_sigpending(SysCtx& c, const uint64_t* a) {
    const uint32_t set = static_cast<uint32_t>(c.task.pending & c.task.blocked);
    return copy_to_user(c.mm, VirtAddr(a[0]), &set, 4) ? 0 : -EFAULT;
}

// Sleeps until a signal is pending (pause, sigsuspend). -ERESTARTNOHAND: a handler makes
// it EINTR, and a signal without one (ignored by default) starts the wait again.
static long sleep_until_signal(SysCtx& c, const char* what) {
    while (!signal_pending(c.task)) schedule_hrtimeout(c.task, std::nullopt, what);
    return -ERESTARTNOHAND;
}

long sys_rt_sigsuspend(SysCtx& c, const uint64_t* a) {
    if (a[1] != 8) return -EINVAL;
    uint64_t mask;
    if (!copy_from_user(c.mm, &mask, VirtAddr(a[0]), 8)) return -EFAULT;
    c.task.saved_sigmask = c.task.blocked;  // set_restore_sigmask: the frame gets the old mask
    c.task.blocked = mask & ~UNBLOCKABLE;
    return sleep_until_signal(c, "rt_sigsuspend");
}

long set_user_sigmask(SysCtx& c, uint64_t umask, uint64_t sigsetsize) {
    if (!umask) return 0;
    if (sigsetsize != 8) return -EINVAL;
    uint64_t mask;
    if (!copy_from_user(c.mm, &mask, VirtAddr(umask), 8)) return -EFAULT;
    c.task.saved_sigmask = c.task.blocked;
    c.task.blocked = mask & ~UNBLOCKABLE;
    return 0;
}

void restore_saved_sigmask_unless(task_struct& task, bool interrupted) {
    if (interrupted || !task.saved_sigmask) return;
    task.blocked = *task.saved_sigmask;
    task.saved_sigmask.reset();
}

long sys_pause(SysCtx& c, const uint64_t*) { return sleep_until_signal(c, "pause"); }

// Resumes a call that returned -ERESTART_RESTARTBLOCK (an interrupted nanosleep) after a
// signal without a handler; anything else gets EINTR (do_no_restart_syscall).
long sys_restart_syscall(SysCtx& c, const uint64_t*) {
    const auto fn = c.task.restart_block.fn;
    return fn ? fn(c) : -EINTR;
}

namespace {
// A siginfo from user memory (__copy_siginfo_from_user): errno, code, pid, uid and value;
// si_signo is the signal asked for.
bool get_user_siginfo(SysCtx& c, uint64_t uinfo, kernel_siginfo& si) {
    uint8_t raw[128];
    if (!copy_from_user(c.mm, raw, VirtAddr(uinfo), sizeof raw)) return false;
    std::memcpy(&si.si_signo, raw, 4);
    std::memcpy(&si.si_errno, raw + 4, 4);
    std::memcpy(&si.si_code, raw + 8, 4);
    const size_t base = c.compat ? 12 : 16;  // the union follows si_code (padded on x86-64)
    std::memcpy(&si.pid, raw + base, 4);
    std::memcpy(&si.uid, raw + base + 4, 4);
    std::memcpy(&si.value, raw + base + 8, c.ptr_size());
    return true;
}

// Not even root may pretend to send a signal from the kernel, nor impersonate kill or
// tgkill, except to its own thread (do_rt_sigqueueinfo's check).
bool may_queue_siginfo(SysCtx& c, const kernel_siginfo& si, long pid) {
    return !(si.si_code >= 0 || si.si_code == SI_TKILL) || c.task.pid == pid;
}
}  // namespace

// rt_sigqueueinfo(pid, sig, uinfo): the process of thread pid gets sig with the caller's
// siginfo, that thread first when it does not block it (kill_proc_info).
long sys_rt_sigqueueinfo(SysCtx& c, const uint64_t* a) {
    const long pid = static_cast<int32_t>(a[0]);
    const uint64_t sig = static_cast<uint32_t>(a[1]);
    kernel_siginfo si;
    if (!get_user_siginfo(c, a[2], si)) return -EFAULT;
    si.si_signo = static_cast<int>(sig);
    if (!may_queue_siginfo(c, si, pid)) return -EPERM;
    task_struct* t = pid > 0 ? c.kernel.find_task_by_vpid(static_cast<int>(pid)) : nullptr;
    if (!t || (t->exited && !is_zombie(*t))) return -ESRCH;
    if (sig > KERNEL_NSIG) return -EINVAL;
    if (long e = check_kill_permission(c, sig, *t)) return e;
    if (sig && !t->exited) send_signal_group(*t, si, false);
    return 0;
}

// rt_tgsigqueueinfo(tgid, pid, sig, uinfo): thread pid of process tgid gets sig with the
// caller's siginfo (do_send_specific).
long sys_rt_tgsigqueueinfo(SysCtx& c, const uint64_t* a) {
    const long tgid = static_cast<int32_t>(a[0]), pid = static_cast<int32_t>(a[1]);
    const uint64_t sig = static_cast<uint32_t>(a[2]);
    kernel_siginfo si;
    if (!get_user_siginfo(c, a[3], si)) return -EFAULT;
    si.si_signo = static_cast<int>(sig);
    if (pid <= 0 || tgid <= 0) return -EINVAL;
    if (!may_queue_siginfo(c, si, pid)) return -EPERM;
    task_struct* t = c.kernel.find_task_by_vpid(static_cast<int>(pid));
    if (!t || (t->exited && !is_zombie(*t)) || t->tgid != tgid) return -ESRCH;
    if (sig > KERNEL_NSIG) return -EINVAL;
    if (long e = check_kill_permission(c, sig, *t)) return e;
    if (sig && !t->exited) send_signal(*t, si, false);
    return 0;
}

long sys_rt_sigprocmask(SysCtx& c, const uint64_t* a) {
    if (a[3] != 8) return -EINVAL;
    uint64_t old = c.task.blocked, set = 0;
    if (a[1]) {
        if (!copy_from_user(c.mm, &set, VirtAddr(a[1]), 8)) return -EFAULT;
        if (a[0] > SIG_SETMASK_) return -EINVAL;
    }
    if (a[2] && !copy_to_user(c.mm, VirtAddr(a[2]), &old, 8)) return -EFAULT;
    if (a[1]) {
        if (a[0] == SIG_BLOCK_) c.task.blocked |= set;
        else if (a[0] == SIG_UNBLOCK_) c.task.blocked &= ~set;
        else c.task.blocked = set;
        c.task.blocked &= ~UNBLOCKABLE;
    }
    return 0;
}

long sys_sigaltstack(SysCtx& c, const uint64_t* a) {
    constexpr uint64_t MINSIGSTKSZ = 2048;
    const uint64_t ps = c.ptr_size();
    pt_regs regs;
    c.task.cpu->get_regs(regs);
    const bool on_stack = on_sig_stack(c.task, regs.sp);
    if (a[1]) {  // stack_t: sp, flags (int, padded to a long on x86-64), size
        uint8_t buf[24] = {};
        uint64_t sp = c.task.sas_ss_sp, size = c.task.sas_ss_size;
        int32_t flags = !c.task.sas_ss_size ? SS_DISABLE
                        : on_stack          ? SS_ONSTACK
                                            : (c.task.sas_ss_flags & SS_AUTODISARM);
        std::memcpy(buf, &sp, ps);
        std::memcpy(buf + ps, &flags, 4);
        std::memcpy(buf + 2 * ps, &size, ps);
        if (!copy_to_user(c.mm, VirtAddr(a[1]), buf, 3 * ps)) return -EFAULT;
    }
    if (a[0]) {
        uint8_t buf[24] = {};
        if (!copy_from_user(c.mm, buf, VirtAddr(a[0]), 3 * ps)) return -EFAULT;
        uint64_t sp = 0, size = 0;
        int32_t flags;
        std::memcpy(&sp, buf, ps);
        std::memcpy(&flags, buf + ps, 4);
        std::memcpy(&size, buf + 2 * ps, ps);
        int mode = flags & ~SS_AUTODISARM;
        if (on_stack) return -EPERM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) return -EINVAL;
        if (mode == SS_DISABLE) {
            sp = size = 0;
        } else if (size < MINSIGSTKSZ) {
            return -ENOMEM;
        }
        c.task.sas_ss_sp = sp;
        c.task.sas_ss_size = size;
        c.task.sas_ss_flags = mode == SS_DISABLE ? SS_DISABLE : (flags & SS_AUTODISARM);
    }
    return 0;
}

namespace {
// pidfd_send_signal's scopes (uapi/linux/pidfd.h): the thread, its process, its process group.
constexpr unsigned PIDFD_SIGNAL_THREAD = 1, PIDFD_SIGNAL_THREAD_GROUP = 2, PIDFD_SIGNAL_PROCESS_GROUP = 4;
}  // namespace

// pidfd_send_signal(pidfd, sig, info, flags): sig to the pidfd's process (or thread, or
// process group), with the caller's siginfo only when it signals itself.
long sys_pidfd_send_signal(SysCtx& c, const uint64_t* a) {
    const uint64_t sig = static_cast<uint32_t>(a[1]);
    const unsigned flags = static_cast<unsigned>(a[3]);
    const unsigned scope = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;
    if ((flags & ~scope) || __builtin_popcount(flags) > 1) return -EINVAL;
    const auto f = c.task.files->get(static_cast<int32_t>(a[0]));
    if (!f) return -EBADF;
    bool thread = false;
    pid_ref* pid = pidfd_pid(*f, &thread);
    if (!pid) return -EBADF;
    const bool to_thread = flags ? flags == PIDFD_SIGNAL_THREAD : thread;
    kernel_siginfo si = user_info(c, sig, to_thread ? SI_TKILL : SI_USER);
    if (a[2]) {
        if (!get_user_siginfo(c, a[2], si)) return -EFAULT;
        if (si.si_signo != static_cast<int>(sig)) return -EINVAL;
        // Only the caller may send itself a siginfo that claims to come from the kernel.
        if ((pid->task != &c.task || flags == PIDFD_SIGNAL_PROCESS_GROUP) &&
            (si.si_code >= 0 || si.si_code == SI_TKILL))
            return -EPERM;
    }
    if (flags == PIDFD_SIGNAL_PROCESS_GROUP) return kill_pgrp(c, pid->nr, sig);
    task_struct* t = pid->task;
    if (!t) return -ESRCH;
    if (sig > KERNEL_NSIG) return -EINVAL;
    if (long e = check_kill_permission(c, sig, *t)) return e;
    if (!sig || t->exit_state || t->exited) return 0;  // an exited group drops what it is sent
    if (to_thread) send_signal(*t, si, false);
    else send_signal_group(*t, si, false);
    return 0;
}

long sys_kill(SysCtx& c, const uint64_t* a) { return kill_something_info(c, static_cast<int32_t>(a[0]), a[1]); }
long sys_tkill(SysCtx& c, const uint64_t* a) {
    if (static_cast<int32_t>(a[0]) <= 0) return -EINVAL;
    return do_tkill(c, 0, static_cast<int32_t>(a[0]), a[1]);
}
long sys_tgkill(SysCtx& c, const uint64_t* a) {
    if (static_cast<int32_t>(a[0]) <= 0 || static_cast<int32_t>(a[1]) <= 0) return -EINVAL;
    return do_tkill(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), a[2]);
}

}  // namespace guestos
