// The signals the host sends emu, passed on to the guest (qemu-user forwards them too):
// Ctrl-C and the other terminal signals reach the guest's foreground process group, a
// kill(1) of emu reaches the first program, and a terminal's stop of the guest stops emu.
#pragma once

namespace guestos {
class Kernel;
}

namespace emu {

// While it lives, the host's SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM,
// SIGWINCH, SIGTSTP and SIGCONT go to the guest, and SIGPIPE is ignored (a write to a closed
// host pipe fails with EPIPE and the guest gets its own SIGPIPE). One at a time.
class HostSignals {
public:
    explicit HostSignals(guestos::Kernel& kernel);
    ~HostSignals();
    HostSignals(const HostSignals&) = delete;
    HostSignals& operator=(const HostSignals&) = delete;
};

// Delivers what the host sent since the last call, and stops emu itself (SIGSTOP) when a
// terminal's stop signal has stopped the first program; the run loop calls it between runs.
void deliver_host_signals(guestos::Kernel& kernel);

}  // namespace emu
