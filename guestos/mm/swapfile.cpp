// Swap areas and their slot counts (Linux mm/swapfile.c).
#include "guestos/mm/swapfile.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>

#include "guestos/include/cred.h"
#include "guestos/include/kernel.h"
#include "guestos/include/mm_types.h"
#include "guestos/include/syscalls.h"
#include "guestos/mm/shmem.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/swap_state.h"

namespace guestos {

namespace {

std::array<std::unique_ptr<swap_info_struct>, MAX_SWAPFILES> swap_info;
int64_t nr_swap_pages = 0;       // free slots of the active areas (atomic_long_t nr_swap_pages)
uint64_t total_swap_pages_ = 0;  // usable slots of the active areas
int least_priority = -1;
// The areas that take new slots, highest priority first, each after the areas of its own
// priority that were used less recently (swap_avail_heads, one node).
std::vector<swap_info_struct*> swap_avail_head;
std::set<std::string> host_swap_files;  // the files --swap named: what swapon(2) may reopen
std::set<mm_struct*> mmlist;

// The swap_map count of a slot, continuation included (swap_count + swap_count_continued).
uint64_t slot_count(const swap_info_struct& si, uint64_t offset) {
    const uint8_t m = si.swap_map[offset];
    if (m == SWAP_MAP_BAD) return 0;
    uint64_t c = m & ~(SWAP_HAS_CACHE | COUNT_CONTINUED);
    if (m & COUNT_CONTINUED) c += si.swap_map_continued.at(offset) * (SWAP_MAP_MAX + 1);
    return c;
}

// The slot went from used to free (swap_range_free).
void swap_range_free(swap_info_struct& si, uint64_t offset) {
    si.swap_map[offset] = 0;
    si.swap_shadow.erase(offset);  // clear_shadow_from_swap_cache
    si.lowest_bit = std::min(si.lowest_bit, offset);
    si.highest_bit = std::max(si.highest_bit, offset);
    --si.inuse_pages;
    ++nr_swap_pages;
}

// A free slot of si at or after cluster_next, wrapping once (scan_swap_map_slots for a
// rotating disk: no per-cpu clusters); the slot is taken with SWAP_HAS_CACHE. 0: none.
uint64_t scan_swap_map_slots(swap_info_struct& si) {
    if (si.inuse_pages == si.pages) return 0;
    uint64_t offset = std::clamp(si.cluster_next, si.lowest_bit, si.highest_bit);
    for (uint64_t tried = 0; tried <= si.highest_bit - si.lowest_bit; ++tried) {
        if (!si.swap_map[offset]) {
            si.swap_map[offset] = SWAP_HAS_CACHE;
            ++si.inuse_pages;
            --nr_swap_pages;
            if (offset == si.lowest_bit) ++si.lowest_bit;  // swap_range_alloc
            if (offset == si.highest_bit && si.highest_bit > si.lowest_bit) --si.highest_bit;
            si.cluster_next = offset + 1;
            return offset;
        }
        offset = offset >= si.highest_bit ? si.lowest_bit : offset + 1;
    }
    return 0;
}

// The area and slot of a valid, in-range entry (__swap_info_get), else null.
swap_info_struct* swap_info_get(swp_entry_t entry, uint64_t& offset) {
    swap_info_struct* si = swp_swap_info(entry);
    offset = swp_offset(entry);
    if (!si || offset == 0 || offset >= si->max || si->swap_map[offset] == SWAP_MAP_BAD) return nullptr;
    return si;
}

// Drops one PTE reference from a slot (__swap_entry_free_locked's count part).
void swap_count_dec(swap_info_struct& si, uint64_t offset) {
    uint8_t& m = si.swap_map[offset];
    uint8_t low = m & ~(SWAP_HAS_CACHE | COUNT_CONTINUED);
    if (low) {
        --low;
    } else if (m & COUNT_CONTINUED) {  // borrow from the continuation
        low = SWAP_MAP_MAX;
        if (--si.swap_map_continued[offset] == 0) {
            si.swap_map_continued.erase(offset);
            m &= ~COUNT_CONTINUED;
        }
    }
    m = static_cast<uint8_t>((m & (SWAP_HAS_CACHE | COUNT_CONTINUED)) | low);
}

// Puts si on swap_avail_head after every area of its priority or higher (add_to_avail_list's
// plist_add).
void add_to_avail_list(swap_info_struct& si) {
    auto it = std::find_if(swap_avail_head.begin(), swap_avail_head.end(),
                           [&](const swap_info_struct* o) { return o->prio < si.prio; });
    swap_avail_head.insert(it, &si);
}

// Takes si off swap_avail_head (del_from_avail_list).
void del_from_avail_list(swap_info_struct& si) { std::erase(swap_avail_head, &si); }

// enable_swap_info -> setup_swap_info: the area joins the active list at prio, or below
// every area so far when no priority was asked for.
void enable_swap_info(swap_info_struct& si, int prio) {
    si.prio = prio >= 0 ? prio : --least_priority;
    add_to_avail_list(si);
    si.flags |= SWP_WRITEOK;
    nr_swap_pages += static_cast<int64_t>(si.pages);
    total_swap_pages_ += si.pages;
}

uint32_t le32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

}  // namespace

mmu::ErrorOr<uint64_t> read_swap_header(const uint8_t* h, uint64_t file_pages, bool regular_file) {
    // union swap_header: info at offset 1024 (bootbits), the magic in the page's last 10 bytes.
    if (std::memcmp(h + PAGE_SIZE - 10, "SWAPSPACE2", 10) != 0)
        return base::Error::from_errno(EINVAL, "Unable to find swap-space signature");
    const uint32_t version = le32(h + 1024), last_page = le32(h + 1028), nr_badpages = le32(h + 1032);
    if (version != 1)
        return base::Error::from_errno(EINVAL, "Unable to handle swap header version " + std::to_string(version));
    if (!last_page) return base::Error::from_errno(EINVAL, "Empty swap-file");
    if (file_pages && last_page + 1ull > file_pages)
        return base::Error::from_errno(EINVAL, "Swap area shorter than signature indicates (last_page " +
                                                   std::to_string(last_page) + ", file " + std::to_string(file_pages) +
                                                   " pages)");
    if (nr_badpages && regular_file)
        return base::Error::from_errno(EINVAL,
                                       "a swap file may not list bad pages (" + std::to_string(nr_badpages) + ")");
    if (nr_badpages > MAX_SWAP_BADPAGES)
        return base::Error::from_errno(EINVAL, "too many bad pages (" + std::to_string(nr_badpages) + ")");
    // badpages[] follows info's 3 words, uuid[16], volume[16] and padding[117].
    const uint8_t* bad = h + 1024 + 12 + 32 + 117 * 4;
    for (uint32_t i = 0; i < nr_badpages; ++i)
        if (uint32_t b = le32(bad + 4 * i); b == 0 || b > last_page)
            return base::Error::from_errno(EINVAL, "bad page " + std::to_string(b) + " out of range");
    if (nr_badpages >= last_page) return base::Error::from_errno(EINVAL, "Empty swap-file");
    return static_cast<uint64_t>(last_page);
}

mmu::ErrorOr<unsigned> swapon_file(const std::string& path, mmu::PagingMode mode, int prio) {
    auto fail = [&](const base::Error& e) { return base::Error::from_errno(e.errno_value, path + ": " + e.message); };
    if (swap_type_of(path) >= 0) return base::Error::from_errno(EBUSY, path + ": already a swap area");
    unsigned type = 0;
    while (type < MAX_SWAPFILES && swap_info[type]) ++type;
    if (type == MAX_SWAPFILES) return base::Error::from_errno(EPERM, path + ": too many swap areas");
    auto bdev = TRY(devices::BlockDevice::open(path, devices::BlockDevice::Mode::ReadWrite));
    std::vector<uint8_t> header(PAGE_SIZE);
    if (bdev->size_bytes() < PAGE_SIZE || bdev->read(0, header.data(), PAGE_SIZE) < 0)
        return base::Error::from_errno(EINVAL, path + ": too small for a swap header");
    auto last = read_swap_header(header.data(), bdev->size_bytes() >> PAGE_SHIFT, true);
    if (last.is_error()) return fail(last.error());
    uint64_t maxpages = std::min(*last + 1, swapfile_maximum_size(mode));  // "Truncating oversized swap area"
    auto si = std::make_unique<swap_info_struct>();
    si->type = type;
    si->flags = SWP_USED;
    si->max = maxpages;
    si->swap_map.assign(maxpages, 0);
    si->swap_map[0] = SWAP_MAP_BAD;  // the header
    si->pages = maxpages - 1;
    si->lowest_bit = 1;
    si->highest_bit = maxpages - 1;
    si->bdev = std::move(bdev);
    si->swap_file = path;
    host_swap_files.insert(path);
    if (!si->pages) return fail(base::Error::from_errno(EINVAL, "Empty swap-file"));
    enable_swap_info(*si, prio);
    swap_info[type] = std::move(si);
    return type;
}

int swap_type_of(const std::string& path) {
    for (unsigned t = 0; t < MAX_SWAPFILES; ++t)
        if (swap_info[t] && swap_info[t]->swap_file == path) return static_cast<int>(t);
    return -1;
}

swap_info_struct* swp_swap_info(swp_entry_t entry) {
    const unsigned type = swp_type(entry);
    return type < MAX_SWAPFILES ? swap_info[type].get() : nullptr;
}

swp_entry_t get_swap_page() {
    // plist_for_each_entry_safe over swap_avail_heads: the highest priority first, each area
    // tried requeued behind its equals, so areas of one priority take turns.
    const std::vector<swap_info_struct*> avail = swap_avail_head;
    for (swap_info_struct* si : avail) {
        del_from_avail_list(*si);  // plist_requeue
        add_to_avail_list(*si);
        if (uint64_t offset = scan_swap_map_slots(*si)) return swp_entry(si->type, offset);
    }
    return {};
}

bool swap_duplicate(swp_entry_t entry) {
    uint64_t offset;
    swap_info_struct* si = swap_info_get(entry, offset);
    if (!si || !si->swap_map[offset]) return false;
    uint8_t& m = si->swap_map[offset];
    uint8_t low = m & ~(SWAP_HAS_CACHE | COUNT_CONTINUED);
    if (low < SWAP_MAP_MAX) {
        ++low;
    } else {  // add_swap_count_continuation: carry into the next digit
        low = 0;
        ++si->swap_map_continued[offset];
        m |= COUNT_CONTINUED;
    }
    m = static_cast<uint8_t>((m & (SWAP_HAS_CACHE | COUNT_CONTINUED)) | low);
    return true;
}

int swapcache_prepare(swp_entry_t entry) {
    uint64_t offset;
    swap_info_struct* si = swap_info_get(entry, offset);
    if (!si || !si->swap_map[offset]) return -ENOENT;
    if (si->swap_map[offset] & SWAP_HAS_CACHE) return -EEXIST;
    si->swap_map[offset] |= SWAP_HAS_CACHE;
    return 0;
}

void swap_free(swp_entry_t entry) {
    uint64_t offset;
    swap_info_struct* si = swap_info_get(entry, offset);
    if (!si || !slot_count(*si, offset)) return;
    swap_count_dec(*si, offset);
    if (!si->swap_map[offset]) swap_range_free(*si, offset);
}

void put_swap_page(swp_entry_t entry) {
    uint64_t offset;
    swap_info_struct* si = swap_info_get(entry, offset);
    if (!si || !(si->swap_map[offset] & SWAP_HAS_CACHE)) return;
    si->swap_map[offset] &= ~SWAP_HAS_CACHE;
    if (!si->swap_map[offset]) swap_range_free(*si, offset);
}

uint64_t __swap_count(swp_entry_t entry) {
    uint64_t offset;
    swap_info_struct* si = swap_info_get(entry, offset);
    return si ? slot_count(*si, offset) : 0;
}

bool try_to_free_swap(PageAllocator& pa, page& p) {
    if (!(p.flags & PG_swapcache) || (p.flags & PG_writeback)) return false;
    if (__swap_count(swp_entry_t{p.private_})) return false;
    delete_from_swap_cache(pa, p);  // also sets the page dirty: its only copy is now in RAM
    return true;
}

void free_swap_and_cache(PageAllocator& pa, swp_entry_t entry) {
    uint64_t offset;
    swap_info_struct* si = swap_info_get(entry, offset);
    if (!si) return;
    swap_free(entry);
    // __try_to_reclaim_swap: a cached page nothing maps and nothing else refers to goes.
    if (si->swap_map[offset] == SWAP_HAS_CACHE) {
        if (auto pfn = lookup_swap_cache(entry)) {
            page& p = pa.pfn_to_page(*pfn);
            if (p._mapcount < 0) (void)try_to_free_swap(pa, p);
        }
    }
}

std::vector<const swap_info_struct*> swap_areas() {
    std::vector<const swap_info_struct*> out;
    for (const auto& si : swap_info)
        if (si) out.push_back(si.get());
    return out;
}

uint64_t get_nr_swap_pages() { return static_cast<uint64_t>(std::max<int64_t>(nr_swap_pages, 0)); }
uint64_t total_swap_pages() { return total_swap_pages_; }
bool vm_swap_full() { return get_nr_swap_pages() * 2 < total_swap_pages_; }

std::string proc_swaps() {
    std::string s = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    for (auto& si : swap_info) {
        if (!si || !(si->flags & SWP_WRITEOK)) continue;
        const uint64_t bytes = si->pages * (PAGE_SIZE / 1024), inuse = si->inuse_pages * (PAGE_SIZE / 1024);
        const size_t len = si->swap_file.size();
        char line[512];
        std::snprintf(line, sizeof line, "%s%*s%s\t%llu\t%s%llu\t%s%d\n", si->swap_file.c_str(),
                      static_cast<int>(len < 40 ? 40 - len : 1), " ", "file\t", static_cast<unsigned long long>(bytes),
                      bytes < 10000000 ? "\t" : "", static_cast<unsigned long long>(inuse),
                      inuse < 10000000 ? "\t" : "", si->prio);
        s += line;
    }
    return s;
}

namespace {

// Brings back every page of area `type` an mm's PTEs hold, as read faults would
// (unuse_mm -> unuse_pte_range); false when a page could not be brought in.
bool unuse_mm(mm_struct& mm, unsigned type) {
    for (vm_area_struct& v : mm.mm_rb) {
        for (uint64_t va = v.vm_start.value; va < v.vm_end.value; va += PAGE_SIZE) {
            const pte_t pte = get_pte(mm, VirtAddr(va));
            if (!is_swap_pte(pte) || swp_type(pte_to_swp_entry(mm.paging_mode, pte)) != type) continue;
            if (handle_mm_fault(mm, v, VirtAddr(va), 0) & VM_FAULT_ERROR) return false;
        }
    }
    return true;
}

}  // namespace

long swapoff_type(PageAllocator& pa, unsigned type) {
    swap_info_struct* si = type < MAX_SWAPFILES ? swap_info[type].get() : nullptr;
    if (!si) return -EINVAL;
    // del_from_avail_list: nothing new goes to this area while it drains.
    del_from_avail_list(*si);
    si->flags &= ~SWP_WRITEOK;
    nr_swap_pages -= static_cast<int64_t>(si->pages);  // its slots come back as they are freed
    total_swap_pages_ -= si->pages;
    // try_to_unuse: every mm that may hold entries, then the pages only the cache holds.
    bool ok = true;
    ok = shmem_unuse(type);
    for (mm_struct* mm : std::vector<mm_struct*>(mmlist.begin(), mmlist.end())) ok = ok && unuse_mm(*mm, type);
    std::vector<uint32_t> cached;
    for (const auto& [off, pfn] : si->swap_cache) cached.push_back(pfn);
    for (uint32_t pfn : cached) {
        page& p = pa.pfn_to_page(pfn);
        if (__swap_count(swp_entry_t{p.private_})) continue;
        if (p._mapcount < 0 && !(p.flags & PG_lru)) continue;  // isolated by reclaim right now
        delete_from_swap_cache(pa, p);
    }
    if (!ok || si->inuse_pages) {  // reinsert_swap_info: the area stays as it was
        add_to_avail_list(*si);
        si->flags |= SWP_WRITEOK;
        nr_swap_pages += static_cast<int64_t>(si->pages);
        total_swap_pages_ += si->pages;
        return -ENOMEM;
    }
    // The areas of automatic priority below it move up one, so the next swapon's
    // priority follows the last area's again.
    if (si->prio < 0) {
        for (auto& o : swap_info)
            if (o && o.get() != si && o->prio < si->prio) ++o->prio;
        ++least_priority;
    }
    swap_info[type].reset();
    return 0;
}

namespace {

// SWAP_FLAG_PREFER | SWAP_FLAG_PRIO_MASK | SWAP_FLAG_DISCARD | _ONCE | _PAGES.
constexpr uint64_t SWAP_FLAGS_VALID = 0x7ffff;
constexpr uint64_t PATH_MAX_ = 4096;

// The path a swapon/swapoff names, after the checks Linux makes first: CAP_SYS_ADMIN
// (EPERM), a readable name (EFAULT, ENAMETOOLONG), a file the guest can open read-write
// (file_open_name: ENOENT, EACCES, EROFS, ...). A --swap file is emu's like a disk is a
// device's: it needs no name in the guest's tree. 0 and the path, or a negative errno.
long swap_path(SysCtx& c, uint64_t user_path, std::string& path) {
    if (!capable(CAP_SYS_ADMIN_)) return -EPERM;
    const long n = strncpy_from_user(c.mm, VirtAddr(user_path), PATH_MAX_, path);
    if (n < 0) return n;
    if (static_cast<uint64_t>(n) == PATH_MAX_) return -ENAMETOOLONG;
    if (host_swap_files.count(path)) return 0;
    const uint64_t open_args[6] = {static_cast<uint64_t>(static_cast<int64_t>(AT_FDCWD_)),
                                   user_path,
                                   O_RDWR_ | O_LARGEFILE_ | O_CLOEXEC_,
                                   0,
                                   0,
                                   0};
    const long fd = sys_openat(c, open_args);
    if (fd < 0) return fd;
    const uint64_t close_args[6] = {static_cast<uint64_t>(fd), 0, 0, 0, 0, 0};
    (void)sys_close(c, close_args);
    return 0;
}

}  // namespace

// swapon(2): only the files --swap named can be swap areas (a swap file on the guest's own
// filesystems needs bmap, which emu's filesystems lack: EINVAL, as tmpfs gives on Linux).
long sys_swapon(SysCtx& c, const uint64_t* a) {
    constexpr uint64_t SWAP_FLAG_PREFER = 0x8000, SWAP_FLAG_PRIO_MASK = 0x7fff, SWAP_FLAG_PRIO_SHIFT = 0;
    if (a[1] & ~SWAP_FLAGS_VALID) return -EINVAL;
    const int prio =
        (a[1] & SWAP_FLAG_PREFER) ? static_cast<int>((a[1] & SWAP_FLAG_PRIO_MASK) >> SWAP_FLAG_PRIO_SHIFT) : -1;
    std::string path;
    if (long r = swap_path(c, a[0], path); r < 0) return r;
    if (swap_type_of(path) >= 0) return -EBUSY;
    if (!host_swap_files.count(path)) return -EINVAL;
    auto type = swapon_file(path, c.mm.paging_mode, prio);
    return type.is_error() ? -type.error().errno_value : 0;
}

// swapoff(2): brings the area's pages back (try_to_unuse) and deactivates it.
long sys_swapoff(SysCtx& c, const uint64_t* a) {
    std::string path;
    if (long r = swap_path(c, a[0], path); r < 0) return r;
    const int type = swap_type_of(path);
    if (type < 0) return -EINVAL;
    return swapoff_type(c.kernel.page_alloc(), static_cast<unsigned>(type));
}

void mmlist_add(mm_struct& mm) { mmlist.insert(&mm); }
void mmlist_del(mm_struct& mm) { mmlist.erase(&mm); }
std::vector<mm_struct*> mmlist_mms() { return {mmlist.begin(), mmlist.end()}; }

void swap_reset_all() {
    for (auto& si : swap_info) si.reset();
    swap_avail_head.clear();
    nr_swap_pages = total_swap_pages_ = 0;
    least_priority = -1;
}

std::vector<std::string> check_swap_map(const std::unordered_map<uint64_t, uint64_t>& swap_ptes) {
    std::vector<std::string> problems;
    for (auto& si : swap_info) {
        if (!si) continue;
        for (uint64_t off = 1; off < si->max; ++off) {
            if (si->swap_map[off] == SWAP_MAP_BAD) continue;
            const swp_entry_t e = swp_entry(si->type, off);
            auto it = swap_ptes.find(e.val);
            const uint64_t ptes = it == swap_ptes.end() ? 0 : it->second;
            const bool cached = si->swap_cache.count(off);
            if (slot_count(*si, off) != ptes || bool(si->swap_map[off] & SWAP_HAS_CACHE) != cached)
                problems.push_back("swap slot " + std::to_string(si->type) + ":" + std::to_string(off) + " counts " +
                                   std::to_string(slot_count(*si, off)) + " (cache " +
                                   std::to_string(si->swap_map[off] & SWAP_HAS_CACHE ? 1 : 0) + "), PTEs hold " +
                                   std::to_string(ptes) + " (cache " + std::to_string(cached) + ")");
        }
    }
    return problems;
}

}  // namespace guestos
