// Shrinkers (Linux include/linux/shrinker.h, mm/shrinker.c): caches of kernel objects that
// reclaim asks to give memory back. Each says how many objects it could free
// (count_objects) and frees a batch when asked (scan_objects); shrink_slab asks every
// registered one in proportion to the LRU pressure of the reclaim pass (do_shrink_slab).
#pragma once
#include <cstdint>
#include <functional>

#include "guestos/include/page.h"

namespace guestos {

class BuddyAllocator;

// What one shrinker call is asked for and did (struct shrink_control).
struct shrink_control {
    gfp_t gfp_mask = GFP_KERNEL;
    int nid = 0;
    BuddyAllocator* node = nullptr;  // NODE_DATA(nid): the node being reclaimed, if any
    uint64_t nr_to_scan = 0;         // objects to scan this call
    uint64_t nr_scanned = 0;         // objects the call scanned (it may lower it)
};

// count_objects: nothing to free at all (SHRINK_EMPTY); scan_objects: cannot go on now (SHRINK_STOP).
inline constexpr uint64_t SHRINK_STOP = ~0ull;
inline constexpr uint64_t SHRINK_EMPTY = ~0ull - 1;
// Objects per scan_objects call unless the shrinker says otherwise (SHRINK_BATCH).
inline constexpr uint64_t SHRINK_BATCH = 128;
// The cost of recreating an object, in seeks (DEFAULT_SEEKS); 0: free to recreate.
inline constexpr int DEFAULT_SEEKS = 2;

struct shrinker {
    const char* name = "";
    std::function<uint64_t(shrinker&, shrink_control&)> count_objects;
    std::function<uint64_t(shrinker&, shrink_control&)> scan_objects;
    int seeks = DEFAULT_SEEKS;
    uint64_t batch = 0;       // 0: SHRINK_BATCH
    int64_t nr_deferred = 0;  // scan work left over from earlier passes (nr_deferred[nid])
};

// Adds s to the shrinker list, where shrink_slab finds it (shrinker_register).
void register_shrinker(shrinker& s);
// Takes s off the list (shrinker_free).
void unregister_shrinker(shrinker& s);

// One shrinker's share of a reclaim pass at priority: freeable >> priority, times
// 4 / seeks, plus the deferred work >> priority, scanned in batches; what is not done is
// deferred, at most twice the freeable objects (do_shrink_slab). Counts slabs_scanned in pa.
// Returns the objects freed, or SHRINK_EMPTY.
uint64_t do_shrink_slab(BuddyAllocator* pa, shrink_control& sc, shrinker& s, int priority);
// Asks every registered shrinker (shrink_slab); the objects freed.
uint64_t shrink_slab(BuddyAllocator* pa, gfp_t gfp_mask, int nid, int priority);
// drop_caches 2: shrinks at priority 0 until a round frees almost nothing (drop_slab).
void drop_slab(BuddyAllocator* pa);

}  // namespace guestos
