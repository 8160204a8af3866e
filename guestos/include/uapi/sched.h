// clone flags (uapi/linux/sched.h) and scheduling policies.
#pragma once
#include <cstdint>

namespace guestos {

inline constexpr uint64_t CSIGNAL_ = 0x000000ff;
inline constexpr uint64_t CLONE_VM_ = 0x00000100, CLONE_FS_ = 0x00000200, CLONE_FILES_ = 0x00000400,
                          CLONE_SIGHAND_ = 0x00000800, CLONE_PIDFD_ = 0x00001000, CLONE_PTRACE_ = 0x00002000,
                          CLONE_VFORK_ = 0x00004000, CLONE_PARENT_ = 0x00008000, CLONE_THREAD_ = 0x00010000,
                          CLONE_NEWNS_ = 0x00020000, CLONE_SYSVSEM_ = 0x00040000, CLONE_SETTLS_ = 0x00080000,
                          CLONE_PARENT_SETTID_ = 0x00100000, CLONE_CHILD_CLEARTID_ = 0x00200000,
                          CLONE_DETACHED_ = 0x00400000, CLONE_UNTRACED_ = 0x00800000, CLONE_CHILD_SETTID_ = 0x01000000,
                          CLONE_NEWCGROUP_ = 0x02000000, CLONE_NEWUTS_ = 0x04000000, CLONE_NEWIPC_ = 0x08000000,
                          CLONE_NEWUSER_ = 0x10000000, CLONE_NEWPID_ = 0x20000000, CLONE_NEWNET_ = 0x40000000,
                          CLONE_IO_ = 0x80000000, CLONE_CLEAR_SIGHAND_ = 0x100000000ull,
                          CLONE_INTO_CGROUP_ = 0x200000000ull;
inline constexpr int SCHED_NORMAL_ = 0, SCHED_FIFO_ = 1, SCHED_RR_ = 2, SCHED_BATCH_ = 3, SCHED_IDLE_ = 5,
                     SCHED_DEADLINE_ = 6;

}  // namespace guestos
