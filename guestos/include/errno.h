// The kernel-internal errors of include/linux/errno.h: what a syscall interrupted by a
// signal returns. They never reach the guest: do_signal makes them EINTR or runs the
// syscall again (through restart_syscall for ERESTART_RESTARTBLOCK).
#pragma once

namespace guestos {

inline constexpr long ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516;
// An ioctl a layer does not know, for the next layer to try (never reaches the guest).
inline constexpr long ENOIOCTLCMD = 515;

}  // namespace guestos
