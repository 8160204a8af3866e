// Resource limits by name (uapi/asm-generic/resource.h): the index into task rlim[].
#pragma once

namespace guestos {

enum : int {
    RLIMIT_CPU_ = 0,
    RLIMIT_FSIZE_ = 1,
    RLIMIT_DATA_ = 2,
    RLIMIT_STACK_ = 3,
    RLIMIT_CORE_ = 4,
    RLIMIT_RSS_ = 5,
    RLIMIT_NPROC_ = 6,
    RLIMIT_NOFILE_ = 7,
    RLIMIT_MEMLOCK_ = 8,
    RLIMIT_AS_ = 9,
    RLIMIT_LOCKS_ = 10,
    RLIMIT_SIGPENDING_ = 11,
    RLIMIT_MSGQUEUE_ = 12,
    RLIMIT_NICE_ = 13,
    RLIMIT_RTPRIO_ = 14,
    RLIMIT_RTTIME_ = 15,
};
inline constexpr int RLIM_NLIMITS = 16;
inline constexpr unsigned long long RLIM_INFINITY_ = ~0ull;
// fs/file.c sysctl_nr_open: the ceiling of RLIMIT_NOFILE.
inline constexpr unsigned long NR_OPEN_DEFAULT_MAX = 1024 * 1024;

}  // namespace guestos
