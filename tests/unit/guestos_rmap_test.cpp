// Reverse mapping and the page cache on a bare mm (no CPU): from a page to every PTE that
// maps it, through splits, merges, shared and private file mappings, truncate and unmap.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <set>

#include "guestos/include/fs.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/rmap.h"
#include "guestos/mm/shmem.h"
#include "guestos_test_util.h"

using namespace guestos;
using mmu::PhysAddr;
using mmu::VirtAddr;

namespace {

constexpr uint64_t P = 4096;
constexpr uint64_t CHILD_TAG = 1;  // walk() marks the child's addresses with the low bit

// Counts the flushes an mm asks for (the CPU's TLB is not there).
struct CountingTlb final : TlbFlusher {
    int pages = 0, ranges = 0, all = 0;
    void flush_tlb_page(VirtAddr) override { ++pages; }
    void flush_tlb_range(VirtAddr, VirtAddr) override { ++ranges; }
    void flush_tlb_mm() override { ++all; }
};

class GuestosRmapTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto ram = mmu::PhysMemory::create(8 * MiB);
        ASSERT_FALSE(ram.is_error());
        ram_ = ram.release_value();
        buddy_ = std::make_unique<BuddyAllocator>(*ram_);
        mm_.ram = ram_.get();
        mm_.page_alloc = buddy_.get();
        mm_.paging_mode = mmu::PagingMode::LongMode4;
        mm_.tlb = &tlb_;
        mm_.task_size = 1ull << 47;
        mm_.mmap_base = 1ull << 46;
        ASSERT_TRUE(pgd_alloc(mm_));
        free_at_start_ = buddy_->nr_free_pages();
    }
    void TearDown() override {
        if (child_) exit_mmap(*child_);
        exit_mmap(mm_);
        files_.clear();
    }

    // fork's mm: a fresh one with the same memory set-up, filled by dup_mmap.
    mm_struct& fork_mm() {
        child_ = std::make_unique<mm_struct>();
        child_->ram = mm_.ram;
        child_->page_alloc = mm_.page_alloc;
        child_->paging_mode = mm_.paging_mode;
        child_->tlb = &tlb_;
        EXPECT_TRUE(pgd_alloc(*child_));
        EXPECT_EQ(dup_mmap(*child_, mm_), 0);
        return *child_;
    }
    uint8_t read_byte(mm_struct& mm, uint64_t va) {
        uint8_t b = 0;
        EXPECT_TRUE(copy_from_user(mm, &b, VirtAddr(va), 1));
        return b;
    }
    void write_byte(mm_struct& mm, uint64_t va, uint8_t b) { EXPECT_TRUE(copy_to_user(mm, VirtAddr(va), &b, 1)); }

    kernel_mem km() const { return kernel_mem{ram_.get(), buddy_.get(), nullptr, nullptr}; }

    uint64_t mmap_anon(uint64_t pages, uint64_t addr = 0) {
        long r = do_mmap(mm_, nullptr, addr, pages * P, PROT_READ_ | PROT_WRITE_,
                         MAP_PRIVATE_ | MAP_ANONYMOUS_ | (addr ? MAP_FIXED_ : 0), 0);
        EXPECT_GT(r, 0);
        return static_cast<uint64_t>(r);
    }
    // A shmem file of `pages` pages, each page's first byte its index + 1.
    std::shared_ptr<file> shmem_file(uint64_t pages) {
        auto f = shmem_file_setup(km(), "rmap-test");
        for (uint64_t i = 0; i < pages; ++i) {
            const uint8_t b = static_cast<uint8_t>(i + 1);
            EXPECT_EQ(f->write(&b, 1, &(f->f_pos = static_cast<int64_t>(i * P))), 1);
        }
        files_.push_back(f);
        return f;
    }
    uint64_t mmap_file(const std::shared_ptr<file>& f, uint64_t pages, unsigned long type, uint64_t pgoff = 0) {
        long r = do_mmap(mm_, f, 0, pages * P, PROT_READ_ | PROT_WRITE_, type, pgoff);
        EXPECT_GT(r, 0);
        return static_cast<uint64_t>(r);
    }
    void fault(uint64_t va, bool write) {
        vm_area_struct* v = find_vma(mm_, VirtAddr(va));
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(handle_mm_fault(mm_, *v, VirtAddr(va), write ? FAULT_FLAG_WRITE : 0u) & VM_FAULT_ERROR, 0u);
    }
    PhysAddr frame_at(uint64_t va) {
        const pte_t pte = get_pte(mm_, VirtAddr(va));
        EXPECT_FALSE(pte_none(pte)) << std::hex << va;
        return pte_phys(pte);
    }
    // Where rmap_walk says the page at frame may be mapped.
    std::set<uint64_t> walk(PhysAddr frame) {
        std::set<uint64_t> at;
        rmap_walk(buddy_->phys_to_page(frame),
                  [&](vm_area_struct& v, VirtAddr a) { at.insert(a.value + (v.vm_mm == &mm_ ? 0 : CHILD_TAG)); });
        return at;
    }

    std::unique_ptr<mmu::PhysMemory> ram_;
    std::unique_ptr<BuddyAllocator> buddy_;
    CountingTlb tlb_;
    mm_struct mm_;
    std::vector<std::shared_ptr<file>> files_;
    std::unique_ptr<mm_struct> child_;
    uint64_t free_at_start_ = 0;
};

TEST_F(GuestosRmapTest, AnonymousPageIsFoundThroughItsAnonVmaAcrossSplitAndMerge) {
    const uint64_t a = mmap_anon(8);
    fault(a + 5 * P, true);
    const PhysAddr f = frame_at(a + 5 * P);
    vm_area_struct* v = find_vma(mm_, VirtAddr(a));
    ASSERT_NE(v->anon_vma, nullptr);
    EXPECT_EQ(buddy_->phys_to_page(f).mapping, v->anon_vma);
    EXPECT_EQ(walk(f), std::set<uint64_t>{a + 5 * P});

    // mprotect splits the VMA in three: both new VMAs link to the same anon_vma.
    ASSERT_EQ(do_mprotect(mm_, a + 2 * P, 2 * P, PROT_READ_), 0);
    EXPECT_EQ(mm_.map_count, 3);
    struct anon_vma* av = find_vma(mm_, VirtAddr(a))->anon_vma;
    EXPECT_EQ(av->rb_root.size(), 3u);
    EXPECT_EQ(find_vma(mm_, VirtAddr(a + 6 * P))->anon_vma, av);
    EXPECT_EQ(walk(f), std::set<uint64_t>{a + 5 * P});  // only the VMA covering its index

    // Restoring the protection merges them back; the survivor keeps one chain.
    ASSERT_EQ(do_mprotect(mm_, a + 2 * P, 2 * P, PROT_READ_ | PROT_WRITE_), 0);
    EXPECT_EQ(mm_.map_count, 1);
    EXPECT_EQ(av->rb_root.size(), 1u);
    EXPECT_EQ(walk(f), std::set<uint64_t>{a + 5 * P});
}

TEST_F(GuestosRmapTest, TryToUnmapClearsEveryPteAndKeepsThePageForItsHolder) {
    const uint64_t a = mmap_anon(4);
    fault(a + P, true);
    const PhysAddr f = frame_at(a + P);
    page& p = buddy_->phys_to_page(f);
    ++p._refcount;  // the caller's reference (reclaim holds one while unmapping)
    const uint64_t rss = mm_.rss_anon;
    const int flushes = tlb_.pages;
    EXPECT_EQ(try_to_unmap(*buddy_, f), 1);
    EXPECT_TRUE(pte_none(get_pte(mm_, VirtAddr(a + P))));
    EXPECT_EQ(mm_.rss_anon, rss - 1);
    EXPECT_GT(tlb_.pages, flushes);
    EXPECT_EQ(p._refcount, 1);
    EXPECT_EQ(p._mapcount, -1);
    EXPECT_EQ(p.mapping, nullptr);  // it left its anon_vma
    EXPECT_TRUE(check_mm(mm_).empty());
    EXPECT_EQ(try_to_unmap(*buddy_, f), 0) << "nothing maps it any more";
    buddy_->free_page(f);
}

TEST_F(GuestosRmapTest, FilePageIsFoundInEveryMappingOfTheFile) {
    auto f = shmem_file(8);
    const uint64_t s1 = mmap_file(f, 8, MAP_SHARED_);
    const uint64_t s2 = mmap_file(f, 4, MAP_SHARED_, 4);  // file pages 4..7
    const uint64_t pv = mmap_file(f, 8, MAP_PRIVATE_);
    EXPECT_EQ(f->f_inode->i_data.i_mmap.size(), 3u);
    fault(s1 + 5 * P, false);
    fault(s2 + 1 * P, false);
    fault(pv + 5 * P, false);
    const PhysAddr page5 = frame_at(s1 + 5 * P);
    EXPECT_EQ(frame_at(s2 + P), page5);
    EXPECT_EQ(frame_at(pv + 5 * P), page5);  // a private mapping reads the cached page itself
    EXPECT_EQ(walk(page5), (std::set<uint64_t>{s1 + 5 * P, s2 + P, pv + 5 * P}));
    // A write to the private mapping copies; the copy is anonymous, the cache page unchanged.
    fault(pv + 5 * P, true);
    EXPECT_NE(frame_at(pv + 5 * P), page5);
    EXPECT_EQ(mm_.cow_breaks, 1u);
    // try_to_unmap finds the two shared PTEs (the private one now maps the copy).
    const int before = buddy_->phys_to_page(page5)._refcount;
    EXPECT_EQ(try_to_unmap(*buddy_, page5), 2);
    EXPECT_EQ(buddy_->phys_to_page(page5)._refcount, before - 2);
    EXPECT_EQ(buddy_->phys_to_page(page5)._refcount, 1) << "the page cache's own reference";
    EXPECT_TRUE(pte_none(get_pte(mm_, VirtAddr(s1 + 5 * P))));
    EXPECT_FALSE(pte_none(get_pte(mm_, VirtAddr(pv + 5 * P))));
    EXPECT_TRUE(check_mm(mm_).empty());
    do_munmap(mm_, s2, 4 * P);
    EXPECT_EQ(f->f_inode->i_data.i_mmap.size(), 2u) << "munmap unlinks the VMA from i_mmap";
}

TEST_F(GuestosRmapTest, IMmapFollowsSplitsAndMerges) {
    auto f = shmem_file(8);
    const uint64_t s = mmap_file(f, 8, MAP_SHARED_);
    fault(s + 6 * P, false);
    const PhysAddr page6 = frame_at(s + 6 * P);
    // Split in three: the upper part covers file pages 4..7 and is re-keyed in i_mmap.
    ASSERT_EQ(do_mprotect(mm_, s + 2 * P, 2 * P, PROT_READ_), 0);
    EXPECT_EQ(f->f_inode->i_data.i_mmap.size(), 3u);
    EXPECT_EQ(f->f_inode->i_data.i_mmap.overlapping(6, 6).size(), 1u);
    EXPECT_EQ(walk(page6), std::set<uint64_t>{s + 6 * P});
    ASSERT_EQ(do_mprotect(mm_, s + 2 * P, 2 * P, PROT_READ_ | PROT_WRITE_), 0);
    EXPECT_EQ(f->f_inode->i_data.i_mmap.size(), 1u);
    EXPECT_EQ(walk(page6), std::set<uint64_t>{s + 6 * P});
    // Unmapping the first half leaves one VMA keyed [4, 7].
    ASSERT_EQ(do_munmap(mm_, s, 4 * P), 0);
    EXPECT_TRUE(f->f_inode->i_data.i_mmap.overlapping(0, 3).empty());
    EXPECT_EQ(f->f_inode->i_data.i_mmap.overlapping(4, 4).size(), 1u);
    EXPECT_EQ(walk(page6), std::set<uint64_t>{s + 6 * P});
}

TEST_F(GuestosRmapTest, ForkSharesPagesCopyOnWriteAndRmapFindsBothSides) {
    const uint64_t a = mmap_anon(4);
    write_byte(mm_, a, 'A');
    write_byte(mm_, a + P, 'B');
    const PhysAddr f0 = frame_at(a), f1 = frame_at(a + P);
    mm_struct& child = fork_mm();
    EXPECT_EQ(child.map_count, mm_.map_count);
    EXPECT_EQ(child.rss_anon, mm_.rss_anon);
    // The same frames, write-protected on both sides; the page is found in both mms.
    EXPECT_EQ(pte_phys(get_pte(child, VirtAddr(a))), f0);
    EXPECT_FALSE(pte_write(get_pte(mm_, VirtAddr(a))));
    EXPECT_FALSE(pte_write(get_pte(child, VirtAddr(a))));
    EXPECT_EQ(buddy_->phys_to_page(f0)._refcount, 2);
    EXPECT_EQ(walk(f0), (std::set<uint64_t>{a, a + CHILD_TAG}));
    // The child's VMA has an anon_vma of its own, under the parent's root.
    const vm_area_struct* cv = find_vma(child, VirtAddr(a));
    const vm_area_struct* pv = find_vma(mm_, VirtAddr(a));
    ASSERT_NE(cv->anon_vma, nullptr);
    EXPECT_NE(cv->anon_vma, pv->anon_vma);
    EXPECT_EQ(cv->anon_vma->root, pv->anon_vma->root);
    // A child write copies; the parent keeps the original and, now its only mapper, reuses it.
    write_byte(child, a, 'c');
    const PhysAddr cf0 = pte_phys(get_pte(child, VirtAddr(a)));
    EXPECT_NE(cf0, f0);
    EXPECT_EQ(buddy_->phys_to_page(cf0).mapping, cv->anon_vma) << "a new page of the child's anon_vma";
    EXPECT_EQ(walk(cf0), std::set<uint64_t>{a + CHILD_TAG}) << "not in the parent's walks";
    EXPECT_EQ(read_byte(mm_, a), 'A');
    EXPECT_EQ(read_byte(child, a), 'c');
    const uint64_t cows = mm_.cow_breaks;
    write_byte(mm_, a, 'a');
    EXPECT_EQ(mm_.cow_breaks, cows) << "wp_page_reuse: the parent was the last mapper";
    EXPECT_EQ(frame_at(a), f0);
    // try_to_unmap of a page still shared clears it in both mms.
    ++buddy_->phys_to_page(f1)._refcount;
    EXPECT_EQ(try_to_unmap(*buddy_, f1), 2);
    EXPECT_TRUE(pte_none(get_pte(mm_, VirtAddr(a + P))));
    EXPECT_TRUE(pte_none(get_pte(child, VirtAddr(a + P))));
    buddy_->free_page(f1);
    EXPECT_TRUE(check_mm(mm_).empty());
    EXPECT_TRUE(check_mm(child).empty());
}

TEST_F(GuestosRmapTest, ForkKeepsSharedFileMappingsShared) {
    auto f = shmem_file(2);
    const uint64_t s = mmap_file(f, 2, MAP_SHARED_);
    write_byte(mm_, s, 'p');
    mm_struct& child = fork_mm();
    EXPECT_EQ(f->f_inode->i_data.i_mmap.size(), 2u);
    write_byte(child, s, 'k');  // a shared mapping: both sides see it
    EXPECT_EQ(read_byte(mm_, s), 'k');
    EXPECT_EQ(walk(frame_at(s)), (std::set<uint64_t>{s, s + CHILD_TAG}));
    exit_mmap(child);
    EXPECT_EQ(f->f_inode->i_data.i_mmap.size(), 1u);
    EXPECT_EQ(buddy_->phys_to_page(frame_at(s))._refcount, 2) << "the cache's and the parent's";
}

TEST_F(GuestosRmapTest, PageReferencedCountsAndClearsAccessedBits) {
    auto f = shmem_file(2);
    const uint64_t s1 = mmap_file(f, 2, MAP_SHARED_);
    const uint64_t s2 = mmap_file(f, 2, MAP_SHARED_);
    fault(s1, false);
    fault(s2, false);
    const PhysAddr page0 = frame_at(s1);
    EXPECT_EQ(page_referenced(*buddy_, page0), 2);
    EXPECT_FALSE(pte_young(get_pte(mm_, VirtAddr(s1))));
    EXPECT_EQ(page_referenced(*buddy_, page0), 0) << "nobody touched it since";
}

TEST_F(GuestosRmapTest, TruncateUnmapsSharedPagesAndPrivateCopiesPastTheNewEnd) {
    auto f = shmem_file(4);
    const uint64_t s = mmap_file(f, 4, MAP_SHARED_);
    const uint64_t pv = mmap_file(f, 4, MAP_PRIVATE_);
    for (uint64_t i = 0; i < 4; ++i) {
        fault(s + i * P, false);
        fault(pv + i * P, true);  // private copies of every page
    }
    const uint64_t pages_before = f->f_inode->i_data.nrpages();
    EXPECT_EQ(pages_before, 4u);
    EXPECT_EQ(f->truncate(P + 10), 0);  // one page and 10 bytes remain
    EXPECT_EQ(f->f_inode->i_data.nrpages(), 2u);
    for (uint64_t i = 0; i < 2; ++i) {
        EXPECT_FALSE(pte_none(get_pte(mm_, VirtAddr(s + i * P)))) << i;
        EXPECT_FALSE(pte_none(get_pte(mm_, VirtAddr(pv + i * P)))) << i;
    }
    for (uint64_t i = 2; i < 4; ++i) {
        EXPECT_TRUE(pte_none(get_pte(mm_, VirtAddr(s + i * P)))) << i;
        EXPECT_TRUE(pte_none(get_pte(mm_, VirtAddr(pv + i * P)))) << "even_cows: " << i;
        vm_area_struct* v = find_vma(mm_, VirtAddr(s + i * P));
        EXPECT_EQ(handle_mm_fault(mm_, *v, VirtAddr(s + i * P), 0), VM_FAULT_SIGBUS) << i;
    }
    // The partial page's tail was zeroed in the cache: byte 10 onwards of page 1.
    uint8_t b = 0xff;
    int64_t pos = P + 9;
    EXPECT_EQ(f->read(&b, 1, &pos), 1);
    EXPECT_EQ(b, 0);
    EXPECT_TRUE(check_mm(mm_).empty());
}

TEST_F(GuestosRmapTest, ShmemPagesCountAsShmemAndCachedOnTheAnonLru) {
    auto f = shmem_file(5);
    const uint64_t s = mmap_file(f, 5, MAP_SHARED_);
    fault(s, false);
    const page_use_stats u = buddy_->count_page_uses();
    EXPECT_EQ(u.shmem, 5u);
    EXPECT_GE(u[PageUse::File], 5u);
    EXPECT_GE(u.inactive_anon + u.active_anon, 5u);
    EXPECT_EQ(u.dirty, 0u) << "shmem has no dirty accounting";
    EXPECT_GE(u.mapped_file, 1u);
    EXPECT_EQ(mm_.rss_shmem, 5u) << "one read fault, and fault-around mapped the other four";
    EXPECT_EQ(mm_.rss_file, 0u);
}

TEST_F(GuestosRmapTest, PunchingAHoleZeroesPartialPagesAndDropsWholeOnes) {
    auto f = shmem_file(3);
    std::vector<uint8_t> ones(3 * P, 1);
    int64_t pos = 0;
    ASSERT_EQ(f->write(ones.data(), ones.size(), &pos), static_cast<long>(3 * P));
    auto bytes = [&] {
        std::vector<uint8_t> b(3 * P);
        int64_t at = 0;
        EXPECT_EQ(f->read(b.data(), b.size(), &at), static_cast<long>(3 * P));
        return b;
    };
    auto zeros_in = [&](const std::vector<uint8_t>& b, uint64_t from, uint64_t to) {  // [from, to)
        for (uint64_t i = 0; i < b.size(); ++i)
            if ((b[i] == 0) != (i >= from && i < to)) return false;
        return true;
    };
    EXPECT_EQ(shmem_fallocate(*f->f_inode, 3, 10, 11), 0);  // inside page 0
    EXPECT_TRUE(zeros_in(bytes(), 10, 21));
    EXPECT_EQ(f->f_inode->i_data.nrpages(), 3u);
    EXPECT_EQ(shmem_fallocate(*f->f_inode, 3, P, 100), 0);  // page 1's head, page-aligned start
    std::vector<uint8_t> b = bytes();
    EXPECT_EQ(b[P - 1], 1);
    EXPECT_EQ(b[P], 0);
    EXPECT_EQ(b[P + 99], 0);
    EXPECT_EQ(b[P + 100], 1);
    EXPECT_EQ(shmem_fallocate(*f->f_inode, 3, P / 2, 2 * P), 0);  // tail of 0, all of 1, head of 2
    b = bytes();
    EXPECT_EQ(b[P / 2 - 1], 1);
    EXPECT_EQ(b[P / 2], 0);
    EXPECT_EQ(b[2 * P + P / 2 - 1], 0);
    EXPECT_EQ(b[2 * P + P / 2], 1);
    EXPECT_EQ(f->f_inode->i_data.nrpages(), 2u) << "page 1 was wholly inside";
}

TEST_F(GuestosRmapTest, FallocateOutOfMemoryGivesBackWhatItTook) {
    auto f = shmem_file(1);  // page 0 exists before and must stay
    const uint64_t before = buddy_->nr_free_pages();
    EXPECT_EQ(shmem_fallocate(*f->f_inode, 0, 0, 64 * MiB), -ENOSPC);  // more than the 8 MiB of RAM
    EXPECT_EQ(buddy_->nr_free_pages(), before);
    EXPECT_EQ(f->f_inode->i_data.nrpages(), 1u);
    EXPECT_EQ(f->f_inode->i_size, 1u) << "a failed fallocate does not extend the file";
    EXPECT_EQ(shmem_fallocate(*f->f_inode, 0, 0, 4 * P), 0);
    EXPECT_EQ(f->f_inode->i_data.nrpages(), 4u);
}

TEST_F(GuestosRmapTest, EverythingIsGivenBackAfterUnmappingAndClosing) {
    {
        auto f = shmem_file(16);
        const uint64_t s = mmap_file(f, 16, MAP_SHARED_);
        const uint64_t a = mmap_anon(16);
        for (uint64_t i = 0; i < 16; ++i) {
            fault(s + i * P, i % 2);
            fault(a + i * P, true);
        }
        do_munmap(mm_, s, 16 * P);
        do_munmap(mm_, a, 16 * P);
        files_.clear();
    }
    // The page tables stay (free_pgtables runs at exit), everything else is back.
    const uint64_t pgtables = mm_.pgtables_bytes / P;
    EXPECT_EQ(buddy_->nr_free_pages() + pgtables - 1, free_at_start_);
}

}  // namespace
