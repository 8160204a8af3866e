// Credentials (include/linux/cred.h): the guest runs with emu's own identity, so its
// capabilities are the host process's (a root in a container may lack some, and then
// Linux refuses what needs them: emu must refuse the same).
#pragma once

namespace guestos {

// Capability numbers (uapi/linux/capability.h).
inline constexpr int CAP_CHOWN_ = 0, CAP_DAC_OVERRIDE_ = 1, CAP_FOWNER_ = 3, CAP_FSETID_ = 4, CAP_KILL_ = 5,
                     CAP_SETGID_ = 6, CAP_SETUID_ = 7, CAP_IPC_LOCK_ = 14, CAP_SYS_ADMIN_ = 21,
                     CAP_SYS_NICE_ = 23, CAP_SYS_RESOURCE_ = 24,
                     CAP_WAKE_ALARM_ = 35;

// capable(): whether the guest holds the capability in its effective set.
bool capable(int cap);

}  // namespace guestos
