// VMA bookkeeping and the mmap family (mm/mmap.c, mm/mprotect.c), Linux semantics and errno.
#include "guestos/mm/mmap.h"
#include "guestos/arch/x86/include/asm/pkeys.h"

#include <cerrno>

#include "guestos/mm/memory.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/util.h"

namespace guestos {

int sysctl_max_map_count = DEFAULT_MAX_MAP_COUNT;

namespace {

constexpr unsigned long VM_ACCT_MASK =
    VM_READ | VM_WRITE | VM_EXEC | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_MAYSHARE | VM_GROWSDOWN;

// Adjusts total_vm and the per-type counters by npages (vm_stat_account).
void vm_stat_account(mm_struct& mm, unsigned long flags, long npages) {
    mm.mark_slab_dirty();
    mm.total_vm += npages;
    if (flags & VM_LOCKED) mm.locked_vm += npages;
    if ((flags & (VM_EXEC | VM_WRITE)) == VM_EXEC) mm.exec_vm += npages;
    else if (flags & VM_GROWSDOWN) mm.stack_vm += npages;
    else if ((flags & (VM_WRITE | VM_SHARED)) == VM_WRITE) mm.data_vm += npages;
    if (mm.total_vm > mm.hiwater_vm) mm.hiwater_vm = mm.total_vm;
}

// Inserts without merging.
vm_area_struct* vma_insert(mm_struct& mm, std::unique_ptr<vm_area_struct> vma) {
    vma->vm_mm = &mm;
    vm_stat_account(mm, vma->vm_flags, static_cast<long>(vma->size() >> PAGE_SHIFT));
    vm_area_struct* raw = mm.mm_rb.insert(std::move(vma));
    mm.map_count = static_cast<int>(mm.mm_rb.size());
    mm.mark_slab_dirty();
    return raw;
}

// Splits the VMA containing addr so that addr becomes a boundary; -ENOMEM, nothing changed,
// when the new vm_area_struct cannot be allocated or, with check_limit (split_vma rather than
// __split_vma), when the mm already has vm.max_map_count VMAs.
[[nodiscard]] long split_vma(mm_struct& mm, VirtAddr addr, bool check_limit = true) {
    vm_area_struct* vma = find_vma(mm, addr);
    if (!vma || vma->vm_start >= addr) return 0;
    if (check_limit && mm.map_count >= sysctl_max_map_count) return -ENOMEM;
    if (!mm.mm_rb.split_vma(vma, addr)) return -ENOMEM;
    mm.map_count = static_cast<int>(mm.mm_rb.size());
    mm.mark_slab_dirty();
    return 0;
}

// Merges vma with compatible neighbours (vma_merge); returns the surviving VMA.
vm_area_struct* vma_merge(mm_struct& mm, vm_area_struct* vma) {
    vm_area_struct* v = mm.mm_rb.vma_merge(vma);
    mm.map_count = static_cast<int>(mm.mm_rb.size());
    mm.mark_slab_dirty();
    return v;
}

// A private writable mapping is charged against the commit limit (accountable_mapping).
bool accountable_mapping(unsigned long vm_flags) {
    return (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE;
}

// True when [start, end) is wholly covered by VMAs.
bool range_fully_mapped(mm_struct& mm, VirtAddr start, VirtAddr end) {
    VirtAddr cur = start;
    while (cur < end) {
        vm_area_struct* v = find_vma(mm, cur);
        if (!v || v->vm_start > cur) return false;
        cur = v->vm_end;
    }
    return true;
}

}  // namespace

// Changes a VMA's bounds in place, keeping the tree's gaps and the accounting right.
void vma_adjust(mm_struct& mm, vm_area_struct* vma, VirtAddr start, VirtAddr end) {
    const long before = static_cast<long>(vma->size() >> PAGE_SHIFT);
    // vm_pgoff follows the start (files and anonymous memory alike: expand_downwards too).
    const uint64_t pgoff = vma->vm_pgoff - ((vma->vm_start.value - start.value) >> PAGE_SHIFT);
    mm.mm_rb.vma_adjust(vma, start, end, pgoff);
    vm_stat_account(mm, vma->vm_flags, static_cast<long>(vma->size() >> PAGE_SHIFT) - before);
}

vm_area_struct* find_vma(mm_struct& mm, VirtAddr addr) { return mm.mm_rb.find_vma(addr); }

vm_area_struct* find_vma_intersection(mm_struct& mm, VirtAddr start, VirtAddr end) {
    return mm.mm_rb.find_vma_intersection(start, end);
}

vm_area_struct* vma_link(mm_struct& mm, std::unique_ptr<vm_area_struct> vma) {
    return vma_merge(mm, vma_insert(mm, std::move(vma)));
}

vm_area_struct* vma_expand(mm_struct& mm, vm_area_struct* vma, VirtAddr new_end) {
    const VirtAddr old_end = vma->vm_end;
    vma_adjust(mm, vma, vma->vm_start, new_end);
    vma = vma_merge(mm, vma);
    if (vma->vm_flags & VM_LOCKED)  // mremap populates what it adds to a locked mapping
        for (VirtAddr a = old_end; a < new_end; a = a + PAGE_SIZE)
            if (pte_none(get_pte(mm, a)))
                (void)handle_mm_fault(mm, *vma, a, (vma->vm_flags & VM_WRITE) ? FAULT_FLAG_WRITE : 0u);
    return vma;
}

unsigned long calc_vm_flags(unsigned long prot, unsigned long flags) {
    unsigned long vf = 0;
    if (flags & MAP_NORESERVE_) vf |= VM_NORESERVE;  // do_mmap drops it when overcommit is "never"

    if (prot & PROT_READ_) vf |= VM_READ;
    if (prot & PROT_WRITE_) vf |= VM_WRITE;
    if (prot & PROT_EXEC_) vf |= VM_EXEC;
    if (flags & MAP_GROWSDOWN_) vf |= VM_GROWSDOWN;
    if (flags & MAP_LOCKED_) vf |= VM_LOCKED;
    vf |= VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if ((flags & MAP_TYPE_) == MAP_SHARED_ || (flags & MAP_TYPE_) == MAP_SHARED_VALIDATE_)
        vf |= VM_SHARED | VM_MAYSHARE;
    return vf;
}

long get_unmapped_area(mm_struct& mm, uint64_t addr, uint64_t len, unsigned long flags) {
    const uint64_t mmap_min_addr = 0x10000;
    if (len > mm.task_size - mmap_min_addr) return -ENOMEM;
    if (addr) {  // a hint is taken when it is free, guard gaps included (arch_get_unmapped_area_topdown)
        addr = mmu::page_align_down(addr);  // x86: addr &= PAGE_MASK
        vm_area_struct* prev = nullptr;
        vm_area_struct* next = mm.mm_rb.find_vma_prev(VirtAddr(addr), prev);
        if (addr >= mmap_min_addr && addr <= mm.task_size - len && (!prev || addr >= prev->vm_end.value) &&
            (!next || addr + len <= mm.mm_rb.vm_start_gap(*next).value))
            return static_cast<long>(addr);
    }
    // Top-down below mmap_base, then bottom-up above it (vm_unmapped_area).
    vm_unmapped_area_info info;
    info.flags = VM_UNMAPPED_AREA_TOPDOWN;
    info.length = len;
    info.low_limit = VirtAddr(mmap_min_addr);
    info.high_limit = VirtAddr(mm.mmap_base);
    auto r = mm.mm_rb.vm_unmapped_area(info);
    if (r.is_error()) {
        info.flags = 0;
        info.low_limit = VirtAddr(mm.mmap_base);
        info.high_limit = VirtAddr(mm.task_size);
        r = mm.mm_rb.vm_unmapped_area(info);
    }
    return r.is_error() ? -ENOMEM : static_cast<long>(r.value().value);
}

long do_mmap(mm_struct& mm, std::shared_ptr<file> f, uint64_t addr, uint64_t len, unsigned long prot,
             unsigned long flags, uint64_t pgoff) {
    if (!len) return -EINVAL;
    uint64_t alen = mmu::page_align_up(len);
    if (!alen || alen < len) return -ENOMEM;
    if (pgoff + (alen >> PAGE_SHIFT) < pgoff) return -EOVERFLOW;
    if (mm.map_count > sysctl_max_map_count) return -ENOMEM;
    const bool fixed = flags & (MAP_FIXED_ | MAP_FIXED_NOREPLACE_);
    if (fixed) {
        if (addr & (PAGE_SIZE - 1)) return -EINVAL;
        if (addr > mm.task_size || alen > mm.task_size - addr) return -ENOMEM;
        if ((flags & MAP_FIXED_NOREPLACE_) && !(flags & MAP_FIXED_) &&
            find_vma_intersection(mm, VirtAddr(addr), VirtAddr(addr + alen)))
            return -EEXIST;
    } else {
        long a = get_unmapped_area(mm, addr, alen, flags);
        if (a < 0) return a;
        addr = static_cast<uint64_t>(a);
    }
    unsigned long vm_flags = calc_vm_flags(prot, flags);
    if (!overcommit_allows_noreserve(mm)) vm_flags &= ~VM_NORESERVE;
    if (f && f->f_inode && shmem_mapping(*f->f_inode))  // shmem_mmap: a write-sealed file
        if (long e = memfd_check_seals_mmap(*f->f_inode, vm_flags)) return e;
    // A shared mapping of a file not open for writing can never write it: it stays
    // VM_MAYSHARE ('s' in maps) but is otherwise private (do_mmap).
    if (f && (vm_flags & VM_SHARED) && (f->f_flags & 3) != 2 /* O_RDWR */) vm_flags &= ~(VM_MAYWRITE | VM_SHARED);
    // A private writable mapping commits its size (mmap_region's accountable_mapping); what
    // it replaces gives its own commitment back in do_munmap.
    long charged = 0;
    if (accountable_mapping(vm_flags)) {
        charged = static_cast<long>(alen >> PAGE_SHIFT);
        if (security_vm_enough_memory_mm(mm, charged)) return -ENOMEM;
    }
    auto vma = vm_area_alloc(mm);  // first, so that ENOMEM changes nothing
    if (!vma) {
        vm_unacct_memory(mm, charged);
        return -ENOMEM;
    }
    if (fixed)
        if (long r = do_munmap(mm, addr, alen); r < 0) {
            vm_unacct_memory(mm, charged);
            return r;
        }
    vma->vm_start = VirtAddr(addr);
    vma->vm_end = VirtAddr(addr + alen);
    vma->vm_flags = vm_flags;
    if (charged) vma->vm_flags |= VM_ACCOUNT;
    vma->vm_flags |= mm.def_flags;
    // An anonymous mapping's pages are numbered from its address (mmap_region: pgoff = addr >> PAGE_SHIFT).
    vma->vm_pgoff = f ? pgoff : addr >> PAGE_SHIFT;
    vma_set_file(*vma, std::move(f));
    vm_area_struct* v = vma_link(mm, std::move(vma));
    if ((flags & MAP_POPULATE_) || (v->vm_flags & VM_LOCKED)) {  // populate_vma_page_range
        unsigned fl = (v->vm_flags & VM_WRITE) ? FAULT_FLAG_WRITE : 0u;
        for (uint64_t a = addr; a < addr + alen; a += PAGE_SIZE)
            if (pte_none(get_pte(mm, VirtAddr(a))) && (v->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
                if (handle_mm_fault(mm, *find_vma(mm, VirtAddr(a)), VirtAddr(a), fl) & VM_FAULT_ERROR) break;
    }
    return static_cast<long>(addr);
}

vm_area_struct* _install_special_mapping(mm_struct& mm, uint64_t addr, uint64_t len, unsigned long vm_flags,
                                         const vm_special_mapping* sm) {
    auto vma = vm_area_alloc(mm);
    if (!vma) return nullptr;
    vma->vm_start = VirtAddr(addr);
    vma->vm_end = VirtAddr(addr + len);
    vma->vm_flags = (vm_flags | mm.def_flags | VM_DONTEXPAND) & ~VM_LOCKED;
    vma->vm_special = sm;
    return vma_insert(mm, std::move(vma));
}

long do_munmap(mm_struct& mm, uint64_t start, uint64_t len) {
    if ((start & (PAGE_SIZE - 1)) || start > mm.task_size || len > mm.task_size - start) return -EINVAL;
    len = mmu::page_align_up(len);
    if (!len) return -EINVAL;
    const VirtAddr s(start), e(start + len);
    vm_area_struct* first = find_vma_intersection(mm, s, e);
    if (!first) return 0;
    // At the limit only a split in three is refused: the count may pass the limit briefly so
    // that munmap can free (do_vmi_align_munmap).
    if (first->vm_start < s && e < first->vm_end && mm.map_count >= sysctl_max_map_count) return -ENOMEM;
    if (long r = split_vma(mm, s, false)) return r;
    if (long r = split_vma(mm, e, false)) return r;
    // detach_vmas_to_be_unmapped + unmap_region + remove_vma_list
    VmaList gone = mm.mm_rb.detach_vmas_to_be_unmapped(s, e);
    mm.map_count = static_cast<int>(mm.mm_rb.size());
    mm.mark_slab_dirty();
    long nr_accounted = 0;
    for (auto& v : gone) {
        const long pages = static_cast<long>(v->size() >> PAGE_SHIFT);
        vm_stat_account(mm, v->vm_flags, -pages);
        if (v->vm_flags & VM_ACCOUNT) nr_accounted += pages;
        zap_page_range(mm, v->vm_start, v->vm_end);
    }
    vm_unacct_memory(mm, nr_accounted);
    return 0;
}

long do_mprotect(mm_struct& mm, uint64_t start, uint64_t len, unsigned long prot, int pkey) {
    constexpr unsigned long PROT_SEM_ = 0x8;
    const unsigned long grows = prot & (PROT_GROWSDOWN_ | PROT_GROWSUP_);
    prot &= ~grows;
    if (grows == (PROT_GROWSDOWN_ | PROT_GROWSUP_)) return -EINVAL;
    if (start & (PAGE_SIZE - 1)) return -EINVAL;
    if (!len) return 0;
    len = mmu::page_align_up(len);
    if (!len || start + len < start) return -ENOMEM;
    if (prot & ~(PROT_READ_ | PROT_WRITE_ | PROT_EXEC_ | PROT_SEM_)) return -EINVAL;  // arch_validate_prot
    // A key userspace did not allocate cannot be used here (do_mprotect_pkey). Without
    // OSPKE no key ever is, so any key but -1 fails; with none, the VMA's key stays as it is.
    if (pkey != -1 && !mm_pkey_is_allocated(mm, pkey)) return -EINVAL;
    prot &= ~PROT_SEM_;
    VirtAddr s(start), e(start + len);
    vm_area_struct* v = find_vma(mm, s);
    if (!v) return -ENOMEM;
    if (grows & PROT_GROWSDOWN_) {  // extend down to the start of a growsdown VMA
        if (!(v->vm_flags & VM_GROWSDOWN)) return -EINVAL;
        s = std::min(s, v->vm_start);
    } else if (v->vm_start > s) {
        return -ENOMEM;
    }
    if (grows & PROT_GROWSUP_) return -EINVAL;
    // VMA by VMA (mprotect_fixup): what precedes a hole is changed, then ENOMEM.
    for (VirtAddr cur = s; cur < e;) {
        v = find_vma(mm, cur);
        if (!v || v->vm_start > cur) return -ENOMEM;
        unsigned long nf =
            (v->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | (calc_vm_flags(prot, 0) & (VM_READ | VM_WRITE | VM_EXEC));
        // Each VM_READ/WRITE/EXEC needs its VM_MAY* (a read-only file's shared mapping).
        if ((nf & ~(nf >> 4)) & (VM_READ | VM_WRITE | VM_EXEC)) return -EACCES;
        if (nf & VM_WRITE) {  // a private mapping made writable is charged from now on
            if (!(v->vm_flags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) nf |= VM_ACCOUNT;
        } else if ((v->vm_flags & VM_ACCOUNT) && v->is_anonymous() && !v->anon_vma) {
            nf &= ~VM_ACCOUNT;  // nothing was ever written: the commit is given back
        }
        const VirtAddr next = std::min(v->vm_end, e);
        // mprotect_fixup: the range's pages are charged when it gains VM_ACCOUNT, given
        // back when it loses it.
        const long nrpages = static_cast<long>((next.value - cur.value) >> PAGE_SHIFT);
        const bool charge = (nf & VM_ACCOUNT) && !(v->vm_flags & VM_ACCOUNT);
        const bool uncharge = !(nf & VM_ACCOUNT) && (v->vm_flags & VM_ACCOUNT);
        if (charge && security_vm_enough_memory_mm(mm, nrpages)) return -ENOMEM;
        if (nf != v->vm_flags) {  // the same protection splits nothing
            if (long r = split_vma(mm, std::max(cur, v->vm_start))) {
                if (charge) vm_unacct_memory(mm, nrpages);
                return r;
            }
            if (long r = split_vma(mm, next)) {
                if (charge) vm_unacct_memory(mm, nrpages);
                return r;
            }
            if (uncharge) vm_unacct_memory(mm, nrpages);
            v = find_vma(mm, cur);
            const long pages = static_cast<long>(v->size() >> PAGE_SHIFT);
            vm_stat_account(mm, v->vm_flags, -pages);
            v->vm_flags = nf;
            vm_stat_account(mm, nf, pages);
            const VirtAddr vs = v->vm_start, ve = v->vm_end;
            vma_merge(mm, v);
            change_protection(mm, vs, ve, nf);
        }
        cur = next;
    }
    return 0;
}

long mlock_fixup(mm_struct& mm, uint64_t start, uint64_t len, unsigned long set, unsigned long clear, bool populate) {
    if (start & (PAGE_SIZE - 1)) {  // mlock rounds the start down (do_mlock)
        len += start & (PAGE_SIZE - 1);
        start &= mmu::PAGE_MASK;
    }
    len = mmu::page_align_up(len);
    if (start + len < start) return -EINVAL;
    if (!len) return 0;
    const VirtAddr s(start), e(start + len);
    if (!range_fully_mapped(mm, s, e)) return -ENOMEM;
    if (long r = split_vma(mm, s)) return r;
    if (long r = split_vma(mm, e)) return r;
    for (VirtAddr cur = s; cur < e;) {
        vm_area_struct* v = find_vma(mm, cur);
        const VirtAddr next = v->vm_end;
        const unsigned long nf = (v->vm_flags & ~clear) | set;
        if (nf != v->vm_flags) {
            const long pages = static_cast<long>(v->size() >> PAGE_SHIFT);
            vm_stat_account(mm, v->vm_flags, -pages);
            v->vm_flags = nf;
            vm_stat_account(mm, nf, pages);
            const bool writable = nf & VM_WRITE;
            const VirtAddr vs = v->vm_start, ve = v->vm_end;
            vma_merge(mm, v);
            if (populate && (nf & (VM_READ | VM_WRITE | VM_EXEC)))  // __mm_populate
                for (uint64_t a = vs.value; a < ve.value; a += PAGE_SIZE)
                    if (pte_none(get_pte(mm, VirtAddr(a))))
                        if (vm_area_struct* pv = find_vma(mm, VirtAddr(a)))
                            (void)handle_mm_fault(mm, *pv, VirtAddr(a), writable ? FAULT_FLAG_WRITE : 0u);
        }
        cur = next;
    }
    return 0;
}

uint64_t do_brk(mm_struct& mm, uint64_t brk) {
    // Below the start, or beyond user space (where PAGE_ALIGN would wrap), brk is refused.
    if (brk < mm.start_brk || brk > mm.task_size) return mm.brk;
    uint64_t newbrk = mmu::page_align_up(brk), oldbrk = mmu::page_align_up(mm.brk);
    mm.mark_slab_dirty();  // brk changes below (or stays)
    if (newbrk == oldbrk) {
        mm.brk = brk;
        return brk;
    }
    if (brk <= mm.brk) {  // shrinking always works
        do_munmap(mm, newbrk, oldbrk - newbrk);
        mm.brk = brk;
        return brk;
    }
    // Refuse when the new break would run into the next mapping (or its stack guard gap).
    if (newbrk > mm.task_size) return mm.brk;
    vm_area_struct* next = find_vma(mm, VirtAddr(oldbrk));
    if (next && newbrk + PAGE_SIZE > next->vm_start.value) return mm.brk;
    // do_brk_flags: extend the brk VMA; never merge with what lies below start_brk
    // (vma_prev_limit), so the program's bss stays a VMA of its own.
    const unsigned long flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    const long pages = static_cast<long>((newbrk - oldbrk) >> PAGE_SHIFT);
    if (security_vm_enough_memory_mm(mm, pages)) return mm.brk;  // do_brk_flags
    vm_area_struct* prev = oldbrk > mm.start_brk ? find_vma(mm, VirtAddr(oldbrk - 1)) : nullptr;
    if (prev && prev->vm_end.value == oldbrk && prev->vm_flags == flags && !prev->vm_file &&
        prev->vm_start.value >= mm.start_brk) {
        vma_adjust(mm, prev, prev->vm_start, VirtAddr(newbrk));
    } else {
        auto vma = vm_area_alloc(mm);
        if (!vma) {  // do_brk_flags' ENOMEM: the break stays
            vm_unacct_memory(mm, pages);
            return mm.brk;
        }
        vma->vm_start = VirtAddr(oldbrk);
        vma->vm_end = VirtAddr(newbrk);
        vma->vm_flags = flags;
        vma->vm_pgoff = oldbrk >> PAGE_SHIFT;
        vma_insert(mm, std::move(vma));
    }
    mm.brk = brk;
    return brk;
}

void exit_mmap(mm_struct& mm) {
    vm_unacct_memory(mm, vm_accounted_pages(mm));
    free_pgd(mm);
    mm.mm_rb.clear();
    mm.map_count = 0;
    mm.mark_slab_dirty();
    mm.total_vm = mm.stack_vm = mm.exec_vm = mm.data_vm = 0;
}

}  // namespace guestos
