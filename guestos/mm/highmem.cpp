// Highmem kmap/kunmap (pkmap area) and kmap_atomic (fixmap slots), Linux mm/highmem.c.
#include "guestos/mm/highmem.h"

#include "guestos/include/kmap.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace guestos {

namespace {
constexpr uint64_t kmap_prot = PAGE_KERNEL;
}  // namespace

Highmem::Highmem(KernelPageTable& kpt, BuddyAllocator& buddy)
    : kpt_(kpt),
      buddy_(buddy),
      pkmap_count_(kpt.layout().last_pkmap, 0),
      page_address_map_(buddy.max_pfn() - std::min(buddy.max_low_pfn(), buddy.max_pfn()), 0) {
    const KernelLayout& l = kpt.layout();
    if (!l.last_pkmap) return;  // x86-64: no highmem
    // Both page tables exist since KernelPageTable::create (permanent_kmaps_init, kmap_init).
    pkmap_page_table_ = kpt.kernel_pte_slot(VirtAddr(l.pkmap_base)).value();
    for (unsigned i = 0; i < kmap_pte_.size(); ++i)
        kmap_pte_[i] = kpt.kernel_pte_slot(l.fix_to_virt(FIX_KMAP_BEGIN + i)).value();
}

std::optional<VirtAddr> Highmem::page_address(PhysAddr frame) const {
    const uint64_t pfn = frame.pfn();
    if (pfn >= buddy_.max_pfn()) return std::nullopt;
    if (!buddy_.PageHighMem(pfn)) return kpt_.lowmem_address(frame.page_base());
    const uint32_t slot = page_address_map_[pfn - buddy_.max_low_pfn()];
    if (!slot) return std::nullopt;
    return kpt_.layout().PKMAP_ADDR(slot - 1);
}

// Records (or with 0 clears) the pkmap slot of a highmem page (set_page_address).
void Highmem::set_page_address(uint64_t pfn, uint32_t slot_plus_one) {
    page_address_map_[pfn - buddy_.max_low_pfn()] = slot_plus_one;
}

mmu::ErrorOr<VirtAddr> Highmem::kmap(PhysAddr frame) {
    const uint64_t pfn = frame.pfn();
    if (pfn >= buddy_.max_pfn()) return mmu::Error::from_errno(EINVAL, "kmap of a frame outside RAM");
    if (!buddy_.PageHighMem(pfn)) return *kpt_.lowmem_address(frame.page_base());
    ++nr_kmap_high_;
    return kmap_high(pfn);
}

void Highmem::kunmap(PhysAddr frame) {
    const uint64_t pfn = frame.pfn();
    if (pfn >= buddy_.max_pfn() || !buddy_.PageHighMem(pfn)) return;
    kunmap_high(pfn);
}

// Reuses the page's pkmap slot or maps a new one, and takes a reference on it.
mmu::ErrorOr<VirtAddr> Highmem::kmap_high(uint64_t pfn) {
    VirtAddr vaddr;
    if (auto a = page_address(PhysAddr::from_pfn(pfn))) {
        vaddr = *a;
    } else {
        auto r = map_new_virtual(pfn);
        if (r.is_error()) return r;
        vaddr = r.value();
    }
    ++pkmap_count_[kpt_.layout().PKMAP_NR(vaddr)];
    return vaddr;
}

// Finds a free slot after last_pkmap_nr (flushing the unused ones when the search wraps),
// maps the page there with count 1 (map_new_virtual); ENOMEM when all slots are in use.
mmu::ErrorOr<VirtAddr> Highmem::map_new_virtual(uint64_t pfn) {
    const unsigned last = last_pkmap();
    unsigned count = last;
    for (;;) {
        last_pkmap_nr_ = (last_pkmap_nr_ + 1) & (last - 1);
        if (!last_pkmap_nr_) {
            flush_all_zero_pkmaps();
            count = last;
        }
        if (!pkmap_count_[last_pkmap_nr_]) break;
        if (--count) continue;
        ++nr_kmap_full_;  // Linux sleeps on pkmap_map_wait here; see highmem.h
        return mmu::Error::from_errno(ENOMEM, "kmap: all LAST_PKMAP slots in use");
    }
    const VirtAddr vaddr = kpt_.layout().PKMAP_ADDR(last_pkmap_nr_);
    mmu::write_entry(kpt_.bus(), kpt_.mode(), pkmap_pte(last_pkmap_nr_),
                     mmu::make_pte(kpt_.mode(), PhysAddr::from_pfn(pfn), kmap_prot));
    pkmap_count_[last_pkmap_nr_] = 1;
    set_page_address(pfn, last_pkmap_nr_ + 1);
    return vaddr;
}

// Drops a reference; the slot stays mapped (count 1) until flush_all_zero_pkmaps.
void Highmem::kunmap_high(uint64_t pfn) {
    auto vaddr = page_address(PhysAddr::from_pfn(pfn));
    if (!vaddr) {
        ++nr_bad_unmaps_;
        return;
    }
    int& count = pkmap_count_[kpt_.layout().PKMAP_NR(*vaddr)];
    if (count <= 1) {  // Linux: BUG()
        ++nr_bad_unmaps_;
        return;
    }
    --count;  // a count of 1 would wake pkmap_map_wait sleepers; there are none here
}

void Highmem::flush_all_zero_pkmaps() {
    bool need_flush = false;
    const mmu::PagingMode m = kpt_.mode();
    for (unsigned i = 0; i < last_pkmap(); ++i) {
        if (pkmap_count_[i] != 1) continue;
        pkmap_count_[i] = 0;
        const uint64_t pte = mmu::read_entry(kpt_.bus(), m, pkmap_pte(i));
        mmu::write_entry(kpt_.bus(), m, pkmap_pte(i), 0);
        set_page_address(mmu::pte_frame(m, pte).pfn(), 0);
        need_flush = true;
    }
    if (need_flush) {
        const KernelLayout& l = kpt_.layout();
        kpt_.flush_tlb_kernel_range(l.PKMAP_ADDR(0), l.PKMAP_ADDR(last_pkmap()));
    }
}

mmu::ErrorOr<VirtAddr> Highmem::kmap_atomic(PhysAddr frame) {
    const uint64_t pfn = frame.pfn();
    if (pfn >= buddy_.max_pfn()) return mmu::Error::from_errno(EINVAL, "kmap_atomic of a frame outside RAM");
    if (!buddy_.PageHighMem(pfn)) return *kpt_.lowmem_address(frame.page_base());
    if (kmap_ctrl_idx_ >= KM_MAX_IDX) return mmu::Error::from_errno(EBUSY, "kmap_atomic nested too deep");
    ++nr_kmap_atomic_high_;
    const unsigned idx = kmap_ctrl_idx_++;  // kmap_local_idx_push; cpu 0's slots
    mmu::write_entry(kpt_.bus(), kpt_.mode(), kmap_pte_[idx], mmu::make_pte(kpt_.mode(), frame.page_base(), kmap_prot));
    return kpt_.layout().fix_to_virt(FIX_KMAP_BEGIN + idx);
}

mmu::ErrorOr<void> Highmem::kunmap_atomic(VirtAddr addr) {
    const KernelLayout& l = kpt_.layout();
    if (!l.last_pkmap || !l.is_fixmap_addr(addr)) return {};  // a lowmem page: nothing was mapped
    if (!kmap_ctrl_idx_ || addr.page_base() != l.fix_to_virt(FIX_KMAP_BEGIN + kmap_ctrl_idx_ - 1))
        return mmu::Error::from_errno(EINVAL, "kunmap_atomic out of order");
    const unsigned idx = --kmap_ctrl_idx_;
    mmu::write_entry(kpt_.bus(), kpt_.mode(), kmap_pte_[idx], 0);
    const VirtAddr va = l.fix_to_virt(FIX_KMAP_BEGIN + idx);
    kpt_.flush_tlb_kernel_range(va, va + PAGE_SIZE);
    return {};
}

unsigned Highmem::nr_pkmap_busy() const {
    return static_cast<unsigned>(std::count_if(pkmap_count_.begin(), pkmap_count_.end(), [](int c) { return c > 1; }));
}

bool Highmem::clear_highpage(PhysAddr frame) {
    // clear_page(kaddr) at page_address or a kmap_atomic address: the store goes where the
    // kernel's page tables send it (guestos/include/kmap.h).
    const kernel_mem km{&buddy_.ram(), &buddy_, &kpt_, this};
    return with_kernel_mapping(km, frame.page_base(), PAGE_SIZE, [](uint8_t* p) { std::memset(p, 0, PAGE_SIZE); });
}

}  // namespace guestos
