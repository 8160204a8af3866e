// The memory node, its zones, free areas and migrate types, and the vm counters
// (Linux include/linux/mmzone.h, vm_event_item.h, node_stat_item).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "guestos/include/page.h"

namespace guestos {

// The guest kernel's architecture: it decides the zones (HIGHMEM vs DMA32) and the layout.
enum class KernelArch : uint8_t { I386, X86_64 };

// Orders 0..MAX_PAGE_ORDER (Linux 6.4+ names; before 6.4 MAX_ORDER meant NR_PAGE_ORDERS).
inline constexpr unsigned MAX_PAGE_ORDER = 10;
inline constexpr unsigned NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
inline constexpr uint64_t MAX_ORDER_NR_PAGES = 1ull << MAX_PAGE_ORDER;
inline constexpr unsigned pageblock_order = 9;  // HPAGE_PMD_ORDER on x86-64 and PAE
inline constexpr uint64_t pageblock_nr_pages = 1ull << pageblock_order;
inline constexpr unsigned PAGE_ALLOC_COSTLY_ORDER = 3;

enum migratetype : uint8_t {
    MIGRATE_UNMOVABLE,
    MIGRATE_MOVABLE,
    MIGRATE_RECLAIMABLE,
    MIGRATE_PCPTYPES,  // the number of types on the per-cpu lists
    MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
    MIGRATE_TYPES
};

// All zone types Linux knows; an arch configures a subset (zone_configured()).
enum zone_type : uint8_t { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, ZONE_HIGHMEM, ZONE_MOVABLE, ZONE_DEVICE, MAX_NR_ZONES };
inline constexpr const char* zone_names[MAX_NR_ZONES] = {"DMA", "DMA32", "Normal", "HighMem", "Movable", "Device"};

// True if `arch` builds zone t: x86-64 has DMA, DMA32, Normal, Movable, Device;
// i386 has DMA, Normal, HighMem, Movable (CONFIG_HIGHMEM, no CONFIG_ZONE_DMA32).
constexpr bool zone_configured(KernelArch arch, zone_type t) {
    if (arch == KernelArch::X86_64) return t != ZONE_HIGHMEM;
    return t != ZONE_DMA32 && t != ZONE_DEVICE;
}

enum zone_watermarks : uint8_t { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

// A list of pages linked through page::lru_next/lru_prev by pfn (Linux's list_head of pages).
struct page_list {
    uint32_t first = NO_PFN;
    uint32_t last = NO_PFN;
    bool empty() const { return first == NO_PFN; }
};

// Puts pfn at the head of l.
inline void list_add(page* mem_map, page_list& l, uint32_t pfn) {
    page& p = mem_map[pfn];
    p.lru_prev = NO_PFN;
    p.lru_next = l.first;
    if (l.first != NO_PFN) mem_map[l.first].lru_prev = pfn;
    else l.last = pfn;
    l.first = pfn;
}
// Puts pfn at the tail of l.
inline void list_add_tail(page* mem_map, page_list& l, uint32_t pfn) {
    page& p = mem_map[pfn];
    p.lru_next = NO_PFN;
    p.lru_prev = l.last;
    if (l.last != NO_PFN) mem_map[l.last].lru_next = pfn;
    else l.first = pfn;
    l.last = pfn;
}
// Unlinks pfn, which must be on l.
inline void list_del(page* mem_map, page_list& l, uint32_t pfn) {
    page& p = mem_map[pfn];
    if (p.lru_prev != NO_PFN) mem_map[p.lru_prev].lru_next = p.lru_next;
    else l.first = p.lru_next;
    if (p.lru_next != NO_PFN) mem_map[p.lru_next].lru_prev = p.lru_prev;
    else l.last = p.lru_prev;
    p.lru_next = p.lru_prev = NO_PFN;
}

// Free blocks of one order, one list per migrate type.
struct free_area {
    std::array<page_list, MIGRATE_TYPES> free_list;
    uint64_t nr_free = 0;  // blocks of this order on all lists
};

// The single CPU's cache of free order-0 pages of a zone (struct per_cpu_pages).
struct per_cpu_pages {
    int count = 0;     // pages on the lists
    int high = 0;      // above this, free `batch` pages back to the buddy lists
    int batch = 1;     // pages moved per refill or drain
    int high_min = 0;  // shown in /proc/zoneinfo (Linux 6.7+ auto-tunes high between these)
    int high_max = 0;
    std::array<page_list, MIGRATE_PCPTYPES> lists;
};

struct zone {
    zone_type idx = ZONE_NORMAL;
    const char* name = "";
    bool configured = false;  // the arch has this zone (it is printed even when empty)
    uint64_t zone_start_pfn = 0;
    uint64_t spanned_pages = 0;
    uint64_t present_pages = 0;
    uint64_t managed_pages = 0;  // present minus reserved (memblock, mem_map)
    std::array<uint64_t, NR_WMARK> _watermark{};
    uint64_t watermark_boost = 0;
    std::array<uint64_t, MAX_NR_ZONES> lowmem_reserve{};  // "protection" per requested zone
    std::array<guestos::free_area, NR_PAGE_ORDERS> free_area{};
    per_cpu_pages pcp;
    int64_t nr_free_pages = 0;  // vm_stat[NR_FREE_PAGES]: pages in free_area (pcp pages excluded)
    uint64_t numa_hit = 0;      // allocations served (the single node is always local)
    int stat_threshold = 0;
    std::vector<uint8_t> pageblock_flags;  // migratetype of each pageblock of the zone
    // Frames [first_deferred_pfn, deferred_end_pfn) have no initialised struct page yet
    // (CONFIG_DEFERRED_STRUCT_PAGE_INIT): free MAX_PAGE_ORDER movable blocks, counted in
    // free_area[MAX_PAGE_ORDER].nr_free and nr_free_pages, that stand for the tail of their
    // free list until deferred_grow_zone initialises them (top down). Both ends are
    // MAX_ORDER_NR_PAGES aligned; equal when nothing waits.
    uint64_t first_deferred_pfn = 0;
    uint64_t deferred_end_pfn = 0;

    uint64_t zone_end_pfn() const { return zone_start_pfn + spanned_pages; }
    bool populated() const { return present_pages != 0; }
    bool zone_spans_pfn(uint64_t pfn) const { return pfn >= zone_start_pfn && pfn < zone_end_pfn(); }
    uint64_t nr_deferred_pages() const { return deferred_end_pfn - first_deferred_pfn; }
    bool pfn_deferred(uint64_t pfn) const { return pfn >= first_deferred_pfn && pfn < deferred_end_pfn; }
    uint64_t min_wmark_pages() const { return _watermark[WMARK_MIN] + watermark_boost; }
    uint64_t low_wmark_pages() const { return _watermark[WMARK_LOW] + watermark_boost; }
    uint64_t high_wmark_pages() const { return _watermark[WMARK_HIGH] + watermark_boost; }
    uint64_t promo_wmark_pages() const { return _watermark[WMARK_PROMO] + watermark_boost; }
    uint64_t wmark_pages(zone_watermarks w) const { return _watermark[w] + watermark_boost; }
};

// vm_event_item with the /proc/vmstat names, in Linux 6.x order. Zone-expanded items
// (pgalloc_*, allocstall_*, pgskip_*) list every zone type; unconfigured zones are not printed.
// clang-format off
#define GUESTOS_VM_EVENTS(X)                                                                      \
    X(PGPGIN, "pgpgin") X(PGPGOUT, "pgpgout") X(PSWPIN, "pswpin") X(PSWPOUT, "pswpout")            \
    X(PGALLOC_DMA, "pgalloc_dma") X(PGALLOC_DMA32, "pgalloc_dma32")                               \
    X(PGALLOC_NORMAL, "pgalloc_normal") X(PGALLOC_HIGH, "pgalloc_high")                           \
    X(PGALLOC_MOVABLE, "pgalloc_movable") X(PGALLOC_DEVICE, "pgalloc_device")                     \
    X(ALLOCSTALL_DMA, "allocstall_dma") X(ALLOCSTALL_DMA32, "allocstall_dma32")                   \
    X(ALLOCSTALL_NORMAL, "allocstall_normal") X(ALLOCSTALL_HIGH, "allocstall_high")               \
    X(ALLOCSTALL_MOVABLE, "allocstall_movable") X(ALLOCSTALL_DEVICE, "allocstall_device")         \
    X(PGSKIP_DMA, "pgskip_dma") X(PGSKIP_DMA32, "pgskip_dma32") X(PGSKIP_NORMAL, "pgskip_normal") \
    X(PGSKIP_HIGH, "pgskip_high") X(PGSKIP_MOVABLE, "pgskip_movable")                             \
    X(PGSKIP_DEVICE, "pgskip_device") X(PGFREE, "pgfree") X(PGACTIVATE, "pgactivate")             \
    X(PGDEACTIVATE, "pgdeactivate") X(PGLAZYFREE, "pglazyfree") X(PGFAULT, "pgfault")             \
    X(PGMAJFAULT, "pgmajfault") X(PGLAZYFREED, "pglazyfreed") X(PGREFILL, "pgrefill")             \
    X(PGREUSE, "pgreuse") X(PGSTEAL_KSWAPD, "pgsteal_kswapd") X(PGSTEAL_DIRECT, "pgsteal_direct") \
    X(PGSTEAL_KHUGEPAGED, "pgsteal_khugepaged") X(PGSTEAL_PROACTIVE, "pgsteal_proactive")         \
    X(PGSCAN_KSWAPD, "pgscan_kswapd") X(PGSCAN_DIRECT, "pgscan_direct")                           \
    X(PGSCAN_KHUGEPAGED, "pgscan_khugepaged") X(PGSCAN_PROACTIVE, "pgscan_proactive")             \
    X(PGSCAN_DIRECT_THROTTLE, "pgscan_direct_throttle") X(PGSCAN_ANON, "pgscan_anon")             \
    X(PGSCAN_FILE, "pgscan_file") X(PGSTEAL_ANON, "pgsteal_anon") X(PGSTEAL_FILE, "pgsteal_file") \
    X(ZONE_RECLAIM_SUCCESS, "zone_reclaim_success") X(ZONE_RECLAIM_FAILED, "zone_reclaim_failed") \
    X(PGINODESTEAL, "pginodesteal") X(SLABS_SCANNED, "slabs_scanned")                             \
    X(KSWAPD_INODESTEAL, "kswapd_inodesteal")                                                     \
    X(KSWAPD_LOW_WMARK_HIT_QUICKLY, "kswapd_low_wmark_hit_quickly")                               \
    X(KSWAPD_HIGH_WMARK_HIT_QUICKLY, "kswapd_high_wmark_hit_quickly")                             \
    X(PAGEOUTRUN, "pageoutrun") X(PGROTATED, "pgrotated") X(DROP_PAGECACHE, "drop_pagecache")     \
    X(DROP_SLAB, "drop_slab") X(OOM_KILL, "oom_kill") X(NUMA_PTE_UPDATES, "numa_pte_updates")     \
    X(NUMA_HUGE_PTE_UPDATES, "numa_huge_pte_updates") X(NUMA_HINT_FAULTS, "numa_hint_faults")     \
    X(NUMA_HINT_FAULTS_LOCAL, "numa_hint_faults_local")                                           \
    X(NUMA_PAGE_MIGRATE, "numa_pages_migrated") X(PGMIGRATE_SUCCESS, "pgmigrate_success")         \
    X(PGMIGRATE_FAIL, "pgmigrate_fail") X(THP_MIGRATION_SUCCESS, "thp_migration_success")         \
    X(THP_MIGRATION_FAIL, "thp_migration_fail") X(THP_MIGRATION_SPLIT, "thp_migration_split")     \
    X(COMPACTMIGRATE_SCANNED, "compact_migrate_scanned")                                          \
    X(COMPACTFREE_SCANNED, "compact_free_scanned") X(COMPACTISOLATED, "compact_isolated")         \
    X(COMPACTSTALL, "compact_stall") X(COMPACTFAIL, "compact_fail")                               \
    X(COMPACTSUCCESS, "compact_success") X(KCOMPACTD_WAKE, "compact_daemon_wake")                 \
    X(KCOMPACTD_MIGRATE_SCANNED, "compact_daemon_migrate_scanned")                                \
    X(KCOMPACTD_FREE_SCANNED, "compact_daemon_free_scanned")                                      \
    X(HTLB_BUDDY_PGALLOC, "htlb_buddy_alloc_success")                                             \
    X(HTLB_BUDDY_PGALLOC_FAIL, "htlb_buddy_alloc_fail")                                           \
    X(UNEVICTABLE_PGCULLED, "unevictable_pgs_culled")                                             \
    X(UNEVICTABLE_PGSCANNED, "unevictable_pgs_scanned")                                           \
    X(UNEVICTABLE_PGRESCUED, "unevictable_pgs_rescued")                                           \
    X(UNEVICTABLE_PGMLOCKED, "unevictable_pgs_mlocked")                                           \
    X(UNEVICTABLE_PGMUNLOCKED, "unevictable_pgs_munlocked")                                       \
    X(UNEVICTABLE_PGCLEARED, "unevictable_pgs_cleared")                                           \
    X(UNEVICTABLE_PGSTRANDED, "unevictable_pgs_stranded") X(THP_FAULT_ALLOC, "thp_fault_alloc")   \
    X(THP_FAULT_FALLBACK, "thp_fault_fallback")                                                   \
    X(THP_FAULT_FALLBACK_CHARGE, "thp_fault_fallback_charge")                                     \
    X(THP_COLLAPSE_ALLOC, "thp_collapse_alloc")                                                   \
    X(THP_COLLAPSE_ALLOC_FAILED, "thp_collapse_alloc_failed") X(THP_FILE_ALLOC, "thp_file_alloc") \
    X(THP_FILE_FALLBACK, "thp_file_fallback")                                                     \
    X(THP_FILE_FALLBACK_CHARGE, "thp_file_fallback_charge") X(THP_FILE_MAPPED, "thp_file_mapped") \
    X(THP_SPLIT_PAGE, "thp_split_page") X(THP_SPLIT_PAGE_FAILED, "thp_split_page_failed")         \
    X(THP_DEFERRED_SPLIT_PAGE, "thp_deferred_split_page")                                         \
    X(THP_UNDERUSED_SPLIT_PAGE, "thp_underused_split_page") X(THP_SPLIT_PMD, "thp_split_pmd")     \
    X(THP_SCAN_EXCEED_NONE_PTE, "thp_scan_exceed_none_pte")                                       \
    X(THP_SCAN_EXCEED_SWAP_PTE, "thp_scan_exceed_swap_pte")                                       \
    X(THP_SCAN_EXCEED_SHARED_PTE, "thp_scan_exceed_share_pte") X(THP_SPLIT_PUD, "thp_split_pud")  \
    X(THP_ZERO_PAGE_ALLOC, "thp_zero_page_alloc")                                                 \
    X(THP_ZERO_PAGE_ALLOC_FAILED, "thp_zero_page_alloc_failed") X(THP_SWPOUT, "thp_swpout")       \
    X(THP_SWPOUT_FALLBACK, "thp_swpout_fallback") X(BALLOON_INFLATE, "balloon_inflate")           \
    X(BALLOON_DEFLATE, "balloon_deflate") X(BALLOON_MIGRATE, "balloon_migrate")                   \
    X(SWAP_RA, "swap_ra") X(SWAP_RA_HIT, "swap_ra_hit") X(SWPIN_ZERO, "swpin_zero")               \
    X(SWPOUT_ZERO, "swpout_zero") X(KSM_SWPIN_COPY, "ksm_swpin_copy") X(COW_KSM, "cow_ksm")       \
    X(ZSWPIN, "zswpin") X(ZSWPOUT, "zswpout") X(ZSWPWB, "zswpwb")                                 \
    X(DIRECT_MAP_LEVEL2_SPLIT, "direct_map_level2_splits")                                        \
    X(DIRECT_MAP_LEVEL3_SPLIT, "direct_map_level3_splits")                                        \
    X(DIRECT_MAP_LEVEL2_COLLAPSE, "direct_map_level2_collapses")                                   \
    X(DIRECT_MAP_LEVEL3_COLLAPSE, "direct_map_level3_collapses")
// clang-format on

enum vm_event_item : unsigned {
#define GUESTOS_VM_EVENT_ENUM(id, name) id,
    GUESTOS_VM_EVENTS(GUESTOS_VM_EVENT_ENUM)
#undef GUESTOS_VM_EVENT_ENUM
        NR_VM_EVENT_ITEMS
};

// The /proc/vmstat name of an event.
const char* vm_event_name(vm_event_item item);
// The zone of a zone-expanded event (pgalloc_*, allocstall_*, pgskip_*), or MAX_NR_ZONES.
zone_type vm_event_zone(vm_event_item item);
// The zone-expanded event `base` (PGALLOC_DMA, ALLOCSTALL_DMA, PGSKIP_DMA) for zone z.
constexpr vm_event_item zone_event(vm_event_item base, zone_type z) {
    return static_cast<vm_event_item>(static_cast<unsigned>(base) + static_cast<unsigned>(z));
}

// The LRU lists (enum lru_list): inactive before active, anon before file, as Linux.
enum lru_list : uint8_t {
    LRU_INACTIVE_ANON,
    LRU_ACTIVE_ANON,
    LRU_INACTIVE_FILE,
    LRU_ACTIVE_FILE,
    LRU_UNEVICTABLE,
    NR_LRU_LISTS
};
inline constexpr unsigned LRU_BASE = 0, LRU_ACTIVE = 1, LRU_FILE = 2;
inline constexpr bool is_active_lru(lru_list l) { return l == LRU_ACTIVE_ANON || l == LRU_ACTIVE_FILE; }
inline constexpr bool is_file_lru(lru_list l) { return l == LRU_INACTIVE_FILE || l == LRU_ACTIVE_FILE; }

// Node counters the allocators keep incrementally (the rest of /proc/meminfo is counted
// from struct page by BuddyAllocator::count_page_uses, because users set page::use).
enum node_stat_item : uint8_t {
    NR_SLAB_RECLAIMABLE_B,    // bytes, as in Linux
    NR_SLAB_UNRECLAIMABLE_B,  // bytes; includes kmalloc_large pages, as in Linux 6.x
    NR_FILE_DIRTY,            // page-cache pages dirty and not yet written back (Dirty)
    NR_WRITEBACK,             // pages under writeback (Writeback)
    NR_DIRTIED,               // pages ever dirtied (nr_dirtied)
    NR_WRITTEN,               // pages ever written back (nr_written)
    // Workingset detection (mm/workingset.c): page-cache tree nodes holding only shadow
    // entries, refaults of evicted pages, the refaults that were activated, and those that
    // had been active before their eviction (restored), anon then file; shadow nodes
    // reclaimed by their shrinker.
    WORKINGSET_NODES,
    WORKINGSET_REFAULT_BASE,
    WORKINGSET_REFAULT_ANON = WORKINGSET_REFAULT_BASE,
    WORKINGSET_REFAULT_FILE,
    WORKINGSET_ACTIVATE_BASE,
    WORKINGSET_ACTIVATE_ANON = WORKINGSET_ACTIVATE_BASE,
    WORKINGSET_ACTIVATE_FILE,
    WORKINGSET_RESTORE_BASE,
    WORKINGSET_RESTORE_ANON = WORKINGSET_RESTORE_BASE,
    WORKINGSET_RESTORE_FILE,
    WORKINGSET_NODERECLAIM,
    NR_VM_NODE_STAT_ITEMS
};

// Pages waiting to enter the LRU or to move on it, batched to take the lru lock once per
// batch (struct folio_batch, PAGEVEC_SIZE = 15).
inline constexpr unsigned PAGEVEC_SIZE = 15;
struct pagevec {
    uint8_t nr = 0;
    std::array<uint32_t, PAGEVEC_SIZE> pfns{};
    unsigned space() const { return PAGEVEC_SIZE - nr; }
};

// The single CPU's batches (struct cpu_fbatches): pages to add, and pages to activate.
struct cpu_fbatches {
    pagevec lru_add;
    pagevec activate;
};

// The node's LRU lists and their sizes (struct lruvec; one node, no memory cgroups).
// Reclaim takes pages from a list's tail; new and rotated pages go to its head.
struct lruvec {
    std::array<page_list, NR_LRU_LISTS> lists{};
    std::array<uint64_t, NR_LRU_LISTS> nr_pages{};  // lruvec_page_state(NR_LRU_BASE + lru)
    // What reclaiming each type cost recently (lru_note_cost): I/O and rotations, a
    // floating average halved as it passes a quarter of the lists; get_scan_count
    // balances anon against file with it.
    uint64_t anon_cost = 0, file_cost = 0;
    cpu_fbatches fbatches;  // per-cpu in Linux; the model has one CPU
    page* mem_map = nullptr;
    uint64_t* vm_events = nullptr;  // the node's vm_event counters, NR_VM_EVENT_ITEMS of them
    int64_t* node_stat = nullptr;   // the node's vm_stat, NR_VM_NODE_STAT_ITEMS of them
    // Evictions plus activations so far, the clock of refault distances (workingset.c).
    uint64_t nonresident_age = 0;
    // WORKINGSET_ACTIVATE_ANON/FILE when reclaim last ended (snapshot_refaults): new
    // activations since mean a new working set is forming.
    std::array<int64_t, 2> refaults{};
    void count_vm_events(vm_event_item item, uint64_t n = 1) {
        if (vm_events) vm_events[item] += n;
    }
    void mod_lruvec_state(node_stat_item item, int64_t delta) {
        if (node_stat) node_stat[item] += delta;
    }
    int64_t lruvec_page_state(node_stat_item item) const { return node_stat ? node_stat[item] : 0; }
};

// The one memory node (pg_data_t).
struct pglist_data {
    std::array<zone, MAX_NR_ZONES> node_zones{};
    int node_id = 0;
    uint64_t node_start_pfn = 0;
    uint64_t node_present_pages = 0;
    uint64_t node_spanned_pages = 0;
    uint64_t totalreserve_pages = 0;  // pages no ordinary allocation may take (watermarks + reserve)
    std::array<int64_t, NR_VM_NODE_STAT_ITEMS> vm_stat{};
    struct lruvec __lruvec;
    // kswapd's request: the order and highest zone an allocation woke it for.
    int kswapd_order = 0;
    zone_type kswapd_highest_zoneidx = ZONE_DMA;
    bool kswapd_wait = false;  // woken and not yet run (wake_up_interruptible(&pgdat->kswapd_wait))
};

}  // namespace guestos
