// The SLUB slab allocator and kmalloc (Linux mm/slub.c, mm/slab_common.c), one CPU.
#include "guestos/mm/slub.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

namespace guestos {

namespace {

constexpr unsigned slub_max_order = PAGE_ALLOC_COSTLY_ORDER;
constexpr unsigned MAX_OBJS_PER_PAGE = 32767;
constexpr unsigned MIN_PARTIAL = 5, MAX_PARTIAL = 10;
constexpr unsigned ARCH_SLAB_MINALIGN = 8;  // __alignof__(unsigned long long)
constexpr unsigned ARCH_KMALLOC_MINALIGN = 8;
constexpr unsigned NR_CPU_IDS = 1;
constexpr gfp_t GFP_SLAB_BUG_MASK = __GFP_DMA32 | __GFP_HIGHMEM;  // slabs are always lowmem

constexpr unsigned ALIGN(unsigned x, unsigned a) { return (x + a - 1) & ~(a - 1); }
constexpr unsigned ALIGN_DOWN(unsigned x, unsigned a) { return x & ~(a - 1); }
unsigned fls(uint64_t x) { return x ? 64 - std::countl_zero(x) : 0; }

// Smallest order whose block holds size bytes (get_order).
unsigned get_order(uint64_t size) {
    unsigned order = 0;
    while ((PAGE_SIZE << order) < size) ++order;
    return order;
}
// Objects of `size` bytes an order-`order` slab holds.
unsigned order_objects(unsigned order, unsigned size) { return static_cast<unsigned>((PAGE_SIZE << order) / size); }

// The lowest order in [min_order, max_order] wasting at most 1/fract_leftover of the slab.
unsigned calc_slab_order(unsigned size, unsigned min_order, unsigned max_order, unsigned fract_leftover) {
    unsigned order = min_order;
    for (; order <= max_order; ++order) {
        const uint64_t slab_size = PAGE_SIZE << order;
        if (slab_size % size <= slab_size / fract_leftover) break;
    }
    return order;
}

// kmalloc cache names (kmalloc_info[]).
std::string kmalloc_name(kmalloc_cache_type type, unsigned index) {
    const unsigned size = kmalloc_size(index);
    std::string s = size >= 1024 ? std::to_string(size / 1024) + "k" : std::to_string(size);
    switch (type) {
    case KMALLOC_RECLAIM: return "kmalloc-rcl-" + s;
    case KMALLOC_DMA: return "dma-kmalloc-" + s;
    default: return "kmalloc-" + s;
    }
}

mmu::Error corrupt(const std::string& what) { return mmu::Error::from_errno(EUCLEAN, what); }

}  // namespace

SlabAllocator::SlabAllocator(BuddyAllocator& buddy)
    : buddy_(buddy), ram_(buddy.ram()), mem_map_(buddy.mem_map()), ptr_size_(buddy.arch() == KernelArch::I386 ? 4 : 8) {
    create_kmalloc_caches();
}

SlabAllocator::~SlabAllocator() {
    for (kmem_cache* s : slab_caches_) {
        flush_cpu_slab(s);
        while (!s->node.partial.empty()) {
            const uint32_t pfn = s->node.partial.first;
            remove_partial(s->node, pfn);
            discard_slab(s, pfn);
        }
    }
    // Full slabs and kmalloc_large blocks are on no list: find them in mem_map.
    for (const auto& [start, end] : buddy_.memmap_ranges())
        for (uint64_t pfn = start; pfn < end; ++pfn) {
            page& p = mem_map_[pfn];
            if ((p.flags & PG_slab) && p.slab_cache) discard_slab(p.slab_cache, static_cast<uint32_t>(pfn));
            else if (p.use == PageUse::Slab && (p.flags & PG_head))
                free_large_kmalloc(static_cast<uint32_t>(pfn), PhysAddr::from_pfn(pfn));
        }
    for (kmem_cache* s : slab_caches_) delete s;
}

// kmalloc-96 and -192 first, then the powers of two, for each family (create_kmalloc_caches).
void SlabAllocator::create_kmalloc_caches() {
    static constexpr slab_flags_t type_flags[NR_KMALLOC_TYPES] = {0, SLAB_RECLAIM_ACCOUNT, SLAB_CACHE_DMA};
    for (unsigned type = 0; type < NR_KMALLOC_TYPES; ++type) {
        auto t = static_cast<kmalloc_cache_type>(type);
        auto new_kmalloc_cache = [&](unsigned idx) {
            const unsigned size = kmalloc_size(idx);
            unsigned align = ARCH_KMALLOC_MINALIGN;
            if (std::has_single_bit(size)) align = std::max(align, size);  // natural alignment
            kmalloc_caches_[t][idx] =
                create_cache(kmalloc_name(t, idx), size, align, SLAB_KMALLOC | type_flags[type], {});
        };
        new_kmalloc_cache(1);
        new_kmalloc_cache(2);
        for (unsigned i = KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; ++i) new_kmalloc_cache(i);
    }
}

mmu::ErrorOr<kmem_cache*> SlabAllocator::kmem_cache_create(std::string name, unsigned size, unsigned align,
                                                           slab_flags_t flags, kmem_ctor_t ctor) {
    if (name.empty() || !size || size > KMALLOC_MAX_SIZE)
        return mmu::Error::from_errno(EINVAL, "kmem_cache_create: bad name or size");
    if (align & (align - 1)) return mmu::Error::from_errno(EINVAL, "kmem_cache_create: bad align");
    kmem_cache* s = create_cache(std::move(name), size, align, flags & ~SLAB_KMALLOC, std::move(ctor));
    if (!s) return mmu::Error::from_errno(EINVAL, "kmem_cache_create: no slab layout fits");
    return s;
}

// Lays out a cache and puts it at the head of slab_caches (do_kmem_cache_create).
kmem_cache* SlabAllocator::create_cache(std::string name, unsigned size, unsigned align, slab_flags_t flags,
                                        kmem_ctor_t ctor) {
    auto* s = new kmem_cache;
    s->name = std::move(name);
    s->object_size = size;
    s->flags = flags;
    s->ctor = std::move(ctor);
    // calculate_alignment
    if (flags & SLAB_HWCACHE_ALIGN) {
        unsigned ralign = cache_line_size;
        while (size <= ralign / 2) ralign /= 2;
        align = std::max(align, ralign);
    }
    s->align = ALIGN(std::max(align, ARCH_SLAB_MINALIGN), ptr_size_);
    if (!calculate_sizes(*s)) {
        delete s;
        return nullptr;
    }
    s->min_partial = std::clamp(static_cast<unsigned>(fls(s->size) - 1) / 2, MIN_PARTIAL, MAX_PARTIAL);
    slab_caches_.insert(slab_caches_.begin(), s);
    return s;
}

// Object slot size, free pointer offset and slab order (calculate_sizes): the free pointer
// sits mid-object, or after the object when a constructor's state must survive a free.
bool SlabAllocator::calculate_sizes(kmem_cache& s) const {
    unsigned size = ALIGN(s.object_size, ptr_size_);
    s.inuse = size;
    if ((s.flags & SLAB_TYPESAFE_BY_RCU) || s.ctor) {
        s.offset = size;
        size += ptr_size_;
    } else {
        s.offset = ALIGN_DOWN(s.object_size / 2, ptr_size_);
    }
    s.size = ALIGN(size, s.align);
    const unsigned order = calculate_order(s.size);
    if (order > MAX_PAGE_ORDER) return false;
    s.allocflags = order ? __GFP_COMP : 0;
    if (s.flags & SLAB_CACHE_DMA) s.allocflags |= GFP_DMA;
    if (s.flags & SLAB_CACHE_DMA32) s.allocflags |= GFP_DMA32;
    if (s.flags & SLAB_RECLAIM_ACCOUNT) s.allocflags |= __GFP_RECLAIMABLE;
    s.oo = {order, order_objects(order, s.size)};
    const unsigned min_order = get_order(s.size);
    s.min = {min_order, order_objects(min_order, s.size)};
    return s.oo.objects != 0;
}

// The slab order: at least min_objects (4 * (fls(nr_cpus) + 1)) objects where that fits in
// slub_max_order, with at most 1/16, then 1/8, 1/4 of the slab wasted (calculate_order).
unsigned SlabAllocator::calculate_order(unsigned size) const {
    unsigned min_objects = 4 * (fls(NR_CPU_IDS) + 1);
    const unsigned max_objects = std::max(order_objects(slub_max_order, size), 1u);
    min_objects = std::min(min_objects, max_objects);
    const unsigned min_order = get_order(static_cast<uint64_t>(min_objects) * size);
    if (order_objects(min_order, size) > MAX_OBJS_PER_PAGE)
        return get_order(static_cast<uint64_t>(size) * MAX_OBJS_PER_PAGE) - 1;
    for (unsigned fraction = 16; fraction > 1; fraction /= 2) {
        const unsigned order = calc_slab_order(size, min_order, slub_max_order, fraction);
        if (order <= slub_max_order) return order;
    }
    return get_order(size);
}

// ---------------------------------------------------------------------------------------------
// Allocation.

std::optional<PhysAddr> SlabAllocator::kmem_cache_alloc(kmem_cache* s, gfp_t gfp) {
    kmem_cache_cpu& c = s->cpu_slab;
    uint64_t object = c.freelist;
    if (object) {  // the fast path: pop the cpu freelist
        c.freelist = get_freepointer(s, object);
        ++c.tid;
        ++s->stat[ALLOC_FASTPATH];
    } else {
        object = __slab_alloc(s, gfp);
        if (!object) return std::nullopt;
    }
    if (gfp & __GFP_ZERO) std::memset(ram_.host(PhysAddr(object), s->object_size), 0, s->object_size);
    return PhysAddr(object);
}

// The slow path (___slab_alloc): refill from the cpu slab, else take a partial slab, else
// a new slab; 0 when the buddy allocator has no page.
uint64_t SlabAllocator::__slab_alloc(kmem_cache* s, gfp_t gfp) {
    kmem_cache_cpu& c = s->cpu_slab;
    ++s->stat[ALLOC_SLOWPATH];
    if (c.slab != NO_PFN) {
        page& slab = mem_map_[c.slab];
        if (uint64_t freelist = get_freelist(slab)) {
            ++s->stat[ALLOC_REFILL];
            return load_freelist(s, freelist);
        }
        c.slab = NO_PFN;  // full: it stays off every list until an object is freed
        ++s->stat[DEACTIVATE_BYPASS];
    }
    uint32_t pfn = get_partial(s);
    if (pfn != NO_PFN) {
        ++s->stat[ALLOC_FROM_PARTIAL];
    } else {
        pfn = new_slab(s, gfp);
        if (pfn == NO_PFN) return 0;  // slab_out_of_memory
        ++s->stat[ALLOC_SLAB];
    }
    page& slab = mem_map_[pfn];
    const uint64_t freelist = slab.freelist;
    slab.freelist = 0;
    slab.inuse = slab.objects;
    slab.frozen = true;
    c.slab = pfn;
    return load_freelist(s, freelist);
}

// Hands freelist's first object out and keeps the rest as the cpu freelist.
uint64_t SlabAllocator::load_freelist(kmem_cache* s, uint64_t freelist) {
    s->cpu_slab.freelist = get_freepointer(s, freelist);
    ++s->cpu_slab.tid;
    return freelist;
}

// Takes the objects freed to the cpu slab behind the cpu's back; unfreezes it when there
// are none (get_freelist).
uint64_t SlabAllocator::get_freelist(page& slab) {
    const uint64_t freelist = slab.freelist;
    slab.freelist = 0;
    slab.inuse = slab.objects;
    slab.frozen = freelist != 0;
    return freelist;
}

// The first slab of the node's partial list, removed from it (get_partial_node).
uint32_t SlabAllocator::get_partial(kmem_cache* s) {
    kmem_cache_node& n = s->node;
    if (n.partial.empty()) return NO_PFN;
    const uint32_t pfn = n.partial.first;
    remove_partial(n, pfn);
    return pfn;
}

// A slab of s->oo pages (s->min when that fails), its objects constructed and chained
// (allocate_slab); NO_PFN when the buddy allocator has nothing.
uint32_t SlabAllocator::new_slab(kmem_cache* s, gfp_t gfp) {
    const gfp_t flags = (gfp & ~(GFP_SLAB_BUG_MASK | __GFP_ZERO | __GFP_COMP)) | s->allocflags;
    gfp_t alloc_gfp = (flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL;
    if ((alloc_gfp & __GFP_DIRECT_RECLAIM) && s->oo.order > s->min.order)
        alloc_gfp = (alloc_gfp | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM;
    kmem_cache_order_objects oo = s->oo;
    auto pa = buddy_.alloc_pages(alloc_gfp, oo.order);
    if (!pa) {
        oo = s->min;
        pa = buddy_.alloc_pages((flags & ~__GFP_COMP) | (oo.order ? __GFP_COMP : 0), oo.order);
        if (!pa) return NO_PFN;
        ++s->stat[ORDER_FALLBACK];
    }
    const auto pfn = static_cast<uint32_t>(pa->pfn());
    page& slab = mem_map_[pfn];
    slab.flags |= PG_slab;
    slab.slab_cache = s;
    slab.objects = static_cast<uint16_t>(oo.objects);
    slab.inuse = 0;
    slab.frozen = false;
    buddy_.set_page_use(*pa, oo.order, PageUse::Slab);
    buddy_.mod_node_page_state((s->flags & SLAB_RECLAIM_ACCOUNT) ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B,
                               static_cast<int64_t>(PAGE_SIZE << oo.order));
    setup_slab_objects(s, pfn);
    ++s->node.nr_slabs;
    s->node.total_objects += oo.objects;
    return pfn;
}

// Runs the constructor on every object and chains them in address order.
void SlabAllocator::setup_slab_objects(kmem_cache* s, uint32_t pfn) {
    page& slab = mem_map_[pfn];
    const uint64_t start = PhysAddr::from_pfn(pfn).value;
    for (unsigned i = 0; i < slab.objects; ++i) {
        const uint64_t object = start + static_cast<uint64_t>(i) * s->size;
        if (s->ctor) s->ctor(ram_, PhysAddr(object));
        set_freepointer(s, object, i + 1 < slab.objects ? object + s->size : 0);
    }
    slab.freelist = start;
}

// ---------------------------------------------------------------------------------------------
// Freeing.

void SlabAllocator::kmem_cache_free(kmem_cache* s, PhysAddr object) {
    const uint32_t slab_pfn = virt_to_slab(object);
    if (!s || slab_pfn == NO_PFN || mem_map_[slab_pfn].slab_cache != s || !slab_free(s, slab_pfn, object.value))
        ++nr_bad_frees_;
}

// Pushes object on the cpu freelist when it belongs to the cpu slab (do_slab_free's fast
// path), else frees it into its slab; false for an invalid or repeated free.
bool SlabAllocator::slab_free(kmem_cache* s, uint32_t slab_pfn, uint64_t object) {
    if (!object_in_slab(s, slab_pfn, object)) return false;
    kmem_cache_cpu& c = s->cpu_slab;
    if (slab_pfn != c.slab) return __slab_free(s, slab_pfn, object);
    if (object == c.freelist) return false;  // naive double-free detection, as SLUB's
    set_freepointer(s, object, c.freelist);
    c.freelist = object;
    ++c.tid;
    ++s->stat[FREE_FASTPATH];
    return true;
}

// Frees into a slab the cpu does not own (__slab_free): a full slab joins the partial list,
// an empty one is discarded once min_partial empty slabs are kept.
bool SlabAllocator::__slab_free(kmem_cache* s, uint32_t slab_pfn, uint64_t object) {
    page& slab = mem_map_[slab_pfn];
    const uint64_t prior = slab.freelist;
    if (object == prior || slab.inuse == 0) return false;
    ++s->stat[FREE_SLOWPATH];
    set_freepointer(s, object, prior);
    slab.freelist = object;
    --slab.inuse;
    if (slab.frozen) {
        ++s->stat[FREE_FROZEN];
        return true;
    }
    kmem_cache_node& n = s->node;
    if (!slab.inuse && n.nr_partial >= s->min_partial) {  // slab_empty
        if (prior) {
            remove_partial(n, slab_pfn);
            ++s->stat[FREE_REMOVE_PARTIAL];
        }
        discard_slab(s, slab_pfn);
        return true;
    }
    if (!prior) {
        add_partial(n, slab_pfn, true);
        ++s->stat[FREE_ADD_PARTIAL];
    }
    return true;
}

// Gives the cpu freelist back to its slab and unfreezes it: discarded when empty and enough
// empty slabs are kept, on the partial list when it has free objects, else full.
void SlabAllocator::deactivate_slab(kmem_cache* s, uint32_t slab_pfn, uint64_t freelist) {
    page& slab = mem_map_[slab_pfn];
    unsigned free_delta = 0;
    uint64_t tail = 0;
    for (uint64_t o = freelist; o && free_delta <= slab.objects; o = get_freepointer(s, o)) {
        ++free_delta;
        tail = o;
    }
    if (tail) {
        set_freepointer(s, tail, slab.freelist);
        slab.freelist = freelist;
    }
    slab.inuse = static_cast<uint16_t>(slab.inuse - std::min<unsigned>(free_delta, slab.inuse));
    slab.frozen = false;
    kmem_cache_node& n = s->node;
    if (!slab.inuse && n.nr_partial >= s->min_partial) {
        ++s->stat[DEACTIVATE_EMPTY];
        discard_slab(s, slab_pfn);
    } else if (slab.freelist) {
        add_partial(n, slab_pfn, false);
        ++s->stat[DEACTIVATE_TO_HEAD];
    } else {
        ++s->stat[DEACTIVATE_FULL];
    }
}

// Deactivates the cpu slab (flush_slab).
void SlabAllocator::flush_cpu_slab(kmem_cache* s) {
    kmem_cache_cpu& c = s->cpu_slab;
    if (c.slab == NO_PFN) return;
    const uint32_t pfn = c.slab;
    const uint64_t freelist = c.freelist;
    c.slab = NO_PFN;
    c.freelist = 0;
    ++c.tid;
    ++s->stat[CPUSLAB_FLUSH];
    deactivate_slab(s, pfn, freelist);
}

// Returns a slab (on no list) to the buddy allocator (discard_slab, __free_slab).
void SlabAllocator::discard_slab(kmem_cache* s, uint32_t slab_pfn) {
    page& slab = mem_map_[slab_pfn];
    const unsigned order = slab.order;
    --s->node.nr_slabs;
    s->node.total_objects -= slab.objects;
    buddy_.mod_node_page_state((s->flags & SLAB_RECLAIM_ACCOUNT) ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B,
                               -static_cast<int64_t>(PAGE_SIZE << order));
    slab.flags &= ~PG_slab;
    slab.slab_cache = nullptr;
    ++s->stat[FREE_SLAB];
    buddy_.free_pages(PhysAddr::from_pfn(slab_pfn), order);
}

// Puts a slab with free objects on the node's partial list.
void SlabAllocator::add_partial(kmem_cache_node& n, uint32_t pfn, bool tail) {
    if (tail) list_add_tail(mem_map_, n.partial, pfn);
    else list_add(mem_map_, n.partial, pfn);
    ++n.nr_partial;
}

// Takes a slab off the node's partial list.
void SlabAllocator::remove_partial(kmem_cache_node& n, uint32_t pfn) {
    list_del(mem_map_, n.partial, pfn);
    --n.nr_partial;
}

unsigned SlabAllocator::kmem_cache_shrink(kmem_cache* s) {
    flush_cpu_slab(s);
    unsigned released = 0;
    kmem_cache_node& n = s->node;
    for (uint32_t pfn = n.partial.first; pfn != NO_PFN;) {
        const uint32_t next = mem_map_[pfn].lru_next;
        if (mem_map_[pfn].inuse == 0) {
            remove_partial(n, pfn);
            discard_slab(s, pfn);
            ++released;
        }
        pfn = next;
    }
    return released;
}

mmu::ErrorOr<void> SlabAllocator::kmem_cache_destroy(kmem_cache* s) {
    auto it = std::find(slab_caches_.begin(), slab_caches_.end(), s);
    if (it == slab_caches_.end() || (s->flags & SLAB_KMALLOC))
        return mmu::Error::from_errno(EINVAL, "kmem_cache_destroy: not a destroyable cache");
    kmem_cache_shrink(s);
    if (s->node.nr_slabs)
        return mmu::Error::from_errno(EBUSY, "kmem_cache_destroy " + s->name + ": Slab cache still has objects");
    slab_caches_.erase(it);
    delete s;
    return {};
}

// ---------------------------------------------------------------------------------------------
// kmalloc.

std::optional<PhysAddr> SlabAllocator::kmalloc(size_t size, gfp_t gfp) {
    if (size > KMALLOC_MAX_CACHE_SIZE) return kmalloc_large(size, gfp);
    if (!size) return ZERO_SIZE_PTR;
    return kmem_cache_alloc(kmalloc_caches_[kmalloc_type(gfp)][kmalloc_index(size)], gfp);
}

kmem_cache* SlabAllocator::kmalloc_slab(size_t size, gfp_t gfp) const {
    if (!size || size > KMALLOC_MAX_CACHE_SIZE) return nullptr;
    return kmalloc_caches_[kmalloc_type(gfp)][kmalloc_index(size)];
}

std::optional<PhysAddr> SlabAllocator::kmalloc_large(size_t size, gfp_t gfp) {
    if (size > KMALLOC_MAX_SIZE) return std::nullopt;
    const unsigned order = get_order(size);
    auto pa = buddy_.alloc_pages((gfp & ~GFP_SLAB_BUG_MASK) | __GFP_COMP, order);
    if (!pa) return std::nullopt;
    buddy_.set_page_use(*pa, order, PageUse::Slab);
    buddy_.mod_node_page_state(NR_SLAB_UNRECLAIMABLE_B, static_cast<int64_t>(PAGE_SIZE << order));
    return pa;
}

void SlabAllocator::kfree(PhysAddr object) {
    if (ZERO_OR_NULL_PTR(object)) return;
    if (object.pfn() >= buddy_.max_pfn() || buddy_.pfn_deferred(object.pfn())) {  // no object there
        ++nr_bad_frees_;
        return;
    }
    const page& p = mem_map_[object.pfn()];
    const uint32_t head = (p.flags & PG_tail) ? p.compound_head : static_cast<uint32_t>(object.pfn());
    const page& h = mem_map_[head];
    if (!(h.flags & PG_slab)) {
        free_large_kmalloc(head, object);
        return;
    }
    if (!slab_free(h.slab_cache, head, object.value)) ++nr_bad_frees_;
}

// Frees a kmalloc_large block given its first byte; anything else is a bad free.
void SlabAllocator::free_large_kmalloc(uint32_t pfn, PhysAddr object) {
    const page& h = mem_map_[pfn];
    if (h.use != PageUse::Slab || !(h.flags & PG_head) || (h.flags & PG_slab) || object != PhysAddr::from_pfn(pfn)) {
        ++nr_bad_frees_;
        return;
    }
    const unsigned order = h.order;
    buddy_.mod_node_page_state(NR_SLAB_UNRECLAIMABLE_B, -static_cast<int64_t>(PAGE_SIZE << order));
    buddy_.free_pages(object, order);
}

size_t SlabAllocator::ksize(PhysAddr object) const {
    if (ZERO_OR_NULL_PTR(object) || object.pfn() >= buddy_.max_pfn() || buddy_.pfn_deferred(object.pfn())) return 0;
    const uint32_t slab_pfn = virt_to_slab(object);
    if (slab_pfn != NO_PFN) {
        const kmem_cache* s = mem_map_[slab_pfn].slab_cache;
        if (!object_in_slab(s, slab_pfn, object.value)) return 0;
        return (s->flags & SLAB_TYPESAFE_BY_RCU) ? s->inuse : s->size;
    }
    const page& h = mem_map_[object.pfn()];
    if (h.use == PageUse::Slab && (h.flags & PG_head) && object == object.page_base()) return PAGE_SIZE << h.order;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Objects.

uint32_t SlabAllocator::virt_to_slab(PhysAddr object) const {
    if (object.pfn() >= buddy_.max_pfn() || buddy_.pfn_deferred(object.pfn())) return NO_PFN;
    const page& p = mem_map_[object.pfn()];
    const uint32_t head = (p.flags & PG_tail) ? p.compound_head : static_cast<uint32_t>(object.pfn());
    const page& h = mem_map_[head];
    return ((h.flags & PG_slab) && h.slab_cache) ? head : NO_PFN;
}

// True if object is the start of one of the slab's object slots.
bool SlabAllocator::object_in_slab(const kmem_cache* s, uint32_t slab_pfn, uint64_t object) const {
    const uint64_t off = object - PhysAddr::from_pfn(slab_pfn).value;
    return off < static_cast<uint64_t>(mem_map_[slab_pfn].objects) * s->size &&
           static_cast<uint32_t>(off) % s->size == 0;
}

// The free pointer stored in a free object (a guest word at s->offset).
uint64_t SlabAllocator::get_freepointer(const kmem_cache* s, uint64_t object) const {
    const PhysAddr at(object + s->offset);
    return ptr_size_ == 8 ? ram_.read<uint64_t>(at) : ram_.read<uint32_t>(at);
}

// Stores fp as the free pointer of a free object.
void SlabAllocator::set_freepointer(const kmem_cache* s, uint64_t object, uint64_t fp) {
    const PhysAddr at(object + s->offset);
    if (ptr_size_ == 8) ram_.write<uint64_t>(at, fp);
    else ram_.write<uint32_t>(at, static_cast<uint32_t>(fp));
}

// ---------------------------------------------------------------------------------------------
// Statistics and checks.

slabinfo SlabAllocator::get_slabinfo(const kmem_cache& s) const {
    slabinfo info;
    uint64_t nr_free = 0;  // count_partial: free objects on the partial list
    for (uint32_t pfn = s.node.partial.first; pfn != NO_PFN; pfn = mem_map_[pfn].lru_next)
        nr_free += mem_map_[pfn].objects - mem_map_[pfn].inuse;
    // Unlike Linux, also the cpu slab's free objects (its lockless freelist and the objects
    // freed to it remotely), so active_objs is exact: one per live kernel object.
    if (s.cpu_slab.slab != NO_PFN)
        for (uint64_t list : {s.cpu_slab.freelist, mem_map_[s.cpu_slab.slab].freelist})
            for (uint64_t o = list; o && nr_free < s.node.total_objects; o = get_freepointer(&s, o)) ++nr_free;
    info.num_objs = s.node.total_objects;
    info.active_objs = s.node.total_objects - nr_free;
    info.num_slabs = info.active_slabs = s.node.nr_slabs;
    info.objects_per_slab = s.oo.objects;
    info.cache_order = s.oo.order;
    return info;
}

mmu::ErrorOr<void> SlabAllocator::check_consistency() const {
    uint64_t slab_bytes = 0, large_bytes = 0, reclaimable_bytes = 0;
    for (const auto& [start, end] : buddy_.memmap_ranges())
        for (uint64_t pfn = start; pfn < end; ++pfn) {
            const page& p = mem_map_[pfn];
            if ((p.flags & PG_slab) && p.slab_cache) {
                slab_bytes += PAGE_SIZE << p.order;
                if (p.slab_cache->flags & SLAB_RECLAIM_ACCOUNT) reclaimable_bytes += PAGE_SIZE << p.order;
                if (std::find(slab_caches_.begin(), slab_caches_.end(), p.slab_cache) == slab_caches_.end())
                    return corrupt("slab of a destroyed cache at pfn " + std::to_string(pfn));
                for (uint64_t i = 0; i < (1ull << p.order); ++i)
                    if (mem_map_[pfn + i].use != PageUse::Slab) return corrupt("slab page not counted as Slab");
            } else if (p.use == PageUse::Slab && (p.flags & PG_head)) {
                large_bytes += PAGE_SIZE << p.order;
            }
        }
    if (buddy_.node_page_state(NR_SLAB_RECLAIMABLE_B) != static_cast<int64_t>(reclaimable_bytes) ||
        buddy_.node_page_state(NR_SLAB_UNRECLAIMABLE_B) !=
            static_cast<int64_t>(slab_bytes - reclaimable_bytes + large_bytes))
        return corrupt("NR_SLAB_*_B disagree with the slab pages");
    for (const kmem_cache* s : slab_caches_) TRY(check_cache(*s));
    return {};
}

// Every slab of s: freelist objects valid and distinct, inuse right, frozen only for the cpu
// slab, partial list holding exactly the unfrozen slabs with free objects.
mmu::ErrorOr<void> SlabAllocator::check_cache(const kmem_cache& s) const {
    const std::string in = " in " + s.name;
    std::vector<uint32_t> partial;
    for (uint32_t pfn = s.node.partial.first; pfn != NO_PFN; pfn = mem_map_[pfn].lru_next) {
        if (partial.size() > s.node.nr_partial) return corrupt("partial list cycle" + in);
        partial.push_back(pfn);
    }
    if (partial.size() != s.node.nr_partial) return corrupt("nr_partial wrong" + in);
    uint64_t nr_slabs = 0, total_objects = 0;
    for (const auto& [start, end] : buddy_.memmap_ranges())
        for (uint64_t pfn = start; pfn < end; ++pfn) {
            const page& slab = mem_map_[pfn];
            if (!(slab.flags & PG_slab) || slab.slab_cache != &s) continue;
            const std::string at = " at pfn " + std::to_string(pfn) + in;
            ++nr_slabs;
            total_objects += slab.objects;
            if (slab.objects != s.oo.objects && slab.objects != s.min.objects) return corrupt("objects wrong" + at);
            const bool is_cpu = pfn == s.cpu_slab.slab;
            if (slab.frozen != is_cpu) return corrupt("frozen flag wrong" + at);
            std::vector<uint8_t> free_obj(slab.objects, 0);
            unsigned nfree = 0;
            for (uint64_t list : std::array<uint64_t, 2>{slab.freelist, is_cpu ? s.cpu_slab.freelist : 0}) {
                for (uint64_t o = list; o; o = get_freepointer(&s, o)) {
                    if (!object_in_slab(&s, static_cast<uint32_t>(pfn), o))
                        return corrupt("freelist leaves its slab" + at);
                    const uint64_t idx = (o - PhysAddr::from_pfn(pfn).value) / s.size;
                    if (free_obj[idx]++) return corrupt("object free twice" + at);
                    ++nfree;
                }
            }
            const unsigned expect_inuse = is_cpu ? slab.objects : slab.objects - nfree;
            if (slab.inuse != expect_inuse) return corrupt("inuse wrong" + at);
            const bool listed = std::find(partial.begin(), partial.end(), pfn) != partial.end();
            if (listed != (!is_cpu && slab.freelist != 0)) return corrupt("partial list membership wrong" + at);
        }
    if (nr_slabs != s.node.nr_slabs || total_objects != s.node.total_objects)
        return corrupt("node slab counters wrong" + in);
    return {};
}

}  // namespace guestos
