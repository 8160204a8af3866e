// Swap I/O (Linux mm/page_io.c): a page to its slot of the swap file and back, through
// the swap area's block device as bios, counted as pswpout/pswpin. Writes under a blk_plug
// merge there; reads under a swap_iocb go out one bio per run of slots. A write completes
// when it is submitted (the plug holds a copy), so a written page is clean and reclaimable
// as soon as swap_writepage returns.
#pragma once
#include <cstdint>
#include <vector>

#include "guestos/include/kmap.h"
#include "guestos/include/page.h"

namespace guestos {

// How swap I/O reaches frames (set once memory is set up; tests set it for their RAM).
kernel_mem& swap_kernel_mem();

// Writes a swap-cache page to its slot and clears its dirty bit (swap_writepage ->
// __swap_writepage); 0 or a negative errno (the page stays dirty).
long swap_writepage(PageAllocator& pa, page& p);
// Swap reads gathered under a plug (struct swap_iocb): the pages wait until
// swap_read_unplug reads each run of contiguous slots with one bio.
struct swap_iocb {
    std::vector<uint32_t> pfns;
};

// Reads a swap-cache page from its slot and marks it uptodate (swap_read_folio). With a
// plug the read only joins it: the page is uptodate after swap_read_unplug.
long swap_readpage(PageAllocator& pa, page& p, swap_iocb* plug = nullptr);
// Submits the plugged reads, one bio per run of contiguous slots, and marks the pages
// uptodate (swap_read_unplug). A page whose read failed leaves the swap cache (dropping
// the cache's reference) and stays !PG_uptodate; returns the first error or 0.
long swap_read_unplug(PageAllocator& pa, swap_iocb& plug);

}  // namespace guestos
