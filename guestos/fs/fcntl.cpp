// fcntl and fcntl64 (fs/fcntl.c): descriptor flags, status flags, pipe sizes, seals, record
// locks, leases and the SIGIO owner and signal.
#include <fcntl.h>

#include <cerrno>

#include "guestos/fs/internal.h"
#include "guestos/fs/pipe.h"
#include "guestos/include/filelock.h"
#include "guestos/include/kernel.h"
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

// The fcntl commands of the SIGIO owner and signal and of leases (uapi/linux/fcntl.h).
constexpr uint64_t F_SETSIG_ = 10, F_GETSIG_ = 11, F_SETLEASE_ = 1024, F_GETLEASE_ = 1025;

// F_SETOWN (f_setown): a process, or a process group as a negative number; ESRCH for none.
long f_setown(SysCtx& c, file& f, int who) {
    if (who == INT32_MIN) return -EINVAL;
    const int pid = who < 0 ? -who : who;
    if (pid) {
        bool found = false;
        for (const task_struct* t : c.kernel.all_tasks())
            if (!t->exited && (who > 0 ? t->pid == pid : t->signal->pgrp == pid)) found = true;
        if (!found) return -ESRCH;
    }
    f.f_owner_pid = who;
    return 0;
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
    case F_SETOWN_: return f_setown(c, *f, static_cast<int>(a[2]));
    case F_GETOWN_: return f->f_owner_pid;
    case F_SETSIG_:  // valid_signal: 0 (SIGIO) to _NSIG
        if (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int>(a[2]))) > KERNEL_NSIG) return -EINVAL;
        f->f_owner_signum = static_cast<int>(a[2]);
        return 0;
    case F_GETSIG_: return f->f_owner_signum;
    case F_SETLEASE_: return fcntl_setlease(c, static_cast<int>(a[0]), *f, static_cast<int>(a[2]));
    case F_GETLEASE_: return fcntl_getlease(*f);
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
