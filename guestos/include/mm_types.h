// Address spaces: mm_struct and vm_area_struct (mm_types.h), and the mmap family (mmap.c).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "guestos/include/fs.h"
#include "guestos/include/page.h"
#include "guestos/mm/slab_object.h"
#include "mmu/paging.h"
#include "mmu/phys_memory.h"
#include "guestos/mm/vma_tree.h"

namespace guestos {

// vm_flags, with Linux's values.
enum : unsigned long {
    VM_NONE = 0,
    VM_READ = 0x1,
    VM_WRITE = 0x2,
    VM_EXEC = 0x4,
    VM_SHARED = 0x8,
    VM_MAYREAD = 0x10,
    VM_MAYWRITE = 0x20,
    VM_MAYEXEC = 0x40,
    VM_MAYSHARE = 0x80,
    VM_GROWSDOWN = 0x100,
    VM_PFNMAP = 0x400,
    VM_LOCKED = 0x2000,
    VM_IO = 0x4000,
    VM_DONTEXPAND = 0x40000,
    VM_ACCOUNT = 0x100000,
    VM_NORESERVE = 0x200000,
    VM_DONTDUMP = 0x4000000,
    // Never merged, never grown by mremap (VM_SPECIAL).
    VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP,
};

struct mm_struct;
struct vm_area_struct;
struct anon_vma;
struct anon_vma_chain;
struct address_space;
class KernelPageTable;
class Highmem;

// A mapping the kernel installs with pages of its own ([vdso], [vvar]: struct
// vm_special_mapping): its name in maps, where its pages come from and what a move does.
struct vm_special_mapping {
    const char* name;
    // The frame of page pgoff of the mapping: 0, or VM_FAULT_SIGBUS when it has none.
    unsigned (*fault)(const vm_special_mapping& sm, uint64_t pgoff, PhysAddr& out);
    // After mremap moved it: 0, or a negative errno refusing the move (null: any move).
    long (*mremap)(const vm_special_mapping& sm, mm_struct& mm, vm_area_struct& moved);
    const void* priv;  // the mapping's own data (the kernel's vDSO pages)
};

struct vm_area_struct {
    VirtAddr vm_start;
    VirtAddr vm_end;  // exclusive
    unsigned long vm_flags = 0;
    // Offset in the file, in pages; for anonymous memory the virtual page number it was
    // created at (addr >> PAGE_SHIFT), kept when it moves, so that vma_address() finds a
    // page from its index (linear_page_index).
    uint64_t vm_pgoff = 0;
    std::shared_ptr<file> vm_file;  // set with vma_set_file (it links the VMA into i_mmap)
    mm_struct* vm_mm = nullptr;
    // The anon_vma its anonymous pages hang off (null until the first one), and the chains
    // that link this VMA to every anon_vma whose pages it may map (guestos/mm/rmap.h).
    struct anon_vma* anon_vma = nullptr;
    std::vector<struct anon_vma_chain*> anon_vma_chain;
    address_space* vm_i_mmap = nullptr;              // the mapping whose i_mmap lists this VMA, if any
    const vm_special_mapping* vm_special = nullptr;  // set for [vdso] and [vvar] (vm_private_data)

    // Links of the mm's VmaTree (guestos/mm/vma_tree.h), written only by it. A copy of a linked
    // VMA carries stale links until VmaTree::insert overwrites them.
    vm_area_struct* vm_next = nullptr;  // the next VMA by address, or null
    vm_area_struct* vm_prev = nullptr;
    struct rb_node {
        enum class Color : uint8_t { Red, Black };
        vm_area_struct* rb_parent = nullptr;
        vm_area_struct* rb_left = nullptr;
        vm_area_struct* rb_right = nullptr;
        Color rb_color = Color::Red;
    } vm_rb;
    // Largest free gap before any VMA of this rb subtree, guard gaps excluded (mmap.c).
    uint64_t rb_subtree_gap = 0;

    // Its vm_area_struct in the vm_area_struct cache (guestos/mm/slab_object.h). The VmaTree
    // keeps the image current: every insert, erase, vma_adjust and vma_merge rewrites what
    // it changed.
    SlabObject slab;

    vm_area_struct() = default;
    // vm_area_dup: the same range, flags, file and anon_vmas (anon_vma_clone), linked into
    // the file's i_mmap, with a new slab object of the same bytes (slab.failed() when there was
    // no memory: use vm_area_dup); the tree links are left to VmaTree::insert.
    vm_area_struct(const vm_area_struct& other);
    vm_area_struct& operator=(const vm_area_struct&) = delete;
    // vm_area_free after unlink_anon_vmas and unlink_file_vma.
    ~vm_area_struct();

    uint64_t size() const { return vm_end - vm_start; }
    uint64_t pages() const { return size() >> mmu::PAGE_SHIFT; }
    bool is_anonymous() const { return !vm_file && !vm_special; }
    // Writes vm_start, vm_end, vm_next, vm_prev, vm_mm, vm_flags, vm_pgoff and vm_file into
    // the slab object, and vm_file's own image.
    void sync_slab() const;
};

// Sets the file a VMA maps (vma->vm_file = get_file(file)) and links it into the file's
// i_mmap (__vma_link_file); null unlinks.
void vma_set_file(vm_area_struct& vma, std::shared_ptr<file> f);

// What the OS asks of the CPU's TLB when it changes page tables (tlbflush.h).
class TlbFlusher {
public:
    virtual ~TlbFlusher() = default;
    virtual void flush_tlb_page(VirtAddr va) = 0;
    virtual void flush_tlb_range(VirtAddr start, VirtAddr end) = 0;
    virtual void flush_tlb_mm() = 0;
};

struct mm_struct {
    mmu::PhysMemory* ram = nullptr;       // where the page tables and pages live
    PageAllocator* page_alloc = nullptr;  // where they come from
    KernelCaches* caches = nullptr;       // where its VMAs' slab objects come from (null: no slab)
    // The VMAs: an augmented rb-tree with subtree gaps, threaded by vm_next (mm_rb + mmap).
    VmaTree mm_rb;
    mmu::PagingMode paging_mode = mmu::PagingMode::LongMode4;
    PhysAddr pgd;  // root of the guest page tables, in emulated RAM
    TlbFlusher* tlb = nullptr;
    PhysAddr zero_page;              // the shared zero page read faults map (ZERO_PAGE)
    KernelPageTable* kpt = nullptr;  // the kernel half every pgd shares (swapper_pg_dir)
    Highmem* highmem = nullptr;      // kmap for the frames above lowmem

    uint64_t task_size = 0;    // end of the user address space
    int membarrier_state = 0;  // membarrier registrations (their command bits): fork copies, exec clears
    // Protection keys (mm->context.pkey_allocation_map, execute_only_pkey): fork copies them
    // (dup_mm's copy of the mm), exec starts from zero. Without OSPKE init_new_context_pkeys
    // leaves both at 0 (arch/x86/include/asm/pkeys.h).
    uint16_t pkey_allocation_map = 0;
    int execute_only_pkey = 0;
    // The LDT's descriptors (mm->context.ldt, nr_entries = size): modify_ldt grows it, fork
    // copies it (ldt_dup_context), exec's new mm starts without one.
    std::vector<uint64_t> context_ldt;
    uint64_t mmap_base = 0;  // top of the top-down mmap area
    uint64_t start_code = 0, end_code = 0, start_data = 0, end_data = 0;
    uint64_t start_brk = 0, brk = 0, start_stack = 0;
    uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
    uint64_t context_vdso = 0;  // where the vDSO's text is mapped, 0 if not (mm->context.vdso)
    // The auxiliary vector the program started with, as (type, value) words up to AT_NULL
    // (mm->saved_auxv: /proc/PID/auxv, a debugger's qXfer:auxv).
    std::vector<uint64_t> saved_auxv;
    uint64_t total_vm = 0;  // pages
    uint64_t stack_vm = 0, exec_vm = 0, data_vm = 0;
    uint64_t rss_anon = 0, rss_file = 0, rss_shmem = 0;  // pages mapped, by MM_*PAGES counter
    uint64_t rss() const { return rss_anon + rss_file + rss_shmem; }
    uint64_t swapents = 0;      // swap entries in its PTEs (MM_SWAPENTS: VmSwap)
    bool mmf_oom_skip = false;  // reaped by the OOM killer: no victim any more (MMF_OOM_SKIP)
    uint64_t hiwater_vm = 0, hiwater_rss = 0;
    uint64_t locked_vm = 0;                       // pages in VM_LOCKED VMAs
    uint64_t cow_breaks = 0, zero_page_maps = 0;  // faults that copied a page / mapped ZERO_PAGE
    uint64_t stack_rlimit = 8ull << 20;           // RLIMIT_STACK when the stack grows (expand_stack)
    uint64_t pgtables_bytes = 0;                  // page-table pages of this mm (VmPTE)
    unsigned long def_flags = 0;                  // flags every new VMA gets (VM_LOCKED after mlockall(MCL_FUTURE))
    int map_count = 0;
    // The tasks using it (mm_users: threads, a vfork child); at 0 it is torn down (mmput).
    int mm_users = 0;

    // Its mm_struct in the mm_struct cache (guestos/mm/slab_image.cpp). Whatever changes a
    // field of the image marks it dirty (mark_slab_dirty: the VMA tree through its VMAs'
    // images, vm_stat_account, the rss counters, page-table pages, brk, def_flags, exec);
    // the return to user mode rewrites a dirty image, once.
    SlabObject slab;
    mutable bool slab_dirty = true;
    void mark_slab_dirty() const { slab_dirty = true; }
    // Writes the image and clears the mark.
    void sync_slab() const;
};

// A new mm with its mm_struct slab object (mm_alloc); null when the slab has no memory.
// caches may be null (no slab yet): the mm is then unbacked.
std::unique_ptr<mm_struct> mm_alloc(KernelCaches* caches);
// A new VMA of mm with its vm_area_struct slab object (vm_area_alloc); null when the slab
// has no memory (the caller fails with ENOMEM).
std::unique_ptr<vm_area_struct> vm_area_alloc(mm_struct& mm);
// A copy of vma with a slab object of its own and the same bytes (vm_area_dup); null when
// the slab has no memory. The copy is not linked anywhere.
std::unique_ptr<vm_area_struct> vm_area_dup(const vm_area_struct& vma);
// fork's copy of an address space (dup_mmap): child, a fresh mm with its pgd and the same
// memory set-up, gets parent's layout and every VMA (anon_vma_fork for anonymous memory)
// and its page tables (copy_page_range): a private writable page is write-protected in
// both, so the first write on either side copies it; shared pages stay shared. 0 or
// -ENOMEM (child is then torn down by its owner).
long dup_mmap(mm_struct& child, mm_struct& parent);

// Largest number of VMAs per mm (vm.max_map_count, default DEFAULT_MAX_MAP_COUNT).
inline constexpr int DEFAULT_MAX_MAP_COUNT = 65530;
extern int sysctl_max_map_count;

// The first VMA with vm_end > addr, or null (mmap.c find_vma).
vm_area_struct* find_vma(mm_struct& mm, VirtAddr addr);
// The first VMA that intersects [start, end), or null.
vm_area_struct* find_vma_intersection(mm_struct& mm, VirtAddr start, VirtAddr end);

}  // namespace guestos
