// The zoned buddy allocator (Linux mm/page_alloc.c, Linux 6.10+ free-list rules: a free block
// always sits on the list of its pageblock's migrate type).
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/swap.h"

#include "guestos/mm/highmem.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>

#include <sys/mman.h>

namespace guestos {

namespace {

constexpr uint64_t MAX_DMA_PFN = (16ull << 20) >> PAGE_SHIFT;   // 16 MiB
constexpr uint64_t MAX_DMA32_PFN = (4ull << 30) >> PAGE_SHIFT;  // 4 GiB
constexpr uint64_t MAX_LOWMEM_I386 = 896ull << 20;              // MAXMEM with a 3G/1G split
constexpr uint64_t MIN_LOWMEM = 4ull << 20;
constexpr uint64_t STRUCT_PAGE_SIZE = 64;  // sizeof(struct page) in Linux, for mem_map's size
constexpr uint64_t watermark_scale_factor = 10;
constexpr int MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;
constexpr int NR_CPUS_ONLINE = 1;
// Struct pages built per zone at boot (its top blocks) and per deferred_grow_zone: 16 MiB of
// frames, 1.25 MiB of host mem_map. Linux grows by a memory section (128 MiB on x86-64); a
// smaller step keeps a short program's start-up from building struct pages it never uses.
constexpr uint64_t DEFERRED_INIT_PAGES = 4 * MAX_ORDER_NR_PAGES;

// What a deferred frame's struct page will read once initialised: free, on no list yet.
const page deferred_page{};

// sysctl vm.lowmem_reserve_ratio.
constexpr uint64_t sysctl_lowmem_reserve_ratio[MAX_NR_ZONES] = {256, 256, 32, 0, 0, 0};

// Where a request that finds its own migrate type empty may take from (fallbacks[]).
constexpr migratetype fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] = {
    {MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE},    // MIGRATE_UNMOVABLE
    {MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE},  // MIGRATE_MOVABLE
    {MIGRATE_UNMOVABLE, MIGRATE_MOVABLE},      // MIGRATE_RECLAIMABLE
};

constexpr const char* vm_event_names[] = {
#define GUESTOS_VM_EVENT_NAME(id, name) name,
    GUESTOS_VM_EVENTS(GUESTOS_VM_EVENT_NAME)
#undef GUESTOS_VM_EVENT_NAME
};
static_assert(std::size(vm_event_names) == NR_VM_EVENT_ITEMS);

// Largest integer r with r*r <= x (int_sqrt).
uint64_t int_sqrt(uint64_t x) {
    uint64_t r = 0;
    for (uint64_t bit = 1ull << 62; bit; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

// Position of the most significant set bit, 1-based; 0 for 0 (fls).
int fls(uint64_t x) { return x ? 64 - std::countl_zero(x) : 0; }

// Largest power of two <= x (rounddown_pow_of_two); 0 for 0.
uint64_t rounddown_pow_of_two(uint64_t x) { return x ? 1ull << (fls(x) - 1) : 0; }

// Pages of the per-cpu refill batch: ~0.1% of the zone or 1 MiB, as 2^n - 1 (zone_batchsize).
int zone_batchsize(const zone& z) {
    uint64_t batch = std::min<uint64_t>(z.managed_pages >> 10, (1ull << 20) / PAGE_SIZE);
    batch /= 4;
    if (batch < 1) batch = 1;
    batch = rounddown_pow_of_two(batch + batch / 2) - 1;
    return static_cast<int>(std::max<uint64_t>(batch, 1));
}

// pcp->high: the zone's low watermark (or managed/fraction) split over the CPUs, at least
// 4 batches (zone_highsize).
int zone_highsize(const zone& z, int batch, int high_fraction) {
    uint64_t total = high_fraction ? z.managed_pages / high_fraction : z.low_wmark_pages();
    uint64_t high = total / NR_CPUS_ONLINE;
    return static_cast<int>(std::max<uint64_t>(high, static_cast<uint64_t>(batch) << 2));
}

bool migratetype_is_mergeable(migratetype mt) { return mt < MIGRATE_PCPTYPES; }

// True when a request of start_mt may claim the whole pageblock it falls back into.
bool can_steal_fallback(unsigned order, migratetype start_mt) {
    if (order >= pageblock_order) return true;
    return order >= pageblock_order / 2 || start_mt == MIGRATE_RECLAIMABLE || start_mt == MIGRATE_UNMOVABLE;
}

mmu::Error corrupt(const std::string& what) { return mmu::Error::from_errno(EUCLEAN, what); }

}  // namespace

const char* vm_event_name(vm_event_item item) { return item < NR_VM_EVENT_ITEMS ? vm_event_names[item] : ""; }

zone_type vm_event_zone(vm_event_item item) {
    for (vm_event_item base : {PGALLOC_DMA, ALLOCSTALL_DMA, PGSKIP_DMA})
        if (item >= base && item < base + unsigned{MAX_NR_ZONES}) return static_cast<zone_type>(item - base);
    return MAX_NR_ZONES;
}

zone_type gfp_zone(KernelArch arch, gfp_t gfp) {
    const bool x64 = arch == KernelArch::X86_64;
    if (gfp & __GFP_DMA) return ZONE_DMA;
    if (gfp & __GFP_DMA32) return x64 ? ZONE_DMA32 : ZONE_NORMAL;
    if (gfp & __GFP_HIGHMEM) {
        if (gfp & __GFP_MOVABLE) return ZONE_MOVABLE;
        return x64 ? ZONE_NORMAL : ZONE_HIGHMEM;
    }
    return ZONE_NORMAL;
}

migratetype gfp_migratetype(gfp_t gfp) {
    if (gfp & __GFP_MOVABLE) return MIGRATE_MOVABLE;
    if (gfp & __GFP_RECLAIMABLE) return MIGRATE_RECLAIMABLE;
    return MIGRATE_UNMOVABLE;
}

unsigned gfp_to_alloc_flags(gfp_t gfp, unsigned order) {
    unsigned f = ALLOC_WMARK_MIN | ALLOC_CPUSET;
    if (gfp & __GFP_HIGH) f |= ALLOC_MIN_RESERVE;
    if (gfp & __GFP_KSWAPD_RECLAIM) f |= ALLOC_KSWAPD;
    if (!(gfp & __GFP_DIRECT_RECLAIM)) {
        if (!(gfp & __GFP_NOMEMALLOC)) {
            f |= ALLOC_NON_BLOCK;
            if (order > 0) f |= ALLOC_HIGHATOMIC;
        }
        if (f & ALLOC_MIN_RESERVE) f &= ~ALLOC_CPUSET;
    }
    return f;
}

// ---------------------------------------------------------------------------------------------
// Boot: zones, reserved memory, free lists, watermarks.

mem_map_storage::mem_map_storage(uint64_t nr_pages) : bytes_(std::max<uint64_t>(nr_pages, 1) * sizeof(page)) {
    void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    pages_ = static_cast<page*>(p);
}

mem_map_storage::~mem_map_storage() { ::munmap(pages_, bytes_); }

BuddyAllocator::BuddyAllocator(mmu::PhysMemory& ram, const BuddyConfig& cfg)
    : ram_(ram),
      cfg_(cfg),
      mem_map_storage_(ram.num_frames()),
      mem_map_(mem_map_storage_.data()),
      pristine_(ram.num_frames(), true) {
    max_pfn_ = ram.num_frames();
    if (cfg_.arch == KernelArch::X86_64) {
        max_low_pfn_ = max_pfn_;
    } else {
        uint64_t limit = std::clamp(mmu::page_align_down(cfg_.lowmem_limit_bytes), MIN_LOWMEM, MAX_LOWMEM_I386);
        cfg_.lowmem_limit_bytes = limit;
        max_low_pfn_ = std::min(max_pfn_, limit >> PAGE_SHIFT);
    }
    init_page_use_counts(max_pfn_);
    node_.__lruvec.mem_map = mem_map_;
    node_.__lruvec.vm_events = vm_events_.data();
    node_.__lruvec.node_stat = node_.vm_stat.data();
    free_area_init();
    place_memmap();
    for (zone_type t : zonelist_) {
        zone& z = node_.node_zones[t];
        defer_init(z);
        memmap_init_range(z.zone_start_pfn, z.first_deferred_pfn);
        memmap_init_range(z.deferred_end_pfn, z.zone_end_pfn());
    }
    reserve_low_memory();
    memblock_free_all();
    min_free_kbytes_ = cfg_.min_free_kbytes;
    if (!min_free_kbytes_) calculate_min_free_kbytes();
    setup_per_zone_wmarks();
    refresh_zone_stat_thresholds();
    setup_per_zone_lowmem_reserve();
}

// Lays the configured zones out back to back over [0, max_pfn) (free_area_init).
void BuddyAllocator::free_area_init() {
    std::array<uint64_t, MAX_NR_ZONES> zone_end{};
    const bool x64 = cfg_.arch == KernelArch::X86_64;
    zone_end[ZONE_DMA] = std::min(MAX_DMA_PFN, max_low_pfn_);
    zone_end[ZONE_DMA32] = x64 ? std::min(MAX_DMA32_PFN, max_pfn_) : 0;
    zone_end[ZONE_NORMAL] = max_low_pfn_;
    zone_end[ZONE_HIGHMEM] = x64 ? 0 : max_pfn_;
    uint64_t start = 0;
    for (unsigned t = 0; t < MAX_NR_ZONES; ++t) {
        zone& z = node_.node_zones[t];
        z.idx = static_cast<zone_type>(t);
        z.name = zone_names[t];
        z.configured = zone_configured(cfg_.arch, z.idx);
        if (!z.configured || t >= ZONE_MOVABLE || zone_end[t] <= start) continue;
        z.zone_start_pfn = start;
        z.spanned_pages = z.present_pages = z.managed_pages = zone_end[t] - start;
        uint64_t nblocks = ((zone_end[t] - 1) >> pageblock_order) - (start >> pageblock_order) + 1;
        z.pageblock_flags.assign(nblocks, MIGRATE_MOVABLE);
        z.first_deferred_pfn = z.deferred_end_pfn = zone_end[t];
        zonelist_.push_back(z.idx);
        start = zone_end[t];
    }
    node_.node_present_pages = node_.node_spanned_pages = max_pfn_;
}

// Places mem_map (64 bytes per frame, as Linux's struct page): just above ZONE_DMA when
// lowmem has room, else right after the low frames, so that ZONE_DMA stays usable as on
// Linux (whose memblock puts mem_map high).
void BuddyAllocator::place_memmap() {
    const uint64_t low = std::clamp<uint64_t>(cfg_.reserved_low_frames, 1, max_pfn_);
    memmap_pages_ = (max_pfn_ * STRUCT_PAGE_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
    memmap_start_pfn_ = max_low_pfn_ >= MAX_DMA_PFN + memmap_pages_ ? MAX_DMA_PFN : low;
}

// Chooses which of z's frames wait for their struct pages (defer_init): whole MAX_ORDER
// blocks above every boot reservation, below the zone's top DEFERRED_INIT_PAGES. The top
// blocks are the ones a full boot leaves at the head of the order-MAX_PAGE_ORDER list and
// allocations take first, so deferring the rest changes no allocation's answer.
void BuddyAllocator::defer_init(zone& z) {
    if (!cfg_.deferred_struct_page_init) return;
    const uint64_t reserved_end =
        std::max(std::clamp<uint64_t>(cfg_.reserved_low_frames, 1, max_pfn_), memmap_start_pfn_ + memmap_pages_);
    const uint64_t lo = (std::max(z.zone_start_pfn, reserved_end) + MAX_ORDER_NR_PAGES - 1) & ~(MAX_ORDER_NR_PAGES - 1);
    const uint64_t top = z.zone_end_pfn() & ~(MAX_ORDER_NR_PAGES - 1);
    if (top < lo + 2 * DEFERRED_INIT_PAGES) return;  // too small to be worth it
    z.first_deferred_pfn = lo;
    z.deferred_end_pfn = top - DEFERRED_INIT_PAGES;
}

// Builds the struct pages of [start_pfn, end_pfn): free, unlisted (memmap_init_range).
void BuddyAllocator::memmap_init_range(uint64_t start_pfn, uint64_t end_pfn) {
    if (start_pfn < end_pfn) std::uninitialized_value_construct_n(mem_map_ + start_pfn, end_pfn - start_pfn);
}

// Reserves the low frames and mem_map.
void BuddyAllocator::reserve_low_memory() {
    const uint64_t low = std::clamp<uint64_t>(cfg_.reserved_low_frames, 1, max_pfn_);
    const uint64_t memmap_end = std::min(max_pfn_, memmap_start_pfn_ + memmap_pages_);
    auto reserve = [&](uint64_t pfn) {
        page& p = mem_map_[pfn];
        if (p.flags & PG_reserved) return;
        p.flags = PG_reserved;
        set_page_use(p, PageUse::Reserved);
        p._refcount = 1;
        --node_.node_zones[page_zonenum(pfn)].managed_pages;
        ++reserved_pages_;
    };
    for (uint64_t pfn = 0; pfn < low; ++pfn) reserve(pfn);
    for (uint64_t pfn = memmap_start_pfn_; pfn < memmap_end; ++pfn) reserve(pfn);
    for (zone_type t : zonelist_) totalram_pages_ += node_.node_zones[t].managed_pages;
}

// Hands every unreserved frame to the buddy lists in maximal aligned blocks, lowest first
// (memblock_free_all); a zone's deferred blocks are counted free but stay off the lists.
void BuddyAllocator::memblock_free_all() {
    for (zone_type t : zonelist_) {
        zone& z = node_.node_zones[t];
        memblock_free_range(z.zone_start_pfn, z.first_deferred_pfn);
        memblock_free_range(z.deferred_end_pfn, z.zone_end_pfn());
        z.free_area[MAX_PAGE_ORDER].nr_free += z.nr_deferred_pages() >> MAX_PAGE_ORDER;
        z.nr_free_pages += static_cast<int64_t>(z.nr_deferred_pages());
    }
}

// Frees the unreserved frames of [start_pfn, end_pfn), a range of one zone.
void BuddyAllocator::memblock_free_range(uint64_t start_pfn, uint64_t end_pfn) {
    uint64_t pfn = start_pfn;
    while (pfn < end_pfn) {
        if (mem_map_[pfn].flags & PG_reserved) {
            ++pfn;
            continue;
        }
        uint64_t end = pfn;
        while (end < end_pfn && !(mem_map_[end].flags & PG_reserved)) ++end;
        while (pfn < end) {
            unsigned order = std::min<unsigned>(MAX_PAGE_ORDER, pfn ? std::countr_zero(pfn) : 63);
            while (pfn + (1ull << order) > end) --order;
            __free_pages_core(pfn, order);
            pfn += 1ull << order;
        }
    }
}

// Initialises the top DEFERRED_INIT_PAGES of z's deferred frames and puts their blocks at the
// tail of the movable order-MAX_PAGE_ORDER list, highest first: where a full boot would have
// them (deferred_grow_zone). Their pages were already counted free.
void BuddyAllocator::deferred_grow_zone(zone& z) {
    const uint64_t end = z.deferred_end_pfn;
    const uint64_t start = std::max(z.first_deferred_pfn, end - std::min(end, DEFERRED_INIT_PAGES));
    memmap_init_range(start, end);
    page_list& list = z.free_area[MAX_PAGE_ORDER].free_list[MIGRATE_MOVABLE];
    for (uint64_t pfn = end; pfn > start;) {
        pfn -= MAX_ORDER_NR_PAGES;
        list_add_tail(mem_map_, list, static_cast<uint32_t>(pfn));
        mem_map_[pfn].flags |= PG_buddy;
        mem_map_[pfn].order = MAX_PAGE_ORDER;
    }
    z.deferred_end_pfn = start;
}

// Grows pfn's zone until pfn's struct page is initialised.
void BuddyAllocator::deferred_init_through(uint64_t pfn) {
    zone& z = page_zone(pfn);
    while (z.pfn_deferred(pfn)) deferred_grow_zone(z);
}

void BuddyAllocator::deferred_init_memmap() {
    for (zone_type t : zonelist_)
        while (node_.node_zones[t].nr_deferred_pages()) deferred_grow_zone(node_.node_zones[t]);
}

uint64_t BuddyAllocator::nr_deferred_pages() const {
    uint64_t n = 0;
    for (zone_type t : zonelist_) n += node_.node_zones[t].nr_deferred_pages();
    return n;
}

std::vector<std::pair<uint64_t, uint64_t>> BuddyAllocator::memmap_ranges() const {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    auto add = [&](uint64_t start, uint64_t end) {
        if (start >= end) return;
        if (!out.empty() && out.back().second == start) out.back().second = end;
        else out.emplace_back(start, end);
    };
    for (zone_type t : zonelist_) {
        const zone& z = node_.node_zones[t];
        add(z.zone_start_pfn, z.first_deferred_pfn);
        add(z.deferred_end_pfn, z.zone_end_pfn());
    }
    return out;
}

const page& BuddyAllocator::pfn_page(uint64_t pfn) const { return pfn_deferred(pfn) ? deferred_page : mem_map_[pfn]; }

// Frees one boot block into its zone (not counted as pgfree).
void BuddyAllocator::__free_pages_core(uint64_t pfn, unsigned order) {
    zone& z = page_zone(pfn);
    __free_one_page(static_cast<uint32_t>(pfn), z, order, get_pfnblock_migratetype(z, pfn));
}

// min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to [128, 262144] (calculate_min_free_kbytes).
void BuddyAllocator::calculate_min_free_kbytes() {
    uint64_t lowmem_pages = 0;  // nr_free_buffer_pages(): managed minus high watermark, <= NORMAL
    for (zone_type t : zonelist_) {
        const zone& z = node_.node_zones[t];
        if (t <= ZONE_NORMAL && z.managed_pages > z.high_wmark_pages())
            lowmem_pages += z.managed_pages - z.high_wmark_pages();
    }
    uint64_t lowmem_kbytes = lowmem_pages * (PAGE_SIZE >> 10);
    min_free_kbytes_ = std::clamp<uint64_t>(int_sqrt(lowmem_kbytes * 16), 128, 262144);
}

void BuddyAllocator::set_min_free_kbytes(uint64_t kbytes) {
    min_free_kbytes_ = kbytes;
    setup_per_zone_wmarks();
}

// min/low/high/promo per zone: min shares pages_min by managed size (highmem: a small cap),
// each further mark adds max(min/4, managed * 0.1%) (__setup_per_zone_wmarks).
void BuddyAllocator::setup_per_zone_wmarks() {
    const uint64_t pages_min = min_free_kbytes_ >> (PAGE_SHIFT - 10);
    uint64_t lowmem_pages = 0;
    for (zone_type t : zonelist_)
        if (t != ZONE_HIGHMEM && t != ZONE_MOVABLE) lowmem_pages += node_.node_zones[t].managed_pages;
    for (zone_type t : zonelist_) {
        zone& z = node_.node_zones[t];
        uint64_t tmp = lowmem_pages ? pages_min * z.managed_pages / lowmem_pages : 0;
        if (t == ZONE_HIGHMEM || t == ZONE_MOVABLE)
            z._watermark[WMARK_MIN] = std::clamp<uint64_t>(z.managed_pages / 1024, SWAP_CLUSTER_MAX, 128);
        else z._watermark[WMARK_MIN] = tmp;
        tmp = std::max(tmp >> 2, z.managed_pages * watermark_scale_factor / 10000);
        z.watermark_boost = 0;
        z._watermark[WMARK_LOW] = z._watermark[WMARK_MIN] + tmp;
        z._watermark[WMARK_HIGH] = z._watermark[WMARK_LOW] + tmp;
        z._watermark[WMARK_PROMO] = z._watermark[WMARK_HIGH] + tmp;
    }
    calculate_totalreserve_pages();
    for (zone_type t : zonelist_) zone_pcp_update(node_.node_zones[t]);
}

// lowmem_reserve[j] of zone i: pages of the zones above i up to j, over i's ratio
// (setup_per_zone_lowmem_reserve): keeps DMA for requests that can use nothing else.
void BuddyAllocator::setup_per_zone_lowmem_reserve() {
    for (unsigned i = 0; i < MAX_NR_ZONES; ++i) {
        zone& z = node_.node_zones[i];
        if (!z.configured) continue;
        const uint64_t ratio = sysctl_lowmem_reserve_ratio[i];
        const bool clear = !ratio || !z.managed_pages;
        uint64_t managed = 0;
        for (unsigned j = i + 1; j < MAX_NR_ZONES; ++j) {
            if (!node_.node_zones[j].configured) continue;
            managed += node_.node_zones[j].managed_pages;
            z.lowmem_reserve[j] = clear ? 0 : managed / ratio;
        }
    }
    calculate_totalreserve_pages();
}

// Pages no ordinary allocation can take: per zone, high watermark plus its largest
// lowmem_reserve, capped at managed (calculate_totalreserve_pages).
void BuddyAllocator::calculate_totalreserve_pages() {
    uint64_t total = 0;
    for (zone_type t : zonelist_) {
        const zone& z = node_.node_zones[t];
        uint64_t max = *std::max_element(z.lowmem_reserve.begin() + t, z.lowmem_reserve.end());
        total += std::min(max + z.high_wmark_pages(), z.managed_pages);
    }
    node_.totalreserve_pages = total;
}

// pcp batch and high from the zone's size and low watermark (zone_set_pageset_high_and_batch).
void BuddyAllocator::zone_pcp_update(zone& z) {
    per_cpu_pages& pcp = z.pcp;
    pcp.batch = zone_batchsize(z);
    pcp.high_min = zone_highsize(z, pcp.batch, 0);
    pcp.high_max = zone_highsize(z, pcp.batch, MIN_PERCPU_PAGELIST_HIGH_FRACTION);
    pcp.high = pcp.high_min;
    if (pcp.count >= pcp.high) free_pcppages_bulk(z, pcp.count - pcp.high + pcp.batch);
}

// The per-cpu vmstat fold threshold shown in /proc/zoneinfo (calculate_normal_threshold).
void BuddyAllocator::refresh_zone_stat_thresholds() {
    for (zone_type t : zonelist_) {
        zone& z = node_.node_zones[t];
        uint64_t mem = z.managed_pages >> (27 - PAGE_SHIFT);
        z.stat_threshold = std::min(125, 2 * fls(NR_CPUS_ONLINE) * (1 + fls(mem)));
    }
}

// ---------------------------------------------------------------------------------------------
// Allocation.

std::optional<PhysAddr> BuddyAllocator::alloc_pages(gfp_t gfp, unsigned order) {
    if (order > MAX_PAGE_ORDER) {
        ++nr_alloc_failures_;
        return std::nullopt;
    }
    const alloc_context ac{gfp_zone(cfg_.arch, gfp), gfp_migratetype(gfp)};
    uint32_t pfn = get_page_from_freelist(gfp, order, ALLOC_WMARK_LOW, ac);
    if (pfn == NO_PFN) pfn = __alloc_pages_slowpath(gfp, order, ac);
    if (pfn == NO_PFN) {
        ++nr_alloc_failures_;
        return std::nullopt;
    }
    return PhysAddr::from_pfn(pfn);
}

// Tries each zone from highest_zoneidx down; takes from the first that passes its watermark.
uint32_t BuddyAllocator::get_page_from_freelist(gfp_t gfp, unsigned order, unsigned alloc_flags,
                                                const alloc_context& ac) {
    for (int t = ac.highest_zoneidx; t >= 0; --t) {
        zone& z = node_.node_zones[t];
        if (!z.managed_pages) continue;
        if (!(alloc_flags & ALLOC_NO_WATERMARKS)) {
            uint64_t mark = z.wmark_pages(static_cast<zone_watermarks>(alloc_flags & ALLOC_WMARK_MASK));
            if (!zone_watermark_fast(z, order, mark, ac.highest_zoneidx, alloc_flags)) continue;
        }
        uint32_t pfn = rmqueue(z, order, alloc_flags, ac.migratetype);
        if (pfn == NO_PFN) continue;
        if (!prep_new_page(pfn, order, gfp)) {  // it could not be cleared: back it goes
            if (free_pages_prepare(pfn, order)) __free_pages_ok(pfn, order);
            return NO_PFN;
        }
        count_vm_events(zone_event(PGALLOC_DMA, z.idx), 1ull << order);
        ++z.numa_hit;
        return pfn;
    }
    return NO_PFN;
}

// After the low-watermark pass failed: the min watermark with the caller's reserves, direct
// reclaim for callers that may sleep, then (__GFP_NOFAIL) the reserves themselves.
uint32_t BuddyAllocator::__alloc_pages_slowpath(gfp_t gfp, unsigned order, const alloc_context& ac) {
    const unsigned alloc_flags = gfp_to_alloc_flags(gfp, order);
    if ((gfp & __GFP_KSWAPD_RECLAIM) && wakeup_kswapd_) wakeup_kswapd_(gfp, order, ac.highest_zoneidx);
    uint32_t pfn = get_page_from_freelist(gfp, order, alloc_flags, ac);
    if (pfn != NO_PFN) return pfn;
    // should_reclaim_retry: reclaim again, up to MAX_RECLAIM_RETRIES more times (a pass that
    // frees nothing may still have aged the pages the next one frees); bounded, since
    // one CPU has nobody else to wait for.
    constexpr int MAX_RECLAIM_RETRIES = 16;
    for (int loops = 0; (gfp & __GFP_DIRECT_RECLAIM) && loops <= MAX_RECLAIM_RETRIES; ++loops) {
        uint64_t progress = 0;
        pfn = __alloc_pages_direct_reclaim(gfp, order, alloc_flags, ac, progress);
        if (pfn != NO_PFN) return pfn;
        if (gfp & __GFP_NORETRY) break;
    }
    if (gfp & __GFP_NOFAIL) {
        // __alloc_pages_cpuset_fallback with ALLOC_MIN_RESERVE, then everything: Linux would
        // loop and OOM-kill; a single-threaded model has nobody to wait for, so it fails.
        pfn = get_page_from_freelist(gfp, order, ALLOC_WMARK_MIN | ALLOC_MIN_RESERVE, ac);
        if (pfn == NO_PFN) pfn = get_page_from_freelist(gfp, order, ALLOC_NO_WATERMARKS, ac);
    }
    return pfn;
}

// Runs the reclaim hook, retries, and retries once more after draining the pcp lists.
uint32_t BuddyAllocator::__alloc_pages_direct_reclaim(gfp_t gfp, unsigned order, unsigned alloc_flags,
                                                      const alloc_context& ac, uint64_t& progress) {
    count_vm_events(zone_event(ALLOCSTALL_DMA, ac.highest_zoneidx));
    if (direct_reclaim_) progress = direct_reclaim_(gfp, order);
    uint32_t pfn = get_page_from_freelist(gfp, order, alloc_flags, ac);
    if (pfn != NO_PFN) return pfn;
    drain_all_pages();
    return get_page_from_freelist(gfp, order, alloc_flags, ac);
}

bool BuddyAllocator::zone_watermark_ok(const zone& z, unsigned order, uint64_t mark, zone_type highest_zoneidx,
                                       unsigned alloc_flags) const {
    int64_t min = static_cast<int64_t>(mark);
    int64_t free_pages = z.nr_free_pages - ((1 << order) - 1);
    if (alloc_flags & ALLOC_RESERVES) {
        if (alloc_flags & ALLOC_MIN_RESERVE) {
            min -= min / 2;
            if (alloc_flags & ALLOC_NON_BLOCK) min -= min / 4;
        }
        if (alloc_flags & ALLOC_OOM) min -= min / 2;
    }
    if (free_pages <= min + static_cast<int64_t>(z.lowmem_reserve[highest_zoneidx])) return false;
    if (!order) return true;
    for (unsigned o = order; o < NR_PAGE_ORDERS; ++o) {
        const free_area& area = z.free_area[o];
        if (!area.nr_free) continue;
        for (unsigned mt = 0; mt < MIGRATE_PCPTYPES; ++mt)
            if (!area.free_list[mt].empty()) return true;
        if ((alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) && !area.free_list[MIGRATE_HIGHATOMIC].empty()) return true;
    }
    return false;
}

// The watermark check of the allocation loop (zone_watermark_fast).
bool BuddyAllocator::zone_watermark_fast(const zone& z, unsigned order, uint64_t mark, zone_type highest_zoneidx,
                                         unsigned alloc_flags) const {
    if (!order && z.nr_free_pages > static_cast<int64_t>(mark + z.lowmem_reserve[highest_zoneidx])) return true;
    return zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags);
}

// Order-0 requests come from the per-cpu lists, larger ones straight from the buddy lists.
uint32_t BuddyAllocator::rmqueue(zone& z, unsigned order, unsigned alloc_flags, migratetype mt) {
    if (order == 0) return rmqueue_pcplist(z, mt, alloc_flags);
    return __rmqueue(z, order, mt, alloc_flags);
}

// Pops the hottest page of the pcp list, refilling it with `batch` pages when empty.
uint32_t BuddyAllocator::rmqueue_pcplist(zone& z, migratetype mt, unsigned alloc_flags) {
    per_cpu_pages& pcp = z.pcp;
    page_list& list = pcp.lists[mt];
    if (list.empty() && !rmqueue_bulk(z, 0, pcp.batch, list, mt, alloc_flags)) return NO_PFN;
    uint32_t pfn = list.first;
    list_del(mem_map_, list, pfn);
    --pcp.count;
    return pfn;
}

// Moves up to count blocks of `order` from the buddy lists to list, in address order.
int BuddyAllocator::rmqueue_bulk(zone& z, unsigned order, int count, page_list& list, migratetype mt,
                                 unsigned alloc_flags) {
    int i = 0;
    for (; i < count; ++i) {
        uint32_t pfn = __rmqueue(z, order, mt, alloc_flags);
        if (pfn == NO_PFN) break;
        list_add_tail(mem_map_, list, pfn);
    }
    z.pcp.count += i << order;
    return i;
}

// A block of `order` from mt's lists, else stolen from another migrate type.
uint32_t BuddyAllocator::__rmqueue(zone& z, unsigned order, migratetype mt, unsigned alloc_flags) {
    uint32_t pfn = __rmqueue_smallest(z, order, mt);
    if (pfn == NO_PFN) pfn = __rmqueue_fallback(z, order, mt, alloc_flags);
    return pfn;
}

// The smallest free block of at least `order` on mt's lists, split down to `order`.
uint32_t BuddyAllocator::__rmqueue_smallest(zone& z, unsigned order, migratetype mt) {
    for (unsigned current_order = order; current_order < NR_PAGE_ORDERS; ++current_order) {
        page_list& list = z.free_area[current_order].free_list[mt];
        if (list.empty()) continue;
        uint32_t pfn = list.first;
        page_del_and_expand(z, pfn, order, current_order, mt);
        return pfn;
    }
    return NO_PFN;
}

// The largest block of a fallback type (the smallest, for movable requests that cannot claim
// the block), claimed whole or in part by steal_suitable_fallback.
uint32_t BuddyAllocator::__rmqueue_fallback(zone& z, unsigned order, migratetype start_mt, unsigned alloc_flags) {
    bool can_steal = false;
    int fallback_mt = -1;
    int current_order = MAX_PAGE_ORDER;
    for (; current_order >= static_cast<int>(order); --current_order) {
        fallback_mt = find_suitable_fallback(z.free_area[current_order], current_order, start_mt, can_steal);
        if (fallback_mt >= 0) break;
    }
    if (fallback_mt < 0) return NO_PFN;
    if (!can_steal && start_mt == MIGRATE_MOVABLE && current_order > static_cast<int>(order)) {
        for (current_order = order; current_order <= static_cast<int>(MAX_PAGE_ORDER); ++current_order) {
            fallback_mt = find_suitable_fallback(z.free_area[current_order], current_order, start_mt, can_steal);
            if (fallback_mt >= 0) break;
        }
    }
    uint32_t pfn = z.free_area[current_order].free_list[fallback_mt].first;
    return steal_suitable_fallback(z, pfn, current_order, order, start_mt, can_steal);
}

// The first fallback type with a free block of `order`, or -1; can_steal says whether the
// request may claim the whole pageblock.
int BuddyAllocator::find_suitable_fallback(const free_area& area, unsigned order, migratetype mt,
                                           bool& can_steal) const {
    if (area.nr_free == 0) return -1;
    can_steal = false;
    for (migratetype fallback : fallbacks[mt]) {
        if (area.free_list[fallback].empty()) continue;
        can_steal = can_steal_fallback(order, mt);
        return fallback;
    }
    return -1;
}

// Takes the fallback block at pfn for start_mt: whole pageblocks change type outright; a
// pageblock mostly free or compatible is converted; otherwise only the page is taken and the
// rest stays on the block's own lists.
uint32_t BuddyAllocator::steal_suitable_fallback(zone& z, uint32_t pfn, unsigned current_order, unsigned order,
                                                 migratetype start_mt, bool whole_block) {
    const migratetype block_type = get_pfnblock_migratetype(z, pfn);
    if (current_order >= pageblock_order) {
        __del_page_from_free_list(pfn, z, current_order, block_type);
        change_pageblock_range(z, pfn, current_order, start_mt);
        uint64_t nr_added = expand(z, pfn, order, current_order, start_mt);
        z.nr_free_pages -= static_cast<int64_t>((1ull << current_order) - nr_added);
        return pfn;
    }
    uint64_t start_pfn = 0;
    int free_pages = 0, movable_pages = 0;
    if (whole_block && prep_move_freepages_block(z, pfn, start_pfn, free_pages, movable_pages)) {
        int alike_pages = 0;
        if (start_mt == MIGRATE_MOVABLE) alike_pages = movable_pages;
        else if (block_type == MIGRATE_MOVABLE)
            alike_pages = static_cast<int>(pageblock_nr_pages) - (free_pages + movable_pages);
        if (free_pages + alike_pages >= (1 << (pageblock_order - 1))) {
            __move_freepages_block(z, start_pfn, block_type, start_mt);
            return __rmqueue_smallest(z, order, start_mt);
        }
    }
    page_del_and_expand(z, pfn, order, current_order, block_type);
    return pfn;
}

// Counts free and movable (LRU) pages of pfn's pageblock; false if it leaves the zone.
bool BuddyAllocator::prep_move_freepages_block(const zone& z, uint32_t pfn, uint64_t& start_pfn, int& free_pages,
                                               int& movable_pages) const {
    start_pfn = pfn & ~(pageblock_nr_pages - 1);
    const uint64_t end_pfn = start_pfn + pageblock_nr_pages - 1;
    if (!z.zone_spans_pfn(start_pfn) || !z.zone_spans_pfn(end_pfn)) return false;
    free_pages = movable_pages = 0;
    for (uint64_t p = start_pfn; p <= end_pfn;) {
        const page& pg = mem_map_[p];
        if (pg.flags & PG_buddy) {
            free_pages += 1 << pg.order;
            p += 1ull << pg.order;
            continue;
        }
        if (pg.use == PageUse::Anon || pg.use == PageUse::File) ++movable_pages;
        ++p;
    }
    return true;
}

// Moves every free block of the pageblock to new_mt's lists and retypes the pageblock.
void BuddyAllocator::__move_freepages_block(zone& z, uint64_t start_pfn, migratetype old_mt, migratetype new_mt) {
    for (uint64_t p = start_pfn; p < start_pfn + pageblock_nr_pages;) {
        const page& pg = mem_map_[p];
        if (!(pg.flags & PG_buddy)) {
            ++p;
            continue;
        }
        const unsigned o = pg.order;
        free_area& area = z.free_area[o];
        list_del(mem_map_, area.free_list[old_mt], static_cast<uint32_t>(p));
        list_add_tail(mem_map_, area.free_list[new_mt], static_cast<uint32_t>(p));
        p += 1ull << o;
    }
    set_pageblock_migratetype(z, start_pfn, new_mt);
}

// Retypes every pageblock of a block of order >= pageblock_order.
void BuddyAllocator::change_pageblock_range(zone& z, uint32_t pfn, unsigned order, migratetype mt) {
    const uint64_t nr = 1ull << (order - pageblock_order);
    for (uint64_t i = 0; i < nr; ++i) set_pageblock_migratetype(z, pfn + i * pageblock_nr_pages, mt);
}

// Takes the free block at pfn off its list and gives back all but its first 2^low pages.
void BuddyAllocator::page_del_and_expand(zone& z, uint32_t pfn, unsigned low, unsigned high, migratetype mt) {
    __del_page_from_free_list(pfn, z, high, mt);
    uint64_t nr_added = expand(z, pfn, low, high, mt);
    z.nr_free_pages -= static_cast<int64_t>((1ull << high) - nr_added);
}

// Splits a 2^high block down to 2^low, putting each upper half on the free lists.
uint64_t BuddyAllocator::expand(zone& z, uint32_t pfn, unsigned low, unsigned high, migratetype mt) {
    uint64_t nr_added = 0;
    uint64_t size = 1ull << high;
    while (high > low) {
        --high;
        size >>= 1;
        __add_to_free_list(static_cast<uint32_t>(pfn + size), z, high, mt, false);
        nr_added += size;
    }
    return nr_added;
}

// Makes a block an allocated page (post_alloc_hook, prep_compound_page, __GFP_ZERO); false
// when __GFP_ZERO could not clear it.
bool BuddyAllocator::prep_new_page(uint32_t pfn, unsigned order, gfp_t gfp) {
    const uint64_t n = 1ull << order;
    page* p = &mem_map_[pfn];
    p[0]._refcount = 1;
    p[0].order = static_cast<uint8_t>(order);
    for (uint64_t i = 0; i < n; ++i) set_page_use(p[i], PageUse::Other);
    if ((gfp & __GFP_COMP) && order) {
        p[0].flags |= PG_head;
        for (uint64_t i = 1; i < n; ++i) {
            p[i].flags |= PG_tail;
            p[i].compound_head = pfn;
        }
    }
    bool fresh = false;
    for (uint64_t i = 0; i < n; ++i) fresh = fresh || pristine_[pfn + i];
    if (fresh) ram_.prefault(PhysAddr::from_pfn(pfn), n * PAGE_SIZE);  // the host backs it in 2 MiB blocks
    const bool ok = !(gfp & __GFP_ZERO) || kernel_init_pages(pfn, order);
    for (uint64_t i = 0; i < n; ++i) pristine_[pfn + i] = false;
    return ok;
}

// Clears each page of a block through its kernel mapping (kernel_init_pages' clear_highpage).
// A frame never handed out before is untouched host memory and reads as zero: clearing it
// would only cost a 4 KiB write.
bool BuddyAllocator::kernel_init_pages(uint32_t pfn, unsigned order) {
    bool ok = true;
    for (uint64_t p = pfn; p < pfn + (1ull << order); ++p) {
        if (pristine_[p]) continue;
        if (highmem_) ok = highmem_->clear_highpage(PhysAddr::from_pfn(p)) && ok;
        else std::memset(ram_.host(PhysAddr::from_pfn(p), PAGE_SIZE), 0, PAGE_SIZE);  // no kernel tables yet
    }
    return ok;
}

// ---------------------------------------------------------------------------------------------
// Freeing.

void BuddyAllocator::free_pages(PhysAddr frame, unsigned order) {
    const uint64_t pfn = frame.pfn();
    if (!free_pages_prepare(pfn, order)) {
        ++nr_bad_frees_;
        return;
    }
    count_vm_events(PGFREE, 1ull << order);
    __free_pages_ok(pfn, order);
}

// Puts a prepared block back: order 0 on the per-cpu list, larger ones on the buddy lists.
void BuddyAllocator::__free_pages_ok(uint64_t pfn, unsigned order) {
    if (order == 0) {
        free_unref_page(static_cast<uint32_t>(pfn));
        return;
    }
    // split_large_buddy: each pageblock goes back with its own migrate type.
    zone& z = page_zone(pfn);
    const unsigned chunk = std::min(order, pageblock_order);
    for (uint64_t p = pfn; p < pfn + (1ull << order); p += 1ull << chunk)
        __free_one_page(static_cast<uint32_t>(p), z, chunk, get_pfnblock_migratetype(z, p));
}

void BuddyAllocator::mark_page_reserved(PhysAddr frame) {
    const uint64_t pfn = frame.pfn();
    if (pfn >= max_pfn_ || pfn_deferred(pfn)) return;
    page& p = mem_map_[pfn];
    if (p.use == PageUse::Free || p.use == PageUse::Reserved || (p.flags & PG_reserved)) return;
    p.flags |= PG_reserved;
    set_page_use(p, PageUse::Reserved);
    adjust_managed_page_count(pfn, -1);
}

void BuddyAllocator::free_reserved_page(PhysAddr frame) {
    const uint64_t pfn = frame.pfn();
    if (pfn >= max_pfn_ || page_zonenum(pfn) == MAX_NR_ZONES || pfn_deferred(pfn) ||
        !(mem_map_[pfn].flags & PG_reserved) || pfn < std::max<uint64_t>(cfg_.reserved_low_frames, 1) ||
        (pfn >= memmap_start_pfn_ && pfn < memmap_start_pfn_ + memmap_pages_)) {
        ++nr_bad_frees_;  // boot reservations stay
        return;
    }
    set_page_use(mem_map_[pfn], PageUse::Other);
    mem_map_[pfn] = page{};
    mem_map_[pfn].use = PageUse::Other;
    mem_map_[pfn]._refcount = 1;
    adjust_managed_page_count(pfn, 1);
    free_pages(frame, 0);
}

// Moves `count` pages of pfn's zone between managed and reserved (adjust_managed_page_count).
void BuddyAllocator::adjust_managed_page_count(uint64_t pfn, int64_t count) {
    zone& z = page_zone(pfn);
    z.managed_pages = static_cast<uint64_t>(static_cast<int64_t>(z.managed_pages) + count);
    totalram_pages_ = static_cast<uint64_t>(static_cast<int64_t>(totalram_pages_) + count);
    reserved_pages_ = static_cast<uint64_t>(static_cast<int64_t>(reserved_pages_) - count);
}

// Checks that the block is a whole allocated block of one zone and resets its pages
// (free_pages_prepare); false (nothing changed) for a bad free.
bool BuddyAllocator::free_pages_prepare(uint64_t pfn, unsigned order) {
    if (order > MAX_PAGE_ORDER) return false;
    const uint64_t n = 1ull << order;
    if (pfn >= max_pfn_ || n > max_pfn_ - pfn || (pfn & (n - 1))) return false;
    const zone_type zt = page_zonenum(pfn);
    if (zt == MAX_NR_ZONES || page_zonenum(pfn + n - 1) != zt) return false;
    if (node_.node_zones[zt].pfn_deferred(pfn)) return false;  // never allocated (blocks do not straddle)
    for (uint64_t i = 0; i < n; ++i) {
        const page& p = mem_map_[pfn + i];
        if (p.use == PageUse::Free || p.use == PageUse::Reserved || (p.flags & (PG_buddy | PG_reserved))) return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
        lru_page_release(node_.__lruvec, mem_map_[pfn + i]);
        set_page_use(mem_map_[pfn + i], PageUse::Free);
        mem_map_[pfn + i] = page{};
    }
    return true;
}

// Puts an order-0 page on the per-cpu list of its pageblock's type; past pcp->high a batch
// goes back to the buddy lists (free_unref_page).
void BuddyAllocator::free_unref_page(uint32_t pfn) {
    zone& z = page_zone(pfn);
    const migratetype mt = get_pfnblock_migratetype(z, pfn);
    if (mt >= MIGRATE_PCPTYPES) {
        __free_one_page(pfn, z, 0, mt);
        return;
    }
    per_cpu_pages& pcp = z.pcp;
    list_add(mem_map_, pcp.lists[mt], pfn);
    if (++pcp.count >= pcp.high) free_pcppages_bulk(z, pcp.batch);
}

// Returns `count` pcp pages, coldest first and round-robin over the lists, to the buddy lists.
void BuddyAllocator::free_pcppages_bulk(zone& z, int count) {
    per_cpu_pages& pcp = z.pcp;
    count = std::min(count, pcp.count);
    unsigned mt = MIGRATE_PCPTYPES - 1;
    while (count > 0) {
        do mt = (mt + 1) % MIGRATE_PCPTYPES;
        while (pcp.lists[mt].empty());
        const uint32_t pfn = pcp.lists[mt].last;
        list_del(mem_map_, pcp.lists[mt], pfn);
        --pcp.count;
        --count;
        __free_one_page(pfn, z, 0, get_pfnblock_migratetype(z, pfn));
    }
}

void BuddyAllocator::drain_all_pages() {
    for (zone_type t : zonelist_) {
        zone& z = node_.node_zones[t];
        free_pcppages_bulk(z, z.pcp.count);
    }
}

// Frees a block into the buddy lists, merging with its buddy while the buddy is a free block
// of the same order (__free_one_page).
void BuddyAllocator::__free_one_page(uint32_t pfn, zone& z, unsigned order, migratetype mt) {
    z.nr_free_pages += 1ll << order;
    uint64_t buddy_pfn = 0;
    while (order < MAX_PAGE_ORDER) {
        buddy_pfn = pfn ^ (1ull << order);
        if (!page_is_buddy(z, buddy_pfn, order)) break;
        migratetype buddy_mt = mt;
        if (order >= pageblock_order) {
            buddy_mt = get_pfnblock_migratetype(z, buddy_pfn);
            if (mt != buddy_mt && (!migratetype_is_mergeable(mt) || !migratetype_is_mergeable(buddy_mt))) break;
        }
        __del_page_from_free_list(static_cast<uint32_t>(buddy_pfn), z, order, buddy_mt);
        if (buddy_mt != mt) set_pageblock_migratetype(z, buddy_pfn, mt);
        pfn &= static_cast<uint32_t>(buddy_pfn);
        ++order;
    }
    __add_to_free_list(pfn, z, order, mt, buddy_merge_likely(z, pfn, buddy_pfn, order));
}

// True if buddy_pfn heads a free block of exactly `order` in zone z (page_is_buddy).
bool BuddyAllocator::page_is_buddy(const zone& z, uint64_t buddy_pfn, unsigned order) const {
    if (!z.zone_spans_pfn(buddy_pfn) || z.pfn_deferred(buddy_pfn)) return false;
    const page& b = mem_map_[buddy_pfn];
    return (b.flags & PG_buddy) && b.order == order;
}

// True if the block one order up would merge were its buddy freed: then the block goes to
// the list tail so it is allocated last (buddy_merge_likely).
bool BuddyAllocator::buddy_merge_likely(const zone& z, uint64_t pfn, uint64_t buddy_pfn, unsigned order) const {
    if (order >= MAX_PAGE_ORDER - 1) return false;
    const uint64_t higher = buddy_pfn & pfn;
    return page_is_buddy(z, higher ^ (1ull << (order + 1)), order + 1);
}

// ---------------------------------------------------------------------------------------------
// Free lists and pageblocks.

// Puts a free block on its order's list for mt and marks its head PageBuddy with the order.
void BuddyAllocator::__add_to_free_list(uint32_t pfn, zone& z, unsigned order, migratetype mt, bool tail) {
    free_area& area = z.free_area[order];
    if (tail) list_add_tail(mem_map_, area.free_list[mt], pfn);
    else list_add(mem_map_, area.free_list[mt], pfn);
    ++area.nr_free;
    page& p = mem_map_[pfn];
    p.flags |= PG_buddy;
    p.order = static_cast<uint8_t>(order);
}

// Takes a free block off its list; its head is no longer PageBuddy. The movable
// order-MAX_PAGE_ORDER list never runs empty while the zone has deferred blocks: they are its
// tail, initialised now (deferred_grow_zone).
void BuddyAllocator::__del_page_from_free_list(uint32_t pfn, zone& z, unsigned order, migratetype mt) {
    free_area& area = z.free_area[order];
    list_del(mem_map_, area.free_list[mt], pfn);
    --area.nr_free;
    page& p = mem_map_[pfn];
    p.flags &= ~PG_buddy;
    p.order = 0;
    if (order == MAX_PAGE_ORDER && mt == MIGRATE_MOVABLE && area.free_list[mt].empty() && z.nr_deferred_pages())
        deferred_grow_zone(z);
}

// The migrate type of pfn's pageblock (pageblock_flags).
migratetype BuddyAllocator::get_pfnblock_migratetype(const zone& z, uint64_t pfn) const {
    return static_cast<migratetype>(
        z.pageblock_flags[(pfn >> pageblock_order) - (z.zone_start_pfn >> pageblock_order)]);
}

// Retypes pfn's pageblock.
void BuddyAllocator::set_pageblock_migratetype(zone& z, uint64_t pfn, migratetype mt) {
    z.pageblock_flags[(pfn >> pageblock_order) - (z.zone_start_pfn >> pageblock_order)] = mt;
}

zone_type BuddyAllocator::page_zonenum(uint64_t pfn) const {
    for (zone_type t : zonelist_)
        if (pfn < node_.node_zones[t].zone_end_pfn())
            return pfn >= node_.node_zones[t].zone_start_pfn ? t : MAX_NR_ZONES;
    return MAX_NR_ZONES;
}

// ---------------------------------------------------------------------------------------------
// Counters and checks.

uint64_t BuddyAllocator::totalhigh_pages() const {
    return cfg_.arch == KernelArch::I386 ? node_.node_zones[ZONE_HIGHMEM].managed_pages : 0;
}

// NR_FREE_PAGES summed over the zones (pcp pages excluded, as in Linux).
uint64_t BuddyAllocator::nr_free_buddy() const {
    int64_t n = 0;
    for (zone_type t : zonelist_) n += node_.node_zones[t].nr_free_pages;
    return static_cast<uint64_t>(n);
}

// Pages cached on the per-cpu lists of every zone.
uint64_t BuddyAllocator::nr_pcp_pages() const {
    uint64_t n = 0;
    for (zone_type t : zonelist_) n += static_cast<uint64_t>(node_.node_zones[t].pcp.count);
    return n;
}

page_use_stats BuddyAllocator::count_page_uses() const {
    page_use_stats s;
    constexpr unsigned FREE = static_cast<unsigned>(PageUse::Free);
    for (zone_type t : zonelist_) {
        const zone& z = node_.node_zones[t];
        s.by_use[FREE] += z.nr_deferred_pages();
        s.zone_by_use[t][FREE] += z.nr_deferred_pages();
        for (uint64_t pfn = z.zone_start_pfn; pfn < z.zone_end_pfn(); ++pfn) {
            if (pfn == z.first_deferred_pfn) pfn = z.deferred_end_pfn;
            if (pfn == z.zone_end_pfn()) break;
            const page& p = mem_map_[pfn];
            const unsigned u = static_cast<unsigned>(p.use);
            ++s.by_use[u];
            ++s.zone_by_use[t][u];
            const bool active = p.flags & PG_active;
            if (p.use == PageUse::Anon) {
                (active ? s.active_anon : s.inactive_anon)++;
                if (active) ++s.zone_active_anon[t];
            } else if (p.use == PageUse::File && (p.flags & PG_swapbacked)) {
                // shmem: page cache (Cached, nr_file_pages) on the anon LRU, never "Dirty"
                // (no writeback accounting).
                ++s.shmem;
                ++s.zone_shmem[t];
                (active ? s.active_anon : s.inactive_anon)++;
                if (active) ++s.zone_active_anon[t];
                if (p._mapcount >= 0) ++s.mapped_file;
            } else if (p.use == PageUse::File) {
                (active ? s.active_file : s.inactive_file)++;
                if (active) ++s.zone_active_file[t];
                if (p._mapcount >= 0) ++s.mapped_file;
                if (p.flags & PG_dirty) ++s.dirty;
            }
            if (p.flags & PG_writeback) ++s.writeback;
            if (p.flags & PG_swapcache) ++s.swapcache;
        }
    }
    return s;
}

void BuddyAllocator::set_page_use(PhysAddr frame, unsigned order, PageUse use) {
    const uint64_t pfn = frame.pfn();
    for (uint64_t i = 0; i < (1ull << order) && pfn + i < max_pfn_; ++i) {
        if (pfn_deferred(pfn + i)) continue;  // free
        page& p = mem_map_[pfn + i];
        if (p.use != PageUse::Free && p.use != PageUse::Reserved) set_page_use(p, use);
    }
}

mmu::ErrorOr<void> BuddyAllocator::check_consistency() const {
    std::vector<uint8_t> seen(max_pfn_, 0);
    uint64_t managed = 0;
    for (zone_type t : zonelist_) {
        TRY(check_zone(node_.node_zones[t], seen));
        managed += node_.node_zones[t].managed_pages;
    }
    if (managed != totalram_pages_) return corrupt("totalram_pages != sum of managed pages");
    uint64_t reserved = 0;
    std::array<uint64_t, NR_PAGE_USES> by_use{};
    by_use[static_cast<unsigned>(PageUse::Free)] = nr_deferred_pages();
    for (const auto& [start, end] : memmap_ranges())
        for (uint64_t pfn = start; pfn < end; ++pfn) {
            const page& p = mem_map_[pfn];
            ++by_use[static_cast<unsigned>(p.use)];
            const std::string at = " at pfn " + std::to_string(pfn);
            if ((p.use == PageUse::Free) != (seen[pfn] != 0))
                return corrupt((p.use == PageUse::Free ? "free page on no list" : "listed page in use") + at);
            if (((p.flags & PG_reserved) != 0) != (p.use == PageUse::Reserved))
                return corrupt("PG_reserved disagrees with use" + at);
            if ((p.flags & PG_buddy) && seen[pfn] != 1) return corrupt("PG_buddy on a non-head page" + at);
            reserved += p.use == PageUse::Reserved;
        }
    if (reserved != reserved_pages_) return corrupt("reserved page count changed");
    for (unsigned u = 0; u < NR_PAGE_USES; ++u)
        if (by_use[u] != page_use_count(static_cast<PageUse>(u)))
            return corrupt("page use counter " + std::to_string(u) + " is " +
                           std::to_string(page_use_count(static_cast<PageUse>(u))) + ", mem_map has " +
                           std::to_string(by_use[u]));
    return {};
}

// Checks z's free lists, counters, full merging and pcp lists; marks listed pages in seen.
mmu::ErrorOr<void> BuddyAllocator::check_zone(const zone& z, std::vector<uint8_t>& seen) const {
    const std::string zn = std::string(" in zone ") + z.name;
    TRY(check_deferred(z));
    int64_t free_pages = static_cast<int64_t>(z.nr_deferred_pages());
    for (unsigned o = 0; o < NR_PAGE_ORDERS; ++o) {
        uint64_t blocks = o == MAX_PAGE_ORDER ? z.nr_deferred_pages() >> MAX_PAGE_ORDER : 0;
        for (unsigned mt = 0; mt < MIGRATE_TYPES; ++mt) {
            uint32_t prev = NO_PFN;
            const page_list& l = z.free_area[o].free_list[mt];
            for (uint32_t pfn = l.first; pfn != NO_PFN; prev = pfn, pfn = mem_map_[pfn].lru_next) {
                if (blocks > z.spanned_pages) return corrupt("free list cycle" + zn);
                if (!z.zone_spans_pfn(pfn)) return corrupt("free list leaves the zone" + zn);
                if (mem_map_[pfn].lru_prev != prev) return corrupt("free list back link broken" + zn);
                TRY(check_free_block(z, pfn, o, static_cast<migratetype>(mt)));
                for (uint64_t i = 0; i < (1ull << o); ++i) {
                    if (seen[pfn + i]) return corrupt("page on two free lists" + zn);
                    seen[pfn + i] = i == 0 ? 1 : 2;
                }
                if (o < MAX_PAGE_ORDER && page_is_buddy(z, pfn ^ (1ull << o), o))
                    return corrupt("unmerged buddies at pfn " + std::to_string(pfn) + zn);
                ++blocks;
            }
            if (l.last != prev) return corrupt("free list tail wrong" + zn);
        }
        if (blocks != z.free_area[o].nr_free) return corrupt("nr_free wrong at order " + std::to_string(o) + zn);
        free_pages += static_cast<int64_t>(blocks << o) - (o == MAX_PAGE_ORDER ? z.nr_deferred_pages() : 0);
    }
    if (free_pages != z.nr_free_pages) return corrupt("NR_FREE_PAGES wrong" + zn);
    int pcp = 0;
    for (const page_list& l : z.pcp.lists) {
        uint32_t prev = NO_PFN;
        for (uint32_t pfn = l.first; pfn != NO_PFN; prev = pfn, pfn = mem_map_[pfn].lru_next) {
            if (pcp > z.pcp.count || !z.zone_spans_pfn(pfn)) return corrupt("pcp list broken" + zn);
            const page& p = mem_map_[pfn];
            if (p.lru_prev != prev || (p.flags & PG_buddy) || p.use != PageUse::Free || seen[pfn])
                return corrupt("bad page on pcp list" + zn);
            seen[pfn] = 3;
            ++pcp;
        }
        if (l.last != prev) return corrupt("pcp list tail wrong" + zn);
    }
    if (pcp != z.pcp.count) return corrupt("pcp count wrong" + zn);
    return {};
}

// The deferred range: whole MAX_ORDER blocks inside the zone, movable, standing for the tail
// of a non-empty movable order-MAX_PAGE_ORDER list.
mmu::ErrorOr<void> BuddyAllocator::check_deferred(const zone& z) const {
    const std::string zn = std::string(" in zone ") + z.name;
    if (!z.nr_deferred_pages()) return {};
    if (z.first_deferred_pfn > z.deferred_end_pfn || z.first_deferred_pfn < z.zone_start_pfn ||
        z.deferred_end_pfn > z.zone_end_pfn() || (z.first_deferred_pfn | z.deferred_end_pfn) % MAX_ORDER_NR_PAGES)
        return corrupt("deferred range misplaced" + zn);
    if (z.free_area[MAX_PAGE_ORDER].free_list[MIGRATE_MOVABLE].empty())
        return corrupt("deferred blocks behind an empty list" + zn);
    for (uint64_t pfn = z.first_deferred_pfn; pfn < z.deferred_end_pfn; pfn += pageblock_nr_pages)
        if (get_pfnblock_migratetype(z, pfn) != MIGRATE_MOVABLE) return corrupt("deferred pageblock not movable" + zn);
    return {};
}

// A listed free block: PG_buddy head of the right order, aligned, inside the zone, on the list
// of its pageblocks' type, with free unflagged tail pages.
mmu::ErrorOr<void> BuddyAllocator::check_free_block(const zone& z, uint32_t pfn, unsigned order, migratetype mt) const {
    const std::string at = " at pfn " + std::to_string(pfn) + " order " + std::to_string(order);
    const page& head = mem_map_[pfn];
    const uint64_t n = 1ull << order;
    if (!(head.flags & PG_buddy) || head.order != order) return corrupt("free block head wrong" + at);
    if ((pfn & (n - 1)) || !z.zone_spans_pfn(pfn + n - 1)) return corrupt("free block misplaced" + at);
    for (uint64_t p = pfn; p < pfn + n; p += pageblock_nr_pages)
        if (get_pfnblock_migratetype(z, p) != mt) return corrupt("free block on wrong migrate list" + at);
    for (uint64_t i = 0; i < n; ++i) {
        const page& p = mem_map_[pfn + i];
        if (p.use != PageUse::Free || (i && (p.flags & PG_buddy))) return corrupt("free block page in use" + at);
    }
    return {};
}

}  // namespace guestos
