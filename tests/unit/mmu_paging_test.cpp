// The software walker and the page-table editing helpers, for all three x86 formats.
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "mmu/paging.h"
#include "mmu/phys_memory.h"

using namespace mmu;

namespace {

constexpr uint64_t P = _PAGE_PRESENT, RW = _PAGE_RW, US = _PAGE_USER;

// A bump allocator over a RAM window that counts allocations and frees; `budget` limits
// how many more tables it will hand out.
class BumpAllocator : public TableAllocator {
public:
    BumpAllocator(PhysMemory& ram, PhysAddr start, PhysAddr end) : ram_(ram), next_(start), end_(end) {}
    std::optional<PhysAddr> alloc_table() override {
        if (budget == 0 || next_ >= end_) return std::nullopt;
        --budget;
        PhysAddr t = next_;
        next_ = next_ + PAGE_SIZE;
        ram_.zero_frame(t);
        ++allocated;
        return t;
    }
    void free_table(PhysAddr t) override { freed.push_back(t); }
    size_t live() const { return allocated - freed.size(); }

    size_t budget = SIZE_MAX;
    size_t allocated = 0;
    std::vector<PhysAddr> freed;

private:
    PhysMemory& ram_;
    PhysAddr next_, end_;
};

class MmuPagingTest : public ::testing::TestWithParam<PagingMode> {
protected:
    void SetUp() override {
        ram_ = PhysMemory::create(16ull << 20).release_value();
        bus_ = std::make_unique<RamBus>(*ram_);
        alloc_ = std::make_unique<BumpAllocator>(*ram_, PhysAddr(1ull << 20), PhysAddr(8ull << 20));
        auto r = pgd_alloc(*bus_, mode(), *alloc_);
        ASSERT_FALSE(r.is_error());
        root_ = r.value();
    }
    PagingMode mode() const { return GetParam(); }
    int top() const { return levels(mode()); }
    bool has_nx() const { return mode() != PagingMode::Legacy32; }

    // Maps the 4 KiB page at va to frame with leaf flags (present added) and upper flags.
    PhysAddr map(VirtAddr va, PhysAddr frame, uint64_t leaf_flags, uint64_t upper = RW | US) {
        auto slot = pte_alloc(*bus_, mode(), root_, va, *alloc_, upper);
        EXPECT_FALSE(slot.is_error());
        write_entry(*bus_, mode(), slot.value(), make_pte(mode(), frame, leaf_flags | P));
        return slot.value();
    }
    // Address of va's entry at `level`; the tables above it must exist.
    PhysAddr slot_at(int level, VirtAddr va) {
        PhysAddr t = root_table(mode(), root_);
        for (int l = top(); l > level; --l)
            t = pte_frame(mode(), read_entry(*bus_, mode(), entry_addr(mode(), t, l, va)));
        return entry_addr(mode(), t, level, va);
    }
    uint64_t entry(int level, VirtAddr va) { return read_entry(*bus_, mode(), slot_at(level, va)); }
    void set_entry(int level, VirtAddr va, uint64_t e) { write_entry(*bus_, mode(), slot_at(level, va), e); }
    // Entry values along va's path, top to bottom.
    std::vector<uint64_t> path(VirtAddr va) {
        std::vector<uint64_t> v;
        for (int l = top(); l >= 1; --l) v.push_back(entry(l, va));
        return v;
    }
    WalkResult walk_as(VirtAddr va, Access a, Privilege p, WalkOptions o = {}) {
        return walk(*bus_, mode(), root_, va, a, p, o);
    }

    std::unique_ptr<PhysMemory> ram_;
    std::unique_ptr<RamBus> bus_;
    std::unique_ptr<BumpAllocator> alloc_;
    PhysAddr root_;
};

const VirtAddr kVa(0x08049123);
const PhysAddr kFrame(0x00abc000);

TEST_P(MmuPagingTest, UserPageTranslatesWithOffset) {
    map(kVa, kFrame, RW | US);
    auto r = walk_as(kVa, Access::Read, Privilege::User);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.phys, kFrame + 0x123);
    EXPECT_EQ(r.page_size, SZ_4K);
    EXPECT_EQ(r.level, PTE_LEVEL);
    EXPECT_TRUE(r.writable && r.user && r.executable);
    EXPECT_EQ(r.leaf_entry_addr, slot_at(PTE_LEVEL, kVa));
}

TEST_P(MmuPagingTest, NotPresentAtEachLevelGivesPZero) {
    map(kVa, kFrame, RW | US);
    for (int level = top(); level >= 1; --level) {
        uint64_t saved = entry(level, kVa);
        set_entry(level, kVa, 0);
        auto r = walk_as(kVa, Access::Write, Privilege::User);
        EXPECT_FALSE(r.ok) << "level " << level;
        EXPECT_EQ(r.fault, WalkFault::NotPresent);
        EXPECT_EQ(r.level, level);
        EXPECT_EQ(r.error_code, X86_PF_WRITE | X86_PF_USER) << "level " << level;
        set_entry(level, kVa, saved);
    }
    EXPECT_TRUE(walk_as(kVa, Access::Write, Privilege::User).ok);
}

TEST_P(MmuPagingTest, UserReadOfSupervisorPageFaultsWithPAndU) {
    map(kVa, kFrame, RW);
    auto r = walk_as(kVa, Access::Read, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.fault, WalkFault::Protection);
    EXPECT_EQ(r.error_code, X86_PF_PROT | X86_PF_USER);
    EXPECT_TRUE(walk_as(kVa, Access::Read, Privilege::Supervisor).ok);
}

TEST_P(MmuPagingTest, UserBitIsAndedAcrossLevels) {
    map(kVa, kFrame, RW | US);
    set_entry(PMD_LEVEL, kVa, entry(PMD_LEVEL, kVa) & ~US);
    auto r = walk_as(kVa, Access::Read, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.user);
    EXPECT_EQ(r.error_code, X86_PF_PROT | X86_PF_USER);
}

TEST_P(MmuPagingTest, SupervisorMayReadUserPage) {
    map(kVa, kFrame, US);
    EXPECT_TRUE(walk_as(kVa, Access::Read, Privilege::Supervisor).ok);
}

TEST_P(MmuPagingTest, WriteToReadOnlyFaultsWithW) {
    map(kVa, kFrame, US);
    auto r = walk_as(kVa, Access::Write, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, X86_PF_PROT | X86_PF_WRITE | X86_PF_USER);
    auto s = walk_as(kVa, Access::Write, Privilege::Supervisor);
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.error_code, X86_PF_PROT | X86_PF_WRITE);
}

TEST_P(MmuPagingTest, ReadOnlyUpperLevelForbidsWrite) {
    map(kVa, kFrame, RW | US);
    set_entry(PMD_LEVEL, kVa, entry(PMD_LEVEL, kVa) & ~RW);
    auto r = walk_as(kVa, Access::Write, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.writable);
    EXPECT_TRUE(walk_as(kVa, Access::Read, Privilege::User).ok);
}

TEST_P(MmuPagingTest, SupervisorWriteToReadOnlySucceedsWithoutWp) {
    map(kVa, kFrame, US);
    WalkOptions o;
    o.wp = false;
    EXPECT_TRUE(walk_as(kVa, Access::Write, Privilege::Supervisor, o).ok);
    EXPECT_FALSE(walk_as(kVa, Access::Write, Privilege::User, o).ok);
}

TEST_P(MmuPagingTest, NxFetchFaultsWithInstrExceptLegacy32) {
    map(kVa, kFrame, RW | US | _PAGE_NX);
    auto r = walk_as(kVa, Access::Fetch, Privilege::User);
    if (has_nx()) {
        EXPECT_FALSE(r.ok);
        EXPECT_FALSE(r.executable);
        EXPECT_EQ(r.error_code, X86_PF_PROT | X86_PF_USER | X86_PF_INSTR);
        EXPECT_TRUE(walk_as(kVa, Access::Read, Privilege::User).ok);
    } else {
        EXPECT_TRUE(r.ok);  // i386 2-level paging has no NX: fetch allowed wherever read is
        EXPECT_TRUE(r.executable);
    }
}

TEST_P(MmuPagingTest, FetchFaultReportsInstrOnlyWhereNxExists) {
    map(kVa, kFrame, RW);  // supervisor page
    auto r = walk_as(kVa, Access::Fetch, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, X86_PF_PROT | X86_PF_USER | (has_nx() ? X86_PF_INSTR : 0));
}

TEST_P(MmuPagingTest, NxOnUpperLevelForbidsFetch) {
    if (!has_nx()) GTEST_SKIP() << "no NX in Legacy32";
    map(kVa, kFrame, RW | US);
    set_entry(PMD_LEVEL, kVa, entry(PMD_LEVEL, kVa) | _PAGE_NX);
    auto r = walk_as(kVa, Access::Fetch, Privilege::Supervisor);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_code, X86_PF_PROT | X86_PF_INSTR);
}

TEST_P(MmuPagingTest, NxBitWithoutNxeIsReserved) {
    if (!has_nx()) GTEST_SKIP() << "no NX in Legacy32";
    map(kVa, kFrame, RW | US | _PAGE_NX);
    WalkOptions o;
    o.nxe = false;
    auto r = walk_as(kVa, Access::Read, Privilege::User, o);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.fault, WalkFault::Reserved);
    EXPECT_EQ(r.error_code, X86_PF_PROT | X86_PF_USER | X86_PF_RSVD);
}

TEST_P(MmuPagingTest, AccessedOnEveryLevelDirtyOnlyAfterWrite) {
    map(kVa, kFrame, RW | US);
    auto r = walk_as(kVa, Access::Read, Privilege::User);
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.dirty);
    for (int l = top(); l >= 1; --l) {
        uint64_t e = entry(l, kVa);
        bool pdpt = mode() == PagingMode::PAE && l == PUD_LEVEL;
        EXPECT_EQ((e & _PAGE_ACCESSED) != 0, !pdpt) << "level " << l;
        EXPECT_FALSE(e & _PAGE_DIRTY) << "level " << l;
    }
    auto w = walk_as(kVa, Access::Write, Privilege::User);
    ASSERT_TRUE(w.ok);
    EXPECT_TRUE(w.dirty);
    EXPECT_TRUE(entry(PTE_LEVEL, kVa) & _PAGE_DIRTY);
    EXPECT_EQ(w.leaf_entry, entry(PTE_LEVEL, kVa));
    for (int l = top(); l > PTE_LEVEL; --l) EXPECT_FALSE(entry(l, kVa) & _PAGE_DIRTY);
}

TEST_P(MmuPagingTest, NoBitsSetOnFailedWalk) {
    map(kVa, kFrame, US);  // read-only user page
    auto before = path(kVa);
    EXPECT_FALSE(walk_as(kVa, Access::Write, Privilege::User).ok);
    EXPECT_EQ(path(kVa), before);
    set_entry(PTE_LEVEL, kVa, 0);
    before = path(kVa);
    EXPECT_FALSE(walk_as(kVa, Access::Read, Privilege::User).ok);
    EXPECT_EQ(path(kVa), before);
}

TEST_P(MmuPagingTest, SetAccessedDirtyOffLeavesEntriesAlone) {
    map(kVa, kFrame, RW | US);
    auto before = path(kVa);
    WalkOptions o;
    o.set_accessed_dirty = false;
    EXPECT_TRUE(walk_as(kVa, Access::Write, Privilege::User, o).ok);
    EXPECT_EQ(path(kVa), before);
}

TEST_P(MmuPagingTest, PmdLargePageTranslatesWithOffset) {
    const VirtAddr va(0x40000000 + 5 * SZ_2M + 0x12345);
    map(va, kFrame, RW | US);  // builds the upper levels
    uint64_t size = mode() == PagingMode::Legacy32 ? SZ_4M : SZ_2M;
    PhysAddr big(0x1400000);  // 20 MiB: aligned for both sizes
    set_entry(PMD_LEVEL, va, make_pte(mode(), big, P | RW | US | _PAGE_PSE));
    auto r = walk_as(va, Access::Write, Privilege::User);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.page_size, size);
    EXPECT_EQ(r.level, PMD_LEVEL);
    EXPECT_EQ(r.phys, big + (va.value & (size - 1)));
    EXPECT_TRUE(entry(PMD_LEVEL, va) & _PAGE_DIRTY);
    EXPECT_FALSE(pte_lookup(*bus_, mode(), root_, va).has_value());
    auto a = pte_alloc(*bus_, mode(), root_, va, *alloc_, RW | US);
    ASSERT_TRUE(a.is_error());
    EXPECT_EQ(a.error().errno_value, EEXIST);
}

TEST_P(MmuPagingTest, LargePageLowFrameBitsAreReserved) {
    if (mode() == PagingMode::Legacy32) GTEST_SKIP() << "PSE-36 covered separately";
    const VirtAddr va(0x40000000);
    map(va, kFrame, RW | US);
    set_entry(PMD_LEVEL, va, make_pte(mode(), PhysAddr(0x1400000 | 0x2000), P | RW | US | _PAGE_PSE));
    auto r = walk_as(va, Access::Read, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.fault, WalkFault::Reserved);
}

TEST_P(MmuPagingTest, ReservedFrameBitsAtMaxPhyAddrGiveRsvd) {
    if (mode() == PagingMode::Legacy32) GTEST_SKIP() << "32-bit frames cannot reach 2^40";
    map(kVa, PhysAddr(1ull << 40), RW | US);
    auto r = walk_as(kVa, Access::Read, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.fault, WalkFault::Reserved);
    EXPECT_EQ(r.level, PTE_LEVEL);
    EXPECT_EQ(r.error_code, X86_PF_PROT | X86_PF_USER | X86_PF_RSVD);
    WalkOptions o;
    o.maxphyaddr = 41;
    auto ok = walk_as(kVa, Access::Read, Privilege::User, o);
    ASSERT_TRUE(ok.ok);
    EXPECT_EQ(ok.phys, PhysAddr((1ull << 40) + 0x123));
    // The same bit in an upper-level entry is reserved too.
    map(kVa, kFrame, RW | US);
    set_entry(PMD_LEVEL, kVa, entry(PMD_LEVEL, kVa) | (1ull << 45));
    EXPECT_EQ(walk_as(kVa, Access::Read, Privilege::User).fault, WalkFault::Reserved);
}

TEST_P(MmuPagingTest, EntryPointingOffTheBusIsNotPresent) {
    map(kVa, kFrame, RW | US);
    set_entry(PMD_LEVEL, kVa, make_pte(mode(), PhysAddr(0x40000000), P | RW | US));  // beyond 16 MiB
    auto r = walk_as(kVa, Access::Read, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.fault, WalkFault::NotPresent);
    EXPECT_EQ(r.level, PTE_LEVEL);
    EXPECT_FALSE(pte_lookup(*bus_, mode(), root_, kVa).has_value());
    EXPECT_TRUE(pte_alloc(*bus_, mode(), root_, kVa, *alloc_, RW | US).is_error());
    EXPECT_FALSE(walk(*bus_, mode(), PhysAddr(0x40000000), kVa, Access::Read, Privilege::User).ok);
}

TEST_P(MmuPagingTest, AddressOutsideModeFails) {
    VirtAddr bad(mode() == PagingMode::LongMode4 ? 0x0000800000000000ull : 0x100000000ull);
    auto r = walk_as(bad, Access::Read, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.fault, WalkFault::NonCanonical);
    EXPECT_TRUE(pte_alloc(*bus_, mode(), root_, bad, *alloc_, RW | US).is_error());
    EXPECT_FALSE(pte_lookup(*bus_, mode(), root_, bad).has_value());
}

TEST_P(MmuPagingTest, PteLookupFindsWhatPteAllocMade) {
    EXPECT_FALSE(pte_lookup(*bus_, mode(), root_, kVa).has_value());
    PhysAddr slot = map(kVa, kFrame, RW | US);
    auto found = pte_lookup(*bus_, mode(), root_, kVa);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(*found, slot);
    size_t before = alloc_->allocated;
    auto again = pte_alloc(*bus_, mode(), root_, kVa + PAGE_SIZE, *alloc_, RW | US);
    ASSERT_FALSE(again.is_error());
    EXPECT_EQ(again.value(), slot + entry_size(mode()));
    EXPECT_EQ(alloc_->allocated, before);  // same PT, nothing allocated
}

TEST_P(MmuPagingTest, PteAllocEnomemLeavesTablesWalkable) {
    map(kVa, kFrame, RW | US);
    const VirtAddr far(mode() == PagingMode::LongMode4 ? 0x7f0000000000ull : 0xC0000000ull);
    size_t live = alloc_->live();
    alloc_->budget = static_cast<size_t>(top() - 2);  // one table short
    auto r = pte_alloc(*bus_, mode(), root_, far, *alloc_, RW | US);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().errno_value, ENOMEM);
    EXPECT_EQ(alloc_->live(), live);  // nothing leaked
    EXPECT_TRUE(walk_as(kVa, Access::Write, Privilege::User).ok);
    auto miss = walk_as(far, Access::Read, Privilege::User);
    EXPECT_EQ(miss.fault, WalkFault::NotPresent);
    EXPECT_EQ(miss.level, top());  // no half-made path
    alloc_->budget = SIZE_MAX;
    map(far, kFrame, RW | US);
    EXPECT_TRUE(walk_as(far, Access::Read, Privilege::User).ok);
}

TEST_P(MmuPagingTest, UpperEntriesGetPresentAndUpperFlags) {
    map(kVa, kFrame, RW | US, RW | US);
    for (int l = top(); l > PTE_LEVEL; --l) {
        uint64_t flags = entry(l, kVa) & ~frame_mask(mode());
        bool pdpt = mode() == PagingMode::PAE && l == PUD_LEVEL;
        EXPECT_EQ(flags, pdpt ? P : (P | RW | US)) << "level " << l;
    }
}

TEST_P(MmuPagingTest, PaePdptPermissionBitsAreReserved) {
    if (mode() != PagingMode::PAE) GTEST_SKIP();
    map(kVa, kFrame, RW | US);
    set_entry(PUD_LEVEL, kVa, entry(PUD_LEVEL, kVa) | RW);
    auto r = walk_as(kVa, Access::Read, Privilege::User);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.fault, WalkFault::Reserved);
    EXPECT_EQ(r.level, PUD_LEVEL);
}

TEST_P(MmuPagingTest, FreePageTablesReleasesOnlyEmptyTables) {
    const VirtAddr a(0x00400000), b(0x40000000);  // different PMD (and PTE) tables
    PhysAddr slot_a = map(a, kFrame, RW | US);
    map(b, kFrame, RW | US);
    size_t tables = alloc_->live();
    write_entry(*bus_, mode(), slot_a, 0);
    free_page_tables(*bus_, mode(), root_, *alloc_, VirtAddr(0), VirtAddr(~0ull));
    EXPECT_GE(alloc_->freed.size(), 1u);
    EXPECT_FALSE(pte_lookup(*bus_, mode(), root_, a).has_value());
    EXPECT_TRUE(walk_as(b, Access::Read, Privilege::User).ok);
    // A swap-style non-present entry keeps its table.
    write_entry(*bus_, mode(), pte_lookup(*bus_, mode(), root_, b).value(), 0x1234 << 1);
    size_t freed = alloc_->freed.size();
    free_page_tables(*bus_, mode(), root_, *alloc_, VirtAddr(0), VirtAddr(~0ull));
    EXPECT_EQ(alloc_->freed.size(), freed);
    // Emptied completely: everything but the root is freed.
    write_entry(*bus_, mode(), pte_lookup(*bus_, mode(), root_, b).value(), 0);
    free_page_tables(*bus_, mode(), root_, *alloc_, VirtAddr(0), VirtAddr(~0ull));
    EXPECT_EQ(alloc_->live(), 1u);
    EXPECT_LT(alloc_->live(), tables);
    for (PhysAddr f : alloc_->freed) EXPECT_NE(f, root_table(mode(), root_).page_base());
}

TEST_P(MmuPagingTest, FreePageTablesOutsideRangeKeepsTables) {
    const VirtAddr a(0x40000000);
    write_entry(*bus_, mode(), map(a, kFrame, RW | US), 0);
    free_page_tables(*bus_, mode(), root_, *alloc_, VirtAddr(0), VirtAddr(0x10000000));
    EXPECT_TRUE(alloc_->freed.empty());
    EXPECT_TRUE(pte_lookup(*bus_, mode(), root_, a).has_value());
}

TEST_P(MmuPagingTest, PgdFreeReleasesEveryTable) {
    map(kVa, kFrame, RW | US);
    map(VirtAddr(0x80000000), kFrame, RW | US);
    pgd_free(*bus_, mode(), root_, *alloc_);
    EXPECT_EQ(alloc_->live(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Mmu, MmuPagingTest,
                         ::testing::Values(PagingMode::Legacy32, PagingMode::PAE, PagingMode::LongMode4),
                         [](const auto& info) {
                             switch (info.param) {
                             case PagingMode::Legacy32: return std::string("Legacy32");
                             case PagingMode::PAE: return std::string("PAE");
                             default: return std::string("LongMode4");
                             }
                         });

// Mode-specific large pages and layouts.
class MmuPagingModeTest : public MmuPagingTest {};

TEST_P(MmuPagingModeTest, GigabytePageInLongMode) {
    const VirtAddr va(0x7f0000000000ull + 3 * SZ_1G + 0x2345678);
    map(va, kFrame, RW | US);
    PhysAddr big(5 * SZ_1G);
    set_entry(PUD_LEVEL, va, make_pte(mode(), big, P | RW | US | _PAGE_PSE));
    auto r = walk_as(va, Access::Read, Privilege::User);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.page_size, SZ_1G);
    EXPECT_EQ(r.level, PUD_LEVEL);
    EXPECT_EQ(r.phys, big + 0x2345678);
    // PS in a PML4E is reserved.
    set_entry(4, va, entry(4, va) | _PAGE_PSE);
    EXPECT_EQ(walk_as(va, Access::Read, Privilege::User).fault, WalkFault::Reserved);
}

TEST_P(MmuPagingModeTest, KernelHalfAddressInLongMode) {
    const VirtAddr va(0xffff888000001234ull);
    map(va, kFrame, RW);
    auto r = walk_as(va, Access::Read, Privilege::Supervisor);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.phys, kFrame + 0x234);
    EXPECT_EQ(pgd_index(mode(), va), 273u);
}

INSTANTIATE_TEST_SUITE_P(Mmu, MmuPagingModeTest, ::testing::Values(PagingMode::LongMode4));

class MmuPagingLegacyTest : public MmuPagingTest {};

TEST_P(MmuPagingLegacyTest, Pse36PageReachesAbove4GiB) {
    const VirtAddr va(0x80123456);
    map(va, kFrame, RW | US);
    // 4 MiB page at physical 0x12_0040_0000: bits 32-39 of the address go in PDE bits 13-20.
    uint64_t pde = 0x00400000 | (0x12ull << 13) | P | RW | US | _PAGE_PSE;
    set_entry(PMD_LEVEL, va, pde);
    auto r = walk_as(va, Access::Read, Privilege::User);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.page_size, SZ_4M);
    EXPECT_EQ(r.phys, PhysAddr(0x1200400000ull + 0x123456));
    set_entry(PMD_LEVEL, va, pde | (1ull << 21));  // bit 21 is always reserved
    EXPECT_EQ(walk_as(va, Access::Read, Privilege::User).fault, WalkFault::Reserved);
    WalkOptions o;
    o.maxphyaddr = 36;  // now bits 17-20 reach above MAXPHYADDR
    set_entry(PMD_LEVEL, va, pde);
    EXPECT_EQ(walk_as(va, Access::Read, Privilege::User, o).fault, WalkFault::Reserved);
}

TEST_P(MmuPagingLegacyTest, PsIgnoredWithoutPse) {
    const VirtAddr va(0x80123456);
    map(va, kFrame, RW | US);
    set_entry(PMD_LEVEL, va, entry(PMD_LEVEL, va) | _PAGE_PSE);
    WalkOptions o;
    o.pse = false;
    auto r = walk_as(va, Access::Read, Privilege::User, o);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.page_size, SZ_4K);
    EXPECT_EQ(r.phys, kFrame + 0x456);
}

TEST_P(MmuPagingLegacyTest, EntriesAreThirtyTwoBits) {
    PhysAddr slot = map(kVa, kFrame, RW | US | _PAGE_NX);
    EXPECT_EQ(read_entry(*bus_, mode(), slot), kFrame.value | P | RW | US);
    EXPECT_EQ(ram_->read<uint32_t>(slot + 4), 0u);  // the neighbour slot is untouched
    EXPECT_EQ(entries_per_table(mode()), 1024u);
    EXPECT_EQ(table_index(mode(), PMD_LEVEL, kVa), 0x08049123u >> 22);
}

INSTANTIATE_TEST_SUITE_P(Mmu, MmuPagingLegacyTest, ::testing::Values(PagingMode::Legacy32));

}  // namespace
