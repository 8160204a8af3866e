// The x86-64 syscall table (numbers from asm/unistd_64.h).
#include <array>

#include "guestos/arch/x86/entry/syscall_table.h"
// Last: another header may pull in the other ABI's numbers; these must win.
#include <asm/unistd_64.h>

namespace guestos {

namespace {
#define E(nrname, sys, args) \
    SyscallEntry { __NR_##nrname, #nrname, Sys::sys, args }
// clang-format off
const SyscallEntry table64[] = {
    E(read, read, "fBu"), E(write, write, "fbu"), E(readv, readv, "fxd"), E(writev, writev, "fxd"),
    E(pread64, pread64, "fBud"), E(pwrite64, pwrite64, "fbud"),
    E(open, open, "sxo"), E(openat, openat, "fsxo"), E(close, close, "f"),
    E(stat, stat, "sx"), E(fstat, fstat, "fx"), E(lstat, lstat, "sx"),
    E(newfstatat, newfstatat, "fsxx"), E(statx, statx, "fsxux"), E(lseek, lseek, "fdd"),
    E(ioctl, ioctl, "fxx"), E(readlink, readlink, "sxu"), E(readlinkat, readlinkat, "fsxu"),
    E(access, access, "so"), E(faccessat, faccessat, "fso"), E(faccessat2, faccessat2, "fsox"),
    E(brk, brk, "x:x"), E(mmap, mmap, "xuPMfx:x"), E(munmap, munmap, "xu"),
    E(mprotect, mprotect, "xuP"), E(mremap, mremap, "xuuxx:x"), E(madvise, madvise, "xud"),
    E(exit, exit, "d"), E(exit_group, exit_group, "d"), E(uname, uname, "x"),
    E(arch_prctl, arch_prctl, "xx"), E(set_tid_address, set_tid_address, "x"),
    E(set_robust_list, set_robust_list, "xu"), E(rseq, rseq, "xuxx"),
    E(prlimit64, prlimit64, "ddxx"), E(getrlimit, getrlimit, "dx"), E(setrlimit, setrlimit, "dx"),
    E(getrandom, getrandom, "Bux"), E(clock_gettime, clock_gettime, "dx"),
    E(clock_getres, clock_getres, "dx"), E(gettimeofday, gettimeofday, "xx"), E(time, time, "x"),
    E(getpid, getpid, ""), E(getppid, getppid, ""), E(gettid, gettid, ""), E(getuid, getuid, ""),
    E(geteuid, geteuid, ""), E(getgid, getgid, ""), E(getegid, getegid, ""),
    E(rt_sigaction, rt_sigaction, "Sxxu"), E(rt_sigprocmask, rt_sigprocmask, "dxxu"),
    E(sigaltstack, sigaltstack, "xx"), E(futex, futex, "xddxxd"), E(sched_yield, sched_yield, ""),
    E(nanosleep, nanosleep, "xx"), E(clock_nanosleep, clock_nanosleep, "ddxx"),
    E(kill, kill, "dS"), E(tkill, tkill, "dS"), E(tgkill, tgkill, "ddS"), E(getcwd, getcwd, "xu"),
    E(fcntl, fcntl, "fdx"), E(dup, dup, "f"), E(dup2, dup2, "ff"), E(dup3, dup3, "ffx"),
    E(sched_getaffinity, sched_getaffinity, "dux"), E(getpgrp, getpgrp, ""),
    E(getpgid, getpgid, "d"), E(getsid, getsid, "d"), E(umask, umask, "o"),
    E(rt_sigreturn, rt_sigreturn, ""), E(rt_sigpending, rt_sigpending, "xu"),
    E(rt_sigsuspend, rt_sigsuspend, "xu"), E(pause, pause, ""), E(rt_sigqueueinfo, rt_sigqueueinfo, "dSx"),
    E(rt_tgsigqueueinfo, rt_tgsigqueueinfo, "ddSx"),
    E(mincore, mincore, "xux"), E(swapon, swapon, "sx"), E(swapoff, swapoff, "s"), E(msync, msync, "xux"), E(mlock, mlock, "xu"), E(mlock2, mlock2, "xux"),
    E(munlock, munlock, "xu"), E(mlockall, mlockall, "x"), E(munlockall, munlockall, ""),
    E(unlink, unlink, "s"), E(unlinkat, unlinkat, "fsx"), E(ftruncate, ftruncate, "fd"),
    E(truncate, truncate, "sd"), E(fsync, fsync, "f"), E(fdatasync, fdatasync, "f"), E(sync, sync, ""), E(syncfs, syncfs, "f"), E(fadvise64, fadvise64, "fddd"), E(readahead, readahead, "fdu"),
    E(memfd_create, memfd_create, "sx"), E(fallocate, fallocate, "fddd"),
    E(getdents64, getdents64, "fxu"), E(chdir, chdir, "s"), E(fchdir, fchdir, "f"),
    E(pipe, pipe, "x"), E(pipe2, pipe2, "xo"), E(getitimer, getitimer, "dx"), E(setitimer, setitimer, "dxx"),
    E(alarm, alarm, "u"), E(restart_syscall, restart_syscall, ""),
    E(fork, fork, ""), E(vfork, vfork, ""), E(clone, clone, "xxxxx"), E(clone3, clone3, "xu"),
    E(wait4, wait4, "dxxx"), E(waitid, waitid, "ddxxx"), E(setpgid, setpgid, "dd"), E(setsid, setsid, ""),
    E(execve, execve, "sxx"), E(execveat, execveat, "fsxxx"),
    E(eventfd, eventfd, "u"), E(eventfd2, eventfd2, "ux"),
    E(poll, poll, "xud"), E(ppoll, ppoll, "xuxxu"), E(select, select, "dxxxx"),
    E(pselect6, pselect6, "dxxxxx"),
    E(mkdir, mkdir, "so"), E(mkdirat, mkdirat, "fso"), E(mknod, mknod, "sox"), E(mknodat, mknodat, "fsox"), E(chroot, chroot, "s"), E(rmdir, rmdir, "s"), E(symlink, symlink, "ss"),
    E(symlinkat, symlinkat, "sfs"), E(link, link, "ss"), E(linkat, linkat, "fsfsx"), E(rename, rename, "ss"),
    E(renameat, renameat, "fsfs"), E(renameat2, renameat2, "fsfsx"), E(creat, creat, "so"),
    E(chmod, chmod, "so"), E(fchmod, fchmod, "fo"), E(fchmodat, fchmodat, "fso"), E(chown, chown, "sdd"),
    E(lchown, lchown, "sdd"), E(fchown, fchown, "fdd"), E(fchownat, fchownat, "fsddx"),
    E(utimensat, utimensat, "fsxx"), E(utimes, utimes, "sx"), E(futimesat, futimesat, "fsx"),
    E(statfs, statfs, "sx"), E(fstatfs, fstatfs, "fx"), E(flock, flock, "fd"),
    E(epoll_create, epoll_create, "d"), E(epoll_create1, epoll_create1, "x"), E(epoll_ctl, epoll_ctl, "fdfx"),
    E(epoll_wait, epoll_wait, "fxdd"), E(epoll_pwait, epoll_pwait, "fxddxu"), E(epoll_pwait2, epoll_pwait2, "fxdxxu"),
    E(socket, socket, "ddd"), E(socketpair, socketpair, "dddx"), E(sendto, sendto, "fbuxxu"),
    E(recvfrom, recvfrom, "fxuxxx"), E(sendmsg, sendmsg, "fxx"), E(recvmsg, recvmsg, "fxx"),
    E(shutdown, shutdown, "fd"), E(getsockopt, getsockopt, "fddxx"), E(setsockopt, setsockopt, "fddxu"),
    E(getsockname, getsockname, "fxx"), E(getpeername, getpeername, "fxx"),
    E(bind, bind, "fxd"), E(listen, listen, "fd"), E(connect, connect, "fxd"), E(accept, accept, "fxx"),
    E(accept4, accept4, "fxxx"), E(sendmmsg, sendmmsg, "fxux"), E(recvmmsg, recvmmsg, "fxuxx"),
    E(prctl, prctl, "dxxxx"), E(getrusage, getrusage, "dx"), E(times, times, "x"), E(sysinfo, sysinfo, "x"),
    E(sched_setaffinity, sched_setaffinity, "dux"), E(getcpu, getcpu, "xxx"),
    E(timer_create, timer_create, "dxx"), E(timer_settime, timer_settime, "ddxx"),
    E(timer_gettime, timer_gettime, "dx"), E(timer_getoverrun, timer_getoverrun, "d"),
    E(timer_delete, timer_delete, "d"), E(rt_sigtimedwait, rt_sigtimedwait, "xxxu"),
    E(timerfd_create, timerfd_create, "dx"), E(timerfd_settime, timerfd_settime, "fdxx"),
    E(timerfd_gettime, timerfd_gettime, "fx"), E(signalfd, signalfd, "fxu"), E(signalfd4, signalfd4, "fxux"),
    E(setuid, setuid, "u"), E(setgid, setgid, "u"), E(setreuid, setreuid, "uu"), E(setregid, setregid, "uu"),
    E(setresuid, setresuid, "uuu"), E(setresgid, setresgid, "uuu"), E(getresuid, getresuid, "xxx"),
    E(getresgid, getresgid, "xxx"), E(setfsuid, setfsuid, "u"), E(setfsgid, setfsgid, "u"),
    E(getgroups, getgroups, "dx"), E(setgroups, setgroups, "dx"), E(capget, capget, "xx"), E(capset, capset, "xx"),
    E(shmget, shmget, "dud"), E(shmat, shmat, "dxd:x"), E(shmdt, shmdt, "x"), E(shmctl, shmctl, "ddx"),
    E(msgget, msgget, "dd"), E(msgsnd, msgsnd, "dxud"), E(msgrcv, msgrcv, "dxudd"), E(msgctl, msgctl, "ddx"),
    E(semget, semget, "ddd"), E(semop, semop, "dxu"), E(semtimedop, semtimedop, "dxux"), E(semctl, semctl, "dddx"),
    E(getpriority, getpriority, "dd"), E(setpriority, setpriority, "ddd"),
    E(sched_setscheduler, sched_setscheduler, "ddx"), E(sched_setparam, sched_setparam, "dx"),
    E(sched_getscheduler, sched_getscheduler, "d"), E(sched_getparam, sched_getparam, "dx"),
    E(sched_setattr, sched_setattr, "dxu"), E(sched_getattr, sched_getattr, "dxuu"),
    E(sched_get_priority_max, sched_get_priority_max, "d"), E(sched_get_priority_min, sched_get_priority_min, "d"),
    E(sched_rr_get_interval, sched_rr_get_interval, "dx"), E(personality, personality, "x"),
    E(sethostname, sethostname, "sd"), E(setdomainname, setdomainname, "sd"), E(utime, utime, "sx"),
    E(getdents, getdents, "fxu"), E(close_range, close_range, "uux"), E(get_robust_list, get_robust_list, "dxx"),
    E(kcmp, kcmp, "dddxx"), E(membarrier, membarrier, "dud"), E(syslog, syslog, "dxd"),
    E(ioprio_get, ioprio_get, "dd"), E(ioprio_set, ioprio_set, "ddx"),
    E(preadv, preadv, "fxudd"), E(pwritev, pwritev, "fxudd"), E(preadv2, preadv2, "fxuddx"),
    E(pwritev2, pwritev2, "fxuddx"),
    E(sendfile, sendfile, "ffxu"), E(splice, splice, "fxfxux"), E(tee, tee, "ffux"), E(vmsplice, vmsplice, "fxux"),
    E(copy_file_range, copy_file_range, "fxfxux"), E(sync_file_range, sync_file_range, "fddx"),
    E(pidfd_open, pidfd_open, "dx"), E(pidfd_send_signal, pidfd_send_signal, "fSxx"), E(pidfd_getfd, pidfd_getfd, "ffx"),
    E(process_vm_readv, process_vm_readv, "dxuxux"), E(process_vm_writev, process_vm_writev, "dxuxux"),
    E(setxattr, setxattr, "ssbux"), E(lsetxattr, lsetxattr, "ssbux"), E(fsetxattr, fsetxattr, "fsbux"),
    E(getxattr, getxattr, "ssBu"), E(lgetxattr, lgetxattr, "ssBu"), E(fgetxattr, fgetxattr, "fsBu"),
    E(listxattr, listxattr, "sBu"), E(llistxattr, llistxattr, "sBu"), E(flistxattr, flistxattr, "fBu"),
    E(removexattr, removexattr, "ss"), E(lremovexattr, lremovexattr, "ss"), E(fremovexattr, fremovexattr, "fs"),
    E(inotify_init, inotify_init, ""), E(inotify_init1, inotify_init1, "x"),
    E(inotify_add_watch, inotify_add_watch, "fsx"), E(inotify_rm_watch, inotify_rm_watch, "fd"),
    E(openat2, openat2, "fsxu"),
    E(mq_open, mq_open, "sxox"), E(mq_unlink, mq_unlink, "s"), E(mq_timedsend, mq_timedsend, "fbuux"),
    E(mq_timedreceive, mq_timedreceive, "fBuxx"), E(mq_notify, mq_notify, "fx"), E(mq_getsetattr, mq_getsetattr, "fxx"),
    E(mount, mount, "sssxs"), E(umount2, umount2, "sx"),
};
// clang-format on
#undef E

// Direct index by number, built once.
struct Index {
    std::array<const SyscallEntry*, 512> by_nr{};
    Index() {
        for (const auto& e : table64)
            if (e.nr < by_nr.size()) by_nr[e.nr] = &e;
    }
};
}  // namespace

const SyscallEntry* lookup_syscall64(uint64_t nr) {
    static const Index index;
    return nr < index.by_nr.size() ? index.by_nr[nr] : nullptr;
}

}  // namespace guestos
