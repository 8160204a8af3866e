// The swap cache (Linux mm/swap_state.c): pages on their way to or from a swap slot, found
// by their swp_entry_t, so every PTE holding that entry maps the same page. A cached page
// holds one reference of its own, has PG_swapcache set and its entry in page->private.
#pragma once
#include <cstdint>
#include <optional>

#include "guestos/include/swapops.h"
#include "guestos/include/page.h"
#include "guestos/mm/page_io.h"
#include "guestos/mm/workingset.h"

namespace guestos {

// vm.page-cluster: swapin_readahead reads 2^page_cluster slots around a fault (default 3).
extern int page_cluster;

// Inserts page at entry (add_to_swap_cache): the cache takes a reference; the caller has
// already set SWAP_HAS_CACHE on the slot. *shadowp (if given) gets the shadow entry the
// page's last eviction left there, 0 if none.
void add_to_swap_cache(page& p, uint32_t pfn, swp_entry_t entry, shadow_t* shadowp = nullptr);
// Removes a page from the cache and drops the cache's reference and the slot's
// SWAP_HAS_CACHE (delete_from_swap_cache); the page is freed if that was the last reference.
void delete_from_swap_cache(PageAllocator& pa, page& p);
// Removes a page from the cache without touching references or the slot, leaving shadow (if
// any) in its place (__delete_from_swap_cache).
void __delete_from_swap_cache(page& p, shadow_t shadow = 0);
// Gives an anonymous page a swap slot and puts it in the swap cache, dirty so pageout
// writes it (add_to_swap); false when swap is full.
bool add_to_swap(PageAllocator& pa, page& p);
// The cached page of an entry (lookup_swap_cache / swap_cache_get_folio), if any.
std::optional<uint32_t> lookup_swap_cache(swp_entry_t entry);
// A fault found a page in the swap cache: if read-ahead brought it, that read-ahead was
// a hit (swap_cache_get_folio's SWAP_RA_HIT).
void swap_cache_hit(PageAllocator& pa, page& p);
// The page for entry: the cached one, or a new page put in the cache and read from the
// swap area (__read_swap_cache_async + swap_readpage). The caller gets a reference.
// nullopt when the entry is free or no page could be allocated.
// With a plug the read joins it: the page is uptodate once swap_read_unplug ran.
std::optional<uint32_t> read_swap_cache_async(PageAllocator& pa, swp_entry_t entry, gfp_t gfp, bool& read,
                                              swap_iocb* plug = nullptr);
// The page for a fault on entry, reading the aligned window of 2^page_cluster slots
// around it into the cache too, the window's reads plugged into one bio per run of slots
// (swapin_readahead -> swap_cluster_readahead). The caller gets a reference. *readahead
// counts the extra pages read.
std::optional<uint32_t> swap_cluster_readahead(PageAllocator& pa, swp_entry_t entry, gfp_t gfp, bool& major,
                                               unsigned* readahead = nullptr);
// An anonymous fault's swap-in (swapin_readahead): emu has no per-VMA read-ahead, so
// swap_cluster_readahead, as Linux with vm.page-cluster reading by slots.
std::optional<uint32_t> swapin_readahead(PageAllocator& pa, swp_entry_t entry, gfp_t gfp, bool& major,
                                         unsigned* readahead = nullptr);
// Pages in the swap cache (total_swapcache_pages).
uint64_t total_swapcache_pages();

}  // namespace guestos
