// Page reclaim (Linux mm/vmscan.c).
#include "guestos/mm/vmscan.h"

#include <algorithm>
#include <vector>

#include "guestos/include/blkdev.h"
#include "guestos/include/fs.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/rmap.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/shrinker.h"
#include "guestos/mm/workingset.h"
#include "guestos/mm/page_io.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/swap_state.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

int vm_swappiness = 60;

namespace {

void trace_step(const std::function<std::string()>& what) {
    if (ReclaimTracer* t = reclaim_tracer(); t && t->on_step) t->on_step(what());
}
void trace_page(const lruvec& lv, const page& p, lru_list from, ReclaimOutcome o) {
    if (ReclaimTracer* t = reclaim_tracer(); t && t->on_page) t->on_page(page_pfn(lv, p), from, o);
}

const char* const lru_names[NR_LRU_LISTS] = {"inactive_anon", "active_anon", "inactive_file", "active_file",
                                             "unevictable"};

// Anonymous pages can only be aged and reclaimed with swap to put them in (can_age_anon_pages).
bool can_reclaim_anon_pages() { return get_nr_swap_pages() > 0; }

// scan_control::may_deactivate bits.
constexpr unsigned DEACTIVATE_ANON = 1, DEACTIVATE_FILE = 2;

// What page_check_references decided for a page on the inactive list.
enum page_references { PAGEREF_RECLAIM, PAGEREF_RECLAIM_CLEAN, PAGEREF_KEEP, PAGEREF_ACTIVATE };

// Mapped pages start with their PTE referenced from the faulting access, so a page is
// activated when it was used twice: two PTEs, or a PTE and a syscall (page_check_references).
page_references page_check_references(BuddyAllocator& pa, page& p, PhysAddr frame) {
    unsigned long vm_flags = 0;
    const int referenced_ptes = page_referenced(pa, frame, &vm_flags);
    const bool referenced_page = p.flags & PG_referenced;
    p.flags &= ~PG_referenced;
    if (vm_flags & VM_LOCKED) return PAGEREF_ACTIVATE;
    if (referenced_ptes) {
        p.flags |= PG_referenced;
        if (referenced_page || referenced_ptes > 1) return PAGEREF_ACTIVATE;
        if ((vm_flags & VM_EXEC) && page_is_file_lru(p)) return PAGEREF_ACTIVATE;
        return PAGEREF_KEEP;
    }
    if (referenced_page && page_is_file_lru(p)) return PAGEREF_RECLAIM_CLEAN;
    return PAGEREF_RECLAIM;
}

// An anonymous page that is not worth keeping goes to swap (shrink_folio_list's anon
// path): add_to_swap gives it a slot in the swap cache, try_to_unmap leaves that swap
// entry in every PTE mapping it, pageout -> swap_writepage writes it, and
// __remove_mapping frees the frame. Without swap room it is activated.
ReclaimOutcome shrink_anon_page(BuddyAllocator& pa, page& p, PhysAddr frame, scan_control& sc) {
    if (!(p.flags & PG_swapcache)) {
        if (!sc.may_swap || !(sc.gfp_mask & __GFP_IO)) return ReclaimOutcome::Kept;
        if (!add_to_swap(pa, p)) return ReclaimOutcome::Activated;  // swap full: activate_locked
    }
    if (page_mapped(p)) {
        if (!sc.may_unmap) return ReclaimOutcome::Kept;
        (void)try_to_unmap(pa, frame);
        if (page_mapped(p)) return ReclaimOutcome::Activated;
    }
    if (p.flags & PG_dirty) {  // pageout: written synchronously, so clean on return
        if (!sc.may_writepage || swap_writepage(pa, p) < 0) return ReclaimOutcome::Activated;
        ++sc.nr_pageout;
    }
    if (p._refcount != 1) return ReclaimOutcome::Kept;  // someone else holds it (a fault)
    // __remove_mapping: out of the swap cache, the slot keeps only its PTE references.
    const swp_entry_t entry{p.private_};
    __delete_from_swap_cache(p, workingset_eviction(*pa.node_lruvec(), p));
    put_swap_page(entry);
    pa.free_page(frame);
    return ReclaimOutcome::Freed;
}

// A shmem page goes to swap through shmem_writepage once try_to_unmap took it out of
// every page table; without swap room it stays (activate_locked, as Linux's
// AOP_WRITEPAGE_ACTIVATE).
ReclaimOutcome shrink_shmem_page(BuddyAllocator& pa, page& p, PhysAddr frame, scan_control& sc) {
    auto* mapping = static_cast<address_space*>(p.mapping);
    if (!mapping) return ReclaimOutcome::Kept;  // truncated but still mapped: freed at its unmap
    if (!sc.may_swap || !(sc.gfp_mask & __GFP_IO) || !can_reclaim_anon_pages()) return ReclaimOutcome::Activated;
    if (page_mapped(p)) {
        if (!sc.may_unmap) return ReclaimOutcome::Kept;
        (void)try_to_unmap(pa, frame);
        if (page_mapped(p)) return ReclaimOutcome::Activated;
    }
    if (p._refcount != 1) return ReclaimOutcome::Kept;  // someone else holds it
    if (!sc.may_writepage || !shmem_writepage(*mapping, p)) return ReclaimOutcome::Activated;
    ++sc.nr_pageout;
    return ReclaimOutcome::Freed;
}

// Tries to free one isolated inactive page (the body of shrink_page_list's loop); the
// outcome says where it goes if it survives.
ReclaimOutcome shrink_one_page(BuddyAllocator& pa, page& p, scan_control& sc) {
    const PhysAddr frame = PhysAddr::from_pfn(page_pfn(*pa.node_lruvec(), p));
    if (p.flags & PG_unevictable) return ReclaimOutcome::Activated;
    if (p.flags & PG_writeback) {  // its write is in flight: kept until the disk completes it
        ++sc.nr_writeback;
        return ReclaimOutcome::Kept;
    }
    switch (page_check_references(pa, p, frame)) {
    case PAGEREF_ACTIVATE: return ReclaimOutcome::Activated;
    case PAGEREF_KEEP: return ReclaimOutcome::Kept;
    case PAGEREF_RECLAIM:
    case PAGEREF_RECLAIM_CLEAN: break;
    }
    if (p.flags & PG_anon) return shrink_anon_page(pa, p, frame, sc);
    if (!page_is_file_lru(p)) return shrink_shmem_page(pa, p, frame, sc);
    auto* mapping = static_cast<address_space*>(p.mapping);
    if (!mapping) return ReclaimOutcome::Kept;  // truncated but still mapped: freed at its unmap
    if (page_mapped(p)) {
        if (!sc.may_unmap) return ReclaimOutcome::Kept;
        (void)try_to_unmap(pa, frame);
        if (page_mapped(p)) return ReclaimOutcome::Activated;
    }
    if ((p.flags & PG_dirty) && !pageout(*mapping, p, frame)) return ReclaimOutcome::Kept;
    return __remove_mapping(*mapping, p, Eviction::Reclaim) ? ReclaimOutcome::Freed : ReclaimOutcome::Kept;
}

// Takes up to nr_to_scan pages from the tail of a list (isolate_lru_pages).
std::vector<uint32_t> isolate_lru_pages(lruvec& lv, lru_list l, uint64_t nr_to_scan) {
    std::vector<uint32_t> isolated;
    while (isolated.size() < nr_to_scan && !lv.lists[l].empty()) {
        const uint32_t pfn = lv.lists[l].last;
        (void)isolate_lru_page(lv, lv.mem_map[pfn]);
        isolated.push_back(pfn);
    }
    return isolated;
}

// Reclaims what it can of the isolated pages and puts the rest back: activated pages to
// the active list, kept ones to the inactive head (shrink_page_list +
// move_folios_to_lru). Returns the pages freed.
uint64_t shrink_page_list(BuddyAllocator& pa, lruvec& lv, const std::vector<uint32_t>& pfns, lru_list l,
                          scan_control& sc) {
    uint64_t nr_reclaimed = 0, nr_activated = 0;
    for (uint32_t pfn : pfns) {
        page& p = lv.mem_map[pfn];
        const ReclaimOutcome o = shrink_one_page(pa, p, sc);
        trace_page(lv, p, l, o);
        if (o == ReclaimOutcome::Freed) {
            ++nr_reclaimed;
            continue;
        }
        if (o == ReclaimOutcome::Activated && !(p.flags & PG_unevictable)) {
            p.flags |= PG_active;
            ++nr_activated;
            // activate_locked: a page kept in RAM gives its slot back when swap runs short.
            if ((p.flags & PG_swapcache) && vm_swap_full() && page_mapped(p)) (void)try_to_free_swap(pa, p);
        }
        putback_lru_page(lv, p);
        if (p.flags & PG_active) workingset_age_nonresident(lv, 1);  // move_folios_to_lru
    }
    lv.count_vm_events(PGACTIVATE, nr_activated);
    return nr_reclaimed;
}

// Scans nr_to_scan pages from the tail of an inactive list and frees what it can
// (shrink_inactive_list).
uint64_t shrink_inactive_list(BuddyAllocator& pa, lruvec& lv, uint64_t nr_to_scan, lru_list l, scan_control& sc) {
    lru_add_drain(lv);
    const std::vector<uint32_t> pfns = isolate_lru_pages(lv, l, nr_to_scan);
    const uint64_t nr_scanned = pfns.size();
    sc.nr_scanned += nr_scanned;
    const bool file = is_file_lru(l);
    lv.count_vm_events(sc.kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, nr_scanned);
    lv.count_vm_events(file ? PGSCAN_FILE : PGSCAN_ANON, nr_scanned);
    const uint64_t pageout_before = sc.nr_pageout;
    const uint64_t nr_reclaimed = shrink_page_list(pa, lv, pfns, l, sc);
    lv.count_vm_events(sc.kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, nr_reclaimed);
    lv.count_vm_events(file ? PGSTEAL_FILE : PGSTEAL_ANON, nr_reclaimed);
    lru_note_cost(lv, file, sc.nr_pageout - pageout_before, nr_scanned - nr_reclaimed);
    trace_step([&] {
        return "shrink_inactive_list(" + std::string(lru_names[l]) + ", priority " + std::to_string(sc.priority) +
               "): scanned " + std::to_string(nr_scanned) + ", reclaimed " + std::to_string(nr_reclaimed) +
               (file ? std::string()
                     : ", add_to_swap + pageout -> swap_writepage " + std::to_string(sc.nr_pageout - pageout_before));
    });
    return nr_reclaimed;
}

// Ages nr_to_scan pages from the tail of an active list to the inactive list; referenced
// executable file pages get another round on the active list (shrink_active_list).
void shrink_active_list(BuddyAllocator& pa, lruvec& lv, uint64_t nr_to_scan, lru_list l, scan_control& sc) {
    lru_add_drain(lv);
    const std::vector<uint32_t> pfns = isolate_lru_pages(lv, l, nr_to_scan);
    lv.count_vm_events(PGREFILL, pfns.size());
    uint64_t nr_deactivated = 0;
    for (uint32_t pfn : pfns) {
        page& p = lv.mem_map[pfn];
        unsigned long vm_flags = 0;
        if (page_referenced(pa, PhysAddr::from_pfn(pfn), &vm_flags) && (vm_flags & VM_EXEC) && page_is_file_lru(p)) {
            trace_page(lv, p, l, ReclaimOutcome::Rotated);
            putback_lru_page(lv, p);
            workingset_age_nonresident(lv, 1);  // move_folios_to_lru of an active page
            continue;
        }
        p.flags &= ~(PG_active | PG_referenced);
        p.flags |= PG_workingset;  // it was in the working set: a refault of it is a restore
        trace_page(lv, p, l, ReclaimOutcome::Deactivated);
        putback_lru_page(lv, p);
        ++nr_deactivated;
    }
    lv.count_vm_events(PGDEACTIVATE, nr_deactivated);
    trace_step([&] {
        return "shrink_active_list(" + std::string(lru_names[l]) + "): scanned " + std::to_string(pfns.size()) +
               ", deactivated " + std::to_string(nr_deactivated);
    });
}

// Reclaims from one list: an active list is only aged when prepare_scan_control allowed
// it (shrink_list).
uint64_t shrink_list(BuddyAllocator& pa, lruvec& lv, lru_list l, uint64_t nr_to_scan, scan_control& sc) {
    if (is_active_lru(l)) {
        if (sc.may_deactivate & (is_file_lru(l) ? DEACTIVATE_FILE : DEACTIVATE_ANON))
            shrink_active_list(pa, lv, nr_to_scan, l, sc);
        return 0;
    }
    return shrink_inactive_list(pa, lv, nr_to_scan, l, sc);
}

// How many pages of each evictable list to scan this pass: lru_size >> priority, split
// between anon and file by swappiness and the recent cost of each (get_scan_count):
// file only without swap, anon only when file pages are nearly gone, both equally at
// the last priority.
std::array<uint64_t, NR_LRU_LISTS> get_scan_count(const lruvec& lv, const scan_control& sc) {
    std::array<uint64_t, NR_LRU_LISTS> nr{};
    uint64_t ap = 0, fp = 1, denominator = 1;  // SCAN_FILE
    if (can_reclaim_anon_pages() && sc.may_swap && sc.swappiness) {
        if (sc.file_is_tiny) {
            ap = 1, fp = 0;  // SCAN_ANON
        } else if (sc.priority == 0) {
            ap = fp = denominator = 0;  // SCAN_EQUAL
        } else {
            // SCAN_FRACT: each type in proportion to its swappiness share over its cost.
            const uint64_t anon_cost = lv.anon_cost + lv.anon_cost + lv.file_cost;
            const uint64_t file_cost = lv.file_cost + lv.anon_cost + lv.file_cost;
            const uint64_t total_cost = anon_cost + file_cost;
            ap = static_cast<uint64_t>(sc.swappiness) * (total_cost + 1) / (anon_cost + 1);
            fp = static_cast<uint64_t>(200 - sc.swappiness) * (total_cost + 1) / (file_cost + 1);
        }
        denominator = ap + fp;
    }
    for (lru_list l : {LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE}) {
        uint64_t scan = lv.nr_pages[l] >> sc.priority;
        if (!scan && lv.nr_pages[l] && sc.priority < DEF_PRIORITY)
            scan = std::min<uint64_t>(lv.nr_pages[l], SWAP_CLUSTER_MAX);
        const uint64_t share = is_file_lru(l) ? fp : ap;
        nr[l] = denominator ? scan * share / denominator : scan;
    }
    return nr;
}

// Scans the node's lists by get_scan_count, a batch from each in turn, until the goal is
// met or the counts are spent, then ages anon if its inactive list ran low (shrink_lruvec).
void shrink_lruvec(BuddyAllocator& pa, lruvec& lv, scan_control& sc) {
    std::array<uint64_t, NR_LRU_LISTS> nr = get_scan_count(lv, sc);
    const blk_plug plug;  // the batch's swap writes merge into few requests
    trace_step([&] {
        return "shrink_lruvec(priority " + std::to_string(sc.priority) + "): scan inactive_anon " +
               std::to_string(nr[LRU_INACTIVE_ANON]) + ", active_anon " + std::to_string(nr[LRU_ACTIVE_ANON]) +
               ", inactive_file " + std::to_string(nr[LRU_INACTIVE_FILE]) + ", active_file " +
               std::to_string(nr[LRU_ACTIVE_FILE]);
    });
    while (nr[LRU_INACTIVE_ANON] || nr[LRU_ACTIVE_FILE] || nr[LRU_INACTIVE_FILE]) {
        for (lru_list l : {LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE}) {
            if (!nr[l]) continue;
            const uint64_t nr_to_scan = std::min(nr[l], SWAP_CLUSTER_MAX);
            nr[l] -= nr_to_scan;
            sc.nr_reclaimed += shrink_list(pa, lv, l, nr_to_scan, sc);
        }
        if (sc.nr_reclaimed >= sc.nr_to_reclaim && !sc.kswapd) break;
    }
    if (can_reclaim_anon_pages() && inactive_is_low(lv, LRU_INACTIVE_ANON))
        shrink_active_list(pa, lv, SWAP_CLUSTER_MAX, LRU_ACTIVE_ANON, sc);
}

// Whether the node's file pages are nearly gone, so anon alone is scanned: file and free
// pages together under the zones' high watermarks while anon is not short of inactive
// pages (prepare_scan_control's file_is_tiny).
void prepare_scan_control(const BuddyAllocator& pa, scan_control& sc) {
    const lruvec& lv = *pa.node_lruvec();
    // Refaults activated since the last run mean a new working set is forming: age the
    // active list of that type to make room for it, as when its inactive list is low.
    sc.may_deactivate = 0;
    if (lv.lruvec_page_state(WORKINGSET_ACTIVATE_ANON) != lv.refaults[0] || inactive_is_low(lv, LRU_INACTIVE_ANON))
        sc.may_deactivate |= DEACTIVATE_ANON;
    if (lv.lruvec_page_state(WORKINGSET_ACTIVATE_FILE) != lv.refaults[1] || inactive_is_low(lv, LRU_INACTIVE_FILE))
        sc.may_deactivate |= DEACTIVATE_FILE;
    uint64_t total_high_wmark = 0;
    for (const zone& z : pa.NODE_DATA().node_zones)
        if (z.managed_pages) total_high_wmark += z.high_wmark_pages();
    const uint64_t free = pa.nr_free_pages();
    const uint64_t file = lv.nr_pages[LRU_ACTIVE_FILE] + lv.nr_pages[LRU_INACTIVE_FILE];
    const uint64_t anon = lv.nr_pages[LRU_INACTIVE_ANON];
    sc.file_is_tiny =
        file + free <= total_high_wmark && !inactive_is_low(lv, LRU_INACTIVE_ANON) && (anon >> sc.priority) != 0;
}

// Remembers the activations so far, so the next run sees only new ones (snapshot_refaults).
void snapshot_refaults(lruvec& lv) {
    lv.refaults[0] = lv.lruvec_page_state(WORKINGSET_ACTIVATE_ANON);
    lv.refaults[1] = lv.lruvec_page_state(WORKINGSET_ACTIVATE_FILE);
}

}  // namespace

const char* reclaim_outcome_name(ReclaimOutcome o) {
    switch (o) {
    case ReclaimOutcome::Freed: return "freed";
    case ReclaimOutcome::Activated: return "activated";
    case ReclaimOutcome::Kept: return "kept";
    case ReclaimOutcome::Deactivated: return "deactivated";
    case ReclaimOutcome::Rotated: return "rotated";
    }
    return "?";
}

ReclaimTracer*& reclaim_tracer() {
    static ReclaimTracer* t = nullptr;
    return t;
}

bool inactive_is_low(const lruvec& lv, lru_list inactive_lru) {
    const uint64_t inactive = lv.nr_pages[inactive_lru], active = lv.nr_pages[inactive_lru + LRU_ACTIVE];
    const uint64_t gb = (inactive + active) >> (30 - PAGE_SHIFT);
    uint64_t inactive_ratio = 1;
    if (gb) {  // int_sqrt(10 * gb)
        while ((inactive_ratio + 1) * (inactive_ratio + 1) <= 10 * gb) ++inactive_ratio;
    }
    return inactive * inactive_ratio < active;
}

uint64_t shrink_node(BuddyAllocator& pa, scan_control& sc) {
    const uint64_t before = sc.nr_reclaimed;
    prepare_scan_control(pa, sc);
    trace_step([&] { return "shrink_node(priority " + std::to_string(sc.priority) + ")"; });
    const uint64_t writeback_before = sc.nr_writeback;
    shrink_lruvec(pa, *pa.node_lruvec(), sc);
    shrink_slab(&pa, sc.gfp_mask, pa.NODE_DATA().node_id, sc.priority);
    // reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK): pages met under writeback mean reclaim
    // is ahead of the disk; it sleeps until the writes complete, so the next pass frees them.
    if (sc.nr_writeback != writeback_before) {
        trace_step([] { return std::string("reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)"); });
        blk_mq_wait_all();
    }
    return sc.nr_reclaimed - before;
}

uint64_t try_to_free_pages(BuddyAllocator& pa, gfp_t gfp, unsigned order) {
    scan_control sc;
    sc.gfp_mask = gfp;
    sc.order = static_cast<int>(order);
    sc.swappiness = vm_swappiness;
    sc.may_writepage = true;
    trace_step([&] { return "try_to_free_pages(order " + std::to_string(order) + ") -> do_try_to_free_pages"; });
    for (sc.priority = DEF_PRIORITY; sc.priority >= 0; --sc.priority) {
        sc.nr_scanned = 0;
        shrink_node(pa, sc);
        if (sc.nr_reclaimed >= sc.nr_to_reclaim) break;
    }
    snapshot_refaults(*pa.node_lruvec());
    return sc.nr_reclaimed;
}

bool pgdat_balanced(const BuddyAllocator& pa, int order, zone_type highest_zoneidx) {
    for (int t = 0; t <= highest_zoneidx; ++t) {
        const zone& z = pa.zone_at(static_cast<zone_type>(t));
        if (!z.managed_pages) continue;
        if (pa.zone_watermark_ok(z, static_cast<unsigned>(order), z.high_wmark_pages(), highest_zoneidx, 0))
            return true;
    }
    return false;
}

void wakeup_kswapd(BuddyAllocator& pa, gfp_t gfp, unsigned order, zone_type highest_zoneidx) {
    pglist_data& pgdat = pa.NODE_DATA();
    if (!pgdat.kswapd_wait) {
        pgdat.kswapd_order = 0;
        pgdat.kswapd_highest_zoneidx = ZONE_DMA;
    }
    pgdat.kswapd_order = std::max(pgdat.kswapd_order, static_cast<int>(order));
    pgdat.kswapd_highest_zoneidx = std::max(pgdat.kswapd_highest_zoneidx, highest_zoneidx);
    if (pgdat_balanced(pa, static_cast<int>(order), highest_zoneidx)) return;
    pgdat.kswapd_wait = true;
}

namespace {
// One kswapd pass: aims for the high watermark of every eligible zone; true if it scanned
// at least that many pages (kswapd_shrink_node).
bool kswapd_shrink_node(BuddyAllocator& pa, scan_control& sc, zone_type highest) {
    sc.nr_to_reclaim = 0;
    for (int t = 0; t <= highest; ++t) {
        const zone& z = pa.zone_at(static_cast<zone_type>(t));
        if (z.managed_pages) sc.nr_to_reclaim += std::max(z.high_wmark_pages(), SWAP_CLUSTER_MAX);
    }
    shrink_node(pa, sc);
    return sc.nr_scanned >= sc.nr_to_reclaim;
}
}  // namespace

uint64_t kswapd(BuddyAllocator& pa) {
    pglist_data& pgdat = pa.NODE_DATA();
    if (!pgdat.kswapd_wait) return 0;
    pgdat.kswapd_wait = false;
    const int order = pgdat.kswapd_order;
    const zone_type highest = pgdat.kswapd_highest_zoneidx;
    // balance_pgdat: reclaim at rising priority until a zone is above its high watermark.
    pa.count_vm_events(PAGEOUTRUN);
    scan_control sc;
    sc.kswapd = true;
    sc.order = order;
    sc.reclaim_idx = highest;
    sc.swappiness = vm_swappiness;
    trace_step(
        [&] { return "kswapd0: balance_pgdat(order " + std::to_string(order) + ", " + zone_names[highest] + ")"; });
    for (sc.priority = DEF_PRIORITY; sc.priority >= 1;) {
        if (pgdat_balanced(pa, order, highest)) break;
        sc.nr_scanned = 0;
        const uint64_t nr_reclaimed = sc.nr_reclaimed;
        // Scanning as much as the goal means the goal is met at full efficiency: no need
        // to scan harder; otherwise (or with nothing freed) the next pass raises priority.
        const bool raise_priority = !kswapd_shrink_node(pa, sc, highest);
        if (raise_priority || sc.nr_reclaimed == nr_reclaimed) --sc.priority;
    }
    snapshot_refaults(*pa.node_lruvec());
    return sc.nr_reclaimed;
}

void setup_reclaim(BuddyAllocator& pa) {
    workingset_init();
    pa.set_direct_reclaim([&pa](gfp_t gfp, unsigned order) { return try_to_free_pages(pa, gfp, order); });
    pa.set_wakeup_kswapd(
        [&pa](gfp_t gfp, unsigned order, zone_type highest) { wakeup_kswapd(pa, gfp, order, highest); });
}

}  // namespace guestos
