// The dirty-page limits of writeback (mm/page-writeback.c): the vm.dirty_* sysctls the
// flusher and balance_dirty_pages read (guestos/include/writeback.h).
#pragma once

namespace guestos {

class ctl_table_root;

// Percent of dirtyable memory at which the flusher starts writing back (default 10), or
// the same as bytes when dirty_background_bytes is set (each write zeroes the other).
extern int dirty_background_ratio;
extern unsigned long dirty_background_bytes;
// Percent of dirtyable memory at which a writer is made to write back itself (default
// 20), or vm_dirty_bytes.
extern int vm_dirty_ratio;
extern unsigned long vm_dirty_bytes;
// Centiseconds between the flusher's periodic runs (0: none; default 500), and the age at
// which dirty data is old enough for it to write (default 3000).
extern unsigned int dirty_writeback_interval;
extern unsigned int dirty_expire_interval;

// Registers vm.dirty_background_ratio, dirty_background_bytes, dirty_ratio, dirty_bytes,
// dirty_writeback_centisecs and dirty_expire_centisecs (page-writeback.c's vm_page_writeback_sysctls).
void page_writeback_sysctl_init(ctl_table_root& root);

}  // namespace guestos
