// The OS layer's root object: RAM, the page allocator, the one running task, the syscall
// table and the fault entry point. The CPU engine (emu/) drives it; it never sees Unicorn.
#pragma once
#include <cstdint>
#include <ctime>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guestos/include/kmap.h"
#include "guestos/include/page.h"
#include "guestos/include/sched.h"
#include "mmu/paging.h"
#include "mmu/phys_memory.h"

namespace guestos {

struct KernelConfig {
    uint64_t ram_bytes = 256ull << 20;
    uint64_t lowmem_bytes = 896ull << 20;  // i386: frames above this are HIGHMEM
    bool strace = false;
    FILE* strace_out = stderr;
    mmu::PagingMode i386_paging = mmu::PagingMode::PAE;  // guest tables for i386 programs
    std::string root_image;  // an ext2 image to mount read-only at / (--disk), or none
};

// The x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h) live in mmu/paging.h.
using mmu::X86_PF_PROT;
using mmu::X86_PF_WRITE;
using mmu::X86_PF_USER;
using mmu::X86_PF_RSVD;
using mmu::X86_PF_INSTR;

// Outcome of do_page_fault for the CPU: resume, or deliver a signal.
struct FaultOutcome {
    int signo = 0;   // 0: the PTE is now set, retry the access
    int code = 0;      // si_code
    uint64_t addr = 0;  // si_addr
};

struct ExecResult {
    uint64_t entry = 0;
    uint64_t stack_pointer = 0;
};

class BuddyAllocator;
class SlabAllocator;
class KernelPageTable;
class Vmalloc;
class Highmem;
class Tmpfs;
class Ext2Mount;
class KernelCaches;

class Kernel {
public:
    explicit Kernel(const KernelConfig& cfg);
    ~Kernel();
    // Creates RAM; an error names the problem. Memory management starts at the first exec,
    // when the guest's architecture (and so its zones) is known.
    [[nodiscard]] mmu::ErrorOr<void> boot();

    // Fills a new task's pid, fd table (the console) and resource limits.
    void init_task(task_struct& task);

    // execve of a host file into a fresh task (binfmt_elf load_elf_binary).
    [[nodiscard]] mmu::ErrorOr<ExecResult> exec(task_struct& task, const std::string& path,
                                                 const std::vector<std::string>& argv,
                                                 const std::vector<std::string>& envp);

    // A syscall by its ABI number; returns the value for the result register.
    long syscall(task_struct& task, uint64_t nr, const uint64_t args[6]);

    // A true page fault (the guest tables deny the access): arch do_page_fault.
    FaultOutcome do_page_fault(task_struct& task, VirtAddr address, uint32_t error_code);

    mmu::PhysMemory& ram() { return *ram_; }
    PageAllocator& page_alloc() { return *page_alloc_; }
    PhysAddr zero_page() const { return zero_page_; }
    const BuddyAllocator* buddy() const { return buddy_.get(); }
    // The caches of the OS's own objects (null until the first exec sets memory up).
    KernelCaches* caches() const { return caches_.get(); }
    // The text of a global /proc file (meminfo, buddyinfo, zoneinfo, slabinfo, vmstat).
    std::optional<std::string> proc_global(const std::string& entry) const;
    // The allocators' counters for --stats (proc_meminfo.h allocator_stats); empty before
    // the first exec sets memory up.
    std::string allocator_stats() const;
    const KernelConfig& config() const { return cfg_; }
    // When the filesystems were mounted (CLOCK_REALTIME): the times of their root directories.
    const timespec& mount_time() const { return mount_time_; }
    // RAM, the page allocator, the kernel page tables and kmap, once memory is set up.
    kernel_mem kmem() const;
    // The tmpfs whose mount point contains path (/tmp, /dev/shm) and the rest of the path
    // below it ("" for the mount point itself), or null.
    Tmpfs* tmpfs_for(const std::string& path, std::string& rest);
    // The ext2 filesystem mounted at / from the disk image, or null without --disk.
    Ext2Mount* root_mount() { return root_.get(); }

    // Counters for --stats and /proc/vmstat.
    struct Stats {
        uint64_t pgfault = 0, pgmajfault = 0, syscalls = 0;
    } stats;

private:
    // Zones, the buddy allocator, slab, the kernel page tables, vmalloc and kmap for an ABI.
    [[nodiscard]] mmu::ErrorOr<void> setup_memory(Abi abi);
    // Gives the task and its open files, made before the slab existed, their slab objects.
    [[nodiscard]] mmu::ErrorOr<void> slab_bootstrap(task_struct& task);
    // The user-address part of do_page_fault (do_user_addr_fault).
    FaultOutcome do_user_addr_fault(task_struct& task, VirtAddr address, uint32_t error_code);
    void report_unknown_syscall(task_struct& task, uint64_t nr);
    KernelConfig cfg_;
    timespec mount_time_{};
    PhysAddr zero_page_;
    std::vector<uint64_t> reported_unknown_;
    std::unique_ptr<mmu::PhysMemory> ram_;
    std::unique_ptr<BuddyAllocator> buddy_;
    PageAllocator* page_alloc_ = nullptr;  // the buddy allocator, through its interface
    std::unique_ptr<SlabAllocator> slab_;
    std::unique_ptr<KernelCaches> caches_;
    std::unique_ptr<KernelPageTable> kpt_;
    std::unique_ptr<Vmalloc> vmalloc_;
    std::unique_ptr<Highmem> highmem_;
    std::vector<std::unique_ptr<Tmpfs>> mounts_;
    std::unique_ptr<Ext2Mount> root_;
};

}  // namespace guestos
