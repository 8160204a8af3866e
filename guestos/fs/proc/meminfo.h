// Text of /proc/meminfo, /proc/buddyinfo, /proc/zoneinfo, /proc/slabinfo and /proc/vmstat in
// the format of Linux 6.x (field lists and order as this host's 6.18 kernel prints them;
// i386 adds HighTotal/HighFree/LowTotal/LowFree and prints no NUMA counters).
//
// Accounting: every frame is counted once by page::use, so
//   MemTotal = MemFree + Slab + PageTables + KernelStack + AnonPages + Cached + VmallocUsed
//              (+ pages allocated with no use set, meminfo_accounting::other)
//   RAM      = MemTotal + reserved (low frames and mem_map, as Linux leaves them out of MemTotal)
// to the page. One deliberate difference from Linux: MemFree includes the pages cached on the
// per-cpu lists (Linux counts them nowhere); zoneinfo "pages free" and vmstat nr_free_pages
// are NR_FREE_PAGES and exclude them, exactly as in Linux. Another: slabinfo's active_objs
// is exact (Linux counts the cpu slab's free objects as active), so it equals the number of
// live kernel objects of each cache (guestos/mm/slab_object.h).
#pragma once
#include <cstdint>
#include <string>

#include "guestos/mm/highmem.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/slub.h"
#include "guestos/mm/vmalloc.h"

namespace guestos {

// Where the figures come from; the optional parts read as zero (or the default layout).
struct ProcSources {
    const BuddyAllocator& buddy;
    const SlabAllocator* slab = nullptr;
    const KernelPageTable* kpt = nullptr;
    const Vmalloc* vmalloc = nullptr;
    const Highmem* highmem = nullptr;  // kmap counts (allocator_stats only)
    uint64_t swap_total_pages = 0;
    uint64_t swap_free_pages = 0;
};

// Pages by use (the accounting identity above, in pages).
struct meminfo_accounting {
    uint64_t ram = 0, total = 0, reserved = 0, free = 0, slab = 0, page_tables = 0, kernel_stack = 0, anon = 0,
             file = 0, vmalloc = 0, other = 0;
    // True if the sums close to the page.
    bool balanced() const {
        return total == free + slab + page_tables + kernel_stack + anon + file + vmalloc + other &&
               ram == total + reserved;
    }
};
meminfo_accounting meminfo_accounts(const BuddyAllocator& buddy);

// The memory figures sysinfo reports, in pages (si_meminfo + si_meminfo's highmem part).
struct si_meminfo_pages {
    uint64_t totalram = 0, freeram = 0, sharedram = 0, bufferram = 0, totalhigh = 0, freehigh = 0;
};
si_meminfo_pages si_meminfo(const BuddyAllocator& buddy);

std::string proc_meminfo(const ProcSources& src);
std::string proc_buddyinfo(const BuddyAllocator& buddy);
std::string proc_zoneinfo(const ProcSources& src);
std::string proc_slabinfo(const SlabAllocator& slab);
std::string proc_vmstat(const ProcSources& src);

// The allocator part of emu --stats, from the /proc formatters: buddyinfo's lines (free blocks
// per order of each zone), each zone's free pages as zoneinfo's "pages free", vmstat's
// pgalloc_* and pgfree lines, then "name value" lines for the slab totals (caches, active and
// total objects, slab pages as meminfo's Slab counts them), vmalloc pages in use and the
// kmaps of highmem pages.
std::string allocator_stats(const ProcSources& src);

}  // namespace guestos
