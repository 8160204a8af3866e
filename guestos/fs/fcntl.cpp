// fcntl and fcntl64 (fs/fcntl.c): descriptor flags, status flags, pipe sizes, seals, record
// locks, leases and the SIGIO owner and signal.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "guestos/fs/internal.h"
#include "guestos/fs/pipe.h"
#include "guestos/include/fasync.h"
#include "guestos/include/filelock.h"
#include "guestos/include/kernel.h"
#include "guestos/include/namei.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/poll.h"
#include "guestos/mm/shmem.h"

namespace guestos {

namespace {

// What fcntl may do to an O_PATH file (check_fcntl_cmd): duplicate it, its FD_CLOEXEC, and
// read its status flags.
bool check_fcntl_cmd(uint64_t cmd) {
    return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_GETFD || cmd == F_SETFD || cmd == F_GETFL;
}

// The fcntl commands of the SIGIO owner and signal and of leases (uapi/linux/fcntl.h).
constexpr uint64_t F_SETSIG_ = 10, F_GETSIG_ = 11, F_SETOWN_EX_ = 15, F_GETOWN_EX_ = 16, F_GETOWNER_UIDS_ = 17,
                   F_SETLEASE_ = 1024, F_GETLEASE_ = 1025, F_CREATED_QUERY_ = 1028;

// Whether a pid number is in use (find_vpid): a thread's, or a process group's or
// session's while any process is in it.
bool find_vpid(Kernel& k, int nr) {
    for (const task_struct* t : k.all_tasks())
        if (t->pid == nr || t->signal->pgrp == nr || t->signal->session == nr) return true;
    return false;
}

// The owner's number if a task of its kind still has it, else 0 (pid_task + pid_vnr).
int f_owner_vnr(Kernel& k, const fown_struct& o) { return o.pid && fown_task(k, o) ? o.pid : 0; }

}  // namespace

long f_setown(SysCtx& c, file& f, int who) {
    if (who == INT32_MIN) return -EINVAL;
    const int pid = who < 0 ? -who : who;
    if (pid && !find_vpid(c.kernel, pid)) return -ESRCH;
    f_setown_current(f, pid, who < 0 ? PIDTYPE_PGID : PIDTYPE_TGID, true);
    return 0;
}

long f_getown(Kernel& k, const file& f) {
    const int pid = f_owner_vnr(k, f.f_owner);
    return f.f_owner.pid_type == PIDTYPE_PGID ? -pid : pid;
}

namespace {

// struct f_owner_ex and its types (uapi/asm-generic/fcntl.h).
struct f_owner_ex {
    int type;
    int pid;
};
constexpr int F_OWNER_TID = 0, F_OWNER_PID = 1, F_OWNER_PGRP = 2;

// F_SETOWN_EX (f_setown_ex): a thread, a process or a group by type; EINVAL for another
// type, ESRCH for a number not in use (0 clears the owner).
long f_setown_ex(SysCtx& c, file& f, uint64_t arg) {
    f_owner_ex owner;
    if (!copy_from_user(c.mm, &owner, VirtAddr(arg), sizeof owner)) return -EFAULT;
    fown_type type;
    switch (owner.type) {
    case F_OWNER_TID: type = PIDTYPE_PID; break;
    case F_OWNER_PID: type = PIDTYPE_TGID; break;
    case F_OWNER_PGRP: type = PIDTYPE_PGID; break;
    default: return -EINVAL;
    }
    const bool found = owner.pid > 0 && find_vpid(c.kernel, owner.pid);
    if (owner.pid && !found) return -ESRCH;
    f_setown_current(f, found ? owner.pid : 0, type, true);
    return 0;
}

// F_GETOWN_EX (f_getown_ex): the owner and its type; a file never given one says F_OWNER_TID.
long f_getown_ex(SysCtx& c, const file& f, uint64_t arg) {
    f_owner_ex owner{F_OWNER_TID, 0};
    if (f.f_owner.allocated) {
        owner.pid = f_owner_vnr(c.kernel, f.f_owner);
        owner.type = f.f_owner.pid_type == PIDTYPE_PID    ? F_OWNER_TID
                     : f.f_owner.pid_type == PIDTYPE_TGID ? F_OWNER_PID
                                                          : F_OWNER_PGRP;
    }
    return copy_to_user(c.mm, VirtAddr(arg), &owner, sizeof owner) ? 0 : -EFAULT;
}

// F_GETOWNER_UIDS (f_getowner_uids, CONFIG_CHECKPOINT_RESTORE): the uid and euid of whoever
// set the owner.
long f_getowner_uids(SysCtx& c, const file& f, uint64_t arg) {
    const uint32_t src[2] = {f.f_owner.uid, f.f_owner.euid};
    return copy_to_user(c.mm, VirtAddr(arg), src, sizeof src) ? 0 : -EFAULT;
}

// F_SETFL (setfl): O_APPEND, O_NONBLOCK, O_DIRECT and O_NOATIME; O_ASYNC through the file's
// fasync, which sets or clears FASYNC itself (a file without one keeps its flag as it is).
long setfl(int fd, file& f, unsigned arg) {
    if ((arg & O_NOATIME_) && !(f.f_flags & O_NOATIME_) && f.f_inode && !inode_owner_or_capable(*f.f_inode))
        return -EPERM;
    if (((arg ^ f.f_flags) & O_ASYNC_) && f.has_fasync()) {
        const int e = f.fasync(fd, (arg & O_ASYNC_) != 0);
        if (e < 0) return e;
    }
    return f.set_status_flags(static_cast<int>((arg & ~O_ASYNC_) | (f.f_flags & O_ASYNC_)));
}

}  // namespace

void f_setown_current(file& f, int pid, int pid_type, bool force) {
    fown_struct& o = f.f_owner;
    o.allocated = true;
    if (!force && o.pid) return;  // f_modown
    o.pid = pid;
    o.pid_type = static_cast<fown_type>(pid_type);
    if (pid) {
        o.uid = current_cred().uid;
        o.euid = current_cred().euid;
    }
}

task_struct* fown_task(Kernel& k, const fown_struct& o) {
    for (task_struct* t : k.all_tasks()) {
        if (t->exit_state == EXIT_DEAD) continue;
        if (o.pid_type == PIDTYPE_PID    ? t->pid == o.pid
            : o.pid_type == PIDTYPE_TGID ? t->pid == o.pid && t->thread_group_leader()
                                         : t->thread_group_leader() && t->signal->pgrp == o.pid)
            return t;
    }
    return nullptr;
}

namespace {

// Whether the owner's setter may signal p (sigio_perm): root, or its uid or euid is p's
// uid or saved uid.
bool sigio_perm(const task_struct& p, const fown_struct& fown) {
    const cred& cr = p.cred;
    return fown.euid == 0 || fown.euid == cr.suid || fown.euid == cr.uid || fown.uid == cr.suid || fown.uid == cr.uid;
}

// The signals whose positive si_codes mean something of their own (sig_specific_sicodes).
bool sig_specific_sicodes(int sig) {
    return sig == SIGILL_ || sig == SIGFPE_ || sig == SIGSEGV_ || sig == SIGBUS_ || sig == SIGTRAP_ ||
           sig == SIGCHLD_ || sig == SIGIO_ || sig == SIGSYS_;
}

// The poll bands of each POLL_* reason (band_table).
constexpr uint32_t band_table[] = {
    EPOLLIN_ | EPOLLRDNORM_,                  // POLL_IN
    EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_,  // POLL_OUT
    EPOLLIN_ | EPOLLRDNORM_ | EPOLLMSG_,      // POLL_MSG
    EPOLLERR_,                                // POLL_ERR
    EPOLLPRI_ | EPOLLRDBAND_,                 // POLL_PRI
    EPOLLHUP_ | EPOLLERR_,                    // POLL_HUP
};

void send_sigio_to_task(task_struct& p, const fown_struct& fown, int fd, int reason, bool group) {
    if (!sigio_perm(p, fown)) return;
    kernel_siginfo si;
    if (fown.signum) {
        si.si_signo = fown.signum;
        si.si_code = fown.signum != SIGIO_ && sig_specific_sicodes(fown.signum) ? SI_SIGIO : reason;
        si.addr = reason >= POLL_IN_ && reason <= POLL_HUP_ ? band_table[reason - POLL_IN_] : ~0ull;
        si.fd = fd;
    } else {  // plain SIGIO from the kernel (SEND_SIG_PRIV)
        si.si_signo = SIGIO_;
        si.si_code = SI_KERNEL;
    }
    if (group) send_signal_group(p, si, false);
    else send_signal(p, si, false);
}

}  // namespace

void send_sigio(const fown_struct& fown, int fd, int band) {
    task_struct* cur = get_current();
    if (!fown.pid || !cur || !cur->kernel) return;
    Kernel& k = *cur->kernel;
    if (fown.pid_type != PIDTYPE_PGID) {  // the thread with that number, or its process
        for (task_struct* t : k.all_tasks())
            if (t->pid == fown.pid && !t->exit_state) {
                send_sigio_to_task(*t, fown, fd, band, fown.pid_type != PIDTYPE_PID);
                return;
            }
        return;
    }
    for (task_struct* t : k.all_tasks())
        if (t->thread_group_leader() && !t->exit_state && t->signal->pgrp == fown.pid)
            send_sigio_to_task(*t, fown, fd, band, true);
}

int fasync_helper(int fd, file& f, bool on, fasync_list& list) {
    auto it = std::find_if(list.begin(), list.end(), [&](const fasync_struct& fa) { return fa.fa_file == &f; });
    if (!on) {
        if (it == list.end()) return 0;
        list.erase(it);
        f.f_flags &= ~O_ASYNC_;
        return 1;
    }
    if (it != list.end()) {
        it->fa_fd = fd;
        return 0;
    }
    list.push_back({&f, fd});
    f.f_flags |= O_ASYNC_;
    return 1;
}

void kill_fasync(const fasync_list& list, int sig, int band) {
    if (list.empty()) return;               // the common case: nobody asked
    for (const fasync_struct& fa : list) {  // send_sigio wakes tasks, never runs them
        const fown_struct& fown = fa.fa_file->f_owner;
        if (!(sig == SIGURG_ && fown.signum == 0)) send_sigio(fown, fa.fa_fd, band);
    }
}

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
    case F_SETFL: return setfl(static_cast<int>(a[0]), *f, static_cast<unsigned>(a[2]));
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
    case F_GETOWN_: return f_getown(c.kernel, *f);
    case F_SETOWN_EX_: return f_setown_ex(c, *f, a[2]);
    case F_GETOWN_EX_: return f_getown_ex(c, *f, a[2]);
    case F_GETOWNER_UIDS_: return f_getowner_uids(c, *f, a[2]);
    case F_SETSIG_:  // valid_signal: 0 (SIGIO) to _NSIG
        if (a[2] > KERNEL_NSIG) return -EINVAL;
        f->f_owner.signum = static_cast<int>(a[2]);
        f->f_owner.allocated = true;
        return 0;
    case F_GETSIG_: return f->f_owner.signum;
    case F_SETLEASE_: return fcntl_setlease(c, static_cast<int>(a[0]), *f, static_cast<int>(a[2]));
    case F_GETLEASE_: return fcntl_getlease(*f);
    case F_CREATED_QUERY_: return (f->f_mode & FMODE_CREATED) != 0;  // f_created_query
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
