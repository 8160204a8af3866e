// Reverse mapping (mm/rmap.c) and the VMA lifetime hooks that keep it true: every VMA is
// linked into its file's i_mmap and its anon_vmas from the moment it exists (vm_area_dup,
// vma_set_file) until it is freed (vm_area_free), so no path through the VMA tree can
// leave a stale link behind.
#include "guestos/mm/rmap.h"

#include <algorithm>

#include "guestos/include/fs.h"
#include "guestos/include/swapops.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/swapfile.h"
#include "guestos/mm/slab_object.h"

namespace guestos {

namespace {

uint64_t next_anon_vma_id = 0;

ObjectCache* cache_of(const vm_area_struct& vma, ObjectCache* KernelCaches::*which) {
    return vma.vm_mm && vma.vm_mm->caches ? vma.vm_mm->caches->*which : nullptr;
}

// Links vma and av with a new anon_vma_chain (anon_vma_chain_link); false when the slab has
// no memory for it.
bool anon_vma_chain_link(vm_area_struct& vma, anon_vma* av) {
    auto* avc = new anon_vma_chain{&vma, av, {}};
    if (!avc->slab.alloc(cache_of(vma, &KernelCaches::anon_vma_chain_cachep))) {
        delete avc;
        return false;
    }
    avc->slab.set_ptr(AnonVmaChainField::vma, &vma.slab);
    avc->slab.set_ptr(AnonVmaChainField::anon_vma, &av->slab);
    vma.anon_vma_chain.push_back(avc);
    av->rb_root.push_back(avc);
    av->slab.set(AnonVmaField::degree, av->rb_root.size());
    return true;
}

// Drops a reference; the last frees the anon_vma and then its root's reference
// (put_anon_vma, __put_anon_vma).
void put_anon_vma(anon_vma* av) {
    if (--av->refcount > 0) {
        av->slab.set(AnonVmaField::refcount, av->refcount);
        return;
    }
    anon_vma* root = av->root;
    delete av;
    if (root != av) put_anon_vma(root);
}

// Whether a and b could share an anon_vma: adjacent, same file and flags, contiguous page
// offsets (anon_vma_compatible).
bool anon_vma_compatible(const vm_area_struct& a, const vm_area_struct& b) {
    return a.vm_end == b.vm_start && a.vm_file == b.vm_file && a.vm_flags == b.vm_flags &&
           b.vm_pgoff == a.vm_pgoff + a.pages();
}

// A neighbour's anon_vma that vma may reuse, so the two can still merge later
// (find_mergeable_anon_vma + reusable_anon_vma: the neighbour links to that one only).
struct anon_vma* find_mergeable_anon_vma(const vm_area_struct& vma) {
    if (const vm_area_struct* next = vma.vm_next;
        next && next->anon_vma && next->anon_vma_chain.size() == 1 && anon_vma_compatible(vma, *next))
        return next->anon_vma;
    if (const vm_area_struct* prev = vma.vm_prev;
        prev && prev->anon_vma && prev->anon_vma_chain.size() == 1 && anon_vma_compatible(*prev, vma))
        return prev->anon_vma;
    return nullptr;
}

}  // namespace

vm_area_struct::vm_area_struct(const vm_area_struct& o)
    : vm_start(o.vm_start),
      vm_end(o.vm_end),
      vm_flags(o.vm_flags),
      vm_pgoff(o.vm_pgoff),
      vm_file(o.vm_file),
      vm_mm(o.vm_mm),
      vm_special(o.vm_special),
      slab(o.slab) {
    vma_link_file(*this);
    // No memory for the chains: the copy is unusable, as its failed slab object says
    // (vm_area_dup gives null and the caller fails with ENOMEM).
    if (!anon_vma_clone(*this, o)) slab = SlabObject::failed_object();
}

vm_area_struct::~vm_area_struct() {
    unlink_anon_vmas(*this);
    unlink_file_vma(*this);
}

void vma_set_file(vm_area_struct& vma, std::shared_ptr<file> f) {
    unlink_file_vma(vma);
    vma.vm_file = std::move(f);
    vma_link_file(vma);
}

void vma_link_file(vm_area_struct& vma) {
    if (vma.vm_i_mmap || !vma.vm_file || !vma.vm_file->f_inode) return;
    vma.vm_i_mmap = &vma.vm_file->f_inode->i_data;
    vma_interval_tree_update(vma);
}

void vma_interval_tree_update(vm_area_struct& vma) {
    if (!vma.vm_i_mmap || vma.vm_end <= vma.vm_start) return;
    vma.vm_i_mmap->i_mmap.insert(&vma, vma.vm_pgoff, vma.vm_pgoff + vma.pages() - 1);
}

void unlink_file_vma(vm_area_struct& vma) {
    if (!vma.vm_i_mmap) return;
    vma.vm_i_mmap->i_mmap.remove(&vma);
    vma.vm_i_mmap = nullptr;
}

bool anon_vma_prepare(vm_area_struct& vma) {
    if (vma.anon_vma) return true;
    struct anon_vma* av = find_mergeable_anon_vma(vma);
    bool fresh = false;
    if (!av) {  // anon_vma_alloc
        av = new struct anon_vma;
        if (!av->slab.alloc(cache_of(vma, &KernelCaches::anon_vma_cachep))) {
            delete av;
            return false;
        }
        av->id = ++next_anon_vma_id;
        av->slab.set_ptr(AnonVmaField::root, &av->slab);
        av->slab.set_ptr(AnonVmaField::parent, &av->slab);
        av->slab.set(AnonVmaField::refcount, 1);
        fresh = true;
    }
    if (!anon_vma_chain_link(vma, av)) {
        if (fresh) delete av;
        return false;
    }
    vma.anon_vma = av;
    vma.slab.set_ptr(VmaField::anon_vma, &av->slab);
    return true;
}

bool anon_vma_clone(vm_area_struct& dst, const vm_area_struct& src) {
    for (const struct anon_vma_chain* avc : src.anon_vma_chain)
        if (!anon_vma_chain_link(dst, avc->av)) {
            unlink_anon_vmas(dst);
            return false;
        }
    dst.anon_vma = src.anon_vma;
    if (dst.anon_vma) dst.slab.set_ptr(VmaField::anon_vma, &dst.anon_vma->slab);
    return true;
}

void unlink_anon_vmas(vm_area_struct& vma) {
    // Unlink every chain, then drop the VMAs' reference of each anon_vma left without VMAs
    // (a root whose last child goes with it is freed by that child's put).
    std::vector<anon_vma*> emptied;
    for (struct anon_vma_chain* avc : vma.anon_vma_chain) {
        auto& list = avc->av->rb_root;
        list.erase(std::remove(list.begin(), list.end(), avc), list.end());
        avc->av->slab.set(AnonVmaField::degree, list.size());
        if (list.empty()) emptied.push_back(avc->av);
        delete avc;
    }
    for (anon_vma* av : emptied) put_anon_vma(av);
    vma.anon_vma_chain.clear();
    vma.anon_vma = nullptr;
    vma.slab.set(VmaField::anon_vma, 0);
}

bool anon_vma_fork(vm_area_struct& vma, const vm_area_struct& pvma) {
    if (!pvma.anon_vma) return true;  // nothing to share yet: the child prepares its own later
    auto* av = new struct anon_vma;
    if (!av->slab.alloc(cache_of(vma, &KernelCaches::anon_vma_cachep))) {
        delete av;
        return false;
    }
    av->id = ++next_anon_vma_id;
    av->root = pvma.anon_vma->root;
    av->slab.set_ptr(AnonVmaField::root, &av->root->slab);
    av->slab.set_ptr(AnonVmaField::parent, &pvma.anon_vma->slab);
    av->slab.set(AnonVmaField::refcount, 1);
    ++av->root->refcount;  // get_anon_vma(anon_vma->root): the root outlives its children
    av->root->slab.set(AnonVmaField::refcount, av->root->refcount);
    if (!anon_vma_chain_link(vma, av)) {
        put_anon_vma(av);
        return false;
    }
    vma.anon_vma = av;
    vma.slab.set_ptr(VmaField::anon_vma, &av->slab);
    return true;
}

bool anon_vma_merge(vm_area_struct& vma, const vm_area_struct& other) {
    // The importer's chains, so other's pages stay reachable through vma once other is gone.
    return vma.anon_vma || !other.anon_vma || anon_vma_clone(vma, other);
}

void page_add_new_anon_rmap(page& p, vm_area_struct& vma, VirtAddr address) {
    p.flags |= PG_anon;
    p.mapping = vma.anon_vma;
    p.index = linear_page_index(vma, address);
    p._mapcount = 0;
}

void page_add_anon_rmap(page& p, vm_area_struct& vma, VirtAddr address, rmap_t flags) {
    if (++p._mapcount > 0 || !vma.anon_vma) return;
    // __page_set_anon_rmap: a page others may map too (a swapped page shared since fork)
    // hangs off the root anon_vma, whose chains reach every VMA of the fork tree.
    struct anon_vma* av = flags == RMAP_EXCLUSIVE ? vma.anon_vma : vma.anon_vma->root;
    p.flags |= PG_anon;
    p.mapping = av;
    p.index = linear_page_index(vma, address);
}

void page_add_file_rmap(page& p) { ++p._mapcount; }

void page_remove_rmap(page& p) {
    if (--p._mapcount >= 0 || !(p.flags & PG_anon) || !p.mapping) return;
    // The last PTE is gone: the page leaves its anon_vma (it is freed right after; swap
    // will keep it in the swap cache instead).
    p.mapping = nullptr;
}

void rmap_walk(const page& p, const std::function<void(vm_area_struct&, VirtAddr)>& fn) {
    if (!p.mapping) return;
    auto visit = [&](vm_area_struct& vma) {
        if (p.index < vma.vm_pgoff || p.index >= vma.vm_pgoff + vma.pages()) return;
        fn(vma, vma.vm_start + ((p.index - vma.vm_pgoff) << PAGE_SHIFT));  // vma_address
    };
    if (p.flags & PG_anon) {
        // Copy the VMA list first: fn may change the chains (an unmap that frees a VMA).
        std::vector<vm_area_struct*> vmas;
        for (const struct anon_vma_chain* avc : static_cast<const struct anon_vma*>(p.mapping)->rb_root)
            vmas.push_back(avc->vma);
        for (vm_area_struct* v : vmas) visit(*v);
    } else if (p.use == PageUse::File) {  // vma_interval_tree_foreach over the page's index
        for (vm_area_struct* v : static_cast<const address_space*>(p.mapping)->i_mmap.overlapping(p.index, p.index))
            visit(*v);
    }
}

namespace {
// Rewrites an existing PTE and drops the CPU's translation of it (ptep_clear_flush,
// ptep_clear_flush_young); reclaim's writes stay out of the fault trace.
void ptep_clear_flush(mm_struct& mm, VirtAddr address, pte_t pte) {
    mmu::RamBus bus(*mm.ram);
    if (auto slot = mmu::pte_lookup(bus, mm.paging_mode, mm.pgd, address))
        mmu::write_entry(bus, mm.paging_mode, *slot, pte_val(pte));
    if (mm.tlb) mm.tlb->flush_tlb_page(address);
}

// Calls fn(mm, address, pte) for every PTE that really maps frame: rmap_walk's candidates
// less those holding another page (a COW copy) or none (page_vma_mapped_walk).
template <class Fn>
void for_each_pte_mapping(page& p, PhysAddr frame, Fn fn) {
    rmap_walk(p, [&](vm_area_struct& vma, VirtAddr address) {
        mm_struct& mm = *vma.vm_mm;
        const pte_t pte = get_pte(mm, address);
        if (pte_present(pte) && pte_phys(pte) == frame) fn(mm, address, pte);
    });
}
}  // namespace

int try_to_unmap(PageAllocator& pa, PhysAddr frame) {
    int unmapped = 0;
    page& p = pa.phys_to_page(frame);
    for_each_pte_mapping(p, frame, [&](mm_struct& mm, VirtAddr address, pte_t pte) {
        if (pte_dirty(pte)) set_page_dirty(p);  // try_to_unmap_one
        pte_t swp_pte{};
        if ((p.flags & PG_anon) && (p.flags & PG_swapcache)) {
            // An anonymous page in the swap cache: the PTE keeps its swap entry instead, one
            // more reference on the slot (swap_duplicate), counted as MM_SWAPENTS.
            const swp_entry_t entry{p.private_};
            if (!swap_duplicate(entry)) return;
            swp_pte = swp_entry_to_pte(mm.paging_mode, entry);
            ++mm.swapents;
            mm.mark_slab_dirty();
            mmlist_add(mm);
        }
        ptep_clear_flush(mm, address, swp_pte);
        put_mapped_page(mm, frame);
        ++unmapped;
    });
    return unmapped;
}

int page_mkclean(PageAllocator& pa, PhysAddr frame) {
    int cleaned = 0;
    page& p = pa.phys_to_page(frame);
    if (p.use != PageUse::File) return 0;
    rmap_walk(p, [&](vm_area_struct& vma, VirtAddr address) {
        // page_mkclean_one: only shared mappings write the page itself (invalid_mkclean_vma).
        if (!(vma.vm_flags & VM_SHARED)) return;
        mm_struct& mm = *vma.vm_mm;
        const pte_t pte = get_pte(mm, address);
        if (!pte_present(pte) || pte_phys(pte) != frame) return;
        if (!pte_write(pte) && !pte_dirty(pte)) return;
        // pte_wrprotect(pte_mkclean()): the next store faults and dirties the page again.
        ptep_clear_flush(mm, address, pte_wrprotect(pte_mkclean(pte)));
        if (pte_dirty(pte)) ++cleaned;
    });
    return cleaned;
}

int page_referenced(PageAllocator& pa, PhysAddr frame, unsigned long* vm_flags) {
    int referenced = 0;
    page& p = pa.phys_to_page(frame);
    if (vm_flags) *vm_flags = 0;
    rmap_walk(p, [&](vm_area_struct& vma, VirtAddr address) {
        mm_struct& mm = *vma.vm_mm;
        const pte_t pte = get_pte(mm, address);
        if (!pte_present(pte) || pte_phys(pte) != frame || !pte_young(pte)) return;
        if (vm_flags) *vm_flags |= vma.vm_flags;
        // ptep_clear_flush_young: the next access walks the tables again and sets A.
        ptep_clear_flush(mm, address, pte_mkold(pte));
        ++referenced;
    });
    return referenced;
}

}  // namespace guestos
