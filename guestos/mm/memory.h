// Page tables of an mm and the fault handlers that fill them (mm/memory.c), plus user copies.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "guestos/arch/x86/include/asm/pgtable.h"
#include "guestos/include/kmap.h"
#include "guestos/include/mm_types.h"

namespace guestos {

// vm_fault_t bits (mm_types.h).
enum vm_fault_t : unsigned {
    VM_FAULT_OK = 0,
    VM_FAULT_OOM = 0x1,
    VM_FAULT_SIGBUS = 0x2,
    VM_FAULT_MAJOR = 0x4,  // the page had to be read in (from the file)
    VM_FAULT_SIGSEGV = 0x40,
    VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV,
};

// FAULT_FLAG_* (mm.h).
enum fault_flag : unsigned {
    FAULT_FLAG_WRITE = 0x1,
    FAULT_FLAG_USER = 0x40,
    FAULT_FLAG_INSTRUCTION = 0x100,
};

// Allocates the root page table of a new mm.
[[nodiscard]] bool pgd_alloc(mm_struct& mm);
// Frees every page and page-table page of mm (exit_mmap's teardown).
void free_pgd(mm_struct& mm);

// The guest PTE for va (ptep_get), none when there is no page table for it.
pte_t get_pte(mm_struct& mm, VirtAddr va);
// Installs pte for va, creating page tables; false when out of memory.
[[nodiscard]] bool set_pte_at(mm_struct& mm, VirtAddr va, pte_t pte);
// The protection a VMA's pages get (vm_get_page_prot), without RW for a read-mapped page.
pgprot_t vm_page_prot(const mm_struct& mm, unsigned long vm_flags);

// Unmaps [start, end): frees the pages, clears the PTEs, flushes the TLB (zap_page_range);
// skip_anon keeps anonymous pages (a private file mapping's COW copies).
void zap_page_range(mm_struct& mm, VirtAddr start, VirtAddr end, bool skip_anon = false);
// Drops one PTE's hold on the page at frame: rss, rmap, and the page itself when that was
// the last reference (page_remove_rmap + put_page).
void put_mapped_page(mm_struct& mm, PhysAddr frame);
// The kernel memory an mm's pages come from and are reached through.
kernel_mem mm_kmem(const mm_struct& mm);
// How much a read fault on a file maps around itself from the page cache
// (fault_around_bytes, 64 KiB as in Linux; a page or less turns fault-around off).
extern unsigned long fault_around_bytes;
// Rewrites the PTEs of [start, end) for new vm_flags (mprotect's change_protection).
void change_protection(mm_struct& mm, VirtAddr start, VirtAddr end, unsigned long vm_flags);

// Resolves a fault inside vma (handle_mm_fault).
vm_fault_t handle_mm_fault(mm_struct& mm, vm_area_struct& vma, VirtAddr address, unsigned flags);

// Grows a VM_GROWSDOWN vma down to cover address (expand_stack); false if not allowed.
bool expand_stack(mm_struct& mm, vm_area_struct& vma, VirtAddr address);

// Cross-checks an mm (a debug check): the VMAs are sorted and disjoint, every guest PTE
// lies inside a VMA, and every frame a PTE maps is allocated. Returns the problems found.
std::vector<std::string> check_mm(mm_struct& mm);

// User copies: fault pages in like the kernel does; false on a bad user address (EFAULT).
// access_ok: [addr, addr+size) lies below the x86-64 user limit (TASK_SIZE_MAX), without
// wrapping; a compat task is checked against the same limit, as on an x86-64 kernel.
inline constexpr uint64_t TASK_SIZE_MAX = (1ull << 47) - 4096;
constexpr bool access_ok(uint64_t addr, uint64_t size) {
    const uint64_t sum = addr + size;
    return sum >= addr && sum <= TASK_SIZE_MAX;
}
[[nodiscard]] bool copy_from_user(mm_struct& mm, void* dst, VirtAddr src, uint64_t len);
[[nodiscard]] bool copy_to_user(mm_struct& mm, VirtAddr dst, const void* src, uint64_t len);
// Writes len bytes at va of mm as ptrace's POKEDATA does (access_remote_vm with FOLL_WRITE |
// FOLL_FORCE): pages are faulted in for writing, and a private mapping gets its own copy even
// where it is read-only (text), so neither the page cache nor another process sees the
// write. False when some page has no VMA or only a shared read-only one (nothing written
// from that page on).
[[nodiscard]] bool access_remote_vm_write(mm_struct& mm, VirtAddr va, const void* src, uint64_t len);
// Reads a versioned struct of usize bytes into ksize (copy_struct_from_user): a shorter one
// is zero-extended, a longer one must be zero past ksize (-E2BIG); -EFAULT, else 0.
long copy_struct_from_user(mm_struct& mm, void* dst, uint64_t ksize, VirtAddr src, uint64_t usize);
// Reads user memory only where it is mapped now, never faulting (copy_from_user_nofault).
[[nodiscard]] bool copy_from_user_nofault(mm_struct& mm, void* dst, VirtAddr src, uint64_t len);
// Reads a NUL-terminated string of at most max bytes; nullopt on EFAULT or when too long.
std::optional<std::string> strncpy_from_user(mm_struct& mm, VirtAddr src, uint64_t max);
// Linux's strncpy_from_user: copies the string at src into out and returns its length,
// max when no NUL came within max bytes (out then holds those max bytes), or -EFAULT.
long strncpy_from_user(mm_struct& mm, VirtAddr src, uint64_t max, std::string& out);

}  // namespace guestos
