// Workingset detection (Linux mm/workingset.c, the classic two-list LRU, no memory cgroups).
#include "guestos/mm/workingset.h"

#include "guestos/include/mm_inline.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/shrinker.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

namespace {

// The shadow entry's layout: the xarray value bit, PG_workingset, the node id (NODES_SHIFT 0:
// one node) and the memcg id (MEM_CGROUP_ID_SHIFT 0: no memory cgroups), the clock above.
constexpr unsigned BITS_PER_XA_VALUE_SHIFT = 1;  // BITS_PER_LONG - BITS_PER_XA_VALUE
constexpr unsigned WORKINGSET_SHIFT = 1, NODES_SHIFT = 0, MEM_CGROUP_ID_SHIFT = 0;
constexpr unsigned EVICTION_SHIFT = BITS_PER_XA_VALUE_SHIFT + WORKINGSET_SHIFT + NODES_SHIFT + MEM_CGROUP_ID_SHIFT;
constexpr uint64_t EVICTION_MASK = ~0ull >> EVICTION_SHIFT;
// Evictions grouped into buckets of 2^bucket_order when the clock has too few bits for every
// page of RAM: with 62 bits, never (workingset_init's max_order <= timestamp_bits).
constexpr unsigned bucket_order = 0;

shadow_t pack_shadow(int node_id, uint64_t eviction, bool workingset) {
    eviction &= EVICTION_MASK;
    eviction = (eviction << NODES_SHIFT) | static_cast<uint64_t>(node_id);
    eviction = (eviction << WORKINGSET_SHIFT) | (workingset ? 1 : 0);
    return (eviction << 1) | 1;  // xa_mk_value
}

void unpack_shadow(shadow_t shadow, uint64_t* evictionp, bool* workingsetp) {
    uint64_t entry = shadow >> 1;  // xa_to_value
    *workingsetp = entry & ((1ull << WORKINGSET_SHIFT) - 1);
    entry >>= WORKINGSET_SHIFT;
    entry >>= NODES_SHIFT;  // the one node
    *evictionp = entry;
}

shadow_node_list& shadow_nodes() {
    static shadow_node_list l;
    return l;
}

}  // namespace

shadow_t workingset_eviction(lruvec& lv, const page& p) {
    const uint64_t eviction = lv.nonresident_age >> bucket_order;
    workingset_age_nonresident(lv, 1);
    return pack_shadow(0, eviction, p.flags & PG_workingset);
}

bool workingset_test_recent(const lruvec& lv, shadow_t shadow, bool file, bool* workingset) {
    uint64_t eviction = 0;
    unpack_shadow(shadow, &eviction, workingset);
    eviction <<= bucket_order;
    // The unsigned difference stays right across the clock's wrap.
    const uint64_t refault_distance = (lv.nonresident_age - eviction) & EVICTION_MASK;
    // The pages the refaulting one competes with: the active file pages, the inactive file
    // pages too for anon, and anon (both lists for file) only while swap has room.
    uint64_t workingset_size = lv.nr_pages[LRU_ACTIVE_FILE];
    if (!file) workingset_size += lv.nr_pages[LRU_INACTIVE_FILE];
    if (get_nr_swap_pages() > 0) {
        workingset_size += lv.nr_pages[LRU_ACTIVE_ANON];
        if (file) workingset_size += lv.nr_pages[LRU_INACTIVE_ANON];
    }
    return refault_distance <= workingset_size;
}

void workingset_refault(lruvec& lv, page& p, shadow_t shadow) {
    const bool file = page_is_file_lru(p);
    lv.mod_lruvec_state(static_cast<node_stat_item>(WORKINGSET_REFAULT_BASE + file), 1);
    bool workingset = false;
    if (!workingset_test_recent(lv, shadow, file, &workingset)) return;
    p.flags |= PG_active;
    workingset_age_nonresident(lv, 1);
    lv.mod_lruvec_state(static_cast<node_stat_item>(WORKINGSET_ACTIVATE_BASE + file), 1);
    if (!workingset) return;
    // It was active before its eviction: the working set is thrashing, not changing.
    p.flags |= PG_workingset;
    lru_note_cost(lv, file, 1, 0);  // lru_note_cost_refault
    lv.mod_lruvec_state(static_cast<node_stat_item>(WORKINGSET_RESTORE_BASE + file), 1);
}

void workingset_update_node(PageAllocator& pa, address_space& m, uint64_t node) {
    const uint64_t first = node << XA_CHUNK_SHIFT, last = first + XA_CHUNK_SIZE - 1;
    auto shadow = m.i_shadow.lower_bound(first);
    auto pg = m.i_pages.lower_bound(first);
    const bool values = shadow != m.i_shadow.end() && shadow->first <= last;
    const bool pages = pg != m.i_pages.end() && pg->first <= last;
    auto it = m.i_shadow_nodes.find(node);
    const bool listed = it != m.i_shadow_nodes.end();
    if (values && !pages && !listed) {  // node->count == node->nr_values: list_lru_add
        shadow_nodes().push_back({&m, node});
        m.i_shadow_nodes.emplace(node, std::prev(shadow_nodes().end()));
        pa.mod_node_page_state(WORKINGSET_NODES, 1);
    } else if ((!values || pages) && listed) {
        shadow_nodes().erase(it->second);
        m.i_shadow_nodes.erase(it);
        pa.mod_node_page_state(WORKINGSET_NODES, -1);
    }
}

void workingset_forget_nodes(address_space& m) {
    for (auto& [node, it] : m.i_shadow_nodes) shadow_nodes().erase(it);
    m.i_shadow_nodes.clear();
}

const shadow_node_list& workingset_shadow_nodes() { return shadow_nodes(); }

namespace {

// The shadow-only nodes past a useful number (count_shadow_nodes): refault distances
// larger than RAM are dismissed anyway, and a node may hold a single shadow, so one node
// per 8 pages of RAM (a worst-case density of 1/8) is kept.
uint64_t count_shadow_nodes(shrinker&, shrink_control& sc) {
    const uint64_t nodes = shadow_nodes().size();
    if (!nodes) return SHRINK_EMPTY;
    const uint64_t pages = sc.node ? sc.node->NODE_DATA().node_present_pages : 0;
    const uint64_t max_nodes = pages >> (XA_CHUNK_SHIFT - 3);
    return nodes <= max_nodes ? 0 : nodes - max_nodes;
}

// Frees the oldest nr_to_scan shadow-only nodes with their shadow entries
// (scan_shadow_nodes -> shadow_lru_isolate).
uint64_t scan_shadow_nodes(shrinker&, shrink_control& sc) {
    uint64_t freed = 0;
    while (freed < sc.nr_to_scan && !shadow_nodes().empty()) {
        const xa_shadow_node n = shadow_nodes().front();
        address_space& m = *n.mapping;
        const uint64_t first = n.node << XA_CHUNK_SHIFT;
        m.i_shadow.erase(m.i_shadow.lower_bound(first), m.i_shadow.lower_bound(first + XA_CHUNK_SIZE));
        workingset_update_node(*m.km.page_alloc, m, n.node);  // off the list, WORKINGSET_NODES - 1
        m.km.page_alloc->mod_node_page_state(WORKINGSET_NODERECLAIM, 1);
        ++freed;
    }
    return freed;
}

}  // namespace

void workingset_init() {
    static shrinker shadow_shrinker = [] {
        shrinker s;
        s.name = "mm-shadow";
        s.count_objects = count_shadow_nodes;
        s.scan_objects = scan_shadow_nodes;
        s.seeks = 0;  // count_objects reports only fully expendable nodes
        return s;
    }();
    register_shrinker(shadow_shrinker);
}

}  // namespace guestos
