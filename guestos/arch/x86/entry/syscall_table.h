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
    X(futex) X(futex_time64) X(sched_yield) X(nanosleep) X(clock_nanosleep)                    \
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
    X(mount) X(umount2) X(oldumount)
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

// The table row for nr in this ABI, or null.
const SyscallEntry* lookup_syscall(Abi abi, uint64_t nr);

}  // namespace guestos
