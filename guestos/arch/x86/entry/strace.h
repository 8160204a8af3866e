// strace-format trace lines for --strace.
#pragma once
#include <cstdio>
#include <string>

#include "guestos/include/syscalls.h"

namespace guestos {

// Prints one completed call as strace does: name(args) = result.
void strace_syscall(FILE* out, SysCtx& c, const SyscallEntry* e, uint64_t nr, const uint64_t* args, long ret);
// Prints strace's closing line for an exit or a fatal signal.
void strace_exit(FILE* out, const task_struct& task);
// strace -f's "[pid N] " before a line when more than one task exists, else "".
std::string strace_prefix(const task_struct& task);

}  // namespace guestos
