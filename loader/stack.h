// The initial process stack (argc, argv, envp, auxv and the strings they point to), laid out
// byte for byte as Linux's exec path does (copy_strings in fs/exec.c, create_elf_tables in
// fs/binfmt_elf.c), without stack randomization. Pure layout; the OS layer copies the bytes in.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "loader/elf.h"
#include "mmu/types.h"

namespace loader {

// Linux's per-string limit (MAX_ARG_STRLEN = 32 pages, counting the terminating NUL).
inline constexpr uint64_t MAX_ARG_STRLEN = 32 * mmu::PAGE_SIZE;
// Linux's _STK_LIM, the default RLIMIT_STACK.
inline constexpr uint64_t DEFAULT_STACK_RLIMIT = 8ull << 20;

// Which kernel's exec the layout mimics. They differ only in the zero word at the very top of
// the stack, which is the *kernel's* sizeof(void *): 4 bytes on an i386 kernel, 8 on an x86-64
// kernel even for ia32 programs (measured: an ia32 static program under setarch -R on x86-64).
enum class StackKernel { MatchClass, X86_64 };

// One auxiliary vector entry (AT_* type and value).
struct AuxEntry {
    uint64_t type = 0, value = 0;
};

// What execve puts on the new stack.
struct StackSpec {
    ElfClass cls = ElfClass::Elf64;          // pointer width: 4 for Elf32, 8 for Elf64
    VirtAddr stack_top;                      // highest address, exclusive, page aligned
    std::vector<std::string> argv, envp;     // no embedded NUL bytes; empty argv becomes {""} as in Linux
    std::string execfn;                      // AT_EXECFN string (the path given to execve)
    std::string platform;                    // AT_PLATFORM string ("x86_64" or "i686"); empty: no AT_PLATFORM
    std::array<uint8_t, 16> random_bytes{};  // AT_RANDOM bytes (glibc seeds its stack guard from them)
    // Everything except AT_RANDOM, AT_EXECFN, AT_PLATFORM and AT_NULL, which the builder adds with
    // the right addresses where create_elf_tables puts them: AT_RANDOM after AT_SECURE, AT_EXECFN
    // and AT_PLATFORM after AT_HWCAP2 (each appended if those are absent), AT_NULL last.
    std::vector<AuxEntry> auxv;
    uint64_t stack_rlimit = DEFAULT_STACK_RLIMIT;  // RLIMIT_STACK; strings may use a quarter of it
    StackKernel kernel = StackKernel::MatchClass;  // X86_64: lay out an ia32 stack as a 64-bit host would
};

// The built stack: `bytes` occupy [sp, stack_top) exactly.
struct StackImage {
    VirtAddr sp;  // points at argc; 16-byte aligned
    std::vector<uint8_t> bytes;
    VirtAddr argv_start, argv_end;  // argv string area (mm->arg_start/arg_end, for /proc/pid/cmdline)
    VirtAddr envp_start, envp_end;  // envp string area (mm->env_start/env_end, for /proc/pid/environ)
};

// Lays out the initial stack. E2BIG when a string exceeds MAX_ARG_STRLEN or all strings exceed
// Linux's limit (a quarter of stack_rlimit, at least 128 KiB, at most 6 MiB, minus the pointers);
// EINVAL for a malformed spec (unaligned or too low stack_top, NUL inside a string, reserved
// auxv type, a value too wide for a 32-bit stack).
ErrorOr<StackImage> build_initial_stack(const StackSpec& spec);

}  // namespace loader
