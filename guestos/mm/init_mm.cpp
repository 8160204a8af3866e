// The reference kernel page tables (init_mm.pgd, swapper_pg_dir): the kernel half's layout,
// the direct map of lowmem, the pkmap/fixmap and vmalloc page tables every process pgd
// shares, and i386's vmalloc_fault (Linux arch/x86/mm/init_{32,64}.c, pgtable.c, fault.c).
#include "guestos/mm/init_mm.h"

#include <cerrno>
#include <cstring>

namespace guestos {

using mmu::PagingMode;

namespace {
constexpr uint64_t KERNEL_UPPER_FLAGS = mmu::_PAGE_RW | mmu::_PAGE_ACCESSED;
}  // namespace

KernelLayout KernelLayout::i386(PagingMode mode, uint64_t lowmem_bytes) {
    KernelLayout l;
    l.arch = KernelArch::I386;
    l.mode = mode;
    l.page_offset = PAGE_OFFSET_I386;
    l.high_memory = PAGE_OFFSET_I386 + lowmem_bytes;
    l.pmd_size = mode == PagingMode::Legacy32 ? mmu::SZ_4M : mmu::SZ_2M;
    l.last_pkmap = mode == PagingMode::PAE ? LAST_PKMAP_PAE : LAST_PKMAP_2LEVEL;
    l.fixaddr_top = FIXADDR_TOP_I386;
    l.fixaddr_start = FIXADDR_TOP_I386 - (uint64_t(__end_of_fixed_addresses) << PAGE_SHIFT);
    l.pkmap_base = (l.fixaddr_start - PAGE_SIZE * (l.last_pkmap + 1)) & ~(l.pmd_size - 1);
    l.vmalloc_end = l.pkmap_base - 2 * PAGE_SIZE;
    l.vmalloc_start = (l.high_memory + VMALLOC_OFFSET) & ~(VMALLOC_OFFSET - 1);
    return l;
}

KernelLayout KernelLayout::x86_64(uint64_t ram_bytes) {
    KernelLayout l;
    l.arch = KernelArch::X86_64;
    l.mode = PagingMode::LongMode4;
    l.page_offset = PAGE_OFFSET_X86_64;
    l.high_memory = PAGE_OFFSET_X86_64 + ram_bytes;
    l.pmd_size = mmu::SZ_2M;
    l.vmalloc_start = VMALLOC_START_X86_64;
    l.vmalloc_end = VMALLOC_START_X86_64 + VMALLOC_SIZE_X86_64 - 1;  // Linux's VMALLOC_END
    l.fixaddr_top = FIXADDR_TOP_X86_64;
    l.fixaddr_start = FIXADDR_TOP_X86_64 - (uint64_t(__end_of_fixed_addresses) << PAGE_SHIFT);
    return l;
}

std::optional<PhysAddr> KernelTableAllocator::alloc_table() {
    auto pa = buddy_.alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
    if (pa) {
        page& p = buddy_.phys_to_page(*pa);
        buddy_.set_page_use(p, PageUse::PageTable);
        p.flags |= PG_pagetable;
    }
    return pa;
}

// ---------------------------------------------------------------------------------------------
// KernelPageTable

KernelPageTable::KernelPageTable(BuddyAllocator& buddy, const KernelLayout& layout)
    : buddy_(buddy), layout_(layout), bus_(buddy.ram()), tables_(buddy) {}

mmu::ErrorOr<std::unique_ptr<KernelPageTable>> KernelPageTable::create(BuddyAllocator& buddy, PagingMode i386_mode) {
    KernelLayout layout;
    if (buddy.arch() == KernelArch::X86_64) {
        layout = KernelLayout::x86_64(buddy.max_pfn() << PAGE_SHIFT);
    } else {
        if (i386_mode == PagingMode::LongMode4)
            return mmu::Error::from_errno(EINVAL, "i386 kernel tables are PAE or Legacy32");
        layout = KernelLayout::i386(i386_mode, buddy.max_low_pfn() << PAGE_SHIFT);
    }
    std::unique_ptr<KernelPageTable> kpt(new KernelPageTable(buddy, layout));
    auto root = TRY(mmu::pgd_alloc(kpt->bus_, layout.mode, kpt->tables_));
    kpt->root_ = root;
    TRY(kpt->init_memory_mapping());
    TRY(kpt->preallocate_kernel_tables());
    return kpt;
}

KernelPageTable::~KernelPageTable() {
    if (root_.value) mmu::pgd_free(bus_, layout_.mode, root_, tables_);
}

// The direct map of lowmem at PAGE_OFFSET: PMD-sized large pages where aligned, 4 KiB
// entries for the rest (init_memory_mapping).
mmu::ErrorOr<void> KernelPageTable::init_memory_mapping() {
    const uint64_t end = layout_.high_memory - layout_.page_offset;
    const uint64_t pmd = layout_.pmd_size;
    for (uint64_t pa = 0; pa < end;) {
        const VirtAddr va(layout_.page_offset + pa);
        if (pa % pmd == 0 && end - pa >= pmd) {
            auto slot = TRY(kernel_entry_alloc(va, mmu::PMD_LEVEL));
            mmu::write_entry(bus_, layout_.mode, slot,
                             mmu::make_pte(layout_.mode, PhysAddr(pa), PAGE_KERNEL | mmu::_PAGE_PSE));
            direct_map_large_ += pmd;
            pa += pmd;
        } else {
            TRY(set_kernel_pte(va, PhysAddr(pa)));
            direct_map_4k_ += PAGE_SIZE;
            pa += PAGE_SIZE;
        }
    }
    return {};
}

// Page tables every process pgd must share from the start: i386 the pkmap and fixmap page
// tables (permanent_kmaps_init, kmap_init); x86-64 the PUD tables of the vmalloc area
// (preallocate_vmalloc_pages), so no vmalloc_fault is ever needed there.
mmu::ErrorOr<void> KernelPageTable::preallocate_kernel_tables() {
    if (layout_.arch == KernelArch::I386) {
        for (VirtAddr va : {VirtAddr(layout_.pkmap_base), layout_.fix_to_virt(FIX_KMAP_BEGIN)}) {
            TRY(kernel_entry_alloc(va, mmu::PTE_LEVEL));
        }
        return {};
    }
    const uint64_t pgd_span = mmu::level_span(layout_.mode, mmu::PGD_LEVEL_LM4);
    for (uint64_t va = layout_.vmalloc_start; va < layout_.vmalloc_end; va += pgd_span) {
        TRY(kernel_entry_alloc(VirtAddr(va), mmu::PUD_LEVEL));
    }
    return {};
}

// Address of va's entry in the table at `level`, allocating the tables above it.
mmu::ErrorOr<PhysAddr> KernelPageTable::kernel_entry_alloc(VirtAddr va, int level) {
    const PagingMode m = layout_.mode;
    PhysAddr table = mmu::root_table(m, root_);
    for (int l = mmu::levels(m); l > level; --l) {
        const PhysAddr slot = mmu::entry_addr(m, table, l, va);
        uint64_t e = mmu::read_entry(bus_, m, slot);
        if (!(e & mmu::_PAGE_PRESENT)) {
            auto t = tables_.alloc_table();
            if (!t) return mmu::Error::from_errno(ENOMEM, "no frame for a kernel page table");
            const uint64_t flags =
                (m == PagingMode::PAE && l == 3) ? mmu::_PAGE_PRESENT : mmu::_PAGE_PRESENT | KERNEL_UPPER_FLAGS;
            e = mmu::make_pte(m, *t, flags);
            mmu::write_entry(bus_, m, slot, e);
        } else if (mmu::is_large_entry(m, l, e)) {
            return mmu::Error::from_errno(EEXIST, "a large page maps this kernel address");
        }
        table = mmu::pte_frame(m, e);
    }
    return mmu::entry_addr(m, table, level, va);
}

std::optional<VirtAddr> KernelPageTable::lowmem_address(PhysAddr pa) const {
    if (pa.value >= layout_.high_memory - layout_.page_offset) return std::nullopt;
    return VirtAddr(layout_.page_offset + pa.value);
}

std::optional<PhysAddr> KernelPageTable::direct_map_phys(VirtAddr va) const {
    if (va.value < layout_.page_offset || va.value >= layout_.high_memory) return std::nullopt;
    return PhysAddr(va.value - layout_.page_offset);
}

mmu::ErrorOr<void> KernelPageTable::set_kernel_pte(VirtAddr va, PhysAddr frame, uint64_t prot) {
    auto slot = TRY(mmu::pte_alloc(bus_, layout_.mode, root_, va, tables_, KERNEL_UPPER_FLAGS));
    mmu::write_entry(bus_, layout_.mode, slot, mmu::make_pte(layout_.mode, frame, prot | mmu::_PAGE_PRESENT));
    return {};
}

void KernelPageTable::clear_kernel_pte(VirtAddr va) {
    if (auto slot = kernel_pte_slot(va)) mmu::write_entry(bus_, layout_.mode, *slot, 0);
}

std::optional<PhysAddr> KernelPageTable::kernel_pte_slot(VirtAddr va) const {
    return mmu::pte_lookup(bus_, layout_.mode, root_, va);
}

void KernelPageTable::flush_tlb_kernel_range(VirtAddr start, VirtAddr end) {
    if (start.value < layout_.high_memory && end.value > layout_.page_offset)  // the direct map's part
        for (KtlbEntry& e : ktlb_)
            if (e.base != ~0ull && e.base < end.value && start.value < e.base + layout_.pmd_size) e.base = ~0ull;
    if (flush_tlb_kernel_range_hook) flush_tlb_kernel_range_hook(start, end);
}

mmu::WalkResult KernelPageTable::kernel_walk(VirtAddr va) const {
    const uint64_t large = layout_.pmd_size, base = va.value & ~(large - 1);
    KtlbEntry& e = ktlb_[(va.value / large) % ktlb_.size()];
    if (e.base == base) {
        mmu::WalkResult r = e.w;
        r.phys = PhysAddr(e.w.phys.value + (va.value - base));
        return r;
    }
    mmu::WalkOptions o;
    o.set_accessed_dirty = false;
    mmu::WalkResult r = mmu::walk(bus_, layout_.mode, root_, va, mmu::Access::Read, mmu::Privilege::Supervisor, o);
    if (r.ok && r.page_size == large && direct_map_phys(va)) {
        e.base = base;
        e.w = r;
        e.w.phys = PhysAddr(r.phys.value - (va.value - base));
    }
    return r;
}

// PAE: the kernel PMD table PDPT[3] of root points at, if present.
std::optional<PhysAddr> KernelPageTable::kernel_pmd_table(PhysAddr root) const {
    const PhysAddr slot =
        mmu::entry_addr(PagingMode::PAE, mmu::root_table(PagingMode::PAE, root), 3, VirtAddr(layout_.page_offset));
    const uint64_t e = mmu::read_entry(bus_, PagingMode::PAE, slot);
    if (!(e & mmu::_PAGE_PRESENT)) return std::nullopt;
    return mmu::pte_frame(PagingMode::PAE, e);
}

mmu::ErrorOr<void> KernelPageTable::pgd_ctor(PhysAddr process_pgd) {
    const PagingMode m = layout_.mode;
    const PhysAddr proot = mmu::root_table(m, process_pgd);
    if (m == PagingMode::PAE) {
        if (kernel_pmd_table(process_pgd)) return mmu::Error::from_errno(EEXIST, "kernel half already present");
        auto kpmd = kernel_pmd_table(root_);
        auto t = tables_.alloc_table();
        if (!t) return mmu::Error::from_errno(ENOMEM, "no frame for the kernel PMD");
        std::memcpy(bus_.host(*t, PAGE_SIZE), bus_.host(*kpmd, PAGE_SIZE), PAGE_SIZE);
        mmu::write_entry(bus_, m, mmu::entry_addr(m, proot, 3, VirtAddr(layout_.page_offset)),
                         mmu::make_pte(m, *t, mmu::_PAGE_PRESENT));
        return {};
    }
    const size_t first = layout_.kernel_pgd_boundary(), n = mmu::entries_per_table(m);
    const size_t esz = mmu::entry_size(m);
    const PhysAddr kroot = mmu::root_table(m, root_);
    for (size_t i = first; i < n; ++i)
        if (mmu::read_entry(bus_, m, proot + i * esz) & mmu::_PAGE_PRESENT)
            return mmu::Error::from_errno(EEXIST, "kernel half already present");
    for (size_t i = first; i < n; ++i)  // clone_pgd_range
        mmu::write_entry(bus_, m, proot + i * esz, mmu::read_entry(bus_, m, kroot + i * esz));
    return {};
}

void KernelPageTable::pgd_dtor(PhysAddr process_pgd) {
    const PagingMode m = layout_.mode;
    const PhysAddr proot = mmu::root_table(m, process_pgd);
    if (m == PagingMode::PAE) {
        const PhysAddr slot = mmu::entry_addr(m, proot, 3, VirtAddr(layout_.page_offset));
        auto pmd = kernel_pmd_table(process_pgd);
        if (pmd && pmd != kernel_pmd_table(root_)) tables_.free_table(*pmd);
        mmu::write_entry(bus_, m, slot, 0);
        return;
    }
    const size_t esz = mmu::entry_size(m);
    for (size_t i = layout_.kernel_pgd_boundary(); i < mmu::entries_per_table(m); ++i)
        mmu::write_entry(bus_, m, proot + i * esz, 0);
}

int KernelPageTable::vmalloc_fault(PhysAddr process_pgd, VirtAddr address) {
    if (layout_.arch != KernelArch::I386 || !layout_.is_vmalloc_addr(address)) return -1;
    auto pmd_k = vmalloc_sync_one(process_pgd, address);
    if (!pmd_k) return -1;
    const uint64_t e = mmu::read_entry(bus_, layout_.mode, *pmd_k);
    if (mmu::is_large_entry(layout_.mode, mmu::PMD_LEVEL, e)) return 0;
    const PhysAddr pte_k = mmu::entry_addr(layout_.mode, mmu::pte_frame(layout_.mode, e), mmu::PTE_LEVEL, address);
    return (mmu::read_entry(bus_, layout_.mode, pte_k) & mmu::_PAGE_PRESENT) ? 0 : -1;
}

// Copies address's PMD entry (the PDE in 2-level mode) from the reference table into
// process_pgd when their presence differs; the reference PMD slot, or nullopt when the
// reference has none (vmalloc_sync_one).
std::optional<PhysAddr> KernelPageTable::vmalloc_sync_one(PhysAddr process_pgd, VirtAddr address) {
    const PagingMode m = layout_.mode;
    PhysAddr table = mmu::root_table(m, process_pgd), table_k = mmu::root_table(m, root_);
    for (int l = mmu::levels(m); l > mmu::PMD_LEVEL; --l) {
        const uint64_t e_k = mmu::read_entry(bus_, m, mmu::entry_addr(m, table_k, l, address));
        const uint64_t e = mmu::read_entry(bus_, m, mmu::entry_addr(m, table, l, address));
        if (!(e_k & mmu::_PAGE_PRESENT) || !(e & mmu::_PAGE_PRESENT)) return std::nullopt;
        table = mmu::pte_frame(m, e);
        table_k = mmu::pte_frame(m, e_k);
    }
    const PhysAddr pmd = mmu::entry_addr(m, table, mmu::PMD_LEVEL, address);
    const PhysAddr pmd_k = mmu::entry_addr(m, table_k, mmu::PMD_LEVEL, address);
    const uint64_t v_k = mmu::read_entry(bus_, m, pmd_k);
    if ((mmu::read_entry(bus_, m, pmd) & mmu::_PAGE_PRESENT) != (v_k & mmu::_PAGE_PRESENT))
        mmu::write_entry(bus_, m, pmd, v_k);
    if (!(v_k & mmu::_PAGE_PRESENT)) return std::nullopt;
    if (mmu::pte_frame(m, mmu::read_entry(bus_, m, pmd)) != mmu::pte_frame(m, v_k)) return std::nullopt;
    return pmd_k;
}

}  // namespace guestos
