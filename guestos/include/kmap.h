// How the kernel reaches a frame: the direct map for lowmem, kmap_atomic for highmem, the
// kernel virtual address translated by a walk of the kernel half (page_address / kmap_local).
#pragma once
#include <cstdint>
#include <cstring>

#include "guestos/mm/highmem.h"
#include "guestos/include/page.h"
#include "mmu/phys_memory.h"

namespace guestos {

// The kernel's memory: what every subsystem that allocates and touches frames needs (RAM,
// the page allocator, the kernel page tables and kmap). Fields are null before the first
// exec sets memory management up; with no kernel page table, frames are reached directly.
struct kernel_mem {
    mmu::PhysMemory* ram = nullptr;
    PageAllocator* page_alloc = nullptr;
    KernelPageTable* kpt = nullptr;
    Highmem* highmem = nullptr;
};

// Runs fn(bytes) on [pa, pa+n) of one frame through its kernel mapping; false when the
// frame has none (no kmap_atomic slot, or the walk failed).
template <class Fn>
bool with_kernel_mapping(const kernel_mem& km, PhysAddr pa, uint64_t n, Fn fn) {
    if (!km.kpt) {
        fn(km.ram->host(pa, n));
        return true;
    }
    VirtAddr kva;
    bool atomic = false;
    if (auto lm = km.kpt->lowmem_address(pa)) {
        kva = *lm;
    } else {
        auto k = km.highmem->kmap_atomic(pa.page_base());
        if (k.is_error()) return false;
        kva = k.value() + (pa.value & (PAGE_SIZE - 1));
        atomic = true;
    }
    const mmu::WalkResult w = km.kpt->kernel_walk(kva);
    if (w.ok) fn(km.ram->host(w.phys, n));
    if (atomic) (void)km.highmem->kunmap_atomic(kva.page_base());
    return w.ok;
}

// Copies one whole frame to another through kernel mappings (copy_highpage: nested kmap_atomic).
inline bool copy_highpage(const kernel_mem& km, PhysAddr to, PhysAddr from) {
    bool copied = false;
    const bool mapped = with_kernel_mapping(km, from, PAGE_SIZE, [&](uint8_t* src) {
        copied = with_kernel_mapping(km, to, PAGE_SIZE, [&](uint8_t* dst) { std::memcpy(dst, src, PAGE_SIZE); });
    });
    return mapped && copied;
}

}  // namespace guestos
