// /proc/PID/smaps and smaps_rollup (fs/proc/task_mmu.c): what each VMA maps, resident or
// out in swap, gathered by walking its PTEs (smap_gather_stats -> smaps_pte_range ->
// smaps_pte_entry); shmem's pages in swap are counted from the file's swap entries.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "guestos/fs/proc/base.h"
#include "guestos/arch/x86/entry/vsyscall/vsyscall_64.h"
#include "guestos/include/swapops.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

namespace {

// Proportional sizes are kept in fixed point, PSS_SHIFT bits of fraction, so that a page
// shared three ways adds up right over many pages (PSS_SHIFT).
constexpr unsigned PSS_SHIFT = 12;

// What the VMAs walked so far map (struct mem_size_stats).
struct mem_size_stats {
    uint64_t resident = 0, shared_clean = 0, shared_dirty = 0, private_clean = 0, private_dirty = 0;
    uint64_t referenced = 0, anonymous = 0, swap = 0;
    uint64_t pss = 0, pss_anon = 0, pss_file = 0, pss_shmem = 0, pss_dirty = 0, pss_locked = 0, swap_pss = 0;
};

// One resident page's share (smaps_page_accumulate).
void smaps_page_accumulate(mem_size_stats& mss, const page& pg, uint64_t pss, bool dirty, bool locked, bool priv) {
    mss.pss += pss;
    if (pg.use == PageUse::Anon) mss.pss_anon += pss;
    else if (pg.flags & PG_swapbacked) mss.pss_shmem += pss;
    else mss.pss_file += pss;
    if (locked) mss.pss_locked += pss;
    if (dirty) {
        mss.pss_dirty += pss;
        (priv ? mss.private_dirty : mss.shared_dirty) += PAGE_SIZE;
    } else {
        (priv ? mss.private_clean : mss.shared_clean) += PAGE_SIZE;
    }
}

// One PTE of the VMA (smaps_pte_entry): a resident page by its mappers, a swap entry by the
// PTEs sharing its slot (swp_swapcount), a hole of a shmem mapping by the file's swap entry
// there (smaps_pte_hole, when shmem_walk).
void smaps_pte_entry(mm_struct& mm, const vm_area_struct& v, uint64_t va, bool shmem_walk, mem_size_stats& mss) {
    const pte_t pte = get_pte(mm, VirtAddr(va));
    const bool locked = v.vm_flags & VM_LOCKED;
    if (pte_present(pte)) {  // PROT_NONE pages are resident too
        const page& pg = mm.page_alloc->phys_to_page(pte_phys(pte));
        if (pg.flags & PG_reserved) return;  // the zero page is not counted (vm_normal_page)
        const uint64_t mapcount = static_cast<uint64_t>(std::max(1, pg._mapcount + 1));
        const bool dirty = pte_dirty(pte) || (pg.flags & PG_dirty);  // shmem pages are always dirty
        if (pg.use == PageUse::Anon) mss.anonymous += PAGE_SIZE;
        mss.resident += PAGE_SIZE;
        if (pte_young(pte)) mss.referenced += PAGE_SIZE;
        smaps_page_accumulate(mss, pg, (PAGE_SIZE << PSS_SHIFT) / mapcount, dirty, locked, mapcount < 2);
    } else if (is_swap_pte(pte)) {
        const uint64_t mapcount = __swap_count(pte_to_swp_entry(mm.paging_mode, pte));
        mss.swap += PAGE_SIZE;
        mss.swap_pss += mapcount >= 2 ? (PAGE_SIZE << PSS_SHIFT) / mapcount : PAGE_SIZE << PSS_SHIFT;
    } else if (shmem_walk) {  // smaps_pte_hole_lookup
        const uint64_t index = v.vm_pgoff + ((va - v.vm_start.value) >> PAGE_SHIFT);
        mss.swap += shmem_partial_swap_usage(v.vm_file->f_inode->i_data, index, index + 1);
    }
}

// Adds one VMA to mss (smap_gather_stats). A shmem mapping's pages in swap are the file's
// (shmem_swap_usage) when the mapping is shared or read-only; a private writable one may
// have replaced some by copies of its own, so its holes are looked up one by one.
void smap_gather_stats(mm_struct& mm, const vm_area_struct& v, mem_size_stats& mss) {
    if (v.vm_special && !v.vm_special->fault) return;  // the gate page: no PTE of the mm maps it
    bool shmem_walk = false;
    if (v.vm_file && v.vm_file->f_inode && shmem_mapping(*v.vm_file->f_inode)) {
        const uint64_t shmem_swapped = shmem_swap_usage(v);
        if (!shmem_swapped || (v.vm_flags & VM_SHARED) || !(v.vm_flags & VM_WRITE)) mss.swap += shmem_swapped;
        else shmem_walk = true;
    }
    for (uint64_t va = v.vm_start.value; va < v.vm_end.value; va += PAGE_SIZE)
        smaps_pte_entry(mm, v, va, shmem_walk, mss);
}

// One "Name:   N kB" line: the name padded to 16 columns, the kB to 8 (SEQ_PUT_DEC).
std::string put_kb(const char* name, uint64_t bytes, int width = 8) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "%s%*" PRIu64 " kB\n", name, width, bytes >> 10);
    return buf;
}

// The counts of an smaps record or of the rollup (__show_smap); the rollup adds the
// proportional size by kind of page.
std::string __show_smap(const mem_size_stats& mss, bool rollup_mode) {
    std::string out = put_kb("Rss:            ", mss.resident) + put_kb("Pss:            ", mss.pss >> PSS_SHIFT) +
                      put_kb("Pss_Dirty:      ", mss.pss_dirty >> PSS_SHIFT);
    if (rollup_mode)
        out += put_kb("Pss_Anon:       ", mss.pss_anon >> PSS_SHIFT) +
               put_kb("Pss_File:       ", mss.pss_file >> PSS_SHIFT) +
               put_kb("Pss_Shmem:      ", mss.pss_shmem >> PSS_SHIFT);
    out += put_kb("Shared_Clean:   ", mss.shared_clean) + put_kb("Shared_Dirty:   ", mss.shared_dirty);
    out += put_kb("Private_Clean:  ", mss.private_clean) + put_kb("Private_Dirty:  ", mss.private_dirty);
    out += put_kb("Referenced:     ", mss.referenced) + put_kb("Anonymous:      ", mss.anonymous);
    out += put_kb("KSM:            ", 0) + put_kb("LazyFree:       ", 0) + put_kb("AnonHugePages:  ", 0);
    out += put_kb("ShmemPmdMapped: ", 0) + put_kb("FilePmdMapped:  ", 0) + put_kb("Shared_Hugetlb: ", 0);
    out += put_kb("Private_Hugetlb: ", 0, 7) + put_kb("Swap:           ", mss.swap);
    out +=
        put_kb("SwapPss:        ", mss.swap_pss >> PSS_SHIFT) + put_kb("Locked:         ", mss.pss_locked >> PSS_SHIFT);
    return out;
}

// The VmFlags mnemonics of show_smap_vma_flags, in bit order.
std::string vm_flags_mnemonics(unsigned long f) {
    static const std::pair<unsigned long, const char*> names[] = {
        {VM_READ, "rd"},       {VM_WRITE, "wr"},    {VM_EXEC, "ex"},      {VM_SHARED, "sh"},
        {VM_MAYREAD, "mr"},    {VM_MAYWRITE, "mw"}, {VM_MAYEXEC, "me"},   {VM_MAYSHARE, "ms"},
        {VM_GROWSDOWN, "gd"},  {VM_PFNMAP, "pf"},   {VM_LOCKED, "lo"},    {VM_IO, "io"},
        {VM_DONTEXPAND, "de"}, {VM_ACCOUNT, "ac"},  {VM_NORESERVE, "nr"}, {VM_DONTDUMP, "dd"}};
    std::string out;
    for (auto [bit, name] : names)
        if (f & bit) out += std::string(name) + " ";
    return out;  // no "sd": this kernel, like the host emu is checked against, has no soft-dirty bits
}

}  // namespace

std::string show_smap(mm_struct& mm, const vm_area_struct& v) {
    mem_size_stats mss;
    smap_gather_stats(mm, v, mss);
    std::string out = show_map_vma(mm, v) + "\n";
    out += put_kb("Size:           ", v.size()) + put_kb("KernelPageSize: ", PAGE_SIZE) +
           put_kb("MMUPageSize:    ", PAGE_SIZE);
    out += __show_smap(mss, false);
    out += "THPeligible:    0\nVmFlags: " + vm_flags_mnemonics(v.vm_flags) + "\n";
    return out;
}

std::string proc_pid_smaps(task_struct& task) {
    std::string out;
    if (!task.mm) return out;
    for (const vm_area_struct& v : task.mm->mm_rb) out += show_smap(*task.mm, v);
    if (const vm_area_struct* gate = get_gate_vma(*task.mm)) out += show_smap(*task.mm, *gate);
    return out;
}

std::string show_smaps_rollup(task_struct& task) {
    if (!task.mm) return "";
    mm_struct& mm = *task.mm;
    mem_size_stats mss;
    uint64_t first = 0, last_vma_end = 0;
    for (const vm_area_struct& v : mm.mm_rb) {  // the gate VMA is not in the tree
        if (!last_vma_end) first = v.vm_start.value;
        smap_gather_stats(mm, v, mss);
        last_vma_end = v.vm_end.value;
    }
    char head[96];  // show_vma_header_prefix(m, vma->vm_start, last_vma_end, 0, 0, 0, 0)
    int n = std::snprintf(head, sizeof head, "%08" PRIx64 "-%08" PRIx64 " ---p 00000000 00:00 0 ", first, last_vma_end);
    std::string out(head, static_cast<size_t>(n));
    const size_t width = 25 + 8 * 6 - 1;  // seq_pad to the width maps lines use
    if (out.size() < width) out.append(width - out.size(), ' ');
    return out + " [rollup]\n" + __show_smap(mss, true);
}

}  // namespace guestos
