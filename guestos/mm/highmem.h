// Highmem: reaching frames outside the direct map (Linux mm/highmem.c).
//
// Lowmem pages are always at their direct-map address. A highmem page (i386, above the
// lowmem limit) has no kernel address until kmap gives it one of LAST_PKMAP slots in the
// pkmap area, or kmap_atomic one of KM_MAX_IDX fixmap slots of the CPU. On x86-64 every page
// is lowmem, so kmap and kmap_atomic return page_address.
//
// pkmap_count[i]: 0 = slot free and unmapped; 1 = still mapped but unused (freed lazily by
// flush_all_zero_pkmaps, when the search for a slot wraps); n > 1 = n - 1 users.
//
// All slots busy: Linux's kmap sleeps on pkmap_map_wait until a kunmap. This model has a
// single thread, so nobody could ever wake it: kmap first runs flush_all_zero_pkmaps (as
// Linux does on wrap-around), scans every slot once more, and then fails with ENOMEM, which
// callers return as ENOMEM. Nothing changes on that failure.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "guestos/mm/vmalloc.h"

namespace guestos {

class Highmem {
public:
    Highmem(KernelPageTable& kpt, BuddyAllocator& buddy);
    Highmem(const Highmem&) = delete;
    Highmem& operator=(const Highmem&) = delete;

    // The kernel address of frame (page_address): its direct-map address in lowmem; for a
    // highmem page its pkmap address while kmapped, else nullopt.
    std::optional<VirtAddr> page_address(PhysAddr frame) const;
    // A kernel address for frame until kunmap; ENOMEM when every pkmap slot is in use,
    // EINVAL for a frame outside RAM.
    [[nodiscard]] mmu::ErrorOr<VirtAddr> kmap(PhysAddr frame);
    // Drops one kmap of frame; an unbalanced kunmap is ignored and counted.
    void kunmap(PhysAddr frame);
    // A per-CPU fixmap address for frame, nesting up to KM_MAX_IDX deep; EBUSY when the
    // stack is full, EINVAL for a frame outside RAM. Unmap in reverse order.
    [[nodiscard]] mmu::ErrorOr<VirtAddr> kmap_atomic(PhysAddr frame);
    // Unmaps the innermost kmap_atomic; EINVAL (nothing changed) for any other fixmap
    // address. Direct-map addresses need nothing.
    [[nodiscard]] mmu::ErrorOr<void> kunmap_atomic(VirtAddr addr);
    // Unmaps every pkmap slot with count 1 and makes it free.
    void flush_all_zero_pkmaps();
    // Zeroes a frame through a kernel mapping, as the CPU would (clear_highpage:
    // kmap_local_page, clear_page, kunmap_local): the direct map for lowmem, a kmap_atomic
    // slot for highmem, the address translated by a walk of the kernel tables. False, with
    // nothing written, when no kmap_atomic slot is free or the tables do not map it.
    [[nodiscard]] bool clear_highpage(PhysAddr frame);

    unsigned last_pkmap() const { return kpt_.layout().last_pkmap; }
    int pkmap_count(unsigned nr) const { return pkmap_count_[nr]; }
    unsigned kmap_atomic_depth() const { return kmap_ctrl_idx_; }
    uint64_t nr_kmap_full() const { return nr_kmap_full_; }                // kmaps that found no slot
    uint64_t nr_kmap_high() const { return nr_kmap_high_; }                // kmaps of highmem pages
    uint64_t nr_kmap_atomic_high() const { return nr_kmap_atomic_high_; }  // kmap_atomics of highmem pages
    unsigned nr_pkmap_busy() const;  // pkmap slots with a user now (pkmap_count > 1)
    uint64_t nr_bad_unmaps() const { return nr_bad_unmaps_; }

private:
    mmu::ErrorOr<VirtAddr> kmap_high(uint64_t pfn);
    void kunmap_high(uint64_t pfn);
    mmu::ErrorOr<VirtAddr> map_new_virtual(uint64_t pfn);
    PhysAddr pkmap_pte(unsigned nr) const { return pkmap_page_table_ + nr * mmu::entry_size(kpt_.mode()); }
    void set_page_address(uint64_t pfn, uint32_t slot_plus_one);

    KernelPageTable& kpt_;
    BuddyAllocator& buddy_;
    std::vector<int> pkmap_count_;
    unsigned last_pkmap_nr_ = 0;
    PhysAddr pkmap_page_table_;  // PTE of PKMAP_ADDR(0); the LAST_PKMAP PTEs are contiguous
    // pkmap slot + 1 of each highmem page, 0 when unmapped (Linux hashes page_address_map).
    std::vector<uint32_t> page_address_map_;
    std::array<PhysAddr, KM_MAX_IDX * NR_CPUS> kmap_pte_{};  // fixmap PTE per kmap_atomic slot
    unsigned kmap_ctrl_idx_ = 0;                             // kmap_atomic stack depth (task->kmap_ctrl.idx)
    uint64_t nr_kmap_full_ = 0, nr_bad_unmaps_ = 0, nr_kmap_high_ = 0, nr_kmap_atomic_high_ = 0;
};

}  // namespace guestos
