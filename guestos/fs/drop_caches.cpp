// vm.drop_caches (fs/drop_caches.c): writing 1 drops the clean, unmapped page cache, 2 the
// empty slabs of every cache, 3 both; 4 is a flag Linux uses to quieten its log line (emu
// has no kernel log, so there is nothing to quieten).
#include "guestos/fs/drop_caches.h"

#include "guestos/include/sysctl.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/shrinker.h"
#include "guestos/mm/slub.h"
#include "guestos/mm/swap.h"

namespace guestos {

namespace {

int sysctl_drop_caches;

// drop_slab: the shrinkers free what they can, then every cache gives its empty slabs back
// to the buddy allocator.
void drop_slab_and_caches(SlabAllocator& slab) {
    drop_slab(&slab.buddy());
    for (kmem_cache* s : slab.slab_caches()) slab.kmem_cache_shrink(s);
}

long drop_caches_sysctl_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    if (const long ret = proc_dointvec_minmax(table, write, buffer, lenp, ppos)) return ret;
    if (!write) return 0;
    auto& slab = *static_cast<SlabAllocator*>(table->owner);
    BuddyAllocator& buddy = slab.buddy();
    if (sysctl_drop_caches & 1) {  // pages still on per-cpu pagevecs first (lru_add_drain_all)
        lru_add_drain(buddy);
        drop_pagecache();
        buddy.count_vm_events(DROP_PAGECACHE);
    }
    if (sysctl_drop_caches & 2) {
        drop_slab_and_caches(slab);
        buddy.count_vm_events(DROP_SLAB);
    }
    return 0;
}

}  // namespace

void drop_caches_sysctl_init(ctl_table_root& root, SlabAllocator& slab) {
    root.register_sysctl("vm", {
                                   {"drop_caches", &sysctl_drop_caches, sizeof(int), 0200, drop_caches_sysctl_handler,
                                    SYSCTL_ONE, SYSCTL_FOUR, &slab},
                               });
}

}  // namespace guestos
