// The syscall implementations (sys_*), grouped by subsystem in sys_*.cpp files.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "guestos/include/kernel.h"
#include "guestos/mm/memory.h"
#include "guestos/arch/x86/entry/syscall_table.h"

namespace guestos {

// What every syscall sees: the kernel, the calling task, and its ABI.
struct SysCtx {
    Kernel& kernel;
    task_struct& task;
    mm_struct& mm;
    bool compat;  // i386 ABI: 4-byte longs and pointers
    uint64_t ptr_size() const { return compat ? 4 : 8; }
};

using SyscallFn = long (*)(SysCtx&, const uint64_t*);

// The implementation of each Sys, or null for one the table names but emu lacks.
SyscallFn syscall_impl(Sys sys);

// Writes a guest long (4 or 8 bytes by ABI) at va.
bool put_user_long(SysCtx& c, VirtAddr va, uint64_t v);
// Opens path from dfd for execve through the guest's filesystems (do_open_execat): flags
// are execveat's AT_SYMLINK_NOFOLLOW (ELOOP on a link) and AT_EMPTY_PATH (dfd itself),
// anything else EINVAL; abs gets the absolute guest path. 0 or -errno.
long open_exec(SysCtx& c, int dfd, const std::string& path, unsigned flags, std::shared_ptr<file>& out,
               std::string& abs);
// The open file behind a guest fd (fdget), or null; fds are unsigned int in syscalls, so
// only the register's low 32 bits count.
// An O_PATH file is none here (EBADF), as for Linux's I/O syscalls.
std::shared_ptr<file> fdget(SysCtx& c, uint64_t fd);
// The same with O_PATH files too (fdget_raw: fstat, fchdir, fcntl, dup, close, dirfds).
std::shared_ptr<file> fdget_raw(SysCtx& c, uint64_t fd);
// Puts a new file at the lowest free descriptor (get_unused_fd_flags + fd_install): the fd,
// or -EMFILE/-ENOMEM.
long get_unused_fd_install(SysCtx& c, std::shared_ptr<file> f, bool cloexec);
// Closes the descriptors marked close-on-exec (do_close_on_exec).
void do_close_on_exec(files_struct& files);
// Installs the console (host fds 0, 1, 2) in a new task's fd table.
void init_console_files(task_struct& task);

#define EMU_DECLARE_SYS(name) long sys_##name(SysCtx&, const uint64_t*);
EMU_SYSCALLS(EMU_DECLARE_SYS)
#undef EMU_DECLARE_SYS

}  // namespace guestos
