// Swap I/O through the swap area's block device (Linux mm/page_io.c).
#include "guestos/mm/page_io.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "guestos/include/blkdev.h"
#include "guestos/include/mm_inline.h"
#include "guestos/mm/swap_state.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

namespace {
// The most one swap read bio carries (queue/max_sectors_kb's default).
constexpr uint64_t MAX_SWAP_READ_BYTES = 1280ull << 10;

uint32_t page_to_pfn(PageAllocator& pa, const page& p) { return static_cast<uint32_t>(&p - &pa.pfn_to_page(0)); }

void count_vm_event(PageAllocator& pa, vm_event_item item) {
    if (lruvec* lv = pa.node_lruvec()) lv->count_vm_events(item);
}

// The bytes of a swap-cache page's slot in its area (map_swap_entry: a swap file here is
// one extent, slot n at byte n * PAGE_SIZE).
swap_info_struct* slot_of(const page& p, uint64_t& byte) {
    const swp_entry_t entry{p.private_};
    swap_info_struct* si = swp_swap_info(entry);
    byte = swp_offset(entry) * PAGE_SIZE;
    return si && si->bdev ? si : nullptr;
}
}  // namespace

kernel_mem& swap_kernel_mem() {
    static kernel_mem km;
    return km;
}

namespace {
// Moves page p's bytes to or from its swap slot through the kernel's mapping of the frame
// (submit_bio of one page); -EIO without a slot or a device.
long swap_page_io(PageAllocator& pa, page& p, bool write) {
    uint64_t byte;
    swap_info_struct* si = slot_of(p, byte);
    if (!si || !swap_kernel_mem().ram) return -EIO;
    long r = -EIO;
    const PhysAddr frame = PhysAddr::from_pfn(page_to_pfn(pa, p));
    (void)with_kernel_mapping(swap_kernel_mem(), frame, PAGE_SIZE, [&](uint8_t* bytes) {
        r = write ? submit_bio_write(*si->bdev, byte, bytes, PAGE_SIZE)
                  : submit_bio_read(*si->bdev, byte, bytes, PAGE_SIZE);
    });
    return r < 0 ? r : 0;
}

// The read completed: the page holds its slot's bytes (end_swap_bio_read).
void end_swap_bio_read(PageAllocator& pa, page& p) {
    p.flags |= PG_uptodate;
    count_vm_event(pa, PSWPIN);
}

// A read that failed: the page leaves the swap cache, which drops the cache's reference.
void swap_read_failed(PageAllocator& pa, page& p) {
    delete_from_swap_cache(pa, p);
    p.flags &= ~PG_dirty;
}

// Reads the run pfns[first, last) of contiguous slots with one bio into a bounce buffer
// and copies each page into its frame; 0 or the bio's error.
long swap_read_run(PageAllocator& pa, const std::vector<uint32_t>& pfns, size_t first, size_t last) {
    uint64_t byte;
    swap_info_struct* si = slot_of(pa.pfn_to_page(pfns[first]), byte);
    if (!si || !swap_kernel_mem().ram) return -EIO;
    std::vector<uint8_t> buf((last - first) * PAGE_SIZE);
    if (long r = submit_bio_read(*si->bdev, byte, buf.data(), buf.size()); r < 0) return r;
    for (size_t i = first; i < last; ++i) {
        const uint8_t* src = buf.data() + (i - first) * PAGE_SIZE;
        const bool mapped = with_kernel_mapping(swap_kernel_mem(), PhysAddr::from_pfn(pfns[i]), PAGE_SIZE,
                                                [&](uint8_t* bytes) { std::memcpy(bytes, src, PAGE_SIZE); });
        if (!mapped) return -EIO;
    }
    return 0;
}

// A swap-cache page's entry (page_swap_entry): consecutive values are consecutive slots of one area.
uint64_t swap_entry_val(PageAllocator& pa, uint32_t pfn) { return pa.pfn_to_page(pfn).private_; }
}  // namespace

long swap_writepage(PageAllocator& pa, page& p) {
    if (long r = swap_page_io(pa, p, true)) return r;
    p.flags &= ~PG_dirty;  // clear_page_dirty_for_io; the write is complete (end_swap_bio_write)
    count_vm_event(pa, PSWPOUT);
    return 0;
}

long swap_readpage(PageAllocator& pa, page& p, swap_iocb* plug) {
    if (plug) {
        plug->pfns.push_back(page_to_pfn(pa, p));
        return 0;
    }
    if (long r = swap_page_io(pa, p, false)) return r;
    end_swap_bio_read(pa, p);
    return 0;
}

long swap_read_unplug(PageAllocator& pa, swap_iocb& plug) {
    std::vector<uint32_t> pfns = std::move(plug.pfns);
    plug.pfns.clear();
    // Slots in disk order: a run is a stretch of consecutive entries of one area.
    std::sort(pfns.begin(), pfns.end(),
              [&](uint32_t a, uint32_t b) { return swap_entry_val(pa, a) < swap_entry_val(pa, b); });
    long err = 0;
    for (size_t first = 0, last; first < pfns.size(); first = last) {
        for (last = first + 1; last < pfns.size(); ++last)
            if (swap_entry_val(pa, pfns[last]) != swap_entry_val(pa, pfns[last - 1]) + 1 ||
                (last - first) * PAGE_SIZE >= MAX_SWAP_READ_BYTES)
                break;
        const long r = swap_read_run(pa, pfns, first, last);
        if (r && !err) err = r;
        for (size_t i = first; i < last; ++i) {
            page& p = pa.pfn_to_page(pfns[i]);
            if (r) swap_read_failed(pa, p);
            else end_swap_bio_read(pa, p);
        }
    }
    return err;
}

}  // namespace guestos
