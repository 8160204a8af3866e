// Signals the host sends emu itself (kernel/signal.cpp): emu is the guest's whole machine,
// so its terminal's and its users' signals are the guest's. Apart from signal.h, so that
// code which includes the host's <signal.h> can use it.
#pragma once
#include <cstdint>

namespace guestos {

class Kernel;

// note_host_signal runs in the host's signal handler (async-signal-safe) and only notes
// the signal; deliver_host_signals sends what was noted: a terminal's (from_terminal:
// Ctrl-C, Ctrl-\, Ctrl-Z, a resize, a hang-up) to the console's foreground process group
// with SI_KERNEL, as the tty's isig does; a kill(2) of emu to the first program, from a
// sender outside the guest's pid namespace (si_pid 0); SIGCONT to the foreground group.
void note_host_signal(int sig, bool from_terminal, uint32_t sender_uid) noexcept;
bool host_signals_pending() noexcept;
void deliver_host_signals(Kernel& k);
// A terminal's stop signal was passed on and the first program has stopped: the signal
// emu should stop itself with now, so that the shell that runs it sees its job stop (once
// per stop); else 0.
int host_stop_due(Kernel& k);

}  // namespace guestos
