// Workingset detection (Linux mm/workingset.c). A page reclaim evicts leaves a shadow entry in
// its page-cache or swap-cache slot: a snapshot of the node's nonresident_age, the clock of
// evictions and activations. When the page is read back in, the clock's advance since then
// (the refault distance) is how much larger the inactive list would have had to be to keep
// it; if the working set (the active pages competing with it) is at least that large, the
// page is activated at once instead of starting over on the inactive list.
#pragma once
#include <cstdint>
#include <list>

#include "guestos/include/mmzone.h"

namespace guestos {

struct address_space;
class PageAllocator;

// A shadow entry: the eviction clock and the page's PG_workingset packed as an xarray value
// entry (bit 0 set, so never 0; 0 means no shadow).
using shadow_t = uint64_t;

// A page-cache tree node (XA_CHUNK_SIZE slots) that holds shadow entries and no page: Linux
// keeps these on the shadow_nodes list_lru, oldest first, for their shrinker.
inline constexpr unsigned XA_CHUNK_SHIFT = 6;
inline constexpr uint64_t XA_CHUNK_SIZE = 1ull << XA_CHUNK_SHIFT;
struct xa_shadow_node {
    address_space* mapping;
    uint64_t node;  // index >> XA_CHUNK_SHIFT
};
using shadow_node_list = std::list<xa_shadow_node>;

// Ages the nonresident clock by nr_pages evicted or activated (workingset_age_nonresident).
inline void workingset_age_nonresident(lruvec& lv, uint64_t nr_pages) { lv.nonresident_age += nr_pages; }
// The shadow entry for a page reclaim evicts (isolated, held by reclaim alone): the clock
// now and the page's PG_workingset; the clock ages by the page (workingset_eviction).
shadow_t workingset_eviction(lruvec& lv, const page& p);
// Whether a page evicted at shadow would have stayed resident had the working set had the
// inactive list's room: refault distance <= the working set's size (workingset_test_recent).
// *workingset: the page was active before its eviction.
bool workingset_test_recent(const lruvec& lv, shadow_t shadow, bool file, bool* workingset);
// A page read back in after its eviction at shadow, before it goes on the LRU: counted as a
// refault, made active if the distance says so (and PG_workingset, a restore, if it was
// active before) (workingset_refault).
void workingset_refault(lruvec& lv, page& p, shadow_t shadow);
// An access activated an inactive page: the clock ages by it (workingset_activation).
inline void workingset_activation(lruvec& lv, const page&) { workingset_age_nonresident(lv, 1); }

// Keeps a page-cache node on the shadow-node list (and WORKINGSET_NODES) exactly while it
// holds shadow entries and no page (workingset_update_node); pa counts it.
void workingset_update_node(PageAllocator& pa, address_space& m, uint64_t node);
// Takes every node of m off the shadow-node list, without counting (the mapping goes with
// its allocator).
void workingset_forget_nodes(address_space& m);
// The shadow-only nodes, oldest first (the shadow_nodes list_lru).
const shadow_node_list& workingset_shadow_nodes();
// Registers the "mm-shadow" shrinker, which frees the oldest shadow-only nodes beyond one
// per 8 pages of RAM (count_shadow_nodes, scan_shadow_nodes); once (workingset_init).
void workingset_init();

}  // namespace guestos
