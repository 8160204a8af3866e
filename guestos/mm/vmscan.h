// Page reclaim (Linux mm/vmscan.c): kswapd brings a node from its low to its high watermark
// in the background, allocations below min reclaim directly; both age the LRU lists
// (shrink_node -> shrink_lruvec -> shrink_active_list / shrink_inactive_list ->
// shrink_page_list) and free what the lists say is coldest. Clean file pages are dropped
// from the page cache after try_to_unmap; anonymous and shmem pages need swap and stay
// (activated) while there is none.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "guestos/mm/page_alloc.h"
#include "guestos/mm/swap.h"

namespace guestos {

// The first, lightest, scan priority: a pass scans lru_size >> priority pages of each
// list (DEF_PRIORITY).
inline constexpr int DEF_PRIORITY = 12;

// vm.swappiness (0..200, default 60): the relative cost of reclaiming anon vs file pages.
extern int vm_swappiness;

// What one reclaim run asks and what it achieved (struct scan_control).
struct scan_control {
    uint64_t nr_to_reclaim = SWAP_CLUSTER_MAX;
    gfp_t gfp_mask = GFP_KERNEL;
    int order = 0;
    int priority = DEF_PRIORITY;
    zone_type reclaim_idx = ZONE_MOVABLE;  // the highest zone the caller may use
    bool may_writepage = true;
    bool may_unmap = true;
    bool may_swap = true;
    bool kswapd = false;  // current_is_kswapd(): picks the pgscan_/pgsteal_ counters
    int swappiness = 60;
    bool file_is_tiny = false;  // file + free pages under the high watermarks: scan anon only
    // Which active lists may be aged this run (DEACTIVATE_ANON, DEACTIVATE_FILE): those whose
    // inactive list is low, or whose type saw refaults activated since the last run.
    unsigned may_deactivate = 0;
    uint64_t nr_scanned = 0;
    uint64_t nr_reclaimed = 0;
    uint64_t nr_pageout = 0;    // pages written to swap (pageout)
    uint64_t nr_writeback = 0;  // pages met under writeback, kept (sc->nr.writeback)
};

// What became of a page reclaim looked at, for --trace-reclaim (trace/events/vmscan.h).
enum class ReclaimOutcome : uint8_t {
    Freed,        // dropped from the page cache / swapped out, the frame freed
    Activated,    // referenced twice (or unreclaimable now): to the active list
    Kept,         // referenced once: back to the inactive list for another round
    Deactivated,  // aged from the active to the inactive list
    Rotated,      // referenced executable file page: stays active
};
const char* reclaim_outcome_name(ReclaimOutcome o);

// Where reclaim reports its steps and pages (a trace stream; null: nobody listens).
struct ReclaimTracer {
    std::function<void(const std::string& step)> on_step;
    std::function<void(uint64_t pfn, lru_list from, ReclaimOutcome outcome)> on_page;
};
ReclaimTracer*& reclaim_tracer();

// Reclaims at least sc.nr_to_reclaim pages of the node if it can (shrink_node); returns
// the pages freed.
uint64_t shrink_node(BuddyAllocator& pa, scan_control& sc);
// Direct reclaim for an allocation of 2^order pages that failed at its watermark
// (try_to_free_pages -> do_try_to_free_pages): raises the priority until
// SWAP_CLUSTER_MAX pages are free or every page was scanned. Returns the pages freed.
uint64_t try_to_free_pages(BuddyAllocator& pa, gfp_t gfp, unsigned order);

// An allocation found a zone under its low watermark: records the request and marks
// kswapd runnable unless the node is already balanced (wakeup_kswapd).
void wakeup_kswapd(BuddyAllocator& pa, gfp_t gfp, unsigned order, zone_type highest_zoneidx);
// True if some zone up to highest_zoneidx is above its high watermark for order
// (pgdat_balanced).
bool pgdat_balanced(const BuddyAllocator& pa, int order, zone_type highest_zoneidx);
// One run of [kswapd0]: if woken, reclaims until the node is balanced at the high
// watermark or reclaim makes no progress at any priority (kswapd -> balance_pgdat).
// Returns the pages freed. The kernel runs it where a kernel thread would be scheduled.
uint64_t kswapd(BuddyAllocator& pa);

// Installs reclaim in an allocator: the slow path's kswapd wake-up and direct reclaim.
void setup_reclaim(BuddyAllocator& pa);

// Whether the page's list is worth aging now: inactive is small against active
// (inactive_is_low, with Linux's inactive_ratio = sqrt(10 * GB)).
bool inactive_is_low(const lruvec& lv, lru_list inactive_lru);

}  // namespace guestos
