// The process: task_struct with what the syscalls of a single-threaded program need.
#pragma once
#include <array>
#include <deque>
#include <optional>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guestos/include/mm_types.h"
#include "guestos/include/uapi/resource.h"
#include "guestos/arch/x86/include/asm/ptrace.h"

namespace guestos {

enum class Abi { I386, X86_64 };

// A kernel sigaction as rt_sigaction stores it (the handler is a guest address).
struct k_sigaction {
    uint64_t handler = 0;  // SIG_DFL 0, SIG_IGN 1
    uint64_t flags = 0;
    uint64_t restorer = 0;
    uint64_t mask = 0;
};

// One i386 GDT TLS slot as set_thread_area describes it (struct user_desc).
struct user_desc {
    uint32_t entry_number = 0;
    uint32_t base_addr = 0;
    uint32_t limit = 0;
    uint32_t flags = 0;  // seg_32bit, contents, read_exec_only, limit_in_pages, seg_not_present, useable
    bool empty = true;
};

inline constexpr int GDT_ENTRY_TLS_MIN_I386 = 6;
inline constexpr int GDT_ENTRY_TLS_ENTRIES = 3;
inline constexpr int KERNEL_NSIG = 64;

// What the OS may ask of the CPU the task runs on (implemented by emu/, no Unicorn here).
class CpuOps {
public:
    virtual ~CpuOps() = default;
    virtual void set_fs_base(uint64_t base) = 0;
    virtual void set_gs_base(uint64_t base) = 0;
    virtual uint64_t fs_base() = 0;
    virtual uint64_t gs_base() = 0;
    // Writes the 8-byte descriptor of GDT entry `index` (i386 TLS).
    virtual void write_gdt_entry(int index, uint64_t descriptor) = 0;
    // The user registers as they are now, and replacing them (signal frames, sigreturn).
    virtual void get_regs(pt_regs& regs) = 0;
    virtual void set_regs(const pt_regs& regs) = 0;
    // Programs the CPU's timer (clockevents_program_event): interrupt the guest at `expires`
    // (CLOCK_MONOTONIC ns), or never; the interrupt reaches hrtimer_interrupt.
    virtual void set_next_event(std::optional<int64_t> expires) = 0;
};

// A signal's siginfo (the fields the emulated sources fill).
struct kernel_siginfo {
    int si_signo = 0;
    int si_errno = 0;
    int si_code = 0;
    uint64_t addr = 0;  // si_addr, for faults
    int pid = 0;        // si_pid and si_uid, for kill and sigqueue
    uint32_t uid = 0;
    uint64_t value = 0; // si_value, for sigqueue
};

// The fd table (files_struct); close-on-exec is per descriptor.
struct files_struct {
    std::vector<std::shared_ptr<file>> fd;
    std::vector<bool> cloexec;
    std::shared_ptr<file> get(long n) const {
        return (n >= 0 && static_cast<size_t>(n) < fd.size()) ? fd[n] : nullptr;
    }
};

struct rlimit64 {
    uint64_t rlim_cur = ~0ull;
    uint64_t rlim_max = ~0ull;
};

class Kernel;
struct SysCtx;

// What restart_syscall resumes after a -ERESTART_RESTARTBLOCK (struct restart_block): the
// function, and for nanosleep the clock, the absolute expiry and where the time left goes,
// for a futex wait the word, its expected value and the absolute timeout.
struct restart_block {
    long (*fn)(SysCtx&) = nullptr;  // null: do_no_restart_syscall (-EINTR)
    struct {
        int clockid = 0;
        int64_t expires = 0;  // ns on clockid
        uint64_t rmtp = 0;
        int type = 0;  // TT_NONE, TT_NATIVE (64-bit timespec) or TT_COMPAT (i386's)
    } nanosleep;
    struct {
        uint64_t uaddr = 0;
        uint32_t val = 0;
        int clockid = 0;
        int64_t expires = 0;  // ns on clockid; 0: no timeout
    } futex;
};

// An interval timer (signal_struct's real_timer with it_real_incr, or a cpu_itimer): the
// expiry in ns on the timer's clock (0: disarmed) and the reload interval (0: one-shot).
struct itimer {
    int64_t expires = 0;
    int64_t incr = 0;
};

struct task_struct {
    Kernel* kernel = nullptr;  // the machine the task runs on (for /proc's global files)
    int pid = 1;
    int tgid = 1;
    Abi abi = Abi::X86_64;
    std::unique_ptr<mm_struct> mm;
    CpuOps* cpu = nullptr;
    std::string comm;      // executable basename, 15 chars at most
    std::string exe_path;  // what readlink("/proc/self/exe") returns
    std::shared_ptr<inode> exe_inode;  // the executable (open/stat of its path, /proc/self/exe)

    uint64_t set_child_tid = 0, clear_child_tid = 0;
    uint64_t robust_list = 0, robust_list_len = 0;
    uint64_t blocked = 0;  // signal mask
    uint64_t pending = 0;  // signals sent and not yet delivered
    std::array<std::deque<kernel_siginfo>, KERNEL_NSIG> sigqueue{};  // their siginfo, oldest first
    std::optional<uint64_t> saved_sigmask;  // rt_sigsuspend's mask to restore (set_restore_sigmask)
    struct restart_block restart_block;
    // ITIMER_REAL (CLOCK_MONOTONIC), ITIMER_VIRTUAL and ITIMER_PROF (CPU time), by `which`.
    std::array<itimer, 3> itimers{};
    trap_info thread;
    std::array<k_sigaction, KERNEL_NSIG> sighand{};
    std::array<user_desc, GDT_ENTRY_TLS_ENTRIES> tls_array{};
    files_struct files;
    std::array<rlimit64, RLIM_NLIMITS> rlim{};
    uint64_t sas_ss_sp = 0, sas_ss_size = 0;
    int sas_ss_flags = 2;  // SS_DISABLE
    unsigned umask = 022;
    // The working directory (fs_struct->pwd) as an absolute guest path; empty until the
    // guest has a root filesystem or calls chdir: relative paths then stay as given.
    std::string pwd;

    bool exited = false;
    int exit_code = 0;       // exit status when exited normally
    int exit_signal = 0;     // terminating signal, 0 if none

    // Its task_struct in the task_struct cache: taken when memory is set up (the first task
    // predates the slab), rewritten at every return from a syscall.
    SlabObject slab;

    bool is_compat() const { return abi == Abi::I386; }
    // Writes state, mm, active_mm, exit_state, exit_code, exit_signal, pid, tgid and comm.
    void sync_slab() const;
};

// Refreshes the slab images of the task, its mm and its open files, on the way back to user
// mode from a syscall (a page fault changes only the mm, whose image it refreshes alone).
void sync_task_slab_images(const task_struct& task);
// Checks the kernel objects of the task against their slab objects: the task, its mm, every
// VMA and open file hold one when the mm has caches; every VMA's image matches the VMA; each
// cache counts as many live objects as slabinfo shows active. Returns the problems found.
std::vector<std::string> check_slab_images(const task_struct& task);

}  // namespace guestos
