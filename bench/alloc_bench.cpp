// Google Benchmark of the physical-memory allocators: ns per order-0 alloc+free (buddy with
// per-cpu lists), per kmalloc(64)+kfree (SLUB), per kmap+kunmap of a highmem page (pkmap).
//   ./build/bench/alloc_bench [--benchmark_filter=...]
// No thresholds: the numbers are for people, not for ctest.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "guestos/mm/highmem.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/slub.h"
#include "guestos/mm/vmalloc.h"
#include "mmu/phys_memory.h"

using namespace guestos;

namespace {

constexpr uint64_t MiB = 1ull << 20;

std::unique_ptr<mmu::PhysMemory> make_ram(uint64_t bytes) { return mmu::PhysMemory::create(bytes).release_value(); }

BuddyConfig i386_highmem() {
    BuddyConfig cfg;
    cfg.arch = KernelArch::I386;
    cfg.lowmem_limit_bytes = 32 * MiB;
    return cfg;
}

// One order-0 page allocated and freed through the PageAllocator interface, as mm code does.
void BM_BuddyOrder0AllocFree(benchmark::State& state) {
    auto ram = make_ram(256 * MiB);
    BuddyAllocator buddy(*ram);
    PageAllocator& pa = buddy;
    for (auto _ : state) {
        auto page = pa.alloc_page(GFP_KERNEL);
        benchmark::DoNotOptimize(page);
        pa.free_page(*page);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuddyOrder0AllocFree);

// A zeroed order-0 page (__GFP_ZERO), allocated and freed: the recycled page is cleared
// every time, through its kernel mapping (clear_highpage). Lowmem (x86-64's direct map) and
// highmem (i386, kmap_atomic).
void zeroed_alloc_free(benchmark::State& state, const BuddyConfig& cfg, gfp_t gfp) {
    auto ram = make_ram(256 * MiB);
    BuddyAllocator buddy(*ram, cfg);
    auto kpt = KernelPageTable::create(buddy).release_value();
    Highmem highmem(*kpt, buddy);
    buddy.set_highmem(&highmem);
    for (auto _ : state) {
        auto page = buddy.alloc_page(gfp | __GFP_ZERO);
        benchmark::DoNotOptimize(page);
        buddy.free_page(*page);
    }
    state.SetItemsProcessed(state.iterations());
}
void BM_BuddyOrder0AllocFreeZeroLowmem(benchmark::State& state) { zeroed_alloc_free(state, {}, GFP_KERNEL); }
BENCHMARK(BM_BuddyOrder0AllocFreeZeroLowmem);
void BM_BuddyOrder0AllocFreeZeroHighmem(benchmark::State& state) {
    zeroed_alloc_free(state, i386_highmem(), GFP_HIGHUSER_MOVABLE);
}
BENCHMARK(BM_BuddyOrder0AllocFreeZeroHighmem);

// 4096 order-0 pages allocated, then freed: pcp refills and spills, buddy splits and merges.
void BM_BuddyOrder0AllocFreeBurst(benchmark::State& state) {
    auto ram = make_ram(256 * MiB);
    BuddyAllocator buddy(*ram);
    std::vector<PhysAddr> pages(4096);
    for (auto _ : state) {
        for (PhysAddr& p : pages) p = *buddy.alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
        for (PhysAddr p : pages) buddy.free_pages(p, 0);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(pages.size()));
}
BENCHMARK(BM_BuddyOrder0AllocFreeBurst);

// An order-3 block: no pcp list, a split and a merge each time.
void BM_BuddyOrder3AllocFree(benchmark::State& state) {
    auto ram = make_ram(256 * MiB);
    BuddyAllocator buddy(*ram);
    for (auto _ : state) {
        auto page = buddy.alloc_pages(GFP_KERNEL, 3);
        benchmark::DoNotOptimize(page);
        buddy.free_pages(*page, 3);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuddyOrder3AllocFree);

void BM_KmallocKfree64(benchmark::State& state) {
    auto ram = make_ram(256 * MiB);
    BuddyAllocator buddy(*ram);
    SlabAllocator slab(buddy);
    for (auto _ : state) {
        auto obj = slab.kmalloc(64, GFP_KERNEL);
        benchmark::DoNotOptimize(obj);
        slab.kfree(*obj);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KmallocKfree64);

// 4096 kmalloc(64) then 4096 kfree: new slabs, partial lists, the slow paths.
void BM_KmallocKfree64Burst(benchmark::State& state) {
    auto ram = make_ram(256 * MiB);
    BuddyAllocator buddy(*ram);
    SlabAllocator slab(buddy);
    std::vector<PhysAddr> objs(4096);
    for (auto _ : state) {
        for (PhysAddr& o : objs) o = *slab.kmalloc(64, GFP_KERNEL);
        for (PhysAddr o : objs) slab.kfree(o);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(objs.size()));
}
BENCHMARK(BM_KmallocKfree64Burst);

struct HighmemMachine {
    std::unique_ptr<mmu::PhysMemory> ram = make_ram(64 * MiB);
    BuddyAllocator buddy{*ram, i386_highmem()};
    std::unique_ptr<KernelPageTable> kpt = KernelPageTable::create(buddy).release_value();
    Highmem highmem{*kpt, buddy};
    std::vector<PhysAddr> pages(size_t n) {
        std::vector<PhysAddr> v(n);
        for (PhysAddr& p : v) p = *buddy.alloc_pages(GFP_HIGHUSER, 0);
        return v;
    }
};

// kmap/kunmap of one highmem page: after the first call its pkmap slot is reused.
void BM_KmapKunmapHighmem(benchmark::State& state) {
    HighmemMachine m;
    const PhysAddr page = m.pages(1).front();
    for (auto _ : state) {
        auto va = m.highmem.kmap(page);
        benchmark::DoNotOptimize(va);
        m.highmem.kunmap(page);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KmapKunmapHighmem);

// kmap/kunmap over 4096 highmem pages: a new pkmap PTE every time and a
// flush_all_zero_pkmaps every LAST_PKMAP maps.
void BM_KmapKunmapHighmemRotating(benchmark::State& state) {
    HighmemMachine m;
    const std::vector<PhysAddr> pages = m.pages(4096);
    size_t i = 0;
    for (auto _ : state) {
        const PhysAddr page = pages[i++ & 4095];
        auto va = m.highmem.kmap(page);
        benchmark::DoNotOptimize(va);
        m.highmem.kunmap(page);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KmapKunmapHighmemRotating);

void BM_KmapAtomicHighmem(benchmark::State& state) {
    HighmemMachine m;
    const PhysAddr page = m.pages(1).front();
    for (auto _ : state) {
        auto va = m.highmem.kmap_atomic(page);
        benchmark::DoNotOptimize(va);
        (void)m.highmem.kunmap_atomic(va.value());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KmapAtomicHighmem);

}  // namespace

BENCHMARK_MAIN();
