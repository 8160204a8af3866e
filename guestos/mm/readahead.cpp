// Read-ahead (mm/readahead.c, Linux 6.1's on-demand algorithm, and do_sync_mmap_readahead /
// do_async_mmap_readahead of mm/filemap.c).
#include "guestos/mm/readahead.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "guestos/include/mm_types.h"
#include "guestos/include/task_io_accounting_ops.h"
#include "guestos/mm/filemap.h"
#include "guestos/trace/fault_trace.h"

namespace guestos {

namespace {

constexpr unsigned MMAP_LOTSAMISS = 100;
constexpr uint64_t MAX_SECTORS_BYTES = 1280ull << 10;  // queue/max_sectors_kb's default

const backing_dev_info default_backing_dev_info{VM_READAHEAD_PAGES, MAX_SECTORS_BYTES >> PAGE_SHIFT};
const backing_dev_info noop_backing_dev_info{0, 0};

// The open regular files, in opening order (what walking every task's files reaches).
std::map<const file*, uint64_t>& ra_files() {
    static std::map<const file*, uint64_t> files;
    return files;
}
uint64_t ra_files_opened = 0;

std::deque<ReadaheadEvent>& events() {
    static std::deque<ReadaheadEvent> e;
    return e;
}
uint64_t events_seq = 0;
constexpr size_t MAX_EVENTS = 64;

// What a read-ahead request read, published when its outermost function returns: to the
// fault being traced (one step per Linux function) and to the event log.
void publish(readahead_control& ractl) {
    const bool any_read = ractl.last_nr != 0;
    std::string path;
    for (const char* fn : ractl.steps) path += (path.empty() ? "" : " -> ") + std::string(fn);
    for (size_t i = 0; i < ractl.steps.size(); ++i)
        trace_fault_step(ractl.steps[i], [&](FaultStep& s) {
            if (i + 1 < ractl.steps.size()) return;
            s.args = "file page " + std::to_string(ractl.req_index);
            s.result = any_read ? std::to_string(ractl.read) + " pages read of " + std::to_string(ractl.last_nr) +
                                      " from page " + std::to_string(ractl.last_index) +
                                      (ractl.last_lookahead
                                           ? ", PG_readahead on page " +
                                                 std::to_string(ractl.last_index + ractl.last_nr - ractl.last_lookahead)
                                           : std::string())
                                : "no read";
        });
    ReadaheadEvent e;
    e.seq = ++events_seq;
    e.filp = ractl.filp;
    e.mapping = &ractl.mapping;
    e.ino = ractl.mapping.host ? ractl.mapping.host->i_ino : 0;
    e.path = std::move(path);
    e.index = ractl.last_index, e.nr = ractl.last_nr, e.lookahead = ractl.last_lookahead;
    e.read = ractl.read;
    events().push_back(std::move(e));
    if (events().size() > MAX_EVENTS) events().pop_front();
}

// One Linux function of a request's path; the outermost one publishes the request.
class RaStep {
public:
    RaStep(readahead_control& ractl, const char* fn) : ractl_(ractl) {
        ractl_.steps.push_back(fn);
        ++ractl_.depth;
    }
    ~RaStep() {
        if (--ractl_.depth == 0) publish(ractl_);
    }
    RaStep(const RaStep&) = delete;
    RaStep& operator=(const RaStep&) = delete;

private:
    readahead_control& ractl_;
};

bool cached(const address_space& m, uint64_t index) { return m.i_pages.count(index) != 0; }

// The first index from index on (max_scan pages) not in the cache (page_cache_next_miss);
// the last scanned when all are.
uint64_t page_cache_next_miss(const address_space& m, uint64_t index, uint64_t max_scan) {
    for (uint64_t k = 0; k < max_scan; ++k)
        if (!cached(m, index + k)) return index + k;
    return index + max_scan - 1;
}

// The first index from index down (max_scan pages) not in the cache (page_cache_prev_miss);
// ~0 past page 0.
uint64_t page_cache_prev_miss(const address_space& m, uint64_t index, uint64_t max_scan) {
    for (uint64_t k = 0; k < max_scan; ++k) {
        if (k > index) return ~0ull;
        if (!cached(m, index - k)) return index - k;
    }
    return index - max_scan + 1;
}

// A page of the batch: allocated, not yet read nor in the cache.
struct PendingPage {
    PhysAddr frame;
    bool readahead;  // the first page of the async part: folio_set_readahead
};

// The page is read: into the cache, marked, counted as the task's read (submit_bio's
// task_io_account_read and PGPGIN).
void add_read_page(readahead_control& ractl, const PendingPage& p, uint64_t index) {
    filemap_add_folio(ractl.mapping, p.frame, index);
    if (p.readahead) ractl.mapping.km.page_alloc->phys_to_page(p.frame).flags |= PG_readahead;
    ++page_cache_stats().pgpgin_pages;
    task_io_account_read(PAGE_SIZE);
    ++ractl.read;
}

// Reads the batch (pages _index .. _index + _nr_pages - 1) and moves _index past it
// (read_pages): through a_ops->readahead in one call, so contiguous blocks go as one request,
// else page by page. A page whose read failed is not cached (its reader retries and sees
// the error).
void read_pages(readahead_control& ractl, std::vector<PendingPage>& batch) {
    address_space& m = ractl.mapping;
    if (batch.empty()) return;
    if (m.a_ops->readahead) {
        std::vector<uint8_t> buf(batch.size() * PAGE_SIZE);
        const bool ok = m.a_ops->readahead(m, ractl._index, batch.size(), buf.data()) == 0;
        for (size_t i = 0; i < batch.size(); ++i) {
            const bool copied = ok && with_kernel_mapping(m.km, batch[i].frame, PAGE_SIZE, [&](uint8_t* dst) {
                                    std::memcpy(dst, buf.data() + i * PAGE_SIZE, PAGE_SIZE);
                                });
            if (copied) add_read_page(ractl, batch[i], ractl._index + i);
            else m.km.page_alloc->free_page(batch[i].frame);
        }
    } else {
        for (size_t i = 0; i < batch.size(); ++i) {
            long err = -EIO;
            const bool mapped = with_kernel_mapping(m.km, batch[i].frame, PAGE_SIZE, [&](uint8_t* dst) {
                err = m.a_ops->read_folio(m, ractl._index + i, dst);
            });
            if (mapped && !err) add_read_page(ractl, batch[i], ractl._index + i);
            else m.km.page_alloc->free_page(batch[i].frame);
        }
    }
    ractl._index += batch.size();
    ractl._nr_pages = 0;
    batch.clear();
}

// Reads the missing pages of [_index, _index + nr_to_read), the one at nr_to_read -
// lookahead_size marked PG_readahead; pages already cached split the batches
// (page_cache_ra_unbounded).
void page_cache_ra_unbounded(readahead_control& ractl, uint64_t nr_to_read, uint64_t lookahead_size) {
    address_space& m = ractl.mapping;
    const uint64_t index = ractl._index;
    ractl.last_index = index, ractl.last_nr = nr_to_read, ractl.last_lookahead = lookahead_size;
    std::vector<PendingPage> batch;
    for (uint64_t i = 0; i < nr_to_read; i++) {
        if (cached(m, index + i)) {  // read what comes before it, then step over it
            read_pages(ractl, batch);
            ractl._index++;
            i = ractl._index + ractl._nr_pages - index - 1;
            continue;
        }
        auto frame = m.km.page_alloc->alloc_page(GFP_HIGHUSER_MOVABLE);
        if (!frame) break;  // read-ahead is best effort
        batch.push_back({*frame, i == nr_to_read - lookahead_size});
        ractl._nr_pages++;
    }
    read_pages(ractl, batch);
}

// page_cache_ra_unbounded within the file: nothing past the page holding its last byte
// (do_page_cache_ra).
void do_page_cache_ra(readahead_control& ractl, uint64_t nr_to_read, uint64_t lookahead_size) {
    RaStep step(ractl, "do_page_cache_ra");
    const uint64_t isize = ractl.mapping.host ? ractl.mapping.host->i_size : 0;
    if (isize == 0) return;
    const uint64_t end_index = (isize - 1) >> PAGE_SHIFT;
    const uint64_t index = ractl._index;
    if (index > end_index) return;
    if (nr_to_read > end_index - index) nr_to_read = end_index - index + 1;
    page_cache_ra_unbounded(ractl, nr_to_read, lookahead_size);
}

// Reads the window ra describes from ra.start (page_cache_ra_order: this cache has no large
// folios, so it is do_page_cache_ra of the whole window).
void page_cache_ra_order(readahead_control& ractl, file_ra_state& ra) {
    RaStep step(ractl, "page_cache_ra_order");
    ractl._index = ra.start;
    do_page_cache_ra(ractl, ra.size, ra.async_size);
}

// Whether the pages before index look like a sequential stream's history, and then a
// window of that length (try_context_readahead with count_history_pages).
bool try_context_readahead(const address_space& m, file_ra_state& ra, uint64_t index, uint64_t req_size, uint64_t max) {
    uint64_t size = index - 1 - page_cache_prev_miss(m, index - 1, max);
    if (size <= req_size) return false;  // not enough history: a random read
    if (size >= index) size *= 2;        // cached from the start: a long stream
    ra.start = index;
    ra.size = std::min(size + req_size, max);
    ra.async_size = 1;
    return true;
}

// The on-demand algorithm (ondemand_readahead): a read at page 0, one that continues the
// window or its history, or a hit on the PG_readahead mark gets a window ramped up from the
// last; a lone random read reads just what it asks for and leaves the state alone.
void ondemand_readahead(readahead_control& ractl, page* folio, uint64_t req_size) {
    RaStep step(ractl, "ondemand_readahead");
    file_ra_state& ra = ractl.ra;
    uint64_t max_pages = ra.ra_pages;
    const uint64_t io_pages = inode_to_bdi(ractl.mapping).io_pages;
    const uint64_t index = ractl._index;
    // A read larger than the window may go up to the device's largest request.
    if (req_size > max_pages && io_pages > max_pages) max_pages = std::min(req_size, io_pages);
    if (index == 0) goto initial_readahead;  // the start of the file
    // The expected index: the reader reached the mark or the window's end. Ramp up.
    if (index == ra.start + ra.size - ra.async_size || index == ra.start + ra.size) {
        ra.start += ra.size;
        ra.size = get_next_ra_size(ra, max_pages);
        ra.async_size = ra.size;
        goto readit;
    }
    // A marked page without a state that knows it (interleaved readers): the window is what
    // is cached after it.
    if (folio) {
        const uint64_t start = page_cache_next_miss(ractl.mapping, index + 1, max_pages);
        if (!start || start - index > max_pages) return;
        ra.start = start;
        ra.size = start - index + req_size;  // the old async_size, and this read
        ra.size = get_next_ra_size(ra, max_pages);
        ra.async_size = ra.size;
        goto readit;
    }
    if (req_size > max_pages) goto initial_readahead;  // an oversize read
    // A sequential miss: this read continues the last one (or rereads its last page).
    if (index - (static_cast<uint64_t>(ra.prev_pos) >> PAGE_SHIFT) <= 1) goto initial_readahead;
    if (try_context_readahead(ractl.mapping, ra, index, req_size, max_pages)) goto readit;
    // A lone small random read: read as is, and keep the state.
    do_page_cache_ra(ractl, req_size, 0);
    return;

initial_readahead:
    ra.start = index;
    ra.size = get_init_ra_size(req_size, max_pages);
    ra.async_size = ra.size > req_size ? ra.size - req_size : ra.size;

readit:
    // A window whose mark this very read would hit: merge the next window into it now.
    if (index == ra.start && ra.size == ra.async_size) {
        const uint64_t add_pages = get_next_ra_size(ra, max_pages);
        if (ra.size + add_pages <= max_pages) {
            ra.async_size = add_pages;
            ra.size += add_pages;
        } else {
            ra.size = max_pages;
            ra.async_size = max_pages >> 1;
        }
    }
    page_cache_ra_order(ractl, ra);
}

uint64_t roundup_pow_of_two(uint64_t n) {
    uint64_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

}  // namespace

const backing_dev_info& inode_to_bdi(const address_space& mapping) {
    const bool shmem = mapping.a_ops && mapping.a_ops->swap_backed;
    return shmem || !mapping.a_ops ? noop_backing_dev_info : default_backing_dev_info;
}

void file_ra_state_init(file& filp, const address_space& mapping) {
    filp.f_ra.ra_pages = inode_to_bdi(mapping).ra_pages;
    filp.f_ra.prev_pos = -1;
    ra_files()[&filp] = ++ra_files_opened;
}

void file_ra_state_release(const file& filp) { ra_files().erase(&filp); }

uint64_t get_init_ra_size(uint64_t size, uint64_t max) {
    uint64_t newsize = roundup_pow_of_two(size);
    if (newsize <= max / 32) newsize *= 4;
    else if (newsize <= max / 4) newsize *= 2;
    else newsize = max;
    return newsize;
}

uint64_t get_next_ra_size(const file_ra_state& ra, uint64_t max) {
    const uint64_t cur = ra.size;
    if (cur < max / 16) return 4 * cur;
    if (cur <= max / 2) return 2 * cur;
    return max;
}

void page_cache_sync_ra(readahead_control& ractl, uint64_t req_count) {
    RaStep step(ractl, "page_cache_sync_ra");
    bool do_forced_ra = ractl.filp && (ractl.filp->f_mode & FMODE_RANDOM);
    // Without read-ahead the page asked for is still read as read-ahead, alone.
    if (!ractl.ra.ra_pages) {
        if (!ractl.filp) return;
        req_count = 1;
        do_forced_ra = true;
    }
    if (do_forced_ra) {  // be dumb
        force_page_cache_ra(ractl, req_count);
        return;
    }
    ondemand_readahead(ractl, nullptr, req_count);
}

void page_cache_async_ra(readahead_control& ractl, page& folio, uint64_t req_count) {
    if (!ractl.ra.ra_pages) return;
    if (folio.flags & PG_writeback) return;  // PG_readahead is PG_reclaim there
    RaStep step(ractl, "page_cache_async_ra");
    folio.flags &= ~PG_readahead;  // folio_clear_readahead
    ondemand_readahead(ractl, &folio, req_count);
}

void force_page_cache_ra(readahead_control& ractl, uint64_t nr_to_read) {
    RaStep step(ractl, "force_page_cache_ra");
    const address_space& m = ractl.mapping;
    if (!m.a_ops || !m.a_ops->read_folio) return;
    uint64_t index = ractl._index;
    const uint64_t max_pages = std::max(inode_to_bdi(m).io_pages, ractl.ra.ra_pages);
    nr_to_read = std::min(nr_to_read, max_pages);
    while (nr_to_read) {
        const uint64_t this_chunk = std::min<uint64_t>((2u << 20) / PAGE_SIZE, nr_to_read);
        ractl._index = index;
        do_page_cache_ra(ractl, this_chunk, 0);
        index += this_chunk;
        nr_to_read -= this_chunk;
    }
}

void force_page_cache_readahead(address_space& mapping, file* filp, uint64_t index, uint64_t nr_to_read) {
    file_ra_state none;
    readahead_control ractl{filp, mapping, filp ? filp->f_ra : none, index};
    force_page_cache_ra(ractl, nr_to_read);
}

void do_sync_mmap_readahead(vm_area_struct& vma, uint64_t pgoff) {
    file& filp = *vma.vm_file;
    file_ra_state& ra = filp.f_ra;
    readahead_control ractl{&filp, filp.f_inode->i_data, ra, pgoff};
    if (vma.vm_flags & VM_RAND_READ) return;  // no read-ahead wanted
    if (!ra.ra_pages) return;
    if (vma.vm_flags & VM_SEQ_READ) {
        RaStep step(ractl, "do_sync_mmap_readahead");
        page_cache_sync_ra(ractl, ra.ra_pages);
        return;
    }
    if (ra.mmap_miss < MMAP_LOTSAMISS * 10) ++ra.mmap_miss;
    if (ra.mmap_miss > MMAP_LOTSAMISS) return;  // misses far outnumber hits: read-ahead only hurts
    // mmap read-around: a window centred on the fault, its last quarter asynchronous.
    RaStep step(ractl, "do_sync_mmap_readahead");
    ra.start = pgoff > ra.ra_pages / 2 ? pgoff - ra.ra_pages / 2 : 0;
    ra.size = ra.ra_pages;
    ra.async_size = ra.ra_pages / 4;
    page_cache_ra_order(ractl, ra);
}

void do_async_mmap_readahead(vm_area_struct& vma, uint64_t pgoff, page& folio) {
    file& filp = *vma.vm_file;
    file_ra_state& ra = filp.f_ra;
    if ((vma.vm_flags & VM_RAND_READ) || !ra.ra_pages) return;
    if (ra.mmap_miss) --ra.mmap_miss;
    if (!(folio.flags & PG_readahead)) return;
    readahead_control ractl{&filp, filp.f_inode->i_data, ra, pgoff};
    RaStep step(ractl, "do_async_mmap_readahead");
    page_cache_async_ra(ractl, folio, ra.ra_pages);
}

const std::deque<ReadaheadEvent>& readahead_events() { return events(); }

std::vector<RaFile> readahead_files() {
    std::vector<std::pair<uint64_t, const file*>> order;
    for (const auto& [f, n] : ra_files()) order.emplace_back(n, f);
    std::sort(order.begin(), order.end());
    std::vector<RaFile> out;
    for (const auto& [n, f] : order)
        if (f->f_inode) out.push_back({f, &f->f_inode->i_data, f->f_ra, (f->f_mode & FMODE_RANDOM) != 0});
    return out;
}

}  // namespace guestos
