// wait4/waitid options and idtypes (uapi/linux/wait.h), and the CLD_* si_codes of SIGCHLD.
#pragma once

namespace guestos {

inline constexpr int WNOHANG_ = 0x00000001, WUNTRACED_ = 0x00000002, WSTOPPED_ = 0x00000002, WEXITED_ = 0x00000004,
                     WCONTINUED_ = 0x00000008, WNOWAIT_ = 0x01000000, __WNOTHREAD_ = 0x20000000, __WALL_ = 0x40000000,
                     __WCLONE_ = 0x80000000;
inline constexpr int P_ALL_ = 0, P_PID_ = 1, P_PGID_ = 2, P_PIDFD_ = 3;
inline constexpr int CLD_EXITED_ = 1, CLD_KILLED_ = 2, CLD_DUMPED_ = 3, CLD_TRAPPED_ = 4, CLD_STOPPED_ = 5,
                     CLD_CONTINUED_ = 6;

}  // namespace guestos
