// struct page and the page allocator interface every OS subsystem allocates frames through.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "mmu/types.h"

namespace guestos {

using mmu::PAGE_SHIFT;
using mmu::PAGE_SIZE;
using mmu::PhysAddr;
using mmu::VirtAddr;

// gfp flags: which zones may serve a request and how (values as in Linux's gfp_types.h).
using gfp_t = unsigned;
inline constexpr gfp_t __GFP_DMA = 0x01;
inline constexpr gfp_t __GFP_HIGHMEM = 0x02;
inline constexpr gfp_t __GFP_DMA32 = 0x04;
inline constexpr gfp_t __GFP_MOVABLE = 0x08;
inline constexpr gfp_t __GFP_RECLAIMABLE = 0x10;
inline constexpr gfp_t __GFP_HIGH = 0x20;
inline constexpr gfp_t __GFP_IO = 0x40;
inline constexpr gfp_t __GFP_FS = 0x80;
inline constexpr gfp_t __GFP_ZERO = 0x100;
inline constexpr gfp_t __GFP_DIRECT_RECLAIM = 0x400;
inline constexpr gfp_t __GFP_KSWAPD_RECLAIM = 0x800;
inline constexpr gfp_t __GFP_NOWARN = 0x2000;
inline constexpr gfp_t __GFP_NOFAIL = 0x8000;
inline constexpr gfp_t __GFP_NORETRY = 0x10000;
inline constexpr gfp_t __GFP_COMP = 0x40000;
inline constexpr gfp_t __GFP_NOMEMALLOC = 0x80000;
inline constexpr gfp_t __GFP_HARDWALL = 0x100000;
inline constexpr gfp_t __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
inline constexpr gfp_t GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
inline constexpr gfp_t GFP_NOWAIT = __GFP_KSWAPD_RECLAIM;
inline constexpr gfp_t GFP_DMA = __GFP_DMA;
inline constexpr gfp_t GFP_DMA32 = __GFP_DMA32;
inline constexpr gfp_t GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
inline constexpr gfp_t GFP_USER = GFP_KERNEL | __GFP_HARDWALL;
inline constexpr gfp_t GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
inline constexpr gfp_t GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;

// Page flags (a subset of Linux's enum pageflags, same meaning).
enum PageFlag : uint32_t {
    PG_locked = 1u << 0,
    PG_referenced = 1u << 1,
    PG_uptodate = 1u << 2,
    PG_dirty = 1u << 3,
    PG_lru = 1u << 4,
    PG_active = 1u << 5,
    PG_workingset = 1u << 6,  // refaulted soon after eviction: part of the working set
    PG_slab = 1u << 7,
    PG_error = 1u << 8,  // a bio of the page under writeback failed (Linux's former PG_error)
    PG_reserved = 1u << 10,
    PG_private = 1u << 11,
    PG_reclaim = 1u << 12,      // chosen by reclaim, being written out
    PG_readahead = PG_reclaim,  // read ahead, not yet used (shares PG_reclaim's bit, as Linux's)
    PG_writeback = 1u << 13,
    PG_head = 1u << 15,
    PG_swapcache = 1u << 16,
    PG_unevictable = 1u << 17,  // on the unevictable LRU list (mlocked)
    PG_mlocked = 1u << 18,      // mapped by a VM_LOCKED VMA
    PG_swapbacked = 1u << 19,   // backed by swap, not a file: anonymous and shmem pages
    PG_anon = 1u << 20,         // Linux encodes this in page->mapping; a flag here
    PG_pagetable = 1u << 21,    // a page-table page (PageTable())
    PG_buddy = 1u << 22,        // free in the page allocator (PageBuddy())
    PG_tail = 1u << 23,         // a tail page of a compound page (PageTail(); Linux encodes it
                                // in compound_head bit 0)
};

// What a page is used for, for accounting (/proc/meminfo adds these up).
// Free pages are the buddy allocator's or its per-cpu lists'; Vmalloc pages back vmalloc areas.
enum class PageUse : uint8_t { Free, Reserved, PageTable, Anon, File, Slab, KernelStack, Other, Vmalloc };
inline constexpr unsigned NR_PAGE_USES = 9;

// Ends a page list linked through page::lru_next/lru_prev (pfns).
inline constexpr uint32_t NO_PFN = ~0u;

struct kmem_cache;
struct lruvec;

// One per physical frame, as Linux's mem_map.
struct page {
    uint32_t flags = 0;
    int32_t _refcount = 0;
    int32_t _mapcount = -1;  // -1: mapped by no PTE (Linux convention)
    PageUse use = PageUse::Free;
    uint8_t order = 0;        // for a free or compound head: its buddy order
    uint16_t wb_bios = 0;     // a page under writeback: its bios not yet completed (+1 while submitting)
    uint64_t index = 0;       // offset in the mapping, in pages
    void* mapping = nullptr;  // anon_vma or address_space
    uint64_t private_ = 0;    // page->private: the swp_entry_t of a PG_swapcache page
    // Links of the list the page is on (free_area, per-cpu list, slab partial list), as pfns:
    // Linux's page->lru / slab->slab_list.
    uint32_t lru_next = NO_PFN;
    uint32_t lru_prev = NO_PFN;
    uint32_t compound_head = 0;  // for PG_tail pages: the head's pfn
    // struct slab (overlaid on struct page in Linux), valid on a PG_slab head page.
    uint16_t inuse = 0;    // objects handed out (all of them while frozen)
    uint16_t objects = 0;  // objects in the slab
    bool frozen = false;   // owned by the cpu slab
    kmem_cache* slab_cache = nullptr;
    uint64_t freelist = 0;  // physical address of the first free object; 0 = none
};

// Overcommit (mm/util.c): the commitments of every address space and the sysctls that
// bound them (/proc/sys/vm/overcommit_*; guestos/mm/util.cpp).
inline constexpr int OVERCOMMIT_GUESS = 0, OVERCOMMIT_ALWAYS = 1, OVERCOMMIT_NEVER = 2;
struct vm_overcommit {
    int64_t vm_committed_as = 0;  // pages charged (VM_ACCOUNT mappings and shmem), Committed_AS
    // The part shmem files hold (shmem_acct_size, shmem_acct_blocks): tmpfs files and SysV
    // segments keep theirs after every address space is gone.
    int64_t shmem_committed = 0;
    int overcommit_memory = OVERCOMMIT_GUESS;
    int overcommit_ratio = 50;  // percent of RAM CommitLimit counts (overcommit_kbytes 0)
    unsigned long overcommit_kbytes = 0;
    unsigned long user_reserve_kbytes = 0, admin_reserve_kbytes = 0;  // set at boot (init_*_reserve)
};

enum node_stat_item : uint8_t;  // guestos/include/mmzone.h

// The page allocator (the buddy allocator implements it).
class PageAllocator {
public:
    vm_overcommit overcommit;  // the machine's, kept here where every mm reaches it
    virtual ~PageAllocator() = default;
    // 2^order contiguous frames, or nullopt when the request cannot be met.
    virtual std::optional<PhysAddr> alloc_pages(gfp_t gfp, unsigned order) = 0;
    virtual void free_pages(PhysAddr frame, unsigned order) = 0;
    virtual uint64_t nr_free_pages() const = 0;
    virtual uint64_t totalram_pages() const = 0;
    // Pages no ordinary allocation may take (totalreserve_pages); 0 without watermarks.
    virtual uint64_t totalreserve_pages() const { return 0; }
    virtual page& pfn_to_page(uint64_t pfn) = 0;
    // The node's LRU lists (mem_cgroup_lruvec of the root cgroup); null for an allocator
    // without reclaim.
    virtual lruvec* node_lruvec() { return nullptr; }
    // Adds delta to a node counter (mod_node_page_state); an allocator without a node keeps
    // none.
    virtual void mod_node_page_state(node_stat_item, int64_t) {}
    // A node counter's value (node_page_state); 0 without a node.
    virtual int64_t node_page_state(node_stat_item) const { return 0; }

    // Takes an allocated page out of the allocator's hands for good, e.g. the zero page
    // (mark_page_reserved: SetPageReserved + adjust_managed_page_count(-1)); frees of it are
    // refused from then on. The buddy allocator also moves it from MemTotal to reserved.
    virtual void mark_page_reserved(PhysAddr frame) {
        page& p = phys_to_page(frame);
        p.flags |= PG_reserved;
        set_page_use(p, PageUse::Reserved);
    }

    // Pages by use, kept as each page changes use (as Linux keeps its vm_stat NR_* counters
    // where pages change state, instead of counting mem_map): every write of page::use goes
    // through set_page_use. Pages the allocator never managed count as Free until reserved.
    void set_page_use(page& p, PageUse use) {
        --nr_page_use_[static_cast<unsigned>(p.use)];
        ++nr_page_use_[static_cast<unsigned>(use)];
        p.use = use;
    }
    uint64_t page_use_count(PageUse use) const {
        return static_cast<uint64_t>(nr_page_use_[static_cast<unsigned>(use)]);
    }

    std::optional<PhysAddr> alloc_page(gfp_t gfp) { return alloc_pages(gfp, 0); }
    void free_page(PhysAddr frame) { free_pages(frame, 0); }
    page& phys_to_page(PhysAddr pa) { return pfn_to_page(pa.pfn()); }

protected:
    // A new mem_map of n pages, every one Free.
    void init_page_use_counts(uint64_t n) {
        nr_page_use_.fill(0);
        nr_page_use_[static_cast<unsigned>(PageUse::Free)] = static_cast<int64_t>(n);
    }

private:
    std::array<int64_t, NR_PAGE_USES> nr_page_use_{};
};

}  // namespace guestos
