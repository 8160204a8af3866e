// Reverse mapping (mm/rmap.c): from a physical page to every PTE that maps it. Anonymous
// pages hang off an anon_vma that the VMAs sharing them link to through anon_vma_chains;
// file pages off their address_space, whose i_mmap lists the VMAs mapping the file.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "guestos/include/mm_types.h"

namespace guestos {

struct anon_vma_chain;

// A set of anonymous pages and the VMAs that may map them (struct anon_vma). Without
// fork every anon_vma is its own root and its VMAs are one VMA and the parts it was split
// or moved into. Its lifetime is Linux's refcount: one reference while any VMA links to it
// (dropped by the unlink that empties rb_root) and one per forked anon_vma whose root it is;
// the last put frees it. Pages do not hold it: a page is mapped only through a VMA linked to
// its page->mapping, so that one outlives every mapped page.
struct anon_vma {
    anon_vma* root = this;
    uint64_t id = 0;  // a stable number for displays
    // The chains of the VMAs that may map its pages (Linux: an interval tree of them keyed
    // by the VMAs' page ranges; a list here: a handful of VMAs share one anon_vma).
    std::vector<anon_vma_chain*> rb_root;
    unsigned refcount = 1;  // anon_vma_alloc's: its VMAs'
    SlabObject slab;        // its struct anon_vma in the anon_vma cache
};

// One link VMA <-> anon_vma (struct anon_vma_chain).
struct anon_vma_chain {
    vm_area_struct* vma = nullptr;
    anon_vma* av = nullptr;
    SlabObject slab;  // its struct anon_vma_chain in the anon_vma_chain cache
};

// Gives vma an anon_vma before its first anonymous page, reusing a mergeable neighbour's
// (anon_vma_prepare + find_mergeable_anon_vma); false when the slab has no memory (ENOMEM).
[[nodiscard]] bool anon_vma_prepare(vm_area_struct& vma);
// Links dst to every anon_vma src is linked to (anon_vma_clone); false when the slab has no
// memory for a chain (dst is then linked to none).
[[nodiscard]] bool anon_vma_clone(vm_area_struct& dst, const vm_area_struct& src);
// fork: links vma (the child's copy of pvma, already anon_vma_clone'd by its copy) to a new
// anon_vma of its own whose root and parent are pvma's, so the child's new pages stay out
// of the parent's rmap walks while shared pages are found in both (anon_vma_fork).
[[nodiscard]] bool anon_vma_fork(vm_area_struct& vma, const vm_area_struct& pvma);
// Unlinks vma from its anon_vmas, freeing those left without VMAs (unlink_anon_vmas).
void unlink_anon_vmas(vm_area_struct& vma);
// vma takes over the anon_vma of a VMA merging into it (vma_merge's importer clone);
// false when the slab has no memory for its chains: the merge must not happen.
[[nodiscard]] bool anon_vma_merge(vm_area_struct& vma, const vm_area_struct& next);

// Links and unlinks a VMA in its file's i_mmap (__vma_link_file, unlink_file_vma).
void vma_link_file(vm_area_struct& vma);
void unlink_file_vma(vm_area_struct& vma);
// Re-keys a linked VMA in i_mmap after its range or vm_pgoff changed (the
// vma_interval_tree_remove/insert pair around vma_adjust).
void vma_interval_tree_update(vm_area_struct& vma);

// The page a VMA's page offset pgoff is: its index in the anon_vma or file (linear_page_index).
inline uint64_t linear_page_index(const vm_area_struct& vma, VirtAddr address) {
    return vma.vm_pgoff + ((address.page_base() - vma.vm_start) >> mmu::PAGE_SHIFT);
}

// Marks a new anonymous page as mapped once at address in vma (page_add_new_anon_rmap).
void page_add_new_anon_rmap(page& page, vm_area_struct& vma, VirtAddr address);
// Counts one more PTE mapping an anonymous page swapped back in (page_add_anon_rmap): the
// first mapper sets page->mapping, to vma's own anon_vma for an exclusive page, else to
// its root so that every process sharing the swapped page finds it.
enum class rmap_t { RMAP_NONE, RMAP_EXCLUSIVE };
using enum rmap_t;
void page_add_anon_rmap(page& page, vm_area_struct& vma, VirtAddr address, rmap_t flags);
// Counts one more PTE mapping a file page (page_add_file_rmap).
void page_add_file_rmap(page& page);
// Counts one PTE fewer (page_remove_rmap); an anonymous page leaves its anon_vma when
// nothing maps it any more.
void page_remove_rmap(page& page);

// Calls fn(vma, address) for every place the page may be mapped: the VMAs of its anon_vma
// or of its file's i_mmap whose range covers its index (rmap_walk_anon / rmap_walk_file).
void rmap_walk(const page& page, const std::function<void(vm_area_struct&, VirtAddr)>& fn);

// Unmaps the page at frame from every PTE that maps it (try_to_unmap); returns how many
// PTEs were cleared. An anonymous page in the swap cache leaves its swap entry in each
// (try_to_unmap_one's swap branch). The caller holds a reference, so the page itself stays allocated.
int try_to_unmap(PageAllocator& pa, PhysAddr frame);
// Write-protects and cleans every PTE of a shared mapping that maps the file page at frame,
// dropping the CPU's translations, so the next store faults and dirties the page again
// (page_mkclean / folio_mkclean); returns how many of those PTEs were dirty.
int page_mkclean(PageAllocator& pa, PhysAddr frame);
// Counts the PTEs mapping the page with the Accessed bit set, clearing it and dropping the
// CPU's cached translation so the next access walks the tables and sets A again
// (page_referenced); *vm_flags gets the flags of the VMAs that had referenced it.
int page_referenced(PageAllocator& pa, PhysAddr frame, unsigned long* vm_flags = nullptr);
// True if some PTE maps the page (page_mapped).
inline bool page_mapped(const page& p) { return p._mapcount >= 0; }

}  // namespace guestos
