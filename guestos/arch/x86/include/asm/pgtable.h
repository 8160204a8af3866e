// A page-table entry as the OS sees it (arch/x86/include/asm/pgtable.h, pgtable_types.h):
// pte_t and pgprot_t wrap the raw value so it is read and changed only through Linux's
// accessors. Entries are held zero-extended to 64 bits in every paging mode, so a 2-level
// i386 entry answers the same accessors; only building an entry (mk_pte) and the swap
// layout (asm/swapops) depend on the mode.
#pragma once
#include <cstdint>

#include "mmu/paging.h"
#include "mmu/types.h"

namespace guestos {

// _PAGE_BIT_PROTNONE: the global bit, free in a user PTE, marks a PROT_NONE page whose
// PTE keeps its frame while _PAGE_PRESENT is clear.
inline constexpr unsigned _PAGE_BIT_PROTNONE = 8;
inline constexpr uint64_t _PAGE_PROTNONE = 1ull << _PAGE_BIT_PROTNONE;

// The frame bits of a 4 KiB entry (PTE_PFN_MASK: bits 12-51; 2-level entries end at 31).
inline constexpr uint64_t PTE_PFN_MASK = 0x000FFFFFFFFFF000ull;
// What pte_modify keeps across a protection change (_PAGE_CHG_MASK): the frame, the
// cache bits and what the CPU recorded (accessed, dirty).
inline constexpr uint64_t _PAGE_CHG_MASK =
    PTE_PFN_MASK | mmu::_PAGE_PCD | mmu::_PAGE_PWT | mmu::_PAGE_ACCESSED | mmu::_PAGE_DIRTY;

// The flags of a user page-table entry that points at a lower table (_PAGE_TABLE).
inline constexpr uint64_t _PAGE_TABLE =
    mmu::_PAGE_PRESENT | mmu::_PAGE_RW | mmu::_PAGE_USER | mmu::_PAGE_ACCESSED | mmu::_PAGE_DIRTY;

// Protection bits for a new entry (pgprot_t).
struct pgprot_t {
    uint64_t pgprot = 0;
};
constexpr pgprot_t __pgprot(uint64_t v) { return {v}; }
constexpr uint64_t pgprot_val(pgprot_t p) { return p.pgprot; }

struct pte_t {
    uint64_t pte = 0;
    friend constexpr bool operator==(pte_t a, pte_t b) { return a.pte == b.pte; }
};
constexpr pte_t __pte(uint64_t v) { return {v}; }
constexpr uint64_t pte_val(pte_t p) { return p.pte; }
constexpr uint64_t pte_flags(pte_t p) { return p.pte & ~PTE_PFN_MASK; }

// pte_none / pte_present / pte_protnone, as x86 defines them: a PROT_NONE page is present
// to the OS (it keeps its frame) though not to the CPU.
constexpr bool pte_none(pte_t p) { return p.pte == 0; }
constexpr bool pte_present(pte_t p) { return p.pte & (mmu::_PAGE_PRESENT | _PAGE_PROTNONE); }
constexpr bool pte_protnone(pte_t p) { return (p.pte & (mmu::_PAGE_PRESENT | _PAGE_PROTNONE)) == _PAGE_PROTNONE; }
// Present to the CPU: a translation the walker would use (not PROT_NONE, not swap).
constexpr bool pte_hw_present(pte_t p) { return p.pte & mmu::_PAGE_PRESENT; }

constexpr bool pte_write(pte_t p) { return p.pte & mmu::_PAGE_RW; }
constexpr bool pte_dirty(pte_t p) { return p.pte & mmu::_PAGE_DIRTY; }
constexpr bool pte_young(pte_t p) { return p.pte & mmu::_PAGE_ACCESSED; }
constexpr bool pte_user(pte_t p) { return p.pte & mmu::_PAGE_USER; }
constexpr bool pte_exec(pte_t p) { return !(p.pte & mmu::_PAGE_NX); }
constexpr uint64_t pte_pfn(pte_t p) { return (p.pte & PTE_PFN_MASK) >> mmu::PAGE_SHIFT; }
constexpr mmu::PhysAddr pte_phys(pte_t p) { return mmu::PhysAddr(p.pte & PTE_PFN_MASK); }

constexpr pte_t pte_mkdirty(pte_t p) { return {p.pte | mmu::_PAGE_DIRTY}; }
constexpr pte_t pte_mkclean(pte_t p) { return {p.pte & ~mmu::_PAGE_DIRTY}; }
constexpr pte_t pte_mkyoung(pte_t p) { return {p.pte | mmu::_PAGE_ACCESSED}; }
constexpr pte_t pte_mkold(pte_t p) { return {p.pte & ~mmu::_PAGE_ACCESSED}; }
constexpr pte_t pte_mkwrite(pte_t p) { return {p.pte | mmu::_PAGE_RW}; }
constexpr pte_t pte_wrprotect(pte_t p) { return {p.pte & ~mmu::_PAGE_RW}; }

// The entry mapping frame with prot (mk_pte / pfn_pte); the mode drops NX in 2-level
// paging, which has none, and keeps such an entry 32 bits wide.
inline pte_t mk_pte(mmu::PagingMode m, mmu::PhysAddr frame, pgprot_t prot) {
    return {mmu::make_pte(m, frame, prot.pgprot)};
}
// The same frame under a new protection, keeping what the CPU recorded (pte_modify).
// A PROT_NONE protection clears _PAGE_PRESENT and a present one clears _PAGE_PROTNONE.
constexpr pte_t pte_modify(pte_t p, pgprot_t newprot) {
    return {(p.pte & _PAGE_CHG_MASK) | (newprot.pgprot & ~_PAGE_CHG_MASK)};
}

}  // namespace guestos
