// Read-ahead (mm/readahead.c, and the mmap side of mm/filemap.c): a file read sequentially
// is read from the device in windows that grow (4, 8, 16, 32 pages...) ahead of the reader,
// each window's second part read "asynchronously" and marked by PG_readahead on its first
// page, so that reaching the mark reads the next window; random reads get no window.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "guestos/include/fs.h"

namespace guestos {

struct vm_area_struct;

// vm_flags madvise sets (MADV_SEQUENTIAL, MADV_RANDOM), with Linux's values.
inline constexpr unsigned long VM_SEQ_READ = 0x8000, VM_RAND_READ = 0x10000;

// What read-ahead knows of a device (struct backing_dev_info): its default window and the
// largest read it takes at once (max_sectors_kb in pages).
struct backing_dev_info {
    uint64_t ra_pages = 0;
    uint64_t io_pages = 0;
};
inline constexpr uint64_t VM_READAHEAD_PAGES = 32;  // 128 KiB
// The device behind a mapping: a disk or host file (ra_pages 32), or none for shmem
// (noop_backing_dev_info: ra_pages 0).
const backing_dev_info& inode_to_bdi(const address_space& mapping);

// A new file's window comes from its device (file_ra_state_init); the file is listed for
// the debugger view until file_ra_state_release.
void file_ra_state_init(file& filp, const address_space& mapping);
void file_ra_state_release(const file& filp);

// One read-ahead request (struct readahead_control): pages from _index on of mapping, for
// filp (null: no file, as a debugger's read) with its state ra.
struct readahead_control {
    readahead_control(file* f, address_space& m, file_ra_state& r, uint64_t index)
        : filp(f), mapping(m), ra(r), _index(index), req_index(index) {}
    file* filp;
    address_space& mapping;
    file_ra_state& ra;
    uint64_t _index = 0;
    uint64_t _nr_pages = 0;  // pages of the current batch, allocated, not yet read
    // What the request did, for the trace and the debugger view: the Linux functions that
    // ran (depth: how many are running), the page that asked, the last range given to
    // page_cache_ra_unbounded, and the pages read.
    std::vector<const char*> steps;
    int depth = 0;
    uint64_t req_index = 0;
    uint64_t last_index = 0, last_nr = 0, last_lookahead = 0;
    uint64_t read = 0;
};

// The window's first size for a read of size pages with max the largest (get_init_ra_size):
// 4x a small read, 2x a medium one, max beyond.
uint64_t get_init_ra_size(uint64_t size, uint64_t max);
// The next window after ra.size (get_next_ra_size): 4x while small, 2x up to max.
uint64_t get_next_ra_size(const file_ra_state& ra, uint64_t max);

// A read missed the cache at ractl._index, wanting req_count pages (page_cache_sync_ra):
// reads the window ondemand_readahead chooses, or just the pages asked (FMODE_RANDOM).
void page_cache_sync_ra(readahead_control& ractl, uint64_t req_count);
// A read reached the PG_readahead page folio (page_cache_async_ra): clears the mark and
// reads the next window ahead.
void page_cache_async_ra(readahead_control& ractl, page& folio, uint64_t req_count);
// Reads nr_to_read pages from ractl._index whatever the state says, 2 MiB at a time, at
// most max(io_pages, ra_pages) (force_page_cache_ra: fadvise WILLNEED, readahead(2)).
void force_page_cache_ra(readahead_control& ractl, uint64_t nr_to_read);
// force_page_cache_ra for a file: its own state (force_page_cache_readahead).
void force_page_cache_readahead(address_space& mapping, file* filp, uint64_t index, uint64_t nr_to_read);

// posix_fadvise on an open file (vfs_fadvise -> generic_fadvise): 0, ESPIPE for a pipe,
// EINVAL for a negative length or an unknown advice.
long vfs_fadvise(file& f, int64_t offset, int64_t len, int advice);

// The mmap fault side (mm/filemap.c). A fault missed the cache at pgoff
// (do_sync_mmap_readahead): no read-ahead for VM_RAND_READ, the sequential window for
// VM_SEQ_READ, else a read-around window centred on pgoff until mmap misses outnumber hits
// by MMAP_LOTSAMISS.
void do_sync_mmap_readahead(vm_area_struct& vma, uint64_t pgoff);
// A fault found pgoff cached (do_async_mmap_readahead): a hit lowers mmap_miss, and a
// PG_readahead page reads the next window.
void do_async_mmap_readahead(vm_area_struct& vma, uint64_t pgoff, page& folio);

// A read-ahead decision, as the trace and the debugger view show it.
struct ReadaheadEvent {
    uint64_t seq = 0;
    const file* filp = nullptr;
    const address_space* mapping = nullptr;
    uint64_t ino = 0;
    std::string path;                           // "page_cache_sync_ra -> ondemand_readahead -> do_page_cache_ra"
    uint64_t index = 0, nr = 0, lookahead = 0;  // the pages asked for, and the async part
    uint64_t read = 0;                          // of them, pages read (not already cached)
};
// The newest read-ahead decisions, oldest first (at most 64).
const std::deque<ReadaheadEvent>& readahead_events();

// An open regular file's read-ahead state, for inspection.
struct RaFile {
    const file* filp;
    const address_space* mapping;
    file_ra_state ra;
    bool random;  // FMODE_RANDOM
};
// Every open regular file's state (those file_ra_state_init listed).
std::vector<RaFile> readahead_files();

}  // namespace guestos
