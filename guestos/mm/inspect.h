// A read-only view of the OS's memory state for debuggers (ui/, gdbstub/): the page walk of
// any address, struct page and rmap of any frame, the frame map of the whole RAM, the buddy
// free lists, the slab caches, the VMAs with their resident pages, the page cache per file
// and the meminfo counters.
//
// Contract: every function here reads and never writes. Page walks do not set Accessed or
// Dirty, rmap lookups take no reference, nothing is allocated in emulated RAM. Call them only
// while the guest is stopped at a safe point (between instructions, no syscall or fault half
// done): emu::Debugger's stops are such points. Nothing here knows of Unicorn or the shadow
// TLB; the CPU side (registers, shadow entries) is emu/debugger.h.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "guestos/include/mm_types.h"
#include "guestos/mm/page_alloc.h"
#include "mmu/paging.h"

namespace guestos {
class Kernel;
class SlabAllocator;
}  // namespace guestos

namespace guestos::inspect {

// --- Page walk -------------------------------------------------------------------------

// One named bit of a page-table entry (P, RW, US, PWT, PCD, A, D, PS, G, NX).
struct EntryBit {
    const char* name;
    bool set;
};
// The bits of a present or absent entry at `level` (PS only above the PTE level, NX only
// where the format has it).
std::vector<EntryBit> entry_bits(mmu::PagingMode mode, int level, uint64_t entry);

// One level of a walk: which table, which slot, what it holds, where it leads.
struct WalkLevel {
    int level = 0;          // 4 = PML4 ... 1 = PT (mmu's numbering)
    const char* name = "";  // "PML4E", "PDPTE", "PDE", "PTE"
    PhysAddr table;         // the table read at this level
    unsigned index = 0;     // the slot of va in it
    PhysAddr entry_addr;    // where that slot sits in RAM
    uint64_t entry = 0;     // its value
    bool present = false;
    bool leaf = false;      // maps the page (PTE, or a large page)
    uint64_t next_pfn = 0;  // the table or frame it leads to (when present)
};
struct PageWalk {
    VirtAddr va;
    mmu::PagingMode mode = mmu::PagingMode::LongMode4;
    PhysAddr root;                  // the pgd (CR3's table)
    std::vector<WalkLevel> levels;  // from the root down to where the walk stopped
    std::optional<PhysAddr> phys;   // va's physical address when a leaf maps it
    std::string stopped;            // why the walk ended early ("PDE not present"), or ""
};
// Walks mm's tables for va as the MMU would, reading only.
PageWalk page_walk(const mm_struct& mm, VirtAddr va);

// Reads n bytes of user memory at va through mm's tables, without faulting and without
// setting A/D; false when some page is not mapped.
bool read_virtual(const mm_struct& mm, VirtAddr va, void* dst, uint64_t n);
// What ptrace's PEEKDATA reads at va, with no side effect: mapped pages through the tables
// (as read_virtual); a page a VMA covers but no PTE maps yet as its first read fault would
// fill it: zeros for anonymous memory, the file's page when it is in the page cache. False
// outside every VMA, for PROT_NONE and swapped pages and for file pages not cached.
bool read_user(const mm_struct& mm, VirtAddr va, void* dst, uint64_t n);
// Reads n bytes of emulated RAM at pa; false past its end.
bool read_physical(const mmu::PhysMemory& ram, PhysAddr pa, void* dst, uint64_t n);

// --- Frames ----------------------------------------------------------------------------

// What a frame is used for, as the frame map colours it.
enum class FrameUse : uint8_t {
    Free,      // in a buddy free block (its order is in FrameMap::free_order)
    FreePcp,   // free, cached on the per-cpu list
    Reserved,  // never managed (BIOS area, mem_map)
    Kernel,    // allocated by the kernel for itself (kmalloc_large, stacks, other)
    PageTable,
    Slab,
    Anon,
    FileClean,  // page cache, clean
    FileDirty,  // page cache, dirty or under writeback
    Shmem,      // tmpfs/shmem page cache
    Vmalloc,
    ZeroPage,   // the shared zero page
    SwapCache,  // (none until swap exists)
    Count
};
inline constexpr unsigned NR_FRAME_USES = static_cast<unsigned>(FrameUse::Count);
const char* frame_use_name(FrameUse u);

struct ZoneSpan {
    const char* name;
    uint64_t start_pfn, end_pfn;  // end exclusive
};
// One entry per frame of RAM.
struct FrameMap {
    std::vector<FrameUse> use;
    std::vector<uint8_t> free_order;  // order of the free block holding the frame (Free only)
    std::vector<ZoneSpan> zones;      // populated zones, lowest first
    uint64_t max_low_pfn = 0;         // frames from here on are highmem (i386)
    std::array<uint64_t, NR_FRAME_USES> count{};
};
// Fills map for every frame (reusing its storage: this runs at every stop).
void frame_map(const BuddyAllocator& buddy, PhysAddr zero_page, FrameMap& map);

// A frame's struct page in words.
struct PageInfo {
    uint64_t pfn = 0;
    FrameUse use = FrameUse::Free;
    const char* zone = "";
    bool highmem = false;
    uint32_t flags = 0;
    std::string flag_names;  // "uptodate|dirty|lru|anon", as page-types -l names them
    int32_t refcount = 0;    // _refcount
    int32_t mapcount = -1;   // _mapcount (-1: no PTE maps it)
    unsigned order = 0;      // free or compound block order
    uint64_t index = 0;
    std::string mapping;     // "anon_vma #3", "/tmp/f (ino 12)", or ""
    std::string slab_cache;  // the cache of a slab page, with inuse/objects
};
PageInfo page_info(const BuddyAllocator& buddy, PhysAddr zero_page, uint64_t pfn);

// One PTE mapping a frame (rmap).
struct RmapRef {
    const mm_struct* mm = nullptr;
    VirtAddr address;
    uint64_t pte = 0;
    std::string vma;  // the VMA as /proc/PID/maps shows it
};
// Every PTE that maps pfn now, found through rmap (anon_vma or the file's i_mmap).
std::vector<RmapRef> page_rmap(const BuddyAllocator& buddy, uint64_t pfn);

// --- Allocators ------------------------------------------------------------------------

inline constexpr const char* migratetype_names[MIGRATE_TYPES] = {"Unmovable", "Movable", "Reclaimable", "HighAtomic"};
struct BuddyZone {
    const char* name = "";
    uint64_t start_pfn = 0, spanned = 0, present = 0, managed = 0;
    uint64_t free_pages = 0, pcp_pages = 0;
    uint64_t wmark_min = 0, wmark_low = 0, wmark_high = 0;
    // Blocks on each free list (free_area[order].free_list[migratetype]).
    std::array<std::array<uint64_t, MIGRATE_TYPES>, NR_PAGE_ORDERS> nr_free{};
};
// The populated zones with their free lists counted.
std::vector<BuddyZone> buddy_zones(const BuddyAllocator& buddy);

// One cache as /proc/slabinfo shows it.
struct SlabCache {
    std::string name;
    unsigned object_size = 0, size = 0, objects_per_slab = 0, pages_per_slab = 0;
    uint64_t active_objs = 0, num_objs = 0, num_slabs = 0;
};
std::vector<SlabCache> slab_caches(const SlabAllocator& slab);

// --- Address space ---------------------------------------------------------------------

struct VmaInfo {
    VirtAddr start, end;
    unsigned long flags = 0;
    std::string perms;  // "r-xp"
    uint64_t pgoff = 0;
    std::string name;       // the file, [heap], [stack], or ""
    uint64_t anon_vma = 0;  // its anon_vma's id, 0 without one
    uint64_t resident = 0;  // pages a PTE maps
    uint64_t dirty = 0;     // of those, with D set
    uint64_t swapped = 0;   // pages whose PTE holds a swap entry
};
std::vector<VmaInfo> vmas(const mm_struct& mm);

// --- Processes ---------------------------------------------------------------------------

struct TaskInfo {
    int pid = 0, tgid = 0, ppid = 0, pgrp = 0, session = 0;
    std::string comm;
    const char* state = "";  // as /proc/PID/status: "R (running)", "S (sleeping)", ...
    std::string abi;         // "x86_64" or "i386"
    int threads = 0;         // in its thread group
    uint64_t mm_id = 0;      // the same for threads and a vfork child sharing an mm, 0: none
    uint64_t vm_pages = 0, rss_anon = 0, rss_file = 0, rss_shmem = 0, pgtables_bytes = 0;
    int map_count = 0;
    int exit_code = 0;  // its wait status, once a zombie
};
// Every task not yet reaped, by pid.
std::vector<TaskInfo> tasks(const Kernel& kernel);

// --- Page cache --------------------------------------------------------------------------

// An open file's read-ahead window (its struct file's file_ra_state): pages [start, start +
// size) were last read ahead, the last async_size of them before anyone asked.
struct RaWindow {
    uint64_t file_id = 0;  // which open file of the inode (numbered in opening order)
    uint64_t start = 0, size = 0, async_size = 0, ra_pages = 0;
    unsigned mmap_miss = 0;
    int64_t prev_pos = -1;
    bool random = false;  // POSIX_FADV_RANDOM: no window
    bool operator==(const RaWindow&) const = default;
};
// The state of each of a file's first max_strip pages, for its page strip.
enum class StripPage : uint8_t { Absent, Cached, Dirty, Readahead /* cached, PG_readahead */ };
struct FileCache {
    std::string path;
    uint64_t ino = 0, size = 0;
    uint64_t cached = 0, dirty = 0, writeback = 0, mapped = 0;  // pages
    std::vector<RaWindow> ra;                                   // one per open file of it
    std::vector<StripPage> strip;                               // pages 0 .. min(file pages, max_strip) - 1
    static constexpr uint64_t max_strip = 2048;
    std::string last_ra;       // its newest read-ahead: the Linux path and what it read
    uint64_t last_ra_seq = 0;  // that decision's number (0: none)
};
// Every file with pages in the page cache, most cached first (from the mappings, not mem_map).
std::vector<FileCache> page_cache(const BuddyAllocator& buddy);

// --- Swap and reclaim --------------------------------------------------------------------

// One active swap area, as /proc/swaps shows it, with its part of the swap cache.
struct SwapArea {
    unsigned type = 0;
    std::string file;
    int prio = 0;
    uint64_t pages = 0;   // usable slots
    uint64_t inuse = 0;   // slots in use
    uint64_t cached = 0;  // of this area's slots, those with a page in the swap cache
};
// What reclaim and swap have done: the areas, the swap cache, the LRU lists (the node's
// lruvec), and the vm events /proc/vmstat counts.
struct ReclaimInfo {
    std::vector<SwapArea> areas;
    uint64_t swapcache = 0;                    // pages (total_swapcache_pages)
    std::array<uint64_t, NR_LRU_LISTS> lru{};  // pages on each list (lruvec_page_state)
    uint64_t pswpin = 0, pswpout = 0;          // pages read from and written to swap
    uint64_t kswapd_runs = 0;                  // pageoutrun: balance_pgdat passes of kswapd
    uint64_t pgscan_kswapd = 0, pgsteal_kswapd = 0;
    uint64_t allocstall = 0;  // allocations that reclaimed directly (all zones)
    uint64_t pgscan_direct = 0, pgsteal_direct = 0;
    uint64_t swap_ra = 0, swap_ra_hit = 0;  // swap readahead pages read, and later used
    uint64_t oom_kill = 0;
};
ReclaimInfo reclaim_info(const BuddyAllocator& buddy);
inline constexpr const char* lru_list_names[NR_LRU_LISTS] = {"inactive anon", "active anon", "inactive file",
                                                             "active file", "unevictable"};

// --- Counters ----------------------------------------------------------------------------

// /proc/meminfo's main figures, in pages, and the fault counters: from counters kept as pages
// change state and from the page-cache mappings, never a scan of mem_map.
struct MemCounters {
    uint64_t total = 0, free = 0, cached = 0, anon = 0, slab = 0, page_tables = 0, kernel_stack = 0, vmalloc = 0,
             shmem = 0, dirty = 0, swapcache = 0, high_total = 0, high_free = 0;
    uint64_t swap_total = 0, swap_free = 0;  // slots of the active swap areas
    uint64_t pgfault = 0, pgmajfault = 0;
};
MemCounters mem_counters(const Kernel& kernel);

}  // namespace guestos::inspect
