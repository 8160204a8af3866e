// VMA tree costs at 10, 1,000 and 65,000 VMAs (Google Benchmark): find_vma, the tree part of
// mmap+munmap, the whole do_mmap+do_munmap on an mm, and a vm_next list walk for contrast.
// Tree costs must grow like log n.
//   cmake --build build --target vma_bench && ./build/bench/vma_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "guestos/mm/memory.h"
#include "guestos/include/mm_types.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/slab_object.h"
#include "guestos/mm/slub.h"
#include "guestos/mm/vma_tree.h"

namespace {

using namespace guestos;

constexpr uint64_t P = PAGE_SIZE;
constexpr uint64_t BASE = 0x10000;  // mmap_min_addr
constexpr size_t PROBES = 4096;     // a power of two

// VMA i is the page at BASE + 2i pages; a one-page hole follows each.
VirtAddr vma_start(uint64_t i) { return VirtAddr(BASE + 2 * i * P); }

std::unique_ptr<vm_area_struct> page_vma(VirtAddr start) {
    auto v = std::make_unique<vm_area_struct>();
    v->vm_start = start;
    v->vm_end = start + P;
    v->vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    return v;
}

// A tree of n one-page VMAs inserted in random order, as a long-running process collects them.
void populate(VmaTree& t, uint64_t n) {
    std::vector<uint64_t> order(n);
    for (uint64_t i = 0; i < n; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
    for (uint64_t i : order) t.insert(page_vma(vma_start(i)));
}

// `count` random VMA indices below n, repeated to fill PROBES.
std::vector<uint64_t> random_indices(uint64_t n, size_t count = PROBES) {
    std::mt19937_64 rng(7);
    std::vector<uint64_t> idx(PROBES);
    for (size_t i = 0; i < PROBES; ++i)
        idx[i] = i < count ? std::uniform_int_distribution<uint64_t>(0, n - 1)(rng) : idx[i % count];
    return idx;
}

// Nodes find_vma's descent visits for addr, counted outside the timed loop.
int nodes_visited(const VmaTree& t, VirtAddr addr) {
    int visited = 0;
    for (const vm_area_struct* n = t.rb_root(); n; ++visited) {
        if (n->vm_end <= addr) n = n->vm_rb.rb_right;
        else if (n->vm_start <= addr) n = nullptr;
        else n = n->vm_rb.rb_left;
    }
    return visited;
}

// find_vma of random addresses, each in a VMA or a hole: 16 distinct ones keep their
// paths in cache, PROBES distinct ones spread over every VMA.
void find_vma_bench(benchmark::State& state, size_t distinct) {
    const uint64_t n = state.range(0);
    VmaTree t;
    populate(t, n);
    std::vector<VirtAddr> addrs;
    double visited = 0;
    for (uint64_t i : random_indices(n, distinct)) {
        addrs.push_back(vma_start(i) + (i & 1) * P + 0x123);
        visited += nodes_visited(t, addrs.back());
    }
    size_t k = 0;
    for (auto _ : state) benchmark::DoNotOptimize(t.find_vma(addrs[k++ & (PROBES - 1)]));
    state.counters["nodes/op"] = visited / PROBES;
    state.SetComplexityN(static_cast<int64_t>(n));
}

void BM_find_vma(benchmark::State& state) { find_vma_bench(state, PROBES); }
void BM_find_vma_hot(benchmark::State& state) { find_vma_bench(state, 16); }

// The tree part of mmap(MAP_FIXED)+munmap in a random hole: insert, find, erase.
void BM_insert_erase(benchmark::State& state) {
    const uint64_t n = state.range(0);
    VmaTree t;
    populate(t, n);
    const std::vector<uint64_t> holes = random_indices(n);
    std::unique_ptr<vm_area_struct> node = page_vma(VirtAddr(0));  // reused: no allocator in the loop
    size_t k = 0;
    for (auto _ : state) {
        const VirtAddr hole = vma_start(holes[k++ & (PROBES - 1)]) + P;
        node->vm_start = hole;
        node->vm_end = hole + P;
        t.insert(std::move(node));
        node = t.erase(t.find_vma(hole));
    }
    state.SetComplexityN(static_cast<int64_t>(n));
}

// The tree part of mmap+munmap: a top-down gap search below a random limit (get_unmapped_area),
// then insert, find and erase.
void BM_mmap_munmap(benchmark::State& state) {
    const uint64_t n = state.range(0);
    VmaTree t;
    populate(t, n);
    const std::vector<uint64_t> limits = random_indices(n);
    std::unique_ptr<vm_area_struct> node = page_vma(VirtAddr(0));
    vm_unmapped_area_info info;
    info.flags = VM_UNMAPPED_AREA_TOPDOWN;
    info.length = P;
    info.low_limit = VirtAddr(BASE);
    size_t k = 0;
    for (auto _ : state) {
        info.high_limit = vma_start(limits[k++ & (PROBES - 1)] | 1);  // the hole below VMA 2j+1
        const VirtAddr addr = t.unmapped_area_topdown(info).value();
        node->vm_start = addr;
        node->vm_end = addr + P;
        t.insert(std::move(node));
        node = t.erase(t.find_vma(addr));
    }
    state.SetComplexityN(static_cast<int64_t>(n));
}

// An x86-64 mm with its allocators: VMAs are vm_area_struct slab objects, as under emu.
struct MmMachine {
    std::unique_ptr<mmu::PhysMemory> ram = mmu::PhysMemory::create(256ull << 20).release_value();
    BuddyAllocator buddy{*ram};
    SlabAllocator slab{buddy};
    std::unique_ptr<KernelCaches> caches = KernelCaches::create(slab).release_value();
    std::unique_ptr<mm_struct> mm = mm_alloc(caches.get());

    // n one-page read-write VMAs at vma_start(i), mapped in random order (MAP_FIXED).
    explicit MmMachine(uint64_t n) {
        mm->ram = ram.get();
        mm->page_alloc = &buddy;
        mm->task_size = 0x7ffffffff000ull;
        mm->mmap_base = vma_start(n).value;  // top-down searches start among the VMAs
        if (!pgd_alloc(*mm)) std::abort();
        std::vector<uint64_t> order(n);
        for (uint64_t i = 0; i < n; ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
        for (uint64_t i : order)
            if (do_mmap(*mm, nullptr, vma_start(i).value, P, PROT_READ_ | PROT_WRITE_,
                        MAP_PRIVATE_ | MAP_ANONYMOUS_ | MAP_FIXED_, 0) < 0)
                std::abort();
        if (static_cast<uint64_t>(mm->map_count) != n) std::abort();
    }
    ~MmMachine() { mm.reset(); }
};

// The whole syscall core: do_mmap of one anonymous read-only page (it cannot merge with the
// read-write VMAs around it) at a hint in a random hole, then do_munmap of it. The tree grows
// and shrinks by one VMA each time; a vm_area_struct is allocated and freed from its cache.
// PROBES distinct holes spread over every VMA (at 65,000 VMAs the tree and the objects no
// longer fit the caches); 16 distinct ones keep their paths in cache, leaving the tree work.
void do_mmap_munmap_bench(benchmark::State& state, size_t distinct) {
    const uint64_t n = state.range(0);
    MmMachine m(n);
    const std::vector<uint64_t> holes = random_indices(n, distinct);
    size_t k = 0;
    for (auto _ : state) {
        const uint64_t hole = vma_start(holes[k++ & (PROBES - 1)]).value + P;
        const long addr = do_mmap(*m.mm, nullptr, hole, P, PROT_READ_, MAP_PRIVATE_ | MAP_ANONYMOUS_, 0);
        if (addr != static_cast<long>(hole) || m.mm->map_count != static_cast<int>(n + 1)) {
            state.SkipWithError("the new mapping merged or missed its hole");
            break;
        }
        do_munmap(*m.mm, hole, P);
    }
    state.SetComplexityN(static_cast<int64_t>(n));
}

void BM_do_mmap_munmap(benchmark::State& state) { do_mmap_munmap_bench(state, PROBES); }
void BM_do_mmap_munmap_hot(benchmark::State& state) { do_mmap_munmap_bench(state, 16); }

// The same without a hint: get_unmapped_area searches the tree top-down from mmap_base, the
// top of the VMAs, and finds the highest one-page hole.
void BM_do_mmap_munmap_search(benchmark::State& state) {
    const uint64_t n = state.range(0);
    MmMachine m(n);
    for (auto _ : state) {
        const long addr = do_mmap(*m.mm, nullptr, 0, P, PROT_READ_, MAP_PRIVATE_ | MAP_ANONYMOUS_, 0);
        if (addr <= 0 || m.mm->map_count != static_cast<int>(n + 1)) {
            state.SkipWithError("the new mapping merged or failed");
            break;
        }
        do_munmap(*m.mm, static_cast<uint64_t>(addr), P);
    }
    state.SetComplexityN(static_cast<int64_t>(n));
}

// For contrast: find by walking the vm_next list, the linear cost the tree removes.
void BM_find_vma_list_walk(benchmark::State& state) {
    const uint64_t n = state.range(0);
    VmaTree t;
    populate(t, n);
    std::vector<VirtAddr> addrs;
    for (uint64_t i : random_indices(n)) addrs.push_back(vma_start(i) + 0x123);
    size_t k = 0;
    for (auto _ : state) {
        const VirtAddr addr = addrs[k++ & (PROBES - 1)];
        vm_area_struct* v = t.first();
        while (v && v->vm_end <= addr) v = v->vm_next;
        benchmark::DoNotOptimize(v);
    }
    state.SetComplexityN(static_cast<int64_t>(n));
}

}  // namespace

BENCHMARK(BM_find_vma)->Arg(10)->Arg(1000)->Arg(65000)->Complexity(benchmark::oLogN);
BENCHMARK(BM_find_vma_hot)->Arg(10)->Arg(1000)->Arg(65000)->Complexity(benchmark::oLogN);
BENCHMARK(BM_insert_erase)->Arg(10)->Arg(1000)->Arg(65000)->Complexity(benchmark::oLogN);
BENCHMARK(BM_mmap_munmap)->Arg(10)->Arg(1000)->Arg(65000)->Complexity(benchmark::oLogN);
BENCHMARK(BM_do_mmap_munmap)->Arg(10)->Arg(1000)->Arg(65000)->Complexity(benchmark::oLogN);
BENCHMARK(BM_do_mmap_munmap_hot)->Arg(10)->Arg(1000)->Arg(65000)->Complexity(benchmark::oLogN);
BENCHMARK(BM_do_mmap_munmap_search)->Arg(10)->Arg(1000)->Arg(65000)->Complexity(benchmark::oLogN);
BENCHMARK(BM_find_vma_list_walk)->Arg(10)->Arg(1000)->Arg(65000)->Complexity(benchmark::oN);

BENCHMARK_MAIN();
