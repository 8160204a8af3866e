// Signals (kernel/signal.c and arch/x86/kernel/signal.c): sending, dequeueing, default
// actions, and the x86 signal frames that run handlers and sigreturn that leaves them.
#pragma once
#include "guestos/include/errno.h"
#include "guestos/include/sched.h"
#include "guestos/include/uapi/signal.h"

namespace guestos {

constexpr uint64_t sigmask(int sig) { return 1ull << (sig - 1); }

// A signal chosen for delivery with the action to run (struct ksignal).
struct ksignal {
    int sig = 0;
    kernel_siginfo info;
    k_sigaction ka;
};

// Queues sig for the task (send_signal). A forced signal (a fault: force_sig_info) cannot
// be ignored or blocked: a blocked or ignored one is reset to its default action first.
// A sleeping task that can take it is woken (signal_wake_up). False when it was dropped
// because the task ignores it (sig_ignored).
bool send_signal(task_struct& task, const kernel_siginfo& info, bool forced);
// The kernel's own signal to a task about what it did (send_sig with priv 0: SI_USER from
// the task itself): SIGPIPE, SIGXFSZ.
void send_sig(int sig, task_struct& task);
// A process-directed signal (group): one thread that does not block it takes it; SIGKILL
// goes to every thread.
bool send_signal_group(task_struct& task, const kernel_siginfo& info, bool forced);
// Every process of group pgrp gets info, from the kernel: no permission check
// (__kill_pgrp_info with a privileged sender).
void kill_pgrp_info(Kernel& k, int pgrp, const kernel_siginfo& info);
// Takes the first pending signal of mask (synchronous ones first) with its siginfo; a POSIX
// timer's is re-armed (dequeue_signal). 0 when none is pending.
int dequeue_signal(task_struct& task, uint64_t mask, kernel_siginfo& info);
// SIGKILL is pending (fatal_signal_pending).
bool fatal_signal_pending(const task_struct& task);
// A signal is waiting that the mask does not block (signal_pending).
bool signal_pending(const task_struct& task);
// Installs a caller's temporary signal mask for the length of a call (set_user_sigmask, as
// ppoll, pselect6 and epoll_pwait take it): the old one is saved for restore. 0 with no
// mask, -EINVAL for a size other than 8, -EFAULT.
long set_user_sigmask(SysCtx& c, uint64_t umask, uint64_t sigsetsize);
// Puts the saved mask back now unless the call was interrupted, in which case the signal
// frame carries it (restore_saved_sigmask_unless).
void restore_saved_sigmask_unless(task_struct& task, bool interrupted);
// Takes the next deliverable signal: ignored ones are dropped, default actions are taken
// (a fatal one ends the task); returns true with a handler to run (get_signal).
bool get_signal(task_struct& task, ksignal& ks);
// Runs every deliverable signal: builds a handler frame per signal on the user stack and
// points the registers at the handler; a syscall the signal interrupted fails with EINTR or
// runs again, by its restart code and SA_RESTART (arch_do_signal_or_restart + handle_signal).
void do_signal(task_struct& task);
// The user's siginfo_t (128 bytes) for info, in the task ABI's layout (copy_siginfo_to_user,
// copy_siginfo_to_user32): what a handler or ptrace's PTRACE_GETSIGINFO sees.
std::array<uint8_t, 128> siginfo_to_user(const kernel_siginfo& info, bool compat);
// Setting SIG_IGN (or a default of ignore) discards what is pending (sigaction's
// flush_sigqueue_mask).
void flush_signals_ignored(task_struct& task, int sig);
// The stack pointer is on the alternate signal stack (on_sig_stack).
bool on_sig_stack(const task_struct& task, uint64_t sp);

}  // namespace guestos
