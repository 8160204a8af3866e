// vmalloc/vfree/vmap/vunmap: virtually contiguous kernel memory mapped in the reference
// kernel page tables (guestos/mm/init_mm.h) from any pages (Linux mm/vmalloc.c).
#include "guestos/mm/vmalloc.h"

#include <cerrno>
#include <cstring>

#include "guestos/arch/x86/include/asm/pgtable.h"

namespace guestos {

Vmalloc::~Vmalloc() {
    std::vector<std::pair<uint64_t, bool>> live;
    for (auto& [addr, vm] : areas_) live.emplace_back(addr, (vm->flags & VM_ALLOC) != 0);
    for (auto [addr, is_alloc] : live) {
        if (is_alloc) vfree(VirtAddr(addr));
        else vunmap(VirtAddr(addr));
    }
}

mmu::ErrorOr<vm_struct*> Vmalloc::__get_vm_area(uint64_t size, unsigned long flags, uint64_t start, uint64_t end) {
    size = mmu::page_align_up(size);
    if (!size) return mmu::Error::from_errno(EINVAL, "empty vm area");
    if (!(flags & VM_NO_GUARD)) size += PAGE_SIZE;
    uint64_t addr = mmu::page_align_up(start);
    for (const auto& [a, vm] : areas_) {  // lowest fit, like alloc_vmap_area
        if (a + vm->size <= addr) continue;
        if (addr + size <= a) break;
        addr = a + vm->size;
    }
    if (addr + size < addr || addr + size > end) return mmu::Error::from_errno(ENOMEM, "vmalloc space exhausted");
    auto vm = std::make_unique<vm_struct>();
    vm->addr = VirtAddr(addr);
    vm->size = size;
    vm->flags = flags;
    vm_struct* raw = vm.get();
    areas_.emplace(addr, std::move(vm));
    return raw;
}

// Allocates the area's pages (any zone unless DMA is asked for), maps them, and undoes all
// of it on failure (__vmalloc_node_range, __vmalloc_area_node).
mmu::ErrorOr<VirtAddr> Vmalloc::__vmalloc(uint64_t size, gfp_t gfp) {
    if (!size) return mmu::Error::from_errno(EINVAL, "vmalloc of 0 bytes");
    if ((size >> PAGE_SHIFT) > buddy_.totalram_pages())
        return mmu::Error::from_errno(ENOMEM, "vmalloc larger than RAM");
    const KernelLayout& l = kpt_.layout();
    auto area = TRY(__get_vm_area(size, VM_ALLOC, l.vmalloc_start, l.vmalloc_end));
    vm_struct* vm = area;
    if (!(gfp & (__GFP_DMA | __GFP_DMA32))) gfp |= __GFP_HIGHMEM;
    const uint64_t nr_pages = vm->get_vm_area_size() >> PAGE_SHIFT;
    vm->pages.reserve(nr_pages);
    bool ok = true;
    for (uint64_t i = 0; i < nr_pages && ok; ++i) {
        auto pa = buddy_.alloc_pages(gfp, 0);
        if (!pa) ok = false;
        else {
            buddy_.set_page_use(*pa, 0, PageUse::Vmalloc);
            vm->pages.push_back(*pa);
        }
    }
    if (ok) ok = !map_kernel_range(vm->addr, vm->pages, PAGE_KERNEL).is_error();
    if (!ok) {
        for (PhysAddr pa : vm->pages) buddy_.free_page(pa);
        const VirtAddr addr = vm->addr;
        areas_.erase(addr.value);
        return mmu::Error::from_errno(ENOMEM, "vmalloc: out of memory");
    }
    nr_vmalloc_pages_ += nr_pages;
    return vm->addr;
}

void Vmalloc::vfree(VirtAddr addr) {
    if (!addr.value) return;
    auto it = areas_.find(addr.value);
    if (it == areas_.end() || !(it->second->flags & VM_ALLOC)) {
        ++nr_bad_frees_;  // "Trying to vfree() nonexistent vm area"
        return;
    }
    vm_struct& vm = *it->second;
    unmap_kernel_range(vm.addr, vm.get_vm_area_size());
    for (PhysAddr pa : vm.pages) buddy_.free_page(pa);
    nr_vmalloc_pages_ -= vm.pages.size();
    areas_.erase(it);
}

mmu::ErrorOr<VirtAddr> Vmalloc::vmap(std::span<const PhysAddr> pages, unsigned long flags, uint64_t prot) {
    if (pages.empty()) return mmu::Error::from_errno(EINVAL, "vmap of no pages");
    const KernelLayout& l = kpt_.layout();
    vm_struct* vm =
        TRY(__get_vm_area(pages.size() * PAGE_SIZE, (flags & ~VM_ALLOC) | VM_MAP, l.vmalloc_start, l.vmalloc_end));
    vm->pages.assign(pages.begin(), pages.end());
    if (auto r = map_kernel_range(vm->addr, vm->pages, prot); r.is_error()) {
        areas_.erase(vm->addr.value);
        return r.error();
    }
    return vm->addr;
}

void Vmalloc::vunmap(VirtAddr addr) {
    auto it = areas_.find(addr.value);
    if (it == areas_.end() || (it->second->flags & VM_ALLOC)) {
        ++nr_bad_frees_;
        return;
    }
    unmap_kernel_range(it->second->addr, it->second->get_vm_area_size());
    areas_.erase(it);
}

// Maps pages at start in the reference table; on failure unmaps what it mapped
// (vmap_pages_range).
mmu::ErrorOr<void> Vmalloc::map_kernel_range(VirtAddr start, const std::vector<PhysAddr>& pages, uint64_t prot) {
    for (size_t i = 0; i < pages.size(); ++i) {
        if (auto r = kpt_.set_kernel_pte(start + i * PAGE_SIZE, pages[i], prot); r.is_error()) {
            unmap_kernel_range(start, i * PAGE_SIZE);
            return r;
        }
    }
    return {};
}

// Clears the PTEs of [start, start + size) and flushes them (vunmap_range); the page
// tables stay, as Linux keeps kernel page tables.
void Vmalloc::unmap_kernel_range(VirtAddr start, uint64_t size) {
    for (uint64_t off = 0; off < size; off += PAGE_SIZE) kpt_.clear_kernel_pte(start + off);
    if (size) kpt_.flush_tlb_kernel_range(start, start + size);
}

const vm_struct* Vmalloc::find_vm_area(VirtAddr addr) const {
    auto it = areas_.find(addr.value);
    return it == areas_.end() ? nullptr : it->second.get();
}

std::optional<PhysAddr> Vmalloc::vmalloc_to_page(VirtAddr addr) const {
    auto slot = kpt_.kernel_pte_slot(addr.page_base());
    if (!slot) return std::nullopt;
    const pte_t pte = __pte(mmu::read_entry(kpt_.bus(), kpt_.mode(), *slot));
    if (!pte_hw_present(pte)) return std::nullopt;
    return pte_phys(pte);
}

}  // namespace guestos
