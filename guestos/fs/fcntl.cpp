// fcntl and fcntl64 (fs/fcntl.c): descriptor flags, status flags, pipe sizes, seals and
// record locks.
#include <fcntl.h>

#include <cerrno>

#include "guestos/fs/internal.h"
#include "guestos/fs/pipe.h"
#include "guestos/include/filelock.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/mm/shmem.h"

namespace guestos {

namespace {

// What fcntl may do to an O_PATH file (check_fcntl_cmd): duplicate it, its FD_CLOEXEC, and
// read its status flags.
bool check_fcntl_cmd(uint64_t cmd) {
    return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_GETFD || cmd == F_SETFD || cmd == F_GETFL;
}

}  // namespace

// fcntl: i386's old fcntl has no 64-bit or OFD lock commands (compat_sys_fcntl); fcntl64 has.
long do_fcntl(SysCtx& c, const uint64_t* a) {
    auto f = fdget_raw(c, a[0]);
    if (!f) return -EBADF;
    if ((f->f_flags & O_PATH_) && !check_fcntl_cmd(a[1])) return -EBADF;
    switch (a[1]) {
    case F_DUPFD: return f_dupfd(c, a[2], f, false);
    case F_DUPFD_CLOEXEC: return f_dupfd(c, a[2], f, true);
    case F_GETFD: return c.task.files->cloexec[static_cast<uint32_t>(a[0])] ? FD_CLOEXEC : 0;
    case F_SETFD: c.task.files->cloexec[static_cast<uint32_t>(a[0])] = a[2] & FD_CLOEXEC; return 0;
    case F_GETFL: return f->status_flags();
    case F_SETFL: return f->set_status_flags(static_cast<int>(a[2]));
    case F_SETPIPE_SZ:
    case F_GETPIPE_SZ: return pipe_fcntl(*f, static_cast<unsigned>(a[1]), static_cast<uint32_t>(a[2]));
    case F_ADD_SEALS_:
    case F_GET_SEALS_: return memfd_fcntl(*f, static_cast<unsigned>(a[1]), a[2]);
    case F_GETLK_:
    case F_SETLK_:
    case F_SETLKW_:
    case F_GETLK64_:
    case F_SETLK64_:
    case F_SETLKW64_:
    case F_OFD_GETLK_:
    case F_OFD_SETLK_:
    case F_OFD_SETLKW_: return fcntl_lock(c, *f, static_cast<int>(a[1]), a[2]);
    default: return -EINVAL;
    }
}
long sys_fcntl(SysCtx& c, const uint64_t* a) {
    if (c.compat && ((a[1] >= F_GETLK64_ && a[1] <= F_SETLKW64_) || (a[1] >= F_OFD_GETLK_ && a[1] <= F_OFD_SETLKW_)))
        return -EINVAL;
    return do_fcntl(c, a);
}
long sys_fcntl64(SysCtx& c, const uint64_t* a) { return do_fcntl(c, a); }

}  // namespace guestos
