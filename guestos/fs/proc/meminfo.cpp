// /proc/meminfo, buddyinfo, zoneinfo, slabinfo and vmstat text (Linux fs/proc/meminfo.c,
// mm/vmstat.c, mm/slab_common.c, arch/x86/mm/pat/set_memory.c arch_report_meminfo).
#include "guestos/fs/proc/meminfo.h"

#include "guestos/mm/util.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

namespace guestos {

namespace {

constexpr uint64_t vm_dirty_ratio = 20, dirty_background_ratio = 10;

using Stat = std::pair<const char*, uint64_t>;

// printf onto the end of out.
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) out.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

// One "Label:   value kB" line (show_val_kb: the label padded to 16, the value to 8).
void show_val_kb(std::string& out, const char* label, uint64_t pages) {
    appendf(out, "%-16s%8llu kB\n", label, static_cast<unsigned long long>(pages << (PAGE_SHIFT - 10)));
}

uint64_t pages_of_bytes(int64_t bytes) { return bytes > 0 ? static_cast<uint64_t>(bytes) >> PAGE_SHIFT : 0; }

// The layout to report when no KernelPageTable is given (PAE on i386).
KernelLayout layout_of(const ProcSources& src) {
    if (src.kpt) return src.kpt->layout();
    const BuddyAllocator& b = src.buddy;
    if (b.arch() == KernelArch::X86_64) return KernelLayout::x86_64(b.max_pfn() << PAGE_SHIFT);
    return KernelLayout::i386(mmu::PagingMode::PAE, b.max_low_pfn() << PAGE_SHIFT);
}

// Free pages of a zone including its pcp list (what MemFree counts).
uint64_t zone_free_with_pcp(const zone& z) {
    return static_cast<uint64_t>(z.nr_free_pages) + static_cast<uint64_t>(z.pcp.count);
}

// The low watermarks of all zones (si_mem_available's wmark_low).
uint64_t sum_low_wmarks(const BuddyAllocator& b) {
    uint64_t n = 0;
    for (const zone& z : b.NODE_DATA().node_zones)
        if (z.populated()) n += z.low_wmark_pages();
    return n;
}

// si_mem_available: free above the reserves plus what reclaim could get from the page
// cache and reclaimable slab without going below the low watermarks.
uint64_t si_mem_available(const BuddyAllocator& b, const page_use_stats& u) {
    const int64_t wmark_low = static_cast<int64_t>(sum_low_wmarks(b));
    int64_t available =
        static_cast<int64_t>(b.nr_free_pages()) - static_cast<int64_t>(b.NODE_DATA().totalreserve_pages);
    int64_t pagecache = static_cast<int64_t>(u.active_file + u.inactive_file);
    pagecache -= std::min(pagecache / 2, wmark_low);
    available += pagecache;
    int64_t reclaimable = static_cast<int64_t>(pages_of_bytes(b.node_page_state(NR_SLAB_RECLAIMABLE_B)));
    reclaimable -= std::min(reclaimable / 2, wmark_low);
    available += reclaimable;
    return available > 0 ? static_cast<uint64_t>(available) : 0;
}

// A node counter kept where pages change state (vm_stat), never below zero.
uint64_t node_pages(const BuddyAllocator& b, node_stat_item item) {
    return static_cast<uint64_t>(std::max<int64_t>(0, b.node_page_state(item)));
}

// The per-node counters of /proc/zoneinfo and /proc/vmstat (node_stat_item, 6.18 order).
std::vector<Stat> node_stats(const BuddyAllocator& b, const page_use_stats& u) {
    return {
        {"nr_inactive_anon", u.inactive_anon},
        {"nr_active_anon", u.active_anon},
        {"nr_inactive_file", u.inactive_file},
        {"nr_active_file", u.active_file},
        {"nr_unevictable", 0},
        {"nr_slab_reclaimable", pages_of_bytes(b.node_page_state(NR_SLAB_RECLAIMABLE_B))},
        {"nr_slab_unreclaimable", pages_of_bytes(b.node_page_state(NR_SLAB_UNRECLAIMABLE_B))},
        {"nr_isolated_anon", 0},
        {"nr_isolated_file", 0},
        {"workingset_nodes", node_pages(b, WORKINGSET_NODES)},
        {"workingset_refault_anon", node_pages(b, WORKINGSET_REFAULT_ANON)},
        {"workingset_refault_file", node_pages(b, WORKINGSET_REFAULT_FILE)},
        {"workingset_activate_anon", node_pages(b, WORKINGSET_ACTIVATE_ANON)},
        {"workingset_activate_file", node_pages(b, WORKINGSET_ACTIVATE_FILE)},
        {"workingset_restore_anon", node_pages(b, WORKINGSET_RESTORE_ANON)},
        {"workingset_restore_file", node_pages(b, WORKINGSET_RESTORE_FILE)},
        {"workingset_nodereclaim", node_pages(b, WORKINGSET_NODERECLAIM)},
        {"nr_anon_pages", u[PageUse::Anon]},
        {"nr_mapped", u.mapped_file},
        {"nr_file_pages", u[PageUse::File]},
        {"nr_dirty", node_pages(b, NR_FILE_DIRTY)},
        {"nr_writeback", node_pages(b, NR_WRITEBACK)},
        {"nr_shmem", u.shmem},
        {"nr_shmem_hugepages", 0},
        {"nr_shmem_pmdmapped", 0},
        {"nr_file_hugepages", 0},
        {"nr_file_pmdmapped", 0},
        {"nr_anon_transparent_hugepages", 0},
        {"nr_vmscan_write", 0},
        {"nr_vmscan_immediate_reclaim", 0},
        {"nr_dirtied", node_pages(b, NR_DIRTIED)},
        {"nr_written", node_pages(b, NR_WRITTEN)},
        {"nr_throttled_written", 0},
        {"nr_kernel_misc_reclaimable", 0},
        {"nr_foll_pin_acquired", 0},
        {"nr_foll_pin_released", 0},
        {"nr_kernel_stack", u[PageUse::KernelStack] << (PAGE_SHIFT - 10)},  // kB, as Linux
        {"nr_page_table_pages", u[PageUse::PageTable]},
        {"nr_sec_page_table_pages", 0},
        {"nr_iommu_pages", 0},
        {"nr_swapcached", u.swapcache},
        {"pgpromote_success", 0},
        {"pgpromote_candidate", 0},
        {"pgpromote_candidate_nrl", 0},
        {"pgdemote_kswapd", 0},
        {"pgdemote_direct", 0},
        {"pgdemote_khugepaged", 0},
        {"pgdemote_proactive", 0},
        {"nr_hugetlb", 0},
        {"nr_balloon_pages", 0},
        {"nr_kernel_file_pages", 0},
    };
}

// Free pages in whole free pageblocks (NR_FREE_PAGES_BLOCKS).
uint64_t free_pages_blocks(const zone& z) {
    uint64_t n = 0;
    for (unsigned o = pageblock_order; o < NR_PAGE_ORDERS; ++o) n += z.free_area[o].nr_free << o;
    return n;
}

// The per-zone counters (zone_stat_item) of zone t.
std::vector<Stat> zone_stats(const zone& z, const page_use_stats& u) {
    const unsigned t = z.idx;
    // LRU lists: shmem pages are file pages on the anon LRU.
    const uint64_t anon = u.zone_by_use[t][static_cast<unsigned>(PageUse::Anon)] + u.zone_shmem[t];
    const uint64_t file = u.zone_by_use[t][static_cast<unsigned>(PageUse::File)] - u.zone_shmem[t];
    return {
        {"nr_free_pages", static_cast<uint64_t>(z.nr_free_pages)},
        {"nr_free_pages_blocks", free_pages_blocks(z)},
        {"nr_zone_inactive_anon", anon - u.zone_active_anon[t]},
        {"nr_zone_active_anon", u.zone_active_anon[t]},
        {"nr_zone_inactive_file", file - u.zone_active_file[t]},
        {"nr_zone_active_file", u.zone_active_file[t]},
        {"nr_zone_unevictable", 0},
        {"nr_zone_write_pending", 0},
        {"nr_mlock", 0},
        {"nr_zspages", 0},
        {"nr_free_cma", 0},
    };
}

// NUMA counters (CONFIG_NUMA, x86-64 only): the single node makes every hit local.
std::vector<Stat> numa_stats(uint64_t hits) {
    return {{"numa_hit", hits},     {"numa_miss", 0},     {"numa_foreign", 0},
            {"numa_interleave", 0}, {"numa_local", hits}, {"numa_other", 0}};
}

// global_dirty_limits: 20% / 10% of the dirtyable memory (free above the reserves plus the
// file LRU, highmem excluded as vm_highmem_is_dirtyable is 0).
std::pair<uint64_t, uint64_t> global_dirty_limits(const BuddyAllocator& b, const page_use_stats& u) {
    const uint64_t reserve = b.NODE_DATA().totalreserve_pages;
    uint64_t x = b.nr_free_buddy();
    x -= std::min(x, reserve);
    x += u.active_file + u.inactive_file;
    if (b.arch() == KernelArch::I386) {
        const zone& h = b.zone_at(ZONE_HIGHMEM);
        const uint64_t high =
            static_cast<uint64_t>(h.nr_free_pages) + u.zone_by_use[ZONE_HIGHMEM][static_cast<unsigned>(PageUse::File)];
        x -= std::min(x, high);
    }
    x += 1;
    uint64_t thresh = vm_dirty_ratio * x / 100, bg = dirty_background_ratio * x / 100;
    if (bg >= thresh) bg = thresh / 2;
    return {thresh, bg};
}

}  // namespace

meminfo_accounting meminfo_accounts(const BuddyAllocator& buddy) {
    const page_use_stats u = buddy.count_page_uses();
    meminfo_accounting a;
    a.ram = buddy.max_pfn();
    a.total = buddy.totalram_pages();
    a.reserved = u[PageUse::Reserved];
    a.free = u[PageUse::Free];
    a.slab = u[PageUse::Slab];
    a.page_tables = u[PageUse::PageTable];
    a.kernel_stack = u[PageUse::KernelStack];
    a.anon = u[PageUse::Anon];
    a.file = u[PageUse::File];
    a.vmalloc = u[PageUse::Vmalloc];
    a.other = u[PageUse::Other];
    return a;
}

si_meminfo_pages si_meminfo(const BuddyAllocator& b) {
    const page_use_stats u = b.count_page_uses();
    si_meminfo_pages s;
    s.totalram = b.totalram_pages();
    s.freeram = u[PageUse::Free];
    s.sharedram = u.shmem;
    if (b.arch() == KernelArch::I386) {
        s.totalhigh = b.totalhigh_pages();
        s.freehigh = zone_free_with_pcp(b.zone_at(ZONE_HIGHMEM));
    }
    return s;
}

std::string proc_meminfo(const ProcSources& src) {
    const BuddyAllocator& b = src.buddy;
    const page_use_stats u = b.count_page_uses();
    const KernelLayout layout = layout_of(src);
    const bool i386 = b.arch() == KernelArch::I386;
    const uint64_t totalram = b.totalram_pages();
    const uint64_t freeram = u[PageUse::Free];
    const uint64_t sreclaimable = pages_of_bytes(b.node_page_state(NR_SLAB_RECLAIMABLE_B));
    const uint64_t sunreclaim = pages_of_bytes(b.node_page_state(NR_SLAB_UNRECLAIMABLE_B));
    const uint64_t cached = u[PageUse::File];
    std::string m;
    m.reserve(2048);
    show_val_kb(m, "MemTotal:", totalram);
    show_val_kb(m, "MemFree:", freeram);
    show_val_kb(m, "MemAvailable:", si_mem_available(b, u));
    show_val_kb(m, "Buffers:", 0);
    show_val_kb(m, "Cached:", cached);
    show_val_kb(m, "SwapCached:", u.swapcache);
    show_val_kb(m, "Active:", u.active_anon + u.active_file);
    show_val_kb(m, "Inactive:", u.inactive_anon + u.inactive_file);
    show_val_kb(m, "Active(anon):", u.active_anon);
    show_val_kb(m, "Inactive(anon):", u.inactive_anon);
    show_val_kb(m, "Active(file):", u.active_file);
    show_val_kb(m, "Inactive(file):", u.inactive_file);
    show_val_kb(m, "Unevictable:", 0);
    show_val_kb(m, "Mlocked:", 0);
    if (i386) {  // CONFIG_HIGHMEM
        const uint64_t totalhigh = b.totalhigh_pages();
        const uint64_t freehigh = zone_free_with_pcp(b.zone_at(ZONE_HIGHMEM));
        show_val_kb(m, "HighTotal:", totalhigh);
        show_val_kb(m, "HighFree:", freehigh);
        show_val_kb(m, "LowTotal:", totalram - totalhigh);
        show_val_kb(m, "LowFree:", freeram - freehigh);
    }
    show_val_kb(m, "SwapTotal:", src.swap_total_pages);
    show_val_kb(m, "SwapFree:", src.swap_free_pages);
    show_val_kb(m, "Zswap:", 0);
    show_val_kb(m, "Zswapped:", 0);
    show_val_kb(m, "Dirty:", node_pages(b, NR_FILE_DIRTY));
    show_val_kb(m, "Writeback:", node_pages(b, NR_WRITEBACK));
    show_val_kb(m, "AnonPages:", u[PageUse::Anon]);
    show_val_kb(m, "Mapped:", u.mapped_file);
    show_val_kb(m, "Shmem:", u.shmem);
    show_val_kb(m, "KReclaimable:", sreclaimable);
    show_val_kb(m, "Slab:", sreclaimable + sunreclaim);
    show_val_kb(m, "SReclaimable:", sreclaimable);
    show_val_kb(m, "SUnreclaim:", sunreclaim);
    show_val_kb(m, "KernelStack:", u[PageUse::KernelStack]);
    show_val_kb(m, "PageTables:", u[PageUse::PageTable]);
    show_val_kb(m, "SecPageTables:", 0);
    show_val_kb(m, "NFS_Unstable:", 0);
    show_val_kb(m, "Bounce:", 0);
    show_val_kb(m, "WritebackTmp:", 0);
    show_val_kb(m, "CommitLimit:", vm_commit_limit(src.buddy));
    show_val_kb(m, "Committed_AS:", static_cast<uint64_t>(std::max<int64_t>(src.buddy.overcommit.vm_committed_as, 0)));
    appendf(m, "%-16s%8llu kB\n",
            "VmallocTotal:", static_cast<unsigned long long>((layout.vmalloc_end - layout.vmalloc_start) >> 10));
    show_val_kb(m, "VmallocUsed:", src.vmalloc ? src.vmalloc->vmalloc_nr_pages() : 0);
    show_val_kb(m, "VmallocChunk:", 0);
    show_val_kb(m, "Percpu:", 0);
    show_val_kb(m, "AnonHugePages:", 0);
    show_val_kb(m, "ShmemHugePages:", 0);
    show_val_kb(m, "ShmemPmdMapped:", 0);
    show_val_kb(m, "FileHugePages:", 0);
    show_val_kb(m, "FilePmdMapped:", 0);
    show_val_kb(m, "Balloon:", 0);
    appendf(m, "%-19s%5u\n", "HugePages_Total:", 0u);
    appendf(m, "%-19s%5u\n", "HugePages_Free:", 0u);
    appendf(m, "%-19s%5u\n", "HugePages_Rsvd:", 0u);
    appendf(m, "%-19s%5u\n", "HugePages_Surp:", 0u);
    const bool legacy32 = layout.mode == mmu::PagingMode::Legacy32;
    appendf(m, "%-16s%8llu kB\n", "Hugepagesize:", legacy32 ? 4096ull : 2048ull);
    show_val_kb(m, "Hugetlb:", 0);
    const uint64_t dm4k = src.kpt ? src.kpt->direct_map_4k_bytes() : 0;
    const uint64_t dmlarge = src.kpt ? src.kpt->direct_map_large_bytes() : 0;
    appendf(m, "%-16s%8llu kB\n", "DirectMap4k:", static_cast<unsigned long long>(dm4k >> 10));
    appendf(m, "%-16s%8llu kB\n",
            legacy32 ? "DirectMap4M:" : "DirectMap2M:", static_cast<unsigned long long>(dmlarge >> 10));
    if (!i386) appendf(m, "%-16s%8llu kB\n", "DirectMap1G:", 0ull);
    return m;
}

std::string proc_buddyinfo(const BuddyAllocator& buddy) {
    std::string m;
    for (const zone& z : buddy.NODE_DATA().node_zones) {
        if (!z.configured || !z.populated()) continue;
        appendf(m, "Node %d, zone %8s ", buddy.NODE_DATA().node_id, z.name);
        for (unsigned o = 0; o < NR_PAGE_ORDERS; ++o)
            appendf(m, "%6llu ", static_cast<unsigned long long>(z.free_area[o].nr_free));
        m += '\n';
    }
    return m;
}

std::string proc_zoneinfo(const ProcSources& src) {
    const BuddyAllocator& b = src.buddy;
    const pglist_data& pgdat = b.NODE_DATA();
    const page_use_stats u = b.count_page_uses();
    const bool numa = b.arch() == KernelArch::X86_64;
    bool node_stats_printed = false;
    std::string m;
    for (const zone& z : pgdat.node_zones) {
        if (!z.configured) continue;
        appendf(m, "Node %d, zone %8s", pgdat.node_id, z.name);
        if (z.populated() && !node_stats_printed) {  // is_zone_first_populated
            node_stats_printed = true;
            m += "\n  per-node stats";
            for (const auto& [name, v] : node_stats(b, u))
                appendf(m, "\n      %-12s %llu", name, static_cast<unsigned long long>(v));
        }
        appendf(m, "\n  pages free     %llu", static_cast<unsigned long long>(z.nr_free_pages));
        const std::pair<const char*, uint64_t> marks[] = {
            {"boost", z.watermark_boost},   {"min", z.min_wmark_pages()},     {"low", z.low_wmark_pages()},
            {"high", z.high_wmark_pages()}, {"promo", z.promo_wmark_pages()}, {"spanned", z.spanned_pages},
            {"present", z.present_pages},   {"managed", z.managed_pages},     {"cma", 0}};
        for (const auto& [name, v] : marks) appendf(m, "\n        %-8s %llu", name, static_cast<unsigned long long>(v));
        m += "\n        protection: (";
        bool first = true;
        for (unsigned j = 0; j < MAX_NR_ZONES; ++j) {
            if (!pgdat.node_zones[j].configured) continue;
            appendf(m, first ? "%lld" : ", %lld", static_cast<long long>(z.lowmem_reserve[j]));
            first = false;
        }
        m += ')';
        if (!z.populated()) {
            m += '\n';
            continue;
        }
        for (const auto& [name, v] : zone_stats(z, u))
            appendf(m, "\n      %-12s %llu", name, static_cast<unsigned long long>(v));
        if (numa)
            for (const auto& [name, v] : numa_stats(z.numa_hit))
                appendf(m, "\n      %-12s %llu", name, static_cast<unsigned long long>(v));
        appendf(m,
                "\n  pagesets\n    cpu: %i\n              count:    %i\n              high:     %i"
                "\n              batch:    %i\n              high_min: %i\n              high_max: %i",
                0, z.pcp.count, z.pcp.high, z.pcp.batch, z.pcp.high_min, z.pcp.high_max);
        appendf(m, "\n  vm stats threshold: %d", z.stat_threshold);
        appendf(m, "\n  node_unreclaimable:  %u\n  start_pfn:           %llu\n", 0u,
                static_cast<unsigned long long>(z.zone_start_pfn));
    }
    return m;
}

std::string proc_slabinfo(const SlabAllocator& slab) {
    std::string m =
        "slabinfo - version: 2.1\n"
        "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
        " : tunables <limit> <batchcount> <sharedfactor>"
        " : slabdata <active_slabs> <num_slabs> <sharedavail>\n";
    for (const kmem_cache* s : slab.slab_caches()) {
        const slabinfo i = slab.get_slabinfo(*s);
        appendf(m, "%-17s %6llu %6llu %6u %4u %4d", s->name.c_str(), static_cast<unsigned long long>(i.active_objs),
                static_cast<unsigned long long>(i.num_objs), s->size, i.objects_per_slab, 1 << i.cache_order);
        appendf(m, " : tunables %4u %4u %4u", i.limit, i.batchcount, i.shared);
        appendf(m, " : slabdata %6llu %6llu %6llu\n", static_cast<unsigned long long>(i.active_slabs),
                static_cast<unsigned long long>(i.num_slabs), static_cast<unsigned long long>(i.shared_avail));
    }
    return m;
}

std::string proc_vmstat(const ProcSources& src) {
    const BuddyAllocator& b = src.buddy;
    const pglist_data& pgdat = b.NODE_DATA();
    const page_use_stats u = b.count_page_uses();
    std::vector<Stat> global;
    uint64_t numa_hits = 0;
    for (const zone& z : pgdat.node_zones) {
        if (!z.populated()) continue;
        numa_hits += z.numa_hit;
        const auto zs = zone_stats(z, u);
        if (global.empty()) global.assign(zs.size(), {nullptr, 0});
        for (size_t i = 0; i < zs.size(); ++i) global[i] = {zs[i].first, global[i].second + zs[i].second};
    }
    std::string m;
    auto put = [&](const std::vector<Stat>& stats) {
        for (const auto& [name, v] : stats) appendf(m, "%s %llu\n", name, static_cast<unsigned long long>(v));
    };
    put(global);
    if (b.arch() == KernelArch::X86_64) put(numa_stats(numa_hits));
    put(node_stats(b, u));
    const auto [thresh, bg] = global_dirty_limits(b, u);
    put({{"nr_dirty_threshold", thresh},
         {"nr_dirty_background_threshold", bg},
         {"nr_memmap_pages", 0},
         {"nr_memmap_boot_pages", b.memmap_pages()}});
    for (unsigned i = 0; i < NR_VM_EVENT_ITEMS; ++i) {
        const auto item = static_cast<vm_event_item>(i);
        const zone_type zt = vm_event_zone(item);
        if (zt != MAX_NR_ZONES && !pgdat.node_zones[zt].configured) continue;
        appendf(m, "%s %llu\n", vm_event_name(item), static_cast<unsigned long long>(b.vm_event(item)));
    }
    m += "nr_unstable 0\n";
    return m;
}

namespace {
// The vmstat lines --stats prints: allocation and the reclaim and swap counters.
bool is_stats_vm_event(std::string_view line) {
    for (std::string_view prefix : {"pgalloc_", "pgfree ", "pswp", "pgscan_", "pgsteal_", "pageoutrun ", "allocstall_",
                                    "pgrefill ", "pgactivate ", "pgdeactivate ", "swap_ra", "oom_kill "})
        if (line.starts_with(prefix)) return true;
    return false;
}
}  // namespace

std::string allocator_stats(const ProcSources& src) {
    const BuddyAllocator& b = src.buddy;
    std::string m = proc_buddyinfo(b);
    for (const zone& z : b.NODE_DATA().node_zones)  // zoneinfo's header and "pages free"
        if (z.configured && z.populated())
            appendf(m, "Node %d, zone %8s pages free %llu\n", b.NODE_DATA().node_id, z.name,
                    static_cast<unsigned long long>(z.nr_free_pages));
    const std::string vmstat = proc_vmstat(src);
    for (size_t at = 0, end; at < vmstat.size(); at = end + 1) {
        end = vmstat.find('\n', at);
        if (end == std::string::npos) end = vmstat.size();
        const std::string_view line(vmstat.data() + at, end - at);
        if (is_stats_vm_event(line)) (m += line) += '\n';
    }
    uint64_t caches = 0, active = 0, objs = 0;
    if (src.slab)
        for (const kmem_cache* s : src.slab->slab_caches()) {
            const slabinfo i = src.slab->get_slabinfo(*s);
            ++caches;
            active += i.active_objs;
            objs += i.num_objs;
        }
    const uint64_t slab_pages = pages_of_bytes(b.node_page_state(NR_SLAB_RECLAIMABLE_B)) +
                                pages_of_bytes(b.node_page_state(NR_SLAB_UNRECLAIMABLE_B));
    const Stat totals[] = {
        {"slab_caches", caches},
        {"slab_active_objs", active},
        {"slab_num_objs", objs},
        {"slab_pages", slab_pages},
        {"vmalloc_used_pages", src.vmalloc ? src.vmalloc->vmalloc_nr_pages() : 0},
        {"kmap_high", src.highmem ? src.highmem->nr_kmap_high() : 0},
        {"kmap_atomic_high", src.highmem ? src.highmem->nr_kmap_atomic_high() : 0},
        {"pkmap_busy", src.highmem ? src.highmem->nr_pkmap_busy() : 0},
    };
    for (const auto& [name, v] : totals) appendf(m, "%s %llu\n", name, static_cast<unsigned long long>(v));
    return m;
}

}  // namespace guestos
