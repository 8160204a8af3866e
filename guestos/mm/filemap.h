// The page cache (mm/filemap.c, mm/truncate.c, mm/readahead.c): the pages of a file kept in
// emulated RAM, indexed by their page offset in the file, shared by read(), write() and
// every mapping of the file.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "guestos/include/blkdev.h"
#include "guestos/lib/interval_tree.h"
#include "guestos/include/kmap.h"
#include "guestos/include/swapops.h"
#include "guestos/mm/workingset.h"

namespace guestos {

struct inode;
class file;
class iov_iter;
struct address_space;
struct vm_area_struct;

// How a mapping fills its pages (struct address_space_operations).
struct address_space_operations {
    const char* name;
    // Reads page `index` from the backing store into dst, PAGE_SIZE bytes of the new page
    // reached through its kernel mapping (read_folio); 0 or a negative errno.
    long (*read_folio)(address_space& mapping, uint64_t index, uint8_t* dst);
    // shmem/tmpfs: no backing store; a missing page is a hole that reads as zeros and is
    // allocated zeroed when written or faulted in (mapping_set_unevictable + shmem_get_folio).
    bool swap_backed;
    // Writes page p (at p.index; src, its PAGE_SIZE bytes) back to the backing store
    // (writepage); dirty says whether the page was dirtied or is only mapped. Bios that point
    // at the page itself count in p.wb_bios (mark_page_async_write) and end its writeback
    // when the last completes. Null: nothing to write to.
    long (*writepage)(address_space& mapping, page& p, const uint8_t* src, bool dirty) = nullptr;
    // Reads pages [index, index + nr) into dst (nr * PAGE_SIZE bytes), each run of blocks
    // contiguous on the device in one request (readahead: mpage_readahead); 0 or a negative
    // errno. Null: read-ahead reads page by page through read_folio.
    long (*readahead)(address_space& mapping, uint64_t index, uint64_t nr, uint8_t* dst) = nullptr;
    // Writes the nr pages [index, index + nr) back in one go, pages[i] being page index + i's
    // PAGE_SIZE bytes (writepages, for a store written by system call rather than by bios:
    // hostfs's pwritev); 0 or a negative errno for the whole run. Null: page by page.
    long (*writepages)(address_space& mapping, uint64_t index, const uint8_t* const* pages, size_t nr) = nullptr;
};

// A tmpfs instance's block budget (shmem_sb_info's max_blocks and used_blocks): every page
// its files' caches hold is charged to it (shmem_inode_acct_blocks), and a page past
// max_blocks is ENOSPC.
struct shmem_blocks {
    uint64_t max_blocks = 0;  // 0: no limit
    uint64_t used_blocks = 0;
};

// The page cache of one inode (struct address_space).
struct address_space {
    address_space() = default;
    address_space(const address_space&) = delete;
    address_space& operator=(const address_space&) = delete;
    ~address_space();

    inode* host = nullptr;
    const address_space_operations* a_ops = nullptr;
    // Where its pages come from and how they are reached; set before the first page.
    kernel_mem km;
    std::map<uint64_t, PhysAddr> i_pages;  // index -> page (Linux: an xarray)
    // shmem: the pages out in swap, index -> swap entry (Linux keeps them in i_pages as
    // value entries); each holds one reference on its slot.
    std::map<uint64_t, swp_entry_t> i_swap;
    // The shadow entries reclaim left where it evicted pages, index -> shadow (value entries
    // in i_pages in Linux), and the nodes holding only those, listed for their shrinker.
    std::map<uint64_t, shadow_t> i_shadow;
    std::map<uint64_t, shadow_node_list::iterator> i_shadow_nodes;
    // The VMAs mapping it, keyed by the file pages they cover [vm_pgoff, vm_pgoff + pages - 1].
    IntervalTree<vm_area_struct> i_mmap;
    std::shared_ptr<shmem_blocks> blocks;  // a tmpfs file's: the budget its pages are charged to
    // shmem's part of Committed_AS (shmem_inode_info's VM_NORESERVE): shared anonymous
    // memory and SysV segments commit their size when set up; the other shmem files (tmpfs
    // files, memfds) commit each block as it is allocated. The pages committed now.
    bool shmem_noreserve = true;
    uint64_t shmem_committed = 0;
    uint64_t nrpages() const { return i_pages.size(); }
};

// Page-cache counters. (Shmem and Cached are counted from mem_map, see page_use_stats.)
struct PageCacheStats {
    uint64_t pgpgin_pages = 0;  // pages read from a backing store
};
PageCacheStats& page_cache_stats();

// The cached page at index for a write of bytes [from, to) of it (grab_cache_page_write_begin
// with __block_write_begin's care of a new page): a cached page as it is; a new page the
// write covers whole is neither read nor zeroed; a new page wholly at or past EOF (its
// blocks are holes or new) is zeroed outside [from, to) only (zero_user_segments); any
// other is read (filemap_read_folio).
mmu::ErrorOr<PhysAddr> grab_cache_page_write_begin(address_space& mapping, uint64_t index, uint64_t from, uint64_t to);

// The page at index if it is cached (find_get_page, without taking a reference).
std::optional<PhysAddr> find_get_page(address_space& mapping, uint64_t index);
// The page at index, read in when missing (or, for shmem, allocated zeroed); *major is set
// when it had to be read from the backing store. ENOMEM when RAM is exhausted, the read's
// errno when it failed (filemap_get_folio with FGP_CREAT / shmem_get_folio).
mmu::ErrorOr<PhysAddr> pagecache_get_page(address_space& mapping, uint64_t index, bool* major = nullptr);
// Puts a page just read (its bytes in place) into the cache at index, with the cache's
// reference, on the LRU (filemap_add_folio).
void filemap_add_folio(address_space& mapping, PhysAddr frame, uint64_t index);
// Marks a cached page dirty (set_page_dirty); shmem pages are always dirty.
void set_page_dirty(page& p);

// read() through the page cache (filemap_read): a missed page reads a read-ahead window
// chosen from filp's state (none without a file), reaching a PG_readahead page reads the
// next one; holes of shmem read as zeros without allocating. Bytes read or a negative errno.
long filemap_read(inode& ino, uint8_t* buf, uint64_t n, int64_t pos, file* filp = nullptr);
// The same into an iov_iter (a user's buffers: one copy from each cached page); a copy
// that faults ends the read short, or EFAULT when nothing was read.
long filemap_read(inode& ino, iov_iter& to, uint64_t n, int64_t pos, file* filp);
// write() through the page cache (generic_perform_write): extends i_size; bytes written
// or a negative errno (ENOMEM, EFBIG past max_bytes).
long generic_perform_write(inode& ino, const uint8_t* buf, uint64_t n, int64_t pos, uint64_t max_bytes);

// How a writeback treats a page still under writeback (enum writeback_sync_modes):
// background writeback leaves it dirty for later, a data-integrity sync waits for it.
enum class writeback_sync_modes { WB_SYNC_NONE, WB_SYNC_ALL };
// Starts writeback of the dirty pages and those mapped (a shared writable mapping dirties a
// page without telling the cache) through writepage, cleaning them
// (__filemap_fdatawrite_range / do_writepages): the pages stay under writeback until their
// requests complete. Takes the mapping off the flusher's list when nothing is left dirty.
// 0 or the first write's errno.
long filemap_fdatawrite_wbc(address_space& mapping, writeback_sync_modes sync_mode);
// Waits until no page of the mapping is under writeback (filemap_fdatawait).
long filemap_fdatawait(address_space& mapping);
// Both, WB_SYNC_ALL (filemap_write_and_wait): every page dirty at the call is on the disk
// and its writeback completed when it returns. 0 or the first write's errno.
long filemap_write_and_wait(address_space& mapping);
// Whether any page of the mapping is dirty (mapping_tagged(PAGECACHE_TAG_DIRTY)).
bool mapping_tagged_dirty(const address_space& mapping);
// A bio about to be submitted for a page under writeback, pointing at the page's bytes
// (mark_buffer_async_write): counted in p.wb_bios; its completion
// (end_buffer_async_write) ends the page's writeback when it is the last.
bio_end_io_t mark_page_async_write(page& p);
// Waits until the page is no longer under writeback (folio_wait_writeback): its bios still
// held in the task's plug are dispatched, and the disk's requests complete, oldest first,
// until the page's last one did.
void folio_wait_writeback(page& p);
// Writes one dirty page back for reclaim (pageout): true when it is now clean.
bool pageout(address_space& mapping, page& p, PhysAddr frame);
// Drops every cached page that is neither dirty nor mapped (invalidate_mapping_pages): the
// backing file changed behind the cache.
void invalidate_mapping_pages(address_space& mapping);
// The same for the pages of indexes [start, end] only (fadvise's POSIX_FADV_DONTNEED).
void invalidate_mapping_pages(address_space& mapping, uint64_t start, uint64_t end);

// Zaps every PTE mapping file pages [first, first + nr) (nr 0: to the end), private COW
// copies too when even_cows (unmap_mapping_pages).
void unmap_mapping_pages(address_space& mapping, uint64_t first, uint64_t nr, bool even_cows);
// Drops the cached pages from byte lstart on, zeroing the tail of a partial page
// (truncate_inode_pages_range); pages still mapped are freed when their last PTE goes.
void truncate_inode_pages(address_space& mapping, uint64_t lstart);
// Drops the cached pages wholly inside bytes [lstart, lend] and zeroes the parts of the
// pages at either end (truncate_inode_pages_range; lend ~0: to the end).
void truncate_inode_pages_range(address_space& mapping, uint64_t lstart, uint64_t lend);
// Sets i_size; a shrink unmaps and drops the pages past it (truncate_setsize + truncate_pagecache).
void truncate_setsize(inode& ino, uint64_t newsize);

// Why a page leaves its mapping: reclaim evicts it and leaves a shadow entry for refault
// detection; an invalidation (drop_caches, fadvise) leaves none.
enum class Eviction : uint8_t { Invalidate, Reclaim };
// Takes a clean page-cache page that only the cache holds out of its mapping and frees it
// (__remove_mapping / __filemap_remove_folio); false, changing nothing, when the page is
// dirty, mapped, or held by someone else.
[[nodiscard]] bool __remove_mapping(address_space& mapping, page& p, Eviction why);
[[nodiscard]] inline bool remove_mapping(address_space& mapping, page& p) {
    return __remove_mapping(mapping, p, Eviction::Invalidate);
}
// Drops the clean, unmapped pages of every page cache (drop_caches 1: drop_pagecache_sb
// -> invalidate_mapping_pages); returns how many went.
uint64_t drop_pagecache();

// The mappings holding pages of pa's RAM (what walking every super block's inodes reaches
// in Linux), for inspection.
std::vector<const address_space*> cached_mappings(const PageAllocator& pa);

// The shmem mappings with pages in swap (shmem_swaplist), for swapoff and --check-mm.
std::vector<address_space*> shmem_swaplist();

// Drops every page of every page cache and disconnects them from the allocator: the
// kernel's teardown, before the allocator goes.
void release_all_page_caches();

}  // namespace guestos
