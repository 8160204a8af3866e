// /proc/meminfo, buddyinfo, zoneinfo, slabinfo and vmstat in Linux's formats, and the
// accounting identity (MemTotal adds up to the page) after randomized workloads.
#include <gtest/gtest.h>

#include "guestos_test_util.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "guestos/mm/highmem.h"
#include "guestos/fs/proc/meminfo.h"
#include "mmu/phys_memory.h"

using namespace guestos;
using mmu::PagingMode;

namespace {

struct Machine {
    std::unique_ptr<mmu::PhysMemory> ram;
    std::unique_ptr<BuddyAllocator> buddy;
    std::unique_ptr<SlabAllocator> slab;
    std::unique_ptr<KernelPageTable> kpt;
    std::unique_ptr<Vmalloc> vmalloc;
    std::unique_ptr<Highmem> highmem;
    Machine(KernelArch arch, uint64_t ram_bytes, uint64_t lowmem = 896 * MiB, PagingMode mode = PagingMode::PAE) {
        ram = mmu::PhysMemory::create(ram_bytes).release_value();
        BuddyConfig cfg;
        cfg.arch = arch;
        cfg.lowmem_limit_bytes = lowmem;
        buddy = std::make_unique<BuddyAllocator>(*ram, cfg);
        slab = std::make_unique<SlabAllocator>(*buddy);
        kpt = KernelPageTable::create(*buddy, mode).release_value();
        vmalloc = std::make_unique<Vmalloc>(*kpt, *buddy);
        highmem = std::make_unique<Highmem>(*kpt, *buddy);
    }
    ~Machine() {
        highmem.reset();
        vmalloc.reset();
        kpt.reset();
        slab.reset();
    }
    ProcSources sources() const { return ProcSources{*buddy, slab.get(), kpt.get(), vmalloc.get()}; }
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> v;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
}

// "Name:  value [kB]" lines -> names in order and values.
struct Meminfo {
    std::vector<std::string> names;
    std::map<std::string, uint64_t> v;
    uint64_t operator[](const std::string& k) const { return v.at(k); }
};
Meminfo parse_meminfo(const std::string& text) {
    Meminfo m;
    for (const std::string& l : lines_of(text)) {
        const size_t colon = l.find(':');
        if (colon == std::string::npos) continue;
        const std::string name = l.substr(0, colon);
        m.names.push_back(name);
        m.v[name] = std::stoull(l.substr(colon + 1));
    }
    return m;
}

// "name value" lines (/proc/vmstat).
std::map<std::string, uint64_t> parse_vmstat(const std::string& text, std::vector<std::string>* order = nullptr) {
    std::map<std::string, uint64_t> v;
    for (const std::string& l : lines_of(text)) {
        std::istringstream in(l);
        std::string name;
        uint64_t value = 0;
        in >> name >> value;
        v[name] = value;
        if (order) order->push_back(name);
    }
    return v;
}

const std::vector<std::string> kMeminfoX86_64 = {
    "MemTotal",       "MemFree",       "MemAvailable", "Buffers",         "Cached",         "SwapCached",
    "Active",         "Inactive",      "Active(anon)", "Inactive(anon)",  "Active(file)",   "Inactive(file)",
    "Unevictable",    "Mlocked",       "SwapTotal",    "SwapFree",        "Zswap",          "Zswapped",
    "Dirty",          "Writeback",     "AnonPages",    "Mapped",          "Shmem",          "KReclaimable",
    "Slab",           "SReclaimable",  "SUnreclaim",   "KernelStack",     "PageTables",     "SecPageTables",
    "NFS_Unstable",   "Bounce",        "WritebackTmp", "CommitLimit",     "Committed_AS",   "VmallocTotal",
    "VmallocUsed",    "VmallocChunk",  "Percpu",       "AnonHugePages",   "ShmemHugePages", "ShmemPmdMapped",
    "FileHugePages",  "FilePmdMapped", "Balloon",      "HugePages_Total", "HugePages_Free", "HugePages_Rsvd",
    "HugePages_Surp", "Hugepagesize",  "Hugetlb",      "DirectMap4k",     "DirectMap2M",    "DirectMap1G"};

// The identity of proc_meminfo.h, read back from the text itself.
void expect_meminfo_adds_up(const Machine& m) {
    const Meminfo mi = parse_meminfo(proc_meminfo(m.sources()));
    const uint64_t used = mi["MemFree"] + mi["Slab"] + mi["PageTables"] + mi["KernelStack"] + mi["AnonPages"] +
                          mi["Cached"] + mi["VmallocUsed"];
    EXPECT_EQ(mi["MemTotal"], used) << proc_meminfo(m.sources());
    const meminfo_accounting a = meminfo_accounts(*m.buddy);
    EXPECT_TRUE(a.balanced());
    EXPECT_EQ(a.other, 0u);
    EXPECT_EQ(mi["MemTotal"] + a.reserved * 4, m.ram->size() >> 10);
    EXPECT_EQ(mi["Slab"], mi["SReclaimable"] + mi["SUnreclaim"]);
    if (m.buddy->arch() == KernelArch::I386) {
        EXPECT_EQ(mi["HighTotal"] + mi["LowTotal"], mi["MemTotal"]);
        EXPECT_EQ(mi["HighFree"] + mi["LowFree"], mi["MemFree"]);
    }
}

// A random kernel workload: user and kernel pages of every use, kmalloc, a cache with a
// constructor, vmalloc, kmap; everything is released at the end.
void random_workload(Machine& m, unsigned seed) {
    std::mt19937 rng(seed);
    auto cache = m.slab->kmem_cache_create("workload_cache", 72, 0, SLAB_RECLAIM_ACCOUNT,
                                           [](mmu::PhysMemory& ram, PhysAddr o) { ram.write<uint64_t>(o, 1); });
    ASSERT_FALSE(cache.is_error());
    struct PageHold {
        PhysAddr pa;
        unsigned order;
    };
    std::vector<PageHold> pages;
    std::vector<PhysAddr> objs, cobjs;
    std::vector<VirtAddr> vmas;
    const PageUse uses[] = {PageUse::Anon, PageUse::File, PageUse::PageTable, PageUse::KernelStack};
    for (int step = 0; step < 6000; ++step) {
        switch (rng() % 8) {
        case 0:
        case 1: {  // a user or kernel page with a use, as memory.cpp and fork would set it
            const PageUse use = uses[rng() % 4];
            const unsigned order = use == PageUse::KernelStack ? 2 : 0;  // THREAD_SIZE 16K
            const gfp_t gfp = use == PageUse::Anon || use == PageUse::File ? GFP_HIGHUSER_MOVABLE : GFP_KERNEL;
            if (auto pa = m.buddy->alloc_pages(gfp, order)) {
                m.buddy->set_page_use(*pa, order, use);
                if (rng() % 2) m.buddy->phys_to_page(*pa).flags |= PG_active;
                pages.push_back({*pa, order});
            }
            break;
        }
        case 2:
            if (auto o = m.slab->kmalloc(1 + rng() % (rng() % 10 ? 1024 : 40000), GFP_KERNEL)) objs.push_back(*o);
            break;
        case 3:
            if (auto o = m.slab->kmem_cache_alloc(cache.value(), GFP_KERNEL)) cobjs.push_back(*o);
            break;
        case 4:
            if (auto va = m.vmalloc->vmalloc((1 + rng() % 6) * PAGE_SIZE - rng() % 100); !va.is_error())
                vmas.push_back(va.value());
            break;
        case 5: {  // kmap a user page and touch it
            if (pages.empty()) break;
            const PhysAddr pa = pages[rng() % pages.size()].pa;
            if (auto va = m.highmem->kmap(pa); !va.is_error()) {
                ASSERT_EQ(m.kpt->kernel_walk(va.value()).phys, pa);
                m.highmem->kunmap(pa);
            }
            break;
        }
        default: {  // free something
            const unsigned what = rng() % 4;
            if (what == 0 && !pages.empty()) {
                const size_t k = rng() % pages.size();
                m.buddy->free_pages(pages[k].pa, pages[k].order);
                pages.erase(pages.begin() + static_cast<long>(k));
            } else if (what == 1 && !objs.empty()) {
                const size_t k = rng() % objs.size();
                m.slab->kfree(objs[k]);
                objs.erase(objs.begin() + static_cast<long>(k));
            } else if (what == 2 && !cobjs.empty()) {
                m.slab->kmem_cache_free(cache.value(), cobjs.back());
                cobjs.pop_back();
            } else if (!vmas.empty()) {
                m.vmalloc->vfree(vmas.back());
                vmas.pop_back();
            }
        }
        }
        if (step % 1000 == 999) {
            expect_meminfo_adds_up(m);
            EXPECT_CONSISTENT(*m.slab);
            EXPECT_CONSISTENT(*m.buddy);
        }
    }
    for (auto [pa, order] : pages) m.buddy->free_pages(pa, order);
    for (PhysAddr o : objs) m.slab->kfree(o);
    for (PhysAddr o : cobjs) m.slab->kmem_cache_free(cache.value(), o);
    for (VirtAddr va : vmas) m.vmalloc->vfree(va);
    EXPECT_FALSE(m.slab->kmem_cache_destroy(cache.value()).is_error());
    expect_meminfo_adds_up(m);
    EXPECT_EQ(m.buddy->nr_bad_frees() + m.slab->nr_bad_frees() + m.vmalloc->nr_bad_frees(), 0u);
}

}  // namespace

TEST(GuestosProcTest, MeminfoHasLinuxsFieldsOrderAndWidths) {
    Machine m(KernelArch::X86_64, 64 * MiB);
    const std::string text = proc_meminfo(m.sources());
    const Meminfo mi = parse_meminfo(text);
    EXPECT_EQ(mi.names, kMeminfoX86_64);
    for (const std::string& l : lines_of(text)) {
        const std::string name = l.substr(0, l.find(':'));
        const unsigned long long v = std::stoull(l.substr(l.find(':') + 1));
        char want[128];
        if (name.rfind("HugePages_", 0) == 0) std::snprintf(want, sizeof want, "%-19s%5llu", (name + ":").c_str(), v);
        else std::snprintf(want, sizeof want, "%-16s%8llu kB", (name + ":").c_str(), v);
        EXPECT_EQ(l, want);
    }
    EXPECT_EQ(mi["MemTotal"], m.buddy->totalram_pages() * 4);
    EXPECT_EQ(mi["VmallocTotal"], 34359738367u);
    EXPECT_EQ(mi["DirectMap2M"], 64 * 1024u);
    EXPECT_EQ(mi["Hugepagesize"], 2048u);
    EXPECT_EQ(mi["CommitLimit"], mi["MemTotal"] / 2);
    EXPECT_LE(mi["MemAvailable"], mi["MemFree"]);
    EXPECT_EQ(text.find("HighTotal"), std::string::npos);
    // Where this host's kernel prints the same fields, it prints them in the same order.
    std::ifstream host("/proc/meminfo");
    std::stringstream hs;
    hs << host.rdbuf();
    const Meminfo hm = parse_meminfo(hs.str());
    std::vector<std::string> ours, theirs;
    for (const std::string& n : mi.names)
        if (hm.v.count(n)) ours.push_back(n);
    for (const std::string& n : hm.names)
        if (mi.v.count(n)) theirs.push_back(n);
    EXPECT_EQ(ours, theirs);
}

TEST(GuestosProcTest, MeminfoOnI386ShowsHighAndLowMemory) {
    Machine m(KernelArch::I386, 64 * MiB, 32 * MiB);
    const Meminfo mi = parse_meminfo(proc_meminfo(m.sources()));
    std::vector<std::string> expect = kMeminfoX86_64;
    expect.pop_back();  // no DirectMap1G
    const auto mlocked = std::find(expect.begin(), expect.end(), "Mlocked");
    expect.insert(mlocked + 1, {"HighTotal", "HighFree", "LowTotal", "LowFree"});
    EXPECT_EQ(mi.names, expect);
    EXPECT_EQ(mi["HighTotal"], 32 * 1024u);
    EXPECT_EQ(mi["HighTotal"] + mi["LowTotal"], mi["MemTotal"]);
    EXPECT_EQ(mi["DirectMap2M"], 32 * 1024u);
    EXPECT_EQ(mi["VmallocTotal"], (m.kpt->layout().vmalloc_end - m.kpt->layout().vmalloc_start) >> 10);

    Machine l(KernelArch::I386, 64 * MiB, 32 * MiB, PagingMode::Legacy32);
    const Meminfo li = parse_meminfo(proc_meminfo(l.sources()));
    EXPECT_EQ(li["DirectMap4M"], 32 * 1024u);
    EXPECT_EQ(li["Hugepagesize"], 4096u);
}

TEST(GuestosProcTest, AccountingAddsUpToThePageAfterRandomWorkloads) {
    for (unsigned seed : {1u, 2u}) {
        {
            SCOPED_TRACE("x86-64");
            Machine m(KernelArch::X86_64, 48 * MiB);
            expect_meminfo_adds_up(m);
            random_workload(m, seed);
        }
        {
            SCOPED_TRACE("i386 with highmem");
            Machine m(KernelArch::I386, 48 * MiB, 24 * MiB);
            expect_meminfo_adds_up(m);
            random_workload(m, seed);
        }
    }
}

TEST(GuestosProcTest, AccountingAddsUpWithAReservedZeroPage) {
    Machine m(KernelArch::X86_64, 32 * MiB);
    const uint64_t total = parse_meminfo(proc_meminfo(m.sources()))["MemTotal"];
    auto zero = m.buddy->alloc_page(GFP_KERNEL | __GFP_ZERO);  // as Kernel::boot makes ZERO_PAGE
    ASSERT_TRUE(zero);
    m.buddy->mark_page_reserved(*zero);
    EXPECT_EQ(parse_meminfo(proc_meminfo(m.sources()))["MemTotal"], total - 4);
    expect_meminfo_adds_up(m);
    EXPECT_CONSISTENT(*m.buddy);
}

TEST(GuestosProcTest, AccountingAddsUpWhenMemoryIsExhausted) {
    Machine m(KernelArch::I386, 24 * MiB, 16 * MiB);
    std::vector<PhysAddr> anon, objs;
    while (auto pa = m.buddy->alloc_pages(GFP_HIGHUSER_MOVABLE, 0)) {
        m.buddy->set_page_use(*pa, 0, PageUse::Anon);
        anon.push_back(*pa);
    }
    while (auto o = m.slab->kmalloc(512, GFP_KERNEL)) objs.push_back(*o);
    EXPECT_TRUE(m.vmalloc->vmalloc(64 * PAGE_SIZE).is_error());
    expect_meminfo_adds_up(m);
    const Meminfo mi = parse_meminfo(proc_meminfo(m.sources()));
    EXPECT_LT(mi["MemFree"], mi["MemTotal"] / 20);
    for (PhysAddr pa : anon) m.buddy->free_page(pa);
    for (PhysAddr o : objs) m.slab->kfree(o);
    expect_meminfo_adds_up(m);
    EXPECT_CONSISTENT(*m.slab);
    EXPECT_CONSISTENT(*m.buddy);
}

TEST(GuestosProcTest, BuddyinfoListsPopulatedZonesWithElevenOrders) {
    Machine m(KernelArch::X86_64, 64 * MiB);
    auto pa = m.buddy->alloc_pages(GFP_KERNEL, 4);
    ASSERT_TRUE(pa);
    const std::vector<std::string> lines = lines_of(proc_buddyinfo(*m.buddy));
    ASSERT_EQ(lines.size(), 2u);  // DMA and DMA32; Normal, Movable, Device are empty
    EXPECT_EQ(lines[0].rfind("Node 0, zone      DMA ", 0), 0u) << lines[0];
    EXPECT_EQ(lines[1].rfind("Node 0, zone    DMA32 ", 0), 0u) << lines[1];
    for (size_t i = 0; i < 2; ++i) {
        const zone& z = m.buddy->zone_at(i ? ZONE_DMA32 : ZONE_DMA);
        std::string expect = std::string("Node 0, zone ") + (i ? "   DMA32 " : "     DMA ");
        char col[32];
        for (unsigned o = 0; o < NR_PAGE_ORDERS; ++o) {
            std::snprintf(col, sizeof col, "%6llu ", static_cast<unsigned long long>(z.free_area[o].nr_free));
            expect += col;
        }
        EXPECT_EQ(lines[i], expect);
    }
    m.buddy->free_pages(*pa, 4);

    Machine h(KernelArch::I386, 64 * MiB, 32 * MiB);
    const std::string hb = proc_buddyinfo(*h.buddy);
    EXPECT_NE(hb.find("zone   Normal "), std::string::npos);
    EXPECT_NE(hb.find("zone  HighMem "), std::string::npos);
}

TEST(GuestosProcTest, ZoneinfoShowsCoreFieldsOfEveryZone) {
    Machine m(KernelArch::X86_64, 64 * MiB);
    auto pa = m.buddy->alloc_pages(GFP_KERNEL, 0);  // fills the DMA32 pcp list
    ASSERT_TRUE(pa);
    const std::string text = proc_zoneinfo(m.sources());
    const std::vector<std::string> lines = lines_of(text);
    std::vector<std::string> headers;
    for (const std::string& l : lines)
        if (l.rfind("Node 0, zone ", 0) == 0) headers.push_back(l);
    EXPECT_EQ(headers,
              (std::vector<std::string>{"Node 0, zone      DMA", "Node 0, zone    DMA32", "Node 0, zone   Normal",
                                        "Node 0, zone  Movable", "Node 0, zone   Device"}));
    const zone& z = m.buddy->zone_at(ZONE_DMA32);
    const std::string block = text.substr(text.find("Node 0, zone    DMA32"),
                                          text.find("Node 0, zone   Normal") - text.find("Node 0, zone    DMA32"));
    auto has = [&](const std::string& s) { return block.find(s + "\n") != std::string::npos; };
    EXPECT_TRUE(has("  pages free     " + std::to_string(z.nr_free_pages)));
    EXPECT_TRUE(has("        min      " + std::to_string(z.min_wmark_pages())));
    EXPECT_TRUE(has("        low      " + std::to_string(z.low_wmark_pages())));
    EXPECT_TRUE(has("        high     " + std::to_string(z.high_wmark_pages())));
    EXPECT_TRUE(has("        spanned  " + std::to_string(z.spanned_pages)));
    EXPECT_TRUE(has("        present  " + std::to_string(z.present_pages)));
    EXPECT_TRUE(has("        managed  " + std::to_string(z.managed_pages)));
    EXPECT_TRUE(has("        protection: (0, 0, 0, 0, 0)"));
    EXPECT_TRUE(has("      nr_free_pages " + std::to_string(z.nr_free_pages)));
    EXPECT_TRUE(has("              count:    " + std::to_string(z.pcp.count)));
    EXPECT_TRUE(has("              batch:    " + std::to_string(z.pcp.batch)));
    EXPECT_TRUE(has("  start_pfn:           4096"));
    EXPECT_TRUE(has("      numa_hit     " + std::to_string(z.numa_hit)));
    EXPECT_GE(z.numa_hit, 1u);
    const zone& dma = m.buddy->zone_at(ZONE_DMA);
    char prot[96];
    std::snprintf(prot, sizeof prot, "        protection: (0, %llu, %llu, %llu, %llu)",
                  static_cast<unsigned long long>(dma.lowmem_reserve[ZONE_DMA32]),
                  static_cast<unsigned long long>(dma.lowmem_reserve[ZONE_NORMAL]),
                  static_cast<unsigned long long>(dma.lowmem_reserve[ZONE_MOVABLE]),
                  static_cast<unsigned long long>(dma.lowmem_reserve[ZONE_DEVICE]));
    EXPECT_NE(text.find(std::string(prot) + "\n      nr_free_pages"), std::string::npos) << prot;
    EXPECT_NE(text.find("Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 0"), std::string::npos);
    // An empty zone ends after its protection line.
    EXPECT_NE(text.find("Node 0, zone   Normal\n  pages free     0\n"), std::string::npos);
    const size_t normal = text.find("Node 0, zone   Normal");
    EXPECT_LT(text.find("protection: (0, 0, 0, 0, 0)\nNode 0, zone  Movable", normal), text.size());
    m.buddy->free_pages(*pa, 0);
}

TEST(GuestosProcTest, SlabinfoHasVersion21HeaderAndSlubFigures) {
    Machine m(KernelArch::X86_64, 32 * MiB);
    std::vector<PhysAddr> objs;
    for (int i = 0; i < 100; ++i) objs.push_back(*m.slab->kmalloc(64, GFP_KERNEL));
    const std::vector<std::string> lines = lines_of(proc_slabinfo(*m.slab));
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(lines[0], "slabinfo - version: 2.1");
    EXPECT_EQ(lines[1],
              "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables "
              "<limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>");
    const auto it =
        std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("kmalloc-64 ", 0) == 0; });
    ASSERT_NE(it, lines.end());
    EXPECT_EQ(
        *it,
        "kmalloc-64           100    128     64   64    1 : tunables    0    0    0 : slabdata      2      2      0");
    const auto k8k =
        std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("kmalloc-8k ", 0) == 0; });
    ASSERT_NE(k8k, lines.end());
    EXPECT_EQ(
        *k8k,
        "kmalloc-8k             0      0   8192    4    8 : tunables    0    0    0 : slabdata      0      0      0");
    for (PhysAddr o : objs) m.slab->kfree(o);
}

TEST(GuestosProcTest, VmstatCountsAllocationsPerZone) {
    Machine m(KernelArch::X86_64, 64 * MiB);
    const auto base = parse_vmstat(proc_vmstat(m.sources()));
    auto a = m.buddy->alloc_pages(GFP_KERNEL, 2);
    auto d = m.buddy->alloc_pages(GFP_DMA, 0);
    ASSERT_TRUE(a && d);
    m.buddy->free_pages(*a, 2);
    std::vector<std::string> order;
    const auto v = parse_vmstat(proc_vmstat(m.sources()), &order);
    EXPECT_EQ(v.at("pgalloc_dma32") - base.at("pgalloc_dma32"), 4u);
    EXPECT_EQ(v.at("pgalloc_dma") - base.at("pgalloc_dma"), 1u);
    EXPECT_EQ(v.at("pgfree") - base.at("pgfree"), 4u);
    EXPECT_EQ(v.at("nr_free_pages"), m.buddy->nr_free_buddy());
    EXPECT_EQ(v.at("nr_memmap_boot_pages"), m.buddy->memmap_pages());
    EXPECT_EQ(v.count("pgalloc_high"), 0u);
    EXPECT_EQ(order.front(), "nr_free_pages");
    EXPECT_EQ(order.back(), "nr_unstable");
    auto pos = [&](const char* n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
    EXPECT_LT(pos("nr_free_pages"), pos("numa_hit"));
    EXPECT_LT(pos("numa_hit"), pos("nr_inactive_anon"));
    EXPECT_LT(pos("nr_memmap_boot_pages"), pos("pgpgin"));
    EXPECT_LT(pos("pgalloc_device"), pos("allocstall_dma"));
    EXPECT_LT(pos("pgskip_device"), pos("pgfree"));
    EXPECT_LT(pos("pgfree"), pos("pgfault"));
    m.buddy->free_pages(*d, 0);

    Machine h(KernelArch::I386, 64 * MiB, 32 * MiB);
    auto u = h.buddy->alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    ASSERT_TRUE(u);
    const auto hv = parse_vmstat(proc_vmstat(h.sources()));
    EXPECT_EQ(hv.at("pgalloc_high"), 1u);
    EXPECT_EQ(hv.count("pgalloc_dma32"), 0u);
    EXPECT_EQ(hv.count("numa_hit"), 0u);
    h.buddy->free_pages(*u, 0);
}
