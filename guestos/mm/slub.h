// The SLUB slab allocator and kmalloc (Linux mm/slub.c, mm/slab_common.c).
//
// Objects live in emulated RAM: every object is named by its physical address (PhysAddr),
// never by a host pointer; its lowmem kernel virtual address is PAGE_OFFSET + that address
// (KernelPageTable::__va). Slab pages come from the buddy allocator (always lowmem). A free
// object holds the physical address of the next free object at s->offset, as a guest word
// (4 bytes on i386, 8 on x86-64), exactly where SLUB keeps its free pointer; 0 ends a list
// (frame 0 is always reserved, so no object lives at address 0). The kmem_cache descriptors
// themselves are host objects. Cache merging (aliases) and per-cpu partial lists are not
// modelled; one CPU owns the per-cpu slab.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "guestos/mm/page_alloc.h"

namespace guestos {

using slab_flags_t = unsigned;
inline constexpr slab_flags_t SLAB_KMALLOC = 0x00001000;          // a kmalloc cache
inline constexpr slab_flags_t SLAB_HWCACHE_ALIGN = 0x00002000;    // align objects to cache lines
inline constexpr slab_flags_t SLAB_CACHE_DMA = 0x00004000;        // slabs from ZONE_DMA
inline constexpr slab_flags_t SLAB_CACHE_DMA32 = 0x00008000;      // slabs from ZONE_DMA32
inline constexpr slab_flags_t SLAB_RECLAIM_ACCOUNT = 0x00020000;  // counted as SReclaimable
inline constexpr slab_flags_t SLAB_PANIC = 0x00040000;            // accepted, ignored
inline constexpr slab_flags_t SLAB_TYPESAFE_BY_RCU = 0x00080000;  // free pointer outside the object

inline constexpr unsigned KMALLOC_SHIFT_LOW = 3;
inline constexpr unsigned KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1;  // SLUB: kmalloc caches up to 8 KiB
inline constexpr unsigned KMALLOC_MIN_SIZE = 1u << KMALLOC_SHIFT_LOW;
inline constexpr size_t KMALLOC_MAX_CACHE_SIZE = size_t(1) << KMALLOC_SHIFT_HIGH;
inline constexpr size_t KMALLOC_MAX_SIZE = size_t(1) << (MAX_PAGE_ORDER + PAGE_SHIFT);
inline constexpr unsigned cache_line_size = 64;

// kmalloc(0) returns this; kfree accepts it (ZERO_SIZE_PTR). Frame 0 is reserved.
inline constexpr PhysAddr ZERO_SIZE_PTR{16};
constexpr bool ZERO_OR_NULL_PTR(PhysAddr p) { return p.value <= ZERO_SIZE_PTR.value; }

// The kmalloc cache index for `size` (Linux's __kmalloc_index): 0 for 0 bytes, 1 for
// kmalloc-96, 2 for kmalloc-192, else ceil(log2(size)) with a floor of 3 (kmalloc-8).
// Sizes above 8 KiB return their power-of-two index but are served by kmalloc_large.
constexpr unsigned kmalloc_index(size_t size) {
    if (!size) return 0;
    if (size <= KMALLOC_MIN_SIZE) return KMALLOC_SHIFT_LOW;
    if (KMALLOC_MIN_SIZE <= 32 && size > 64 && size <= 96) return 1;
    if (KMALLOC_MIN_SIZE <= 64 && size > 128 && size <= 192) return 2;
    if (size <= 8) return 3;
    if (size <= 16) return 4;
    if (size <= 32) return 5;
    if (size <= 64) return 6;
    if (size <= 128) return 7;
    if (size <= 256) return 8;
    if (size <= 512) return 9;
    if (size <= 1024) return 10;
    if (size <= 2 * 1024) return 11;
    if (size <= 4 * 1024) return 12;
    if (size <= 8 * 1024) return 13;
    if (size <= 16 * 1024) return 14;
    if (size <= 32 * 1024) return 15;
    if (size <= 64 * 1024) return 16;
    if (size <= 128 * 1024) return 17;
    if (size <= 256 * 1024) return 18;
    if (size <= 512 * 1024) return 19;
    if (size <= 1024 * 1024) return 20;
    if (size <= 2 * 1024 * 1024) return 21;
    if (size <= 4 * 1024 * 1024) return 22;
    return ~0u;  // larger than KMALLOC_MAX_SIZE
}
// The object size of kmalloc cache index n (kmalloc_size); 0 if there is none.
constexpr unsigned kmalloc_size(unsigned n) {
    if (n > 2) return 1u << n;
    if (n == 1) return 96;
    if (n == 2) return 192;
    return 0;
}

// kmalloc cache families (enum kmalloc_cache_type); the memcg family is not modelled.
enum kmalloc_cache_type : uint8_t { KMALLOC_NORMAL, KMALLOC_RECLAIM, KMALLOC_DMA, NR_KMALLOC_TYPES };
// The family a kmalloc request uses (kmalloc_type).
constexpr kmalloc_cache_type kmalloc_type(gfp_t gfp) {
    if (!(gfp & (__GFP_DMA | __GFP_RECLAIMABLE))) return KMALLOC_NORMAL;
    return (gfp & __GFP_DMA) ? KMALLOC_DMA : KMALLOC_RECLAIM;
}

// Runs once per object when its slab is created (the constructor of kmem_cache_create).
using kmem_ctor_t = std::function<void(mmu::PhysMemory& ram, PhysAddr object)>;

struct kmem_cache_order_objects {
    unsigned order = 0;
    unsigned objects = 0;
};

// The cpu's slab: allocation pops c.freelist without touching the slab (kmem_cache_cpu).
struct kmem_cache_cpu {
    uint64_t freelist = 0;   // physical address of the next free object of the cpu slab
    uint32_t slab = NO_PFN;  // head pfn of the frozen cpu slab
    uint64_t tid = 0;        // transaction id, bumped by every fast-path operation
};

struct kmem_cache_node {
    page_list partial;  // slabs with free objects, not owned by the cpu
    uint64_t nr_partial = 0;
    uint64_t nr_slabs = 0;
    uint64_t total_objects = 0;
};

// CONFIG_SLUB_STATS counters (a subset, same names).
enum slub_stat_item : uint8_t {
    ALLOC_FASTPATH,
    ALLOC_SLOWPATH,
    FREE_FASTPATH,
    FREE_SLOWPATH,
    FREE_FROZEN,
    FREE_ADD_PARTIAL,
    FREE_REMOVE_PARTIAL,
    ALLOC_FROM_PARTIAL,
    ALLOC_SLAB,
    ALLOC_REFILL,
    FREE_SLAB,
    CPUSLAB_FLUSH,
    DEACTIVATE_FULL,
    DEACTIVATE_EMPTY,
    DEACTIVATE_TO_HEAD,
    DEACTIVATE_BYPASS,
    ORDER_FALLBACK,
    NR_SLUB_STAT_ITEMS
};

struct kmem_cache {
    std::string name;
    unsigned object_size = 0;  // what the creator asked for
    unsigned size = 0;         // bytes per object slot (aligned, with an outside free pointer)
    unsigned align = 0;
    unsigned offset = 0;  // free pointer offset in a free object
    unsigned inuse = 0;   // object_size rounded to a word: where metadata would start
    slab_flags_t flags = 0;
    gfp_t allocflags = 0;          // added to every slab page allocation
    kmem_cache_order_objects oo;   // preferred slab order and objects per slab
    kmem_cache_order_objects min;  // fallback: the smallest order holding one object
    unsigned min_partial = 0;      // empty slabs kept on the partial list
    kmem_ctor_t ctor;
    kmem_cache_cpu cpu_slab;
    kmem_cache_node node;
    std::array<uint64_t, NR_SLUB_STAT_ITEMS> stat{};
};

// One /proc/slabinfo line's figures (struct slabinfo).
struct slabinfo {
    uint64_t active_objs = 0, num_objs = 0, active_slabs = 0, num_slabs = 0, shared_avail = 0;
    unsigned limit = 0, batchcount = 0, shared = 0, objects_per_slab = 0, cache_order = 0;
};

class SlabAllocator {
public:
    // Creates the kmalloc caches (create_kmalloc_caches); no memory is used until first use.
    explicit SlabAllocator(BuddyAllocator& buddy);
    // Returns every slab page and kmalloc_large block to the buddy allocator.
    ~SlabAllocator();
    SlabAllocator(const SlabAllocator&) = delete;
    SlabAllocator& operator=(const SlabAllocator&) = delete;

    // A cache of `size`-byte objects; EINVAL for a size below a word or above KMALLOC_MAX_SIZE.
    [[nodiscard]] mmu::ErrorOr<kmem_cache*> kmem_cache_create(std::string name, unsigned size, unsigned align,
                                                              slab_flags_t flags, kmem_ctor_t ctor = {});
    // Frees the cache; EBUSY (and the cache stays usable) while objects are allocated.
    [[nodiscard]] mmu::ErrorOr<void> kmem_cache_destroy(kmem_cache* s);
    // An object of s (slab_alloc), zeroed for __GFP_ZERO; nullopt when no slab page can be had.
    [[nodiscard]] std::optional<PhysAddr> kmem_cache_alloc(kmem_cache* s, gfp_t gfp);
    // Frees an object of s; a foreign, misaligned or already-free address is ignored and counted.
    void kmem_cache_free(kmem_cache* s, PhysAddr object);
    // Flushes the cpu slab and releases every empty slab; returns how many slabs it released.
    unsigned kmem_cache_shrink(kmem_cache* s);

    // size bytes from kmalloc-<class> (kmalloc_large above 8 KiB); ZERO_SIZE_PTR for 0.
    [[nodiscard]] std::optional<PhysAddr> kmalloc(size_t size, gfp_t gfp);
    [[nodiscard]] std::optional<PhysAddr> kzalloc(size_t size, gfp_t gfp) { return kmalloc(size, gfp | __GFP_ZERO); }
    // Frees a kmalloc'ed object or kmalloc_large block; null, ZERO_SIZE_PTR: nothing.
    void kfree(PhysAddr object);
    // Usable bytes at object (ksize); 0 for an address kmalloc did not return.
    size_t ksize(PhysAddr object) const;
    // Whole compound pages from the buddy allocator, counted as unreclaimable slab.
    [[nodiscard]] std::optional<PhysAddr> kmalloc_large(size_t size, gfp_t gfp);
    // The cache kmalloc(size, gfp) uses (kmalloc_slab); null above KMALLOC_MAX_CACHE_SIZE.
    kmem_cache* kmalloc_slab(size_t size, gfp_t gfp = 0) const;

    // Every cache, newest first (the /proc/slabinfo order).
    const std::vector<kmem_cache*>& slab_caches() const { return slab_caches_; }
    slabinfo get_slabinfo(const kmem_cache& s) const;
    uint64_t nr_bad_frees() const { return nr_bad_frees_; }
    BuddyAllocator& buddy() const { return buddy_; }

    // Checks every slab of every cache: freelists inside their slab and duplicate-free,
    // inuse and partial-list membership right, node counters and memory accounting right.
    [[nodiscard]] mmu::ErrorOr<void> check_consistency() const;

private:
    void create_kmalloc_caches();
    kmem_cache* create_cache(std::string name, unsigned size, unsigned align, slab_flags_t flags, kmem_ctor_t ctor);
    bool calculate_sizes(kmem_cache& s) const;
    unsigned calculate_order(unsigned size) const;

    // Allocation.
    uint64_t __slab_alloc(kmem_cache* s, gfp_t gfp);
    uint64_t load_freelist(kmem_cache* s, uint64_t freelist);
    uint64_t get_freelist(page& slab);
    uint32_t get_partial(kmem_cache* s);
    uint32_t new_slab(kmem_cache* s, gfp_t gfp);
    void setup_slab_objects(kmem_cache* s, uint32_t pfn);

    // Freeing.
    bool slab_free(kmem_cache* s, uint32_t slab_pfn, uint64_t object);
    bool __slab_free(kmem_cache* s, uint32_t slab_pfn, uint64_t object);
    void deactivate_slab(kmem_cache* s, uint32_t slab_pfn, uint64_t freelist);
    void flush_cpu_slab(kmem_cache* s);
    void discard_slab(kmem_cache* s, uint32_t slab_pfn);
    void free_large_kmalloc(uint32_t pfn, PhysAddr object);
    void add_partial(kmem_cache_node& n, uint32_t pfn, bool tail);
    void remove_partial(kmem_cache_node& n, uint32_t pfn);

    // Objects.
    uint32_t virt_to_slab(PhysAddr object) const;  // head pfn of object's slab, or NO_PFN
    bool object_in_slab(const kmem_cache* s, uint32_t slab_pfn, uint64_t object) const;
    uint64_t get_freepointer(const kmem_cache* s, uint64_t object) const;
    void set_freepointer(const kmem_cache* s, uint64_t object, uint64_t fp);

    mmu::ErrorOr<void> check_cache(const kmem_cache& s) const;

    BuddyAllocator& buddy_;
    mmu::PhysMemory& ram_;
    page* mem_map_;
    unsigned ptr_size_;  // sizeof(void *) of the guest kernel
    std::vector<kmem_cache*> slab_caches_;
    std::array<std::array<kmem_cache*, KMALLOC_SHIFT_HIGH + 1>, NR_KMALLOC_TYPES> kmalloc_caches_{};
    uint64_t nr_bad_frees_ = 0;
};

}  // namespace guestos
