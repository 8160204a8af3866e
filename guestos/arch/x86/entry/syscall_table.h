// Syscall numbers of both ABIs mapped to one set of implementations, with strace's names.
#pragma once
#include <cstdint>

#include "guestos/include/sched.h"

namespace guestos {

// clang-format off
#define EMU_SYSCALLS(X)                                                                         \
    X(read) X(write) X(readv) X(writev) X(pread64) X(pwrite64) X(open) X(openat) X(close)      \
    X(stat) X(fstat) X(lstat) X(newfstatat) X(stat64) X(fstat64) X(lstat64) X(fstatat64)       \
    X(statx) X(lseek) X(llseek) X(ioctl) X(readlink) X(readlinkat) X(access) X(faccessat)      \
    X(faccessat2) X(brk) X(mmap) X(mmap_pgoff) X(old_mmap) X(munmap) X(mprotect) X(mremap)     \
    X(madvise) X(exit) X(exit_group) X(uname) X(arch_prctl) X(set_thread_area)                 \
    X(get_thread_area) X(set_tid_address) X(set_robust_list) X(rseq) X(prlimit64)              \
    X(getrlimit) X(ugetrlimit) X(old_getrlimit) X(setrlimit) X(getrandom) X(clock_gettime)     \
    X(clock_gettime64) X(clock_getres) X(clock_getres_time64) X(gettimeofday) X(time)          \
    X(getpid) X(getppid) X(gettid) X(getuid) X(geteuid) X(getgid) X(getegid) X(getuid16)       \
    X(geteuid16) X(getgid16) X(getegid16) X(rt_sigaction) X(rt_sigprocmask) X(sigaltstack)     \
    X(futex) X(futex_time64) X(futex_waitv) X(sched_yield) X(nanosleep) X(clock_nanosleep)     \
    X(clock_nanosleep_time64) X(kill) X(tkill) X(tgkill) X(getcwd) X(fcntl) X(fcntl64) X(dup)  \
    X(dup2) X(dup3) X(sched_getaffinity) X(getpgrp) X(getpgid) X(getsid) X(umask)             \
    X(rt_sigreturn) X(sigreturn) X(rt_sigpending) X(sigpending) X(rt_sigsuspend) X(pause)     \
    X(rt_sigqueueinfo) X(rt_tgsigqueueinfo) X(mincore) X(msync) X(mlock) X(mlock2) X(munlock)   \
    X(mlockall) X(munlockall) X(unlink) X(unlinkat) X(ftruncate) X(truncate) X(ftruncate64)       \
    X(truncate64) X(fsync) X(fdatasync) X(sync) X(syncfs) X(fadvise64) X(fadvise64_64) X(readahead) X(memfd_create) X(pipe) X(pipe2) X(getitimer)             \
    X(setitimer) X(alarm) X(restart_syscall) X(fallocate) X(getdents64) X(chdir) X(fchdir)    \
    X(fork) X(vfork) X(clone) X(clone3) X(wait4) X(waitid) X(waitpid) X(setpgid) X(setsid)       \
    X(execve) X(execveat) X(eventfd) X(eventfd2) X(poll) X(ppoll) X(ppoll_time64) X(select)  \
    X(old_select) X(pselect6) X(pselect6_time64) X(mkdir) X(mkdirat) X(mknod) X(mknodat) X(chroot) X(rmdir) X(symlink) \
    X(symlinkat) X(link) X(linkat) X(rename) X(renameat) X(renameat2) X(creat) X(chmod) \
    X(fchmod) X(fchmodat) X(chown) X(lchown) X(fchown) X(chown32) X(lchown32) X(fchown32) \
    X(fchownat) X(utimensat) X(utimensat_time64) X(utimes) X(futimesat) X(statfs) X(fstatfs) \
    X(statfs64) X(fstatfs64) X(flock) X(epoll_create) X(epoll_create1) X(epoll_ctl) \
    X(epoll_wait) X(epoll_pwait) X(epoll_pwait2) X(socket) X(socketpair) X(sendto) X(recvfrom) \
    X(sendmsg) X(recvmsg) X(shutdown) X(getsockopt) X(setsockopt) X(getsockname) X(getpeername) \
    X(bind) X(listen) X(connect) X(accept) X(accept4) X(sendmmsg) X(recvmmsg) X(recvmmsg_time64) \
    X(socketcall) X(prctl) X(getrusage) X(times) X(sysinfo) X(sched_setaffinity) X(getcpu) \
    X(swapon) X(swapoff) X(timer_create) X(timer_settime) X(timer_settime64) X(timer_gettime) \
    X(timer_gettime64) X(timer_getoverrun) X(timer_delete) X(rt_sigtimedwait) \
    X(rt_sigtimedwait_time64) X(timerfd_create) X(timerfd_settime) X(timerfd_settime64) \
    X(timerfd_gettime) X(timerfd_gettime64) X(signalfd) X(signalfd4) \
    X(setuid) X(setgid) X(setreuid) X(setregid) X(setresuid) X(setresgid) \
    X(getresuid) X(getresgid) X(setfsuid) X(setfsgid) X(getgroups) X(setgroups) X(setuid16)   \
    X(setgid16) X(setreuid16) X(setregid16) X(setresuid16) X(setresgid16) X(getresuid16)       \
    X(getresgid16) X(setfsuid16) X(setfsgid16) X(getgroups16) X(setgroups16) X(capget) X(capset) \
    X(shmget) X(shmat) X(shmdt) X(shmctl) X(ipc) X(msgget) X(msgsnd) X(msgrcv) X(msgctl) \
    X(semget) X(semop) X(semtimedop) X(semtimedop_time64) X(semctl) \
    X(getpriority) X(setpriority) X(nice) X(sched_setscheduler) X(sched_setparam)                \
    X(sched_getscheduler) X(sched_getparam) X(sched_setattr) X(sched_getattr)                    \
    X(sched_get_priority_max) X(sched_get_priority_min) X(sched_rr_get_interval)                 \
    X(sched_rr_get_interval_time64) X(personality) X(sethostname) X(setdomainname) X(utime)      \
    X(getdents) X(close_range) X(get_robust_list) X(kcmp) X(membarrier) X(syslog) X(ioprio_get)  \
    X(ioprio_set) X(preadv) X(pwritev) X(preadv2) X(pwritev2)      \
    X(sendfile) X(sendfile64) X(splice) X(tee) X(vmsplice) X(copy_file_range) X(sync_file_range) \
    X(pidfd_open) X(pidfd_send_signal) X(pidfd_getfd) X(process_vm_readv) X(process_vm_writev) \
    X(setxattr) X(lsetxattr) X(fsetxattr) X(getxattr) X(lgetxattr) X(fgetxattr) X(listxattr) X(llistxattr) \
    X(flistxattr) X(removexattr) X(lremovexattr) X(fremovexattr) \
    X(inotify_init) X(inotify_init1) X(inotify_add_watch) X(inotify_rm_watch) X(openat2) \
    X(mq_open) X(mq_unlink) X(mq_timedsend) X(mq_timedsend_time64) X(mq_timedreceive) \
    X(mq_timedreceive_time64) X(mq_notify) X(mq_getsetattr) \
    X(mount) X(umount2) X(oldumount) X(pkey_alloc) X(pkey_free) X(pkey_mprotect) \
    X(remap_file_pages) X(modify_ldt) X(process_madvise)
// clang-format on

enum class Sys : uint16_t {
#define EMU_SYS_ENUM(name) name,
    EMU_SYSCALLS(EMU_SYS_ENUM)
#undef EMU_SYS_ENUM
        unknown
};

// One row of an ABI's table: what strace calls it, what runs, how its arguments print.
// Argument kinds: d int, u unsigned, x hex/pointer, s string, b buffer (length is the next
// argument), B output buffer (length is the result), f fd, o octal, P prot, M mmap flags,
// S signal; the optional result kind after ':' is x (hex, e.g. mmap and brk).
struct SyscallEntry {
    uint64_t nr;
    const char* name;
    Sys sys;
    const char* args;
};

// Rows whose name, number macro and argument kinds are the same in both ABIs; each table
// expands them under its own <asm/unistd_*.h>, so __NR_name takes that ABI's number.
// clang-format off
#define EMU_COMMON_SYSCALL_ROWS(E) \
    E(read, read, "fBu"), E(write, write, "fbu"), E(readv, readv, "fxd"), \
    E(writev, writev, "fxd"), E(pread64, pread64, "fBud"), E(pwrite64, pwrite64, "fbud"), \
    E(open, open, "sxo"), E(openat, openat, "fsxo"), E(close, close, "f"), \
    E(statx, statx, "fsxux"), E(lseek, lseek, "fdd"), E(ioctl, ioctl, "fxx"), \
    E(readlink, readlink, "sxu"), E(readlinkat, readlinkat, "fsxu"), E(access, access, "so"), \
    E(faccessat, faccessat, "fso"), E(faccessat2, faccessat2, "fsox"), E(brk, brk, "x:x"), \
    E(munmap, munmap, "xu"), E(mprotect, mprotect, "xuP"), E(mremap, mremap, "xuuxx:x"), \
    E(madvise, madvise, "xud"), E(exit, exit, "d"), E(exit_group, exit_group, "d"), \
    E(uname, uname, "x"), E(set_tid_address, set_tid_address, "x"), \
    E(set_robust_list, set_robust_list, "xu"), E(rseq, rseq, "xuxx"), \
    E(prlimit64, prlimit64, "ddxx"), E(setrlimit, setrlimit, "dx"), \
    E(getrandom, getrandom, "Bux"), E(clock_gettime, clock_gettime, "dx"), \
    E(clock_getres, clock_getres, "dx"), E(gettimeofday, gettimeofday, "xx"), \
    E(time, time, "x"), E(getpid, getpid, ""), E(getppid, getppid, ""), E(gettid, gettid, ""), \
    E(rt_sigaction, rt_sigaction, "Sxxu"), E(rt_sigprocmask, rt_sigprocmask, "dxxu"), \
    E(sigaltstack, sigaltstack, "xx"), E(futex, futex, "xddxxd"), \
    E(futex_waitv, futex_waitv, "xuxxd"), \
    E(sched_yield, sched_yield, ""), E(nanosleep, nanosleep, "xx"), \
    E(clock_nanosleep, clock_nanosleep, "ddxx"), E(kill, kill, "dS"), E(tkill, tkill, "dS"), \
    E(tgkill, tgkill, "ddS"), E(getcwd, getcwd, "xu"), E(fcntl, fcntl, "fdx"), \
    E(dup, dup, "f"), E(dup2, dup2, "ff"), E(dup3, dup3, "ffx"), \
    E(sched_getaffinity, sched_getaffinity, "dux"), E(getpgrp, getpgrp, ""), \
    E(getpgid, getpgid, "d"), E(getsid, getsid, "d"), E(umask, umask, "o"), \
    E(rt_sigreturn, rt_sigreturn, ""), E(rt_sigpending, rt_sigpending, "xu"), \
    E(rt_sigsuspend, rt_sigsuspend, "xu"), E(pause, pause, ""), \
    E(rt_sigqueueinfo, rt_sigqueueinfo, "dSx"), \
    E(rt_tgsigqueueinfo, rt_tgsigqueueinfo, "ddSx"), E(mincore, mincore, "xux"), \
    E(swapon, swapon, "sx"), E(swapoff, swapoff, "s"), E(msync, msync, "xux"), \
    E(mlock, mlock, "xu"), E(mlock2, mlock2, "xux"), E(munlock, munlock, "xu"), \
    E(mlockall, mlockall, "x"), E(munlockall, munlockall, ""), E(unlink, unlink, "s"), \
    E(unlinkat, unlinkat, "fsx"), E(ftruncate, ftruncate, "fd"), E(truncate, truncate, "sd"), \
    E(fsync, fsync, "f"), E(fdatasync, fdatasync, "f"), E(sync, sync, ""), \
    E(syncfs, syncfs, "f"), E(memfd_create, memfd_create, "sx"), \
    E(getdents64, getdents64, "fxu"), E(chdir, chdir, "s"), E(fchdir, fchdir, "f"), \
    E(pipe, pipe, "x"), E(pipe2, pipe2, "xo"), E(getitimer, getitimer, "dx"), \
    E(setitimer, setitimer, "dxx"), E(alarm, alarm, "u"), \
    E(restart_syscall, restart_syscall, ""), E(fork, fork, ""), E(vfork, vfork, ""), \
    E(clone, clone, "xxxxx"), E(clone3, clone3, "xu"), E(wait4, wait4, "dxxx"), \
    E(waitid, waitid, "ddxxx"), E(setpgid, setpgid, "dd"), E(setsid, setsid, ""), \
    E(execve, execve, "sxx"), E(execveat, execveat, "fsxxx"), E(eventfd, eventfd, "u"), \
    E(eventfd2, eventfd2, "ux"), E(poll, poll, "xud"), E(ppoll, ppoll, "xuxxu"), \
    E(pselect6, pselect6, "dxxxxx"), E(mkdir, mkdir, "so"), E(mkdirat, mkdirat, "fso"), \
    E(mknod, mknod, "sox"), E(mknodat, mknodat, "fsox"), E(chroot, chroot, "s"), \
    E(rmdir, rmdir, "s"), E(symlink, symlink, "ss"), E(symlinkat, symlinkat, "sfs"), \
    E(link, link, "ss"), E(linkat, linkat, "fsfsx"), E(rename, rename, "ss"), \
    E(renameat, renameat, "fsfs"), E(renameat2, renameat2, "fsfsx"), E(creat, creat, "so"), \
    E(chmod, chmod, "so"), E(fchmod, fchmod, "fo"), E(fchmodat, fchmodat, "fso"), \
    E(chown, chown, "sdd"), E(lchown, lchown, "sdd"), E(fchown, fchown, "fdd"), \
    E(fchownat, fchownat, "fsddx"), E(utimensat, utimensat, "fsxx"), E(utimes, utimes, "sx"), \
    E(futimesat, futimesat, "fsx"), E(statfs, statfs, "sx"), E(fstatfs, fstatfs, "fx"), \
    E(flock, flock, "fd"), E(epoll_create, epoll_create, "d"), \
    E(epoll_create1, epoll_create1, "x"), E(epoll_ctl, epoll_ctl, "fdfx"), \
    E(epoll_wait, epoll_wait, "fxdd"), E(epoll_pwait, epoll_pwait, "fxddxu"), \
    E(epoll_pwait2, epoll_pwait2, "fxdxxu"), E(socket, socket, "ddd"), \
    E(socketpair, socketpair, "dddx"), E(sendto, sendto, "fbuxxu"), \
    E(recvfrom, recvfrom, "fxuxxx"), E(sendmsg, sendmsg, "fxx"), E(recvmsg, recvmsg, "fxx"), \
    E(shutdown, shutdown, "fd"), E(getsockopt, getsockopt, "fddxx"), \
    E(setsockopt, setsockopt, "fddxu"), E(getsockname, getsockname, "fxx"), \
    E(getpeername, getpeername, "fxx"), E(bind, bind, "fxd"), E(listen, listen, "fd"), \
    E(connect, connect, "fxd"), E(accept4, accept4, "fxxx"), E(sendmmsg, sendmmsg, "fxux"), \
    E(recvmmsg, recvmmsg, "fxuxx"), E(prctl, prctl, "dxxxx"), E(getrusage, getrusage, "dx"), \
    E(times, times, "x"), E(sysinfo, sysinfo, "x"), \
    E(sched_setaffinity, sched_setaffinity, "dux"), E(getcpu, getcpu, "xxx"), \
    E(timer_create, timer_create, "dxx"), E(timer_settime, timer_settime, "ddxx"), \
    E(timer_gettime, timer_gettime, "dx"), E(timer_getoverrun, timer_getoverrun, "d"), \
    E(timer_delete, timer_delete, "d"), E(rt_sigtimedwait, rt_sigtimedwait, "xxxu"), \
    E(timerfd_create, timerfd_create, "dx"), E(timerfd_settime, timerfd_settime, "fdxx"), \
    E(timerfd_gettime, timerfd_gettime, "fx"), E(signalfd, signalfd, "fxu"), \
    E(signalfd4, signalfd4, "fxux"), E(capget, capget, "xx"), E(capset, capset, "xx"), \
    E(shmget, shmget, "dud"), E(shmat, shmat, "dxd:x"), E(shmdt, shmdt, "x"), \
    E(shmctl, shmctl, "ddx"), E(msgget, msgget, "dd"), E(msgsnd, msgsnd, "dxud"), \
    E(msgrcv, msgrcv, "dxudd"), E(msgctl, msgctl, "ddx"), E(semget, semget, "ddd"), \
    E(semctl, semctl, "dddx"), E(getpriority, getpriority, "dd"), \
    E(setpriority, setpriority, "ddd"), E(sched_setscheduler, sched_setscheduler, "ddx"), \
    E(sched_setparam, sched_setparam, "dx"), E(sched_getscheduler, sched_getscheduler, "d"), \
    E(sched_getparam, sched_getparam, "dx"), E(sched_setattr, sched_setattr, "dxu"), \
    E(sched_getattr, sched_getattr, "dxuu"), \
    E(sched_get_priority_max, sched_get_priority_max, "d"), \
    E(sched_get_priority_min, sched_get_priority_min, "d"), \
    E(sched_rr_get_interval, sched_rr_get_interval, "dx"), E(personality, personality, "x"), \
    E(sethostname, sethostname, "sd"), E(setdomainname, setdomainname, "sd"), \
    E(utime, utime, "sx"), E(getdents, getdents, "fxu"), E(close_range, close_range, "uux"), \
    E(get_robust_list, get_robust_list, "dxx"), E(kcmp, kcmp, "dddxx"), \
    E(membarrier, membarrier, "dud"), E(syslog, syslog, "dxd"), \
    E(ioprio_get, ioprio_get, "dd"), E(ioprio_set, ioprio_set, "ddx"), \
    E(sendfile, sendfile, "ffxu"), E(splice, splice, "fxfxux"), E(tee, tee, "ffux"), \
    E(vmsplice, vmsplice, "fxux"), E(copy_file_range, copy_file_range, "fxfxux"), \
    E(pidfd_open, pidfd_open, "dx"), E(pidfd_send_signal, pidfd_send_signal, "fSxx"), \
    E(pidfd_getfd, pidfd_getfd, "ffx"), E(process_vm_readv, process_vm_readv, "dxuxux"), \
    E(process_vm_writev, process_vm_writev, "dxuxux"), E(setxattr, setxattr, "ssbux"), \
    E(lsetxattr, lsetxattr, "ssbux"), E(fsetxattr, fsetxattr, "fsbux"), \
    E(getxattr, getxattr, "ssBu"), E(lgetxattr, lgetxattr, "ssBu"), \
    E(fgetxattr, fgetxattr, "fsBu"), E(listxattr, listxattr, "sBu"), \
    E(llistxattr, llistxattr, "sBu"), E(flistxattr, flistxattr, "fBu"), \
    E(removexattr, removexattr, "ss"), E(lremovexattr, lremovexattr, "ss"), \
    E(fremovexattr, fremovexattr, "fs"), E(inotify_init, inotify_init, ""), \
    E(inotify_init1, inotify_init1, "x"), E(inotify_add_watch, inotify_add_watch, "fsx"), \
    E(inotify_rm_watch, inotify_rm_watch, "fd"), E(openat2, openat2, "fsxu"), \
    E(mq_open, mq_open, "sxox"), E(mq_unlink, mq_unlink, "s"), \
    E(mq_timedsend, mq_timedsend, "fbuux"), E(mq_timedreceive, mq_timedreceive, "fBuxx"), \
    E(mq_notify, mq_notify, "fx"), E(mq_getsetattr, mq_getsetattr, "fxx"), \
    E(mount, mount, "sssxs"), E(umount2, umount2, "sx"), E(pkey_alloc, pkey_alloc, "xx"), \
    E(pkey_free, pkey_free, "d"), E(pkey_mprotect, pkey_mprotect, "xuPd"), \
    E(remap_file_pages, remap_file_pages, "xuPux"), \
    E(modify_ldt, modify_ldt, "dxu"), E(process_madvise, process_madvise, "fxudx")
// clang-format on

// The table row for nr in this ABI, or null.
const SyscallEntry* lookup_syscall(Abi abi, uint64_t nr);

}  // namespace guestos
