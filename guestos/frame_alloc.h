// First-cut page allocator: a bitmap with a next-fit cursor, so consecutive requests get
// consecutive frames (neighbouring host aliases then merge). The buddy allocator replaces it.
#pragma once
#include <vector>

#include "guestos/page.h"
#include "mmu/phys_memory.h"

namespace guestos {

class BitmapPageAllocator final : public PageAllocator {
public:
    // Manages every frame of `ram`; the first `reserved_frames` are marked reserved.
    BitmapPageAllocator(mmu::PhysMemory& ram, uint64_t reserved_frames);
    std::optional<PhysAddr> alloc_pages(gfp_t gfp, unsigned order) override;
    void free_pages(PhysAddr frame, unsigned order) override;
    uint64_t nr_free_pages() const override { return nr_free_; }
    uint64_t totalram_pages() const override { return mem_map_.size(); }
    page& pfn_to_page(uint64_t pfn) override { return mem_map_[pfn]; }

private:
    bool run_is_free(uint64_t pfn, uint64_t n) const;
    mmu::PhysMemory& ram_;
    std::vector<page> mem_map_;
    std::vector<bool> pristine_;  // never allocated: a fresh memfd page, already zero
    uint64_t cursor_ = 0;
    uint64_t nr_free_ = 0;
};

}  // namespace guestos
