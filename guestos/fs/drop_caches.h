// vm.drop_caches (fs/drop_caches.c).
#pragma once

namespace guestos {

class ctl_table_root;
class SlabAllocator;

// Registers vm.drop_caches (mode 0200: root writes it, nobody reads it) over slab's caches
// and the page caches of RAM.
void drop_caches_sysctl_init(ctl_table_root& root, SlabAllocator& slab);

}  // namespace guestos
