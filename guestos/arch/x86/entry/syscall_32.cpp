// The i386 syscall table (numbers from asm/unistd_32.h), and the per-ABI lookup.
#include <array>

#include "guestos/arch/x86/entry/syscall_table.h"
// Last: another header may pull in the other ABI's numbers; these must win.
#include <asm/unistd_32.h>

namespace guestos {

const SyscallEntry* lookup_syscall64(uint64_t nr);

namespace {
#define E(nrname, sys, args) \
    SyscallEntry { __NR_##nrname, #nrname, Sys::sys, args }
// clang-format off
const SyscallEntry table32[] = {
    EMU_COMMON_SYSCALL_ROWS(E),
    E(stat64, stat64, "sx"), E(fstat64, fstat64, "fx"), E(lstat64, lstat64, "sx"),
    E(fstatat64, fstatat64, "fsxx"), E(_llseek, llseek, "fxxxd"), E(mmap, old_mmap, "x:x"),
    E(mmap2, mmap_pgoff, "xuPMfx:x"), E(set_thread_area, set_thread_area, "x"),
    E(get_thread_area, get_thread_area, "x"), E(ugetrlimit, ugetrlimit, "dx"),
    E(getrlimit, old_getrlimit, "dx"), E(clock_gettime64, clock_gettime64, "dx"),
    E(clock_getres_time64, clock_getres_time64, "dx"), E(getuid32, getuid, ""),
    E(geteuid32, geteuid, ""), E(getgid32, getgid, ""), E(getegid32, getegid, ""),
    E(getuid, getuid16, ""), E(geteuid, geteuid16, ""), E(getgid, getgid16, ""),
    E(getegid, getegid16, ""), E(futex_time64, futex_time64, "xddxxd"),
    E(clock_nanosleep_time64, clock_nanosleep_time64, "ddxx"), E(fcntl64, fcntl64, "fdx"),
    E(sigreturn, sigreturn, ""), E(sigpending, sigpending, "x"),
    E(ftruncate64, ftruncate64, "fxx"), E(truncate64, truncate64, "sxx"),
    E(fadvise64, fadvise64, "fxxud"), E(fadvise64_64, fadvise64_64, "fxxxxd"),
    E(readahead, readahead, "fxxu"), E(fallocate, fallocate, "fdxxxx"), E(waitpid, waitpid, "dxx"),
    E(ppoll_time64, ppoll_time64, "xuxxu"), E(select, old_select, "x"),
    E(_newselect, select, "dxxxx"), E(pselect6_time64, pselect6_time64, "dxxxxx"),
    E(chown32, chown32, "sdd"), E(lchown32, lchown32, "sdd"), E(fchown32, fchown32, "fdd"),
    E(utimensat_time64, utimensat_time64, "fsxx"), E(statfs64, statfs64, "sux"),
    E(fstatfs64, fstatfs64, "fux"), E(recvmmsg_time64, recvmmsg_time64, "fxuxx"),
    E(socketcall, socketcall, "dx"), E(timer_settime64, timer_settime64, "ddxx"),
    E(timer_gettime64, timer_gettime64, "dx"),
    E(rt_sigtimedwait_time64, rt_sigtimedwait_time64, "xxxu"),
    E(timerfd_settime64, timerfd_settime64, "fdxx"), E(timerfd_gettime64, timerfd_gettime64, "fx"),
    E(setuid32, setuid, "u"), E(setgid32, setgid, "u"), E(setreuid32, setreuid, "uu"),
    E(setregid32, setregid, "uu"), E(setresuid32, setresuid, "uuu"),
    E(setresgid32, setresgid, "uuu"), E(getresuid32, getresuid, "xxx"),
    E(getresgid32, getresgid, "xxx"), E(setfsuid32, setfsuid, "u"), E(setfsgid32, setfsgid, "u"),
    E(getgroups32, getgroups, "dx"), E(setgroups32, setgroups, "dx"), E(setuid, setuid16, "u"),
    E(setgid, setgid16, "u"), E(setreuid, setreuid16, "uu"), E(setregid, setregid16, "uu"),
    E(setresuid, setresuid16, "uuu"), E(setresgid, setresgid16, "uuu"),
    E(getresuid, getresuid16, "xxx"), E(getresgid, getresgid16, "xxx"),
    E(setfsuid, setfsuid16, "u"), E(setfsgid, setfsgid16, "u"), E(getgroups, getgroups16, "dx"),
    E(setgroups, setgroups16, "dx"), E(ipc, ipc, "ddxxxx"),
    E(semtimedop_time64, semtimedop_time64, "dxux"), E(preadv, preadv, "fxuxx"),
    E(pwritev, pwritev, "fxuxx"), E(preadv2, preadv2, "fxuxxx"), E(pwritev2, pwritev2, "fxuxxx"),
    E(sendfile64, sendfile64, "ffxu"), E(sync_file_range, sync_file_range, "fxxxxx"),
    E(nice, nice, "d"), E(sched_rr_get_interval_time64, sched_rr_get_interval_time64, "dx"),
    E(umount, oldumount, "s"), E(mq_timedsend_time64, mq_timedsend_time64, "fbuux"),
    E(mq_timedreceive_time64, mq_timedreceive_time64, "fBuxx"),
};
// clang-format on
#undef E

struct Index {
    std::array<const SyscallEntry*, 512> by_nr{};
    Index() {
        for (const auto& e : table32)
            if (e.nr < by_nr.size()) by_nr[e.nr] = &e;
    }
};
}  // namespace

const SyscallEntry* lookup_syscall(Abi abi, uint64_t nr) {
    if (abi == Abi::X86_64) return lookup_syscall64(nr);
    static const Index index;
    return nr < index.by_nr.size() ? index.by_nr[nr] : nullptr;
}

}  // namespace guestos
