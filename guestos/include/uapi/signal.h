// Signal numbers, sa_flags, si_codes and sigaltstack flags (uapi/asm-generic/signal.h,
// signal-defs.h, siginfo.h; x86's SA_RESTORER).
#pragma once
#include <cstdint>

namespace guestos {

enum : int {
    SIGHUP_ = 1,
    SIGINT_ = 2,
    SIGQUIT_ = 3,
    SIGILL_ = 4,
    SIGTRAP_ = 5,
    SIGABRT_ = 6,
    SIGBUS_ = 7,
    SIGFPE_ = 8,
    SIGKILL_ = 9,
    SIGUSR1_ = 10,
    SIGSEGV_ = 11,
    SIGUSR2_ = 12,
    SIGPIPE_ = 13,
    SIGALRM_ = 14,
    SIGTERM_ = 15,
    SIGCHLD_ = 17,
    SIGCONT_ = 18,
    SIGSTOP_ = 19,
    SIGTSTP_ = 20,
    SIGTTIN_ = 21,
    SIGTTOU_ = 22,
    SIGURG_ = 23,
    SIGXCPU_ = 24,
    SIGXFSZ_ = 25,
    SIGVTALRM_ = 26,
    SIGPROF_ = 27,
    SIGWINCH_ = 28,
    SIGIO_ = 29,
    SIGSYS_ = 31,
    SIGRTMIN_ = 32,
};

// sa_flags (uapi/asm-generic/signal-defs.h, x86 SA_RESTORER).
inline constexpr uint64_t SA_SIGINFO = 0x4, SA_RESTORER = 0x04000000, SA_ONSTACK = 0x08000000, SA_RESTART = 0x10000000,
                          SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;
// si_code values.
inline constexpr int SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_SIGIO = -5, SI_TKILL = -6;
// sigev_notify (uapi/asm-generic/siginfo.h).
inline constexpr int SIGEV_SIGNAL_ = 0, SIGEV_NONE_ = 1, SIGEV_THREAD_ = 2, SIGEV_THREAD_ID_ = 4;
inline constexpr int SIGRTMAX_ = 64;
inline constexpr int SIG_BLOCK_ = 0, SIG_UNBLOCK_ = 1, SIG_SETMASK_ = 2;
inline constexpr uint64_t SIG_DFL_ = 0, SIG_IGN_ = 1;
inline constexpr int SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2, BUS_ADRALN = 1, FPE_INTDIV = 1, ILL_ILLOPN = 2,
                     TRAP_BRKPT = 1;
// sigaltstack flags.
inline constexpr int SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;

}  // namespace guestos
