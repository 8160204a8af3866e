// The page cache (mm/filemap.c, mm/truncate.c, mm/readahead.c).
#include "guestos/mm/filemap.h"
#include "guestos/include/task_io_accounting_ops.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "guestos/include/blkdev.h"
#include "guestos/include/fs.h"
#include "guestos/include/uio.h"
#include "guestos/include/writeback.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/readahead.h"
#include "guestos/mm/rmap.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

namespace {

// The mappings that hold pages, so the kernel can drop them all before its allocator goes.
std::set<address_space*>& live_mappings() {
    static std::set<address_space*> s;
    return s;
}

bool is_shmem(const address_space& m) { return m.a_ops && m.a_ops->swap_backed; }

// Whether the mapping's dirty pages are accounted and written back (mapping_can_writeback):
// not shmem (its pages are always dirty, never written back but by swap).
bool mapping_can_writeback(const address_space& m) {
    return !is_shmem(m) && m.a_ops && m.a_ops->writepage && m.km.page_alloc;
}

// The file mapping a page is in, when its dirtiness is accounted (null for anon pages).
address_space* accounted_mapping(const page& p) {
    if ((p.flags & PG_anon) || !p.mapping) return nullptr;
    auto* m = static_cast<address_space*>(p.mapping);
    return mapping_can_writeback(*m) ? m : nullptr;
}

// folio_cancel_dirty / folio_clear_dirty_for_io: the page is clean, and no longer counted
// as Dirty. Returns whether it was dirty.
bool clear_page_dirty(page& p) {
    if (!(p.flags & PG_dirty)) return false;
    p.flags &= ~PG_dirty;
    if (address_space* m = accounted_mapping(p)) m->km.page_alloc->mod_node_page_state(NR_FILE_DIRTY, -1);
    return true;
}

// folio_end_writeback, once the page's last bio completed: PG_writeback clear, counted in
// nr_written, the writeback's reference dropped; a failed write leaves the page dirty again
// (its data is still only in the cache).
void end_page_writeback(page& p, long err) {
    auto* m = static_cast<address_space*>(p.mapping);  // (truncation waits for the writeback)
    PageAllocator& b = *m->km.page_alloc;
    p.flags &= ~PG_writeback;
    b.mod_node_page_state(NR_WRITEBACK, -1);
    if (err) set_page_dirty(p);
    else b.mod_node_page_state(NR_WRITTEN, 1);
    --p._refcount;  // the cache's own reference outlives it: removal waits (folio_wait_writeback)
}

// A bio of the page completed (end_buffer_async_write): the last one ends its writeback.
void end_buffer_async_write(void* priv, long err) {
    page& p = *static_cast<page*>(priv);
    if (err) p.flags |= PG_error;
    if (--p.wb_bios) return;
    const bool failed = p.flags & PG_error;
    p.flags &= ~PG_error;
    end_page_writeback(p, failed ? -EIO : 0);
}

// Writes one page (folio_start_writeback, then writepage, whose bios point at the page and
// hold PG_writeback and a reference until the last completes); the page was cleaned before.
// The submission's own count on wb_bios keeps the writeback from ending before writepage
// returned; a writepage that fails ends it with the error.
long write_one_page(address_space& m, page& p, PhysAddr frame, bool dirty) {
    PageAllocator& b = *m.km.page_alloc;
    p.flags |= PG_writeback;
    b.mod_node_page_state(NR_WRITEBACK, 1);
    ++p._refcount;
    p.wb_bios = 1;
    long e = -ENOMEM;
    (void)with_kernel_mapping(m.km, frame, PAGE_SIZE, [&](uint8_t* src) { e = m.a_ops->writepage(m, p, src, dirty); });
    end_buffer_async_write(&p, e);  // the submission's count
    return e;
}

}  // namespace

bio_end_io_t mark_page_async_write(page& p) {
    ++p.wb_bios;
    return {&end_buffer_async_write, &p};
}

void folio_wait_writeback(page& p) {
    if (!(p.flags & PG_writeback)) return;
    (void)blk_flush_plug();  // its bios may wait in the task's plug
    blk_mq_wait_until([&p] { return !(p.flags & PG_writeback); });
}

namespace {

// The page-cache node of index changed: keeps the shadow-node list true (mapping_set_update:
// not for shmem, whose value entries are swap entries).
void update_node(address_space& m, uint64_t index) {
    if (!is_shmem(m) && m.km.page_alloc) workingset_update_node(*m.km.page_alloc, m, index >> XA_CHUNK_SHIFT);
}

// Drops the shadow entries of indexes [first, last] (clear_shadow_entry, as truncation and
// invalidation do).
void clear_shadow_entries(address_space& m, uint64_t first, uint64_t last) {
    for (auto it = m.i_shadow.lower_bound(first); it != m.i_shadow.end() && it->first <= last;) {
        const uint64_t index = it->first;
        it = m.i_shadow.erase(it);
        update_node(m, index);
    }
}

// Whether the mapping holds nothing any more, not even shadow entries (mapping_empty).
bool mapping_empty(const address_space& m) { return m.i_pages.empty() && m.i_swap.empty() && m.i_shadow.empty(); }

// Puts a new page into the cache at index (add_to_page_cache_lru); the cache holds one
// reference until the page is removed. A shadow entry there means the page was evicted
// before: workingset_refault may put it straight on the active list (filemap_add_folio).
void add_to_page_cache(address_space& m, PhysAddr frame, uint64_t index) {
    page& p = m.km.page_alloc->phys_to_page(frame);
    m.km.page_alloc->set_page_use(p, PageUse::File);
    p.mapping = &m;
    p.index = index;
    p._refcount = 1;
    p._mapcount = -1;
    p.flags |= PG_uptodate;
    if (is_shmem(m)) p.flags |= PG_dirty | PG_swapbacked;  // no backing store to be clean against
    m.i_pages[index] = frame;
    shadow_t shadow = 0;
    if (auto it = m.i_shadow.find(index); it != m.i_shadow.end()) {
        shadow = it->second;
        m.i_shadow.erase(it);
    }
    update_node(m, index);
    if (lruvec* lv = m.km.page_alloc->node_lruvec(); lv && shadow) workingset_refault(*lv, p, shadow);
    lru_cache_add(*m.km.page_alloc, p);
    live_mappings().insert(&m);
}

// Takes a page out of the cache, leaving shadow (if any) in its slot, and drops the cache's
// reference (delete_from_page_cache / __filemap_remove_folio); a page still mapped stays
// until its last PTE goes.
void delete_from_page_cache(address_space& m, std::map<uint64_t, PhysAddr>::iterator it, shadow_t shadow = 0) {
    folio_wait_writeback(m.km.page_alloc->phys_to_page(it->second));  // truncate_inode_pages_range
    const PhysAddr frame = it->second;
    const uint64_t index = it->first;
    m.i_pages.erase(it);
    if (shadow) m.i_shadow[index] = shadow;
    update_node(m, index);
    if (is_shmem(m)) shmem_inode_unacct_blocks(m, 1);  // shmem_recalc_inode gives the block back
    page& p = m.km.page_alloc->phys_to_page(frame);
    if ((p.flags & PG_dirty) && !is_shmem(m)) task_io_account_cancelled_write(PAGE_SIZE);  // folio_account_cleaned
    (void)clear_page_dirty(p);  // truncate cancels the dirtiness (folio_cancel_dirty)
    p.mapping = nullptr;
    p.flags &= ~PG_uptodate;  // PG_swapbacked stays: it picks the rss counter
    if (--p._refcount <= 0) m.km.page_alloc->free_page(frame);
}

// Reads one missing page from the backing store into a new page (filemap_read_folio).
mmu::ErrorOr<PhysAddr> read_page(address_space& m, uint64_t index) {
    if (is_shmem(m) && shmem_inode_acct_blocks(m, 1))
        return mmu::Error::from_errno(ENOSPC, "the tmpfs is full or the commit limit reached");
    const gfp_t gfp = GFP_HIGHUSER_MOVABLE | (is_shmem(m) ? __GFP_ZERO : 0u);
    auto frame = m.km.page_alloc ? m.km.page_alloc->alloc_page(gfp) : std::nullopt;
    if (!frame) {
        if (is_shmem(m)) shmem_inode_unacct_blocks(m, 1);
        return mmu::Error::from_errno(ENOMEM, "no RAM for a page-cache page");
    }
    if (!is_shmem(m)) {
        long err = -EIO;
        const bool mapped = with_kernel_mapping(m.km, *frame, PAGE_SIZE, [&](uint8_t* dst) {
            err = m.a_ops && m.a_ops->read_folio ? m.a_ops->read_folio(m, index, dst) : -EIO;
        });
        if (!mapped || err) {
            m.km.page_alloc->free_page(*frame);
            return mmu::Error::from_errno(mapped ? static_cast<int>(-err) : ENOMEM, "page-cache read failed");
        }
        ++page_cache_stats().pgpgin_pages;
        task_io_account_read(PAGE_SIZE);
    }
    add_to_page_cache(m, *frame, index);
    return *frame;
}

}  // namespace

PageCacheStats& page_cache_stats() {
    static PageCacheStats s;
    return s;
}

address_space::~address_space() {
    inode_io_list_del(*this);
    truncate_inode_pages(*this, 0);
    if (is_shmem(*this)) shmem_unacct_size(*this);  // shmem_evict_inode
    live_mappings().erase(this);
}

std::optional<PhysAddr> find_get_page(address_space& m, uint64_t index) {
    auto it = m.i_pages.find(index);
    if (it == m.i_pages.end()) return std::nullopt;
    return it->second;
}

mmu::ErrorOr<PhysAddr> pagecache_get_page(address_space& m, uint64_t index, bool* major) {
    if (auto f = find_get_page(m, index)) return *f;
    if (m.i_swap.count(index)) {  // shmem_get_folio_gfp: a swapped page comes back
        if (major) *major = true;
        return shmem_swapin(m, index);
    }
    if (major && !is_shmem(m)) *major = true;
    return read_page(m, index);
}

mmu::ErrorOr<PhysAddr> grab_cache_page_write_begin(address_space& m, uint64_t index, uint64_t from, uint64_t to) {
    if (auto f = find_get_page(m, index)) return *f;
    const bool whole = from == 0 && to == PAGE_SIZE;
    const bool past_eof = !m.host || index << PAGE_SHIFT >= m.host->i_size;
    if (is_shmem(m) || !m.km.page_alloc || (!whole && !past_eof)) return pagecache_get_page(m, index);
    auto frame = m.km.page_alloc->alloc_page(GFP_HIGHUSER_MOVABLE);
    if (!frame) return mmu::Error::from_errno(ENOMEM, "no RAM for a page-cache page");
    if (!whole && !with_kernel_mapping(m.km, *frame, PAGE_SIZE, [&](uint8_t* p) {
            std::memset(p, 0, from);  // zero_user_segments: what the write leaves of a new page
            std::memset(p + to, 0, PAGE_SIZE - to);
        })) {
        m.km.page_alloc->free_page(*frame);
        return mmu::Error::from_errno(ENOMEM, "no kernel mapping for a page-cache page");
    }
    add_to_page_cache(m, *frame, index);
    return *frame;
}

void filemap_add_folio(address_space& m, PhysAddr frame, uint64_t index) { add_to_page_cache(m, frame, index); }

// folio_mark_dirty: a clean page of a written-back mapping becomes Dirty and counts in
// nr_dirtied (folio_account_dirtied), once per dirtying.
void set_page_dirty(page& p) {
    if (p.flags & PG_dirty) return;
    // A page newly dirtied in a cache that writes back is the task's write (folio_account_dirtied).
    if (!(p.flags & PG_swapbacked)) task_io_account_write(PAGE_SIZE);
    p.flags |= PG_dirty;
    if (address_space* m = accounted_mapping(p)) {
        m->km.page_alloc->mod_node_page_state(NR_FILE_DIRTY, 1);
        m->km.page_alloc->mod_node_page_state(NR_DIRTIED, 1);
        __mark_inode_dirty(*m, ktime_get());  // the flusher writes it once it has aged
    }
}

namespace {

// The most pages one writepages call takes: each is held through its kernel mapping (a
// kmap_atomic slot for a highmem page) until the call returns.
constexpr size_t WRITEPAGES_BATCH = 16;

// Maps pages [i, n) of run through their kernel mappings, one inside the other, then writes
// them in one writepages call; a page that cannot be mapped ends the batch early. Returns
// how many pages were written (all of them counted in *err's result).
size_t writepages_mapped(address_space& m, const std::vector<std::pair<page*, PhysAddr>>& run, size_t i, size_t n,
                         const uint8_t** ptrs, long* err) {
    if (i == n) {
        *err = m.a_ops->writepages(m, run.front().first->index, ptrs, n);
        return n;
    }
    size_t done = 0;
    const bool mapped = with_kernel_mapping(m.km, run[i].second, PAGE_SIZE, [&](uint8_t* src) {
        ptrs[i] = src;
        done = writepages_mapped(m, run, i + 1, n, ptrs, err);
    });
    if (mapped) return done;
    if (i == 0) {
        *err = -ENOMEM;
        return 1;
    }
    *err = m.a_ops->writepages(m, run.front().first->index, ptrs, i);
    return i;
}

// Writes a run of consecutive dirty pages (already cleaned for I/O) in batches: each page
// is under writeback, as write_one_page puts it, until its batch's call returns.
long write_run(address_space& m, const std::vector<std::pair<page*, PhysAddr>>& run) {
    PageAllocator& b = *m.km.page_alloc;
    long first_err = 0;
    for (size_t at = 0; at < run.size();) {
        const size_t n = std::min(WRITEPAGES_BATCH, run.size() - at);
        const std::vector<std::pair<page*, PhysAddr>> batch(run.begin() + static_cast<long>(at),
                                                            run.begin() + static_cast<long>(at + n));
        for (auto [p, frame] : batch) {
            p->flags |= PG_writeback;
            b.mod_node_page_state(NR_WRITEBACK, 1);
            ++p->_refcount;
            p->wb_bios = 1;
        }
        const uint8_t* ptrs[WRITEPAGES_BATCH];
        long e = 0;
        const size_t done = writepages_mapped(m, batch, 0, n, ptrs, &e);
        for (size_t k = 0; k < done; k++) end_buffer_async_write(batch[k].first, e);  // redirties on error
        for (size_t k = done; k < n; k++) {  // not reached (no kmap slot left): the next batch's
            page& p = *batch[k].first;
            p.flags &= ~PG_writeback;
            b.mod_node_page_state(NR_WRITEBACK, -1);
            --p._refcount;
            p.wb_bios = 0;
        }
        if (e && !first_err) first_err = e;
        at += done;
    }
    return first_err;
}

}  // namespace

long filemap_fdatawrite_wbc(address_space& m, writeback_sync_modes sync_mode) {
    if (!m.a_ops || !m.a_ops->writepage || !m.km.page_alloc) return 0;
    long err = 0;
    bool left_dirty = false;
    blk_plug plug;                                // generic_writepages: the pages' blocks merge into large requests
    std::vector<std::pair<page*, PhysAddr>> run;  // consecutive dirty pages, for writepages
    auto flush_run = [&] {
        if (run.empty()) return;
        if (const long e = write_run(m, run); e && !err) err = e;
        run.clear();
    };
    for (auto [index, frame] : m.i_pages) {
        page& p = m.km.page_alloc->phys_to_page(frame);
        // folio_clear_dirty_for_io: stores through shared mappings move from the PTEs to the
        // page, whose PTEs become clean and read-only (page_mkclean) before it is cleaned.
        if (page_mapped(p) && page_mkclean(*m.km.page_alloc, frame)) set_page_dirty(p);
        if (!(p.flags & PG_dirty)) {
            flush_run();
            continue;
        }
        // folio_prepare_writeback: a page still under writeback (dirtied again since) is
        // left dirty for the next pass by background writeback, waited for by a sync.
        if (p.flags & PG_writeback) {
            flush_run();
            if (sync_mode == writeback_sync_modes::WB_SYNC_NONE) {
                left_dirty = true;
                continue;
            }
            folio_wait_writeback(p);
            if (!(p.flags & PG_dirty)) continue;
        }
        (void)clear_page_dirty(p);
        if (m.a_ops->writepages) {
            if (!run.empty() && run.back().first->index + 1 != index) flush_run();
            run.emplace_back(&p, frame);
            continue;
        }
        const long e = write_one_page(m, p, frame, true);
        if (e && !err) err = e;
        if (e) set_page_dirty(p);  // redirtied: the write failed (folio_redirty_for_writepage)
    }
    flush_run();
    if (long e = plug.finish(); e && !err) err = e;
    if (!err && !left_dirty) inode_io_list_del(m);  // clean: off the flusher's list
    return err;
}

long filemap_fdatawait(address_space& m) {
    if (!m.km.page_alloc) return 0;
    (void)blk_flush_plug();
    for (auto [index, frame] : m.i_pages) folio_wait_writeback(m.km.page_alloc->phys_to_page(frame));
    return 0;
}

long filemap_write_and_wait(address_space& m) {
    const long err = filemap_fdatawrite_wbc(m, writeback_sync_modes::WB_SYNC_ALL);
    (void)filemap_fdatawait(m);
    return err;
}

bool mapping_tagged_dirty(const address_space& m) {
    if (!m.km.page_alloc) return false;
    for (auto [index, frame] : m.i_pages)
        if (m.km.page_alloc->phys_to_page(frame).flags & PG_dirty) return true;
    return false;
}

bool pageout(address_space& m, page& p, PhysAddr frame) {
    if (!m.a_ops || !m.a_ops->writepage) return false;
    folio_wait_writeback(p);  // (shrink_folio_list keeps a page under writeback; not reached)
    const bool dirty = clear_page_dirty(p);
    const long e = write_one_page(m, p, frame, true);
    folio_wait_writeback(p);  // reclaim frees the page once clean: its bios complete first
    if (!e && !(p.flags & PG_dirty)) return true;
    if (dirty) set_page_dirty(p);
    return false;
}

void invalidate_mapping_pages(address_space& m) { invalidate_mapping_pages(m, 0, UINT64_MAX); }

void invalidate_mapping_pages(address_space& m, uint64_t start, uint64_t end) {
    if (!m.km.page_alloc) return;
    if (!is_shmem(m)) clear_shadow_entries(m, start, end);  // invalidate_exceptional_entry
    for (auto it = m.i_pages.lower_bound(start); it != m.i_pages.end() && it->first <= end;) {
        page& p = m.km.page_alloc->phys_to_page(it->second);
        auto next = std::next(it);
        // mapping_evict_folio: a dirty page, one under writeback or a mapped one stays.
        if (!(p.flags & (PG_dirty | PG_writeback)) && p._mapcount < 0) delete_from_page_cache(m, it);
        it = next;
    }
}

namespace {

// The page at index for a read wanting pages up to last_index (filemap_get_pages, one page
// at a time): a miss reads the window page_cache_sync_ra chooses, then the page itself if
// the window did not bring it (filemap_create_folio); a PG_readahead page reads the next
// window (filemap_readahead). Nullopt for a shmem hole.
mmu::ErrorOr<std::optional<PhysAddr>> filemap_get_pages(address_space& m, uint64_t index, uint64_t last_index,
                                                        file* filp) {
    std::optional<PhysAddr> frame = find_get_page(m, index);
    if (!frame && is_shmem(m) && !m.i_swap.count(index)) return std::optional<PhysAddr>{};
    if (!frame && filp && !is_shmem(m)) {
        readahead_control ractl{filp, m, filp->f_ra, index};
        page_cache_sync_ra(ractl, last_index - index);
        frame = find_get_page(m, index);
    }
    if (!frame) frame = TRY(pagecache_get_page(m, index));
    page& p = m.km.page_alloc->phys_to_page(*frame);
    if (filp && (p.flags & PG_readahead)) {
        ++p._refcount;  // folio_get: the read-ahead's allocations must not reclaim this page
        readahead_control ractl{filp, m, filp->f_ra, index};
        page_cache_async_ra(ractl, p, last_index - index);
        if (--p._refcount <= 0) m.km.page_alloc->free_page(*frame);
    }
    return frame;
}

}  // namespace

long filemap_read(inode& ino, iov_iter& to, uint64_t n, int64_t pos, file* filp) {
    address_space& m = ino.i_data;
    const uint64_t size = ino.i_size;
    if (pos < 0) return -EINVAL;
    if (static_cast<uint64_t>(pos) >= size || !n) return 0;
    n = std::min<uint64_t>(n, size - static_cast<uint64_t>(pos));
    const uint64_t last_index = (static_cast<uint64_t>(pos) + n + PAGE_SIZE - 1) >> PAGE_SHIFT;
    uint64_t done = 0;
    while (done < n) {
        const uint64_t at = static_cast<uint64_t>(pos) + done;
        const uint64_t index = at >> PAGE_SHIFT, off = at & (PAGE_SIZE - 1);
        const uint64_t chunk = std::min(n - done, PAGE_SIZE - off);
        auto r = filemap_get_pages(m, index, last_index, filp);
        if (r.is_error()) return done ? static_cast<long>(done) : -r.error().errno_value;
        const std::optional<PhysAddr> frame = r.value();
        uint64_t copied;
        if (!frame) {
            copied = to.zero(chunk);  // a shmem hole reads as zeros (ZERO_PAGE)
        } else {
            page& p = m.km.page_alloc->phys_to_page(*frame);
            mark_page_accessed(*m.km.page_alloc, p);
            // folio_get: faulting the user's page in may reclaim, but not this page.
            ++p._refcount;
            copied = to.copy_page_to_iter(m.km, *frame + off, chunk);
            if (--p._refcount <= 0) m.km.page_alloc->free_page(*frame);
        }
        done += copied;
        if (filp) filp->f_ra.prev_pos = static_cast<int64_t>(pos + done);
        if (copied < chunk) return done ? static_cast<long>(done) : -to.short_errno();
    }
    return static_cast<long>(done);
}

long filemap_read(inode& ino, uint8_t* buf, uint64_t n, int64_t pos, file* filp) {
    kvec_iter to(buf);
    return filemap_read(ino, to, n, pos, filp);
}

long generic_perform_write(inode& ino, const uint8_t* buf, uint64_t n, int64_t pos, uint64_t max_bytes) {
    address_space& m = ino.i_data;
    if (!is_shmem(m) && !(m.a_ops && m.a_ops->writepage)) return -EBADF;  // nothing to write back to
    if (static_cast<uint64_t>(pos) >= max_bytes) return -EFBIG;
    n = std::min<uint64_t>(n, max_bytes - static_cast<uint64_t>(pos));
    uint64_t done = 0;
    long err = 0;
    while (done < n) {
        const uint64_t at = static_cast<uint64_t>(pos) + done;
        const uint64_t index = at >> PAGE_SHIFT, off = at & (PAGE_SIZE - 1);
        const uint64_t chunk = std::min(n - done, PAGE_SIZE - off);
        // write_begin: a page the write covers whole, or one past the end of the file, is not
        // read first (shmem_write_begin for tmpfs, which finds or zero-fills its page).
        auto frame = grab_cache_page_write_begin(m, index, off, off + chunk);
        if (frame.is_error()) {
            err = -frame.error().errno_value;
            break;
        }
        if (!with_kernel_mapping(m.km, frame.value() + off, chunk,
                                 [&](uint8_t* dst) { std::memcpy(dst, buf + done, chunk); })) {
            err = -ENOMEM;
            break;
        }
        page& p = m.km.page_alloc->phys_to_page(frame.value());
        mark_page_accessed(*m.km.page_alloc, p);  // FGP_ACCESSED
        set_page_dirty(p);                        // shmem_write_end
        done += chunk;
        ino.i_size = std::max(ino.i_size, at + chunk);
        if (mapping_can_writeback(m)) balance_dirty_pages_ratelimited(*m.km.page_alloc);
    }
    return done ? static_cast<long>(done) : err;
}

void unmap_mapping_pages(address_space& m, uint64_t first, uint64_t nr, bool even_cows) {
    const uint64_t last = nr ? first + nr - 1 : ~0ull;
    for (vm_area_struct* v : m.i_mmap.overlapping(first, last)) {
        const uint64_t vfirst = v->vm_pgoff, vlast = v->vm_pgoff + v->pages() - 1;
        if (vlast < first || vfirst > last) continue;
        const uint64_t zf = std::max(first, vfirst), zl = std::min(last, vlast);
        const VirtAddr s = v->vm_start + ((zf - vfirst) << PAGE_SHIFT);
        const VirtAddr e = s + ((zl - zf + 1) << PAGE_SHIFT);
        // A private mapping's anonymous COW copies go too only when even_cows (truncate).
        zap_page_range(*v->vm_mm, s, e, !even_cows && !(v->vm_flags & VM_SHARED));
    }
}

void truncate_inode_pages(address_space& m, uint64_t lstart) { truncate_inode_pages_range(m, lstart, ~0ull); }

void truncate_inode_pages_range(address_space& m, uint64_t lstart, uint64_t lend) {
    if (lend < lstart) return;
    if (!m.km.page_alloc) {
        m.i_pages.clear();
        m.i_swap.clear();
        m.i_shadow.clear();
        workingset_forget_nodes(m);
        return;
    }
    // Zeroes bytes [from, to] of the cached page holding them (truncate_inode_partial_folio).
    auto zero_part = [&](uint64_t from, uint64_t to) {
        if (m.i_swap.count(from >> PAGE_SHIFT)) (void)shmem_swapin(m, from >> PAGE_SHIFT);
        if (auto f = find_get_page(m, from >> PAGE_SHIFT)) {
            folio_wait_writeback(m.km.page_alloc->phys_to_page(*f));
            const uint64_t off = from & (PAGE_SIZE - 1), n = to - from + 1;
            (void)with_kernel_mapping(m.km, *f + off, n, [&](uint8_t* p) { std::memset(p, 0, n); });
        }
    };
    // Pages [first_full, end_full) lie wholly inside and go; the partial ones at either end
    // (one page when the range is inside a page) are zeroed.
    const uint64_t first_full = mmu::page_align_up(lstart) >> PAGE_SHIFT;
    const uint64_t end_full = lend == ~0ull ? ~0ull : (lend + 1) >> PAGE_SHIFT;
    const bool head_partial = lstart & (PAGE_SIZE - 1);
    const bool tail_partial = lend != ~0ull && ((lend + 1) & (PAGE_SIZE - 1));
    if (head_partial) zero_part(lstart, std::min(lend, lstart | (PAGE_SIZE - 1)));
    if (tail_partial && (!head_partial || (lend >> PAGE_SHIFT) != (lstart >> PAGE_SHIFT)))
        zero_part(std::max(lstart, lend & mmu::PAGE_MASK), lend);
    for (auto it = m.i_pages.lower_bound(first_full); it != m.i_pages.end() && it->first < end_full;)
        delete_from_page_cache(m, it++);
    if (end_full > first_full) clear_shadow_entries(m, first_full, end_full - 1);
    // shmem_undo_range: swapped pages give their slots and blocks back (shmem_free_swap).
    for (auto it = m.i_swap.lower_bound(first_full); it != m.i_swap.end() && it->first < end_full;) {
        free_swap_and_cache(*m.km.page_alloc, it->second);
        shmem_inode_unacct_blocks(m, 1);
        it = m.i_swap.erase(it);
    }
    if (mapping_empty(m)) live_mappings().erase(&m);
}

void truncate_setsize(inode& ino, uint64_t newsize) {
    const uint64_t old = ino.i_size;
    ino.i_size = newsize;
    if (newsize >= old) return;
    // truncate_pagecache: unmap (private COW copies too), drop the pages, unmap again.
    address_space& m = ino.i_data;
    const uint64_t holebegin = mmu::page_align_up(newsize) >> PAGE_SHIFT;
    unmap_mapping_pages(m, holebegin, 0, true);
    truncate_inode_pages(m, newsize);
    unmap_mapping_pages(m, holebegin, 0, true);
}

bool __remove_mapping(address_space& m, page& p, Eviction why) {
    if (p._refcount != 1 || p._mapcount >= 0 || (p.flags & (PG_dirty | PG_writeback))) return false;
    auto it = m.i_pages.find(p.index);
    if (it == m.i_pages.end() || &m.km.page_alloc->phys_to_page(it->second) != &p) return false;
    shadow_t shadow = 0;
    lruvec* lv = m.km.page_alloc->node_lruvec();
    if (why == Eviction::Reclaim && lv && page_is_file_lru(p)) shadow = workingset_eviction(*lv, p);
    delete_from_page_cache(m, it, shadow);
    if (mapping_empty(m)) live_mappings().erase(&m);
    return true;
}

std::vector<const address_space*> cached_mappings(const PageAllocator& pa) {
    std::vector<const address_space*> out;
    for (const address_space* m : live_mappings())
        if (m->km.page_alloc == &pa && !m->i_pages.empty()) out.push_back(m);
    return out;
}

uint64_t drop_pagecache() {
    uint64_t dropped = 0;
    const std::vector<address_space*> mappings(live_mappings().begin(), live_mappings().end());
    for (address_space* m : mappings) {
        if (is_shmem(*m) || !m->km.page_alloc) continue;  // shmem pages are their only copy
        clear_shadow_entries(*m, 0, ~0ull);               // invalidate_exceptional_entry
        std::vector<uint64_t> indices;
        for (const auto& [index, frame] : m->i_pages) indices.push_back(index);
        for (uint64_t index : indices) {
            auto it = m->i_pages.find(index);
            if (it != m->i_pages.end() && remove_mapping(*m, m->km.page_alloc->phys_to_page(it->second))) ++dropped;
        }
        if (mapping_empty(*m)) live_mappings().erase(m);
    }
    return dropped;
}

std::vector<address_space*> shmem_swaplist() {
    std::vector<address_space*> out;
    for (address_space* m : live_mappings())
        if (!m->i_swap.empty()) out.push_back(m);
    return out;
}

void release_all_page_caches() {
    for (address_space* m : live_mappings()) {
        m->i_pages.clear();  // the allocator goes with the kernel: nothing to give back to it
        m->i_swap.clear();
        m->i_shadow.clear();
        workingset_forget_nodes(*m);
        m->km = {};
    }
    live_mappings().clear();
}

}  // namespace guestos
