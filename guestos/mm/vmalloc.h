// vmalloc/vfree/vmap over the buddy allocator, mapped in the reference kernel page tables
// of guestos/mm/init_mm.h (Linux mm/vmalloc.c).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "guestos/mm/init_mm.h"
#include "guestos/mm/page_alloc.h"
#include "mmu/paging.h"

namespace guestos {

// vm_struct flags.
inline constexpr unsigned long VM_IOREMAP = 0x1, VM_ALLOC = 0x2, VM_MAP = 0x4, VM_NO_GUARD = 0x40;

// One kernel virtual area (vm_struct + its vmap_area: [addr, addr + size) with the guard).
struct vm_struct {
    VirtAddr addr;
    uint64_t size = 0;  // with the guard page
    unsigned long flags = 0;
    std::vector<PhysAddr> pages;  // VM_ALLOC: owned; VM_MAP: the caller's
    uint64_t get_vm_area_size() const { return size - ((flags & VM_NO_GUARD) ? 0 : PAGE_SIZE); }
};

// vmalloc: virtually contiguous kernel memory from any pages, highmem included.
class Vmalloc {
public:
    Vmalloc(KernelPageTable& kpt, BuddyAllocator& buddy) : kpt_(kpt), buddy_(buddy) {}
    // Frees every area still allocated (vfree / vunmap).
    ~Vmalloc();
    Vmalloc(const Vmalloc&) = delete;
    Vmalloc& operator=(const Vmalloc&) = delete;

    // size bytes of mapped pages (GFP_KERNEL | __GFP_HIGHMEM); EINVAL for 0, ENOMEM when the
    // area, a page or a page table cannot be had (nothing is leaked).
    [[nodiscard]] mmu::ErrorOr<VirtAddr> vmalloc(uint64_t size) { return __vmalloc(size, GFP_KERNEL); }
    [[nodiscard]] mmu::ErrorOr<VirtAddr> vzalloc(uint64_t size) { return __vmalloc(size, GFP_KERNEL | __GFP_ZERO); }
    [[nodiscard]] mmu::ErrorOr<VirtAddr> __vmalloc(uint64_t size, gfp_t gfp);
    // Unmaps and frees a vmalloc area; other addresses are ignored and counted.
    void vfree(VirtAddr addr);
    // Maps the caller's pages contiguously; ENOMEM without an area or page table.
    [[nodiscard]] mmu::ErrorOr<VirtAddr> vmap(std::span<const PhysAddr> pages, unsigned long flags = VM_MAP,
                                              uint64_t prot = PAGE_KERNEL);
    // Unmaps a vmap area (the pages stay the caller's); other addresses are ignored and counted.
    void vunmap(VirtAddr addr);

    // A free range of size (+ guard) bytes in [start, end), lowest first (__get_vm_area_node).
    [[nodiscard]] mmu::ErrorOr<vm_struct*> __get_vm_area(uint64_t size, unsigned long flags, uint64_t start,
                                                         uint64_t end);
    // The area starting at addr (find_vm_area), or null.
    const vm_struct* find_vm_area(VirtAddr addr) const;
    // The frame mapped at a vmalloc address (vmalloc_to_page), from the page tables.
    std::optional<PhysAddr> vmalloc_to_page(VirtAddr addr) const;
    uint64_t vmalloc_nr_pages() const { return nr_vmalloc_pages_; }  // VmallocUsed
    size_t nr_areas() const { return areas_.size(); }
    uint64_t nr_bad_frees() const { return nr_bad_frees_; }

private:
    mmu::ErrorOr<void> map_kernel_range(VirtAddr start, const std::vector<PhysAddr>& pages, uint64_t prot);
    void unmap_kernel_range(VirtAddr start, uint64_t size);
    void free_vm_area(VirtAddr addr);

    KernelPageTable& kpt_;
    BuddyAllocator& buddy_;
    std::map<uint64_t, std::unique_ptr<vm_struct>> areas_;  // by start (vmap_area_root)
    uint64_t nr_vmalloc_pages_ = 0;
    uint64_t nr_bad_frees_ = 0;
};

}  // namespace guestos
