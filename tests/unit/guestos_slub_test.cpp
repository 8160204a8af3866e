// SLUB and kmalloc: Linux's size classes and slab geometry, objects that never overlap,
// LIFO reuse, freelists in RAM, constructors, shrink, kmalloc_large, exhaustion, bad frees.
#include <gtest/gtest.h>

#include "guestos_test_util.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "guestos/mm/slub.h"
#include "mmu/phys_memory.h"

using namespace guestos;

namespace {

struct Machine {
    std::unique_ptr<mmu::PhysMemory> ram;
    std::unique_ptr<BuddyAllocator> buddy;
    std::unique_ptr<SlabAllocator> slab;
    explicit Machine(uint64_t ram_bytes, KernelArch arch = KernelArch::X86_64) {
        ram = mmu::PhysMemory::create(ram_bytes).release_value();
        BuddyConfig cfg;
        cfg.arch = arch;
        cfg.lowmem_limit_bytes = ram_bytes / 2;
        buddy = std::make_unique<BuddyAllocator>(*ram, cfg);
        slab = std::make_unique<SlabAllocator>(*buddy);
    }
    // Free pages with the pcp lists drained into the buddy lists.
    uint64_t settled_free() {
        buddy->drain_all_pages();
        return buddy->nr_free_pages();
    }
};

// Linux's runtime size class for size <= 8192: size_index[] for <= 192 bytes, else
// fls(size - 1) (mm/slab_common.c kmalloc_slab), an independent statement of kmalloc_index.
unsigned linux_kmalloc_slab_index(size_t size) {
    static const uint8_t size_index[24] = {3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2};
    if (size <= 192) return size_index[(size - 1) / 8];
    unsigned fls = 0;
    for (size_t v = size - 1; v; v >>= 1) ++fls;
    return fls;
}

kmem_cache* find_cache(const SlabAllocator& s, const std::string& name) {
    for (kmem_cache* c : s.slab_caches())
        if (c->name == name) return c;
    return nullptr;
}

}  // namespace

TEST(GuestosSlubTest, KmallocIndexIsLinuxsSizeClassTable) {
    EXPECT_EQ(kmalloc_index(0), 0u);
    for (size_t size = 1; size <= KMALLOC_MAX_CACHE_SIZE; ++size)
        ASSERT_EQ(kmalloc_index(size), linux_kmalloc_slab_index(size)) << "size " << size;
    EXPECT_EQ(kmalloc_index(8), 3u);
    EXPECT_EQ(kmalloc_index(65), 1u);  // kmalloc-96
    EXPECT_EQ(kmalloc_index(96), 1u);
    EXPECT_EQ(kmalloc_index(97), 7u);   // kmalloc-128
    EXPECT_EQ(kmalloc_index(129), 2u);  // kmalloc-192
    EXPECT_EQ(kmalloc_index(193), 8u);
    EXPECT_EQ(kmalloc_index(8193), 14u);
    EXPECT_EQ(kmalloc_size(1), 96u);
    EXPECT_EQ(kmalloc_size(2), 192u);
    EXPECT_EQ(kmalloc_size(13), 8192u);
}

TEST(GuestosSlubTest, KmallocUsesTheCacheOfItsSizeClass) {
    Machine m(32 * MiB);
    SlabAllocator& s = *m.slab;
    for (const char* name : {"kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-96", "kmalloc-128",
                             "kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1k", "kmalloc-2k", "kmalloc-4k",
                             "kmalloc-8k", "kmalloc-rcl-64", "dma-kmalloc-64"})
        EXPECT_TRUE(find_cache(s, name)) << name;
    for (size_t size : {1ul, 8ul, 9ul, 64ul, 65ul, 96ul, 100ul, 150ul, 192ul, 200ul, 1000ul, 5000ul, 8192ul}) {
        auto obj = s.kmalloc(size, GFP_KERNEL);
        ASSERT_TRUE(obj);
        const page& head = m.buddy->pfn_page(obj->pfn());
        const kmem_cache* c =
            (head.flags & PG_tail) ? m.buddy->pfn_page(head.compound_head).slab_cache : head.slab_cache;
        ASSERT_TRUE(c);
        EXPECT_EQ(c, s.kmalloc_slab(size));
        EXPECT_EQ(c->object_size, kmalloc_size(kmalloc_index(size))) << size;
        EXPECT_GE(s.ksize(*obj), size);
        s.kfree(*obj);
    }
    EXPECT_EQ(s.kmalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
    s.kfree(ZERO_SIZE_PTR);
    s.kfree(PhysAddr(0));
    EXPECT_EQ(s.nr_bad_frees(), 0u);
    EXPECT_EQ(s.kmalloc_slab(8193), nullptr);
    EXPECT_EQ(s.kmalloc_slab(64, GFP_DMA), find_cache(s, "dma-kmalloc-64"));
    EXPECT_EQ(s.kmalloc_slab(64, GFP_KERNEL | __GFP_RECLAIMABLE), find_cache(s, "kmalloc-rcl-64"));
}

TEST(GuestosSlubTest, KmallocCacheGeometryIsSlubsForOneCpu) {
    Machine m(32 * MiB);
    // objsize, objperslab, pagesperslab of Linux's SLUB with min_objects = 4 * (fls(1) + 1).
    const std::map<std::string, std::array<unsigned, 3>> expect = {
        {"kmalloc-8", {8, 512, 1}},    {"kmalloc-16", {16, 256, 1}},  {"kmalloc-32", {32, 128, 1}},
        {"kmalloc-64", {64, 64, 1}},   {"kmalloc-96", {96, 42, 1}},   {"kmalloc-128", {128, 32, 1}},
        {"kmalloc-192", {192, 21, 1}}, {"kmalloc-256", {256, 16, 1}}, {"kmalloc-512", {512, 8, 1}},
        {"kmalloc-1k", {1024, 8, 2}},  {"kmalloc-2k", {2048, 8, 4}},  {"kmalloc-4k", {4096, 8, 8}},
        {"kmalloc-8k", {8192, 4, 8}}};
    for (const auto& [name, g] : expect) {
        const kmem_cache* c = find_cache(*m.slab, name);
        ASSERT_TRUE(c) << name;
        EXPECT_EQ(c->size, g[0]) << name;
        EXPECT_EQ(c->oo.objects, g[1]) << name;
        EXPECT_EQ(1u << c->oo.order, g[2]) << name;
    }
    // Newest first, as /proc/slabinfo lists them: kmalloc-8 was created right after -96/-192.
    const auto& caches = m.slab->slab_caches();
    auto pos = [&](const char* n) { return std::find(caches.begin(), caches.end(), find_cache(*m.slab, n)); };
    EXPECT_LT(pos("kmalloc-8k"), pos("kmalloc-8"));
    EXPECT_LT(pos("kmalloc-8"), pos("kmalloc-192"));
    EXPECT_LT(pos("kmalloc-192"), pos("kmalloc-96"));
}

TEST(GuestosSlubTest, ObjectsNeverOverlapAndKeepTheirContents) {
    for (KernelArch arch : {KernelArch::X86_64, KernelArch::I386}) {
        Machine m(64 * MiB, arch);
        SlabAllocator& s = *m.slab;
        std::mt19937 rng(11);
        struct Obj {
            PhysAddr pa;
            size_t size;
            uint8_t tag;
        };
        std::vector<Obj> objs;
        for (int i = 0; i < 6000; ++i) {
            const size_t size = 1 + rng() % (rng() % 8 ? 300 : 9000);
            auto pa = s.kmalloc(size, GFP_KERNEL);
            ASSERT_TRUE(pa);
            ASSERT_FALSE(m.buddy->PageHighMem(pa->pfn())) << "slab memory is lowmem";
            const uint8_t tag = static_cast<uint8_t>(rng());
            std::memset(m.ram->host(*pa, size), tag, size);
            objs.push_back({*pa, size, tag});
            if (rng() % 3 == 0) {  // free a random one, so later objects reuse slots
                const size_t k = rng() % objs.size();
                s.kfree(objs[k].pa);
                objs.erase(objs.begin() + static_cast<long>(k));
            }
        }
        std::sort(objs.begin(), objs.end(), [](const Obj& a, const Obj& b) { return a.pa < b.pa; });
        for (size_t i = 0; i + 1 < objs.size(); ++i)
            ASSERT_LE(objs[i].pa.value + objs[i].size, objs[i + 1].pa.value) << "objects overlap";
        for (const Obj& o : objs) {
            const uint8_t* p = m.ram->host(o.pa, o.size);
            ASSERT_TRUE(std::all_of(p, p + o.size, [&](uint8_t c) { return c == o.tag; }))
                << "an object's bytes changed while it was allocated";
        }
        EXPECT_CONSISTENT(s);
        for (const Obj& o : objs) s.kfree(o.pa);
        EXPECT_EQ(s.nr_bad_frees(), 0u);
        EXPECT_CONSISTENT(s);
        EXPECT_CONSISTENT(*m.buddy);
    }
}

TEST(GuestosSlubTest, FreedObjectIsReusedFirstAndTheFreelistLivesInRam) {
    for (KernelArch arch : {KernelArch::X86_64, KernelArch::I386}) {
        Machine m(16 * MiB, arch);
        SlabAllocator& s = *m.slab;
        kmem_cache* c = s.kmalloc_slab(64);
        auto a = s.kmalloc(64, GFP_KERNEL);
        auto b = s.kmalloc(64, GFP_KERNEL);
        ASSERT_TRUE(a && b);
        EXPECT_EQ(b->value, a->value + 64);  // a fresh slab hands out objects in address order
        s.kfree(*a);
        s.kfree(*b);
        // SLUB's free pointer: b (the freelist head) holds a's address at c->offset.
        EXPECT_EQ(c->cpu_slab.freelist, b->value);
        EXPECT_EQ(c->offset, 32u);  // mid-object, as Linux since 5.7
        const uint64_t fp =
            arch == KernelArch::I386 ? m.ram->read<uint32_t>(*b + c->offset) : m.ram->read<uint64_t>(*b + c->offset);
        EXPECT_EQ(fp, a->value);
        auto again = s.kmalloc(64, GFP_KERNEL);
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, *b);  // LIFO: the last freed object comes back first
        s.kfree(*again);
        EXPECT_CONSISTENT(s);
    }
}

TEST(GuestosSlubTest, ConstructorRunsOncePerObjectAndItsStateSurvivesFree) {
    Machine m(16 * MiB);
    SlabAllocator& s = *m.slab;
    int ctor_calls = 0;
    auto c = s.kmem_cache_create("task_struct", 200, 0, SLAB_HWCACHE_ALIGN, [&](mmu::PhysMemory& ram, PhysAddr obj) {
        ++ctor_calls;
        for (unsigned i = 0; i < 200; i += 8) ram.write<uint64_t>(obj + i, 0xC0FFEE);
    });
    ASSERT_FALSE(c.is_error());
    kmem_cache* cache = c.value();
    EXPECT_EQ(cache->offset, 200u);   // the free pointer goes after a constructed object
    EXPECT_EQ(cache->size % 64, 0u);  // SLAB_HWCACHE_ALIGN
    auto constructed = [&] { return static_cast<int>(cache->stat[ALLOC_SLAB] * cache->oo.objects); };
    std::vector<PhysAddr> objs;
    for (int i = 0; i < 100; ++i) objs.push_back(*s.kmem_cache_alloc(cache, GFP_KERNEL));
    EXPECT_EQ(ctor_calls, constructed());  // every object of every new slab, once
    EXPECT_GE(constructed(), 100);
    // A freed and reallocated object keeps what the constructor wrote: SLUB put its free
    // pointer after the object, and allocation does not construct again.
    s.kmem_cache_free(cache, objs[99]);  // in the cpu slab: LIFO reuse
    auto again = s.kmem_cache_alloc(cache, GFP_KERNEL);
    ASSERT_EQ(again, objs[99]);
    for (unsigned k = 0; k < 200; k += 8) ASSERT_EQ(m.ram->read<uint64_t>(*again + k), 0xC0FFEEu);
    for (PhysAddr o : objs) s.kmem_cache_free(cache, o);
    for (int i = 0; i < 100; ++i) {
        auto o = s.kmem_cache_alloc(cache, GFP_KERNEL);
        ASSERT_TRUE(o);
        for (unsigned k = 0; k < 200; k += 8) ASSERT_EQ(m.ram->read<uint64_t>(*o + k), 0xC0FFEEu);
        objs[i] = *o;
    }
    EXPECT_EQ(ctor_calls, constructed());
    for (PhysAddr o : objs) s.kmem_cache_free(cache, o);
    EXPECT_CONSISTENT(s);
}

TEST(GuestosSlubTest, ShrinkReturnsEmptySlabsToTheBuddyAllocator) {
    Machine m(32 * MiB);
    SlabAllocator& s = *m.slab;
    const uint64_t baseline = m.settled_free();
    auto c = s.kmem_cache_create("dentry", 192, 0, 0);
    ASSERT_FALSE(c.is_error());
    kmem_cache* cache = c.value();
    std::vector<PhysAddr> objs;
    for (int i = 0; i < 2000; ++i) objs.push_back(*s.kmem_cache_alloc(cache, GFP_KERNEL));
    const uint64_t slabs = cache->node.nr_slabs;
    EXPECT_EQ(slabs, (2000 + cache->oo.objects - 1) / cache->oo.objects);
    for (PhysAddr o : objs) s.kmem_cache_free(cache, o);
    // Freeing keeps min_partial empty slabs (and the cpu slab) around, as SLUB does.
    EXPECT_GT(cache->node.nr_slabs, 0u);
    EXPECT_LE(cache->node.nr_slabs, cache->min_partial + 1);
    EXPECT_LT(m.settled_free(), baseline);
    const uint64_t kept = cache->node.nr_slabs;
    EXPECT_EQ(s.kmem_cache_shrink(cache), kept);
    EXPECT_EQ(cache->node.nr_slabs, 0u);
    EXPECT_EQ(m.settled_free(), baseline);
    EXPECT_EQ(m.buddy->node_page_state(NR_SLAB_UNRECLAIMABLE_B), 0);
    EXPECT_FALSE(s.kmem_cache_destroy(cache).is_error());
    EXPECT_CONSISTENT(s);
}

TEST(GuestosSlubTest, ReclaimableCachesCountAsSReclaimable) {
    Machine m(64 * MiB);
    SlabAllocator& s = *m.slab;
    auto c = s.kmem_cache_create("inode_cache", 600, 0, SLAB_RECLAIM_ACCOUNT);
    ASSERT_FALSE(c.is_error());
    auto o = s.kmem_cache_alloc(c.value(), GFP_KERNEL);
    ASSERT_TRUE(o);
    EXPECT_EQ(m.buddy->node_page_state(NR_SLAB_RECLAIMABLE_B), static_cast<int64_t>(PAGE_SIZE << c.value()->oo.order));
    EXPECT_EQ(m.buddy->node_page_state(NR_SLAB_UNRECLAIMABLE_B), 0);
    const uint64_t pfn = o->pfn() & ~((1ull << c.value()->oo.order) - 1);
    EXPECT_EQ(m.buddy->page_zonenum(pfn), ZONE_DMA32);
    s.kmem_cache_free(c.value(), *o);
    EXPECT_CONSISTENT(s);
}

TEST(GuestosSlubTest, KmallocLargeTakesCompoundPagesFromTheBuddyAllocator) {
    Machine m(32 * MiB);
    SlabAllocator& s = *m.slab;
    const uint64_t baseline = m.settled_free();
    auto big = s.kmalloc(20000, GFP_KERNEL | __GFP_ZERO);
    ASSERT_TRUE(big);
    EXPECT_EQ(big->value % PAGE_SIZE, 0u);
    const page& head = m.buddy->pfn_page(big->pfn());
    EXPECT_TRUE(head.flags & PG_head);
    EXPECT_EQ(head.order, 3u);  // 20000 bytes -> 8 pages
    EXPECT_EQ(head.use, PageUse::Slab);
    EXPECT_EQ(s.ksize(*big), 32768u);
    EXPECT_EQ(m.buddy->node_page_state(NR_SLAB_UNRECLAIMABLE_B), 32768);
    const uint8_t* p = m.ram->host(*big, 20000);
    EXPECT_TRUE(std::all_of(p, p + 20000, [](uint8_t c) { return c == 0; }));
    EXPECT_CONSISTENT(s);
    s.kfree(*big + 4096);  // not the start: rejected
    EXPECT_EQ(s.nr_bad_frees(), 1u);
    s.kfree(*big);
    EXPECT_EQ(m.buddy->node_page_state(NR_SLAB_UNRECLAIMABLE_B), 0);
    EXPECT_EQ(m.settled_free(), baseline);
    EXPECT_FALSE(s.kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL));
    EXPECT_CONSISTENT(s);
}

TEST(GuestosSlubTest, ExhaustionGivesNulloptAndEverythingStaysConsistent) {
    Machine m(8 * MiB);
    SlabAllocator& s = *m.slab;
    const uint64_t baseline = m.settled_free();
    std::vector<PhysAddr> objs;
    for (size_t size : {2048ul, 100ul, 8ul, 30000ul}) {
        while (auto o = s.kmalloc(size, GFP_KERNEL)) objs.push_back(*o);
        EXPECT_FALSE(s.kmalloc(size, GFP_KERNEL)) << size;
    }
    EXPECT_GT(objs.size(), 1000u);
    EXPECT_CONSISTENT(s);
    EXPECT_CONSISTENT(*m.buddy);
    auto c = s.kmem_cache_create("late", 64, 0, 0);
    ASSERT_FALSE(c.is_error());
    while (auto o = s.kmem_cache_alloc(c.value(), GFP_ATOMIC)) objs.push_back(*o);
    for (PhysAddr o : objs)
        if (o.pfn() < m.buddy->max_pfn() && m.buddy->pfn_page(o.pfn()).slab_cache == c.value())
            s.kmem_cache_free(c.value(), o);
        else s.kfree(o);
    EXPECT_EQ(s.nr_bad_frees(), 0u);
    for (kmem_cache* cache : s.slab_caches()) s.kmem_cache_shrink(cache);
    EXPECT_EQ(m.settled_free(), baseline);
    EXPECT_CONSISTENT(s);
    EXPECT_CONSISTENT(*m.buddy);
}

TEST(GuestosSlubTest, BadFreesAreIgnoredAndCounted) {
    Machine m(16 * MiB);
    SlabAllocator& s = *m.slab;
    auto a = s.kmalloc(128, GFP_KERNEL);
    auto b = s.kmalloc(128, GFP_KERNEL);
    auto other = s.kmem_cache_create("other", 128, 0, 0);
    ASSERT_TRUE(a && b);
    ASSERT_FALSE(other.is_error());
    s.kfree(*a + 8);                       // inside an object
    s.kfree(PhysAddr(0x2000));             // a reserved frame, no slab
    s.kfree(PhysAddr(1ull << 40));         // outside RAM
    s.kmem_cache_free(other.value(), *a);  // the wrong cache
    EXPECT_EQ(s.nr_bad_frees(), 4u);
    s.kfree(*a);
    s.kfree(*a);  // double free (the freelist head)
    EXPECT_EQ(s.nr_bad_frees(), 5u);
    EXPECT_CONSISTENT(s);
    s.kfree(*b);
    auto x = s.kmalloc(128, GFP_KERNEL);
    auto y = s.kmalloc(128, GFP_KERNEL);
    ASSERT_TRUE(x && y);
    EXPECT_NE(*x, *y);  // the rejected double free did not put a twice on the freelist
    s.kfree(*x);
    s.kfree(*y);
    EXPECT_CONSISTENT(s);
}

TEST(GuestosSlubTest, DestroyRefusesWhileObjectsAreAllocated) {
    Machine m(16 * MiB);
    SlabAllocator& s = *m.slab;
    auto c = s.kmem_cache_create("vm_area_struct", 176, 0, 0);
    ASSERT_FALSE(c.is_error());
    auto o = s.kmem_cache_alloc(c.value(), GFP_KERNEL | __GFP_ZERO);
    ASSERT_TRUE(o);
    auto r = s.kmem_cache_destroy(c.value());
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().errno_value, EBUSY);
    s.kmem_cache_free(c.value(), *o);
    EXPECT_FALSE(s.kmem_cache_destroy(c.value()).is_error());
    EXPECT_TRUE(s.kmem_cache_destroy(s.kmalloc_slab(64)).is_error());  // kmalloc caches stay
    EXPECT_TRUE(s.kmem_cache_create("", 8, 0, 0).is_error());
    EXPECT_TRUE(s.kmem_cache_create("huge", KMALLOC_MAX_SIZE + 1, 0, 0).is_error());
    EXPECT_CONSISTENT(s);
}

TEST(GuestosSlubTest, GfpZeroZeroesARecycledObject) {
    Machine m(16 * MiB);
    SlabAllocator& s = *m.slab;
    auto a = s.kmalloc(256, GFP_KERNEL);
    ASSERT_TRUE(a);
    std::memset(m.ram->host(*a, 256), 0x5A, 256);
    s.kfree(*a);
    auto z = s.kzalloc(256, GFP_KERNEL);
    ASSERT_EQ(z, a);
    const uint8_t* p = m.ram->host(*z, 256);
    EXPECT_TRUE(std::all_of(p, p + 256, [](uint8_t c) { return c == 0; }));
    s.kfree(*z);
}

TEST(GuestosSlubTest, SlabinfoCountsFollowSlub) {
    Machine m(16 * MiB);
    SlabAllocator& s = *m.slab;
    std::vector<PhysAddr> objs;
    for (int i = 0; i < 100; ++i) objs.push_back(*s.kmalloc(64, GFP_KERNEL));
    const kmem_cache& c = *s.kmalloc_slab(64);
    slabinfo info = s.get_slabinfo(c);
    EXPECT_EQ(info.num_slabs, 2u);
    EXPECT_EQ(info.num_objs, 128u);
    EXPECT_EQ(info.active_objs, 100u);  // exact: the cpu slab's 28 free objects are not active
    EXPECT_EQ(info.objects_per_slab, 64u);
    s.kfree(objs[0]);  // the first slab is full and not the cpu slab: it becomes partial
    info = s.get_slabinfo(c);
    EXPECT_EQ(info.active_objs, 99u);
    s.kfree(objs[99]);  // a free into the cpu slab
    info = s.get_slabinfo(c);
    EXPECT_EQ(info.active_objs, 98u);
    objs.pop_back();
    for (size_t i = 1; i < objs.size(); ++i) s.kfree(objs[i]);
    EXPECT_CONSISTENT(s);
}
