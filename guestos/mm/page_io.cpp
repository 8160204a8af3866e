// Swap I/O through the swap area's block device (Linux mm/page_io.c).
#include "guestos/mm/page_io.h"

#include <cerrno>
#include <vector>

#include "guestos/include/mm_inline.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

namespace {
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
        r = write ? si->bdev->write(byte, bytes, PAGE_SIZE) : si->bdev->read(byte, bytes, PAGE_SIZE);
    });
    return r < 0 ? r : 0;
}
}  // namespace

long swap_writepage(PageAllocator& pa, page& p) {
    if (long r = swap_page_io(pa, p, true)) return r;
    p.flags &= ~PG_dirty;  // clear_page_dirty_for_io; the write is complete (end_swap_bio_write)
    count_vm_event(pa, PSWPOUT);
    return 0;
}

long swap_readpage(PageAllocator& pa, page& p) {
    if (long r = swap_page_io(pa, p, false)) return r;
    p.flags |= PG_uptodate;
    count_vm_event(pa, PSWPIN);
    return 0;
}

}  // namespace guestos
