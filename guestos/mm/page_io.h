// Swap I/O (Linux mm/page_io.c): a page to its slot of the swap file and back, through
// the swap area's block device, counted as pswpout/pswpin. I/O is synchronous here, so a
// written page is clean and reclaimable as soon as swap_writepage returns.
#pragma once
#include "guestos/include/kmap.h"
#include "guestos/include/page.h"

namespace guestos {

// How swap I/O reaches frames (set once memory is set up; tests set it for their RAM).
kernel_mem& swap_kernel_mem();

// Writes a swap-cache page to its slot and clears its dirty bit (swap_writepage ->
// __swap_writepage); 0 or a negative errno (the page stays dirty).
long swap_writepage(PageAllocator& pa, page& p);
// Reads a swap-cache page from its slot and marks it uptodate (swap_read_folio).
long swap_readpage(PageAllocator& pa, page& p);

}  // namespace guestos
