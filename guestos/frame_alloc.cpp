#include "guestos/frame_alloc.h"

namespace guestos {

BitmapPageAllocator::BitmapPageAllocator(mmu::PhysMemory& ram, uint64_t reserved_frames)
    : ram_(ram), mem_map_(ram.num_frames()), pristine_(ram.num_frames(), true) {
    for (uint64_t pfn = 0; pfn < mem_map_.size(); ++pfn) {
        page& p = mem_map_[pfn];
        if (pfn < reserved_frames) {
            p.flags = PG_reserved;
            p.use = PageUse::Reserved;
            p._refcount = 1;
        } else {
            p.flags = PG_buddy;
            ++nr_free_;
        }
    }
    cursor_ = reserved_frames;
}

// True when frames [pfn, pfn+n) exist and are all free.
bool BitmapPageAllocator::run_is_free(uint64_t pfn, uint64_t n) const {
    if (pfn + n > mem_map_.size()) return false;
    for (uint64_t i = 0; i < n; ++i)
        if (!(mem_map_[pfn + i].flags & PG_buddy)) return false;
    return true;
}

// Next-fit search from the cursor for 2^order free, naturally aligned frames.
std::optional<PhysAddr> BitmapPageAllocator::alloc_pages(gfp_t gfp, unsigned order) {
    const uint64_t n = 1ull << order;
    if (nr_free_ < n) return std::nullopt;
    const uint64_t total = mem_map_.size();
    uint64_t start = cursor_ & ~(n - 1);
    for (uint64_t scanned = 0; scanned < total; scanned += n) {
        uint64_t pfn = (start + scanned) % total;
        pfn &= ~(n - 1);
        if (!run_is_free(pfn, n)) continue;
        for (uint64_t i = 0; i < n; ++i) {
            page& p = mem_map_[pfn + i];
            p = page{};
            p._refcount = 1;
            p.use = PageUse::Other;
        }
        mem_map_[pfn].order = static_cast<uint8_t>(order);
        nr_free_ -= n;
        cursor_ = pfn + n;
        PhysAddr pa = PhysAddr::from_pfn(pfn);
        // A frame never handed out before is an untouched memfd page and reads as zero:
        // clearing it would only fault it in on the host twice.
        for (uint64_t i = 0; i < n; ++i) {
            if ((gfp & __GFP_ZERO) && !pristine_[pfn + i]) ram_.zero_frame(pa + i * PAGE_SIZE);
            pristine_[pfn + i] = false;
        }
        return pa;
    }
    return std::nullopt;
}

// Returns 2^order frames; freeing a frame that is already free is ignored.
void BitmapPageAllocator::free_pages(PhysAddr frame, unsigned order) {
    const uint64_t n = 1ull << order;
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t pfn = frame.pfn() + i;
        if (pfn >= mem_map_.size()) return;
        page& p = mem_map_[pfn];
        if (p.flags & (PG_buddy | PG_reserved)) continue;
        p = page{};
        p.flags = PG_buddy;
        ++nr_free_;
    }
}

}  // namespace guestos
