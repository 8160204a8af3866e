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
    EMU_COMMON_SYSCALL_ROWS(E),
    E(stat, stat, "sx"), E(fstat, fstat, "fx"), E(lstat, lstat, "sx"),
    E(newfstatat, newfstatat, "fsxx"), E(mmap, mmap, "xuPMfx:x"), E(arch_prctl, arch_prctl, "xx"),
    E(getrlimit, getrlimit, "dx"), E(getuid, getuid, ""), E(geteuid, geteuid, ""),
    E(getgid, getgid, ""), E(getegid, getegid, ""), E(fadvise64, fadvise64, "fddd"),
    E(readahead, readahead, "fdu"), E(fallocate, fallocate, "fddd"), E(select, select, "dxxxx"),
    E(accept, accept, "fxx"), E(setuid, setuid, "u"), E(setgid, setgid, "u"),
    E(setreuid, setreuid, "uu"), E(setregid, setregid, "uu"), E(setresuid, setresuid, "uuu"),
    E(setresgid, setresgid, "uuu"), E(getresuid, getresuid, "xxx"), E(getresgid, getresgid, "xxx"),
    E(setfsuid, setfsuid, "u"), E(setfsgid, setfsgid, "u"), E(getgroups, getgroups, "dx"),
    E(setgroups, setgroups, "dx"), E(semop, semop, "dxu"), E(semtimedop, semtimedop, "dxux"),
    E(preadv, preadv, "fxudd"), E(pwritev, pwritev, "fxudd"), E(preadv2, preadv2, "fxuddx"),
    E(pwritev2, pwritev2, "fxuddx"), E(sync_file_range, sync_file_range, "fddx"),
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
