// Page tables and page faults of an mm (mm/memory.c), and the user-copy helpers (uaccess).
#include "guestos/mm/memory.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "guestos/trace/fault_trace.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/highmem.h"
#include "guestos/mm/vmalloc.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/readahead.h"
#include "guestos/mm/rmap.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/swap_state.h"
#include "guestos/mm/swapfile.h"
#include "guestos/mm/util.h"
#include "guestos/include/fs.h"
#include "guestos/include/swapops.h"
#include "guestos/include/uio.h"

namespace guestos {

using mmu::PagingMode;

namespace {

// Page-table pages come from the page allocator, zeroed, accounted as PageTable.
class PgtableAllocator final : public mmu::TableAllocator {
public:
    explicit PgtableAllocator(mm_struct& mm) : mm_(mm) {}
    std::optional<PhysAddr> alloc_table() override {
        auto pa = mm_.page_alloc->alloc_page(GFP_KERNEL | __GFP_ZERO);
        if (pa) {
            page& p = mm_.page_alloc->phys_to_page(*pa);
            mm_.page_alloc->set_page_use(p, PageUse::PageTable);
            p.flags |= PG_pagetable;
            mm_.pgtables_bytes += PAGE_SIZE;
            mm_.mark_slab_dirty();
        }
        return pa;
    }
    void free_table(PhysAddr pa) override {
        mm_.pgtables_bytes -= PAGE_SIZE;
        mm_.mark_slab_dirty();
        mm_.page_alloc->free_page(pa);
    }

private:
    mm_struct& mm_;
};

// The span one last-level table covers: where a missing table lets a range walk skip ahead.
uint64_t pmd_span(PagingMode mode) { return mode == PagingMode::Legacy32 ? (4ull << 20) : (2ull << 20); }

// Runs fn on the bytes [pa, pa+n) of one frame reached as the kernel reaches it: through
// the direct map for lowmem, kmap_atomic for highmem (guestos/include/kmap.h).
template <class Fn>
bool with_kernel_mapping(mm_struct& mm, PhysAddr pa, uint64_t n, Fn fn) {
    return guestos::with_kernel_mapping(mm_kmem(mm), pa, n, fn);
}

// The rss counter a mapped page counts in (mm_counter): anon, shmem or file.
uint64_t& mm_counter(mm_struct& mm, const page& p) {
    mm.mark_slab_dirty();  // the caller changes it
    if (p.use == PageUse::Anon) return mm.rss_anon;
    return (p.flags & PG_swapbacked) ? mm.rss_shmem : mm.rss_file;
}

void count_rss(mm_struct& mm, const page& p) {
    ++mm_counter(mm, p);
    mm.hiwater_rss = std::max(mm.hiwater_rss, mm.rss());
}

// Maps a new anonymous page at address (do_anonymous_page's and do_cow_fault's end:
// page_add_new_anon_rmap + set_pte_at); a write maps it dirty.
vm_fault_t map_new_anon_page(mm_struct& mm, vm_area_struct& vma, VirtAddr address, PhysAddr frame, unsigned flags) {
    page& p = mm.page_alloc->phys_to_page(frame);
    if (!anon_vma_prepare(vma)) {
        mm.page_alloc->free_page(frame);
        return VM_FAULT_OOM;
    }
    mm.page_alloc->set_page_use(p, PageUse::Anon);
    pte_t pte = mk_pte(mm.paging_mode, frame, vm_page_prot(mm, vma.vm_flags));
    if (flags & FAULT_FLAG_WRITE) pte = pte_mkdirty(pte);  // maybe_mkwrite(pte_mkdirty())
    if (!set_pte_at(mm, address.page_base(), pte)) {
        mm.page_alloc->free_page(frame);
        return VM_FAULT_OOM;
    }
    page_add_new_anon_rmap(p, vma, address);
    lru_cache_add_inactive_or_unevictable(*mm.page_alloc, p, vma);
    count_rss(mm, p);
    return VM_FAULT_OK;
}

// vma_wants_writenotify: in a shared mapping, a page of a file that is written back is
// mapped read-only until it is written, so the first store dirties it (wp_page_shared).
bool page_wants_writenotify(const page& p) {
    if (p.use != PageUse::File || (p.flags & PG_anon) || !p.mapping) return false;
    const address_space& m = *static_cast<const address_space*>(p.mapping);
    return m.a_ops && m.a_ops->writepage && !m.a_ops->swap_backed;
}

// Maps a page-cache page at address (finish_fault / do_set_pte): read-only in a private
// mapping, so a write copies it; writable and dirty on a write to a shared one.
vm_fault_t map_file_page(mm_struct& mm, vm_area_struct& vma, VirtAddr address, PhysAddr frame, bool write) {
    page& p = mm.page_alloc->phys_to_page(frame);
    pte_t pte = mk_pte(mm.paging_mode, frame, vm_page_prot(mm, vma.vm_flags));
    if (!(vma.vm_flags & VM_SHARED) || (!write && page_wants_writenotify(p))) pte = pte_wrprotect(pte);
    if (write) {
        pte = pte_mkdirty(pte);
        set_page_dirty(p);
    }
    ++p._refcount;  // get_page: the PTE's reference, taken first so reclaim leaves the page be
    if (!set_pte_at(mm, address.page_base(), pte)) {
        --p._refcount;
        return VM_FAULT_OOM;
    }
    page_add_file_rmap(p);
    count_rss(mm, p);
    return VM_FAULT_OK;
}

// A new page holding a copy of src (alloc_page + copy_user_highpage, both frames through
// kernel mappings: nested kmap_atomic); nullopt when RAM is exhausted.
std::optional<PhysAddr> alloc_page_copy(mm_struct& mm, PhysAddr src, const char* step) {
    auto frame = mm.page_alloc->alloc_page(GFP_HIGHUSER_MOVABLE);
    if (!frame) return std::nullopt;
    trace_fault_step(step, [&](FaultStep& s) {
        const std::string copy = "pfn " + hex(frame->pfn()) + ", copy_user_highpage from pfn " + hex(src.pfn());
        if (s.fn == "alloc_page") s.args = "GFP_HIGHUSER_MOVABLE", s.result = copy;
        else s.result = "alloc_page(GFP_HIGHUSER_MOVABLE) -> " + copy;
    });
    if (!copy_highpage(mm_kmem(mm), *frame, src)) {
        mm.page_alloc->free_page(*frame);
        return std::nullopt;
    }
    return frame;
}

// A first touch of anonymous memory (do_anonymous_page): a read maps the shared zero page
// read-only; a write gets a zeroed page of its own.
vm_fault_t do_anonymous_page(mm_struct& mm, vm_area_struct& vma, VirtAddr address, unsigned flags) {
    trace_fault_step("do_anonymous_page");
    if (!(flags & FAULT_FLAG_WRITE) && mm.zero_page.value && !(vma.vm_flags & VM_SHARED)) {
        trace_fault_step("my_zero_pfn",
                         [&](FaultStep& s) { s.result = "pfn " + hex(mm.zero_page.pfn()) + " (read-only)"; });
        ++mm.zero_page_maps;
        const pte_t pte = pte_wrprotect(mk_pte(mm.paging_mode, mm.zero_page, vm_page_prot(mm, vma.vm_flags)));
        return set_pte_at(mm, address.page_base(), pte) ? VM_FAULT_OK : VM_FAULT_OOM;
    }
    auto frame = mm.page_alloc->alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_ZERO);
    if (!frame) return VM_FAULT_OOM;
    trace_fault_step("alloc_page", [&](FaultStep& s) {
        s.args = "GFP_HIGHUSER_MOVABLE|__GFP_ZERO";
        s.result = "pfn " + hex(frame->pfn());
    });
    return map_new_anon_page(mm, vma, address, *frame, flags);
}

// The page-cache page for a file fault (filemap_fault / shmem_fault): SIGBUS past the end
// of the file; a missing page is read in with read-around (a major fault) or, for shmem,
// allocated zeroed.
vm_fault_t filemap_fault(mm_struct& mm, vm_area_struct& vma, VirtAddr address, PhysAddr& out) {
    inode& ino = *vma.vm_file->f_inode;
    address_space& m = ino.i_data;
    const uint64_t pgoff = linear_page_index(vma, address);
    const bool shmem = m.a_ops && m.a_ops->swap_backed;
    trace_fault_step(shmem ? "shmem_fault" : "filemap_fault",
                     [&](FaultStep& s) { s.about = "file page " + std::to_string(pgoff); });
    if (pgoff >= mmu::page_align_up(ino.i_size) >> PAGE_SHIFT) {
        trace_fault_step("", [&](FaultStep& s) {
            s.about = "page " + std::to_string(pgoff) + " is beyond i_size " + std::to_string(ino.i_size);
            s.result = "VM_FAULT_SIGBUS";
        });
        return VM_FAULT_SIGBUS;
    }
    vm_fault_t ret = shmem && m.i_swap.count(pgoff) ? VM_FAULT_MAJOR : VM_FAULT_OK;  // shmem_swapin_folio
    if (auto cached = find_get_page(m, pgoff)) {
        out = *cached;
        trace_fault_step("find_get_page",
                         [&](FaultStep& s) { s.result = "pfn " + hex(out.pfn()) + " (in the page cache)"; });
        if (!shmem) {
            page& p = mm.page_alloc->phys_to_page(out);
            ++p._refcount;  // folio_get: the read-ahead's allocations must not reclaim this page
            do_async_mmap_readahead(vma, pgoff, p);
            if (--p._refcount <= 0) mm.page_alloc->free_page(out);
        }
        return ret;
    }
    if (!shmem) {
        do_sync_mmap_readahead(vma, pgoff);  // read-around, or the window of a VM_SEQ_READ mapping
        ret = VM_FAULT_MAJOR;
    }
    auto page = pagecache_get_page(m, pgoff);
    if (page.is_error()) return page.error().errno_value == ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;  // vmf_error
    out = page.value();
    trace_fault_step(shmem ? "shmem_get_folio" : "filemap_get_folio",
                     [&](FaultStep& s) { s.result = "pfn " + hex(out.pfn()); });
    return ret;
}

// Maps the already-cached pages around a read fault, up to fault_around_bytes inside the
// VMA and the page table (do_fault_around -> filemap_map_pages). Returns how many it mapped.
unsigned do_fault_around(mm_struct& mm, vm_area_struct& vma, VirtAddr address) {
    const uint64_t window = fault_around_bytes & mmu::PAGE_MASK;
    if (window <= PAGE_SIZE) return 0;
    inode& ino = *vma.vm_file->f_inode;
    address_space& m = ino.i_data;
    const uint64_t span = pmd_span(mm.paging_mode);
    const uint64_t start = std::max({address.value & ~(window - 1), vma.vm_start.value, address.value & ~(span - 1)});
    const uint64_t end =
        std::min({(address.value & ~(window - 1)) + window, vma.vm_end.value, (address.value & ~(span - 1)) + span});
    const uint64_t file_pages = mmu::page_align_up(ino.i_size) >> PAGE_SHIFT;
    unsigned mapped = 0;
    for (uint64_t va = start; va < end; va += PAGE_SIZE) {
        const uint64_t pgoff = linear_page_index(vma, VirtAddr(va));
        if (pgoff >= file_pages || !pte_none(get_pte(mm, VirtAddr(va)))) continue;
        auto frame = find_get_page(m, pgoff);
        if (!frame) continue;
        if (map_file_page(mm, vma, VirtAddr(va), *frame, false)) break;
        ++mapped;
    }
    file_ra_state& ra = vma.vm_file->f_ra;  // filemap_map_pages: each page mapped is an mmap hit
    ra.mmap_miss -= std::min<unsigned>(ra.mmap_miss, mapped);
    trace_fault_step("do_fault_around", [&](FaultStep& s) {
        s.result = "filemap_map_pages mapped " + std::to_string(mapped) + " cached pages";
    });
    return mapped;
}

// A fault on a file page no PTE maps yet (do_fault): do_read_fault, do_cow_fault for a
// write to a private mapping, do_shared_fault for a write to a shared one.
vm_fault_t do_fault(mm_struct& mm, vm_area_struct& vma, VirtAddr address, unsigned flags) {
    if (!(flags & FAULT_FLAG_WRITE)) {
        trace_fault_step("do_read_fault");
        if (do_fault_around(mm, vma, address) && !pte_none(get_pte(mm, address))) return VM_FAULT_OK;
        PhysAddr frame;
        vm_fault_t r = filemap_fault(mm, vma, address, frame);
        if (r & VM_FAULT_ERROR) return r;
        vm_fault_t m = map_file_page(mm, vma, address, frame, false);
        return m ? m : r;
    }
    if (!(vma.vm_flags & VM_SHARED)) {
        trace_fault_step("do_cow_fault");
        PhysAddr src;
        vm_fault_t r = filemap_fault(mm, vma, address, src);
        if (r & VM_FAULT_ERROR) return r;
        page& sp = mm.page_alloc->phys_to_page(src);
        ++sp._refcount;  // get_page: the allocation below may reclaim
        auto frame = alloc_page_copy(mm, src, "alloc_page");
        if (--sp._refcount <= 0) mm.page_alloc->free_page(src);  // put_page
        if (!frame) return VM_FAULT_OOM;
        vm_fault_t m = map_new_anon_page(mm, vma, address, *frame, flags);
        return m ? m : r;
    }
    trace_fault_step("do_shared_fault");
    PhysAddr frame;
    vm_fault_t r = filemap_fault(mm, vma, address, frame);
    if (r & VM_FAULT_ERROR) return r;
    vm_fault_t m = map_file_page(mm, vma, address, frame, true);  // fault_dirty_shared_page
    return m ? m : r;
}

vm_fault_t do_wp_page(mm_struct& mm, vm_area_struct& vma, VirtAddr address, pte_t pte);

// A first touch of a [vdso] or [vvar] page (special_mapping_fault): the kernel's own
// reserved frame, mapped read-only with no reference counted; a write to a private writable
// one (a debugger's breakpoint after mprotect) gets a copy, as a file page's do_cow_fault.
vm_fault_t special_mapping_fault(mm_struct& mm, vm_area_struct& vma, VirtAddr address, unsigned flags) {
    const uint64_t pgoff = ((address.page_base() - vma.vm_start) >> PAGE_SHIFT) + vma.vm_pgoff;
    PhysAddr frame;
    trace_fault_step("special_mapping_fault", [&](FaultStep& s) {
        s.about = vma.vm_special->name + std::string(" page ") + std::to_string(pgoff);
    });
    if (const unsigned r = vma.vm_special->fault(*vma.vm_special, pgoff, frame)) return static_cast<vm_fault_t>(r);
    if ((flags & FAULT_FLAG_WRITE) && !(vma.vm_flags & VM_SHARED)) {
        auto copy = alloc_page_copy(mm, frame, "alloc_page");
        if (!copy) return VM_FAULT_OOM;
        return map_new_anon_page(mm, vma, address, *copy, flags);
    }
    const pte_t pte = pte_wrprotect(mk_pte(mm.paging_mode, frame, vm_page_prot(mm, vma.vm_flags)));
    return set_pte_at(mm, address.page_base(), pte) ? VM_FAULT_OK : VM_FAULT_OOM;
}

// A fault on a swapped-out page (do_swap_page): the page comes from the swap cache or is
// read in with its neighbours (swapin_readahead, a major fault); this PTE's reference on
// the slot goes (swap_free). A write fault by the slot's last user takes the page for
// itself, out of the swap cache (reuse_swap_page); otherwise it is mapped read-only and a
// later write goes through do_wp_page. A bad entry gets SIGBUS.
vm_fault_t do_swap_page(mm_struct& mm, vm_area_struct& vma, VirtAddr address, pte_t orig_pte, unsigned flags) {
    const swp_entry_t entry = pte_to_swp_entry(mm.paging_mode, orig_pte);
    trace_fault_step("do_swap_page", [&](FaultStep& s) {
        s.about =
            "swap entry type " + std::to_string(swp_type(entry)) + ", offset " + std::to_string(swp_offset(entry));
    });
    if (!__swap_count(entry)) {
        trace_fault_step("", [](FaultStep& s) {
            s.about = "bad swap entry";
            s.result = "VM_FAULT_SIGBUS";
        });
        return VM_FAULT_SIGBUS;
    }
    PageAllocator& pa = *mm.page_alloc;
    vm_fault_t ret = VM_FAULT_OK;
    std::optional<uint32_t> pfn = lookup_swap_cache(entry);
    if (pfn) {
        ++pa.pfn_to_page(*pfn)._refcount;  // the fault's reference
        swap_cache_hit(pa, pa.pfn_to_page(*pfn));
        trace_fault_step("lookup_swap_cache",
                         [&](FaultStep& s) { s.result = "pfn " + hex(*pfn) + " (in the swap cache)"; });
    } else {
        bool major = false;
        unsigned readahead = 0;
        pfn = swapin_readahead(pa, entry, GFP_HIGHUSER_MOVABLE, major, &readahead);
        if (!pfn) return __swap_count(entry) ? VM_FAULT_OOM : VM_FAULT_OK;  // raced with a free: retry
        trace_fault_step("lookup_swap_cache", [&](FaultStep& s) {
            s.result = "miss; swapin_readahead -> swap_readpage -> pfn " + hex(*pfn) + " (+" +
                       std::to_string(readahead) + " read ahead)";
        });
        if (major) ret = VM_FAULT_MAJOR;
    }
    page& p = pa.pfn_to_page(*pfn);
    if (!anon_vma_prepare(vma)) {
        if (--p._refcount <= 0) pa.free_page(PhysAddr::from_pfn(*pfn));
        return VM_FAULT_OOM;
    }
    swap_free(entry);
    // reuse_swap_page: no other PTE holds the slot and no other PTE maps the page.
    const bool exclusive = !__swap_count(entry) && p._mapcount < 0;
    pte_t pte = mk_pte(mm.paging_mode, PhysAddr::from_pfn(*pfn), vm_page_prot(mm, vma.vm_flags));
    if ((flags & FAULT_FLAG_WRITE) && exclusive) {
        pte = pte_mkdirty(pte);         // maybe_mkwrite(pte_mkdirty())
        delete_from_swap_cache(pa, p);  // the slot is freed; the fault's reference keeps the page
        trace_fault_step("reuse_swap_page", [](FaultStep& s) { s.result = "delete_from_swap_cache (writable)"; });
    } else {
        pte = pte_wrprotect(pte);
    }
    if (!set_pte_at(mm, address.page_base(), pte)) {
        (void)swap_duplicate(entry);  // the PTE still holds the entry
        if (--p._refcount <= 0) pa.free_page(PhysAddr::from_pfn(*pfn));
        return VM_FAULT_OOM;
    }
    page_add_anon_rmap(p, vma, address, exclusive ? RMAP_EXCLUSIVE : RMAP_NONE);  // the fault's reference is the PTE's
    --mm.swapents;
    count_rss(mm, p);
    if (vm_swap_full() || (vma.vm_flags & VM_LOCKED)) (void)try_to_free_swap(pa, p);
    // A write to a page others still share: break COW now (the PTE is read-only).
    if ((flags & FAULT_FLAG_WRITE) && !pte_write(pte)) {
        const vm_fault_t wp = do_wp_page(mm, vma, address, get_pte(mm, address));
        return (wp & VM_FAULT_ERROR) ? wp : ret;
    }
    return ret;
}

// A write to a present read-only PTE of a writable VMA (do_wp_page): in a shared mapping
// the page becomes writable and dirty (wp_page_shared); in a private one an anonymous page
// only this PTE maps is reused (wp_page_reuse), anything else is copied (wp_page_copy).
vm_fault_t do_wp_page(mm_struct& mm, vm_area_struct& vma, VirtAddr address, pte_t orig_pte) {
    PhysAddr old = pte_phys(orig_pte);
    page& op = mm.page_alloc->phys_to_page(old);
    const pgprot_t prot = vm_page_prot(mm, vma.vm_flags);
    trace_fault_step("do_wp_page");
    const bool shared = vma.vm_flags & VM_SHARED;
    // A swapped-in page only this PTE maps: its slot goes if no PTE holds it (reuse_swap_page).
    if (!shared && (op.flags & PG_swapcache) && op._mapcount == 0) (void)try_to_free_swap(*mm.page_alloc, op);
    if (shared || ((op.flags & PG_anon) && op._refcount == 1 && !(op.flags & PG_reserved))) {
        trace_fault_step(shared ? "wp_page_shared" : "wp_page_reuse", [&](FaultStep& s) {
            s.about = "pfn " + hex(old.pfn()) + (shared ? ", set_page_dirty" : " has one mapper");
        });
        if (shared) set_page_dirty(op);
        bool ok = set_pte_at(mm, address.page_base(), pte_mkdirty(mk_pte(mm.paging_mode, old, prot)));
        if (mm.tlb) mm.tlb->flush_tlb_page(address.page_base());
        return ok ? VM_FAULT_OK : VM_FAULT_OOM;
    }
    auto frame = alloc_page_copy(mm, old, "wp_page_copy");
    if (!frame) return VM_FAULT_OOM;
    if (!anon_vma_prepare(vma)) {
        mm.page_alloc->free_page(*frame);
        return VM_FAULT_OOM;
    }
    ++mm.cow_breaks;
    page& np = mm.page_alloc->phys_to_page(*frame);
    mm.page_alloc->set_page_use(np, PageUse::Anon);
    if (!set_pte_at(mm, address.page_base(), pte_mkdirty(mk_pte(mm.paging_mode, *frame, prot)))) {
        mm.page_alloc->free_page(*frame);
        return VM_FAULT_OOM;
    }
    page_add_new_anon_rmap(np, vma, address);
    lru_cache_add_inactive_or_unevictable(*mm.page_alloc, np, vma);
    count_rss(mm, np);
    put_mapped_page(mm, old);
    if (mm.tlb) mm.tlb->flush_tlb_page(address.page_base());
    return VM_FAULT_OK;
}

// Where the kernel-side copies see a user page: walk, and on a miss fault it in once.
std::optional<PhysAddr> user_page(mm_struct& mm, VirtAddr va, bool write) {
    mmu::RamBus bus(*mm.ram);
    const mmu::Access acc = write ? mmu::Access::Write : mmu::Access::Read;
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto r = mmu::walk(bus, mm.paging_mode, mm.pgd, va, acc, mmu::Privilege::User, {});
        if (r.ok) return r.phys;
        if (attempt) break;
        vm_area_struct* vma = find_vma(mm, va);
        if (!vma) return std::nullopt;
        if (va < vma->vm_start && !((vma->vm_flags & VM_GROWSDOWN) && expand_stack(mm, *vma, va))) return std::nullopt;
        if (!(vma->vm_flags & (write ? VM_WRITE : VM_READ))) return std::nullopt;
        if (handle_mm_fault(mm, *vma, va, (write ? FAULT_FLAG_WRITE : 0u) | FAULT_FLAG_USER) & VM_FAULT_ERROR)
            return std::nullopt;
    }
    return std::nullopt;
}

// The frame of va made writable for a forced write (get_user_pages with FOLL_WRITE |
// FOLL_FORCE): faulted in for writing, COW broken even in a read-only private mapping.
std::optional<PhysAddr> force_write_page(mm_struct& mm, VirtAddr va) {
    vm_area_struct* vma = find_vma(mm, va);
    if (!vma || vma->vm_start > va) return std::nullopt;
    // check_vma_flags: without VM_WRITE only a private mapping that may become writable.
    const unsigned long f = vma->vm_flags;
    if (!(f & VM_WRITE) && ((f & VM_SHARED) || !(f & VM_MAYWRITE))) return std::nullopt;
    pte_t pte = get_pte(mm, va);
    if (pte_none(pte)) {
        if (handle_mm_fault(mm, *vma, va, FAULT_FLAG_WRITE) & VM_FAULT_ERROR) return std::nullopt;
    } else if (!pte_hw_present(pte)) {
        return std::nullopt;  // a swap entry or a PROT_NONE page
    } else if (!pte_write(pte) || !pte_dirty(pte)) {
        // do_wp_page copies a shared page or takes over an exclusive one, dirty either way.
        if (do_wp_page(mm, *vma, va, pte) & VM_FAULT_ERROR) return std::nullopt;
    }
    pte = get_pte(mm, va);
    if (!pte_hw_present(pte)) return std::nullopt;
    return pte_phys(pte) + va.page_offset();
}

// Copies len bytes page by page between a user range and a kernel buffer.
template <class Fn>
bool for_each_user_chunk(mm_struct& mm, VirtAddr va, uint64_t len, bool write, Fn fn) {
    if (va.value + len < va.value || va.value + len > mm.task_size) return false;
    uint64_t done = 0;
    while (done < len) {
        VirtAddr cur = va + done;
        uint64_t n = std::min<uint64_t>(len - done, PAGE_SIZE - cur.page_offset());
        auto pa = user_page(mm, cur, write);
        if (!pa || !with_kernel_mapping(mm, *pa, n, [&](uint8_t* host) { fn(host, done, n); })) return false;
        done += n;
    }
    return true;
}

}  // namespace

unsigned long fault_around_bytes = 65536;

kernel_mem mm_kmem(const mm_struct& mm) { return kernel_mem{mm.ram, mm.page_alloc, mm.kpt, mm.highmem}; }

void put_mapped_page(mm_struct& mm, PhysAddr frame) {
    page& p = mm.page_alloc->phys_to_page(frame);
    if (p.flags & PG_reserved) return;
    if (uint64_t& counter = mm_counter(mm, p); counter && (p.use == PageUse::Anon || p.use == PageUse::File)) --counter;
    page_remove_rmap(p);
    // free_swap_cache: the last unmap of a swapped-in page lets its slot go if nothing holds it.
    if ((p.flags & PG_swapcache) && !page_mapped(p)) (void)try_to_free_swap(*mm.page_alloc, p);
    if (--p._refcount <= 0) mm.page_alloc->free_page(frame);
}

bool pgd_alloc(mm_struct& mm) {
    PgtableAllocator alloc(mm);
    auto root = alloc.alloc_table();
    if (!root) return false;
    // pgd_ctor: the kernel half of every process pgd is the reference one.
    if (mm.kpt && mm.kpt->pgd_ctor(*root).is_error()) {
        alloc.free_table(*root);
        return false;
    }
    mm.pgd = *root;
    return true;
}

void free_pgd(mm_struct& mm) {
    mmlist_del(mm);
    if (!mm.pgd.value) return;
    // unmap_vmas: VMA by VMA (no PTE lies outside a VMA), not the whole user range.
    for (vm_area_struct& v : mm.mm_rb) zap_page_range(mm, v.vm_start, v.vm_end);
    if (mm.kpt) mm.kpt->pgd_dtor(mm.pgd);  // the shared kernel tables are not ours to free
    PgtableAllocator alloc(mm);
    mmu::RamBus bus(*mm.ram);
    mmu::free_page_tables(bus, mm.paging_mode, mm.pgd, alloc, VirtAddr(0), VirtAddr(mm.task_size));
    mm.page_alloc->free_page(mm.pgd);
    mm.pgd = PhysAddr(0);
}

pte_t get_pte(mm_struct& mm, VirtAddr va) {
    mmu::RamBus bus(*mm.ram);
    auto slot = mmu::pte_lookup(bus, mm.paging_mode, mm.pgd, va);
    return __pte(slot ? mmu::read_entry(bus, mm.paging_mode, *slot) : 0);
}

bool set_pte_at(mm_struct& mm, VirtAddr va, pte_t pte) {
    mmu::RamBus bus(*mm.ram);
    PgtableAllocator alloc(mm);
    auto slot = mmu::pte_alloc(bus, mm.paging_mode, mm.pgd, va, alloc, _PAGE_TABLE);
    if (slot.is_error()) return false;
    mmu::write_entry(bus, mm.paging_mode, slot.value(), pte_val(pte));
    trace_fault_step("set_pte_at",
                     [&](FaultStep& s) { s.args = hex(va.page_base().value) + ", " + hex(pte_val(pte)); });
    return true;
}

pgprot_t vm_page_prot(const mm_struct& mm, unsigned long vm_flags) {
    uint64_t prot = mmu::_PAGE_USER | mmu::_PAGE_ACCESSED;
    // PROT_NONE keeps the frame with _PAGE_PROTNONE instead of _PAGE_PRESENT (PAGE_NONE).
    prot |= (vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) ? mmu::_PAGE_PRESENT : _PAGE_PROTNONE;
    if (vm_flags & VM_WRITE) prot |= mmu::_PAGE_RW;
    if (!(vm_flags & VM_EXEC) && mm.paging_mode != PagingMode::Legacy32) prot |= mmu::_PAGE_NX;
    return __pgprot(prot);
}

void zap_page_range(mm_struct& mm, VirtAddr start, VirtAddr end, bool skip_anon) {
    mmu::RamBus bus(*mm.ram);
    const uint64_t span = pmd_span(mm.paging_mode);
    bool any = false;
    for (uint64_t va = start.value; va < end.value;) {
        auto slot = mmu::pte_lookup(bus, mm.paging_mode, mm.pgd, VirtAddr(va));
        if (!slot) {
            va = (va + span) & ~(span - 1);
            continue;
        }
        const pte_t pte = __pte(mmu::read_entry(bus, mm.paging_mode, *slot));
        if (is_swap_pte(pte)) {  // zap_pte_range: the entry's slot reference goes
            if (!skip_anon) {
                mmu::write_entry(bus, mm.paging_mode, *slot, 0);
                free_swap_and_cache(*mm.page_alloc, pte_to_swp_entry(mm.paging_mode, pte));
                if (mm.swapents) --mm.swapents;
                mm.mark_slab_dirty();
            }
            va += PAGE_SIZE;
            continue;
        }
        if (!pte_none(pte) && skip_anon && (mm.page_alloc->phys_to_page(pte_phys(pte)).flags & PG_anon)) {
            va += PAGE_SIZE;  // a private COW copy: not the file's page
            continue;
        }
        if (!pte_none(pte)) {  // present, or a PROT_NONE PTE that still holds its frame
            mmu::write_entry(bus, mm.paging_mode, *slot, 0);
            page& p = mm.page_alloc->phys_to_page(pte_phys(pte));
            // zap_pte_range: a store through the PTE is the file page's (page_mkclean found it).
            if (pte_dirty(pte) && p.use == PageUse::File && !(p.flags & PG_anon)) set_page_dirty(p);
            put_mapped_page(mm, pte_phys(pte));
            any = true;
        }
        va += PAGE_SIZE;
    }
    if (any && mm.tlb) mm.tlb->flush_tlb_range(start, end);
}

void change_protection(mm_struct& mm, VirtAddr start, VirtAddr end, unsigned long vm_flags) {
    mmu::RamBus bus(*mm.ram);
    const uint64_t span = pmd_span(mm.paging_mode);
    const pgprot_t newprot = vm_page_prot(mm, vm_flags);
    bool any = false;
    for (uint64_t va = start.value; va < end.value;) {
        auto slot = mmu::pte_lookup(bus, mm.paging_mode, mm.pgd, VirtAddr(va));
        if (!slot) {
            va = (va + span) & ~(span - 1);
            continue;
        }
        const pte_t oldpte = __pte(mmu::read_entry(bus, mm.paging_mode, *slot));
        if (pte_present(oldpte)) {  // a swap entry stays as it is: the fault applies vm_flags
            pte_t ptent = pte_modify(oldpte, newprot);
            // In a private mapping only an anonymous page of its own may be writable: a page
            // shared with others, a page-cache page or the zero page stays read-only so a
            // write copies it. A shared mapping writes the page itself.
            const page& pg = mm.page_alloc->phys_to_page(pte_phys(oldpte));
            if (!(vm_flags & VM_SHARED) && (pg._refcount > 1 || !(pg.flags & PG_anon) || (pg.flags & PG_reserved)))
                ptent = pte_wrprotect(ptent);
            if ((vm_flags & VM_SHARED) && !pte_dirty(oldpte) && page_wants_writenotify(pg))
                ptent = pte_wrprotect(ptent);
            mmu::write_entry(bus, mm.paging_mode, *slot, pte_val(ptent));
            any = true;
        }
        va += PAGE_SIZE;
    }
    if (any && mm.tlb) mm.tlb->flush_tlb_range(start, end);
}

vm_fault_t handle_mm_fault(mm_struct& mm, vm_area_struct& vma, VirtAddr address, unsigned flags) {
    const pte_t pte = get_pte(mm, address);
    trace_fault_step("handle_mm_fault",
                     [&](FaultStep& s) { s.result = "handle_pte_fault (pte " + hex(pte_val(pte)) + ")"; });
    if (pte_none(pte)) {
        if (vma.vm_special) return special_mapping_fault(mm, vma, address, flags);
        if (vma.is_anonymous()) return do_anonymous_page(mm, vma, address, flags);
        return do_fault(mm, vma, address, flags);
    }
    // A non-present PTE that is not empty: a PROT_NONE page keeps its frame with
    // _PAGE_PROTNONE (pte_protnone); any other is a swap entry, for do_swap_page.
    if (!pte_hw_present(pte)) {
        if (pte_protnone(pte)) return VM_FAULT_SIGSEGV;
        return do_swap_page(mm, vma, address, pte, flags);
    }
    if ((flags & FAULT_FLAG_WRITE) && !pte_write(pte)) {
        if (!(vma.vm_flags & VM_WRITE)) return VM_FAULT_SIGSEGV;
        return do_wp_page(mm, vma, address, pte);
    }
    return VM_FAULT_OK;  // spurious: another path already fixed it
}

bool expand_stack(mm_struct& mm, vm_area_struct& vma, VirtAddr address) {
    const uint64_t stack_guard_gap = 256ull * PAGE_SIZE;
    VirtAddr new_start = address.page_base();
    if (new_start >= vma.vm_start) return true;
    if (vma.vm_end - new_start > mm.stack_rlimit) return false;  // acct_stack_growth
    // Keep the guard gap to the VMA below (stack_guard_gap).
    vm_area_struct* prev = vma.vm_prev;
    if (prev && new_start.value < prev->vm_end.value + stack_guard_gap) return false;
    const long grow = static_cast<long>((vma.vm_start.value - new_start.value) >> PAGE_SHIFT);
    if ((vma.vm_flags & VM_ACCOUNT) && security_vm_enough_memory_mm(mm, grow)) return false;
    vma_adjust(mm, &vma, new_start, vma.vm_end);
    return true;
}

bool copy_from_user(mm_struct& mm, void* dst, VirtAddr src, uint64_t len) {
    auto* out = static_cast<uint8_t*>(dst);
    return for_each_user_chunk(mm, src, len, false,
                               [&](uint8_t* host, uint64_t done, uint64_t n) { std::memcpy(out + done, host, n); });
}

bool copy_to_user(mm_struct& mm, VirtAddr dst, const void* src, uint64_t len) {
    const auto* in = static_cast<const uint8_t*>(src);
    return for_each_user_chunk(mm, dst, len, true,
                               [&](uint8_t* host, uint64_t done, uint64_t n) { std::memcpy(host, in + done, n); });
}

template <class Fn>
uint64_t user_iter::next_piece(uint64_t n, Fn fn) {
    while (seg_ < iov_.size() && seg_off_ == iov_[seg_].second) ++seg_, seg_off_ = 0;
    if (seg_ == iov_.size()) return 0;
    const VirtAddr at(iov_[seg_].first + seg_off_);
    const uint64_t k = std::min({n, iov_[seg_].second - seg_off_, PAGE_SIZE - at.page_offset()});
    if (!access_ok(at.value, k) || at.value + k > mm_.task_size) return 0;
    auto dst = user_page(mm_, at, true);  // faulted in before any kernel mapping is taken
    if (!dst) return 0;
    fn(*dst, k);
    seg_off_ += k;
    return k;
}

uint64_t user_iter::copy_page_to_iter(const kernel_mem& km, PhysAddr pa, uint64_t n) {
    uint64_t done = 0;
    while (done < n) {
        bool mapped = false;
        const uint64_t k = next_piece(n - done, [&](PhysAddr dst, uint64_t len) {
            (void)with_kernel_mapping(km, pa + done, len, [&](uint8_t* src) {
                mapped = with_kernel_mapping(mm_, dst, len, [&](uint8_t* to) { std::memcpy(to, src, len); });
            });
        });
        if (!k) break;
        if (!mapped) {
            short_errno_ = ENOMEM;
            break;
        }
        done += k;
    }
    return done;
}

uint64_t user_iter::zero(uint64_t n) {
    uint64_t done = 0;
    while (done < n) {
        bool mapped = false;
        const uint64_t k = next_piece(n - done, [&](PhysAddr dst, uint64_t len) {
            mapped = with_kernel_mapping(mm_, dst, len, [&](uint8_t* to) { std::memset(to, 0, len); });
        });
        if (!k) break;
        if (!mapped) {  // no kernel mapping for the user's page: the bytes were not written
            short_errno_ = ENOMEM;
            break;
        }
        done += k;
    }
    return done;
}

long copy_struct_from_user(mm_struct& mm, void* dst, uint64_t ksize, VirtAddr src, uint64_t usize) {
    const uint64_t size = std::min(ksize, usize);
    if (usize < ksize) std::memset(static_cast<uint8_t*>(dst) + size, 0, ksize - size);
    // check_zeroed_user: in order, a page at a time, so a non-zero byte before a fault wins.
    for (uint64_t off = size; off < usize;) {
        const VirtAddr at = src + off;
        const uint64_t n = std::min<uint64_t>(usize - off, PAGE_SIZE - at.page_offset());
        uint8_t buf[PAGE_SIZE];
        if (!copy_from_user(mm, buf, at, n)) return -EFAULT;
        for (uint64_t i = 0; i < n; ++i)
            if (buf[i]) return -E2BIG;
        off += n;
    }
    return copy_from_user(mm, dst, src, size) ? 0 : -EFAULT;
}

bool access_remote_vm_write(mm_struct& mm, VirtAddr va, const void* src, uint64_t len) {
    const auto* in = static_cast<const uint8_t*>(src);
    for (uint64_t done = 0; done < len;) {
        const VirtAddr cur = va + done;
        const uint64_t n = std::min<uint64_t>(len - done, PAGE_SIZE - cur.page_offset());
        auto pa = force_write_page(mm, cur);
        if (!pa || !with_kernel_mapping(mm, *pa, n, [&](uint8_t* host) { std::memcpy(host, in + done, n); }))
            return false;
        done += n;
    }
    return true;
}

namespace {
// --check-mm's swap half: every slot's swap_map count equals the swap PTEs of every mm
// that may hold entries (the mmlist, and mm), SWAP_HAS_CACHE the slot's presence in the
// swap cache (check_swap_map).
std::vector<std::string> check_swap_ptes(mm_struct& mm) {
    if (swap_areas().empty()) return {};
    std::vector<mm_struct*> mms = mmlist_mms();
    if (std::find(mms.begin(), mms.end(), &mm) == mms.end()) mms.push_back(&mm);
    std::unordered_map<uint64_t, uint64_t> swap_ptes;
    for (mm_struct* m : mms) {
        mmu::RamBus bus(*m->ram);
        mmu::for_each_pte(bus, m->paging_mode, m->pgd, VirtAddr(0), VirtAddr(m->task_size - 1),
                          [&](VirtAddr, uint64_t raw) {
                              if (is_swap_pte(__pte(raw)))
                                  ++swap_ptes[pte_to_swp_entry(m->paging_mode, __pte(raw)).val];
                          });
    }
    for (const address_space* m : shmem_swaplist())  // a swapped shmem page's mapping holds its slot
        for (const auto& [index, entry] : m->i_swap) ++swap_ptes[entry.val];
    return check_swap_map(swap_ptes);
}
}  // namespace

std::vector<std::string> check_mm(mm_struct& mm) {
    std::vector<std::string> problems;
    const vm_area_struct* prev = nullptr;
    for (const vm_area_struct& v : mm.mm_rb) {
        if (v.vm_start >= v.vm_end || (prev && prev->vm_end > v.vm_start))
            problems.push_back("VMA " + hex(v.vm_start.value) + "-" + hex(v.vm_end.value) + " is empty or overlaps");
        prev = &v;
    }
    if (static_cast<size_t>(mm.map_count) != mm.mm_rb.size()) problems.push_back("map_count disagrees with the tree");
    mmu::RamBus bus(*mm.ram);
    mmu::for_each_pte(
        bus, mm.paging_mode, mm.pgd, VirtAddr(0), VirtAddr(mm.task_size - 1), [&](VirtAddr va, uint64_t raw) {
            const pte_t pte = __pte(raw);
            const vm_area_struct* v = mm.mm_rb.find_vma(va);
            if (!v || v->vm_start > va)
                problems.push_back("PTE " + hex(raw) + " at " + hex(va.value) + " outside every VMA");
            if (is_swap_pte(pte)) {
                if (!__swap_count(pte_to_swp_entry(mm.paging_mode, pte)))
                    problems.push_back("swap PTE " + hex(raw) + " at " + hex(va.value) + " holds a free slot");
                return;
            }
            const page& pg = mm.page_alloc->phys_to_page(pte_phys(pte));
            if ((pg.flags & PG_buddy) || pg._refcount <= 0)
                problems.push_back("PTE at " + hex(va.value) + " maps free frame " + hex(pte_phys(pte).value));
        });
    for (std::string& p : check_swap_ptes(mm)) problems.push_back(std::move(p));
    return problems;
}

bool copy_from_user_nofault(mm_struct& mm, void* dst, VirtAddr src, uint64_t len) {
    auto* out = static_cast<uint8_t*>(dst);
    mmu::RamBus bus(*mm.ram);
    mmu::WalkOptions opts;
    opts.set_accessed_dirty = false;
    for (uint64_t done = 0; done < len;) {
        VirtAddr cur = src + done;
        uint64_t n = std::min<uint64_t>(len - done, PAGE_SIZE - cur.page_offset());
        auto r = mmu::walk(bus, mm.paging_mode, mm.pgd, cur, mmu::Access::Read, mmu::Privilege::User, opts);
        if (!r.ok || !with_kernel_mapping(mm, r.phys, n, [&](uint8_t* host) { std::memcpy(out + done, host, n); }))
            return false;
        done += n;
    }
    return true;
}

long strncpy_from_user(mm_struct& mm, VirtAddr src, uint64_t max, std::string& out) {
    out.clear();
    while (out.size() < max) {
        VirtAddr cur = src + out.size();
        uint64_t n = std::min<uint64_t>(max - out.size(), PAGE_SIZE - cur.page_offset());
        auto pa = user_page(mm, cur, false);
        bool terminated = false;
        if (!pa || !with_kernel_mapping(mm, *pa, n, [&](uint8_t* host) {
                const char* chars = reinterpret_cast<const char*>(host);
                const void* nul = std::memchr(chars, 0, n);
                terminated = nul != nullptr;
                out.append(chars, terminated ? static_cast<const char*>(nul) - chars : n);
            }))
            return -EFAULT;
        if (terminated) break;
    }
    return static_cast<long>(out.size());
}

std::optional<std::string> strncpy_from_user(mm_struct& mm, VirtAddr src, uint64_t max) {
    std::string out;
    const long n = strncpy_from_user(mm, src, max, out);
    if (n < 0 || static_cast<uint64_t>(n) == max) return std::nullopt;
    return out;
}

}  // namespace guestos
