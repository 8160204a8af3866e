// Sending and dequeueing signals and their default actions (kernel/signal.c).
#include "guestos/include/signal.h"
#include "guestos/include/host_signal.h"

#include <atomic>
#include <unordered_map>
#include <utility>
#include <vector>

#include "guestos/include/kernel.h"
#include "guestos/include/ptrace.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/tty.h"
#include "guestos/include/uapi/poll.h"
#include "guestos/kernel/time/posix-timers.h"

#include "guestos/kernel/sched/core.h"
#include "guestos/include/kernel.h"
#include "guestos/arch/x86/entry/strace.h"

namespace guestos {

namespace {
constexpr uint64_t SYNCHRONOUS_MASK =
    sigmask(SIGSEGV_) | sigmask(SIGBUS_) | sigmask(SIGILL_) | sigmask(SIGTRAP_) | sigmask(SIGFPE_) | sigmask(SIGSYS_);

// sig_kernel_ignore: signals whose default action does nothing (SIGCONT's work is done
// when it is sent).
bool default_ignored(int sig) { return sig == SIGCHLD_ || sig == SIGURG_ || sig == SIGWINCH_ || sig == SIGCONT_; }

// sig_kernel_stop: signals whose default action stops the process.
constexpr uint64_t STOP_MASK = sigmask(SIGSTOP_) | sigmask(SIGTSTP_) | sigmask(SIGTTIN_) | sigmask(SIGTTOU_);
bool sig_kernel_stop(int sig) { return STOP_MASK & sigmask(sig); }

// Drops the pending signals of mask in every thread of the group (flush_sigqueue_mask).
void flush_group_mask(task_struct& task, uint64_t mask) {
    for (task_struct* t : task.signal->thread_head) {
        for (int sig = 1; sig <= KERNEL_NSIG; ++sig)
            if (mask & sigmask(sig)) t->sigqueue[sig - 1].clear();
        t->pending &= ~mask;
    }
}

// The parent hears that the group stopped or continued (do_notify_parent_cldstop), unless
// its SIGCHLD action has SA_NOCLDSTOP.
void notify_parent_cldstop(task_struct& task, int why, int sig) {
    constexpr uint64_t SA_NOCLDSTOP = 1;
    task_struct* leader = task.group_leader;
    task_struct* parent = leader->real_parent;
    if (!parent || parent->exited) return;
    if (!(parent->sighand->action[SIGCHLD_ - 1].flags & SA_NOCLDSTOP)) {
        kernel_siginfo si;
        si.si_signo = SIGCHLD_;
        si.si_code = why;
        si.pid = leader->tgid;
        si.value = static_cast<uint32_t>(sig);
        send_signal_group(*parent, si, false);
    }
    wake_up(parent->signal->wait_chldexit);
}

// prepare_signal: SIGCONT resumes a stopped group and cancels pending stops; a stop signal
// cancels a pending SIGCONT.
void prepare_signal(task_struct& task, int sig) {
    constexpr int CLD_CONTINUED = 6;
    signal_struct& s = *task.signal;
    if (sig_kernel_stop(sig)) {
        flush_group_mask(task, sigmask(SIGCONT_));
        return;
    }
    if (sig != SIGCONT_) return;
    flush_group_mask(task, STOP_MASK);
    if (!s.stopped) return;
    s.stopped = false;
    s.continued = true;
    for (task_struct* t : s.thread_head)
        if (t->state == TASK_STOPPED) {
            t->state = TASK_INTERRUPTIBLE;
            wake_up_process(*t);
        }
    notify_parent_cldstop(task, CLD_CONTINUED, SIGCONT_);
}

// The default action of a stop signal: the whole group stops (do_signal_stop).
void do_signal_stop(task_struct& task, int sig) {
    constexpr int CLD_STOPPED = 5;
    signal_struct& s = *task.signal;
    s.stopped = true;
    s.stop_signal = sig;
    s.stop_reported = false;
    s.continued = false;
    task.state = TASK_STOPPED;
    notify_parent_cldstop(task, CLD_STOPPED, sig);
}

// The mask each task in rt_sigtimedwait really blocks while it waits with the awaited
// signals unblocked (Linux's task_struct::real_blocked; kept here for the few tasks waiting).
std::unordered_map<const task_struct*, uint64_t> real_blocked_map;

uint64_t real_blocked(const task_struct& task) {
    const auto it = real_blocked_map.find(&task);
    return it == real_blocked_map.end() ? 0 : it->second;
}

// sig_ignored: a signal that would be dropped on arrival (not when blocked, also by the mask
// a waiter in rt_sigtimedwait really has: it stays queued).
bool sig_ignored(const task_struct& task, int sig) {
    if ((task.blocked | real_blocked(task)) & sigmask(sig)) return false;
    const uint64_t h = task.sighand->action[sig - 1].handler;
    return h == SIG_IGN_ || (h == SIG_DFL_ && default_ignored(sig));
}

// The lowest pending signal of mask, synchronous ones (faults) first (next_signal).
int next_signal(const task_struct& task, uint64_t mask) {
    const uint64_t ready = task.pending & mask;
    if (!ready) return 0;
    const uint64_t sync = ready & SYNCHRONOUS_MASK;
    return __builtin_ctzll(sync ? sync : ready) + 1;
}
}  // namespace

void send_sig(int sig, task_struct& task) {
    kernel_siginfo si;
    si.si_signo = sig;
    si.si_code = SI_USER;
    si.pid = task.tgid;
    si.uid = task.cred.uid;
    send_signal(task, si, false);
}

bool send_signal(task_struct& task, const kernel_siginfo& info, bool forced) {
    const int sig = info.si_signo;
    if (sig < 1 || sig > KERNEL_NSIG) return false;
    prepare_signal(task, sig);
    if (sig == SIGKILL_) {  // the group dies: a stop ends (complete_signal's group exit)
        task.signal->stopped = false;
        if (task.state == TASK_STOPPED) {
            task.state = TASK_INTERRUPTIBLE;
            wake_up_process(task);
        }
    }
    k_sigaction& ka = task.sighand->action[sig - 1];
    // force_sig_info_to_task: a blocked or ignored fault takes the default action.
    if (forced && ((task.blocked & sigmask(sig)) || ka.handler == SIG_IGN_)) {
        ka.handler = SIG_DFL_;
        task.blocked &= ~sigmask(sig);
    }
    if (sig != SIGKILL_ && sig_ignored(task, sig)) return false;
    // Standard signals do not queue twice (legacy_queue); real-time signals do.
    if (sig < SIGRTMIN_ && (task.pending & sigmask(sig))) return true;
    task.sigqueue[sig - 1].push_back(info);
    task.pending |= sigmask(sig);
    wake_up_poll(task.sighand->signalfd_wqh, EPOLLIN_);  // signalfd_notify
    if (sig == SIGKILL_ || !(task.blocked & sigmask(sig))) signal_wake_up(task);
    return true;
}

bool send_signal_group(task_struct& task, const kernel_siginfo& info, bool forced) {
    const int sig = info.si_signo;
    if (sig < 1 || sig > KERNEL_NSIG) return false;
    signal_struct& s = *task.signal;
    if (sig == SIGKILL_) {  // kills every thread (complete_signal's group kill)
        for (task_struct* t : std::vector<task_struct*>(s.thread_head)) send_signal(*t, info, forced);
        return true;
    }
    // complete_signal: a thread that does not block it, the one addressed first (the leader
    // for a process id), then the leader.
    task_struct* target = &task;
    if ((task.exited || (task.blocked & sigmask(sig))) && task.group_leader && !task.group_leader->exited)
        target = task.group_leader;
    if (target->blocked & sigmask(sig))
        for (task_struct* t : s.thread_head)
            if (!(t->blocked & sigmask(sig)) && !t->exited) {
                target = t;
                break;
            }
    return send_signal(*target, info, forced);
}

int dequeue_signal(task_struct& task, uint64_t mask, kernel_siginfo& info) {
    const int sig = next_signal(task, mask);
    if (!sig) return 0;
    auto& q = task.sigqueue[sig - 1];
    info = q.empty() ? kernel_siginfo{sig, 0, SI_KERNEL} : q.front();
    if (!q.empty()) q.pop_front();
    if (q.empty()) task.pending &= ~sigmask(sig);
    if (info.si_code == SI_TIMER && info.sys_private) posixtimer_rearm(task, info);
    return sig;
}

bool fatal_signal_pending(const task_struct& task) { return task.pending & sigmask(SIGKILL_); }

bool signal_pending(const task_struct& task) { return (task.pending & ~task.blocked) != 0 && !task.exited; }

namespace {
// Takes the next signal to deliver into ks: the one a tracer resumed the task with, else the
// first pending one, which a tracer may stop the task for (ptrace_signal). False: none now.
bool dequeue_signal(task_struct& task, ksignal& ks) {
    if (task.ptrace_resume_signal) {
        ks.info = *std::exchange(task.ptrace_resume_signal, std::nullopt);
        ks.sig = ks.info.si_signo;
        if (ks.sig < 1 || ks.sig > KERNEL_NSIG) return dequeue_signal(task, ks);
        if (task.blocked & sigmask(ks.sig)) {  // blocked meanwhile: it waits in the queue
            send_signal(task, ks.info, false);
            return dequeue_signal(task, ks);
        }
        return true;
    }
    const int sig = dequeue_signal(task, ~task.blocked, ks.info);
    if (!sig) return false;
    ks.sig = sig;
    if (sig != SIGKILL_ && task.kernel && task.kernel->tracer && task.kernel->tracer->signal_stop(task, ks.info)) {
        task.last_siginfo = ks.info;
        return false;
    }
    return true;
}
}  // namespace

bool get_signal(task_struct& task, ksignal& ks) {
    while (!task.exited) {
        if (!dequeue_signal(task, ks)) return false;
        const int sig = ks.sig;
        ks.ka = task.sighand->action[sig - 1];
        if (sig != SIGKILL_ && ks.ka.handler == SIG_IGN_) continue;
        if (sig != SIGKILL_ && ks.ka.handler != SIG_DFL_) return true;
        if (default_ignored(sig)) continue;
        if (sig_kernel_stop(sig)) {
            // The job control signals do nothing in an orphaned group; SIGSTOP always
            // works (is_current_pgrp_orphaned).
            if (sig != SIGSTOP_ && task.kernel && will_become_orphaned_pgrp(*task.kernel, task.signal->pgrp, nullptr))
                continue;
            do_signal_stop(task, sig);
            return false;
        }
        do_group_exit(task, sig);  // terminate the whole thread group
        // Killed outside a syscall's own exit: --strace ends the task as strace does.
        if (task.kernel && task.kernel->config().strace) strace_exit(task.kernel->config().strace_out, task);
    }
    return false;
}

void flush_signals_ignored(task_struct& task, int sig) {
    const uint64_t h = task.sighand->action[sig - 1].handler;
    if (h != SIG_IGN_ && !(h == SIG_DFL_ && default_ignored(sig))) return;  // sig_handler_ignored
    task.sigqueue[sig - 1].clear();
    task.pending &= ~sigmask(sig);
}

bool on_sig_stack(const task_struct& task, uint64_t sp) {
    return task.sas_ss_size && sp > task.sas_ss_sp && sp - task.sas_ss_sp <= task.sas_ss_size;
}

// rt_sigtimedwait (do_sigtimedwait): takes a pending signal of the set, waiting for one with
// the set unblocked for the length of the wait (the old mask stays the real one, so an
// ignored signal waited for is queued, not dropped); -EAGAIN when the timeout passes, -EINTR
// when another signal comes.
namespace {
constexpr uint64_t UNBLOCKABLE = sigmask(SIGKILL_) | sigmask(SIGSTOP_);

long do_rt_sigtimedwait(SysCtx& c, const uint64_t* a, bool time64) {
    if (a[3] != 8) return -EINVAL;
    uint64_t set;
    if (!copy_from_user(c.mm, &set, VirtAddr(a[0]), 8)) return -EFAULT;
    std::optional<ktime_t> timeout;
    if (a[2]) {
        timespec ts;
        if (!get_timespec(c, VirtAddr(a[2]), ts, time64)) return -EFAULT;
        if (!timespec_valid(ts)) return -EINVAL;
        timeout = timespec_to_ktime(ts);
    }
    task_struct& t = c.task;
    const uint64_t mask = set & ~UNBLOCKABLE;
    kernel_siginfo info;
    int sig = dequeue_signal(t, mask, info);
    bool interrupted = false;
    if (!sig && timeout != ktime_t{0}) {
        // None ready: unblock the wanted ones while asleep so that their arrival wakes us.
        const uint64_t old_blocked = t.blocked;
        real_blocked_map[&t] = old_blocked;
        t.blocked &= ~mask;
        const std::optional<ktime_t> until =
            timeout ? std::optional<ktime_t>(ktime_add_safe(ktime_get(), *timeout)) : std::nullopt;
        while (!signal_pending(t) && (!until || ktime_get() < *until)) schedule_hrtimeout(t, until, "rt_sigtimedwait");
        interrupted = signal_pending(t);
        t.blocked = old_blocked;
        real_blocked_map.erase(&t);
        sig = dequeue_signal(t, mask, info);
    }
    if (!sig) return interrupted ? -EINTR : -EAGAIN;
    if (a[1]) {
        const auto raw = siginfo_to_user(info, c.compat);
        if (!copy_to_user(c.mm, VirtAddr(a[1]), raw.data(), raw.size())) return -EFAULT;
    }
    return sig;
}
}  // namespace

long sys_rt_sigtimedwait(SysCtx& c, const uint64_t* a) { return do_rt_sigtimedwait(c, a, false); }
long sys_rt_sigtimedwait_time64(SysCtx& c, const uint64_t* a) { return do_rt_sigtimedwait(c, a, true); }

// ---- signals from the host (emu's own terminal and users) ----

namespace {
std::atomic<uint64_t> host_tty_signals{0}, host_user_signals{0};
std::atomic<uint32_t> host_sender_uid{0};
int host_stop_sig = 0;  // a terminal's stop signal that went to the foreground group

// The console's foreground process group (tcsetpgrp's), else the first program's group.
int foreground_pgrp(Kernel& k) {
    if (k.console_tty().pgrp) return k.console_tty().pgrp;
    task_struct* init = k.find_task_by_vpid(k.init_tgid);
    return init && !init->exit_state ? init->signal->pgrp : 0;
}

}  // namespace

void kill_pgrp_info(Kernel& k, int pgrp, const kernel_siginfo& info) {
    for (task_struct* t : k.all_tasks())
        if (t->thread_group_leader() && !t->exit_state && t->signal->pgrp == pgrp) send_signal_group(*t, info, false);
}

void note_host_signal(int sig, bool from_terminal, uint32_t sender_uid) noexcept {
    if (!from_terminal) host_sender_uid.store(sender_uid, std::memory_order_relaxed);
    (from_terminal ? host_tty_signals : host_user_signals).fetch_or(sigmask(sig), std::memory_order_release);
}

bool host_signals_pending() noexcept {
    return (host_tty_signals.load(std::memory_order_relaxed) | host_user_signals.load(std::memory_order_relaxed)) != 0;
}

void deliver_host_signals(Kernel& k) {
    const uint64_t tty = host_tty_signals.exchange(0, std::memory_order_acquire);
    const uint64_t user = host_user_signals.exchange(0, std::memory_order_acquire);
    const int pgrp = foreground_pgrp(k);
    task_struct* init = k.find_task_by_vpid(k.init_tgid);
    for (int sig = 1; sig <= 64; ++sig) {
        kernel_siginfo si;
        si.si_signo = sig;
        if (tty & sigmask(sig)) {
            si.si_code = SI_KERNEL;
            if (pgrp) kill_pgrp_info(k, pgrp, si);
            if (sig_kernel_stop(sig)) host_stop_sig = sig;
            if (sig == SIGCONT_) host_stop_sig = 0;
        }
        if (user & sigmask(sig)) {
            si.si_code = SI_USER;
            si.uid = host_sender_uid.load(std::memory_order_relaxed);
            if (sig == SIGCONT_) {  // a shell's fg or bg continues the whole job
                host_stop_sig = 0;
                if (pgrp) kill_pgrp_info(k, pgrp, si);
            } else if (init && !init->exit_state) {
                send_signal_group(*init, si, false);
            }
        }
    }
}

int host_stop_due(Kernel& k) {
    if (!host_stop_sig) return 0;
    task_struct* init = k.find_task_by_vpid(k.init_tgid);
    if (!init || init->exit_state) return 0;
    for (task_struct* t : init->signal->thread_head)
        if (!t->exited && t->state != TASK_STOPPED) return 0;
    return std::exchange(host_stop_sig, 0);
}

}  // namespace guestos
