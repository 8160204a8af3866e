// Putting pages on the LRU lists and moving them there (Linux mm/swap.c): new pages enter
// through the per-cpu lru_add batch, accessed pages climb inactive -> referenced -> active.
// The node's lruvec is reached through PageAllocator::node_lruvec(); an allocator without
// one (allocator-only tests) makes every call here a no-op.
#pragma once
#include <cstdint>

#include "guestos/include/mm_inline.h"

namespace guestos {

struct vm_area_struct;

// Pages reclaim works on per batch (include/linux/swap.h).
inline constexpr uint64_t SWAP_CLUSTER_MAX = 32;

// Queues a new page for the inactive list of its type (folio_add_lru); it is on no list
// until the batch drains, which happens when the batch is full or lru_add_drain runs.
void lru_cache_add(PageAllocator& pa, page& p);
// A new anonymous page of vma: the unevictable list if vma is mlocked, else as
// lru_cache_add (lru_cache_add_inactive_or_unevictable).
void lru_cache_add_inactive_or_unevictable(PageAllocator& pa, page& p, const vm_area_struct& vma);
// Puts every batched page on its list (lru_add_drain).
void lru_add_drain(PageAllocator& pa);
void lru_add_drain(lruvec& lv);
// Moves the pages of a pagevec onto the lists their flags name (__pagevec_lru_add).
void __pagevec_lru_add(lruvec& lv, pagevec& pvec);

// One more access through a syscall (read, write): an inactive unreferenced page becomes
// referenced, a referenced one active (folio_mark_accessed).
void mark_page_accessed(PageAllocator& pa, page& p);
// Moves an inactive LRU page to the head of its active list (folio_activate).
void activate_page(PageAllocator& pa, page& p);
// Moves an active page to its inactive list's head, dropping referenced (deactivate_page).
void deactivate_page(lruvec& lv, page& p);

// The page is being freed: takes it off its LRU list or out of a batch, wherever it is
// (__page_cache_release). The allocator calls it for every page it frees.
void lru_page_release(lruvec& lv, page& p);

// Isolates an LRU page for reclaim or migration: off its list, PG_lru cleared
// (folio_isolate_lru); false if it was not on a list.
bool isolate_lru_page(lruvec& lv, page& p);
// Puts an isolated page back on the list its flags name (folio_putback_lru).
void putback_lru_page(lruvec& lv, page& p);
// Reclaim of one type cost nr_io writes and nr_rotated pages put back: adds
// nr_io * SWAP_CLUSTER_MAX + nr_rotated to that type's cost and halves both costs once
// they pass a quarter of the LRU pages, so recent costs weigh most (lru_note_cost).
void lru_note_cost(lruvec& lv, bool file, uint64_t nr_io, uint64_t nr_rotated);

}  // namespace guestos
