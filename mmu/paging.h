// x86 page-table formats (i386 2-level, i386 PAE, x86-64 4-level) and the software walker.
// Levels are numbered as the hardware walks them bottom-up: 1 = PTE, 2 = PMD (page directory),
// 3 = PUD (PAE PDPT / x86-64 PDPT), 4 = PGD (PML4). The p4d level of Linux is folded.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "mmu/phys_memory.h"
#include "mmu/types.h"

namespace mmu {

enum class PagingMode { Legacy32, PAE, LongMode4 };

// Page-table entry bits, named as in Linux arch/x86/include/asm/pgtable_types.h.
inline constexpr uint64_t _PAGE_PRESENT = 1ull << 0;
inline constexpr uint64_t _PAGE_RW = 1ull << 1;
inline constexpr uint64_t _PAGE_USER = 1ull << 2;
inline constexpr uint64_t _PAGE_PWT = 1ull << 3;
inline constexpr uint64_t _PAGE_PCD = 1ull << 4;
inline constexpr uint64_t _PAGE_ACCESSED = 1ull << 5;
inline constexpr uint64_t _PAGE_DIRTY = 1ull << 6;
inline constexpr uint64_t _PAGE_PSE = 1ull << 7;
inline constexpr uint64_t _PAGE_GLOBAL = 1ull << 8;
inline constexpr uint64_t _PAGE_NX = 1ull << 63;

// #PF error-code bits, named as in Linux arch/x86/include/asm/trap_pf.h.
inline constexpr uint32_t X86_PF_PROT = 1u << 0;   // a present entry denied the access
inline constexpr uint32_t X86_PF_WRITE = 1u << 1;  // the access was a write
inline constexpr uint32_t X86_PF_USER = 1u << 2;   // the access came from CPL 3
inline constexpr uint32_t X86_PF_RSVD = 1u << 3;   // a reserved bit was set in an entry
inline constexpr uint32_t X86_PF_INSTR = 1u << 4;  // the access was an instruction fetch

// Level numbers (Linux enum pg_level: PG_LEVEL_4K = 1, PG_LEVEL_2M = 2, PG_LEVEL_1G = 3).
inline constexpr int PTE_LEVEL = 1;
inline constexpr int PMD_LEVEL = 2;
inline constexpr int PUD_LEVEL = 3;
inline constexpr int PGD_LEVEL_LM4 = 4;

inline constexpr uint64_t SZ_4K = 1ull << 12;
inline constexpr uint64_t SZ_2M = 1ull << 21;
inline constexpr uint64_t SZ_4M = 1ull << 22;
inline constexpr uint64_t SZ_1G = 1ull << 30;

// Number of table levels the hardware walks.
constexpr int levels(PagingMode m) { return m == PagingMode::Legacy32 ? 2 : m == PagingMode::PAE ? 3 : 4; }
// Entries in one 4 KiB table (the PAE PDPT is smaller: see entries_at_level).
constexpr size_t entries_per_table(PagingMode m) { return m == PagingMode::Legacy32 ? 1024 : 512; }
// Bytes per entry: 4 for i386 2-level, 8 otherwise.
constexpr size_t entry_size(PagingMode m) { return m == PagingMode::Legacy32 ? 4 : 8; }
// Entries in the table at `level` (4 for the PAE PDPT).
constexpr size_t entries_at_level(PagingMode m, int level) {
    return (m == PagingMode::PAE && level == 3) ? 4 : entries_per_table(m);
}
// Bit position of the VA field that indexes the table at `level`.
constexpr unsigned level_shift(PagingMode m, int level) {
    return 12 + (m == PagingMode::Legacy32 ? 10u : 9u) * static_cast<unsigned>(level - 1);
}
// Bytes of VA one entry at `level` covers.
constexpr uint64_t level_span(PagingMode m, int level) { return 1ull << level_shift(m, level); }
// Index of va's entry in the table at `level` (pte_index/pmd_index/pud_index/pgd_index).
constexpr size_t table_index(PagingMode m, int level, VirtAddr va) {
    return (va.value >> level_shift(m, level)) & (entries_at_level(m, level) - 1);
}
constexpr size_t pte_index(PagingMode m, VirtAddr va) { return table_index(m, PTE_LEVEL, va); }
constexpr size_t pmd_index(PagingMode m, VirtAddr va) { return table_index(m, PMD_LEVEL, va); }
constexpr size_t pgd_index(PagingMode m, VirtAddr va) { return table_index(m, levels(m), va); }

// Frame-address bits of an entry: 12-31 (Legacy32) or 12-51 (PAE, LongMode4).
constexpr uint64_t frame_mask(PagingMode m) {
    return m == PagingMode::Legacy32 ? 0xFFFFF000ull : 0x000FFFFFFFFFF000ull;
}
// True if va is canonical for x86-64 (bits 63..47 all equal).
constexpr bool is_canonical(VirtAddr va) {
    return static_cast<uint64_t>(static_cast<int64_t>(va.value << 16) >> 16) == va.value;
}
// True if the mode can translate va at all (canonical in LongMode4, below 4 GiB otherwise).
constexpr bool va_in_range(PagingMode m, VirtAddr va) {
    return m == PagingMode::LongMode4 ? is_canonical(va) : va.value <= 0xFFFFFFFFull;
}

// Builds an entry pointing at `frame` with `flags` (NX is dropped in Legacy32, which has none).
uint64_t make_pte(PagingMode m, PhysAddr frame, uint64_t flags);
// The table or 4 KiB frame an entry points at (not for large-page leaves).
PhysAddr pte_frame(PagingMode m, uint64_t pte);

// Physical memory as a page walker sees it.
class PhysBus {
public:
    virtual ~PhysBus() = default;
    // Host pointer to [pa, pa+len) or nullptr if not backed.
    virtual uint8_t* host(PhysAddr pa, uint64_t len) = 0;
};

// The bus over emulated RAM.
class RamBus : public PhysBus {
public:
    explicit RamBus(PhysMemory& ram) : ram_(ram) {}
    uint8_t* host(PhysAddr pa, uint64_t len) override { return ram_.host(pa, len); }

private:
    PhysMemory& ram_;
};

// Reads the entry at pa (32- or 64-bit by mode); 0 (not present) if pa is not backed.
uint64_t read_entry(PhysBus& bus, PagingMode m, PhysAddr pa);
// Writes the entry at pa (32- or 64-bit by mode); ignored if pa is not backed.
void write_entry(PhysBus& bus, PagingMode m, PhysAddr pa, uint64_t entry);

enum class Access { Read, Write, Fetch };
enum class Privilege { User, Supervisor };

struct WalkOptions {
    bool nxe = true;                 // EFER.NXE: bit 63 is NX (else reserved); no effect in Legacy32
    bool wp = true;                  // CR0.WP: supervisor writes honour R/W
    bool set_accessed_dirty = true;  // update A on every level and D on the leaf as the CPU does
    unsigned maxphyaddr = 40;        // frame bits at or above this are reserved (Unicorn: 40)
    bool pse = true;                 // CR4.PSE: 4 MiB pages in Legacy32
};

// Why a walk failed; x86 reports NonCanonical as #GP, the others as #PF.
enum class WalkFault { None, NotPresent, Reserved, Protection, NonCanonical };

struct WalkResult {
    bool ok = false;  // the access is allowed
    WalkFault fault = WalkFault::None;
    uint32_t error_code = 0;   // x86 #PF error code (X86_PF_*) when !ok
    PhysAddr phys;             // translated address including the page offset (when ok)
    uint64_t page_size = 0;    // SZ_4K, SZ_2M, SZ_4M or SZ_1G (when a leaf was reached)
    bool writable = false;     // R/W set at every level
    bool user = false;         // U/S set at every level
    bool executable = false;   // no NX at any level (always true in Legacy32 or without NXE)
    bool dirty = false;        // D of the leaf after the walk
    PhysAddr leaf_entry_addr;  // the last entry read (the leaf, or the one that stopped the walk)
    uint64_t leaf_entry = 0;   // its value after any A/D update
    int level = 0;             // level of that entry (1 = PTE)
};

// Translates va as the x86 MMU does for `mode` with CR3 = root, checking the access.
WalkResult walk(PhysBus& bus, PagingMode mode, PhysAddr root, VirtAddr va, Access access, Privilege priv,
                const WalkOptions& opts = {});

// Source of page-table frames for the editing helpers.
class TableAllocator {
public:
    virtual ~TableAllocator() = default;
    virtual std::optional<PhysAddr> alloc_table() = 0;  // returns a zeroed 4 KiB frame
    virtual void free_table(PhysAddr) = 0;
};

// Allocates an empty root (a 4 KiB table; for PAE a whole frame holding the 32-byte PDPT).
ErrorOr<PhysAddr> pgd_alloc(PhysBus& bus, PagingMode m, TableAllocator& alloc);
// Frees every table of the hierarchy including the root; the mapped frames stay the caller's.
void pgd_free(PhysBus& bus, PagingMode m, PhysAddr root, TableAllocator& alloc);

// Address of va's 4 KiB PTE slot if every upper level exists (no allocation, no large page).
std::optional<PhysAddr> pte_lookup(PhysBus& bus, PagingMode m, PhysAddr root, VirtAddr va);
// Address of va's PTE slot, creating missing tables (entries = present|upper_flags; PAE PDPT
// entries present only). All-or-nothing: on ENOMEM no table is linked or leaked.
// EEXIST if a large page maps va; EFAULT if va is out of range or a table is not on the bus.
ErrorOr<PhysAddr> pte_alloc(PhysBus& bus, PagingMode m, PhysAddr root, VirtAddr va, TableAllocator& alloc,
                            uint64_t upper_flags);
// Frees every non-root table reached from [start, end) whose entries are all zero, and clears
// the entry that pointed at it (Linux free_pgtables). Non-zero non-present entries (swap
// entries) keep their table. end is exclusive; pass VirtAddr(~0ull) to reach the top.
void free_page_tables(PhysBus& bus, PagingMode m, PhysAddr root, TableAllocator& alloc, VirtAddr start, VirtAddr end);

// The table address CR3 selects (PCID/PWT/PCD bits and, for PAE, bits below 32-byte alignment dropped).
PhysAddr root_table(PagingMode m, PhysAddr cr3);
// Address of va's entry in the table at `table` for `level`.
constexpr PhysAddr entry_addr(PagingMode m, PhysAddr table, int level, VirtAddr va) {
    return table + table_index(m, level, va) * entry_size(m);
}
// True if a present entry at `level` is a leaf mapping a large page (PS set where allowed).
bool is_large_entry(PagingMode m, int level, uint64_t entry, bool pse = true);

namespace detail {
// Calls fn(index, entry_va) for the entries [idx0, idx0+count) of a window starting at wbase
// whose span meets [first, last].
template <class Fn>
void for_each_in_window(PagingMode m, int level, uint64_t wbase, size_t idx0, size_t count, uint64_t first,
                        uint64_t last, Fn& fn) {
    unsigned shift = level_shift(m, level);
    uint64_t wlast = wbase + ((static_cast<uint64_t>(count) << shift) - 1);
    uint64_t lo = std::max(first, wbase), hi = std::min(last, wlast);
    if (lo > hi) return;
    for (uint64_t i = (lo - wbase) >> shift, e = (hi - wbase) >> shift; i <= e; ++i)
        fn(idx0 + i, VirtAddr(wbase + (i << shift)));
}
}  // namespace detail

// Calls fn(index, entry_va) for each entry of a table at `level` whose VA span meets the
// inclusive range [first, last]; `base` is the VA entry 0 maps (ignored for the root, whose
// x86-64 upper half maps the sign-extended addresses).
template <class Fn>
void for_each_entry_in_range(PagingMode m, int level, VirtAddr base, VirtAddr first, VirtAddr last, Fn&& fn) {
    if (level == levels(m) && m == PagingMode::LongMode4) {
        detail::for_each_in_window(m, level, 0, 0, 256, first.value, last.value, fn);
        detail::for_each_in_window(m, level, 0xFFFF800000000000ull, 256, 256, first.value, last.value, fn);
        return;
    }
    uint64_t wbase = level == levels(m) ? 0 : base.value;
    detail::for_each_in_window(m, level, wbase, 0, entries_at_level(m, level), first.value, last.value, fn);
}

// Calls fn(va, pte) for every non-zero 4 KiB leaf entry mapping [first, last] (inclusive),
// skipping absent upper-level tables; large pages are reported once at their base.
void for_each_pte(PhysBus& bus, PagingMode mode, PhysAddr root, VirtAddr first, VirtAddr last,
                  const std::function<void(VirtAddr, uint64_t)>& fn);

}  // namespace mmu
