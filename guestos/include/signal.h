// Signals (kernel/signal.c and arch/x86/kernel/signal.c): sending, dequeueing, default
// actions, and the x86 signal frames that run handlers and sigreturn that leaves them.
#pragma once
#include "guestos/include/errno.h"
#include "guestos/include/sched.h"

namespace guestos {

enum : int {
    SIGHUP_ = 1, SIGINT_ = 2, SIGQUIT_ = 3, SIGILL_ = 4, SIGTRAP_ = 5, SIGABRT_ = 6, SIGBUS_ = 7,
    SIGFPE_ = 8, SIGKILL_ = 9, SIGUSR1_ = 10, SIGSEGV_ = 11, SIGUSR2_ = 12, SIGPIPE_ = 13,
    SIGALRM_ = 14, SIGTERM_ = 15, SIGCHLD_ = 17, SIGCONT_ = 18, SIGSTOP_ = 19, SIGTSTP_ = 20,
    SIGTTIN_ = 21, SIGTTOU_ = 22, SIGURG_ = 23, SIGVTALRM_ = 26, SIGPROF_ = 27, SIGWINCH_ = 28, SIGSYS_ = 31,
    SIGRTMIN_ = 32,
};

// sa_flags (uapi/asm-generic/signal-defs.h, x86 SA_RESTORER).
inline constexpr uint64_t SA_SIGINFO = 0x4, SA_RESTORER = 0x04000000, SA_ONSTACK = 0x08000000,
                          SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
// si_code values.
inline constexpr int SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TKILL = -6;
inline constexpr int SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2, BUS_ADRALN = 1, FPE_INTDIV = 1,
                     ILL_ILLOPN = 2, TRAP_BRKPT = 1;
// sigaltstack flags.
inline constexpr int SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;

constexpr uint64_t sigmask(int sig) { return 1ull << (sig - 1); }

// A signal chosen for delivery with the action to run (struct ksignal).
struct ksignal {
    int sig = 0;
    kernel_siginfo info;
    k_sigaction ka;
};

// Queues sig for the task (send_signal). A forced signal (a fault: force_sig_info) cannot
// be ignored or blocked: a blocked or ignored one is reset to its default action first.
void send_signal(task_struct& task, const kernel_siginfo& info, bool forced);
// A signal is waiting that the mask does not block (signal_pending).
bool signal_pending(const task_struct& task);
// Takes the next deliverable signal: ignored ones are dropped, default actions are taken
// (a fatal one ends the task); returns true with a handler to run (get_signal).
bool get_signal(task_struct& task, ksignal& ks);
// Runs every deliverable signal: builds a handler frame per signal on the user stack and
// points the registers at the handler; a syscall the signal interrupted fails with EINTR or
// runs again, by its restart code and SA_RESTART (arch_do_signal_or_restart + handle_signal).
void do_signal(task_struct& task);
// Setting SIG_IGN (or a default of ignore) discards what is pending (sigaction's
// flush_sigqueue_mask).
void flush_signals_ignored(task_struct& task, int sig);
// The stack pointer is on the alternate signal stack (on_sig_stack).
bool on_sig_stack(const task_struct& task, uint64_t sp);

}  // namespace guestos
