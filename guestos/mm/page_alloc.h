// The zoned buddy allocator (Linux mm/page_alloc.c): one node, zones by arch, free_area per
// order with a free list per migrate type, per-cpu lists for order-0 pages, watermarks from
// min_free_kbytes, and the vm counters behind /proc/meminfo, buddyinfo, zoneinfo and vmstat.
//
// Single-threaded model: one CPU (cpu 0), no locks; kswapd is woken through a hook (vmscan.h). An allocation that cannot be
// met returns nullopt after the slow path (min watermark, the direct-reclaim hook if one is
// set, a pcp drain, and for __GFP_NOFAIL the reserves); it never aborts and never loops.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "guestos/include/mmzone.h"
#include "guestos/include/page.h"
#include "mmu/phys_memory.h"

namespace guestos {

class Highmem;

struct BuddyConfig {
    KernelArch arch = KernelArch::X86_64;
    uint64_t lowmem_limit_bytes = 896ull << 20;  // i386: frames above are ZONE_HIGHMEM (clamped 4M..896M)
    uint64_t reserved_low_frames = 16;           // reserved as the BIOS area is (at least frame 0)
    uint64_t min_free_kbytes = 0;                // 0: Linux's formula, sqrt(lowmem_kbytes * 16)
    // CONFIG_DEFERRED_STRUCT_PAGE_INIT: build only the struct pages boot needs and the rest
    // as allocations reach them (docs/design.md, "Deferred struct page init"). Off: all at boot.
    bool deferred_struct_page_init = true;
};

// Host memory for mem_map: address space for every frame's struct page, reserved untouched;
// a struct page is constructed when its frame is initialised (memmap_init_range), so frames
// the guest never reaches cost no host memory and no host page faults.
class mem_map_storage {
public:
    explicit mem_map_storage(uint64_t nr_pages);
    ~mem_map_storage();
    mem_map_storage(const mem_map_storage&) = delete;
    mem_map_storage& operator=(const mem_map_storage&) = delete;
    page* data() const { return pages_; }

private:
    page* pages_ = nullptr;
    uint64_t bytes_ = 0;
};

// alloc_flags of the allocation paths (Linux mm/internal.h).
enum : unsigned {
    ALLOC_WMARK_MIN = WMARK_MIN,
    ALLOC_WMARK_LOW = WMARK_LOW,
    ALLOC_WMARK_HIGH = WMARK_HIGH,
    ALLOC_NO_WATERMARKS = 0x04,
    ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1,
    ALLOC_OOM = 0x08,
    ALLOC_NON_BLOCK = 0x10,    // the caller cannot sleep: a little more of the reserve
    ALLOC_MIN_RESERVE = 0x20,  // __GFP_HIGH: half of the min reserve
    ALLOC_CPUSET = 0x40,
    ALLOC_HIGHATOMIC = 0x200,
    ALLOC_KSWAPD = 0x800,
    ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM,
};

// The highest zone a request may use (gfp_zone): DMA, DMA32 (i386: Normal), HIGHMEM
// (x86-64: Normal; with __GFP_MOVABLE: Movable), else Normal.
zone_type gfp_zone(KernelArch arch, gfp_t gfp);
// The free list a request takes from (gfp_migratetype).
migratetype gfp_migratetype(gfp_t gfp);
// The alloc_flags of the slow path (gfp_to_alloc_flags): min watermark, reserves for
// __GFP_HIGH and for callers that cannot sleep.
unsigned gfp_to_alloc_flags(gfp_t gfp, unsigned order);

// Pages by PageUse (and LRU-ish flags), counted from mem_map.
struct page_use_stats {
    std::array<uint64_t, NR_PAGE_USES> by_use{};
    std::array<std::array<uint64_t, NR_PAGE_USES>, MAX_NR_ZONES> zone_by_use{};
    std::array<uint64_t, MAX_NR_ZONES> zone_active_anon{}, zone_active_file{};
    uint64_t active_anon = 0, inactive_anon = 0, active_file = 0, inactive_file = 0;
    uint64_t mapped_file = 0;  // File pages some PTE maps (_mapcount >= 0)
    uint64_t dirty = 0, writeback = 0, swapcache = 0;
    uint64_t shmem = 0;  // File pages of shmem/tmpfs (PG_swapbacked), on the anon LRU
    std::array<uint64_t, MAX_NR_ZONES> zone_shmem{};
    uint64_t operator[](PageUse u) const { return by_use[static_cast<unsigned>(u)]; }
};

class BuddyAllocator final : public PageAllocator {
public:
    // Builds the zones and their free lists over every frame of `ram`; the low frames and
    // mem_map itself (64 bytes per frame, as Linux's struct page) are reserved. With
    // cfg.deferred_struct_page_init, only the struct pages of the reserved frames and of each
    // zone's top MAX_ORDER blocks are built now; the rest wait in the zone's deferred range.
    BuddyAllocator(mmu::PhysMemory& ram, const BuddyConfig& cfg = {});
    BuddyAllocator(const BuddyAllocator&) = delete;
    BuddyAllocator& operator=(const BuddyAllocator&) = delete;

    // PageAllocator.
    // 2^order contiguous, naturally aligned frames (__alloc_pages); nullopt when the zones
    // gfp allows cannot serve it above their watermarks.
    std::optional<PhysAddr> alloc_pages(gfp_t gfp, unsigned order) override;
    // Returns 2^order frames (__free_pages). A free of a free, reserved or out-of-range block
    // is ignored and counted (nr_bad_frees), never corrupting the lists.
    void free_pages(PhysAddr frame, unsigned order) override;
    // Free pages: in free_area plus those cached on the per-cpu lists.
    uint64_t nr_free_pages() const override { return nr_free_buddy() + nr_pcp_pages(); }
    // Linux's totalram_pages: managed pages (present minus reserved).
    uint64_t totalram_pages() const override { return totalram_pages_; }
    // pfn's struct page; a deferred one is initialised first (with the zone above it).
    page& pfn_to_page(uint64_t pfn) override {
        if (pfn_deferred(pfn)) deferred_init_through(pfn);
        return mem_map_[pfn];
    }
    lruvec* node_lruvec() override { return &node_.__lruvec; }
    uint64_t totalreserve_pages() const override { return node_.totalreserve_pages; }
    const lruvec* node_lruvec() const { return &node_.__lruvec; }
    // Reserves an allocated order-0 page: it leaves its zone's managed pages (MemTotal) and
    // counts as reserved, as Linux's mark_page_reserved; ignored for a free or reserved page.
    void mark_page_reserved(PhysAddr frame) override;
    // Gives a page reserved that way back to the free lists (free_reserved_page).
    void free_reserved_page(PhysAddr frame);

    // The node and its zones.
    const pglist_data& NODE_DATA() const { return node_; }
    pglist_data& NODE_DATA() { return node_; }
    const zone& zone_at(zone_type t) const { return node_.node_zones[t]; }
    // The zone spanning pfn (page_zonenum); MAX_NR_ZONES if none.
    zone_type page_zonenum(uint64_t pfn) const;
    bool PageHighMem(uint64_t pfn) const { return pfn >= max_low_pfn_ && pfn < max_pfn_; }
    KernelArch arch() const { return cfg_.arch; }
    const BuddyConfig& config() const { return cfg_; }
    mmu::PhysMemory& ram() const { return ram_; }
    // mem_map: index only frames that are not deferred (memmap_ranges).
    page* mem_map() { return mem_map_; }
    const page* mem_map() const { return mem_map_; }
    // pfn's struct page for reading; a deferred frame reads as the free page it will be.
    const page& pfn_page(uint64_t pfn) const;

    // Deferred struct page init.
    // True if pfn's struct page is not initialised yet (a free frame no allocation reached).
    bool pfn_deferred(uint64_t pfn) const {
        const zone_type t = page_zonenum(pfn);
        return t != MAX_NR_ZONES && node_.node_zones[t].pfn_deferred(pfn);
    }
    uint64_t nr_deferred_pages() const;
    // The [start, end) pfn ranges whose struct pages are initialised, ascending: what a walk
    // of mem_map may read.
    std::vector<std::pair<uint64_t, uint64_t>> memmap_ranges() const;
    // Initialises every deferred struct page now (page_alloc_init_late); the allocator's
    // answers do not change.
    void deferred_init_memmap();
    uint64_t max_pfn() const { return max_pfn_; }
    uint64_t max_low_pfn() const { return max_low_pfn_; }  // end of lowmem (direct-mapped)
    uint64_t totalhigh_pages() const;
    uint64_t memmap_pages() const { return memmap_pages_; }  // frames mem_map occupies
    uint64_t memmap_start_pfn() const { return memmap_start_pfn_; }
    uint64_t reserved_pages() const { return reserved_pages_; }

    // Watermarks.
    uint64_t min_free_kbytes() const { return min_free_kbytes_; }
    // sysctl vm.min_free_kbytes: recomputes every zone's watermarks and pcp limits.
    void set_min_free_kbytes(uint64_t kbytes);
    // True if z keeps more than `mark` (+ lowmem_reserve) free pages after an order-`order`
    // allocation and has a free block of that order (__zone_watermark_ok).
    bool zone_watermark_ok(const zone& z, unsigned order, uint64_t mark, zone_type highest_zoneidx,
                           unsigned alloc_flags) const;

    // Returns every page on the per-cpu lists to the buddy lists (drain_all_pages).
    void drain_all_pages();
    uint64_t nr_free_buddy() const;  // NR_FREE_PAGES of all zones
    uint64_t nr_pcp_pages() const;

    // Counters.
    uint64_t vm_event(vm_event_item item) const { return vm_events_[item]; }
    void count_vm_events(vm_event_item item, uint64_t n = 1) { vm_events_[item] += n; }
    int64_t node_page_state(node_stat_item item) const override { return node_.vm_stat[item]; }
    void mod_node_page_state(node_stat_item item, int64_t delta) override { node_.vm_stat[item] += delta; }
    // Counts every frame by page::use (the figures /proc/meminfo adds up).
    page_use_stats count_page_uses() const;
    using PageAllocator::set_page_use;
    // Sets use on the 2^order pages of an allocated block (callers of high-order blocks).
    void set_page_use(PhysAddr frame, unsigned order, PageUse use);
    uint64_t nr_bad_frees() const { return nr_bad_frees_; }
    uint64_t nr_alloc_failures() const { return nr_alloc_failures_; }

    // Where __GFP_ZERO clears pages: through their kernel mapping (clear_highpage: the direct
    // map, kmap_atomic for highmem) once the kernel page tables and kmap exist. Unset (while
    // KernelPageTable::create builds the tables, or in allocator-only tests), through the
    // host view of RAM. A page that cannot be mapped to be cleared (every kmap_atomic slot
    // taken) fails the allocation rather than be handed out dirty.
    void set_highmem(Highmem* highmem) { highmem_ = highmem; }

    // Direct reclaim (try_to_free_pages) for the slow path of requests that may sleep:
    // returns the pages it freed. Unset: there is nothing to reclaim yet.
    using DirectReclaimFn = std::function<uint64_t(gfp_t gfp, unsigned order)>;
    void set_direct_reclaim(DirectReclaimFn fn) { direct_reclaim_ = std::move(fn); }
    // Wakes kswapd when the low-watermark pass failed (wake_all_kswapds). Unset: no kswapd.
    using WakeKswapdFn = std::function<void(gfp_t gfp, unsigned order, zone_type highest_zoneidx)>;
    void set_wakeup_kswapd(WakeKswapdFn fn) { wakeup_kswapd_ = std::move(fn); }

    // Walks every list and page and checks the allocator's invariants; the first violation
    // is the error's message.
    [[nodiscard]] mmu::ErrorOr<void> check_consistency() const;

private:
    struct alloc_context {
        zone_type highest_zoneidx;
        guestos::migratetype migratetype;
    };

    // Boot (free_area_init, memblock_free_all, init_per_zone_wmark_min).
    void free_area_init();
    void place_memmap();
    void defer_init(zone& z);
    void memmap_init_range(uint64_t start_pfn, uint64_t end_pfn);
    void reserve_low_memory();
    void memblock_free_all();
    void memblock_free_range(uint64_t start_pfn, uint64_t end_pfn);
    void deferred_grow_zone(zone& z);
    void deferred_init_through(uint64_t pfn);
    void __free_pages_core(uint64_t pfn, unsigned order);
    void calculate_min_free_kbytes();
    void setup_per_zone_wmarks();
    void setup_per_zone_lowmem_reserve();
    void calculate_totalreserve_pages();
    void adjust_managed_page_count(uint64_t pfn, int64_t count);
    void zone_pcp_update(zone& z);
    void refresh_zone_stat_thresholds();

    // Allocation.
    uint32_t get_page_from_freelist(gfp_t gfp, unsigned order, unsigned alloc_flags, const alloc_context& ac);
    uint32_t __alloc_pages_slowpath(gfp_t gfp, unsigned order, const alloc_context& ac);
    uint32_t __alloc_pages_direct_reclaim(gfp_t gfp, unsigned order, unsigned alloc_flags, const alloc_context& ac,
                                          uint64_t& progress);
    bool zone_watermark_fast(const zone& z, unsigned order, uint64_t mark, zone_type highest_zoneidx,
                             unsigned alloc_flags) const;
    uint32_t rmqueue(zone& z, unsigned order, unsigned alloc_flags, migratetype mt);
    uint32_t rmqueue_pcplist(zone& z, migratetype mt, unsigned alloc_flags);
    int rmqueue_bulk(zone& z, unsigned order, int count, page_list& list, migratetype mt, unsigned alloc_flags);
    uint32_t __rmqueue(zone& z, unsigned order, migratetype mt, unsigned alloc_flags);
    uint32_t __rmqueue_smallest(zone& z, unsigned order, migratetype mt);
    uint32_t __rmqueue_fallback(zone& z, unsigned order, migratetype start_mt, unsigned alloc_flags);
    int find_suitable_fallback(const free_area& area, unsigned order, migratetype mt, bool& can_steal) const;
    uint32_t steal_suitable_fallback(zone& z, uint32_t pfn, unsigned current_order, unsigned order,
                                     migratetype start_mt, bool whole_block);
    bool prep_move_freepages_block(const zone& z, uint32_t pfn, uint64_t& start_pfn, int& free_pages,
                                   int& movable_pages) const;
    void __move_freepages_block(zone& z, uint64_t start_pfn, migratetype old_mt, migratetype new_mt);
    void change_pageblock_range(zone& z, uint32_t pfn, unsigned order, migratetype mt);
    void page_del_and_expand(zone& z, uint32_t pfn, unsigned low, unsigned high, migratetype mt);
    uint64_t expand(zone& z, uint32_t pfn, unsigned low, unsigned high, migratetype mt);
    [[nodiscard]] bool prep_new_page(uint32_t pfn, unsigned order, gfp_t gfp);
    [[nodiscard]] bool kernel_init_pages(uint32_t pfn, unsigned order);

    // Freeing.
    bool free_pages_prepare(uint64_t pfn, unsigned order);
    void __free_pages_ok(uint64_t pfn, unsigned order);
    void free_unref_page(uint32_t pfn);
    void free_pcppages_bulk(zone& z, int count);
    void __free_one_page(uint32_t pfn, zone& z, unsigned order, migratetype mt);
    bool page_is_buddy(const zone& z, uint64_t buddy_pfn, unsigned order) const;
    bool buddy_merge_likely(const zone& z, uint64_t pfn, uint64_t buddy_pfn, unsigned order) const;

    // Free lists.
    void __add_to_free_list(uint32_t pfn, zone& z, unsigned order, migratetype mt, bool tail);
    void __del_page_from_free_list(uint32_t pfn, zone& z, unsigned order, migratetype mt);
    migratetype get_pfnblock_migratetype(const zone& z, uint64_t pfn) const;
    void set_pageblock_migratetype(zone& z, uint64_t pfn, migratetype mt);
    zone& page_zone(uint64_t pfn) { return node_.node_zones[page_zonenum(pfn)]; }

    // check_consistency helpers.
    mmu::ErrorOr<void> check_zone(const zone& z, std::vector<uint8_t>& seen) const;
    mmu::ErrorOr<void> check_deferred(const zone& z) const;
    mmu::ErrorOr<void> check_free_block(const zone& z, uint32_t pfn, unsigned order, migratetype mt) const;

    mmu::PhysMemory& ram_;
    BuddyConfig cfg_;
    mem_map_storage mem_map_storage_;
    page* mem_map_;
    std::vector<bool> pristine_;  // never allocated yet
    pglist_data node_;
    std::vector<zone_type> zonelist_;  // populated zones, lowest first
    uint64_t max_pfn_ = 0, max_low_pfn_ = 0;
    uint64_t memmap_pages_ = 0, memmap_start_pfn_ = 0, reserved_pages_ = 0;
    uint64_t totalram_pages_ = 0;
    uint64_t min_free_kbytes_ = 0;
    std::array<uint64_t, NR_VM_EVENT_ITEMS> vm_events_{};
    uint64_t nr_bad_frees_ = 0, nr_alloc_failures_ = 0;
    DirectReclaimFn direct_reclaim_;
    WakeKswapdFn wakeup_kswapd_;
    Highmem* highmem_ = nullptr;
};

}  // namespace guestos
