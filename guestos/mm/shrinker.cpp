// Shrinkers (Linux mm/shrinker.c, and drop_slab from mm/vmscan.c).
#include "guestos/mm/shrinker.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "guestos/mm/page_alloc.h"

namespace guestos {

namespace {

// Never destroyed: a filesystem's shrinker may be unregistered after every other static is gone.
std::vector<shrinker*>& shrinker_list() {
    static auto* l = new std::vector<shrinker*>;
    return *l;
}

}  // namespace

void register_shrinker(shrinker& s) {
    if (std::find(shrinker_list().begin(), shrinker_list().end(), &s) == shrinker_list().end())
        shrinker_list().push_back(&s);
}

void unregister_shrinker(shrinker& s) { std::erase(shrinker_list(), &s); }

uint64_t do_shrink_slab(BuddyAllocator* pa, shrink_control& sc, shrinker& s, int priority) {
    const int64_t batch_size = static_cast<int64_t>(s.batch ? s.batch : SHRINK_BATCH);
    const uint64_t counted = s.count_objects(s, sc);
    if (counted == 0 || counted == SHRINK_EMPTY) return counted;
    const int64_t freeable = static_cast<int64_t>(counted);
    // Take the deferred work for this pass (xchg_nr_deferred).
    const int64_t nr = std::exchange(s.nr_deferred, 0);
    // Objects costly to recreate are scanned in proportion to the pressure; free ones, half.
    const int64_t delta = s.seeks ? (freeable >> priority) * 4 / s.seeks : freeable / 2;
    int64_t total_scan = std::min((nr >> priority) + delta, 2 * freeable);
    // Whole batches, or everything when the pass wants more than there is.
    uint64_t freed = 0;
    int64_t scanned = 0;
    while (total_scan >= batch_size || total_scan >= freeable) {
        const int64_t nr_to_scan = std::min(batch_size, total_scan);
        sc.nr_to_scan = sc.nr_scanned = static_cast<uint64_t>(nr_to_scan);
        const uint64_t ret = s.scan_objects(s, sc);
        if (ret == SHRINK_STOP) break;
        freed += ret;
        if (pa) pa->count_vm_events(SLABS_SCANNED, sc.nr_scanned);
        total_scan -= static_cast<int64_t>(sc.nr_scanned);
        scanned += static_cast<int64_t>(sc.nr_scanned);
        if (!sc.nr_scanned) break;  // a shrinker that scans nothing would loop forever
    }
    // New work not done is deferred, old work done is not; at most twice the freeable objects.
    s.nr_deferred += std::min(std::max<int64_t>(nr + delta - scanned, 0), 2 * freeable);
    return freed;
}

uint64_t shrink_slab(BuddyAllocator* pa, gfp_t gfp_mask, int nid, int priority) {
    uint64_t freed = 0;
    const std::vector<shrinker*> list = shrinker_list();  // a shrinker may unregister another
    for (shrinker* s : list) {
        shrink_control sc;
        sc.gfp_mask = gfp_mask;
        sc.nid = nid;
        sc.node = pa;
        const uint64_t ret = do_shrink_slab(pa, sc, *s, priority);
        if (ret != SHRINK_EMPTY) freed += ret;
    }
    return freed;
}

void drop_slab(BuddyAllocator* pa) {
    uint64_t freed = 0;
    int shift = 0;
    do {
        freed = shrink_slab(pa, GFP_KERNEL, 0, 0);  // drop_slab_node
    } while ((freed >> shift++) > 1);
}

}  // namespace guestos
