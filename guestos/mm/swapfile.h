// Swap areas (mm/swapfile.c): a file made by mkswap becomes a swap_info_struct whose
// swap_map counts, per page slot, the swap PTEs and the swap cache holding it. Slots are
// handed out by scan_swap_map_slots and come back when the last reference goes.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "devices/block_device.h"
#include "guestos/include/swapops.h"
#include "guestos/include/page.h"
#include "guestos/mm/workingset.h"

namespace guestos {

struct mm_struct;

// swap_map values (swap.h): a count of PTE references below SWAP_MAP_MAX, SWAP_HAS_CACHE
// while the swap cache holds the page, SWAP_MAP_BAD for the header and bad pages, and
// COUNT_CONTINUED when the count goes on in swap_map_continued.
inline constexpr uint8_t SWAP_HAS_CACHE = 0x40;
inline constexpr uint8_t SWAP_MAP_MAX = 0x3e;
inline constexpr uint8_t SWAP_MAP_BAD = 0x3f;
inline constexpr uint8_t COUNT_CONTINUED = 0x80;
// swap_info_struct flags.
inline constexpr unsigned SWP_USED = 1u << 0;
inline constexpr unsigned SWP_WRITEOK = 1u << 1;
// Most bad pages a header may list (MAX_SWAP_BADPAGES for 4 KiB pages).
inline constexpr uint32_t MAX_SWAP_BADPAGES = 637;

// One active swap area (struct swap_info_struct).
struct swap_info_struct {
    unsigned flags = 0;
    int prio = 0;
    unsigned type = 0;
    uint64_t max = 0;    // slots in swap_map (last_page + 1)
    uint64_t pages = 0;  // usable slots: max less the header and bad pages
    uint64_t inuse_pages = 0;
    uint64_t lowest_bit = 0, highest_bit = 0;  // the range scan_swap_map_slots searches
    uint64_t cluster_next = 1;                 // where the next scan starts
    std::vector<uint8_t> swap_map;
    std::unordered_map<uint64_t, uint64_t> swap_map_continued;  // count / (SWAP_MAP_MAX + 1)
    std::unique_ptr<devices::BlockDevice> bdev;                 // the swap file's sectors
    std::string swap_file;                                      // the name /proc/swaps shows
    // The swap cache of this area (swapper_spaces[type]): slot -> pfn of the page.
    std::unordered_map<uint64_t, uint32_t> swap_cache;
    // The shadow entries reclaim left in the swap cache, slot -> shadow (value entries in
    // the swap cache's xarray in Linux); they go with the slot (clear_shadow_from_swap_cache).
    std::unordered_map<uint64_t, shadow_t> swap_shadow;
};

// Activates the mkswap-made host file at path as a swap area (sys_swapon's work:
// claim_swapfile, read_swap_header, setup_swap_map_and_extents, enable_swap_info), its
// slots limited to what a swap PTE of mode can address, at priority prio (0..32767), or
// with prio -1 below every area so far (-2, -3, ...: --least_priority). Returns the type;
// an error says what is wrong with the file, naming it.
[[nodiscard]] mmu::ErrorOr<unsigned> swapon_file(const std::string& path, mmu::PagingMode mode, int prio = -1);
// Checks a swap header page (read_swap_header): the SWAPSPACE2 magic, version 1,
// last_page against the file's size in pages, the bad-page list. Returns the last_page.
[[nodiscard]] mmu::ErrorOr<uint64_t> read_swap_header(const uint8_t* header, uint64_t file_pages, bool regular_file);
// Deactivates the area of type (sys_swapoff): every page in it comes back into RAM first
// (try_to_unuse); 0, or -ENOMEM when RAM cannot take them (the area stays active).
long swapoff_type(PageAllocator& pa, unsigned type);
// The active area swapped on from path, or -1.
int swap_type_of(const std::string& path);

// The active area an entry points into, or null for a bad entry (get_swap_device).
swap_info_struct* swp_swap_info(swp_entry_t entry);
// A free slot with SWAP_HAS_CACHE set, from the highest-priority area with room, areas of
// equal priority taking turns (get_swap_pages -> scan_swap_map_slots, plist_requeue on
// swap_avail_heads); val 0 when every area is full.
swp_entry_t get_swap_page();
// One more PTE references the slot (swap_duplicate: fork, try_to_unmap); false for a
// bad or free entry.
bool swap_duplicate(swp_entry_t entry);
// Marks the slot as cached (swapcache_prepare); -EEXIST if already, -ENOENT if free.
int swapcache_prepare(swp_entry_t entry);
// One PTE reference fewer (swap_free); the slot is free once nothing references it.
void swap_free(swp_entry_t entry);
// The swap cache lets go of the slot (put_swap_folio / swapcache_free).
void put_swap_page(swp_entry_t entry);
// The PTE references to a slot (__swap_count / swap_swapcount).
uint64_t __swap_count(swp_entry_t entry);
// A PTE's entry is gone (zap, munmap, exit): swap_free, and the cached page goes too when
// nothing else uses it (free_swap_and_cache).
void free_swap_and_cache(PageAllocator& pa, swp_entry_t entry);
// Drops a cached page's swap slot when no PTE refers to it any more (try_to_free_swap);
// true if it did.
bool try_to_free_swap(PageAllocator& pa, page& p);

// The active areas by type (swap_info[], the ones in use), for inspection.
std::vector<const swap_info_struct*> swap_areas();
// Free and total usable slots of the active areas (get_nr_swap_pages, total_swap_pages).
uint64_t get_nr_swap_pages();
uint64_t total_swap_pages();
// More than half the swap is in use (vm_swap_full).
bool vm_swap_full();
// /proc/swaps (swap_show).
std::string proc_swaps();

// The mms that may hold swap entries (init_mm.mmlist): try_to_unmap and fork add them,
// their teardown removes them, swapoff walks them.
void mmlist_add(mm_struct& mm);
void mmlist_del(mm_struct& mm);
// The mms on the mmlist, for checks.
std::vector<mm_struct*> mmlist_mms();

// Deactivates every area without bringing pages back: for tests and shutdown.
void swap_reset_all();

// --check-mm: every slot's count equals the swap PTEs that hold it (swap_ptes: entry ->
// PTEs found in every mm), and SWAP_HAS_CACHE equals presence in the swap cache.
std::vector<std::string> check_swap_map(const std::unordered_map<uint64_t, uint64_t>& swap_ptes);

}  // namespace guestos
