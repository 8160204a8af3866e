// Swap entries (include/linux/swapops.h) and how x86 keeps them in a non-present PTE
// (arch/x86/include/asm/pgtable_64.h, pgtable-3level.h, pgtable-2level.h): a PTE that is
// neither none nor present (pte_present: _PAGE_PRESENT or _PAGE_PROTNONE) holds one.
#pragma once
#include <cstdint>

#include "guestos/arch/x86/include/asm/pgtable.h"
#include "mmu/paging.h"

namespace guestos {

// How many swap areas may be active at once (MAX_SWAPFILES_SHIFT 5, no migration or
// hwpoison entries taking types away here).
inline constexpr unsigned MAX_SWAPFILES_SHIFT = 5;
inline constexpr unsigned MAX_SWAPFILES = 1u << MAX_SWAPFILES_SHIFT;

// The arch-independent entry: the area's type in the top bits, the page offset below
// (swp_entry, SWP_TYPE_SHIFT = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT on 64-bit).
struct swp_entry_t {
    uint64_t val = 0;
    friend bool operator==(swp_entry_t a, swp_entry_t b) { return a.val == b.val; }
};
inline constexpr unsigned SWP_TYPE_SHIFT = 63 - MAX_SWAPFILES_SHIFT;
inline constexpr uint64_t SWP_OFFSET_MASK = (1ull << SWP_TYPE_SHIFT) - 1;
constexpr swp_entry_t swp_entry(unsigned type, uint64_t offset) {
    return {(static_cast<uint64_t>(type) << SWP_TYPE_SHIFT) | (offset & SWP_OFFSET_MASK)};
}
constexpr unsigned swp_type(swp_entry_t e) { return static_cast<unsigned>(e.val >> SWP_TYPE_SHIFT); }
constexpr uint64_t swp_offset(swp_entry_t e) { return e.val & SWP_OFFSET_MASK; }

// A swap entry: neither none nor present (is_swap_pte).
constexpr bool is_swap_pte(pte_t pte) { return !pte_none(pte) && !pte_present(pte); }

// The arch layouts. 64-bit PTEs (x86-64 and i386 PAE, since the L1TF fix): the type in
// bits 59-63, the offset inverted in bits 14-58 shifted down by the type's width, so no
// swap PTE points at real memory (__swp_entry / __pteval_swp_offset). 2-level i386: the
// type in bits 1-5, the offset from bit 9 (_PAGE_BIT_PROTNONE + 1).
inline constexpr unsigned SWP_TYPE_BITS = 5;
inline constexpr unsigned SWP_OFFSET_FIRST_BIT = _PAGE_BIT_PROTNONE + 1;
inline constexpr unsigned SWP_OFFSET_SHIFT = SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS;
inline constexpr unsigned _SWP_TYPE_SHIFT_2LEVEL = 1;  // _PAGE_BIT_PRESENT + 1

// __swp_entry_to_pte(__swp_entry(type, offset)) for the paging mode.
constexpr pte_t swp_entry_to_pte(mmu::PagingMode m, swp_entry_t e) {
    const uint64_t type = swp_type(e), offset = swp_offset(e);
    if (m == mmu::PagingMode::Legacy32)
        return __pte(static_cast<uint32_t>((type << _SWP_TYPE_SHIFT_2LEVEL) | (offset << SWP_OFFSET_FIRST_BIT)));
    return __pte((~offset << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS) | (type << (64 - SWP_TYPE_BITS)));
}
// pte_to_swp_entry: back from a swap PTE to the arch-independent entry.
constexpr swp_entry_t pte_to_swp_entry(mmu::PagingMode m, pte_t p) {
    const uint64_t pte = pte_val(p);
    if (m == mmu::PagingMode::Legacy32) {
        const uint32_t v = static_cast<uint32_t>(pte);
        return swp_entry((v >> _SWP_TYPE_SHIFT_2LEVEL) & ((1u << SWP_TYPE_BITS) - 1), v >> SWP_OFFSET_FIRST_BIT);
    }
    return swp_entry(static_cast<unsigned>(pte >> (64 - SWP_TYPE_BITS)), ~pte << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT);
}
// The largest offset + 1 a swap PTE of this mode can hold (generic_max_swapfile_size:
// the offset of swp_entry(0, ~0) after a trip through a PTE, plus one). i386 PAE keeps a
// 32-bit swp_entry_t, type in its low 5 bits, so 27 offset bits.
constexpr uint64_t swapfile_maximum_size(mmu::PagingMode m) {
    if (m == mmu::PagingMode::Legacy32) return 1ull << (32 - SWP_OFFSET_FIRST_BIT);
    if (m == mmu::PagingMode::PAE) return 1ull << (32 - SWP_TYPE_BITS);
    return 1ull << (64 - SWP_OFFSET_SHIFT);
}

}  // namespace guestos
