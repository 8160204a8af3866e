// The mmap family on an mm (mm/mmap.c, mm/mprotect.c): VMA bookkeeping and the syscall cores.
#pragma once
#include <memory>

#include "guestos/include/mm_types.h"
#include "guestos/include/uapi/mman.h"

namespace guestos {

// Adds a VMA to the mm, merging with compatible neighbours; returns the VMA now covering it.
vm_area_struct* vma_link(mm_struct& mm, std::unique_ptr<vm_area_struct> vma);
// Grows a VMA up to new_end in place and merges it with the next one if they now touch
// and are compatible (mremap's vma_merge_extend); returns the VMA covering it.
vm_area_struct* vma_expand(mm_struct& mm, vm_area_struct* vma, VirtAddr new_end);
// Moves a VMA's bounds in place, keeping the tree's gaps and the accounting (vma_adjust).
void vma_adjust(mm_struct& mm, vm_area_struct* vma, VirtAddr start, VirtAddr end);
// Finds a free range of len bytes (get_unmapped_area); negative errno when none.
long get_unmapped_area(mm_struct& mm, uint64_t addr, uint64_t len, unsigned long flags);
// mmap's core (do_mmap): returns the address or a negative errno.
long do_mmap(mm_struct& mm, std::shared_ptr<file> f, uint64_t addr, uint64_t len, unsigned long prot,
             unsigned long flags, uint64_t pgoff);
// munmap's core (do_munmap): 0 or a negative errno.
long do_munmap(mm_struct& mm, uint64_t start, uint64_t len);
// mprotect's core (do_mprotect_pkey): 0 or a negative errno.
// mprotect, and pkey_mprotect with pkey (do_mprotect_pkey; -1 is plain mprotect).
long do_mprotect(mm_struct& mm, uint64_t start, uint64_t len, unsigned long prot, int pkey = -1);
// Sets and clears vm_flags on the VMAs of a range, splitting at its ends and faulting the
// pages in when asked (mlock_fixup + __mm_populate): 0, ENOMEM for a hole, EINVAL.
long mlock_fixup(mm_struct& mm, uint64_t start, uint64_t len, unsigned long set, unsigned long clear, bool populate);
// brk's core (sys_brk): the new program break (the old one when refused).
uint64_t do_brk(mm_struct& mm, uint64_t brk);
// Adds a VMA of the kernel's own pages at [addr, addr+len), never merged
// (_install_special_mapping); null when there is no memory for it.
vm_area_struct* _install_special_mapping(mm_struct& mm, uint64_t addr, uint64_t len, unsigned long vm_flags,
                                         const vm_special_mapping* sm);
// Tears down every VMA and page of mm (exit_mmap).
void exit_mmap(mm_struct& mm);

// vm_flags for a mapping's prot and flags (calc_vm_prot_bits | calc_vm_flag_bits).
unsigned long calc_vm_flags(unsigned long prot, unsigned long flags);

}  // namespace guestos
