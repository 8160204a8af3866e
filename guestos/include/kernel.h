// The OS layer's root object: RAM, the page allocator, the tasks and their run queue, the
// syscall table and the fault entry point. The CPU engine (emu/) drives it; it never sees Unicorn.
#pragma once
#include <cstdint>
#include <ctime>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guestos/include/tty.h"
#include "guestos/include/utsname.h"
#include "guestos/include/kmap.h"
#include "guestos/include/page.h"
#include "guestos/include/sched.h"
#include "guestos/include/sysctl.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/kernel/time/hrtimer.h"
#include "mmu/paging.h"
#include "mmu/phys_memory.h"

namespace loader {
struct ElfImage;
}

namespace guestos {

struct ipc_namespace;  // guestos/ipc/util.h
struct netns_unix;     // guestos/net/unix/af_unix.cpp

struct KernelConfig {
    uint64_t ram_bytes = 1ull << 30;       // populated lazily: a small program touches little of it
    uint64_t lowmem_bytes = 896ull << 20;  // i386: frames above this are HIGHMEM
    bool strace = false;
    FILE* strace_out = stderr;
    mmu::PagingMode i386_paging = mmu::PagingMode::PAE;  // guest tables for i386 programs
    std::string root_image;                              // an ext2 image to mount at / (--disk), or none
    bool root_read_only = false;                         // mount it read-only (--disk IMAGE:ro)
    bool host_ro = false;  // without a disk, the host's tree at / is read-only (--host-ro)
    // Host directories mounted in the guest (--mount HOSTDIR:GUESTDIR[:ro]), in order.
    struct HostMount {
        std::string host, guest;
        bool read_only = false;
    };
    std::vector<HostMount> host_mounts;
    std::vector<std::string> swap_files;  // host files made by mkswap to swap on at boot (--swap)
};

// The CPU's one-shot timer (clock_event_device): interrupt at `expires` (CLOCK_MONOTONIC
// ns) or never; the interrupt reaches hrtimer_interrupt.
class ClockEventDevice {
public:
    virtual ~ClockEventDevice() = default;
    virtual void set_next_event(std::optional<int64_t> expires) = 0;
};

// Largest pid (/proc/sys/kernel/pid_max's default on a small machine), the bounds a write
// to it may set (RESERVED_PIDS + 1, PID_MAX_LIMIT of a 64-bit kernel), and where pids start
// again after they wrap (RESERVED_PIDS).
inline constexpr int PID_MAX_DEFAULT = 32768;
inline constexpr int PID_MAX_MIN = 301, PID_MAX_LIMIT = 4 * 1024 * 1024, RESERVED_PIDS = 300;

// The x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h) live in mmu/paging.h.
using mmu::X86_PF_INSTR;
using mmu::X86_PF_PROT;
using mmu::X86_PF_RSVD;
using mmu::X86_PF_USER;
using mmu::X86_PF_WRITE;

// Outcome of do_page_fault for the CPU: resume, or deliver a signal.
struct FaultOutcome {
    int signo = 0;          // 0: the PTE is now set, retry the access
    int code = 0;           // si_code
    uint64_t addr = 0;      // si_addr
    bool emulated = false;  // the kernel ran what the access asked (a vsyscall) and moved the registers
};

struct ExecResult {
    uint64_t entry = 0;
    uint64_t stack_pointer = 0;
};

class BuddyAllocator;
struct vdso_pages;
class SlabAllocator;
class KernelPageTable;
class Vmalloc;
class Highmem;
class mnt_namespace;
struct super_block;
class Devtmpfs;
class KernelCaches;
class Tracer;

// A file execve maps into the new address space: its bytes and identity.
struct binprm_file {
    std::string real_path;  // the file's path as /proc/PID/exe and maps show it
    std::vector<uint8_t> contents;
    uint64_t i_dev = 0, i_ino = 0;
    uint32_t i_mode = 0;
};

// What execve hands the binary loader (struct linux_binprm): the program file, the name it
// was run by, the new argv and envp, and its interpreter when it names one (PT_INTERP).
struct linux_binprm : binprm_file {
    std::string filename;  // as given (AT_EXECFN unless execfn says otherwise)
    std::string execfn;
    std::vector<std::string> argv, envp;
    binprm_file interp;  // read by the caller when the program has a PT_INTERP
};

class Kernel {
public:
    explicit Kernel(const KernelConfig& cfg);
    ~Kernel();
    // Creates RAM; an error names the problem. Memory management starts at the first exec,
    // when the guest's architecture (and so its zones) is known.
    [[nodiscard]] mmu::ErrorOr<void> boot();
    // Writes back every filesystem and unmounts it (the disk image is clean again): emu's
    // last step before it exits, which does not run the destructors.
    void umount_all();

    // Fills the first program's task: its pid (2, a child of emu's init, pid 1, which reaps
    // orphans), its own process group and session, the fd table (the console) and limits.
    void init_task(task_struct& task);

    // Tasks by pid (find_task_by_vpid); null when none.
    task_struct* find_task_by_vpid(int pid) const;
    // Every live or zombie task, in pid order.
    std::vector<task_struct*> all_tasks() const;
    size_t nr_tasks() const { return pid_table_.size(); }
    // A free pid (alloc_pid), or -EAGAIN when pid_max are in use.
    int alloc_pid();
    // Registers a task the kernel owns (a fork/clone child) under its pid.
    task_struct& attach_task(std::unique_ptr<task_struct> t);
    // Registers a task the caller owns (the first program, unit tests' tasks).
    void attach_pid(task_struct& t);
    // Unregisters t's pid (free_pid); an owned task is freed at the next reap_dead_tasks.
    void detach_pid(task_struct& t);
    // Frees released tasks, once no CPU runs them (between timeslices).
    void reap_dead_tasks();
    rq& runqueue() { return rq_; }
    // System V IPC's objects (created at first use).
    ipc_namespace& ipc_ns();
    // The same, for what must outlive a call but not the namespace (a message queue's inode).
    std::weak_ptr<ipc_namespace> ipc_ns_weak() {
        ipc_ns();
        return ipc_ns_;
    }
    // The bound AF_UNIX sockets by name (net->unx: created at first use).
    netns_unix& net_unix();
    // The armed high-resolution timers (POSIX timers, timerfds).
    hrtimer_cpu_base& hrtimer_base() { return hrtimer_base_; }
    // Programs the CPU's timer for next_timer_event (tick_program_event).
    void tick_program_event();
    void set_clockevent(ClockEventDevice* dev) { clockevent_ = dev; }
    // Called when an mm loses its last user, before exit_mmap tears it down (--check-mm).
    void set_exit_mm_hook(std::function<void(mm_struct&)> fn) { exit_mm_hook_ = std::move(fn); }
    void exit_mm_hook(mm_struct& mm) {
        if (exit_mm_hook_) exit_mm_hook_(mm);
    }
    // The tracer (a debugger) that sees each signal before delivery, or null (ptrace.h).
    Tracer* tracer = nullptr;
    // Thread-safe: ends an idle_wait early, so the caller can look at what woke it (a
    // debugger's interrupt).
    void idle_wake();
    // The file descriptor idle_wait polls for idle_wake.
    int idle_wake_fd() const { return idle_wake_fd_; }

    // The first program's wait status once its process has exited (what emu exits with).
    std::optional<int> init_exit_status;
    int init_tgid = 0;
    // The terminal emu runs on, as the guest's console (its session and foreground group).
    tty_struct& console_tty() { return console_tty_; }

    // execve of a host file into a fresh task (binfmt_elf load_elf_binary).
    [[nodiscard]] mmu::ErrorOr<ExecResult> exec(task_struct& task, const std::string& path,
                                                const std::vector<std::string>& argv,
                                                const std::vector<std::string>& envp);

    // load_elf_binary: a fresh mm with the program's segments and stack replaces the task's.
    [[nodiscard]] mmu::ErrorOr<ExecResult> load_elf_binary(task_struct& task, linux_binprm& bprm,
                                                           const loader::ElfImage& elf);

    // A syscall by its ABI number; returns the value for the result register. A syscall
    // that sleeps waits on the host (no other task runs): for unit tests.
    long syscall(task_struct& task, uint64_t nr, const uint64_t args[6]);
    // A syscall from user mode, on the task's kernel stack: true with ret when it finished,
    // false when the task went to sleep in it (syscall_resume continues it once woken).
    bool syscall_from_user(task_struct& task, uint64_t nr, const uint64_t args[6], long& ret);
    bool syscall_resume(task_struct& task, long& ret);

    // A true page fault (the guest tables deny the access): arch do_page_fault.
    FaultOutcome do_page_fault(task_struct& task, VirtAddr address, uint32_t error_code);

    mmu::PhysMemory& ram() { return *ram_; }
    PageAllocator& page_alloc() { return *page_alloc_; }
    PhysAddr zero_page() const { return zero_page_; }
    // The vDSO's frames and mappings (null until the first exec sets memory up).
    const vdso_pages* vdso() const { return vdso_.get(); }
    const BuddyAllocator* buddy() const { return buddy_.get(); }
    // The slab allocator (null until the first exec sets memory up).
    const SlabAllocator* slab() const { return slab_.get(); }
    // The caches of the OS's own objects (null until the first exec sets memory up).
    KernelCaches* caches() const { return caches_.get(); }
    // The text of a global /proc file (meminfo, buddyinfo, zoneinfo, slabinfo, vmstat).
    std::optional<std::string> proc_global(const std::string& entry) const;
    std::string proc_loadavg() const;
    // The allocators' counters for --stats (proc_meminfo.h allocator_stats); empty before
    // the first exec sets memory up.
    std::string allocator_stats() const;
    const KernelConfig& config() const { return cfg_; }
    // When the filesystems were mounted (CLOCK_REALTIME): the times of their root directories.
    const timespec& mount_time() const { return mount_time_; }
    // The UTS names (init_uts_ns): the host's until the guest sets its own.
    new_utsname& utsname();
    // RAM, the page allocator, the kernel page tables and kmap, once memory is set up.
    kernel_mem kmem() const;
    // The sysctl tables under /proc/sys (registered once memory is set up).
    ctl_table_root& sysctl() { return sysctl_; }
    // The mount table (null until the first task's init_mount_tree).
    mnt_namespace& mnt_ns() { return *ns_; }
    // The ext2 filesystem mounted at / from the disk image, or null without --disk.
    super_block* root_disk() { return root_.get(); }

    // Counters for --stats and /proc/vmstat.
    struct Stats {
        uint64_t pgfault = 0, pgmajfault = 0, syscalls = 0;
        uint64_t cow_breaks = 0, zero_page_maps = 0;  // of the address spaces torn down
    } stats;

private:
    // Zones, the buddy allocator, slab, the kernel page tables, vmalloc and kmap for an ABI.
    [[nodiscard]] mmu::ErrorOr<void> setup_memory(Abi abi);
    // Gives the task and its open files, made before the slab existed, their slab objects.
    [[nodiscard]] mmu::ErrorOr<void> slab_bootstrap(task_struct& task);
    // The user-address part of do_page_fault (do_user_addr_fault).
    FaultOutcome do_user_addr_fault(task_struct& task, VirtAddr address, uint32_t error_code);
    void report_unknown_syscall(task_struct& task, uint64_t nr);
    // Runs [kswapd0] if an allocation woke it: on entry from user mode (a syscall or a
    // fault), where the scheduler would have switched to the kernel thread; never between
    // a fault's fix and the retried access.
    void run_kswapd();
    KernelConfig cfg_;
    timespec mount_time_{};
    std::optional<new_utsname> uts_;
    std::optional<Abi> memory_abi_;  // the ABI memory was set up for (zones, kernel tables)
    PhysAddr zero_page_;
    std::unique_ptr<vdso_pages> vdso_;
    std::vector<uint64_t> reported_unknown_;
    std::unique_ptr<mmu::PhysMemory> ram_;
    std::unique_ptr<BuddyAllocator> buddy_;
    PageAllocator* page_alloc_ = nullptr;  // the buddy allocator, through its interface
    std::unique_ptr<SlabAllocator> slab_;
    std::unique_ptr<KernelCaches> caches_;
    std::unique_ptr<KernelPageTable> kpt_;
    std::unique_ptr<Vmalloc> vmalloc_;
    std::unique_ptr<Highmem> highmem_;
    // Mounts the root (the disk, or the host's /), /proc, /dev, /dev/shm, /tmp and the
    // --mount directories, and sets the task's root and working directory (init_mount_tree).
    void init_mount_tree(task_struct& task);
    std::unique_ptr<mnt_namespace> ns_;
    ctl_table_root sysctl_;
    // Registers every subsystem's sysctl table (the __init register_sysctl calls).
    void sysctl_init();
    std::shared_ptr<super_block> root_;
    std::map<int, task_struct*> pid_table_;
    std::map<task_struct*, std::unique_ptr<task_struct>> owned_tasks_;
    std::vector<std::unique_ptr<task_struct>> dead_tasks_;
    int last_pid_ = 1;
    int pid_max_ = PID_MAX_DEFAULT;  // kernel.pid_max
    struct rq rq_;
    hrtimer_cpu_base hrtimer_base_;
    std::shared_ptr<ipc_namespace> ipc_ns_;
    std::shared_ptr<netns_unix> net_unix_;
    ClockEventDevice* clockevent_ = nullptr;
    std::function<void(mm_struct&)> exit_mm_hook_;
    std::unique_ptr<Devtmpfs> devtmpfs_;
    int idle_wake_fd_ = -1;  // an eventfd
    tty_struct console_tty_;
};

}  // namespace guestos
