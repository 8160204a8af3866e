// The kernel half: layout, the direct map, kmap/kunmap with pkmap_count and
// flush_all_zero_pkmaps, kmap_atomic nesting, vmalloc/vfree/vmap and i386 vmalloc_fault.
// Reachability is always proved with mmu::walk as the supervisor.
#include <gtest/gtest.h>

#include "guestos_test_util.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "guestos/mm/highmem.h"
#include "guestos/mm/vmalloc.h"
#include "mmu/phys_memory.h"

using namespace guestos;
using mmu::PagingMode;

namespace {

struct Machine {
    std::unique_ptr<mmu::PhysMemory> ram;
    std::unique_ptr<BuddyAllocator> buddy;
    std::unique_ptr<KernelPageTable> kpt;
    std::unique_ptr<Vmalloc> vmalloc;
    std::unique_ptr<Highmem> highmem;
    Machine(KernelArch arch, PagingMode mode, uint64_t ram_bytes = 64 * MiB, uint64_t lowmem = 32 * MiB) {
        ram = mmu::PhysMemory::create(ram_bytes).release_value();
        BuddyConfig cfg;
        cfg.arch = arch;
        cfg.lowmem_limit_bytes = lowmem;
        buddy = std::make_unique<BuddyAllocator>(*ram, cfg);
        kpt = KernelPageTable::create(*buddy, mode).release_value();
        vmalloc = std::make_unique<Vmalloc>(*kpt, *buddy);
        highmem = std::make_unique<Highmem>(*kpt, *buddy);
        buddy->set_highmem(highmem.get());  // __GFP_ZERO clears through kernel mappings, as the Kernel sets it
    }
    ~Machine() {  // tear down in dependency order, before the allocator
        buddy->set_highmem(nullptr);
        highmem.reset();
        vmalloc.reset();
        kpt.reset();
    }
    mmu::WalkResult walk(VirtAddr va) const { return kpt->kernel_walk(va); }
    uint64_t settled_free() const {
        buddy->drain_all_pages();
        return buddy->nr_free_pages();
    }
    uint64_t page_tables() const { return buddy->count_page_uses()[PageUse::PageTable]; }
    std::vector<PhysAddr> highmem_pages(size_t n) {
        std::vector<PhysAddr> v;
        for (size_t i = 0; i < n; ++i) {
            auto pa = buddy->alloc_pages(GFP_HIGHUSER, 0);
            EXPECT_TRUE(pa && buddy->PageHighMem(pa->pfn()));
            if (pa) v.push_back(*pa);
        }
        return v;
    }
};

// Calls fn(va, frame, size) for every leaf of the page tables rooted at root.
void for_each_leaf(mmu::PhysBus& bus, PagingMode m, PhysAddr table, int level, uint64_t base,
                   const std::function<void(uint64_t, uint64_t, uint64_t)>& fn) {
    for (size_t i = 0; i < mmu::entries_at_level(m, level); ++i) {
        const uint64_t e = mmu::read_entry(bus, m, table + i * mmu::entry_size(m));
        if (!(e & mmu::_PAGE_PRESENT)) continue;
        uint64_t va = base + (static_cast<uint64_t>(i) << mmu::level_shift(m, level));
        if (m == PagingMode::LongMode4 && level == 4 && i >= 256) va |= 0xffff000000000000ull;
        const uint64_t span = mmu::level_span(m, level);
        if (level == 1 || mmu::is_large_entry(m, level, e)) {
            const uint64_t frame = level == 1                  ? mmu::pte_frame(m, e).value
                                   : m == PagingMode::Legacy32 ? (e & 0xFFC00000ull)
                                                               : (e & mmu::frame_mask(m) & ~(span - 1));
            fn(va, frame, span);
        } else {
            for_each_leaf(bus, m, mmu::pte_frame(m, e), level - 1, va, fn);
        }
    }
}

// Kernel addresses whose leaf maps frame in the reference tables.
std::vector<uint64_t> kernel_mappings_of(const KernelPageTable& kpt, PhysAddr frame) {
    std::vector<uint64_t> vas;
    for_each_leaf(kpt.bus(), kpt.mode(), mmu::root_table(kpt.mode(), kpt.pgd()), mmu::levels(kpt.mode()), 0,
                  [&](uint64_t va, uint64_t f, uint64_t size) {
                      if (frame.value >= f && frame.value < f + size) vas.push_back(va + (frame.value - f));
                  });
    return vas;
}

class GuestosHighmemTest : public ::testing::TestWithParam<PagingMode> {
protected:
    Machine m{KernelArch::I386, GetParam()};
    const KernelLayout& L() const { return m.kpt->layout(); }
};

}  // namespace

TEST_P(GuestosHighmemTest, LayoutIsLinuxsI386Layout) {
    const bool pae = GetParam() == PagingMode::PAE;
    EXPECT_EQ(L().page_offset, 0xC0000000u);
    EXPECT_EQ(L().high_memory, 0xC0000000u + 32 * MiB);
    EXPECT_EQ(L().last_pkmap, pae ? 512u : 1024u);
    EXPECT_EQ(L().pkmap_base, pae ? 0xffc00000u : 0xff800000u);
    EXPECT_EQ(L().last_pkmap * PAGE_SIZE, L().pmd_size);             // the pkmap area is one page table
    EXPECT_EQ(L().vmalloc_start, 0xC0000000u + 32 * MiB + 8 * MiB);  // VMALLOC_OFFSET gap
    EXPECT_EQ(L().vmalloc_end, L().pkmap_base - 2 * PAGE_SIZE);
    EXPECT_LT(L().PKMAP_ADDR(L().last_pkmap).value, L().fixaddr_start);
    EXPECT_EQ(L().fixaddr_top, 0xfffff000u);
    EXPECT_GT(L().fix_to_virt(FIX_KMAP_BEGIN), L().fix_to_virt(FIX_KMAP_END));
    EXPECT_GE(L().fix_to_virt(FIX_KMAP_END).value, L().fixaddr_start);
}

TEST_P(GuestosHighmemTest, DirectMapTranslatesLowmemWithLargePages) {
    for (uint64_t pa : {uint64_t{0}, uint64_t{0x1234}, 16 * MiB + 0x123, 32 * MiB - 1}) {
        auto r = m.walk(VirtAddr(L().page_offset + pa));
        ASSERT_TRUE(r.ok) << std::hex << pa;
        EXPECT_EQ(r.phys.value, pa);
        EXPECT_EQ(r.page_size, L().pmd_size);
        EXPECT_FALSE(r.user);
        EXPECT_EQ(m.kpt->lowmem_address(PhysAddr(pa))->value, L().page_offset + pa);
    }
    EXPECT_FALSE(m.walk(VirtAddr(L().high_memory)).ok);
    EXPECT_FALSE(m.kpt->lowmem_address(PhysAddr(32 * MiB)));
    EXPECT_EQ(m.kpt->direct_map_large_bytes(), 32 * MiB);
    EXPECT_EQ(m.kpt->direct_map_4k_bytes(), 0u);
    EXPECT_CONSISTENT(*m.buddy);
}

// kernel_walk keeps the direct map's large-page walks (the TLB's global entries): a second
// walk of a large page answers what a fresh walk of the tables does, at every offset, and
// slots shared by two large pages never mix them up; 4 KiB kmap entries are never kept.
TEST_P(GuestosHighmemTest, KernelWalkCachesOnlyTheDirectMapsLargePages) {
    mmu::WalkOptions o;
    o.set_accessed_dirty = false;
    auto fresh = [&](VirtAddr va) {
        return mmu::walk(m.kpt->bus(), m.kpt->mode(), m.kpt->pgd(), va, mmu::Access::Read, mmu::Privilege::Supervisor,
                         o);
    };
    for (int round = 0; round < 2; ++round)
        for (uint64_t pa = 0; pa < 32 * MiB; pa += L().pmd_size / 2 + 0x1234) {
            const VirtAddr va(L().page_offset + pa);
            const mmu::WalkResult a = m.walk(va), b = fresh(va);
            ASSERT_TRUE(a.ok && b.ok) << std::hex << pa;
            EXPECT_EQ(a.phys, b.phys) << std::hex << pa;
            EXPECT_EQ(a.phys.value, pa);
            EXPECT_EQ(a.page_size, b.page_size);
            EXPECT_EQ(a.leaf_entry_addr, b.leaf_entry_addr);
            EXPECT_EQ(a.writable, b.writable);
        }
    const std::vector<PhysAddr> frames = m.highmem_pages(2);
    auto va = m.highmem->kmap_atomic(frames[0]);
    ASSERT_FALSE(va.is_error());
    EXPECT_EQ(m.walk(va.value()).phys, frames[0]);
    ASSERT_FALSE(m.highmem->kunmap_atomic(va.value()).is_error());
    auto va2 = m.highmem->kmap_atomic(frames[1]);  // the same slot, another frame
    ASSERT_FALSE(va2.is_error());
    ASSERT_EQ(va2.value(), va.value());
    EXPECT_EQ(m.walk(va2.value()).phys, frames[1]);
    ASSERT_FALSE(m.highmem->kunmap_atomic(va2.value()).is_error());
    EXPECT_FALSE(m.walk(va.value()).ok);
}

TEST_P(GuestosHighmemTest, HighmemPageIsUnreachableUntilKmapped) {
    const PhysAddr frame = m.highmem_pages(1).front();
    EXPECT_FALSE(m.highmem->page_address(frame));
    EXPECT_TRUE(kernel_mappings_of(*m.kpt, frame).empty()) << "no kernel address reaches highmem";
    auto va = m.highmem->kmap(frame);
    ASSERT_FALSE(va.is_error());
    EXPECT_EQ(m.highmem->page_address(frame), va.value());
    EXPECT_EQ(kernel_mappings_of(*m.kpt, frame), std::vector<uint64_t>{va.value().value});
    auto r = m.walk(va.value() + 0x10);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.phys, frame + 0x10);
    EXPECT_TRUE(r.writable);
    m.ram->write<uint32_t>(r.phys, 0xfeedbeef);
    EXPECT_EQ(m.ram->read<uint32_t>(frame + 0x10), 0xfeedbeefu);
    m.highmem->kunmap(frame);
    m.highmem->flush_all_zero_pkmaps();
    EXPECT_FALSE(m.highmem->page_address(frame));
    EXPECT_TRUE(kernel_mappings_of(*m.kpt, frame).empty());
    EXPECT_FALSE(m.walk(va.value()).ok);
}

TEST_P(GuestosHighmemTest, KunmapKeepsTheSlotUntilFlushAllZeroPkmapsRecyclesIt) {
    const unsigned last = m.highmem->last_pkmap();
    std::vector<PhysAddr> pages = m.highmem_pages(last);
    std::vector<VirtAddr> vas;
    for (unsigned i = 0; i + 1 < last; ++i) {  // slots 1 .. LAST_PKMAP-1, no wrap yet
        auto va = m.highmem->kmap(pages[i]);
        ASSERT_FALSE(va.is_error());
        EXPECT_EQ(m.highmem->pkmap_count(L().PKMAP_NR(va.value())), 2);
        vas.push_back(va.value());
        m.highmem->kunmap(pages[i]);
        EXPECT_EQ(m.highmem->pkmap_count(L().PKMAP_NR(va.value())), 1);  // mapped, unused
    }
    EXPECT_EQ(m.highmem->page_address(pages[0]), vas[0]);  // lazily kept
    EXPECT_TRUE(m.walk(vas[0]).ok);
    auto again = m.highmem->kmap(pages[0]);  // a kept mapping is reused, not remapped
    ASSERT_FALSE(again.is_error());
    EXPECT_EQ(again.value(), vas[0]);
    m.highmem->kunmap(pages[0]);

    auto va = m.highmem->kmap(pages[last - 1]);  // the search wraps: flush, then slot 0
    ASSERT_FALSE(va.is_error());
    EXPECT_EQ(va.value(), L().PKMAP_ADDR(0));
    EXPECT_EQ(m.highmem->pkmap_count(0), 2);
    for (unsigned i = 1; i < last; ++i) EXPECT_EQ(m.highmem->pkmap_count(i), 0) << i;
    for (unsigned i = 0; i + 1 < last; ++i) {
        EXPECT_FALSE(m.highmem->page_address(pages[i]));
        EXPECT_FALSE(m.walk(vas[i]).ok);
    }
    m.highmem->kunmap(pages[last - 1]);
    EXPECT_EQ(m.highmem->nr_bad_unmaps(), 0u);
}

TEST_P(GuestosHighmemTest, KmapFailsWithEnomemWhenEverySlotIsBusyAndRecoversAfterKunmap) {
    const unsigned last = m.highmem->last_pkmap();
    std::vector<PhysAddr> pages = m.highmem_pages(last + 1);
    for (unsigned i = 0; i < last; ++i) ASSERT_FALSE(m.highmem->kmap(pages[i]).is_error()) << i;
    auto full = m.highmem->kmap(pages[last]);
    ASSERT_TRUE(full.is_error());
    EXPECT_EQ(full.error().errno_value, ENOMEM);
    EXPECT_EQ(m.highmem->nr_kmap_full(), 1u);
    for (unsigned i = 0; i < last; ++i) ASSERT_EQ(m.highmem->pkmap_count(i), 2);  // unchanged
    EXPECT_FALSE(m.highmem->page_address(pages[last]));
    auto shared = m.highmem->kmap(pages[7]);  // an already-mapped page still works
    ASSERT_FALSE(shared.is_error());
    EXPECT_EQ(m.highmem->pkmap_count(L().PKMAP_NR(shared.value())), 3);
    m.highmem->kunmap(pages[7]);
    m.highmem->kunmap(pages[7]);
    auto va = m.highmem->kmap(pages[last]);
    ASSERT_FALSE(va.is_error());
    EXPECT_EQ(m.walk(va.value()).phys, pages[last]);
    EXPECT_FALSE(m.highmem->page_address(pages[7]));
    for (unsigned i = 0; i <= last; ++i)
        if (i != 7) m.highmem->kunmap(pages[i]);
    m.highmem->kunmap(pages[7]);  // unbalanced: ignored
    EXPECT_EQ(m.highmem->nr_bad_unmaps(), 1u);
}

TEST_P(GuestosHighmemTest, KmapAtomicNestsAndUnmapsInReverseOrder) {
    std::vector<PhysAddr> pages = m.highmem_pages(KM_MAX_IDX + 1);
    std::vector<VirtAddr> vas;
    for (unsigned i = 0; i < KM_MAX_IDX; ++i) {
        auto va = m.highmem->kmap_atomic(pages[i]);
        ASSERT_FALSE(va.is_error());
        EXPECT_TRUE(L().is_fixmap_addr(va.value()));
        EXPECT_EQ(m.highmem->kmap_atomic_depth(), i + 1);
        vas.push_back(va.value());
    }
    for (unsigned i = 0; i < KM_MAX_IDX; ++i) {
        auto r = m.walk(vas[i]);
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.phys, pages[i]) << "slot " << i;
        EXPECT_FALSE(m.highmem->page_address(pages[i])) << "kmap_atomic does not set page_address";
    }
    auto deep = m.highmem->kmap_atomic(pages[KM_MAX_IDX]);
    ASSERT_TRUE(deep.is_error());
    EXPECT_EQ(deep.error().errno_value, EBUSY);
    auto wrong = m.highmem->kunmap_atomic(vas[3]);  // not the innermost
    ASSERT_TRUE(wrong.is_error());
    EXPECT_TRUE(m.walk(vas[3]).ok);
    for (unsigned i = KM_MAX_IDX; i-- > 0;) {
        ASSERT_FALSE(m.highmem->kunmap_atomic(vas[i] + 0x40).is_error());
        EXPECT_FALSE(m.walk(vas[i]).ok);
    }
    EXPECT_EQ(m.highmem->kmap_atomic_depth(), 0u);
    EXPECT_TRUE(m.highmem->kunmap_atomic(vas[0]).is_error());  // nothing left to unmap
}

TEST_P(GuestosHighmemTest, LowmemPagesAreAlwaysAtTheirDirectMapAddress) {
    auto low = m.buddy->alloc_pages(GFP_KERNEL, 0);
    ASSERT_TRUE(low);
    const VirtAddr direct(L().page_offset + low->value);
    EXPECT_EQ(m.highmem->page_address(*low), direct);
    EXPECT_EQ(m.highmem->kmap(*low).value(), direct);
    EXPECT_EQ(m.highmem->kmap_atomic(*low).value(), direct);
    EXPECT_EQ(m.highmem->kmap_atomic_depth(), 0u);
    EXPECT_FALSE(m.highmem->kunmap_atomic(direct).is_error());
    m.highmem->kunmap(*low);
    EXPECT_EQ(m.walk(direct).phys, *low);
    EXPECT_TRUE(m.highmem->kmap(PhysAddr(1ull << 40)).is_error());
}

// __GFP_ZERO clears a recycled highmem page through a kmap_atomic slot (clear_highpage),
// and leaves no slot behind.
TEST_P(GuestosHighmemTest, GfpZeroClearsAHighmemPageThroughKmapAtomic) {
    const PhysAddr frame = m.highmem_pages(1).front();
    std::memset(m.ram->host(frame, PAGE_SIZE), 0x5A, PAGE_SIZE);
    m.buddy->free_page(frame);
    const uint64_t atomics = m.highmem->nr_kmap_atomic_high();
    auto z = m.buddy->alloc_page(GFP_HIGHUSER | __GFP_ZERO);
    ASSERT_EQ(z, frame);  // the per-cpu list gives the hot page back
    const uint8_t* p = m.ram->host(frame, PAGE_SIZE);
    EXPECT_TRUE(std::all_of(p, p + PAGE_SIZE, [](uint8_t c) { return c == 0; }));
    EXPECT_EQ(m.highmem->nr_kmap_atomic_high(), atomics + 1);
    EXPECT_EQ(m.highmem->kmap_atomic_depth(), 0u);
    m.buddy->free_page(frame);
}

// The clearing goes where the kernel's direct map points: with the direct-map entry of a
// lowmem page redirected to another frame, that other frame is cleared, not the page.
TEST_P(GuestosHighmemTest, GfpZeroClearsLowmemThroughTheDirectMap) {
    auto page = m.buddy->alloc_page(GFP_KERNEL);
    ASSERT_TRUE(page);
    const VirtAddr kva = *m.kpt->lowmem_address(*page);
    const mmu::WalkResult w = m.walk(kva);
    ASSERT_TRUE(w.ok);
    const uint64_t region = w.page_size, off = page->value & (region - 1);
    // Another region of the direct map whose frame at the same offset is free.
    uint64_t other = 0;
    for (uint64_t base = 0; base + region <= L().high_memory - L().page_offset; base += region)
        if (base != page->value - off && m.buddy->pfn_page((base + off) >> PAGE_SHIFT).use == PageUse::Free &&
            (base + off) >> PAGE_SHIFT >= 16)
            other = base;
    ASSERT_NE(other, 0u);
    const PhysAddr decoy(other + off);
    std::memset(m.ram->host(*page, PAGE_SIZE), 0x5A, PAGE_SIZE);
    std::memset(m.ram->host(decoy, PAGE_SIZE), 0x5A, PAGE_SIZE);
    const uint64_t entry = mmu::read_entry(m.kpt->bus(), m.kpt->mode(), w.leaf_entry_addr);
    const VirtAddr rstart(kva.value & ~(region - 1)), rend = rstart + region;
    mmu::write_entry(m.kpt->bus(), m.kpt->mode(), w.leaf_entry_addr, entry - (page->value - off) + other);
    m.kpt->flush_tlb_kernel_range(rstart, rend);  // as a change of the direct map needs
    m.buddy->free_page(*page);
    auto z = m.buddy->alloc_page(GFP_KERNEL | __GFP_ZERO);
    mmu::write_entry(m.kpt->bus(), m.kpt->mode(), w.leaf_entry_addr, entry);
    m.kpt->flush_tlb_kernel_range(rstart, rend);
    ASSERT_EQ(z, page);
    EXPECT_EQ(*m.ram->host(decoy + 100, 1), 0);     // cleared through the (redirected) kernel mapping
    EXPECT_EQ(*m.ram->host(*page + 100, 1), 0x5A);  // the host view was not used
    m.buddy->free_page(*page);
}

// With every kmap_atomic slot taken, a highmem page cannot be cleared: the allocation fails
// instead of handing out a dirty page, and the page stays free.
TEST_P(GuestosHighmemTest, GfpZeroFailsRatherThanHandOutADirtyHighmemPage) {
    std::vector<PhysAddr> held = m.highmem_pages(KM_MAX_IDX + 1);
    const PhysAddr dirty = held.back();
    held.pop_back();
    std::memset(m.ram->host(dirty, PAGE_SIZE), 0x5A, PAGE_SIZE);
    m.buddy->free_page(dirty);
    std::vector<VirtAddr> vas;
    for (PhysAddr p : held) vas.push_back(m.highmem->kmap_atomic(p).value());
    const uint64_t free_before = m.buddy->nr_free_pages();
    EXPECT_FALSE(m.buddy->alloc_page(GFP_HIGHUSER | __GFP_ZERO));
    EXPECT_EQ(m.buddy->nr_free_pages(), free_before);
    EXPECT_CONSISTENT(*m.buddy);
    for (size_t i = vas.size(); i-- > 0;) ASSERT_FALSE(m.highmem->kunmap_atomic(vas[i]).is_error());
    auto z = m.buddy->alloc_page(GFP_HIGHUSER | __GFP_ZERO);
    ASSERT_TRUE(z);
    const uint8_t* p = m.ram->host(*z, PAGE_SIZE);
    EXPECT_TRUE(std::all_of(p, p + PAGE_SIZE, [](uint8_t c) { return c == 0; }));
    m.buddy->free_page(*z);
    for (PhysAddr h : held) m.buddy->free_page(h);
}

TEST_P(GuestosHighmemTest, VmallocMapsItsPagesAndVfreeGivesEverythingBack) {
    const uint64_t tables0 = m.page_tables();
    const uint64_t free0 = m.settled_free();
    auto va = m.vmalloc->vzalloc(5 * PAGE_SIZE + 100);
    ASSERT_FALSE(va.is_error());
    EXPECT_TRUE(L().is_vmalloc_addr(va.value()));
    const vm_struct* vm = m.vmalloc->find_vm_area(va.value());
    ASSERT_TRUE(vm);
    ASSERT_EQ(vm->pages.size(), 6u);
    EXPECT_EQ(vm->size, 7 * PAGE_SIZE);  // with the guard page
    EXPECT_EQ(m.vmalloc->vmalloc_nr_pages(), 6u);
    for (size_t i = 0; i < 6; ++i) {
        auto r = m.walk(va.value() + i * PAGE_SIZE);
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.phys, vm->pages[i]);
        EXPECT_EQ(m.vmalloc->vmalloc_to_page(va.value() + i * PAGE_SIZE + 9), vm->pages[i]);
        EXPECT_TRUE(m.buddy->PageHighMem(vm->pages[i].pfn())) << "vmalloc prefers highmem";
        EXPECT_EQ(m.buddy->pfn_page(vm->pages[i].pfn()).use, PageUse::Vmalloc);
        EXPECT_EQ(m.ram->read<uint64_t>(r.phys), 0u);  // vzalloc
    }
    EXPECT_FALSE(m.walk(va.value() + 6 * PAGE_SIZE).ok);  // the guard page
    auto second = m.vmalloc->vmalloc(PAGE_SIZE);
    ASSERT_FALSE(second.is_error());
    EXPECT_EQ(second.value(), va.value() + 7 * PAGE_SIZE);
    m.vmalloc->vfree(second.value());
    m.vmalloc->vfree(va.value());
    m.vmalloc->vfree(va.value());  // twice: ignored
    EXPECT_EQ(m.vmalloc->nr_bad_frees(), 1u);
    EXPECT_EQ(m.vmalloc->vmalloc_nr_pages(), 0u);
    EXPECT_FALSE(m.walk(va.value()).ok);
    const uint64_t new_tables = m.page_tables() - tables0;  // kernel page tables stay
    EXPECT_LE(new_tables, 2u);
    EXPECT_EQ(m.settled_free(), free0 - new_tables);
    EXPECT_CONSISTENT(*m.buddy);
}

TEST_P(GuestosHighmemTest, VmapMapsTheCallersPagesWithoutOwningThem) {
    std::vector<PhysAddr> pages = m.highmem_pages(3);
    auto va = m.vmalloc->vmap(pages);
    ASSERT_FALSE(va.is_error());
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(m.walk(va.value() + i * PAGE_SIZE).phys, pages[i]);
    m.vmalloc->vfree(va.value());  // not a vmalloc area
    EXPECT_EQ(m.vmalloc->nr_bad_frees(), 1u);
    m.vmalloc->vunmap(va.value());
    EXPECT_FALSE(m.walk(va.value()).ok);
    for (PhysAddr pa : pages) EXPECT_EQ(m.buddy->pfn_page(pa.pfn()).use, PageUse::Other);
    for (PhysAddr pa : pages) m.buddy->free_page(pa);
    EXPECT_TRUE(m.vmalloc->vmap({}).is_error());
}

TEST_P(GuestosHighmemTest, VmallocFaultCopiesTheMissingPmdIntoAProcessPgd) {
    KernelTableAllocator tables(*m.buddy);
    const uint64_t tables0 = m.page_tables();
    auto pgd = mmu::pgd_alloc(m.kpt->bus(), GetParam(), tables);
    ASSERT_FALSE(pgd.is_error());
    ASSERT_FALSE(m.kpt->pgd_ctor(pgd.value()).is_error());
    EXPECT_EQ(m.kpt->pgd_ctor(pgd.value()).error().errno_value, EEXIST);
    auto pwalk = [&](VirtAddr va, mmu::Privilege p = mmu::Privilege::Supervisor) {
        mmu::WalkOptions o;
        o.set_accessed_dirty = false;
        return mmu::walk(m.kpt->bus(), GetParam(), pgd.value(), va, mmu::Access::Read, p, o);
    };
    EXPECT_EQ(pwalk(VirtAddr(L().page_offset + 0x5000)).phys, PhysAddr(0x5000));  // direct map shared

    auto va = m.vmalloc->vmalloc(3 * PAGE_SIZE);  // needs a page table created after the clone
    ASSERT_FALSE(va.is_error());
    EXPECT_TRUE(m.walk(va.value()).ok);
    auto before = pwalk(va.value());
    EXPECT_FALSE(before.ok);
    EXPECT_EQ(before.fault, mmu::WalkFault::NotPresent);
    EXPECT_EQ(m.kpt->vmalloc_fault(pgd.value(), va.value()), 0);
    auto after = pwalk(va.value() + PAGE_SIZE);
    ASSERT_TRUE(after.ok);
    EXPECT_EQ(after.phys, m.vmalloc->vmalloc_to_page(va.value() + PAGE_SIZE));
    EXPECT_EQ(pwalk(va.value(), mmu::Privilege::User).fault, mmu::WalkFault::Protection);
    EXPECT_EQ(m.kpt->vmalloc_fault(pgd.value(), VirtAddr(L().page_offset)), -1);  // not vmalloc
    EXPECT_EQ(m.kpt->vmalloc_fault(pgd.value(), va.value() + 64 * MiB), -1);      // unmapped everywhere

    // kmap needs no fault: the pkmap page table was shared from the start.
    const PhysAddr high = m.highmem_pages(1).front();
    auto kva = m.highmem->kmap(high);
    ASSERT_FALSE(kva.is_error());
    EXPECT_EQ(pwalk(kva.value()).phys, high);
    m.highmem->kunmap(high);

    m.kpt->pgd_dtor(pgd.value());
    EXPECT_FALSE(pwalk(VirtAddr(L().page_offset)).ok);
    mmu::pgd_free(m.kpt->bus(), GetParam(), pgd.value(), tables);
    m.vmalloc->vfree(va.value());
    EXPECT_EQ(m.page_tables(), tables0 + 1);  // only the reference's new vmalloc page table
    EXPECT_CONSISTENT(*m.buddy);
}

TEST_P(GuestosHighmemTest, ExhaustedMemoryMakesVmallocAndTableCreationFailCleanly) {
    std::vector<PhysAddr> hog;
    while (auto pa = m.buddy->alloc_pages(GFP_HIGHUSER | __GFP_NOFAIL, 0)) hog.push_back(*pa);
    auto va = m.vmalloc->vmalloc(4 * PAGE_SIZE);
    ASSERT_TRUE(va.is_error());
    EXPECT_EQ(va.error().errno_value, ENOMEM);
    EXPECT_EQ(m.vmalloc->nr_areas(), 0u);
    auto kpt2 = KernelPageTable::create(*m.buddy, GetParam());
    ASSERT_TRUE(kpt2.is_error());
    EXPECT_EQ(kpt2.error().errno_value, ENOMEM);
    EXPECT_CONSISTENT(*m.buddy);
    // A quarter of memory back: a vmalloc that gets many pages but not all gives them back.
    const size_t back = hog.size() / 4;
    for (size_t i = 0; i < back; ++i) m.buddy->free_page(hog[i]);
    hog.erase(hog.begin(), hog.begin() + static_cast<long>(back));
    const uint64_t free = m.buddy->nr_free_pages();
    auto pgalloc = [&] {
        uint64_t n = 0;
        for (unsigned t = 0; t < MAX_NR_ZONES; ++t) n += m.buddy->vm_event(zone_event(PGALLOC_DMA, zone_type(t)));
        return n;
    };
    const uint64_t allocated_before = pgalloc();
    auto partial = m.vmalloc->vmalloc((free + 16) * PAGE_SIZE);
    ASSERT_TRUE(partial.is_error());
    EXPECT_EQ(partial.error().errno_value, ENOMEM);
    EXPECT_GT(pgalloc() - allocated_before, free / 2) << "the failure came after many pages";
    EXPECT_EQ(m.buddy->nr_free_pages(), free);
    EXPECT_EQ(m.vmalloc->nr_areas(), 0u);
    EXPECT_EQ(m.vmalloc->vmalloc_nr_pages(), 0u);
    for (PhysAddr pa : hog) m.buddy->free_page(pa);
    auto ok = m.vmalloc->vmalloc(PAGE_SIZE);
    ASSERT_FALSE(ok.is_error());
    m.vmalloc->vfree(ok.value());
    EXPECT_CONSISTENT(*m.buddy);
}

TEST_P(GuestosHighmemTest, VmAreaExhaustionIsEnomem) {
    const uint64_t start = L().vmalloc_start, end = start + 8 * PAGE_SIZE;
    auto a = m.vmalloc->__get_vm_area(3 * PAGE_SIZE, VM_MAP, start, end);
    auto b = m.vmalloc->__get_vm_area(3 * PAGE_SIZE, VM_MAP, start, end);
    ASSERT_FALSE(a.is_error());
    ASSERT_FALSE(b.is_error());
    EXPECT_EQ(b.value()->addr.value, start + 4 * PAGE_SIZE);
    auto c = m.vmalloc->__get_vm_area(PAGE_SIZE, VM_MAP, start, end);
    ASSERT_TRUE(c.is_error());
    EXPECT_EQ(c.error().errno_value, ENOMEM);
    m.vmalloc->vunmap(a.value()->addr);
    auto d = m.vmalloc->__get_vm_area(PAGE_SIZE, VM_MAP, start, end);
    ASSERT_FALSE(d.is_error());
    EXPECT_EQ(d.value()->addr.value, start);  // lowest fit
}

INSTANTIATE_TEST_SUITE_P(Guestos, GuestosHighmemTest, ::testing::Values(PagingMode::PAE, PagingMode::Legacy32),
                         [](const auto& info) { return info.param == PagingMode::PAE ? "PAE" : "Legacy32"; });

TEST(GuestosHighmemX86_64Test, LayoutIsLinuxsX86_64Layout) {
    const KernelLayout l = KernelLayout::x86_64(64 * MiB);
    EXPECT_EQ(l.page_offset, 0xffff888000000000ull);
    EXPECT_EQ(l.vmalloc_start, 0xffffc90000000000ull);
    EXPECT_EQ((l.vmalloc_end - l.vmalloc_start) >> 10, 34359738367ull);  // VmallocTotal
    EXPECT_EQ(l.last_pkmap, 0u);
    EXPECT_EQ(l.kernel_pgd_boundary(), 273u);
}

TEST(GuestosHighmemX86_64Test, EveryPageIsDirectMappedAndKmapIsPageAddress) {
    Machine m(KernelArch::X86_64, PagingMode::LongMode4, 64 * MiB);
    auto pa = m.buddy->alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    ASSERT_TRUE(pa);
    const VirtAddr direct(PAGE_OFFSET_X86_64 + pa->value);
    EXPECT_EQ(m.highmem->page_address(*pa), direct);
    EXPECT_EQ(m.highmem->kmap(*pa).value(), direct);
    EXPECT_EQ(m.highmem->kmap_atomic(*pa).value(), direct);
    EXPECT_FALSE(m.highmem->kunmap_atomic(direct).is_error());
    auto r = m.kpt->kernel_walk(direct + 0x77);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.phys, *pa + 0x77);
    EXPECT_EQ(r.page_size, mmu::SZ_2M);
    EXPECT_FALSE(r.executable);
    EXPECT_EQ(m.kpt->direct_map_large_bytes(), 64 * MiB);
}

TEST(GuestosHighmemX86_64Test, VmallocIsVisibleInEveryProcessWithoutAFault) {
    Machine m(KernelArch::X86_64, PagingMode::LongMode4, 64 * MiB);
    KernelTableAllocator tables(*m.buddy);
    auto pgd = mmu::pgd_alloc(m.kpt->bus(), PagingMode::LongMode4, tables);
    ASSERT_FALSE(pgd.is_error());
    ASSERT_FALSE(m.kpt->pgd_ctor(pgd.value()).is_error());
    auto va = m.vmalloc->vmalloc(2 * PAGE_SIZE);  // after the clone
    ASSERT_FALSE(va.is_error());
    mmu::WalkOptions o;
    o.set_accessed_dirty = false;
    auto r = mmu::walk(m.kpt->bus(), PagingMode::LongMode4, pgd.value(), va.value(), mmu::Access::Write,
                       mmu::Privilege::Supervisor, o);
    ASSERT_TRUE(r.ok) << "the vmalloc PUD tables were preallocated and shared";
    EXPECT_EQ(r.phys, m.vmalloc->vmalloc_to_page(va.value()));
    EXPECT_EQ(m.kpt->vmalloc_fault(pgd.value(), va.value()), -1);
    m.kpt->pgd_dtor(pgd.value());
    mmu::pgd_free(m.kpt->bus(), PagingMode::LongMode4, pgd.value(), tables);
    m.vmalloc->vfree(va.value());
    EXPECT_CONSISTENT(*m.buddy);
}
