// The kernel half of the address space: the layout constants of both arches and the
// reference kernel page tables (swapper_pg_dir / init_mm.pgd) with the direct map of lowmem
// (Linux arch/x86/mm/init*.c, pgtable.c, fault.c vmalloc_fault). vmalloc is mm/vmalloc.h.
//
// Every table is a real x86 table in emulated RAM, built with mmu::pte_alloc/write_entry and
// translated by mmu::walk. Kernel entries never carry _PAGE_USER.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "guestos/mm/page_alloc.h"
#include "mmu/paging.h"

namespace guestos {

// PAGE_KERNEL: present, writable, global, not executable (NX is dropped in Legacy32).
inline constexpr uint64_t PAGE_KERNEL =
    mmu::_PAGE_PRESENT | mmu::_PAGE_RW | mmu::_PAGE_ACCESSED | mmu::_PAGE_DIRTY | mmu::_PAGE_GLOBAL | mmu::_PAGE_NX;
// _KERNPG_TABLE: the entries that point at kernel page tables.
inline constexpr uint64_t _KERNPG_TABLE = mmu::_PAGE_PRESENT | mmu::_PAGE_RW | mmu::_PAGE_ACCESSED | mmu::_PAGE_DIRTY;

inline constexpr uint64_t PAGE_OFFSET_I386 = 0xC0000000ull;  // 3G/1G split
inline constexpr uint64_t PAGE_OFFSET_X86_64 = 0xffff888000000000ull;
inline constexpr uint64_t VMALLOC_START_X86_64 = 0xffffc90000000000ull;
inline constexpr uint64_t VMALLOC_SIZE_X86_64 = 32ull << 40;  // 32 TiB
inline constexpr uint64_t VMALLOC_OFFSET = 8ull << 20;        // i386 gap after lowmem
inline constexpr uint64_t FIXADDR_TOP_I386 = 0xfffff000ull;
inline constexpr uint64_t FIXADDR_TOP_X86_64 = 0xffffffffff7ff000ull;
inline constexpr unsigned LAST_PKMAP_PAE = 512;      // one PAE page table
inline constexpr unsigned LAST_PKMAP_2LEVEL = 1024;  // one 2-level page table
inline constexpr unsigned KM_MAX_IDX = 16;           // kmap_atomic nesting depth per CPU
inline constexpr unsigned NR_CPUS = 1;

// Fixmap slots of i386 (enum fixed_addresses): one hole, then the kmap_atomic slots.
enum fixed_addresses : unsigned {
    FIX_HOLE,
    FIX_KMAP_BEGIN,
    FIX_KMAP_END = FIX_KMAP_BEGIN + KM_MAX_IDX * NR_CPUS - 1,
    __end_of_fixed_addresses
};

// Where each part of the kernel half lives for one guest kernel.
struct KernelLayout {
    KernelArch arch = KernelArch::X86_64;
    mmu::PagingMode mode = mmu::PagingMode::LongMode4;
    uint64_t page_offset = 0;    // PAGE_OFFSET: the direct map of physical address 0
    uint64_t high_memory = 0;    // end of the direct-mapped lowmem (a VA)
    uint64_t vmalloc_start = 0;  // VMALLOC_START
    uint64_t vmalloc_end = 0;    // VMALLOC_END (exclusive bound for areas)
    uint64_t pkmap_base = 0;     // PKMAP_BASE (i386 only)
    unsigned last_pkmap = 0;     // LAST_PKMAP (i386 only; 0: no pkmap area)
    uint64_t fixaddr_top = 0;    // FIXADDR_TOP
    uint64_t fixaddr_start = 0;  // FIXADDR_START
    uint64_t pmd_size = 0;       // bytes one level-2 entry maps (PMD_SIZE)

    // i386 with PAE (LAST_PKMAP 512) or 2-level tables (1024); lowmem_bytes is direct-mapped.
    static KernelLayout i386(mmu::PagingMode mode, uint64_t lowmem_bytes);
    // x86-64 4-level; the whole of RAM is direct-mapped.
    static KernelLayout x86_64(uint64_t ram_bytes);

    VirtAddr fix_to_virt(unsigned idx) const { return VirtAddr(fixaddr_top - (uint64_t(idx) << PAGE_SHIFT)); }
    VirtAddr PKMAP_ADDR(unsigned nr) const { return VirtAddr(pkmap_base + (uint64_t(nr) << PAGE_SHIFT)); }
    unsigned PKMAP_NR(VirtAddr va) const { return static_cast<unsigned>((va.value - pkmap_base) >> PAGE_SHIFT); }
    bool is_vmalloc_addr(VirtAddr va) const { return va.value >= vmalloc_start && va.value < vmalloc_end; }
    bool is_fixmap_addr(VirtAddr va) const { return va.value >= fixaddr_start && va.value <= fixaddr_top; }
    // First PGD index of the kernel half (KERNEL_PGD_BOUNDARY).
    size_t kernel_pgd_boundary() const { return mmu::pgd_index(mode, VirtAddr(page_offset)); }
};

// Kernel page-table pages: zeroed lowmem frames from the buddy allocator, counted as
// PageTables (GFP_PGTABLE_KERNEL).
class KernelTableAllocator final : public mmu::TableAllocator {
public:
    explicit KernelTableAllocator(BuddyAllocator& buddy) : buddy_(buddy) {}
    std::optional<PhysAddr> alloc_table() override;
    void free_table(PhysAddr pa) override { buddy_.free_page(pa); }

private:
    BuddyAllocator& buddy_;
};

// The reference kernel page tables (init_mm.pgd): the direct map, the pkmap and fixmap page
// tables (i386), the vmalloc PGD entries (x86-64, preallocated as Linux does since 5.8).
class KernelPageTable {
public:
    // Builds the tables; ENOMEM (nothing leaked) if the buddy allocator runs out.
    // i386_mode picks PAE or Legacy32 for i386 guests; x86-64 is always LongMode4.
    [[nodiscard]] static mmu::ErrorOr<std::unique_ptr<KernelPageTable>> create(
        BuddyAllocator& buddy, mmu::PagingMode i386_mode = mmu::PagingMode::PAE);
    // Frees every kernel page table (the mapped frames stay the buddy allocator's).
    ~KernelPageTable();
    KernelPageTable(const KernelPageTable&) = delete;
    KernelPageTable& operator=(const KernelPageTable&) = delete;

    const KernelLayout& layout() const { return layout_; }
    mmu::PagingMode mode() const { return layout_.mode; }
    PhysAddr pgd() const { return root_; }  // swapper_pg_dir
    mmu::PhysBus& bus() const { return bus_; }
    BuddyAllocator& buddy() const { return buddy_; }

    // The direct-map address of a lowmem physical address (__va); nullopt for highmem.
    std::optional<VirtAddr> lowmem_address(PhysAddr pa) const;
    // The physical address behind a direct-map address (__pa); nullopt outside the direct map.
    std::optional<PhysAddr> direct_map_phys(VirtAddr va) const;

    // Maps va to frame with prot in the reference table (set_pte_at(&init_mm)), creating page
    // tables; ENOMEM if none can be had, EEXIST over a large page.
    [[nodiscard]] mmu::ErrorOr<void> set_kernel_pte(VirtAddr va, PhysAddr frame, uint64_t prot = PAGE_KERNEL);
    // Clears va's PTE (pte_clear); no-op where no page table exists.
    void clear_kernel_pte(VirtAddr va);
    // Address of va's PTE slot in the reference table when its page table exists.
    std::optional<PhysAddr> kernel_pte_slot(VirtAddr va) const;
    // The supervisor read walk of va in the reference table (A/D untouched).
    mmu::WalkResult kernel_walk(VirtAddr va) const;

    // pgd_ctor: copies the kernel half into a fresh process pgd (x86-64, Legacy32: the PGD
    // entries; PAE: a private copy of the kernel PMD, as without SHARED_KERNEL_PMD). EEXIST
    // if the kernel half of pgd is already populated; ENOMEM for the PAE PMD.
    [[nodiscard]] mmu::ErrorOr<void> pgd_ctor(PhysAddr process_pgd);
    // pgd_dtor: clears the kernel half of a process pgd and frees its private PAE PMD. Call it
    // before mmu::pgd_free, which would otherwise free the shared kernel tables.
    void pgd_dtor(PhysAddr process_pgd);
    // i386 vmalloc_fault: a kernel access to a vmalloc address missing from process_pgd
    // copies the PMD/PDE from the reference table. 0: handled, retry; -1: not a vmalloc
    // fault (outside the area, or unmapped in the reference table too; always on x86-64).
    int vmalloc_fault(PhysAddr process_pgd, VirtAddr address);

    // Called after kernel mappings are removed (flush_tlb_kernel_range); unset: nothing.
    std::function<void(VirtAddr start, VirtAddr end)> flush_tlb_kernel_range_hook;
    // After kernel mappings of [start, end) changed: kernel_walk forgets what it kept of
    // them, and the hook flushes the CPU's TLB.
    void flush_tlb_kernel_range(VirtAddr start, VirtAddr end);

    // /proc/meminfo DirectMap4k / DirectMap2M (or 4M) in bytes.
    uint64_t direct_map_4k_bytes() const { return direct_map_4k_; }
    uint64_t direct_map_large_bytes() const { return direct_map_large_; }

private:
    KernelPageTable(BuddyAllocator& buddy, const KernelLayout& layout);
    mmu::ErrorOr<void> init_memory_mapping();
    mmu::ErrorOr<void> preallocate_kernel_tables();
    mmu::ErrorOr<PhysAddr> kernel_entry_alloc(VirtAddr va, int level);
    std::optional<PhysAddr> vmalloc_sync_one(PhysAddr process_pgd, VirtAddr address);
    std::optional<PhysAddr> kernel_pmd_table(PhysAddr root) const;  // PAE: PDPT[3]'s PMD

    BuddyAllocator& buddy_;
    KernelLayout layout_;
    mutable mmu::RamBus bus_;
    KernelTableAllocator tables_;
    PhysAddr root_;
    uint64_t direct_map_4k_ = 0, direct_map_large_ = 0;
    // kernel_walk's answers for the direct map's large pages, which are written once at boot
    // and never change (the CPU's TLB keeps such global kernel entries): one slot per large
    // page, picked by its number. 4 KiB kernel PTEs (kmap, vmalloc) are walked every time.
    struct KtlbEntry {
        uint64_t base = ~0ull;  // the large page's first address; ~0: empty
        mmu::WalkResult w;      // its walk, phys at base
    };
    mutable std::array<KtlbEntry, 64> ktlb_{};
};

}  // namespace guestos
