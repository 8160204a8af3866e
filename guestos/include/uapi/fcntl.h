// open flags, *at() flags and fcntl commands (uapi/asm-generic/fcntl.h, uapi/linux/fcntl.h):
// the same on i386 and x86-64.
#pragma once
#include <cstdint>

namespace guestos {

inline constexpr unsigned O_ACCMODE_ = 03, O_RDONLY_ = 00, O_WRONLY_ = 01, O_RDWR_ = 02;
inline constexpr unsigned O_CREAT_ = 0100, O_EXCL_ = 0200, O_NOCTTY_ = 0400, O_TRUNC_ = 01000, O_APPEND_ = 02000,
                          O_NONBLOCK_ = 04000, O_DSYNC_ = 010000, O_ASYNC_ = 020000, O_DIRECT_ = 040000,
                          O_LARGEFILE_ = 0100000, O_DIRECTORY_ = 0200000, O_NOFOLLOW_ = 0400000, O_NOATIME_ = 01000000,
                          O_CLOEXEC_ = 02000000, O_SYNC_ = 04010000, O_PATH_ = 010000000, O_TMPFILE_ = 020200000;

inline constexpr int AT_FDCWD_ = -100;
inline constexpr unsigned AT_SYMLINK_NOFOLLOW_ = 0x100, AT_REMOVEDIR_ = 0x200, AT_SYMLINK_FOLLOW_ = 0x400,
                          AT_EACCESS_ = 0x200, AT_NO_AUTOMOUNT_ = 0x800, AT_EMPTY_PATH_ = 0x1000;

inline constexpr int F_DUPFD_ = 0, F_GETFD_ = 1, F_SETFD_ = 2, F_GETFL_ = 3, F_SETFL_ = 4, F_GETLK_ = 5, F_SETLK_ = 6,
                     F_SETLKW_ = 7, F_SETOWN_ = 8, F_GETOWN_ = 9, F_GETLK64_ = 12, F_SETLK64_ = 13, F_SETLKW64_ = 14,
                     F_OFD_GETLK_ = 36, F_OFD_SETLK_ = 37, F_OFD_SETLKW_ = 38, F_DUPFD_CLOEXEC_ = 1030,
                     F_SETPIPE_SZ_ = 1031, F_GETPIPE_SZ_ = 1032, F_ADD_SEALS_ = 1033, F_GET_SEALS_ = 1034;
inline constexpr int FD_CLOEXEC_ = 1;
// memfd's seals (F_ADD_SEALS, F_GET_SEALS).
inline constexpr unsigned F_SEAL_SEAL_ = 0x1, F_SEAL_SHRINK_ = 0x2, F_SEAL_GROW_ = 0x4, F_SEAL_WRITE_ = 0x8,
                          F_SEAL_FUTURE_WRITE_ = 0x10, F_SEAL_EXEC_ = 0x20;
inline constexpr unsigned F_ALL_SEALS_ =
    F_SEAL_SEAL_ | F_SEAL_SHRINK_ | F_SEAL_GROW_ | F_SEAL_WRITE_ | F_SEAL_FUTURE_WRITE_ | F_SEAL_EXEC_;
inline constexpr unsigned RENAME_NOREPLACE_ = 1, RENAME_EXCHANGE_ = 2, RENAME_WHITEOUT_ = 4;
// struct flock's l_type and flock(2)'s operations (uapi/asm-generic/fcntl.h).
inline constexpr int F_RDLCK_ = 0, F_WRLCK_ = 1, F_UNLCK_ = 2;
inline constexpr int LOCK_SH_ = 1, LOCK_EX_ = 2, LOCK_NB_ = 4, LOCK_UN_ = 8;
// utimensat's special nanoseconds (uapi/linux/stat.h).
inline constexpr long UTIME_NOW_ = (1l << 30) - 1, UTIME_OMIT_ = (1l << 30) - 2;
// sync_file_range's flags (uapi/linux/fs.h).
inline constexpr unsigned SYNC_FILE_RANGE_WAIT_BEFORE_ = 1, SYNC_FILE_RANGE_WRITE_ = 2, SYNC_FILE_RANGE_WAIT_AFTER_ = 4;
// splice, tee and vmsplice's flags (linux/splice.h).
inline constexpr unsigned SPLICE_F_MOVE_ = 1, SPLICE_F_NONBLOCK_ = 2, SPLICE_F_MORE_ = 4, SPLICE_F_GIFT_ = 8,
                          SPLICE_F_ALL_ = 0xf;
// preadv2/pwritev2's flags (uapi/linux/fs.h).
inline constexpr uint32_t RWF_HIPRI_ = 0x1, RWF_DSYNC_ = 0x2, RWF_SYNC_ = 0x4, RWF_NOWAIT_ = 0x8, RWF_APPEND_ = 0x10,
                          RWF_NOAPPEND_ = 0x20, RWF_ATOMIC_ = 0x40, RWF_DONTCACHE_ = 0x80, RWF_NOSIGNAL_ = 0x100,
                          RWF_SUPPORTED_ = 0x1ff;

// posix_fadvise's advice (linux/fadvise.h).
inline constexpr int POSIX_FADV_NORMAL_ = 0, POSIX_FADV_RANDOM_ = 1, POSIX_FADV_SEQUENTIAL_ = 2,
                     POSIX_FADV_WILLNEED_ = 3, POSIX_FADV_DONTNEED_ = 4, POSIX_FADV_NOREUSE_ = 5;

}  // namespace guestos
