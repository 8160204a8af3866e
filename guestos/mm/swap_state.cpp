// The swap cache and swap-in read-ahead (Linux mm/swap_state.c).
#include "guestos/mm/swap_state.h"

#include "guestos/mm/page_io.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

int page_cluster = 3;

namespace {
uint64_t nr_swapcache = 0;

uint32_t page_to_pfn(PageAllocator& pa, const page& p) { return static_cast<uint32_t>(&p - &pa.pfn_to_page(0)); }
}  // namespace

void add_to_swap_cache(page& p, uint32_t pfn, swp_entry_t entry, shadow_t* shadowp) {
    swap_info_struct* si = swp_swap_info(entry);
    si->swap_cache[swp_offset(entry)] = pfn;
    if (auto it = si->swap_shadow.find(swp_offset(entry)); it != si->swap_shadow.end()) {
        if (shadowp) *shadowp = it->second;
        si->swap_shadow.erase(it);
    }
    ++p._refcount;
    p.flags |= PG_swapcache;
    p.private_ = entry.val;
    ++nr_swapcache;
}

void __delete_from_swap_cache(page& p, shadow_t shadow) {
    const swp_entry_t entry{p.private_};
    if (swap_info_struct* si = swp_swap_info(entry)) {
        si->swap_cache.erase(swp_offset(entry));
        if (shadow) si->swap_shadow[swp_offset(entry)] = shadow;
    }
    p.flags &= ~PG_swapcache;
    p.private_ = 0;
    --nr_swapcache;
}

void delete_from_swap_cache(PageAllocator& pa, page& p) {
    const swp_entry_t entry{p.private_};
    const uint32_t pfn = page_to_pfn(pa, p);
    __delete_from_swap_cache(p);
    p.flags |= PG_dirty;  // the swap copy is gone: the page is the only one now
    put_swap_page(entry);
    if (--p._refcount <= 0) pa.free_page(PhysAddr::from_pfn(pfn));  // put_page
}

bool add_to_swap(PageAllocator& pa, page& p) {
    const swp_entry_t entry = get_swap_page();  // folio_alloc_swap: the slot has SWAP_HAS_CACHE
    if (!entry.val) return false;
    add_to_swap_cache(p, page_to_pfn(pa, p), entry);
    p.flags |= PG_dirty;  // folio_mark_dirty: nothing on the slot yet
    return true;
}

std::optional<uint32_t> lookup_swap_cache(swp_entry_t entry) {
    swap_info_struct* si = swp_swap_info(entry);
    if (!si) return std::nullopt;
    auto it = si->swap_cache.find(swp_offset(entry));
    if (it == si->swap_cache.end()) return std::nullopt;
    return it->second;
}

std::optional<uint32_t> read_swap_cache_async(PageAllocator& pa, swp_entry_t entry, gfp_t gfp, bool& read,
                                              swap_iocb* plug) {
    read = false;
    if (auto pfn = lookup_swap_cache(entry)) {
        ++pa.pfn_to_page(*pfn)._refcount;
        return pfn;
    }
    if (!__swap_count(entry)) return std::nullopt;  // freed meanwhile: nothing to read
    // __read_swap_cache_async: a new page, the slot claimed for the cache, then the read.
    auto frame = pa.alloc_page(gfp);
    if (!frame) return std::nullopt;
    if (auto pfn = lookup_swap_cache(entry)) {  // reclaim while allocating may have raced us
        pa.free_page(*frame);
        ++pa.pfn_to_page(*pfn)._refcount;
        return pfn;
    }
    if (swapcache_prepare(entry) < 0) {
        pa.free_page(*frame);
        return std::nullopt;
    }
    const uint32_t pfn = static_cast<uint32_t>(frame->pfn());
    page& p = pa.pfn_to_page(pfn);
    pa.set_page_use(p, PageUse::Anon);
    p.flags |= PG_anon;
    shadow_t shadow = 0;
    add_to_swap_cache(p, pfn, entry, &shadow);  // the cache's reference; the allocation's is the caller's
    if (swap_readpage(pa, p, plug) < 0) {
        delete_from_swap_cache(pa, p);
        p.flags &= ~PG_dirty;
        if (--p._refcount <= 0) pa.free_page(*frame);
        return std::nullopt;
    }
    // Evicted before: workingset_refault may make it active; else an inactive anon page.
    if (lruvec* lv = pa.node_lruvec(); lv && shadow) workingset_refault(*lv, p, shadow);
    lru_cache_add(pa, p);  // folio_add_lru
    read = true;
    return pfn;
}

void swap_cache_hit(PageAllocator& pa, page& p) {
    if (!(p.flags & PG_readahead)) return;
    p.flags &= ~PG_readahead;
    if (lruvec* lv = pa.node_lruvec()) lv->count_vm_events(SWAP_RA_HIT);
}

std::optional<uint32_t> swap_cluster_readahead(PageAllocator& pa, swp_entry_t entry, gfp_t gfp, bool& major,
                                               unsigned* readahead) {
    if (readahead) *readahead = 0;
    swap_iocb splug;
    auto target = read_swap_cache_async(pa, entry, gfp, major, &splug);
    if (!target) return target;
    // swap_cluster_readahead: the aligned window of 2^page_cluster slots, skipping the
    // header, free slots and pages already cached; best effort, no reclaim for these.
    unsigned extra = 0;
    if (major && page_cluster > 0) {
        swap_info_struct* si = swp_swap_info(entry);
        const uint64_t mask = (1ull << page_cluster) - 1, offset = swp_offset(entry);
        const uint64_t start = std::max<uint64_t>(offset & ~mask, 1), end = std::min((offset | mask) + 1, si->max);
        for (uint64_t off = start; off < end; ++off) {
            if (off == offset) continue;
            bool read = false;
            auto pfn = read_swap_cache_async(pa, swp_entry(si->type, off), gfp & ~__GFP_DIRECT_RECLAIM, read, &splug);
            if (!pfn) continue;
            page& p = pa.pfn_to_page(*pfn);
            if (read) p.flags |= PG_readahead;                               // folio_set_readahead
            if (--p._refcount <= 0) pa.free_page(PhysAddr::from_pfn(*pfn));  // put_page: the cache keeps it
            extra += read;
        }
        if (lruvec* lv = pa.node_lruvec()) lv->count_vm_events(SWAP_RA, extra);
    }
    (void)swap_read_unplug(pa, splug);  // a failed read took its page out of the cache
    page& p = pa.pfn_to_page(*target);
    if (!(p.flags & PG_uptodate)) {
        if (--p._refcount <= 0) pa.free_page(PhysAddr::from_pfn(*target));
        return std::nullopt;
    }
    if (readahead) *readahead = extra;
    return target;
}

std::optional<uint32_t> swapin_readahead(PageAllocator& pa, swp_entry_t entry, gfp_t gfp, bool& major,
                                         unsigned* readahead) {
    return swap_cluster_readahead(pa, entry, gfp, major, readahead);
}

uint64_t total_swapcache_pages() { return nr_swapcache; }

}  // namespace guestos
