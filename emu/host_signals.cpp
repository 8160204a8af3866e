#include "emu/host_signals.h"

#include <unicorn/unicorn.h>

#include <cerrno>
#include <csignal>
#include <iterator>

#include "emu/cpu.h"
#include "guestos/include/kernel.h"
#include "guestos/include/host_signal.h"

namespace emu {

namespace {
constexpr int forwarded[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGTSTP, SIGCONT};
struct sigaction saved[std::size(forwarded) + 1];  // the last: SIGPIPE's
guestos::Kernel* forwarding_to = nullptr;

// Notes the signal and makes the run loop look soon: the engine stops, an idle wait ends.
void on_host_signal(int sig, siginfo_t* si, void*) {
    const int saved_errno = errno;
    guestos::note_host_signal(sig, si->si_code == SI_KERNEL, si->si_uid);
    if (uc_engine* uc = Cpu::running.load()) uc_emu_stop(uc);
    if (forwarding_to) forwarding_to->idle_wake();
    errno = saved_errno;
}
}  // namespace

HostSignals::HostSignals(guestos::Kernel& kernel) {
    forwarding_to = &kernel;
    struct sigaction sa {};
    sa.sa_sigaction = on_host_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(forwarded); ++i) sigaction(forwarded[i], &sa, &saved[i]);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &saved[std::size(forwarded)]);
}

HostSignals::~HostSignals() {
    for (size_t i = 0; i < std::size(forwarded); ++i) sigaction(forwarded[i], &saved[i], nullptr);
    sigaction(SIGPIPE, &saved[std::size(forwarded)], nullptr);
    forwarding_to = nullptr;
}

void deliver_host_signals(guestos::Kernel& kernel) {
    if (guestos::host_signals_pending()) guestos::deliver_host_signals(kernel);
    if (const int sig = guestos::host_stop_due(kernel)) {  // stop as the guest did, by default action
        struct sigaction dfl {
        }, mine;
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, &mine);
        raise(sig);
        sigaction(sig, &mine, nullptr);
    }
}

}  // namespace emu
