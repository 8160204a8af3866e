// The flusher (fs/fs-writeback.c: __mark_inode_dirty, wb_wakeup_delayed, wb_workfn,
// wb_do_writeback, wb_check_start_all, wb_check_old_data_flush, wb_check_background_flush,
// wb_writeback) and the dirty limits (mm/page-writeback.c: global_dirtyable_memory,
// domain_dirty_limits, wb_over_bg_thresh, balance_dirty_pages).
#include "guestos/include/writeback.h"

#include <algorithm>
#include <map>
#include <vector>

#include "guestos/include/fs.h"
#include "guestos/include/mmzone.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/page-writeback.h"

namespace guestos {

namespace {

constexpr ktime_t NSEC_PER_CENTISEC = 10'000'000;
// current->nr_dirtied_pause at its start (128 KiB), and the ratelimit while the dirty limit
// is exceeded (balance_dirty_pages_ratelimited: 32 >> (PAGE_SHIFT - 10)).
constexpr uint64_t DIRTY_RATELIMIT_PAGES = 32, DIRTY_EXCEEDED_RATELIMIT_PAGES = 8;

ktime_t centisecs(unsigned int cs) { return static_cast<ktime_t>(cs) * NSEC_PER_CENTISEC; }

// struct bdi_writeback: the dirty inodes (b_dirty, by their mapping) with dirtied_when, the
// delayed work's timer, when the periodic write last ran, and balance_dirty_pages' state.
struct bdi_writeback {
    std::map<address_space*, ktime_t> b_dirty;
    std::optional<ktime_t> dwork_expires;  // wb->dwork pending, due then
    bool start_all = false;                // WB_start_all
    ktime_t last_old_flush = 0;
    bool dirty_exceeded = false;
    int64_t ratelimit_stamp = 0;  // NR_DIRTIED at the last balance_dirty_pages
};

bdi_writeback& the_wb() {
    static bdi_writeback w;
    return w;
}

uint64_t nr_dirty_pages(PageAllocator& pa) {
    const int64_t n = pa.node_page_state(NR_FILE_DIRTY);
    return n > 0 ? static_cast<uint64_t>(n) : 0;
}

uint64_t nr_written_pages(PageAllocator& pa) { return static_cast<uint64_t>(pa.node_page_state(NR_WRITTEN)); }

// queue_delayed_work: arms the timer `delay` from now unless it is pending already.
void queue_delayed_work(bdi_writeback& wb, ktime_t now, ktime_t delay) {
    if (!wb.dwork_expires) wb.dwork_expires = ktime_add_safe(now, delay);
}

// wb_wakeup_delayed: the flusher runs dirty_writeback_centisecs from now.
void wb_wakeup_delayed(bdi_writeback& wb, ktime_t now) {
    queue_delayed_work(wb, now, centisecs(dirty_writeback_interval));
}

// wb_wakeup (mod_delayed_work with no delay): the flusher runs at once.
void wb_wakeup(bdi_writeback& wb, ktime_t now) { wb.dwork_expires = now; }

// writeback_single_inode: the inode's pages, then (as its filesystem does it) the inode and
// its metadata, without waiting for the writes (WB_SYNC_NONE: the pages stay under
// writeback until the disk completes them). A clean inode left b_dirty (the write takes it
// off); one a failed write left dirty, or with pages left dirty because they were still
// under writeback, is stamped anew (redirty_tail), so it waits another expiry.
void writeback_single_inode(bdi_writeback& wb, address_space& m, ktime_t now) {
    inode* ino = m.host;
    const long err = ino && ino->i_sb ? ino->i_sb->writeback_inode(*ino)
                                      : filemap_fdatawrite_wbc(m, writeback_sync_modes::WB_SYNC_NONE);
    auto it = wb.b_dirty.find(&m);
    if (it == wb.b_dirty.end()) return;
    if (err || mapping_tagged_dirty(m)) it->second = now;
    else wb.b_dirty.erase(it);
}

// The inodes dirtied at or before dirtied_before, oldest first (queue_io's
// move_expired_inodes: an inode dirtied after it stays).
std::vector<address_space*> move_expired_inodes(const bdi_writeback& wb, ktime_t dirtied_before) {
    std::vector<std::pair<ktime_t, address_space*>> v;
    for (auto [m, when] : wb.b_dirty)
        if (when <= dirtied_before) v.push_back({when, m});
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<address_space*> out;
    out.reserve(v.size());
    for (auto& [when, m] : v) out.push_back(m);
    return out;
}

// struct wb_writeback_work, as far as emu's kinds of work differ.
struct wb_writeback_work {
    bool for_kupdate = false;     // only the inodes older than dirty_expire_centisecs
    bool for_background = false;  // only while over the background threshold
};

// wb_writeback: the work's inodes, oldest first, each written whole; background work stops
// once the dirty pages are under the background threshold. Returns the pages written.
long wb_writeback(bdi_writeback& wb, PageAllocator& pa, const wb_writeback_work& work, ktime_t now) {
    const uint64_t written_before = nr_written_pages(pa);
    const ktime_t dirtied_before = work.for_kupdate ? now - centisecs(dirty_expire_interval) : now;
    for (address_space* m : move_expired_inodes(wb, dirtied_before)) {
        if (work.for_background && !wb_over_bg_thresh(pa)) break;
        if (!wb.b_dirty.count(m)) continue;  // gone meanwhile (written or freed by another's writeback)
        writeback_single_inode(wb, *m, now);
    }
    return static_cast<long>(nr_written_pages(pa) - written_before);
}

// wb_check_start_all: everything dirty, when wakeup_flusher_threads asked for it.
long wb_check_start_all(bdi_writeback& wb, PageAllocator& pa, ktime_t now) {
    if (!wb.start_all) return 0;
    wb.start_all = false;
    return wb_writeback(wb, pa, {}, now);
}

// wb_check_old_data_flush: every dirty_writeback_centisecs (0: never), the inodes dirtied
// more than dirty_expire_centisecs ago (kupdate).
long wb_check_old_data_flush(bdi_writeback& wb, PageAllocator& pa, ktime_t now) {
    if (!dirty_writeback_interval) return 0;
    if (now < ktime_add_safe(wb.last_old_flush, centisecs(dirty_writeback_interval))) return 0;
    wb.last_old_flush = now;
    if (!nr_dirty_pages(pa) && wb.b_dirty.empty()) return 0;  // get_nr_dirty_pages: the dirty inodes count
    return wb_writeback(wb, pa, {.for_kupdate = true}, now);
}

// wb_check_background_flush: over the background threshold, every dirty inode is fair game.
long wb_check_background_flush(bdi_writeback& wb, PageAllocator& pa, ktime_t now) {
    if (!wb_over_bg_thresh(pa)) return 0;
    return wb_writeback(wb, pa, {.for_background = true}, now);
}

// balance_dirty_pages, without the pause: over the background threshold the flusher is
// queued at once (wb_start_background_writeback); past the dirty threshold the writer does
// the background writeback itself (dirty_exceeded until it is back under the threshold).
void balance_dirty_pages(bdi_writeback& wb, PageAllocator& pa, ktime_t now) {
    dirty_throttle_control gdtc = global_dirty_limits(pa);
    const uint64_t nr_reclaimable = nr_dirty_pages(pa);
    gdtc.dirty = nr_reclaimable + static_cast<uint64_t>(std::max<int64_t>(pa.node_page_state(NR_WRITEBACK), 0));
    if (nr_reclaimable > gdtc.bg_thresh) wb_wakeup(wb, now);
    wb.dirty_exceeded = gdtc.dirty > gdtc.thresh;
    if (!wb.dirty_exceeded) return;
    (void)wb_writeback(wb, pa, {.for_background = true}, now);
    wb.dirty_exceeded = nr_dirty_pages(pa) > gdtc.thresh;
}

}  // namespace

void wb_init(ktime_t now) {
    bdi_writeback& wb = the_wb();
    wb.dwork_expires.reset();
    wb.start_all = false;
    wb.last_old_flush = now;
    wb.dirty_exceeded = false;
    wb.ratelimit_stamp = 0;
}

void __mark_inode_dirty(address_space& m, ktime_t now) {
    bdi_writeback& wb = the_wb();
    const bool wakeup_bdi = wb.b_dirty.empty();  // the first dirty inode wakes the flusher
    if (!wb.b_dirty.try_emplace(&m, now).second) return;
    if (wakeup_bdi) wb_wakeup_delayed(wb, now);
}

void mark_inode_dirty(inode& i) { __mark_inode_dirty(i.i_data, ktime_get()); }

void inode_io_list_del(address_space& m) { the_wb().b_dirty.erase(&m); }

std::optional<ktime_t> inode_dirtied_when(const address_space& m) {
    const auto& d = the_wb().b_dirty;
    auto it = d.find(const_cast<address_space*>(&m));
    if (it == d.end()) return std::nullopt;
    return it->second;
}

std::optional<ktime_t> wb_dwork_expires() { return the_wb().dwork_expires; }

void wakeup_flusher_threads(ktime_t now) {
    bdi_writeback& wb = the_wb();
    if (wb.b_dirty.empty()) return;  // wb_start_writeback: nothing without dirty io
    wb.start_all = true;
    wb_wakeup(wb, now);
}

long wb_workfn(PageAllocator& pa, ktime_t now) {
    bdi_writeback& wb = the_wb();
    if (!wb.dwork_expires || now < *wb.dwork_expires) return 0;
    wb.dwork_expires.reset();
    long wrote = wb_check_start_all(wb, pa, now);
    wrote += wb_check_old_data_flush(wb, pa, now);
    wrote += wb_check_background_flush(wb, pa, now);
    if (!wb.b_dirty.empty() && dirty_writeback_interval) wb_wakeup_delayed(wb, now);
    return wrote;
}

uint64_t global_dirtyable_memory(PageAllocator& pa) {
    uint64_t x = pa.nr_free_pages();
    x -= std::min(x, pa.totalreserve_pages());
    if (const lruvec* lv = pa.node_lruvec()) x += lv->nr_pages[LRU_INACTIVE_FILE] + lv->nr_pages[LRU_ACTIVE_FILE];
    return x + 1;  // never 0
}

void domain_dirty_limits(dirty_throttle_control& dtc) {
    // The ratios per PAGE_SIZE, for precision, as Linux converts them.
    const uint64_t ratio = static_cast<uint64_t>(vm_dirty_ratio) * PAGE_SIZE / 100;
    const uint64_t bg_ratio = static_cast<uint64_t>(dirty_background_ratio) * PAGE_SIZE / 100;
    dtc.thresh = vm_dirty_bytes ? (vm_dirty_bytes + PAGE_SIZE - 1) / PAGE_SIZE : ratio * dtc.avail / PAGE_SIZE;
    dtc.bg_thresh = dirty_background_bytes ? (dirty_background_bytes + PAGE_SIZE - 1) / PAGE_SIZE
                                           : bg_ratio * dtc.avail / PAGE_SIZE;
    if (dtc.bg_thresh >= dtc.thresh) dtc.bg_thresh = dtc.thresh / 2;
}

dirty_throttle_control global_dirty_limits(PageAllocator& pa) {
    dirty_throttle_control gdtc;
    gdtc.avail = global_dirtyable_memory(pa);
    domain_dirty_limits(gdtc);
    return gdtc;
}

bool wb_over_bg_thresh(PageAllocator& pa) { return nr_dirty_pages(pa) > global_dirty_limits(pa).bg_thresh; }

void balance_dirty_pages_ratelimited(PageAllocator& pa) {
    bdi_writeback& wb = the_wb();
    const uint64_t ratelimit = wb.dirty_exceeded ? DIRTY_EXCEEDED_RATELIMIT_PAGES : DIRTY_RATELIMIT_PAGES;
    const int64_t dirtied = pa.node_page_state(NR_DIRTIED);
    if (dirtied < wb.ratelimit_stamp) wb.ratelimit_stamp = dirtied;  // another machine's counter
    if (dirtied - wb.ratelimit_stamp < static_cast<int64_t>(ratelimit)) return;
    wb.ratelimit_stamp = dirtied;
    balance_dirty_pages(wb, pa, ktime_get());
}

long super_block::writeback_inode(inode& i) {
    return filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE);
}

}  // namespace guestos
