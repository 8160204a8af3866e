// The software x86 page walker and the page-table editing helpers (Linux pgd/pud/pmd/pte_alloc).
#include "mmu/paging.h"

#include <array>
#include <cerrno>
#include <cstring>

namespace mmu {

namespace {

// Bits [lo, hi) set.
constexpr uint64_t bit_range(unsigned lo, unsigned hi) {
    if (hi <= lo) return 0;
    uint64_t top = hi >= 64 ? ~0ull : (1ull << hi) - 1;
    return top & ~((1ull << lo) - 1);
}

// Bits [maxphyaddr, limit) of a frame field are reserved.
uint64_t frame_reserved(unsigned maxphyaddr, unsigned limit) { return bit_range(std::min(maxphyaddr, limit), limit); }

// Reserved bits of a Legacy32 entry: only a PSE-36 4 MiB PDE has any (bit 21 and the
// high-address bits 13.. that would reach at or above MAXPHYADDR).
uint64_t reserved_legacy32(int level, bool large, const WalkOptions& o) {
    if (!large) return 0;
    unsigned hi_bits = std::min(std::max(o.maxphyaddr, 32u), 40u) - 32;
    return bit_range(13 + hi_bits, 22);
}

// Reserved bits of a PAE entry (SDM tables 4-8..4-11): PDPTEs have no RW/US/A/D/PS/NX.
uint64_t reserved_pae(int level, bool large, const WalkOptions& o) {
    if (level == 3) return frame_reserved(o.maxphyaddr, 64) | 0x1E6ull;  // bits 1,2,5,6,7,8
    uint64_t r = frame_reserved(o.maxphyaddr, 63) | (o.nxe ? 0 : _PAGE_NX);
    if (large) r |= bit_range(13, 21);
    return r;
}

// Reserved bits of an x86-64 entry: frame bits at or above MAXPHYADDR, PS in a PML4E,
// the low frame bits of a large page, NX without EFER.NXE.
uint64_t reserved_lm4(int level, bool large, const WalkOptions& o) {
    uint64_t r = frame_reserved(o.maxphyaddr, 52) | (o.nxe ? 0 : _PAGE_NX);
    if (level == 4) r |= _PAGE_PSE;
    if (large) r |= bit_range(13, level == 3 ? 30 : 21);
    return r;
}

// Reserved bits for an entry at `level` in mode m.
uint64_t reserved_bits(PagingMode m, int level, bool large, const WalkOptions& o) {
    switch (m) {
    case PagingMode::Legacy32: return reserved_legacy32(level, large, o);
    case PagingMode::PAE: return reserved_pae(level, large, o);
    case PagingMode::LongMode4: return reserved_lm4(level, large, o);
    }
    return 0;
}

// Frame of a large-page leaf (PSE-36 high bits in Legacy32).
PhysAddr large_frame(PagingMode m, uint64_t e, uint64_t size) {
    if (m == PagingMode::Legacy32) return PhysAddr((e & 0xFFC00000ull) | (((e >> 13) & 0xFF) << 32));
    return PhysAddr(e & frame_mask(m) & ~(size - 1));
}

// Loads an entry from a host pointer (32- or 64-bit by mode).
uint64_t load(PagingMode m, const uint8_t* p) {
    if (m == PagingMode::Legacy32) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

// Stores an entry through a host pointer (32- or 64-bit by mode).
void store(PagingMode m, uint8_t* p, uint64_t e) {
    if (m == PagingMode::Legacy32) {
        uint32_t v = static_cast<uint32_t>(e);
        std::memcpy(p, &v, 4);
    } else {
        std::memcpy(p, &e, 8);
    }
}

// The #PF error code for a failed access.
uint32_t fault_code(PagingMode m, WalkFault f, Access a, Privilege p, const WalkOptions& o) {
    uint32_t ec = 0;
    if (f == WalkFault::Protection || f == WalkFault::Reserved) ec |= X86_PF_PROT;
    if (f == WalkFault::Reserved) ec |= X86_PF_RSVD;
    if (a == Access::Write) ec |= X86_PF_WRITE;
    if (p == Privilege::User) ec |= X86_PF_USER;
    if (a == Access::Fetch && m != PagingMode::Legacy32 && o.nxe) ec |= X86_PF_INSTR;
    return ec;
}

// Marks r as failed with fault f; guarantees ok == false and a matching error code.
WalkResult& fail(WalkResult& r, PagingMode m, WalkFault f, Access a, Privilege p, const WalkOptions& o) {
    r.ok = false;
    r.fault = f;
    if (f != WalkFault::Protection) r.writable = r.user = r.executable = false;  // no leaf reached
    r.error_code = fault_code(m, f, a, p, o);
    return r;
}

// The x86 permission check on combined bits: user needs US; writes need RW (supervisor only
// with CR0.WP); fetches need no NX. Supervisor may read/fetch user pages (no SMAP/SMEP).
bool access_allowed(const WalkResult& r, Access a, Privilege p, const WalkOptions& o) {
    if (p == Privilege::User && !r.user) return false;
    if (a == Access::Write && !r.writable && (p == Privilege::User || o.wp)) return false;
    if (a == Access::Fetch && !r.executable) return false;
    return true;
}

// Sets A on every used entry, and D on the leaf for a write (only after success).
void set_accessed_dirty(PagingMode m, std::array<uint8_t*, 4>& used, int n, Access a, WalkResult& r) {
    for (int i = 0; i < n; ++i) {
        uint64_t e = load(m, used[i]);
        uint64_t want = e | _PAGE_ACCESSED | (i == n - 1 && a == Access::Write ? _PAGE_DIRTY : 0);
        if (want != e) store(m, used[i], want);
        if (i == n - 1) r.leaf_entry = want;
    }
}

// Upper-level entry bits for a new table at `level` (PAE PDPT entries: present only).
uint64_t upper_entry_flags(PagingMode m, int level, uint64_t upper_flags) {
    if (m == PagingMode::PAE && level == 3) return _PAGE_PRESENT;
    return _PAGE_PRESENT | (upper_flags & ~(_PAGE_PSE | _PAGE_DIRTY | frame_mask(m)));
}

// True if every byte of the 4 KiB table at host pointer p is zero.
bool table_is_empty(const uint8_t* p) {
    for (size_t i = 0; i < PAGE_SIZE; i += 8) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        if (v) return false;
    }
    return true;
}

// Recursively frees the empty tables below `table` reached from [first, last].
void free_level(PhysBus& bus, PagingMode m, PhysAddr table, int level, VirtAddr base, VirtAddr first, VirtAddr last,
                TableAllocator& alloc) {
    for_each_entry_in_range(m, level, base, first, last, [&](size_t i, VirtAddr eva) {
        PhysAddr slot = table + i * entry_size(m);
        uint64_t e = read_entry(bus, m, slot);
        if (!(e & _PAGE_PRESENT) || is_large_entry(m, level, e)) return;
        PhysAddr child = pte_frame(m, e);
        uint8_t* host = bus.host(child, PAGE_SIZE);
        if (!host) return;
        if (level - 1 > PTE_LEVEL) free_level(bus, m, child, level - 1, eva, first, last, alloc);
        if (!table_is_empty(host)) return;
        write_entry(bus, m, slot, 0);
        alloc.free_table(child);
    });
}

// Recursively frees every table below `table` (used by pgd_free).
void free_all_below(PhysBus& bus, PagingMode m, PhysAddr table, int level, TableAllocator& alloc) {
    for (size_t i = 0; i < entries_at_level(m, level); ++i) {
        uint64_t e = read_entry(bus, m, table + i * entry_size(m));
        if (!(e & _PAGE_PRESENT) || is_large_entry(m, level, e)) continue;
        PhysAddr child = pte_frame(m, e);
        if (!bus.host(child, PAGE_SIZE)) continue;
        if (level - 1 > PTE_LEVEL) free_all_below(bus, m, child, level - 1, alloc);
        alloc.free_table(child);
    }
}

}  // namespace

uint64_t make_pte(PagingMode m, PhysAddr frame, uint64_t flags) {
    uint64_t e = (frame.value & frame_mask(m)) | (flags & ~frame_mask(m));
    return m == PagingMode::Legacy32 ? (e & 0xFFFFFFFFull) : e;
}

PhysAddr pte_frame(PagingMode m, uint64_t pte) { return PhysAddr(pte & frame_mask(m)); }

uint64_t read_entry(PhysBus& bus, PagingMode m, PhysAddr pa) {
    const uint8_t* p = bus.host(pa, entry_size(m));
    return p ? load(m, p) : 0;
}

void write_entry(PhysBus& bus, PagingMode m, PhysAddr pa, uint64_t entry) {
    if (uint8_t* p = bus.host(pa, entry_size(m))) store(m, p, entry);
}

PhysAddr root_table(PagingMode m, PhysAddr cr3) {
    switch (m) {
    case PagingMode::Legacy32: return PhysAddr(cr3.value & 0xFFFFF000ull);
    case PagingMode::PAE: return PhysAddr(cr3.value & 0xFFFFFFE0ull);
    case PagingMode::LongMode4: return PhysAddr(cr3.value & frame_mask(m));
    }
    return cr3;
}

bool is_large_entry(PagingMode m, int level, uint64_t entry, bool pse) {
    if (!(entry & _PAGE_PSE)) return false;
    switch (m) {
    case PagingMode::Legacy32: return level == 2 && pse;
    case PagingMode::PAE: return level == 2;
    case PagingMode::LongMode4: return level == 2 || level == 3;
    }
    return false;
}

WalkResult walk(PhysBus& bus, PagingMode m, PhysAddr root, VirtAddr va, Access a, Privilege p, const WalkOptions& o) {
    WalkResult r;
    if (!va_in_range(m, va)) return fail(r, m, WalkFault::NonCanonical, a, p, o);
    std::array<uint8_t*, 4> used{};
    int n_used = 0;
    bool nx_applies = m != PagingMode::Legacy32 && o.nxe;
    r.writable = r.user = r.executable = true;
    PhysAddr table = root_table(m, root);
    for (int level = levels(m); level >= PTE_LEVEL; --level) {
        r.level = level;
        r.leaf_entry_addr = entry_addr(m, table, level, va);
        uint8_t* host = bus.host(r.leaf_entry_addr, entry_size(m));
        r.leaf_entry = host ? load(m, host) : 0;
        uint64_t e = r.leaf_entry;
        if (!(e & _PAGE_PRESENT)) return fail(r, m, WalkFault::NotPresent, a, p, o);
        bool large = is_large_entry(m, level, e, o.pse);
        if (e & reserved_bits(m, level, large, o)) return fail(r, m, WalkFault::Reserved, a, p, o);
        if (!(m == PagingMode::PAE && level == 3)) {  // PDPTEs carry no permissions and no A bit
            r.writable &= (e & _PAGE_RW) != 0;
            r.user &= (e & _PAGE_USER) != 0;
            r.executable &= !(nx_applies && (e & _PAGE_NX));
            used[n_used++] = host;
        }
        if (level == PTE_LEVEL || large) {
            r.page_size = level_span(m, level);
            r.phys = (large ? large_frame(m, e, r.page_size) : pte_frame(m, e)) + (va.value & (r.page_size - 1));
            break;
        }
        table = pte_frame(m, e);
    }
    if (!access_allowed(r, a, p, o)) return fail(r, m, WalkFault::Protection, a, p, o);
    if (o.set_accessed_dirty) set_accessed_dirty(m, used, n_used, a, r);
    r.dirty = (r.leaf_entry & _PAGE_DIRTY) != 0;
    r.ok = true;
    return r;
}

ErrorOr<PhysAddr> pgd_alloc(PhysBus& bus, PagingMode m, TableAllocator& alloc) {
    auto root = alloc.alloc_table();
    if (!root) return Error::from_errno(ENOMEM, "no frame for a page-table root");
    uint8_t* host = bus.host(*root, PAGE_SIZE);
    if (!host) {
        alloc.free_table(*root);
        return Error::from_errno(EFAULT, "page-table root not on the bus");
    }
    std::memset(host, 0, PAGE_SIZE);
    return *root;
}

void pgd_free(PhysBus& bus, PagingMode m, PhysAddr root, TableAllocator& alloc) {
    PhysAddr table = root_table(m, root);
    free_all_below(bus, m, table, levels(m), alloc);
    alloc.free_table(table.page_base());
}

std::optional<PhysAddr> pte_lookup(PhysBus& bus, PagingMode m, PhysAddr root, VirtAddr va) {
    if (!va_in_range(m, va)) return std::nullopt;
    PhysAddr table = root_table(m, root);
    for (int level = levels(m); level > PTE_LEVEL; --level) {
        uint64_t e = read_entry(bus, m, entry_addr(m, table, level, va));
        if (!(e & _PAGE_PRESENT) || is_large_entry(m, level, e)) return std::nullopt;
        table = pte_frame(m, e);
    }
    if (!bus.host(entry_addr(m, table, PTE_LEVEL, va), entry_size(m))) return std::nullopt;
    return entry_addr(m, table, PTE_LEVEL, va);
}

ErrorOr<PhysAddr> pte_alloc(PhysBus& bus, PagingMode m, PhysAddr root, VirtAddr va, TableAllocator& alloc,
                            uint64_t upper_flags) {
    if (!va_in_range(m, va)) return Error::from_errno(EFAULT, "address outside the paging mode");
    // 1. Descend through existing levels to the first missing one.
    PhysAddr table = root_table(m, root);
    int level = levels(m);
    for (; level > PTE_LEVEL; --level) {
        PhysAddr slot = entry_addr(m, table, level, va);
        if (!bus.host(slot, entry_size(m))) return Error::from_errno(EFAULT, "page table off the bus");
        uint64_t e = read_entry(bus, m, slot);
        if (!(e & _PAGE_PRESENT)) break;
        if (is_large_entry(m, level, e)) return Error::from_errno(EEXIST, "large page maps va");
        table = pte_frame(m, e);
    }
    if (level == PTE_LEVEL) {
        PhysAddr slot = entry_addr(m, table, PTE_LEVEL, va);
        if (!bus.host(slot, entry_size(m))) return Error::from_errno(EFAULT, "page table off the bus");
        return slot;
    }
    // 2. Allocate every missing table before linking any, so failure changes nothing.
    std::array<PhysAddr, 3> fresh{};
    int need = level - 1;
    for (int i = 0; i < need; ++i) {
        auto t = alloc.alloc_table();
        uint8_t* host = t ? bus.host(*t, PAGE_SIZE) : nullptr;
        if (!host) {
            if (t) alloc.free_table(*t);
            for (int j = 0; j < i; ++j) alloc.free_table(fresh[j]);
            return Error::from_errno(ENOMEM, "no frame for a page table");
        }
        std::memset(host, 0, PAGE_SIZE);
        fresh[i] = *t;
    }
    // 3. Link bottom-up so the hierarchy is complete before it becomes reachable.
    for (int i = need - 1; i >= 1; --i)
        write_entry(bus, m, entry_addr(m, fresh[i - 1], level - i, va),
                    make_pte(m, fresh[i], upper_entry_flags(m, level - i, upper_flags)));
    write_entry(bus, m, entry_addr(m, table, level, va),
                make_pte(m, fresh[0], upper_entry_flags(m, level, upper_flags)));
    return entry_addr(m, fresh[need - 1], PTE_LEVEL, va);
}

void free_page_tables(PhysBus& bus, PagingMode m, PhysAddr root, TableAllocator& alloc, VirtAddr start, VirtAddr end) {
    if (end <= start) return;
    free_level(bus, m, root_table(m, root), levels(m), VirtAddr(0), start, end - 1, alloc);
}

namespace {
void for_each_pte_level(PhysBus& bus, PagingMode mode, PhysAddr table, int level, VirtAddr base, VirtAddr first,
                        VirtAddr last, const std::function<void(VirtAddr, uint64_t)>& fn) {
    for_each_entry_in_range(mode, level, base, first, last, [&](size_t i, VirtAddr eva) {
        const uint64_t e = read_entry(bus, mode, table + i * entry_size(mode));
        if (!e) return;
        if (level == PTE_LEVEL || is_large_entry(mode, level, e)) {
            fn(eva, e);
            return;
        }
        if (!(e & _PAGE_PRESENT)) return;
        for_each_pte_level(bus, mode, pte_frame(mode, e), level - 1, eva, first, last, fn);
    });
}
}  // namespace

void for_each_pte(PhysBus& bus, PagingMode mode, PhysAddr root, VirtAddr first, VirtAddr last,
                  const std::function<void(VirtAddr, uint64_t)>& fn) {
    for_each_pte_level(bus, mode, root_table(mode, root), levels(mode), VirtAddr(0), first, last, fn);
}

}  // namespace mmu
