// The shadow page tables: round trips, the CPU's view through the walker, sparse clears, pool limits.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "mmu/paging.h"
#include "mmu/shadow.h"

using namespace mmu;

namespace {

constexpr uint64_t kPhysTop = 1ull << 40;
constexpr uint64_t kRootPhys = 0xC0001000;  // PAE PDPT: below 4 GiB, as in a kernel-half page

// A page-aligned host buffer.
struct HostBuffer {
    explicit HostBuffer(size_t bytes) : p(static_cast<uint8_t*>(std::aligned_alloc(PAGE_SIZE, bytes))), n(bytes) {
        std::memset(p, 0xAB, n);  // garbage: the shadow must not rely on a zeroed pool
    }
    ~HostBuffer() { std::free(p); }
    uint8_t* p;
    size_t n;
};

class MmuShadowTest : public ::testing::TestWithParam<ShadowFormat> {
protected:
    static constexpr size_t kPoolPages = 64;
    void SetUp() override { make(kPoolPages); }
    // (Re)creates the shadow over a pool of `pages` pages just below 2^40.
    void make(size_t pages) {
        shadow_.reset();
        pool_ = std::make_unique<HostBuffer>(pages * PAGE_SIZE);
        pool_phys_ = kPhysTop - pages * PAGE_SIZE;
        bool pae = GetParam() == ShadowFormat::PAE;
        shadow_ = std::make_unique<ShadowPageTables>(GetParam(), pool_->p, pool_phys_, pages * PAGE_SIZE,
                                                     pae ? root_.p : nullptr, pae ? kRootPhys : 0);
    }
    PagingMode mode() const { return shadow_->paging_mode(); }
    // A user VA valid in both formats and a second one in a distant region.
    VirtAddr far_va() const {
        return VirtAddr(GetParam() == ShadowFormat::LongMode4 ? 0x7ffff7ff0000ull : 0xbfff0000ull);
    }
    WalkResult cpu(VirtAddr va, Access a, Privilege p) {
        return walk(shadow_->bus(), mode(), PhysAddr(shadow_->cr3()), va, a, p, WalkOptions{});
    }

    HostBuffer root_{PAGE_SIZE};
    std::unique_ptr<HostBuffer> pool_;
    uint64_t pool_phys_ = 0;
    std::unique_ptr<ShadowPageTables> shadow_;
};

const VirtAddr kVa(0x08048000);
const PhysAddr kFrame(0x00123000);

TEST_P(MmuShadowTest, StartsWithOnlyTheRoot) {
    EXPECT_EQ(shadow_->tables_in_use(), 1u);
    EXPECT_EQ(shadow_->entries_present(), 0u);
    if (GetParam() == ShadowFormat::PAE) {
        EXPECT_EQ(shadow_->cr3(), kRootPhys);
        EXPECT_EQ(shadow_->tables_free(), kPoolPages);
    } else {
        EXPECT_GE(shadow_->cr3(), pool_phys_);
        EXPECT_LT(shadow_->cr3(), kPhysTop);
        EXPECT_EQ(shadow_->tables_free(), kPoolPages - 1);
    }
}

TEST_P(MmuShadowTest, SetLookupClearRoundTrip) {
    ASSERT_TRUE(shadow_->set(kVa, kFrame, {true, true, false}));
    auto e = shadow_->lookup(kVa + 0x123);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->frame, kFrame);
    EXPECT_TRUE(e->perm.writable);
    EXPECT_TRUE(e->perm.user);
    EXPECT_FALSE(e->perm.executable);
    EXPECT_FALSE(shadow_->lookup(kVa + PAGE_SIZE).has_value());
    EXPECT_EQ(shadow_->entries_present(), 1u);
    EXPECT_EQ(shadow_->tables_in_use(), static_cast<size_t>(levels(mode())));
    EXPECT_TRUE(shadow_->clear(kVa));
    EXPECT_FALSE(shadow_->clear(kVa));
    EXPECT_FALSE(shadow_->lookup(kVa).has_value());
    EXPECT_EQ(shadow_->entries_present(), 0u);
    EXPECT_EQ(shadow_->tables_in_use(), 1u);  // emptied tables went back to the pool
}

TEST_P(MmuShadowTest, OverwriteKeepsCountsAndChangesPermissions) {
    ASSERT_TRUE(shadow_->set(kVa, kFrame, {false, true, true}));
    ASSERT_TRUE(shadow_->set(kVa, kFrame + PAGE_SIZE, {true, false, false}));
    EXPECT_EQ(shadow_->entries_present(), 1u);
    auto e = shadow_->lookup(kVa);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->frame, kFrame + PAGE_SIZE);
    EXPECT_TRUE(e->perm.writable);
    EXPECT_FALSE(e->perm.user);
}

TEST_P(MmuShadowTest, EntryBitsMatchTheContract) {
    ASSERT_TRUE(shadow_->set(kVa, PhysAddr(kPhysTop - PAGE_SIZE), {true, true, true}));
    PhysAddr table = root_table(mode(), PhysAddr(shadow_->cr3()));
    for (int l = levels(mode()); l >= PTE_LEVEL; --l) {
        uint64_t e = read_entry(shadow_->bus(), mode(), entry_addr(mode(), table, l, kVa));
        uint64_t flags = e & ~frame_mask(mode());
        if (l == PTE_LEVEL) {
            EXPECT_EQ(flags, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY);
            EXPECT_EQ(pte_frame(mode(), e), PhysAddr(kPhysTop - PAGE_SIZE));
        } else if (mode() == PagingMode::PAE && l == PUD_LEVEL) {
            EXPECT_EQ(flags, _PAGE_PRESENT);
        } else {
            EXPECT_EQ(flags & (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_NX),
                      _PAGE_PRESENT | _PAGE_RW | _PAGE_USER);
        }
        table = pte_frame(mode(), e);
    }
}

// Every permission combination walks exactly as the CPU would allow it.
TEST_P(MmuShadowTest, CpuWalkHonoursPermissions) {
    for (int bits = 0; bits < 8; ++bits) {
        ShadowPerm perm{(bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0};
        VirtAddr va = kVa + bits * PAGE_SIZE;
        ASSERT_TRUE(shadow_->set(va, kFrame + bits * PAGE_SIZE, perm));
        for (Privilege p : {Privilege::User, Privilege::Supervisor}) {
            bool user_ok = p == Privilege::Supervisor || perm.user;
            EXPECT_EQ(cpu(va, Access::Read, p).ok, user_ok) << bits;
            EXPECT_EQ(cpu(va, Access::Write, p).ok, user_ok && perm.writable) << bits;
            EXPECT_EQ(cpu(va, Access::Fetch, p).ok, user_ok && perm.executable) << bits;
        }
        auto r = cpu(va + 0x42, Access::Read, Privilege::Supervisor);
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.phys, kFrame + bits * PAGE_SIZE + 0x42);
        EXPECT_EQ(r.writable, perm.writable);
        EXPECT_EQ(r.user, perm.user);
        EXPECT_EQ(r.executable, perm.executable);
    }
    auto denied = cpu(kVa + 2 * PAGE_SIZE, Access::Write, Privilege::User);  // user, read-only
    EXPECT_EQ(denied.error_code, X86_PF_PROT | X86_PF_WRITE | X86_PF_USER);
    auto missing = cpu(far_va(), Access::Read, Privilege::User);
    EXPECT_EQ(missing.fault, WalkFault::NotPresent);
}

// A and D are pre-set everywhere the CPU sets them, so its walk never writes the shadow.
TEST_P(MmuShadowTest, CpuWalkNeverWritesTheShadow) {
    ASSERT_TRUE(shadow_->set(kVa, kFrame, {true, true, true}));
    std::vector<uint8_t> before(pool_->p, pool_->p + pool_->n);
    std::vector<uint8_t> root_before(root_.p, root_.p + 32);
    ASSERT_TRUE(cpu(kVa, Access::Write, Privilege::User).ok);
    EXPECT_EQ(std::memcmp(before.data(), pool_->p, pool_->n), 0);
    EXPECT_EQ(std::memcmp(root_before.data(), root_.p, 32), 0);
}

TEST_P(MmuShadowTest, SetWritableTogglesWriteAccess) {
    ASSERT_TRUE(shadow_->set(kVa, kFrame, {false, true, true}));
    EXPECT_FALSE(cpu(kVa, Access::Write, Privilege::User).ok);
    shadow_->set_writable(kVa, true);
    EXPECT_TRUE(cpu(kVa, Access::Write, Privilege::User).ok);
    shadow_->set_writable(kVa, false);
    EXPECT_FALSE(cpu(kVa, Access::Write, Privilege::User).ok);
    EXPECT_TRUE(cpu(kVa, Access::Read, Privilege::User).ok);
    shadow_->set_writable(far_va(), true);  // absent: no effect
    EXPECT_FALSE(shadow_->lookup(far_va()).has_value());
}

TEST_P(MmuShadowTest, AddressesTheFormatCannotMapAreRefused) {
    VirtAddr bad(GetParam() == ShadowFormat::LongMode4 ? 0x0000800000000000ull : 0x100000000ull);
    EXPECT_FALSE(shadow_->set(bad, kFrame, {true, true, true}));
    EXPECT_FALSE(shadow_->lookup(bad).has_value());
    EXPECT_FALSE(shadow_->clear(bad));
    EXPECT_EQ(shadow_->tables_in_use(), 1u);
}

TEST_P(MmuShadowTest, ClearRangeClearsOnlyInsideAndReportsEach) {
    std::vector<VirtAddr> inside, outside;
    for (int i = 0; i < 5; ++i) inside.push_back(VirtAddr(0x10000000 + i * 0x201000ull));
    outside = {VirtAddr(0x0fff0000), VirtAddr(0x10000000 + 5 * 0x201000ull), far_va()};
    for (VirtAddr va : inside) ASSERT_TRUE(shadow_->set(va, kFrame, {true, true, true}));
    for (VirtAddr va : outside) ASSERT_TRUE(shadow_->set(va, kFrame, {true, true, true}));
    std::vector<VirtAddr> cleared;
    shadow_->clear_range(inside.front(), inside.back() + PAGE_SIZE, [&](VirtAddr va) { cleared.push_back(va); });
    EXPECT_EQ(cleared, inside);
    for (VirtAddr va : inside) EXPECT_FALSE(shadow_->lookup(va).has_value());
    for (VirtAddr va : outside) EXPECT_TRUE(shadow_->lookup(va).has_value());
    EXPECT_EQ(shadow_->entries_present(), outside.size());
}

TEST_P(MmuShadowTest, ClearRangeOverHugeSparseSpaceIsFast) {
    bool lm4 = GetParam() == ShadowFormat::LongMode4;
    std::set<uint64_t> set_vas = {0x1000, 0x555555554000ull, 0x7ffffffff000ull};
    if (!lm4) set_vas = {0x1000, 0x55554000ull, 0xfffff000ull};
    for (uint64_t va : set_vas) ASSERT_TRUE(shadow_->set(VirtAddr(va), kFrame, {true, true, false}));
    std::set<uint64_t> cleared;
    auto t0 = std::chrono::steady_clock::now();
    VirtAddr end(lm4 ? (1ull << 47) : (1ull << 32));
    shadow_->clear_range(VirtAddr(0), end, [&](VirtAddr va) { cleared.insert(va.value); });
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(cleared, set_vas);
    EXPECT_LT(us, 20000) << "clear_range must skip absent subtrees";
    EXPECT_EQ(shadow_->entries_present(), 0u);
    EXPECT_EQ(shadow_->tables_in_use(), 1u);
}

TEST_P(MmuShadowTest, ClearAllReturnsAllTablesToThePool) {
    size_t free_at_start = shadow_->tables_free();
    std::vector<VirtAddr> vas;
    for (int i = 0; i < 12; ++i) vas.push_back(VirtAddr(0x00400000ull * i + 0x3000));
    if (GetParam() == ShadowFormat::LongMode4) vas.push_back(VirtAddr(0xffff800000005000ull));
    for (VirtAddr va : vas) ASSERT_TRUE(shadow_->set(va, kFrame, {true, false, true}));
    EXPECT_GT(shadow_->tables_in_use(), 3u);
    size_t reported = 0;
    shadow_->clear_all([&](VirtAddr) { ++reported; });
    EXPECT_EQ(reported, vas.size());
    EXPECT_EQ(shadow_->tables_in_use(), 1u);
    EXPECT_EQ(shadow_->entries_present(), 0u);
    EXPECT_EQ(shadow_->tables_free(), free_at_start);
    for (VirtAddr va : vas) EXPECT_FALSE(cpu(va, Access::Read, Privilege::Supervisor).ok);
    // The recycled tables are clean: a fresh fill walks correctly.
    ASSERT_TRUE(shadow_->set(far_va(), kFrame, {true, true, true}));
    EXPECT_TRUE(cpu(far_va(), Access::Write, Privilege::User).ok);
    EXPECT_FALSE(cpu(vas[1], Access::Read, Privilege::Supervisor).ok);
}

TEST_P(MmuShadowTest, PoolExhaustionFailsWithoutCorruption) {
    bool lm4 = GetParam() == ShadowFormat::LongMode4;
    make(lm4 ? 4 : 2);  // exactly one root-to-leaf path
    ASSERT_TRUE(shadow_->set(kVa, kFrame, {true, true, true}));
    ASSERT_TRUE(shadow_->set(kVa + PAGE_SIZE, kFrame, {true, true, true}));  // same leaf table
    size_t tables = shadow_->tables_in_use();
    EXPECT_EQ(shadow_->tables_free(), 0u);
    EXPECT_FALSE(shadow_->set(far_va(), kFrame, {true, true, true}));
    EXPECT_EQ(shadow_->tables_in_use(), tables);
    EXPECT_EQ(shadow_->entries_present(), 2u);
    EXPECT_TRUE(cpu(kVa, Access::Write, Privilege::User).ok);
    EXPECT_EQ(cpu(far_va(), Access::Read, Privilege::User).fault, WalkFault::NotPresent);
    shadow_->clear_all();
    EXPECT_TRUE(shadow_->set(far_va(), kFrame, {true, true, true}));
    EXPECT_TRUE(cpu(far_va(), Access::Read, Privilege::User).ok);
}

TEST_P(MmuShadowTest, SingleClearsReleaseTablesBottomUp) {
    ASSERT_TRUE(shadow_->set(kVa, kFrame, {true, true, true}));
    ASSERT_TRUE(shadow_->set(far_va(), kFrame, {true, true, true}));
    size_t both = shadow_->tables_in_use();
    EXPECT_TRUE(shadow_->clear(far_va()));
    EXPECT_LT(shadow_->tables_in_use(), both);
    EXPECT_TRUE(cpu(kVa, Access::Read, Privilege::User).ok);
    EXPECT_TRUE(shadow_->clear(kVa));
    EXPECT_EQ(shadow_->tables_in_use(), 1u);
    EXPECT_EQ(shadow_->tables_free(), GetParam() == ShadowFormat::PAE ? kPoolPages : kPoolPages - 1);
}

TEST_P(MmuShadowTest, ManyPagesFillAndDrain) {
    // 64 pool pages, 4 MiB stride: every set needs its own leaf table until the pool runs out.
    size_t ok = 0;
    for (uint64_t i = 0; i < 200; ++i) {
        if (!shadow_->set(VirtAddr(i * SZ_4M), PhysAddr(i * PAGE_SIZE), {true, true, true})) break;
        ++ok;
    }
    EXPECT_GT(ok, 10u);
    EXPECT_LT(ok, 200u);
    EXPECT_EQ(shadow_->entries_present(), ok);
    for (uint64_t i = 0; i < ok; ++i) {
        auto r = cpu(VirtAddr(i * SZ_4M + 8), Access::Read, Privilege::User);
        ASSERT_TRUE(r.ok) << i;
        EXPECT_EQ(r.phys, PhysAddr(i * PAGE_SIZE + 8));
    }
    for (uint64_t i = 0; i < ok; ++i) EXPECT_TRUE(shadow_->clear(VirtAddr(i * SZ_4M)));
    EXPECT_EQ(shadow_->tables_in_use(), 1u);
}

TEST(MmuShadowArgsTest, PaeRootMustSitBelow4GiB) {
    HostBuffer pool(4 * PAGE_SIZE), root(PAGE_SIZE);
    EXPECT_THROW(ShadowPageTables(ShadowFormat::PAE, pool.p, kPhysTop - pool.n, pool.n, root.p, 1ull << 32),
                 std::invalid_argument);
    EXPECT_THROW(ShadowPageTables(ShadowFormat::PAE, pool.p, kPhysTop - pool.n, pool.n, nullptr, 0x1000),
                 std::invalid_argument);
    EXPECT_THROW(ShadowPageTables(ShadowFormat::LongMode4, pool.p, kPhysTop, pool.n), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Mmu, MmuShadowTest, ::testing::Values(ShadowFormat::LongMode4, ShadowFormat::PAE),
                         [](const auto& info) {
                             return std::string(info.param == ShadowFormat::PAE ? "PAE" : "LongMode4");
                         });

}  // namespace
