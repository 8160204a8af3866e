// Read-only queries of the OS's memory state for debuggers (see inspect.h for the contract).
#include "guestos/mm/inspect.h"

#include <algorithm>
#include <map>

#include "guestos/fs/proc/base.h"
#include "guestos/include/fs.h"
#include "guestos/include/kernel.h"
#include "guestos/include/mount.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/readahead.h"
#include "guestos/mm/rmap.h"
#include "guestos/mm/slub.h"
#include "guestos/mm/swap_state.h"
#include "guestos/mm/swapfile.h"
#include "guestos/include/swapops.h"

namespace guestos::inspect {

namespace {

// The name of the entry at `level` in `mode` (Intel's names).
const char* level_name(mmu::PagingMode mode, int level) {
    switch (level) {
    case 4: return "PML4E";
    case 3: return "PDPTE";
    case 2: return "PDE";
    default: return "PTE";
    }
}

// The frame a leaf maps va into: 4 KiB frames, or the large page's base plus va's offset in it.
PhysAddr leaf_phys(mmu::PagingMode mode, int level, uint64_t entry, VirtAddr va) {
    const uint64_t span = mmu::level_span(mode, level);
    const uint64_t base = entry & mmu::frame_mask(mode) & ~(span - 1);
    return PhysAddr(base + (va.value & (span - 1)));
}

}  // namespace

std::vector<EntryBit> entry_bits(mmu::PagingMode mode, int level, uint64_t entry) {
    std::vector<EntryBit> bits = {
        {"P", (entry & mmu::_PAGE_PRESENT) != 0}, {"RW", (entry & mmu::_PAGE_RW) != 0},
        {"US", (entry & mmu::_PAGE_USER) != 0},   {"PWT", (entry & mmu::_PAGE_PWT) != 0},
        {"PCD", (entry & mmu::_PAGE_PCD) != 0},   {"A", (entry & mmu::_PAGE_ACCESSED) != 0},
        {"D", (entry & mmu::_PAGE_DIRTY) != 0},   {"PS", level > 1 && (entry & mmu::_PAGE_PSE) != 0},
        {"G", (entry & mmu::_PAGE_GLOBAL) != 0},
    };
    if (mode != mmu::PagingMode::Legacy32) bits.push_back({"NX", (entry & mmu::_PAGE_NX) != 0});
    return bits;
}

PageWalk page_walk(const mm_struct& mm, VirtAddr va) {
    PageWalk w;
    w.va = va;
    w.mode = mm.paging_mode;
    w.root = mmu::root_table(mm.paging_mode, mm.pgd);
    if (!mm.ram || !mmu::va_in_range(w.mode, va)) {
        w.stopped = "address out of range for this paging mode";
        return w;
    }
    mmu::RamBus bus(*mm.ram);
    PhysAddr table = w.root;
    for (int level = mmu::levels(w.mode); level >= 1; --level) {
        WalkLevel l;
        l.level = level;
        l.name = level_name(w.mode, level);
        l.table = table;
        l.index = static_cast<unsigned>(mmu::table_index(w.mode, level, va));
        l.entry_addr = mmu::entry_addr(w.mode, table, level, va);
        l.entry = mmu::read_entry(bus, w.mode, l.entry_addr);
        l.present = l.entry & mmu::_PAGE_PRESENT;
        l.leaf = l.present && (level == 1 || mmu::is_large_entry(w.mode, level, l.entry));
        if (l.present)
            l.next_pfn = (l.leaf ? leaf_phys(w.mode, level, l.entry, va) : mmu::pte_frame(w.mode, l.entry)).pfn();
        w.levels.push_back(l);
        if (!l.present) {
            w.stopped = std::string(l.name) + (l.entry ? " not present (swap or special entry)" : " not present");
            return w;
        }
        if (l.leaf) {
            w.phys = leaf_phys(w.mode, level, l.entry, va);
            return w;
        }
        table = mmu::pte_frame(w.mode, l.entry);
    }
    return w;
}

bool read_virtual(const mm_struct& mm, VirtAddr va, void* dst, uint64_t n) {
    auto* out = static_cast<uint8_t*>(dst);
    while (n) {
        const PageWalk w = page_walk(mm, va);
        const uint64_t chunk = std::min<uint64_t>(n, PAGE_SIZE - (va.value & (PAGE_SIZE - 1)));
        const uint8_t* src = w.phys ? mm.ram->host(*w.phys, chunk) : nullptr;
        if (!src) return false;
        std::copy(src, src + chunk, out);
        out += chunk, n -= chunk, va = va + chunk;
    }
    return true;
}

namespace {

// One page's bytes [va, va+n) that no PTE maps, as a read fault would fill them.
bool read_unmapped_page(const mm_struct& mm, VirtAddr va, uint8_t* out, uint64_t n) {
    const vm_area_struct* vma = mm.mm_rb.find_vma(va);
    if (!vma || vma->vm_start > va || !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) return false;
    if (vma->is_anonymous()) {  // do_anonymous_page would map the zero page
        std::fill(out, out + n, 0);
        return true;
    }
    const uint64_t index = vma->vm_pgoff + (va.value - vma->vm_start.value) / PAGE_SIZE;
    std::optional<PhysAddr> frame;
    if (PhysAddr f; vma->vm_special) {  // the kernel's own page, as special_mapping_fault finds it
        if (!vma->vm_special->fault(*vma->vm_special, index, f)) frame = f;
    } else {
        frame = find_get_page(vma->vm_file->f_inode->i_mapping(), index);
    }
    const uint8_t* src = frame ? mm.ram->host(*frame + (va.value & (PAGE_SIZE - 1)), n) : nullptr;
    if (!src) return false;
    std::copy(src, src + n, out);
    return true;
}

}  // namespace

bool read_user(const mm_struct& mm, VirtAddr va, void* dst, uint64_t n) {
    auto* out = static_cast<uint8_t*>(dst);
    while (n) {
        const uint64_t chunk = std::min<uint64_t>(n, PAGE_SIZE - (va.value & (PAGE_SIZE - 1)));
        if (!mm.ram) return false;
        mmu::RamBus bus(*mm.ram);
        auto slot =
            mmu::va_in_range(mm.paging_mode, va) ? mmu::pte_lookup(bus, mm.paging_mode, mm.pgd, va) : std::nullopt;
        const pte_t pte = __pte(slot ? mmu::read_entry(bus, mm.paging_mode, *slot) : 0);
        if (pte_hw_present(pte)) {
            if (!read_virtual(mm, va, out, chunk)) return false;
        } else if (!pte_none(pte) || !read_unmapped_page(mm, va, out, chunk)) {
            return false;  // a swap entry or PROT_NONE page, or nothing to read
        }
        out += chunk, n -= chunk, va = va + chunk;
    }
    return true;
}

bool read_physical(const mmu::PhysMemory& ram, PhysAddr pa, void* dst, uint64_t n) {
    if (pa.value + n < pa.value || pa.value + n > ram.size()) return false;
    const uint8_t* src = n ? ram.host(pa, n) : nullptr;
    if (n && !src) return false;
    std::copy(src, src + n, static_cast<uint8_t*>(dst));
    return true;
}

const char* frame_use_name(FrameUse u) {
    static constexpr const char* names[NR_FRAME_USES] = {
        "free (buddy)", "free (per-cpu list)", "reserved", "kernel",  "page table", "slab",      "anon",
        "page cache",   "page cache (dirty)",  "shmem",    "vmalloc", "zero page",  "swap cache"};
    return names[static_cast<unsigned>(u)];
}

namespace {

// The use of an allocated (not free) frame.
FrameUse allocated_use(const page& p, uint64_t pfn, PhysAddr zero_page) {
    if (p.flags & PG_swapcache) return FrameUse::SwapCache;
    switch (p.use) {
    case PageUse::Free: return FrameUse::FreePcp;
    case PageUse::Reserved: return pfn == zero_page.pfn() ? FrameUse::ZeroPage : FrameUse::Reserved;
    case PageUse::PageTable: return FrameUse::PageTable;
    case PageUse::Anon: return FrameUse::Anon;
    case PageUse::Slab: return FrameUse::Slab;
    case PageUse::Vmalloc: return FrameUse::Vmalloc;
    case PageUse::File:
        if (p.flags & PG_swapbacked) return FrameUse::Shmem;
        return (p.flags & (PG_dirty | PG_writeback)) ? FrameUse::FileDirty : FrameUse::FileClean;
    case PageUse::KernelStack:
    case PageUse::Other: return FrameUse::Kernel;
    }
    return FrameUse::Kernel;
}

}  // namespace

void frame_map(const BuddyAllocator& buddy, PhysAddr zero_page, FrameMap& map) {
    const uint64_t n = buddy.max_pfn();
    map.use.assign(n, FrameUse::Reserved);
    map.free_order.assign(n, 0);
    map.count.fill(0);
    map.max_low_pfn = buddy.max_low_pfn();
    map.zones.clear();
    for (unsigned t = 0; t < MAX_NR_ZONES; ++t) {
        const zone& z = buddy.zone_at(static_cast<zone_type>(t));
        if (z.populated()) map.zones.push_back({z.name, z.zone_start_pfn, z.zone_end_pfn()});
    }
    for (uint64_t pfn = 0; pfn < n;) {
        const page& p = buddy.pfn_page(pfn);
        const bool deferred = buddy.pfn_deferred(pfn);  // a free MAX_PAGE_ORDER block not yet listed
        if ((p.flags & PG_buddy) || deferred) {         // a free block: its head carries the order
            const unsigned order = deferred ? MAX_PAGE_ORDER : p.order;
            const uint64_t end = std::min<uint64_t>(n, pfn + (1ull << order));
            std::fill(map.use.begin() + pfn, map.use.begin() + end, FrameUse::Free);
            std::fill(map.free_order.begin() + pfn, map.free_order.begin() + end, order);
            map.count[static_cast<unsigned>(FrameUse::Free)] += end - pfn;
            pfn = end;
            continue;
        }
        const FrameUse u = allocated_use(p, pfn, zero_page);
        map.use[pfn] = u;
        ++map.count[static_cast<unsigned>(u)];
        ++pfn;
    }
}

namespace {

std::string page_flag_names(uint32_t flags) {
    static constexpr std::pair<uint32_t, const char*> names[] = {{PG_locked, "locked"},
                                                                 {PG_referenced, "referenced"},
                                                                 {PG_uptodate, "uptodate"},
                                                                 {PG_dirty, "dirty"},
                                                                 {PG_lru, "lru"},
                                                                 {PG_active, "active"},
                                                                 {PG_slab, "slab"},
                                                                 {PG_reserved, "reserved"},
                                                                 {PG_private, "private"},
                                                                 {PG_writeback, "writeback"},
                                                                 {PG_head, "head"},
                                                                 {PG_swapcache, "swapcache"},
                                                                 {PG_swapbacked, "swapbacked"},
                                                                 {PG_anon, "anon"},
                                                                 {PG_pagetable, "pagetable"},
                                                                 {PG_buddy, "buddy"},
                                                                 {PG_tail, "tail"}};
    std::string s;
    for (auto [bit, name] : names)
        if (flags & bit) s += (s.empty() ? "" : "|") + std::string(name);
    return s;
}

// What page->mapping points at, in words.
std::string mapping_name(const page& p) {
    if (!p.mapping) return {};
    if (p.flags & PG_anon) return "anon_vma #" + std::to_string(static_cast<const anon_vma*>(p.mapping)->id);
    if (p.use != PageUse::File) return {};
    const auto* as = static_cast<const address_space*>(p.mapping);
    if (!as->host) return "address_space (no inode)";
    return (as->host->path.empty() ? "(unnamed)" : as->host->path) + " (ino " + std::to_string(as->host->i_ino) + ")";
}

}  // namespace

PageInfo page_info(const BuddyAllocator& buddy, PhysAddr zero_page, uint64_t pfn) {
    PageInfo info;
    info.pfn = pfn;
    if (pfn >= buddy.max_pfn()) return info;
    const page& p = buddy.pfn_page(pfn);
    info.use = (p.flags & PG_buddy) || buddy.pfn_deferred(pfn) ? FrameUse::Free : allocated_use(p, pfn, zero_page);
    const zone_type z = buddy.page_zonenum(pfn);
    info.zone = z < MAX_NR_ZONES ? zone_names[z] : "none";
    info.highmem = buddy.PageHighMem(pfn);
    info.flags = p.flags;
    info.flag_names = page_flag_names(p.flags);
    info.refcount = p._refcount;
    info.mapcount = p._mapcount;
    info.order = p.order;
    info.index = p.index;
    info.mapping = mapping_name(p);
    if ((p.flags & PG_slab) && p.slab_cache)
        info.slab_cache =
            p.slab_cache->name + " (" + std::to_string(p.inuse) + "/" + std::to_string(p.objects) + " objects in use)";
    return info;
}

std::vector<RmapRef> page_rmap(const BuddyAllocator& buddy, uint64_t pfn) {
    std::vector<RmapRef> refs;
    if (pfn >= buddy.max_pfn()) return refs;
    rmap_walk(buddy.pfn_page(pfn), [&](vm_area_struct& vma, VirtAddr address) {
        const mm_struct& mm = *vma.vm_mm;
        const PageWalk w = page_walk(mm, address);
        if (!w.phys || w.phys->pfn() != pfn) return;  // a COW copy or no page there now
        refs.push_back({&mm, address, w.levels.back().entry, show_map_vma(mm, vma)});
    });
    return refs;
}

std::vector<BuddyZone> buddy_zones(const BuddyAllocator& buddy) {
    std::vector<BuddyZone> out;
    const page* mem_map = buddy.mem_map();
    for (unsigned t = 0; t < MAX_NR_ZONES; ++t) {
        const zone& z = buddy.zone_at(static_cast<zone_type>(t));
        if (!z.populated()) continue;
        BuddyZone b;
        b.name = z.name;
        b.start_pfn = z.zone_start_pfn, b.spanned = z.spanned_pages, b.present = z.present_pages;
        b.managed = z.managed_pages;
        b.free_pages = static_cast<uint64_t>(z.nr_free_pages);
        b.pcp_pages = static_cast<uint64_t>(z.pcp.count);
        b.wmark_min = z.min_wmark_pages(), b.wmark_low = z.low_wmark_pages(), b.wmark_high = z.high_wmark_pages();
        for (unsigned o = 0; o < NR_PAGE_ORDERS; ++o)
            for (unsigned mt = 0; mt < MIGRATE_TYPES; ++mt)
                for (uint32_t pfn = z.free_area[o].free_list[mt].first; pfn != NO_PFN; pfn = mem_map[pfn].lru_next)
                    ++b.nr_free[o][mt];
        b.nr_free[MAX_PAGE_ORDER][MIGRATE_MOVABLE] += z.nr_deferred_pages() >> MAX_PAGE_ORDER;  // the lists' tail
        out.push_back(b);
    }
    return out;
}

std::vector<SlabCache> slab_caches(const SlabAllocator& slab) {
    std::vector<SlabCache> out;
    for (const kmem_cache* s : slab.slab_caches()) {
        const slabinfo si = slab.get_slabinfo(*s);
        out.push_back({s->name, s->object_size, s->size, si.objects_per_slab, 1u << si.cache_order, si.active_objs,
                       si.num_objs, si.num_slabs});
    }
    return out;
}

std::vector<VmaInfo> vmas(const mm_struct& mm) {
    std::vector<VmaInfo> out;
    if (!mm.ram) return out;
    mmu::RamBus bus(*mm.ram);
    for (const vm_area_struct& v : mm.mm_rb) {
        VmaInfo i;
        i.start = v.vm_start, i.end = v.vm_end, i.flags = v.vm_flags, i.pgoff = v.vm_pgoff;
        i.perms = {v.vm_flags & VM_READ ? 'r' : '-', v.vm_flags & VM_WRITE ? 'w' : '-',
                   v.vm_flags & VM_EXEC ? 'x' : '-', v.vm_flags & VM_MAYSHARE ? 's' : 'p'};
        i.name = vma_name(mm, v);
        i.anon_vma = v.anon_vma ? v.anon_vma->id : 0;
        mmu::for_each_pte(bus, mm.paging_mode, mmu::root_table(mm.paging_mode, mm.pgd), v.vm_start, v.vm_end - 1,
                          [&](VirtAddr, uint64_t raw) {
                              const pte_t pte = __pte(raw);
                              if (is_swap_pte(pte)) ++i.swapped;
                              if (!pte_hw_present(pte)) return;
                              ++i.resident;
                              if (pte_dirty(pte)) ++i.dirty;
                          });
        out.push_back(std::move(i));
    }
    return out;
}

std::vector<TaskInfo> tasks(const Kernel& kernel) {
    std::vector<TaskInfo> out;
    for (const task_struct* t : kernel.all_tasks()) {
        if (t->exit_state == EXIT_DEAD) continue;
        TaskInfo i;
        i.pid = t->pid, i.tgid = t->tgid;
        const task_struct* parent = t->group_leader->real_parent;
        i.ppid = parent ? parent->tgid : 1;
        i.pgrp = t->signal->pgrp, i.session = t->signal->session;
        i.comm = t->comm;
        i.state = get_task_state(*t);
        i.abi = t->is_compat() ? "i386" : "x86_64";
        i.threads = t->signal->nr_threads;
        i.exit_code = t->exit_code;
        if (const mm_struct* mm = t->mm.get()) {
            i.mm_id = reinterpret_cast<uintptr_t>(mm);
            i.vm_pages = mm->total_vm, i.rss_anon = mm->rss_anon, i.rss_file = mm->rss_file;
            i.rss_shmem = mm->rss_shmem, i.pgtables_bytes = mm->pgtables_bytes, i.map_count = mm->map_count;
        }
        out.push_back(std::move(i));
    }
    std::sort(out.begin(), out.end(), [](const TaskInfo& a, const TaskInfo& b) { return a.pid < b.pid; });
    return out;
}

namespace {

// The read-ahead windows of the mapping's open files, and its newest read-ahead decision.
void add_readahead(const address_space& as, FileCache& f) {
    uint64_t id = 0;
    for (const RaFile& r : readahead_files()) {
        if (r.mapping != &as) continue;
        if (f.path.empty() && r.filp->f_path) f.path = d_path(r.filp->f_path);  // where it was opened
        f.ra.push_back(
            {++id, r.ra.start, r.ra.size, r.ra.async_size, r.ra.ra_pages, r.ra.mmap_miss, r.ra.prev_pos, r.random});
    }
    const auto& events = readahead_events();
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
        if (it->mapping != &as) continue;
        f.last_ra = it->path + ": " + std::to_string(it->read) + " pages read of " + std::to_string(it->nr) +
                    " from page " + std::to_string(it->index);
        if (it->lookahead) f.last_ra += ", PG_readahead on " + std::to_string(it->index + it->nr - it->lookahead);
        f.last_ra_seq = it->seq;
        break;
    }
}

}  // namespace

std::vector<FileCache> page_cache(const BuddyAllocator& buddy) {
    std::vector<FileCache> out;
    for (const address_space* as : cached_mappings(buddy)) {
        FileCache f;
        if (as->host) f.path = as->host->path, f.ino = as->host->i_ino, f.size = as->host->i_size;
        const uint64_t pages = mmu::page_align_up(f.size) >> PAGE_SHIFT;
        f.strip.assign(std::min(pages, FileCache::max_strip), StripPage::Absent);
        for (const auto& [index, frame] : as->i_pages) {
            const page& p = buddy.pfn_page(frame.pfn());
            ++f.cached;
            if (p.flags & PG_dirty) ++f.dirty;
            if (p.flags & PG_writeback) ++f.writeback;
            if (p._mapcount >= 0) ++f.mapped;
            if (index < f.strip.size())
                f.strip[index] = (p.flags & PG_dirty)       ? StripPage::Dirty
                                 : (p.flags & PG_readahead) ? StripPage::Readahead
                                                            : StripPage::Cached;
        }
        add_readahead(*as, f);
        out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end(), [](const FileCache& a, const FileCache& b) {
        return a.cached != b.cached ? a.cached > b.cached : a.path != b.path ? a.path < b.path : a.ino < b.ino;
    });
    return out;
}

namespace {

// NR_SHMEM and NR_FILE_DIRTY: pages of shmem mappings, and dirty pages of the others.
void count_mapping_pages(const BuddyAllocator& buddy, MemCounters& c) {
    for (const address_space* as : cached_mappings(buddy)) {
        if (as->a_ops && as->a_ops->swap_backed) {
            c.shmem += as->nrpages();
            continue;
        }
        for (const auto& [index, frame] : as->i_pages)
            if (buddy.pfn_page(frame.pfn()).flags & PG_dirty) ++c.dirty;
    }
}

}  // namespace

ReclaimInfo reclaim_info(const BuddyAllocator& buddy) {
    ReclaimInfo r;
    for (const swap_info_struct* si : swap_areas())
        r.areas.push_back({si->type, si->swap_file, si->prio, si->pages, si->inuse_pages, si->swap_cache.size()});
    r.swapcache = total_swapcache_pages();
    r.lru = buddy.node_lruvec()->nr_pages;
    r.pswpin = buddy.vm_event(PSWPIN), r.pswpout = buddy.vm_event(PSWPOUT);
    r.kswapd_runs = buddy.vm_event(PAGEOUTRUN);
    r.pgscan_kswapd = buddy.vm_event(PGSCAN_KSWAPD), r.pgsteal_kswapd = buddy.vm_event(PGSTEAL_KSWAPD);
    for (unsigned z = 0; z < MAX_NR_ZONES; ++z)
        r.allocstall += buddy.vm_event(zone_event(ALLOCSTALL_DMA, static_cast<zone_type>(z)));
    r.pgscan_direct = buddy.vm_event(PGSCAN_DIRECT), r.pgsteal_direct = buddy.vm_event(PGSTEAL_DIRECT);
    r.swap_ra = buddy.vm_event(SWAP_RA), r.swap_ra_hit = buddy.vm_event(SWAP_RA_HIT);
    r.oom_kill = buddy.vm_event(OOM_KILL);
    return r;
}

MemCounters mem_counters(const Kernel& kernel) {
    MemCounters c;
    c.pgfault = kernel.stats.pgfault, c.pgmajfault = kernel.stats.pgmajfault;
    const BuddyAllocator* buddy = kernel.buddy();
    if (!buddy) return c;
    // The counters the allocator keeps as pages change use: no scan of mem_map.
    auto pages = [&](PageUse u) { return buddy->page_use_count(u); };
    c.total = buddy->totalram_pages();
    c.free = buddy->nr_free_buddy() + buddy->nr_pcp_pages();
    c.cached = pages(PageUse::File), c.anon = pages(PageUse::Anon), c.slab = pages(PageUse::Slab);
    c.page_tables = pages(PageUse::PageTable), c.kernel_stack = pages(PageUse::KernelStack);
    c.vmalloc = pages(PageUse::Vmalloc);
    count_mapping_pages(*buddy, c);
    c.swapcache = total_swapcache_pages();
    c.swap_total = total_swap_pages(), c.swap_free = get_nr_swap_pages();
    c.high_total = buddy->totalhigh_pages();
    const zone& high = buddy->zone_at(ZONE_HIGHMEM);
    c.high_free = high.populated() ? static_cast<uint64_t>(high.nr_free_pages) : 0;
    return c;
}

}  // namespace guestos::inspect
