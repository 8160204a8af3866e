// The LRU lists' entry points (Linux mm/swap.c).
#include "guestos/mm/swap.h"

#include <algorithm>

#include "guestos/include/mm_types.h"
#include "guestos/mm/workingset.h"

namespace guestos {

namespace {

// Removes pfn from a batch; true if it was there.
bool pagevec_remove(pagevec& pvec, uint32_t pfn) {
    auto end = pvec.pfns.begin() + pvec.nr;
    auto it = std::find(pvec.pfns.begin(), end, pfn);
    if (it == end) return false;
    std::copy(it + 1, end, it);
    --pvec.nr;
    return true;
}

// Moves an inactive LRU page to its active list (folio_activate_fn).
void activate_fn(lruvec& lv, page& p) {
    if (!(p.flags & PG_lru) || (p.flags & (PG_active | PG_unevictable))) return;
    del_page_from_lru_list(lv, p);
    p.flags |= PG_active;
    add_page_to_lru_list(lv, p);
    lv.count_vm_events(PGACTIVATE);
}

// Runs the activate batch (folio_batch_move_lru with folio_activate_fn).
void pagevec_activate(lruvec& lv) {
    pagevec& pvec = lv.fbatches.activate;
    for (unsigned i = 0; i < pvec.nr; ++i) activate_fn(lv, lv.mem_map[pvec.pfns[i]]);
    pvec.nr = 0;
}

// A page still in the lru_add batch is marked active there, so it enters the active list
// (__lru_cache_activate_folio).
void __lru_cache_activate_page(lruvec& lv, page& p) {
    const pagevec& pvec = lv.fbatches.lru_add;
    const uint32_t pfn = page_pfn(lv, p);
    if (std::find(pvec.pfns.begin(), pvec.pfns.begin() + pvec.nr, pfn) != pvec.pfns.begin() + pvec.nr)
        p.flags |= PG_active;
}

}  // namespace

void __pagevec_lru_add(lruvec& lv, pagevec& pvec) {
    for (unsigned i = 0; i < pvec.nr; ++i) {
        page& p = lv.mem_map[pvec.pfns[i]];
        p.flags |= PG_lru;  // lru_add_fn
        add_page_to_lru_list(lv, p);
    }
    pvec.nr = 0;
}

void lru_cache_add(PageAllocator& pa, page& p) {
    lruvec* lv = pa.node_lruvec();
    if (!lv || (p.flags & PG_lru)) return;
    pagevec& pvec = lv->fbatches.lru_add;
    pvec.pfns[pvec.nr++] = page_pfn(*lv, p);
    if (!pvec.space()) __pagevec_lru_add(*lv, pvec);
}

void lru_cache_add_inactive_or_unevictable(PageAllocator& pa, page& p, const vm_area_struct& vma) {
    if (vma.vm_flags & VM_LOCKED) p.flags |= PG_mlocked | PG_unevictable;  // mlock_new_folio
    lru_cache_add(pa, p);
}

void lru_add_drain(lruvec& lv) {
    __pagevec_lru_add(lv, lv.fbatches.lru_add);
    pagevec_activate(lv);
}

void lru_add_drain(PageAllocator& pa) {
    if (lruvec* lv = pa.node_lruvec()) lru_add_drain(*lv);
}

void activate_page(PageAllocator& pa, page& p) {
    lruvec* lv = pa.node_lruvec();
    if (!lv || !(p.flags & PG_lru) || (p.flags & (PG_active | PG_unevictable))) return;
    pagevec& pvec = lv->fbatches.activate;
    pvec.pfns[pvec.nr++] = page_pfn(*lv, p);
    if (!pvec.space()) pagevec_activate(*lv);
}

void mark_page_accessed(PageAllocator& pa, page& p) {
    lruvec* lv = pa.node_lruvec();
    if (!lv) return;
    if (!(p.flags & PG_referenced)) {
        p.flags |= PG_referenced;
    } else if (!(p.flags & (PG_unevictable | PG_active))) {
        if (p.flags & PG_lru) activate_page(pa, p);
        else __lru_cache_activate_page(*lv, p);
        p.flags &= ~PG_referenced;
        workingset_activation(*lv, p);
    }
}

void deactivate_page(lruvec& lv, page& p) {
    if (!(p.flags & PG_lru) || !(p.flags & PG_active) || (p.flags & PG_unevictable)) return;
    del_page_from_lru_list(lv, p);
    p.flags &= ~(PG_active | PG_referenced);
    add_page_to_lru_list(lv, p);
    lv.count_vm_events(PGDEACTIVATE);
}

void lru_page_release(lruvec& lv, page& p) {
    const uint32_t pfn = page_pfn(lv, p);
    if (p.flags & PG_lru) {
        del_page_from_lru_list(lv, p);
        p.flags &= ~PG_lru;
        pagevec_remove(lv.fbatches.activate, pfn);
    } else if (lv.fbatches.lru_add.nr) {
        pagevec_remove(lv.fbatches.lru_add, pfn);
    }
}

bool isolate_lru_page(lruvec& lv, page& p) {
    if (!(p.flags & PG_lru)) return false;
    del_page_from_lru_list(lv, p);
    p.flags &= ~PG_lru;
    pagevec_remove(lv.fbatches.activate, page_pfn(lv, p));
    return true;
}

void putback_lru_page(lruvec& lv, page& p) {
    p.flags |= PG_lru;
    add_page_to_lru_list(lv, p);
}

void lru_note_cost(lruvec& lv, bool file, uint64_t nr_io, uint64_t nr_rotated) {
    (file ? lv.file_cost : lv.anon_cost) += nr_io * SWAP_CLUSTER_MAX + nr_rotated;
    const uint64_t lrusize = lv.nr_pages[LRU_INACTIVE_ANON] + lv.nr_pages[LRU_ACTIVE_ANON] +
                             lv.nr_pages[LRU_INACTIVE_FILE] + lv.nr_pages[LRU_ACTIVE_FILE];
    if (lv.file_cost + lv.anon_cost > lrusize / 4) {  // decay previous events
        lv.file_cost /= 2;
        lv.anon_cost /= 2;
    }
}

}  // namespace guestos
