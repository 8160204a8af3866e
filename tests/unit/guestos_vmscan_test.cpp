// LRU aging and reclaim on a bare mm (no CPU): how pages enter the lists, climb to the active
// list, and which ones reclaim frees, in which order (mm/swap.c, mm/vmscan.c).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "guestos/include/fs.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/rmap.h"
#include "guestos/mm/shrinker.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/vmscan.h"
#include "guestos_test_util.h"

using namespace guestos;
using mmu::PhysAddr;
using mmu::VirtAddr;

namespace {

constexpr uint64_t P = 4096;

struct CountingTlb final : TlbFlusher {
    std::vector<uint64_t> pages;
    void flush_tlb_page(VirtAddr va) override { pages.push_back(va.value); }
    void flush_tlb_range(VirtAddr, VirtAddr) override {}
    void flush_tlb_mm() override {}
};

class GuestosVmscanTest : public ReclaimRamTest {
protected:
    void SetUp() override {
        ReclaimRamTest::SetUp();
        ASSERT_FALSE(HasFatalFailure());
        mm_.ram = ram_.get();
        mm_.page_alloc = buddy_.get();
        mm_.paging_mode = mmu::PagingMode::LongMode4;
        mm_.tlb = &tlb_;
        mm_.task_size = 1ull << 47;
        mm_.mmap_base = 1ull << 46;
        ASSERT_TRUE(pgd_alloc(mm_));
        file_ = std::make_unique<inode>();
        file_->i_data.a_ops = &host_file_aops;
        file_->i_data.km = kernel_mem{ram_.get(), buddy_.get(), nullptr, nullptr};
    }
    void TearDown() override {
        exit_mmap(mm_);
        file_.reset();
    }
    lruvec& lv() { return *buddy_->node_lruvec(); }
    uint64_t on(lru_list l) { return lv().nr_pages[l]; }
    // A host-backed file of n pages whose page i starts with byte i.
    void make_file(uint64_t n) {
        file_->contents.assign(n * P, 0);
        for (uint64_t i = 0; i < n; ++i) file_->contents[i * P] = static_cast<uint8_t>(i);
        file_->i_size = n * P;
    }
    page& cache_page(uint64_t index) {
        auto f = pagecache_get_page(file_->i_data, index);
        EXPECT_FALSE(f.is_error());
        return buddy_->phys_to_page(f.value());
    }
    bool cached(uint64_t index) { return find_get_page(file_->i_data, index).has_value(); }
    void fault(uint64_t va, bool write) {
        vm_area_struct* v = find_vma(mm_, VirtAddr(va));
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(handle_mm_fault(mm_, *v, VirtAddr(va), write ? FAULT_FLAG_WRITE : 0u) & VM_FAULT_ERROR, 0u);
    }

    CountingTlb tlb_;
    mm_struct mm_;
    std::unique_ptr<inode> file_;
};

TEST_F(GuestosVmscanTest, NewPagesWaitInThePagevecUntilItFillsOrDrains) {
    make_file(40);
    for (uint64_t i = 0; i < PAGEVEC_SIZE - 1; ++i) cache_page(i);
    EXPECT_EQ(on(LRU_INACTIVE_FILE), 0u) << "batched, not yet on a list";
    cache_page(PAGEVEC_SIZE - 1);
    EXPECT_EQ(on(LRU_INACTIVE_FILE), PAGEVEC_SIZE) << "a full batch goes on the list at once";
    cache_page(PAGEVEC_SIZE);
    EXPECT_EQ(on(LRU_INACTIVE_FILE), PAGEVEC_SIZE);
    lru_add_drain(*buddy_);
    EXPECT_EQ(on(LRU_INACTIVE_FILE), PAGEVEC_SIZE + 1);
    EXPECT_EQ(on(LRU_ACTIVE_FILE), 0u);
}

TEST_F(GuestosVmscanTest, SecondAccessActivatesAFilePage) {
    make_file(4);
    page& p = cache_page(0);
    lru_add_drain(*buddy_);
    mark_page_accessed(*buddy_, p);
    EXPECT_TRUE(p.flags & PG_referenced);
    EXPECT_FALSE(p.flags & PG_active);
    mark_page_accessed(*buddy_, p);
    lru_add_drain(*buddy_);
    EXPECT_TRUE(p.flags & PG_active);
    EXPECT_FALSE(p.flags & PG_referenced);
    EXPECT_EQ(on(LRU_ACTIVE_FILE), 1u);
    EXPECT_EQ(buddy_->vm_event(PGACTIVATE), 1u);
}

TEST_F(GuestosVmscanTest, PageStillInTheBatchIsActivatedThere) {
    make_file(4);
    page& p = cache_page(0);  // in the lru_add batch
    mark_page_accessed(*buddy_, p);
    mark_page_accessed(*buddy_, p);
    lru_add_drain(*buddy_);
    EXPECT_EQ(on(LRU_ACTIVE_FILE), 1u) << "__lru_cache_activate_folio";
}

TEST_F(GuestosVmscanTest, FreedPagesLeaveTheirListAndTheBatch) {
    const long a = do_mmap(mm_, nullptr, 0, 40 * P, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_, 0);
    ASSERT_GT(a, 0);
    for (uint64_t i = 0; i < 40; ++i) fault(static_cast<uint64_t>(a) + i * P, true);
    EXPECT_EQ(on(LRU_INACTIVE_ANON), 30u);
    EXPECT_EQ(lv().fbatches.lru_add.nr, 10u);
    ASSERT_EQ(do_munmap(mm_, static_cast<uint64_t>(a), 40 * P), 0);
    EXPECT_EQ(on(LRU_INACTIVE_ANON), 0u);
    EXPECT_EQ(lv().fbatches.lru_add.nr, 0u);
    EXPECT_CONSISTENT(*buddy_);
}

TEST_F(GuestosVmscanTest, ReclaimFreesTheOldestUnreferencedFilePagesFirst) {
    make_file(200);
    for (uint64_t i = 0; i < 200; ++i) cache_page(i);
    lru_add_drain(*buddy_);
    scan_control sc;
    sc.nr_to_reclaim = 32;
    sc.priority = 2;  // 200 >> 2 = 50 to scan
    shrink_node(*buddy_, sc);
    EXPECT_GE(sc.nr_reclaimed, 32u);
    // The list's tail is the first page read: the pages leave in the order they came.
    for (uint64_t i = 0; i < sc.nr_reclaimed; ++i) EXPECT_FALSE(cached(i)) << i;
    for (uint64_t i = sc.nr_reclaimed; i < 200; ++i) EXPECT_TRUE(cached(i)) << i;
    EXPECT_EQ(buddy_->vm_event(PGSTEAL_DIRECT), sc.nr_reclaimed);
    EXPECT_EQ(buddy_->vm_event(PGSCAN_DIRECT), sc.nr_scanned);
    EXPECT_CONSISTENT(*buddy_);
}

TEST_F(GuestosVmscanTest, FilePageReferencedOnlyByReadIsReclaimedClean) {
    make_file(8);
    for (uint64_t i = 0; i < 8; ++i) cache_page(i);
    lru_add_drain(*buddy_);
    page& once = cache_page(0);  // the coldest page, read once more through read()
    mark_page_accessed(*buddy_, once);
    scan_control sc;
    sc.nr_to_reclaim = 8;
    sc.priority = 0;
    shrink_node(*buddy_, sc);
    // PG_referenced alone on a file page: reclaimed (PAGEREF_RECLAIM_CLEAN), as Linux does.
    EXPECT_FALSE(cached(0));
    EXPECT_EQ(sc.nr_reclaimed, 8u);
}

TEST_F(GuestosVmscanTest, AnonymousPagesStayWithoutSwap) {
    const long a = do_mmap(mm_, nullptr, 0, 64 * P, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_, 0);
    ASSERT_GT(a, 0);
    for (uint64_t i = 0; i < 64; ++i) fault(static_cast<uint64_t>(a) + i * P, true);
    lru_add_drain(*buddy_);
    EXPECT_EQ(try_to_free_pages(*buddy_, GFP_KERNEL, 0), 0u);
    EXPECT_EQ(on(LRU_INACTIVE_ANON) + on(LRU_ACTIVE_ANON), 64u);
    EXPECT_EQ(buddy_->vm_event(PGSCAN_ANON), 0u) << "get_scan_count: SCAN_FILE without swap";
}

TEST_F(GuestosVmscanTest, AllocationBelowLowWakesKswapdWhichReclaimsToHigh) {
    // Fill the page cache until an allocation fails the low watermark.
    const uint64_t n = buddy_->totalram_pages();
    make_file(n);
    uint64_t i = 0;
    while (!buddy_->NODE_DATA().kswapd_wait && i < n) cache_page(i++);
    ASSERT_TRUE(buddy_->NODE_DATA().kswapd_wait);
    EXPECT_FALSE(pgdat_balanced(*buddy_, 0, ZONE_NORMAL));
    EXPECT_GT(kswapd(*buddy_), 0u);
    EXPECT_FALSE(buddy_->NODE_DATA().kswapd_wait);
    EXPECT_TRUE(pgdat_balanced(*buddy_, 0, ZONE_NORMAL));
    EXPECT_GT(buddy_->vm_event(PGSTEAL_KSWAPD), 0u);
    EXPECT_EQ(buddy_->vm_event(PGSTEAL_DIRECT), 0u);
    EXPECT_EQ(buddy_->vm_event(PAGEOUTRUN), 1u);
    EXPECT_CONSISTENT(*buddy_);
}

TEST_F(GuestosVmscanTest, ReadingMoreThanRamDirectReclaimsInsteadOfFailing) {
    const uint64_t n = buddy_->totalram_pages() * 2;
    make_file(n);
    for (uint64_t i = 0; i < n; ++i) {  // no kswapd runs: only direct reclaim frees
        auto f = pagecache_get_page(file_->i_data, i);
        ASSERT_FALSE(f.is_error()) << "page " << i;
    }
    EXPECT_GT(buddy_->vm_event(PGSTEAL_DIRECT), 0u);
    EXPECT_LT(file_->i_data.nrpages(), buddy_->totalram_pages());
    EXPECT_CONSISTENT(*buddy_);
}

TEST_F(GuestosVmscanTest, DropCachesDropsCleanUnmappedPagesOnly) {
    make_file(8);
    for (uint64_t i = 0; i < 8; ++i) cache_page(i);
    EXPECT_EQ(drop_pagecache(), 8u);
    EXPECT_EQ(file_->i_data.nrpages(), 0u);
}

// Workingset detection (mm/workingset.c): what reclaim leaves behind and what a refault does.

// Evicts the n oldest inactive pages (unreferenced, so each scanned page goes) at priority 0.
void evict_oldest(BuddyAllocator& b, uint64_t n) {
    scan_control sc;
    sc.nr_to_reclaim = n;
    sc.priority = 0;
    shrink_node(b, sc);
}

TEST_F(GuestosVmscanTest, EvictedFilePageRefaultsActiveWhenItsDistanceFitsTheWorkingSet) {
    make_file(100);
    for (uint64_t i = 0; i < 100; ++i) cache_page(i);
    for (uint64_t i = 50; i < 100; ++i) {  // pages 50..99 are the working set
        mark_page_accessed(*buddy_, cache_page(i));
        mark_page_accessed(*buddy_, cache_page(i));
    }
    lru_add_drain(*buddy_);
    ASSERT_EQ(on(LRU_ACTIVE_FILE), 50u);
    EXPECT_EQ(lv().nonresident_age, 50u) << "every activation ages the clock";
    evict_oldest(*buddy_, 32);
    ASSERT_FALSE(cached(0));
    EXPECT_EQ(file_->i_data.i_shadow.size(), 32u) << "one shadow entry per evicted page";
    EXPECT_EQ(lv().nonresident_age, 82u) << "and every eviction";
    page& p = cache_page(0);  // distance 32 <= 50 active pages
    EXPECT_TRUE(p.flags & PG_active);
    EXPECT_FALSE(p.flags & PG_workingset) << "it had never been active";
    lru_add_drain(*buddy_);
    EXPECT_EQ(on(LRU_ACTIVE_FILE), 51u);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_REFAULT_FILE), 1);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_ACTIVATE_FILE), 1);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_RESTORE_FILE), 0);
    EXPECT_EQ(file_->i_data.i_shadow.size(), 31u) << "the refault took its shadow";
    EXPECT_CONSISTENT(*buddy_);
}

TEST_F(GuestosVmscanTest, RefaultFartherThanTheWorkingSetStaysInactive) {
    make_file(300);
    for (uint64_t i = 0; i < 300; ++i) cache_page(i);
    for (uint64_t i = 290; i < 300; ++i) {
        mark_page_accessed(*buddy_, cache_page(i));
        mark_page_accessed(*buddy_, cache_page(i));
    }
    lru_add_drain(*buddy_);
    evict_oldest(*buddy_, 200);  // pages 0..223, in batches of 32
    ASSERT_FALSE(cached(223));
    ASSERT_TRUE(cached(224));
    page& far = cache_page(0);  // evicted 224 pages ago: more than the 10 active pages
    EXPECT_FALSE(far.flags & PG_active);
    page& near = cache_page(223);  // evicted last: distance 1
    EXPECT_TRUE(near.flags & PG_active);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_REFAULT_FILE), 2);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_ACTIVATE_FILE), 1);
}

TEST_F(GuestosVmscanTest, RefaultOfAPageDeactivatedFromTheActiveListIsARestore) {
    make_file(40);
    for (uint64_t i = 0; i < 40; ++i) {
        mark_page_accessed(*buddy_, cache_page(i));
        mark_page_accessed(*buddy_, cache_page(i));
    }
    lru_add_drain(*buddy_);
    scan_control age;  // the inactive list is empty: the active one is aged, 40 >> 1 pages
    age.priority = 1;
    shrink_node(*buddy_, age);
    ASSERT_EQ(on(LRU_INACTIVE_FILE), 20u);
    EXPECT_TRUE(buddy_->phys_to_page(*find_get_page(file_->i_data, 0)).flags & PG_workingset);
    scan_control sc;  // 20 >> 1 of them go; the other 20 stay active
    sc.priority = 1;
    shrink_node(*buddy_, sc);
    ASSERT_FALSE(cached(0));
    page& p = cache_page(0);
    EXPECT_TRUE(p.flags & PG_active);
    EXPECT_TRUE(p.flags & PG_workingset);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_RESTORE_FILE), 1);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_ACTIVATE_FILE), 1);
}

TEST_F(GuestosVmscanTest, ShadowOnlyNodesAreCountedUntilAPageOrTruncationEmptiesThem) {
    make_file(160);
    for (uint64_t i = 0; i < 160; ++i) cache_page(i);
    lru_add_drain(*buddy_);
    evict_oldest(*buddy_, 128);  // pages 0..127: two nodes of 64 slots hold shadows only
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_NODES), 2);
    EXPECT_EQ(workingset_shadow_nodes().size(), 2u);
    cache_page(5);  // a page in node 0 again
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_NODES), 1);
    EXPECT_EQ(drop_pagecache(), 33u) << "page 5 and pages 128..159";
    EXPECT_TRUE(file_->i_data.i_shadow.empty()) << "invalidation clears shadow entries";
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_NODES), 0);
    for (uint64_t i = 0; i < 64; ++i) cache_page(i);
    lru_add_drain(*buddy_);
    evict_oldest(*buddy_, 64);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_NODES), 1);
    truncate_setsize(*file_, 0);
    EXPECT_TRUE(file_->i_data.i_shadow.empty());
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_NODES), 0);
    EXPECT_TRUE(workingset_shadow_nodes().empty());
}

// Shrinkers (mm/shrinker.c): how much of a cache a reclaim pass asks for, and the rest deferred.
TEST(Shrinker, DoShrinkSlabScansByPressureInBatchesAndDefersTheRest) {
    uint64_t objects = 1000, calls = 0;
    shrinker s;
    s.count_objects = [&](shrinker&, shrink_control&) { return objects ? objects : SHRINK_EMPTY; };
    s.scan_objects = [&](shrinker&, shrink_control& sc) {
        ++calls;
        const uint64_t n = std::min(objects, sc.nr_to_scan);
        objects -= n;
        return n;
    };
    shrink_control sc;
    // Priority 2, 2 seeks: (1000 >> 2) * 4 / 2 = 500 to scan: 3 batches of 128, 116 deferred.
    EXPECT_EQ(do_shrink_slab(nullptr, sc, s, 2), 384u);
    EXPECT_EQ(calls, 3u);
    EXPECT_EQ(s.nr_deferred, 116);
    // The lightest priority asks for nothing now; the deferred work stays.
    EXPECT_EQ(do_shrink_slab(nullptr, sc, s, DEF_PRIORITY), 0u);
    EXPECT_EQ(s.nr_deferred, 116);
    // Priority 0: everything, at most twice the objects.
    EXPECT_EQ(do_shrink_slab(nullptr, sc, s, 0), 616u);
    EXPECT_EQ(objects, 0u);
    EXPECT_EQ(do_shrink_slab(nullptr, sc, s, 0), SHRINK_EMPTY);
}

TEST_F(GuestosVmscanTest, ShadowShrinkerFreesTheOldestShadowNodesPastItsLimit) {
    make_file(1);
    for (uint64_t i = 0; i < 300; ++i) cache_page(i * XA_CHUNK_SIZE);  // one page per node
    lru_add_drain(*buddy_);
    evict_oldest(*buddy_, 300);
    ASSERT_EQ(buddy_->node_page_state(WORKINGSET_NODES), 300);
    EXPECT_EQ(shrink_slab(buddy_.get(), GFP_KERNEL, 0, 0), 0u) << "300 nodes: fewer than RAM's pages / 8";
    buddy_->NODE_DATA().node_present_pages = 0;  // a node of no pages keeps no shadow nodes
    // 300 expendable nodes, seeks 0: half of them asked for, one batch of 128 freed.
    EXPECT_EQ(shrink_slab(buddy_.get(), GFP_KERNEL, 0, 0), 128u);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_NODES), 172);
    EXPECT_EQ(buddy_->node_page_state(WORKINGSET_NODERECLAIM), 128);
    EXPECT_FALSE(file_->i_data.i_shadow.count(0)) << "the oldest went first";
    EXPECT_TRUE(file_->i_data.i_shadow.count(299 * XA_CHUNK_SIZE));
    EXPECT_EQ(buddy_->vm_event(SLABS_SCANNED), 128u);
}

}  // namespace
