// The flusher and the dirty limits (include/linux/writeback.h; fs/fs-writeback.c,
// mm/page-writeback.c). One bdi_writeback for every filesystem: the inodes whose pages are
// dirty (b_dirty), each stamped with when it was first dirtied (dirtied_when), and the
// flusher's delayed work (wb->dwork), a time at which wb_workfn is due. The kernel runs it
// when due at its entries and from the timer interrupt, so it also runs while every task
// sleeps. Every time is the guest's CLOCK_MONOTONIC, passed in by the caller.
#pragma once
#include <cstdint>
#include <optional>

#include "guestos/kernel/time/time.h"

namespace guestos {

struct address_space;
class PageAllocator;

// A new bdi_writeback's state (wb_init, when its device is set up): the periodic write last
// ran `now`, nothing queued, the limit not exceeded. The dirty inodes stay listed.
void wb_init(ktime_t now);

// The mapping's inode has dirty pages (__mark_inode_dirty with I_DIRTY_PAGES): onto b_dirty
// stamped `now` unless it is there already; the first dirty inode queues the flusher
// dirty_writeback_centisecs later (wb_wakeup_delayed).
void __mark_inode_dirty(address_space& mapping, ktime_t now);
// The inode itself changed (mark_inode_dirty: I_DIRTY_SYNC, a chmod, a link, new times):
// onto b_dirty as for dirty pages, so the flusher writes it (writeback_single_inode ->
// write_inode) once expired.
void mark_inode_dirty(struct inode& i);
// Off the list: its pages were all written back, or it goes (inode_io_list_del).
void inode_io_list_del(address_space& mapping);
// Whether the mapping is on b_dirty, and since when (inode->dirtied_when).
std::optional<ktime_t> inode_dirtied_when(const address_space& mapping);

// When the flusher's work is due (the pending wb->dwork timer); nullopt when not queued.
std::optional<ktime_t> wb_dwork_expires();
// Queues the flusher to run at once (wb_wakeup), and to write everything dirty
// (wb_start_writeback: WB_start_all), as wakeup_flusher_threads does.
void wakeup_flusher_threads(ktime_t now);

// The flusher's work, when due at `now` (wb_workfn -> wb_do_writeback): a requested write of
// everything (wb_check_start_all), the periodic write of the inodes dirtied more than
// dirty_expire_centisecs ago once dirty_writeback_centisecs have passed since the last
// (wb_check_old_data_flush), and background writeback, oldest inodes first, while the dirty
// pages are over the background threshold (wb_check_background_flush). Then re-queued
// dirty_writeback_centisecs later while dirty inodes remain. Returns the pages written.
long wb_workfn(PageAllocator& pa, ktime_t now);

// The dirty limits in pages (struct dirty_throttle_control of the global domain):
// avail = global_dirtyable_memory (free pages above the reserve plus the file LRU pages),
// thresh from vm.dirty_ratio or dirty_bytes, bg_thresh from dirty_background_ratio or
// dirty_background_bytes, at most half of thresh (domain_dirty_limits).
struct dirty_throttle_control {
    uint64_t avail = 0, dirty = 0, thresh = 0, bg_thresh = 0;
};
uint64_t global_dirtyable_memory(PageAllocator& pa);
void domain_dirty_limits(dirty_throttle_control& dtc);
dirty_throttle_control global_dirty_limits(PageAllocator& pa);
// Whether the dirty pages (NR_FILE_DIRTY) are over the background threshold.
bool wb_over_bg_thresh(PageAllocator& pa);

// After a writer dirtied a page of a mapping that writes back
// (balance_dirty_pages_ratelimited): every 32 pages dirtied (8 while the limit is
// exceeded), balance_dirty_pages. Over the background threshold that queues the flusher at
// once; over the dirty threshold the writer writes back itself, oldest inodes first, until
// the dirty pages are under the background threshold (emu's writer does the flusher's work,
// starting the writeback without waiting for it, instead of sleeping until the flusher did).
void balance_dirty_pages_ratelimited(PageAllocator& pa);

}  // namespace guestos
