// Swap on a bare mm (no CPU): swap entries in x86 PTEs, mkswap headers, swap_map counts,
// and anonymous pages going out through shrink_node and back through do_swap_page, alone
// and shared with a fork (mm/swapfile.c, swap_state.c, page_io.c, vmscan.c, memory.c).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "guestos/include/swapops.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/page_io.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/swap_state.h"
#include "guestos/mm/swapfile.h"
#include "guestos/mm/vmscan.h"
#include "guestos_test_util.h"

using namespace guestos;
using mmu::PagingMode;
using mmu::PhysAddr;
using mmu::VirtAddr;

namespace {

constexpr uint64_t P = 4096;

// A scratch swap file made by the real mkswap.
std::string make_swapfile(const std::string& name, const char* size) {
    const std::string path = ::testing::TempDir() + "emu_swap_" + name + "_" + std::to_string(::getpid());
    const std::string cmd = std::string(EMU_SOURCE_DIR) + "/scripts/make-swapfile " + path + " " + size;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return path;
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); }

TEST(SwapEntry, X86_64AndPaeKeepTheInvertedOffsetAboveTheProtnoneBit) {
    for (PagingMode m : {PagingMode::LongMode4, PagingMode::PAE}) {
        const pte_t pte = swp_entry_to_pte(m, swp_entry(0, 1));
        EXPECT_EQ(pte_val(pte), 0x07fffffffffffc00ull);  // ~1 << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS
        EXPECT_TRUE(is_swap_pte(pte));
        EXPECT_FALSE(pte_present(pte));
        EXPECT_EQ(pte_val(swp_entry_to_pte(m, swp_entry(3, 0))) >> 59, 3u) << "the type in bits 59-63";
        for (uint64_t off : {uint64_t{1}, uint64_t{2}, uint64_t{12345}, swapfile_maximum_size(m) - 1}) {
            for (unsigned type : {0u, 1u, 31u}) {
                const swp_entry_t e = pte_to_swp_entry(m, swp_entry_to_pte(m, swp_entry(type, off)));
                EXPECT_EQ(swp_type(e), type);
                EXPECT_EQ(swp_offset(e), off);
            }
        }
    }
}

TEST(SwapEntry, TwoLevelKeepsTheTypeInBits1To5AndTheOffsetFromBit9) {
    EXPECT_EQ(pte_val(swp_entry_to_pte(PagingMode::Legacy32, swp_entry(1, 5))), 0xa02u);
    EXPECT_EQ(pte_val(swp_entry_to_pte(PagingMode::Legacy32, swp_entry(0, (1u << 23) - 1))), 0xfffffe00u);
    const swp_entry_t e = pte_to_swp_entry(PagingMode::Legacy32, __pte(0xa02u));
    EXPECT_EQ(swp_type(e), 1u);
    EXPECT_EQ(swp_offset(e), 5u);
    // Type 2 sets bit 2 (_PAGE_USER): still a swap entry, not a PROT_NONE page.
    const pte_t t2 = swp_entry_to_pte(PagingMode::Legacy32, swp_entry(2, 7));
    EXPECT_TRUE(pte_user(t2));
    EXPECT_TRUE(is_swap_pte(t2));
    EXPECT_FALSE(pte_protnone(t2));
    EXPECT_EQ(swapfile_maximum_size(PagingMode::Legacy32), 1ull << 23);
}

class SwapHeaderTest : public ::testing::Test {
protected:
    void TearDown() override {
        swap_reset_all();
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    std::string refused(const std::vector<uint8_t>& image) {
        write_file(path_, image);
        auto r = swapon_file(path_, PagingMode::LongMode4);
        return r.is_error() ? r.error().message : "accepted";
    }
    std::string path_ = make_swapfile("hdr", "1M");
};

TEST_F(SwapHeaderTest, MkswapAreaIsAcceptedAndShownInProcSwaps) {
    auto r = swapon_file(path_, PagingMode::LongMode4);
    ASSERT_FALSE(r.is_error()) << r.error().message;
    EXPECT_EQ(total_swap_pages(), 255u) << "256 pages less the header";
    EXPECT_EQ(get_nr_swap_pages(), 255u);
    const std::string s = proc_swaps();
    EXPECT_EQ(s.substr(0, s.find('\n')), "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority");
    EXPECT_NE(s.find("file\t\t1020\t\t0\t\t-2\n"), std::string::npos) << s;
    EXPECT_EQ(swapon_file(path_, PagingMode::LongMode4).error().errno_value, EBUSY);
}

// Swap priorities (setup_swap_info, get_swap_pages, swapoff): areas without one get -2, -3,
// ... in swapon order; the highest priority is used first, equal ones take turns.
TEST_F(SwapHeaderTest, AreasAreUsedByPriorityAndEqualOnesTakeTurns) {
    const std::string b = make_swapfile("prio_b", "1M"), c = make_swapfile("prio_c", "1M");
    const std::string d = make_swapfile("prio_d", "1M");
    const unsigned ta = swapon_file(path_, PagingMode::LongMode4).value();
    const unsigned tb = swapon_file(b, PagingMode::LongMode4).value();
    EXPECT_EQ(swp_swap_info(swp_entry(ta, 1))->prio, -2);
    EXPECT_EQ(swp_swap_info(swp_entry(tb, 1))->prio, -3);
    EXPECT_NE(proc_swaps().find("file\t\t1020\t\t0\t\t-3\n"), std::string::npos) << proc_swaps();
    EXPECT_EQ(swp_type(get_swap_page()), ta) << "-2 before -3";
    const unsigned tc = swapon_file(c, PagingMode::LongMode4, 5).value();
    const unsigned td = swapon_file(d, PagingMode::LongMode4, 5).value();
    std::vector<unsigned> order;
    for (int i = 0; i < 4; ++i) order.push_back(swp_type(get_swap_page()));
    EXPECT_EQ(order, (std::vector<unsigned>{tc, td, tc, td})) << "priority 5 first, round-robin";
    for (int i = 0; i < 2 * 255 - 4; ++i) ASSERT_NE(get_swap_page().val, 0u);
    EXPECT_EQ(swp_type(get_swap_page()), ta) << "both 5s full: then -2";
    EXPECT_NE(proc_swaps().find("file\t\t1020\t\t1020\t\t5\n"), std::string::npos) << proc_swaps();
    // swapoff of an area without priority moves the ones below it up.
    auto ram = mmu::PhysMemory::create(4 * MiB).release_value();
    BuddyAllocator bare(*ram);
    EXPECT_EQ(swapoff_type(bare, ta), -ENOMEM) << "a slot is still in use (SWAP_HAS_CACHE)";
    swap_reset_all();
    ASSERT_FALSE(swapon_file(path_, PagingMode::LongMode4).is_error());
    const unsigned t2 = swapon_file(b, PagingMode::LongMode4).value();
    const unsigned t3 = swapon_file(c, PagingMode::LongMode4).value();
    ASSERT_EQ(swapoff_type(bare, t2), 0);
    EXPECT_EQ(swp_swap_info(swp_entry(t3, 1))->prio, -3) << "-4 moved up";
    const unsigned t4 = swapon_file(b, PagingMode::LongMode4).value();
    EXPECT_EQ(swp_swap_info(swp_entry(t4, 1))->prio, -4);
    for (const std::string& f : {b, c, d}) ::unlink(f.c_str());
}

TEST_F(SwapHeaderTest, BadHeadersAreRefusedWithTheReason) {
    const std::vector<uint8_t> good = read_file(path_);
    ASSERT_EQ(good.size(), 1u << 20);
    auto with = [&](auto change) {
        std::vector<uint8_t> b = good;
        change(b);
        return refused(b);
    };
    EXPECT_NE(with([](auto& b) { b[P - 10] = 'X'; }).find("Unable to find swap-space signature"), std::string::npos);
    EXPECT_NE(with([](auto& b) { put32(b, 1024, 2); }).find("Unable to handle swap header version 2"),
              std::string::npos);
    EXPECT_NE(with([](auto& b) { put32(b, 1028, 0); }).find("Empty swap-file"), std::string::npos);
    EXPECT_NE(with([](auto& b) { put32(b, 1028, 1000); }).find("Swap area shorter than signature"), std::string::npos);
    EXPECT_NE(with([](auto& b) { put32(b, 1032, 1); }).find("bad pages"), std::string::npos);
    EXPECT_NE(refused(std::vector<uint8_t>(good.begin(), good.begin() + 2048)).find("too small"), std::string::npos);
    for (const auto& m : {with([](auto& b) { b[P - 1] = 0; })})
        EXPECT_EQ(m.rfind(path_, 0), 0u) << "the message names the file: " << m;
    EXPECT_EQ(total_swap_pages(), 0u);
    EXPECT_EQ(with([](auto&) {}), "accepted");
}

TEST_F(SwapHeaderTest, SwapMapCountsPastSwapMapMaxAndFreesTheSlotAtZero) {
    ASSERT_FALSE(swapon_file(path_, PagingMode::LongMode4).is_error());
    const swp_entry_t e = get_swap_page();
    ASSERT_NE(e.val, 0u);
    EXPECT_EQ(swp_offset(e), 1u) << "slot 0 is the header";
    EXPECT_EQ(get_nr_swap_pages(), 254u);
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(swap_duplicate(e));
    EXPECT_EQ(__swap_count(e), 200u) << "COUNT_CONTINUED carries past SWAP_MAP_MAX";
    put_swap_page(e);  // the cache lets go; the PTEs still hold it
    EXPECT_EQ(get_nr_swap_pages(), 254u);
    for (int i = 0; i < 200; ++i) swap_free(e);
    EXPECT_EQ(__swap_count(e), 0u);
    EXPECT_EQ(get_nr_swap_pages(), 255u);
    EXPECT_FALSE(swap_duplicate(e)) << "a free slot cannot be shared";
}

TEST_F(SwapHeaderTest, FullSwapGivesNoSlot) {
    ASSERT_FALSE(swapon_file(path_, PagingMode::LongMode4).is_error());
    for (int i = 0; i < 255; ++i) ASSERT_NE(get_swap_page().val, 0u);
    EXPECT_EQ(get_swap_page().val, 0u);
    EXPECT_FALSE(vm_swap_full() == false);
}

// Anonymous memory on a bare mm in 16 MiB of RAM with a 32 MiB swap file.
class GuestosSwapTest : public ReclaimRamTest {
protected:
    void SetUp() override {
        ReclaimRamTest::SetUp();
        ASSERT_FALSE(HasFatalFailure());
        swap_kernel_mem() = kernel_mem{ram_.get(), buddy_.get(), nullptr, nullptr};
        init_mm(parent_);
        path_ = make_swapfile("mm", "32M");
        ASSERT_FALSE(swapon_file(path_, PagingMode::LongMode4).is_error());
    }
    void TearDown() override {
        if (child_) exit_mmap(*child_);
        exit_mmap(parent_);
        EXPECT_EQ(total_swapcache_pages(), 0u);
        EXPECT_EQ(get_nr_swap_pages(), total_swap_pages()) << "every slot came back";
        swap_reset_all();
        swap_kernel_mem() = {};
        ::unlink(path_.c_str());
    }
    void init_mm(mm_struct& mm) {
        mm.ram = ram_.get();
        mm.page_alloc = buddy_.get();
        mm.paging_mode = PagingMode::LongMode4;
        mm.task_size = 1ull << 47;
        mm.mmap_base = 1ull << 46;
        ASSERT_TRUE(pgd_alloc(mm));
    }
    uint64_t anon(uint64_t pages) {
        const long a =
            do_mmap(parent_, nullptr, 0, pages * P, PROT_READ_ | PROT_WRITE_, MAP_PRIVATE_ | MAP_ANONYMOUS_, 0);
        EXPECT_GT(a, 0);
        return static_cast<uint64_t>(a);
    }
    void fault(mm_struct& mm, uint64_t va, bool write) {
        vm_area_struct* v = find_vma(mm, VirtAddr(va));
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(handle_mm_fault(mm, *v, VirtAddr(va), write ? FAULT_FLAG_WRITE : 0u) & VM_FAULT_ERROR, 0u);
    }
    uint8_t* bytes(mm_struct& mm, uint64_t va) {
        const pte_t pte = get_pte(mm, VirtAddr(va));
        EXPECT_TRUE(pte_hw_present(pte));
        return ram_->host(pte_phys(pte), P);
    }
    // Writes page i's pattern: its number in every word.
    void fill(uint64_t base, uint64_t pages) {
        for (uint64_t i = 0; i < pages; ++i) {
            fault(parent_, base + i * P, true);
            uint8_t* b = bytes(parent_, base + i * P);
            for (uint64_t w = 0; w < P; w += 8) std::memcpy(b + w, &i, 8);
        }
    }
    bool holds(mm_struct& mm, uint64_t va, uint64_t i) {
        uint8_t* b = bytes(mm, va);
        for (uint64_t w = 0; w < P; w += 8)
            if (std::memcmp(b + w, &i, 8) != 0) return false;
        return true;
    }
    // Reclaims as kswapd would, at the lowest priority: every list scanned.
    uint64_t reclaim_all() {
        scan_control sc;
        sc.nr_to_reclaim = ~0ull;
        sc.priority = 0;
        sc.swappiness = 200;
        uint64_t freed = 0;
        for (int pass = 0; pass < 4; ++pass) freed += shrink_node(*buddy_, sc);  // two to age, two to evict
        return freed;
    }
    uint64_t swap_ptes(mm_struct& mm, uint64_t base, uint64_t pages) {
        uint64_t n = 0;
        for (uint64_t i = 0; i < pages; ++i) n += is_swap_pte(get_pte(mm, VirtAddr(base + i * P)));
        return n;
    }
    // What --check-mm checks: each slot's count against the swap PTEs of both mms.
    std::vector<std::string> check_counts(uint64_t base, uint64_t pages) {
        std::unordered_map<uint64_t, uint64_t> ptes;
        for (mm_struct* mm : {&parent_, child_.get()}) {
            if (!mm) continue;
            for (uint64_t i = 0; i < pages; ++i)
                if (pte_t pte = get_pte(*mm, VirtAddr(base + i * P)); is_swap_pte(pte))
                    ++ptes[pte_to_swp_entry(mm->paging_mode, pte).val];
        }
        return check_swap_map(ptes);
    }

    mm_struct parent_;
    std::unique_ptr<mm_struct> child_;
    std::string path_;
};

TEST_F(GuestosSwapTest, ReclaimSwapsAnonymousPagesOutAndFaultsBringThemBackByteExact) {
    const uint64_t n = 256, a = anon(n);
    fill(a, n);
    EXPECT_EQ(parent_.rss_anon, n);
    EXPECT_GT(reclaim_all(), 0u);
    const uint64_t out = swap_ptes(parent_, a, n);
    EXPECT_GT(out, n / 2) << "cold anonymous pages went to swap";
    EXPECT_EQ(parent_.swapents, out);
    EXPECT_EQ(parent_.rss_anon, n - out);
    EXPECT_EQ(buddy_->vm_event(PSWPOUT), out);
    EXPECT_TRUE(check_counts(a, n).empty());
    for (uint64_t i = 0; i < n; ++i) {
        fault(parent_, a + i * P, false);
        EXPECT_TRUE(holds(parent_, a + i * P, i)) << "page " << i;
    }
    EXPECT_EQ(parent_.swapents, 0u);
    EXPECT_GT(buddy_->vm_event(PSWPIN), 0u);
    EXPECT_TRUE(check_counts(a, n).empty());
    EXPECT_TRUE(check_mm(parent_).empty());
    EXPECT_CONSISTENT(*buddy_);
}

TEST_F(GuestosSwapTest, CheckMmComparesEverySlotCountWithTheSwapPtesOfEveryMm) {
    const uint64_t n = 64, a = anon(n);
    fill(a, n);
    child_ = std::make_unique<mm_struct>();
    init_mm(*child_);
    ASSERT_EQ(dup_mmap(*child_, parent_), 0);
    reclaim_all();
    ASSERT_TRUE(is_swap_pte(get_pte(parent_, VirtAddr(a))));
    EXPECT_TRUE(check_mm(parent_).empty()) << "the child's PTEs count too";
    const swp_entry_t e = pte_to_swp_entry(PagingMode::LongMode4, get_pte(parent_, VirtAddr(a)));
    ASSERT_TRUE(swap_duplicate(e));  // a reference no PTE holds
    const std::vector<std::string> problems = check_mm(parent_);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("counts 3"), std::string::npos) << problems[0];
    EXPECT_NE(problems[0].find("PTEs hold 2"), std::string::npos) << problems[0];
    swap_free(e);
    EXPECT_TRUE(check_mm(*child_).empty());
}

TEST_F(GuestosSwapTest, WriteFaultOfTheLastUserTakesThePageOutOfTheSwapCache) {
    const uint64_t a = anon(64);
    fill(a, 64);
    reclaim_all();
    ASSERT_TRUE(is_swap_pte(get_pte(parent_, VirtAddr(a))));
    const uint64_t free_before = get_nr_swap_pages();
    fault(parent_, a, true);
    const pte_t pte = get_pte(parent_, VirtAddr(a));
    EXPECT_TRUE(pte_write(pte)) << "reuse_swap_page: writable at once";
    const page& p = buddy_->phys_to_page(pte_phys(pte));
    EXPECT_FALSE(p.flags & PG_swapcache);
    EXPECT_EQ(p._refcount, 1);
    EXPECT_EQ(get_nr_swap_pages(), free_before + 1) << "its slot is free again";
    EXPECT_TRUE(holds(parent_, a, 0));
}

TEST_F(GuestosSwapTest, ForkedMappersShareTheSwappedPageThroughTheSwapCache) {
    const uint64_t n = 128, a = anon(n);
    fill(a, n);
    child_ = std::make_unique<mm_struct>();
    init_mm(*child_);
    ASSERT_EQ(dup_mmap(*child_, parent_), 0);
    reclaim_all();
    const uint64_t shared = swap_ptes(parent_, a, n);
    ASSERT_GT(shared, n / 2);
    EXPECT_EQ(swap_ptes(*child_, a, n), shared) << "try_to_unmap reached the child through the anon_vma";
    const swp_entry_t e = pte_to_swp_entry(PagingMode::LongMode4, get_pte(parent_, VirtAddr(a)));
    EXPECT_EQ(__swap_count(e), 2u);
    EXPECT_TRUE(check_counts(a, n).empty());
    // Both read the page: one swap-in, one frame, read-only in both.
    fault(parent_, a, false);
    fault(*child_, a, false);
    const pte_t pp = get_pte(parent_, VirtAddr(a)), cp = get_pte(*child_, VirtAddr(a));
    EXPECT_EQ(pte_phys(pp), pte_phys(cp));
    EXPECT_FALSE(pte_write(pp));
    // The child's write copies; the parent keeps the original.
    fault(*child_, a, true);
    uint8_t* c = bytes(*child_, a);
    c[0] = 0xee;
    EXPECT_TRUE(holds(parent_, a, 0));
    EXPECT_NE(pte_phys(get_pte(*child_, VirtAddr(a))), pte_phys(pp));
    // A page the child never touched comes back for it alone.
    const uint64_t last = a + (n - 1) * P;
    if (is_swap_pte(get_pte(*child_, VirtAddr(last)))) {
        fault(*child_, last, false);
        EXPECT_TRUE(holds(*child_, last, n - 1));
    }
    EXPECT_TRUE(check_counts(a, n).empty());
    EXPECT_TRUE(check_mm(parent_).empty());
    EXPECT_TRUE(check_mm(*child_).empty());
}

TEST_F(GuestosSwapTest, ShmemPagesGoToSwapThroughShmemWritepageAndComeBackByteExact) {
    const uint64_t n = 256;
    const std::shared_ptr<file> f = shmem_zero_setup(kernel_mem{ram_.get(), buddy_.get(), nullptr, nullptr}, n * P, 0);
    inode& ino = *f->f_inode;
    address_space& m = ino.i_data;
    for (uint64_t i = 0; i < n; ++i) {
        auto frame = pagecache_get_page(m, i);
        ASSERT_FALSE(frame.is_error());
        uint8_t* b = ram_->host(frame.value(), P);
        for (uint64_t w = 0; w < P; w += 8) std::memcpy(b + w, &i, 8);
    }
    EXPECT_GT(reclaim_all(), 0u);
    const uint64_t out = m.i_swap.size();
    EXPECT_GT(out, n / 2) << "cold shmem pages went to swap";
    EXPECT_EQ(m.nrpages() + out, n);
    EXPECT_EQ(buddy_->vm_event(PSWPOUT), out);
    EXPECT_EQ(total_swap_pages() - get_nr_swap_pages(), out) << "each swapped page holds its slot";
    EXPECT_TRUE(check_mm(parent_).empty()) << "the mapping's references count";
    for (uint64_t i = 0; i < n; ++i) {
        bool major = false;
        auto frame = pagecache_get_page(m, i, &major);
        ASSERT_FALSE(frame.is_error());
        const uint8_t* b = ram_->host(frame.value(), P);
        for (uint64_t w = 0; w < P; w += 8) ASSERT_EQ(std::memcmp(b + w, &i, 8), 0) << "page " << i;
    }
    EXPECT_TRUE(m.i_swap.empty());
    EXPECT_EQ(get_nr_swap_pages(), total_swap_pages()) << "shmem_swapin freed the slots";
    // Out again, then truncated: the slots come back without a read.
    reclaim_all();
    ASSERT_FALSE(m.i_swap.empty());
    const uint64_t pswpin = buddy_->vm_event(PSWPIN);
    truncate_setsize(ino, 0);
    EXPECT_TRUE(m.i_swap.empty());
    EXPECT_EQ(buddy_->vm_event(PSWPIN), pswpin);
    EXPECT_EQ(get_nr_swap_pages(), total_swap_pages());
}

TEST_F(GuestosSwapTest, SwapoffBringsShmemPagesBack) {
    const uint64_t n = 128;
    const std::shared_ptr<file> f = shmem_zero_setup(kernel_mem{ram_.get(), buddy_.get(), nullptr, nullptr}, n * P, 0);
    address_space& m = f->f_inode->i_data;
    for (uint64_t i = 0; i < n; ++i) ASSERT_FALSE(pagecache_get_page(m, i).is_error());
    reclaim_all();
    ASSERT_FALSE(m.i_swap.empty());
    ASSERT_EQ(swapoff_type(*buddy_, 0), 0);
    EXPECT_TRUE(m.i_swap.empty());
    EXPECT_EQ(m.nrpages(), n);
    ASSERT_FALSE(swapon_file(path_, PagingMode::LongMode4).is_error());
}

TEST_F(GuestosSwapTest, UnmapAndMadviseFreeTheSlots) {
    const uint64_t n = 128, a = anon(n);
    fill(a, n);
    reclaim_all();
    ASSERT_GT(parent_.swapents, 0u);
    ASSERT_EQ(do_munmap(parent_, a, n * P), 0);
    EXPECT_EQ(parent_.swapents, 0u);
    EXPECT_EQ(get_nr_swap_pages(), total_swap_pages());
    EXPECT_EQ(total_swapcache_pages(), 0u);
}

TEST_F(GuestosSwapTest, SwapoffBringsEveryPageBack) {
    const uint64_t n = 128, a = anon(n);
    fill(a, n);
    reclaim_all();
    mmlist_add(parent_);
    ASSERT_GT(parent_.swapents, 0u);
    ASSERT_EQ(swapoff_type(*buddy_, 0), 0);
    EXPECT_EQ(parent_.swapents, 0u);
    EXPECT_EQ(total_swap_pages(), 0u);
    for (uint64_t i = 0; i < n; ++i) EXPECT_TRUE(holds(parent_, a + i * P, i)) << i;
    ASSERT_FALSE(swapon_file(path_, PagingMode::LongMode4).is_error());
}

TEST_F(GuestosSwapTest, SwapoffWithoutRoomInRamFailsWithEnomemAndKeepsTheArea) {
    const uint64_t n = 5000, a = anon(n);  // ~20 MiB: more than the 16 MiB of RAM
    for (uint64_t i = 0; i < n; ++i) {
        fault(parent_, a + i * P, true);
        if (::testing::Test::HasFailure()) {
            std::fprintf(stderr, "i=%lu free=%lu swapfree=%lu inact=%lu act=%lu pswpout=%lu pgscan_direct=%lu\n", i,
                         buddy_->nr_free_pages(), get_nr_swap_pages(),
                         buddy_->node_lruvec()->nr_pages[LRU_INACTIVE_ANON],
                         buddy_->node_lruvec()->nr_pages[LRU_ACTIVE_ANON], buddy_->vm_event(PSWPOUT),
                         buddy_->vm_event(PGSCAN_DIRECT));
            break;
        }
    }
    ASSERT_GT(parent_.swapents, 0u);
    EXPECT_EQ(swapoff_type(*buddy_, 0), -ENOMEM);
    EXPECT_GT(total_swap_pages(), 0u) << "the area is active again";
    EXPECT_TRUE(check_counts(a, n).empty());
}

}  // namespace
