// The zoned buddy allocator: zones, split/merge exactness, watermarks, zone fallback,
// per-cpu lists, bad frees, exhaustion, and randomized sequences against a model.
#include <gtest/gtest.h>

#include "guestos_test_util.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "guestos/mm/page_alloc.h"
#include "mmu/phys_memory.h"

using namespace guestos;

namespace {

using FreeAreaCounts = std::array<std::array<uint64_t, NR_PAGE_ORDERS>, MAX_NR_ZONES>;

FreeAreaCounts free_area_counts(const BuddyAllocator& b) {
    FreeAreaCounts c{};
    for (unsigned t = 0; t < MAX_NR_ZONES; ++t)
        for (unsigned o = 0; o < NR_PAGE_ORDERS; ++o) c[t][o] = b.zone_at(zone_type(t)).free_area[o].nr_free;
    return c;
}

struct Machine {
    std::unique_ptr<mmu::PhysMemory> ram;
    std::unique_ptr<BuddyAllocator> buddy;
    Machine(uint64_t ram_bytes, BuddyConfig cfg) {
        ram = mmu::PhysMemory::create(ram_bytes).release_value();
        buddy = std::make_unique<BuddyAllocator>(*ram, cfg);
    }
};

BuddyConfig x86_64_cfg() { return BuddyConfig{}; }
BuddyConfig i386_cfg(uint64_t lowmem = 32 * MiB) {
    BuddyConfig c;
    c.arch = KernelArch::I386;
    c.lowmem_limit_bytes = lowmem;
    return c;
}

zone_type zone_of(const BuddyAllocator& b, PhysAddr pa) { return b.page_zonenum(pa.pfn()); }

// Allocates order-0 pages with gfp until the allocator says no.
std::vector<PhysAddr> allocate_until_failure(BuddyAllocator& b, gfp_t gfp) {
    std::vector<PhysAddr> got;
    while (auto pa = b.alloc_pages(gfp, 0)) got.push_back(*pa);
    return got;
}

// The zone an order-0 request must come from: the first zone of the zonelist (highest
// first) passing the low watermark, else (slow path) the first passing the min watermark
// with the request's reserves; MAX_NR_ZONES when only the drain step could serve it.
zone_type predicted_zone(const BuddyAllocator& b, gfp_t gfp) {
    const zone_type highest = gfp_zone(b.arch(), gfp);
    const std::pair<zone_watermarks, unsigned> passes[] = {{WMARK_LOW, ALLOC_WMARK_LOW},
                                                           {WMARK_MIN, gfp_to_alloc_flags(gfp, 0)}};
    for (auto [mark, flags] : passes)
        for (int t = highest; t >= 0; --t) {
            const zone& z = b.zone_at(zone_type(t));
            if (z.managed_pages && b.zone_watermark_ok(z, 0, z.wmark_pages(mark), highest, flags)) return zone_type(t);
        }
    return MAX_NR_ZONES;
}

// Allocates order-0 pages until failure, checking each comes from the predicted zone;
// returns the pages and counts per zone.
std::vector<PhysAddr> allocate_following_zonelist(BuddyAllocator& b, gfp_t gfp,
                                                  std::array<uint64_t, MAX_NR_ZONES>& per_zone) {
    std::vector<PhysAddr> got;
    for (;;) {
        const zone_type want = predicted_zone(b, gfp);
        auto pa = b.alloc_pages(gfp, 0);
        if (!pa) break;
        const zone_type z = zone_of(b, *pa);
        if (want != MAX_NR_ZONES) {
            EXPECT_EQ(z, want) << "page " << got.size();
        }
        ++per_zone[z];
        got.push_back(*pa);
    }
    return got;
}

void free_all(BuddyAllocator& b, std::vector<PhysAddr>& pages) {
    for (PhysAddr pa : pages) b.free_pages(pa, 0);
    pages.clear();
}

}  // namespace

TEST(GuestosBuddyTest, X86_64HasDmaDma32NormalZones) {
    Machine m(64 * MiB, x86_64_cfg());
    const BuddyAllocator& b = *m.buddy;
    EXPECT_TRUE(b.zone_at(ZONE_DMA).configured);
    EXPECT_TRUE(b.zone_at(ZONE_DMA32).configured);
    EXPECT_TRUE(b.zone_at(ZONE_NORMAL).configured);
    EXPECT_FALSE(b.zone_at(ZONE_HIGHMEM).configured);
    EXPECT_EQ(b.zone_at(ZONE_DMA).zone_start_pfn, 0u);
    EXPECT_EQ(b.zone_at(ZONE_DMA).spanned_pages, 4096u);  // below 16 MiB
    EXPECT_EQ(b.zone_at(ZONE_DMA32).zone_start_pfn, 4096u);
    EXPECT_EQ(b.zone_at(ZONE_DMA32).spanned_pages, 16384u - 4096u);
    EXPECT_FALSE(b.zone_at(ZONE_NORMAL).populated());  // all RAM is below 4 GiB
    EXPECT_EQ(b.max_low_pfn(), b.max_pfn());
    EXPECT_FALSE(b.PageHighMem(16383));
}

TEST(GuestosBuddyTest, I386HighmemStartsAtTheLowmemLimit) {
    Machine m(64 * MiB, i386_cfg(32 * MiB));
    const BuddyAllocator& b = *m.buddy;
    EXPECT_FALSE(b.zone_at(ZONE_DMA32).configured);
    EXPECT_TRUE(b.zone_at(ZONE_HIGHMEM).configured);
    EXPECT_EQ(b.zone_at(ZONE_NORMAL).zone_start_pfn, 4096u);
    EXPECT_EQ(b.zone_at(ZONE_NORMAL).zone_end_pfn(), 8192u);
    EXPECT_EQ(b.zone_at(ZONE_HIGHMEM).zone_start_pfn, 8192u);
    EXPECT_EQ(b.zone_at(ZONE_HIGHMEM).spanned_pages, 8192u);
    EXPECT_FALSE(b.PageHighMem(8191));
    EXPECT_TRUE(b.PageHighMem(8192));
    EXPECT_EQ(b.totalhigh_pages(), 8192u);

    Machine d(64 * MiB, i386_cfg(896 * MiB));  // the default limit: 64 MiB is all lowmem
    EXPECT_FALSE(d.buddy->zone_at(ZONE_HIGHMEM).populated());
    EXPECT_EQ(d.buddy->totalhigh_pages(), 0u);
}

TEST(GuestosBuddyTest, MemMapIsReservedAsLinuxCountsIt) {
    Machine m(256 * MiB, x86_64_cfg());
    const BuddyAllocator& b = *m.buddy;
    const uint64_t frames = 65536;
    EXPECT_EQ(b.memmap_pages(), frames * 64 / 4096);  // 64-byte struct page per frame
    EXPECT_EQ(b.reserved_pages(), 16 + b.memmap_pages());
    EXPECT_EQ(b.totalram_pages(), frames - b.reserved_pages());
    for (uint64_t pfn = b.memmap_start_pfn(); pfn < b.memmap_start_pfn() + b.memmap_pages(); ++pfn)
        ASSERT_TRUE(b.pfn_page(pfn).flags & PG_reserved);
    EXPECT_EQ(b.nr_free_pages(), b.totalram_pages());
    const zone& dma32 = b.zone_at(ZONE_DMA32);
    EXPECT_EQ(dma32.present_pages - dma32.managed_pages, b.memmap_pages());
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, SplitTakesOneBlockAndAddsOneBuddyPerOrder) {
    Machine m(64 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    const FreeAreaCounts before = free_area_counts(b);
    for (unsigned order = 1; order <= MAX_PAGE_ORDER; ++order) {
        const FreeAreaCounts pre = free_area_counts(b);
        auto pa = b.alloc_pages(GFP_KERNEL, order);
        ASSERT_TRUE(pa);
        EXPECT_EQ(pa->pfn() % (1ull << order), 0u);
        const zone_type z = zone_of(b, *pa);
        const FreeAreaCounts post = free_area_counts(b);
        // Exactly one block of some order j >= order went away; orders order..j-1 gained one.
        unsigned j = order;
        while (j <= MAX_PAGE_ORDER && post[z][j] + 1 != pre[z][j]) ++j;
        ASSERT_LE(j, MAX_PAGE_ORDER);
        for (unsigned o = 0; o < NR_PAGE_ORDERS; ++o) {
            const uint64_t expect = o == j ? pre[z][o] - 1 : (o >= order && o < j) ? pre[z][o] + 1 : pre[z][o];
            EXPECT_EQ(post[z][o], expect) << "order " << o << " after allocating order " << order;
        }
        b.free_pages(*pa, order);
        EXPECT_EQ(free_area_counts(b), pre) << "freeing order " << order << " must undo the split";
    }
    EXPECT_EQ(free_area_counts(b), before);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, FreeingEveryPageInAnyOrderMergesBackExactly) {
    Machine m(32 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    const FreeAreaCounts initial = free_area_counts(b);
    std::vector<PhysAddr> pages = allocate_until_failure(b, GFP_KERNEL | __GFP_NOFAIL);
    EXPECT_EQ(b.nr_free_pages(), 0u);
    EXPECT_EQ(pages.size(), b.totalram_pages());
    std::mt19937 rng(7);
    std::shuffle(pages.begin(), pages.end(), rng);
    free_all(b, pages);
    b.drain_all_pages();
    EXPECT_EQ(free_area_counts(b), initial);
    EXPECT_EQ(b.nr_free_pages(), b.totalram_pages());
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, WatermarksFollowLinuxFormula) {
    Machine m(256 * MiB, x86_64_cfg());
    const BuddyAllocator& b = *m.buddy;
    const zone& dma = b.zone_at(ZONE_DMA);
    const zone& dma32 = b.zone_at(ZONE_DMA32);
    const uint64_t lowmem_pages = dma.managed_pages + dma32.managed_pages;
    uint64_t kb = 0;
    while ((kb + 1) * (kb + 1) <= lowmem_pages * 4 * 16) ++kb;  // int_sqrt(lowmem_kbytes * 16)
    EXPECT_EQ(b.min_free_kbytes(), std::clamp<uint64_t>(kb, 128, 262144));
    const uint64_t pages_min = b.min_free_kbytes() / 4;
    for (const zone* z : {&dma, &dma32}) {
        const uint64_t min = pages_min * z->managed_pages / lowmem_pages;
        const uint64_t step = std::max(min / 4, z->managed_pages * 10 / 10000);
        EXPECT_EQ(z->min_wmark_pages(), min) << z->name;
        EXPECT_EQ(z->low_wmark_pages(), min + step) << z->name;
        EXPECT_EQ(z->high_wmark_pages(), min + 2 * step) << z->name;
    }
    EXPECT_EQ(dma.lowmem_reserve[ZONE_DMA32], dma32.managed_pages / 256);
    EXPECT_EQ(dma.lowmem_reserve[ZONE_NORMAL], dma32.managed_pages / 256);
    EXPECT_EQ(dma32.lowmem_reserve[ZONE_NORMAL], 0u);  // Normal is empty

    BuddyConfig cfg;
    cfg.min_free_kbytes = 8192;
    Machine f(256 * MiB, cfg);
    EXPECT_EQ(f.buddy->min_free_kbytes(), 8192u);
    EXPECT_EQ(f.buddy->zone_at(ZONE_DMA32).min_wmark_pages(),
              2048 * f.buddy->zone_at(ZONE_DMA32).managed_pages / lowmem_pages);

    Machine h(64 * MiB, i386_cfg(32 * MiB));  // highmem: a small capped min
    const zone& high = h.buddy->zone_at(ZONE_HIGHMEM);
    EXPECT_EQ(high.min_wmark_pages(), std::clamp<uint64_t>(high.managed_pages / 1024, 32, 128));
}

TEST(GuestosBuddyTest, ZoneWatermarkOkNeedsFreePagesAboveTheMarkAndABlock) {
    Machine m(64 * MiB, x86_64_cfg());
    const BuddyAllocator& b = *m.buddy;
    const zone& z = b.zone_at(ZONE_DMA32);
    const uint64_t free = static_cast<uint64_t>(z.nr_free_pages);
    EXPECT_TRUE(b.zone_watermark_ok(z, 0, free - 1, ZONE_DMA32, ALLOC_WMARK_MIN));
    EXPECT_FALSE(b.zone_watermark_ok(z, 0, free, ZONE_DMA32, ALLOC_WMARK_MIN));
    // __GFP_HIGH may go to half the mark; atomic a quarter of that further.
    EXPECT_TRUE(b.zone_watermark_ok(z, 0, 2 * free - 2, ZONE_DMA32, ALLOC_MIN_RESERVE));
    EXPECT_FALSE(b.zone_watermark_ok(z, 0, 2 * free + 2, ZONE_DMA32, ALLOC_MIN_RESERVE));
    // High orders also need a free block of at least that order.
    EXPECT_TRUE(b.zone_watermark_ok(z, MAX_PAGE_ORDER, 0, ZONE_DMA32, ALLOC_WMARK_MIN));
    // lowmem_reserve: requests that could use DMA32 must leave DMA's reserve alone.
    const zone& dma = b.zone_at(ZONE_DMA);
    const uint64_t reserve = dma.lowmem_reserve[ZONE_DMA32];
    const uint64_t dfree = static_cast<uint64_t>(dma.nr_free_pages);
    ASSERT_GT(reserve, 0u);
    EXPECT_TRUE(b.zone_watermark_ok(dma, 0, dfree - reserve - 1, ZONE_DMA, ALLOC_WMARK_MIN));
    EXPECT_TRUE(b.zone_watermark_ok(dma, 0, dfree - reserve - 1, ZONE_DMA32, ALLOC_WMARK_MIN));
    EXPECT_FALSE(b.zone_watermark_ok(dma, 0, dfree - reserve, ZONE_DMA32, ALLOC_WMARK_MIN));
}

TEST(GuestosBuddyTest, MinWatermarkStopsOrdinaryRequestsReservesServeAtomicAndNofail) {
    Machine m(64 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    const FreeAreaCounts initial = free_area_counts(b);
    const zone& dma = b.zone_at(ZONE_DMA);
    const int64_t min = static_cast<int64_t>(dma.min_wmark_pages());
    ASSERT_GT(min, 8);

    std::vector<PhysAddr> kernel = allocate_until_failure(b, GFP_KERNEL | GFP_DMA);
    EXPECT_FALSE(kernel.empty());
    EXPECT_LE(dma.nr_free_pages, min);  // GFP_KERNEL stops at the min watermark
    EXPECT_GT(dma.nr_free_pages, min - dma.pcp.batch - 1);
    EXPECT_EQ(dma.pcp.count, 0);  // its direct-reclaim step drained the pcp list
    for (PhysAddr pa : kernel) ASSERT_EQ(zone_of(b, pa), ZONE_DMA);

    std::vector<PhysAddr> atomic = allocate_until_failure(b, GFP_ATOMIC | GFP_DMA);
    EXPECT_FALSE(atomic.empty());  // GFP_ATOMIC digs into the reserve ...
    int64_t atomic_min = min - min / 2;
    atomic_min -= atomic_min / 4;
    EXPECT_LE(dma.nr_free_pages, atomic_min);  // ... down to 3/8 of min
    EXPECT_FALSE(b.alloc_pages(GFP_KERNEL | GFP_DMA, 0));

    std::vector<PhysAddr> nofail = allocate_until_failure(b, GFP_KERNEL | GFP_DMA | __GFP_NOFAIL);
    EXPECT_FALSE(nofail.empty());  // __GFP_NOFAIL takes the rest ...
    EXPECT_EQ(dma.nr_free_pages, 0);
    EXPECT_EQ(dma.pcp.count, 0);
    EXPECT_EQ(kernel.size() + atomic.size() + nofail.size(), dma.managed_pages);
    EXPECT_FALSE(b.alloc_pages(GFP_KERNEL | GFP_DMA | __GFP_NOFAIL, 0));  // ... and then fails, not aborts
    EXPECT_CONSISTENT(b);

    free_all(b, kernel);
    free_all(b, atomic);
    free_all(b, nofail);
    b.drain_all_pages();
    EXPECT_EQ(free_area_counts(b), initial);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, EveryZoneExhaustedGivesNulloptForEveryRequestAndNoCorruption) {
    for (BuddyConfig cfg : {x86_64_cfg(), i386_cfg(16 * MiB)}) {
        Machine m(24 * MiB, cfg);
        BuddyAllocator& b = *m.buddy;
        const FreeAreaCounts initial = free_area_counts(b);
        std::vector<std::pair<PhysAddr, unsigned>> held;
        for (unsigned order = MAX_PAGE_ORDER + 1; order-- > 0;)
            while (auto pa = b.alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_NOFAIL, order)) held.push_back({*pa, order});
        EXPECT_EQ(b.nr_free_pages(), 0u);
        for (gfp_t gfp : {GFP_KERNEL, GFP_USER, GFP_ATOMIC, GFP_HIGHUSER_MOVABLE, GFP_DMA, GFP_DMA32,
                          GFP_KERNEL | __GFP_ZERO, GFP_KERNEL | __GFP_NOFAIL})
            for (unsigned order : {0u, 1u, 5u, MAX_PAGE_ORDER, MAX_PAGE_ORDER + 1})
                EXPECT_FALSE(b.alloc_pages(gfp, order)) << "gfp " << gfp << " order " << order;
        EXPECT_CONSISTENT(b);
        for (auto [pa, order] : held) b.free_pages(pa, order);
        b.drain_all_pages();
        EXPECT_EQ(free_area_counts(b), initial);
        EXPECT_EQ(b.nr_bad_frees(), 0u);
        EXPECT_CONSISTENT(b);
    }
}

TEST(GuestosBuddyTest, I386FallbackFollowsHighmemNormalDmaAndDmaKeepsItsReserve) {
    Machine m(64 * MiB, i386_cfg(32 * MiB));
    BuddyAllocator& b = *m.buddy;
    std::array<uint64_t, MAX_NR_ZONES> per_zone{};
    std::vector<PhysAddr> user = allocate_following_zonelist(b, GFP_HIGHUSER_MOVABLE, per_zone);
    EXPECT_EQ(zone_of(b, user.front()), ZONE_HIGHMEM);
    EXPECT_GT(per_zone[ZONE_HIGHMEM], 0u);
    EXPECT_GT(per_zone[ZONE_NORMAL], 0u);
    EXPECT_GT(per_zone[ZONE_DMA], 0u);
    EXPECT_EQ(b.vm_event(PGALLOC_HIGH), per_zone[ZONE_HIGHMEM]);
    EXPECT_EQ(b.vm_event(PGALLOC_NORMAL), per_zone[ZONE_NORMAL]);
    EXPECT_EQ(b.vm_event(PGALLOC_DMA), per_zone[ZONE_DMA]);
    // lowmem_reserve kept DMA pages back from highmem-capable requests: DMA still serves DMA.
    auto dma = b.alloc_pages(GFP_KERNEL | GFP_DMA, 0);
    ASSERT_TRUE(dma);
    EXPECT_EQ(zone_of(b, *dma), ZONE_DMA);
    b.free_pages(*dma, 0);
    free_all(b, user);

    for (int i = 0; i < 2000; ++i) {
        auto k = b.alloc_pages(GFP_KERNEL, 0);
        ASSERT_TRUE(k);
        EXPECT_FALSE(b.PageHighMem(k->pfn())) << "GFP_KERNEL never gets highmem";
        user.push_back(*k);
        auto d = b.alloc_pages(GFP_DMA, 0);
        ASSERT_TRUE(d);
        EXPECT_EQ(zone_of(b, *d), ZONE_DMA);
        user.push_back(*d);
    }
    free_all(b, user);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, X86_64FallbackFollowsDma32ThenDma) {
    Machine m(64 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    EXPECT_EQ(gfp_zone(KernelArch::X86_64, GFP_HIGHUSER), ZONE_NORMAL);
    EXPECT_EQ(gfp_zone(KernelArch::X86_64, GFP_DMA32), ZONE_DMA32);
    EXPECT_EQ(gfp_zone(KernelArch::I386, GFP_DMA32), ZONE_NORMAL);
    EXPECT_EQ(gfp_zone(KernelArch::I386, GFP_HIGHUSER), ZONE_HIGHMEM);
    EXPECT_EQ(gfp_zone(KernelArch::I386, GFP_HIGHUSER_MOVABLE), ZONE_MOVABLE);
    std::array<uint64_t, MAX_NR_ZONES> per_zone{};
    std::vector<PhysAddr> pages = allocate_following_zonelist(b, GFP_DMA32, per_zone);
    const bool saw_dma = per_zone[ZONE_DMA] > 0;
    EXPECT_GT(per_zone[ZONE_DMA32], 0u);
    EXPECT_EQ(zone_of(b, pages.front()), ZONE_DMA32);
    EXPECT_TRUE(saw_dma);
    free_all(b, pages);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, UnmovableAndMovableRequestsUseDifferentPageblocks) {
    Machine m(64 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    auto k = b.alloc_pages(GFP_KERNEL, 0);
    auto u = b.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    auto r = b.alloc_pages(GFP_KERNEL | __GFP_RECLAIMABLE, 0);
    ASSERT_TRUE(k && u && r);
    EXPECT_NE(k->pfn() >> pageblock_order, u->pfn() >> pageblock_order);
    EXPECT_NE(r->pfn() >> pageblock_order, u->pfn() >> pageblock_order);
    EXPECT_NE(r->pfn() >> pageblock_order, k->pfn() >> pageblock_order);
    b.free_pages(*k, 0);
    b.free_pages(*u, 0);
    b.free_pages(*r, 0);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, PcpListsRefillByBatchAndSpillAboveHigh) {
    Machine m(256 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    const zone& z = b.zone_at(ZONE_DMA32);
    // zone_batchsize: min(managed/1024, 256)/4, as 2^n - 1
    uint64_t batch = std::min<uint64_t>(z.managed_pages >> 10, 256) / 4;
    uint64_t p2 = 1;
    while (p2 * 2 <= batch + batch / 2) p2 *= 2;
    EXPECT_EQ(z.pcp.batch, static_cast<int>(p2 - 1));
    EXPECT_EQ(z.pcp.high, static_cast<int>(std::max<uint64_t>(z.low_wmark_pages(), 4 * (p2 - 1))));

    auto first = b.alloc_pages(GFP_KERNEL, 0);
    ASSERT_TRUE(first);
    EXPECT_EQ(z.pcp.count, z.pcp.batch - 1);
    std::vector<PhysAddr> pages{*first};
    for (int i = 0; i < 3 * z.pcp.high; ++i) pages.push_back(*b.alloc_pages(GFP_KERNEL, 0));
    for (PhysAddr pa : pages) {
        b.free_pages(pa, 0);
        ASSERT_LT(z.pcp.count, z.pcp.high);
    }
    EXPECT_GT(z.pcp.count, 0);
    const uint64_t free_before = b.nr_free_pages();
    b.drain_all_pages();
    EXPECT_EQ(z.pcp.count, 0);
    EXPECT_EQ(b.nr_free_pages(), free_before);  // pcp pages were counted free all along
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, GfpZeroZeroesAndGfpCompBuildsACompoundPage) {
    Machine m(32 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    auto pa = b.alloc_pages(GFP_KERNEL, 2);
    ASSERT_TRUE(pa);
    std::memset(m.ram->host(*pa, 4 * PAGE_SIZE), 0xAB, 4 * PAGE_SIZE);
    b.free_pages(*pa, 2);
    auto z = b.alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_COMP, 2);
    ASSERT_TRUE(z);
    EXPECT_EQ(*z, *pa);  // the same block comes back first
    const uint8_t* bytes = m.ram->host(*z, 4 * PAGE_SIZE);
    EXPECT_TRUE(std::all_of(bytes, bytes + 4 * PAGE_SIZE, [](uint8_t c) { return c == 0; }));
    EXPECT_TRUE(b.pfn_page(z->pfn()).flags & PG_head);
    EXPECT_EQ(b.pfn_page(z->pfn())._refcount, 1);
    for (uint64_t i = 1; i < 4; ++i) {
        EXPECT_TRUE(b.pfn_page(z->pfn() + i).flags & PG_tail);
        EXPECT_EQ(b.pfn_page(z->pfn() + i).compound_head, z->pfn());
    }
    b.free_pages(*z, 2);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, BadFreesAreIgnoredAndCounted) {
    Machine m(32 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    auto pa = b.alloc_pages(GFP_KERNEL, 1);
    ASSERT_TRUE(pa);
    const uint64_t free = b.nr_free_pages();
    b.free_pages(PhysAddr(0), 0);                          // reserved
    b.free_pages(PhysAddr(64 * MiB), 0);                   // outside RAM
    b.free_pages(*pa + PAGE_SIZE, 1);                      // misaligned for its order
    b.free_pages(*pa, MAX_PAGE_ORDER + 1);                 // no such order
    b.free_pages(PhysAddr::from_pfn(b.max_pfn() - 1), 0);  // a free page
    EXPECT_EQ(b.nr_bad_frees(), 5u);
    EXPECT_EQ(b.nr_free_pages(), free);
    b.free_pages(*pa, 1);
    b.free_pages(*pa, 1);  // double free
    EXPECT_EQ(b.nr_bad_frees(), 6u);
    EXPECT_EQ(b.nr_free_pages(), free + 2);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, MarkPageReservedMovesAPageFromManagedToReserved) {
    Machine m(32 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    PageAllocator& pa = b;  // the kernel reserves its zero page through the interface
    const uint64_t total = b.totalram_pages(), reserved = b.reserved_pages();
    auto zero = pa.alloc_page(GFP_KERNEL | __GFP_ZERO);
    ASSERT_TRUE(zero);
    const zone_type z = zone_of(b, *zero);
    const uint64_t managed = b.zone_at(z).managed_pages;
    pa.mark_page_reserved(*zero);
    EXPECT_EQ(b.totalram_pages(), total - 1);
    EXPECT_EQ(b.reserved_pages(), reserved + 1);
    EXPECT_EQ(b.zone_at(z).managed_pages, managed - 1);
    EXPECT_TRUE(b.pfn_page(zero->pfn()).flags & PG_reserved);
    pa.mark_page_reserved(*zero);  // twice: no change
    EXPECT_EQ(b.totalram_pages(), total - 1);
    EXPECT_CONSISTENT(b);
    pa.free_page(*zero);  // "no mapping ever frees it"
    EXPECT_EQ(b.nr_bad_frees(), 1u);
    EXPECT_EQ(b.nr_free_pages(), b.totalram_pages() - 0);  // everything else is free
    b.free_reserved_page(PhysAddr(0));                     // boot reservations stay
    EXPECT_EQ(b.nr_bad_frees(), 2u);
    b.free_reserved_page(*zero);
    EXPECT_EQ(b.totalram_pages(), total);
    EXPECT_EQ(b.reserved_pages(), reserved);
    EXPECT_EQ(b.nr_free_pages(), total);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, VmEventsCountAllocationsAndFrees) {
    Machine m(64 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    auto a = b.alloc_pages(GFP_KERNEL, 3);
    auto d = b.alloc_pages(GFP_DMA, 0);
    ASSERT_TRUE(a && d);
    EXPECT_EQ(b.vm_event(PGALLOC_DMA32), 8u);
    EXPECT_EQ(b.vm_event(PGALLOC_DMA), 1u);
    EXPECT_EQ(b.vm_event(PGFREE), 0u);
    b.free_pages(*a, 3);
    b.free_pages(*d, 0);
    EXPECT_EQ(b.vm_event(PGFREE), 9u);
    EXPECT_STREQ(vm_event_name(PGALLOC_DMA32), "pgalloc_dma32");
    EXPECT_STREQ(vm_event_name(PGFREE), "pgfree");
    EXPECT_EQ(vm_event_zone(ALLOCSTALL_HIGH), ZONE_HIGHMEM);
}

TEST(GuestosBuddyTest, DirectReclaimHookRunsForRequestsThatMaySleep) {
    Machine m(16 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    std::vector<PhysAddr> cache = allocate_until_failure(b, GFP_KERNEL);
    int calls = 0;
    b.set_direct_reclaim([&](gfp_t, unsigned) -> uint64_t {  // a "page cache" to shrink
        ++calls;
        uint64_t n = 0;
        for (; n < 64 && !cache.empty(); ++n) {
            b.free_pages(cache.back(), 0);
            cache.pop_back();
        }
        return n;
    });
    if (auto at = b.alloc_pages(GFP_ATOMIC, 0)) cache.push_back(*at);  // from the reserve
    EXPECT_EQ(calls, 0) << "a request that cannot sleep never reclaims";
    auto pa = b.alloc_pages(GFP_KERNEL, 0);
    EXPECT_TRUE(pa);
    EXPECT_GE(calls, 1);
    EXPECT_GE(b.vm_event(ALLOCSTALL_NORMAL), 1u);
    b.set_direct_reclaim({});
    if (pa) cache.push_back(*pa);
    free_all(b, cache);
    EXPECT_CONSISTENT(b);
}

// Random alloc/free sequences against a model of which frames are allocated: no frame twice,
// right zones and alignment, exact free counts, failures only below the watermarks, and
// freeing everything restores the initial free_area counts.
void random_sequence_matches_model(KernelArch arch, unsigned seed) {
    SCOPED_TRACE(testing::Message() << (arch == KernelArch::I386 ? "i386" : "x86-64") << " seed " << seed);
    const BuddyConfig cfg = arch == KernelArch::I386 ? i386_cfg(20 * MiB) : x86_64_cfg();
    Machine m(32 * MiB, cfg);
    BuddyAllocator& b = *m.buddy;
    const FreeAreaCounts initial = free_area_counts(b);
    std::mt19937 rng(seed);
    const gfp_t gfps[] = {GFP_KERNEL,
                          GFP_USER,
                          GFP_HIGHUSER_MOVABLE,
                          GFP_ATOMIC,
                          GFP_DMA,
                          GFP_KERNEL | __GFP_RECLAIMABLE,
                          GFP_HIGHUSER_MOVABLE | __GFP_ZERO};
    struct Block {
        unsigned order;
        uint8_t tag;
    };
    std::map<uint64_t, Block> live;  // head pfn -> block
    std::vector<uint8_t> owned(b.max_pfn(), 0);
    uint64_t allocated = 0;
    for (int step = 0; step < 20000; ++step) {
        const bool do_alloc = live.empty() || rng() % 100 < 55;
        if (do_alloc) {
            const gfp_t gfp = gfps[rng() % std::size(gfps)];
            const unsigned order = rng() % 4 == 0 ? rng() % (MAX_PAGE_ORDER + 1) : rng() % 3;
            auto pa = b.alloc_pages(gfp, order);
            const zone_type highest = gfp_zone(arch, gfp);
            if (!pa) {  // failure only when no eligible zone passes its watermark
                for (int t = highest; t >= 0; --t) {
                    const zone& z = b.zone_at(zone_type(t));
                    if (!z.managed_pages) continue;
                    EXPECT_FALSE(
                        b.zone_watermark_ok(z, order, z.min_wmark_pages(), highest, gfp_to_alloc_flags(gfp, order)))
                        << "step " << step << " zone " << z.name << " order " << order;
                }
                continue;
            }
            const uint64_t pfn = pa->pfn(), n = 1ull << order;
            ASSERT_EQ(pfn % n, 0u);
            ASSERT_LE(b.page_zonenum(pfn), highest) << "zone above the request's highest zone";
            if (gfp & __GFP_ZERO) {
                const uint8_t* p = m.ram->host(*pa, n * PAGE_SIZE);
                ASSERT_TRUE(std::all_of(p, p + n * PAGE_SIZE, [](uint8_t c) { return c == 0; }));
            }
            const uint8_t tag = static_cast<uint8_t>(1 + rng() % 250);
            for (uint64_t i = 0; i < n; ++i) {
                ASSERT_EQ(owned[pfn + i], 0) << "frame handed out twice at step " << step;
                owned[pfn + i] = 1;
                std::memset(m.ram->host(PhysAddr::from_pfn(pfn + i), PAGE_SIZE), tag, PAGE_SIZE);
            }
            live[pfn] = {order, tag};
            allocated += n;
        } else {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            const uint64_t pfn = it->first, n = 1ull << it->second.order;
            for (uint64_t i = 0; i < n; ++i) {
                const uint8_t* p = m.ram->host(PhysAddr::from_pfn(pfn + i), PAGE_SIZE);
                ASSERT_TRUE(p[0] == it->second.tag && p[PAGE_SIZE - 1] == it->second.tag)
                    << "someone else wrote into an allocated frame";
                owned[pfn + i] = 0;
            }
            b.free_pages(PhysAddr::from_pfn(pfn), it->second.order);
            allocated -= n;
            live.erase(it);
        }
        ASSERT_EQ(b.nr_free_pages(), b.totalram_pages() - allocated);
        if (step % 2500 == 0) EXPECT_CONSISTENT(b);
    }
    EXPECT_CONSISTENT(b);
    for (auto& [pfn, blk] : live) b.free_pages(PhysAddr::from_pfn(pfn), blk.order);
    b.drain_all_pages();
    EXPECT_EQ(free_area_counts(b), initial);
    EXPECT_EQ(b.nr_bad_frees(), 0u);
    uint64_t pgalloc = 0;
    for (unsigned t = 0; t < MAX_NR_ZONES; ++t) pgalloc += b.vm_event(zone_event(PGALLOC_DMA, zone_type(t)));
    EXPECT_EQ(pgalloc, b.vm_event(PGFREE));
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, RandomSequencesMatchTheModel) {
    for (KernelArch arch : {KernelArch::X86_64, KernelArch::I386})
        for (unsigned seed : {1u, 2u, 3u}) random_sequence_matches_model(arch, seed);
}

// Deferred struct page init (CONFIG_DEFERRED_STRUCT_PAGE_INIT): only some struct pages are
// built at boot; allocations that reach the rest grow the zone, and nothing any caller can
// see differs from a boot that built them all.

BuddyConfig without_deferral(BuddyConfig c) {
    c.deferred_struct_page_init = false;
    return c;
}

TEST(GuestosBuddyTest, DeferredInitLeavesMostStructPagesUnbuiltAndCountsThemFree) {
    for (BuddyConfig cfg : {x86_64_cfg(), i386_cfg(896 * MiB), i386_cfg(512 * MiB)}) {
        Machine lazy(1024 * MiB, cfg), full(1024 * MiB, without_deferral(cfg));
        const BuddyAllocator &l = *lazy.buddy, &f = *full.buddy;
        EXPECT_EQ(f.nr_deferred_pages(), 0u);
        EXPECT_GT(l.nr_deferred_pages(), l.max_pfn() * 3 / 4);  // most of RAM waits
        EXPECT_EQ(l.nr_free_pages(), f.nr_free_pages());
        EXPECT_EQ(l.totalram_pages(), f.totalram_pages());
        EXPECT_EQ(l.reserved_pages(), f.reserved_pages());
        EXPECT_EQ(free_area_counts(l), free_area_counts(f));
        EXPECT_EQ(l.count_page_uses().by_use, f.count_page_uses().by_use);
        EXPECT_EQ(l.count_page_uses().zone_by_use, f.count_page_uses().zone_by_use);
        for (unsigned t = 0; t < MAX_NR_ZONES; ++t)
            EXPECT_EQ(l.zone_at(zone_type(t)).nr_free_pages, f.zone_at(zone_type(t)).nr_free_pages);
        uint64_t built = 0;
        for (const auto& [start, end] : l.memmap_ranges()) built += end - start;
        EXPECT_EQ(built + l.nr_deferred_pages(), l.max_pfn());
        EXPECT_CONSISTENT(l);
        EXPECT_CONSISTENT(f);
    }
}

// Allocates with a fixed mix of requests; returns each answer's pfn (NO_PFN for none).
std::vector<uint32_t> allocate_mix(BuddyAllocator& b, unsigned seed, int steps) {
    std::mt19937 rng(seed);
    const gfp_t gfps[] = {GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_DMA32, GFP_ATOMIC};
    std::vector<uint32_t> got;
    std::vector<std::pair<PhysAddr, unsigned>> live;
    for (int step = 0; step < steps; ++step) {
        if (!live.empty() && rng() % 100 < 30) {
            const size_t i = rng() % live.size();
            b.free_pages(live[i].first, live[i].second);
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
            continue;
        }
        const unsigned order = rng() % 8 == 0 ? MAX_PAGE_ORDER - rng() % 3 : rng() % 4;
        auto pa = b.alloc_pages(gfps[rng() % std::size(gfps)], order);
        got.push_back(pa ? static_cast<uint32_t>(pa->pfn()) : NO_PFN);
        if (pa) live.emplace_back(*pa, order);
    }
    return got;
}

TEST(GuestosBuddyTest, DeferredInitHandsOutTheSameFramesAsAFullBoot) {
    for (BuddyConfig cfg : {x86_64_cfg(), i386_cfg(896 * MiB), i386_cfg(100 * MiB)}) {
        Machine lazy(512 * MiB, cfg), full(512 * MiB, without_deferral(cfg));
        const uint64_t deferred_at_boot = lazy.buddy->nr_deferred_pages();
        ASSERT_GT(deferred_at_boot, 0u);
        EXPECT_EQ(allocate_mix(*lazy.buddy, 7, 6000), allocate_mix(*full.buddy, 7, 6000));
        EXPECT_LT(lazy.buddy->nr_deferred_pages(), deferred_at_boot);  // the zones grew
        EXPECT_EQ(lazy.buddy->nr_free_pages(), full.buddy->nr_free_pages());
        EXPECT_EQ(free_area_counts(*lazy.buddy), free_area_counts(*full.buddy));
        EXPECT_CONSISTENT(*lazy.buddy);
        lazy.buddy->deferred_init_memmap();  // finishing changes no answer either
        EXPECT_EQ(lazy.buddy->nr_deferred_pages(), 0u);
        EXPECT_EQ(allocate_mix(*lazy.buddy, 8, 3000), allocate_mix(*full.buddy, 8, 3000));
        EXPECT_CONSISTENT(*lazy.buddy);
    }
}

TEST(GuestosBuddyTest, AllocatingPastTheBuiltPagesGrowsTheZoneAndEveryFrameIsReachable) {
    Machine m(256 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    const zone& dma32 = b.zone_at(ZONE_DMA32);
    const uint64_t deferred = dma32.nr_deferred_pages();
    ASSERT_GT(deferred, 0u);
    const uint64_t free_before = b.nr_free_pages();
    std::vector<PhysAddr> blocks;
    while (dma32.nr_deferred_pages() == deferred) {
        auto pa = b.alloc_pages(GFP_HIGHUSER_MOVABLE, MAX_PAGE_ORDER);
        ASSERT_TRUE(pa);
        blocks.push_back(*pa);
    }
    EXPECT_EQ(b.nr_free_pages(), free_before - (blocks.size() << MAX_PAGE_ORDER));  // growth frees nothing new
    EXPECT_CONSISTENT(b);
    const std::vector<PhysAddr> rest = allocate_until_failure(b, GFP_HIGHUSER_MOVABLE);
    EXPECT_EQ(dma32.nr_deferred_pages(), 0u);  // exhaustion reached every frame
    std::vector<uint8_t> owned(b.max_pfn(), 0);
    for (PhysAddr pa : blocks)
        for (uint64_t i = 0; i < MAX_ORDER_NR_PAGES; ++i) owned[pa.pfn() + i] = 1;
    for (PhysAddr pa : rest) {
        ASSERT_FALSE(owned[pa.pfn()]) << "frame handed out twice";
        owned[pa.pfn()] = 1;
    }
    EXPECT_CONSISTENT(b);
    for (PhysAddr pa : rest) b.free_page(pa);
    for (PhysAddr pa : blocks) b.free_pages(pa, MAX_PAGE_ORDER);
    b.drain_all_pages();
    EXPECT_EQ(b.nr_free_pages(), free_before);
    EXPECT_CONSISTENT(b);
}

TEST(GuestosBuddyTest, DeferredFramesReadAsFreeAndBadFreesOfThemAreCounted) {
    Machine m(256 * MiB, x86_64_cfg());
    BuddyAllocator& b = *m.buddy;
    const zone& dma32 = b.zone_at(ZONE_DMA32);
    ASSERT_GT(dma32.nr_deferred_pages(), 0u);
    const uint64_t pfn = dma32.first_deferred_pfn + 5;
    EXPECT_TRUE(b.pfn_deferred(pfn));
    EXPECT_EQ(b.pfn_page(pfn).use, PageUse::Free);
    EXPECT_EQ(b.pfn_page(pfn).flags, 0u);
    b.free_pages(PhysAddr::from_pfn(pfn), 0);
    b.mark_page_reserved(PhysAddr::from_pfn(pfn));
    EXPECT_EQ(b.nr_bad_frees(), 1u);
    EXPECT_TRUE(b.pfn_deferred(pfn));  // neither built it
    const uint64_t free = b.nr_free_pages();
    page& p = b.pfn_to_page(pfn);  // a writer's access builds it, and the zone above it
    EXPECT_FALSE(b.pfn_deferred(pfn));
    EXPECT_EQ(p.use, PageUse::Free);
    EXPECT_EQ(b.nr_free_pages(), free);
    EXPECT_CONSISTENT(b);
}
