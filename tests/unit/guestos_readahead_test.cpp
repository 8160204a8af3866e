// Read-ahead's state machine on a bare page cache (mm/readahead.c): the windows a sequential
// reader gets, where PG_readahead goes, what a random reader and the advice change, and the
// mmap read-around, checked against the sizes Linux's get_init_ra_size / get_next_ra_size give.
#include <gtest/gtest.h>

#include <memory>
#include <tuple>
#include <vector>

#include "guestos/include/fs.h"
#include "guestos/include/mm_types.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/readahead.h"
#include "guestos/mm/vmscan.h"
#include "guestos_test_util.h"

using namespace guestos;

namespace {

constexpr uint64_t P = 4096;
using Window = std::tuple<uint64_t, uint64_t, uint64_t>;  // start, size, async_size

class GuestosReadaheadTest : public ReclaimRamTest {
protected:
    void SetUp() override {
        ReclaimRamTest::SetUp();
        ASSERT_FALSE(HasFatalFailure());
        ino_ = std::make_shared<inode>();
        ino_->i_mode = S_IFREG | 0644;
        ino_->i_data.a_ops = &host_file_aops;
        ino_->i_data.host = ino_.get();
        ino_->i_data.km = kernel_mem{ram_.get(), buddy_.get(), nullptr, nullptr};
    }
    void TearDown() override {
        filp_.reset();
        truncate_inode_pages(ino_->i_data, 0);
        ino_.reset();
    }
    // A host-backed file of n pages, opened.
    void make_file(uint64_t n) {
        ino_->contents.assign(n * P, 7);
        ino_->i_size = n * P;
        filp_ = std::make_shared<inode_file>(ino_);
    }
    long pread(uint64_t pos, uint64_t n) {
        std::vector<uint8_t> buf(n);
        return filemap_read(*ino_, buf.data(), n, static_cast<int64_t>(pos), filp_.get());
    }
    Window window() const { return {filp_->f_ra.start, filp_->f_ra.size, filp_->f_ra.async_size}; }
    bool cached(uint64_t index) { return find_get_page(ino_->i_data, index).has_value(); }
    bool marked(uint64_t index) {
        auto f = find_get_page(ino_->i_data, index);
        return f && (buddy_->phys_to_page(*f).flags & PG_readahead);
    }
    std::vector<uint64_t> marks(uint64_t n) {
        std::vector<uint64_t> out;
        for (uint64_t i = 0; i < n; ++i)
            if (marked(i)) out.push_back(i);
        return out;
    }

    std::shared_ptr<inode> ino_;
    std::shared_ptr<inode_file> filp_;
};

TEST(GuestosReadaheadSizes, InitialWindowIsFourTimesASmallReadTwiceAMediumOneElseTheMax) {
    EXPECT_EQ(get_init_ra_size(1, 32), 4u);  // 1 <= 32/32
    EXPECT_EQ(get_init_ra_size(2, 32), 4u);  // 2 <= 32/4
    EXPECT_EQ(get_init_ra_size(3, 32), 8u);  // rounded up to 4
    EXPECT_EQ(get_init_ra_size(8, 32), 16u);
    EXPECT_EQ(get_init_ra_size(9, 32), 32u);
    EXPECT_EQ(get_init_ra_size(2, 64), 8u);  // POSIX_FADV_SEQUENTIAL doubles ra_pages
}

TEST(GuestosReadaheadSizes, NextWindowQuadruplesWhileSmallThenDoublesUpToTheMax) {
    file_ra_state ra;
    std::vector<uint64_t> sizes;
    ra.size = 1;
    for (int i = 0; i < 6; ++i) sizes.push_back(ra.size = get_next_ra_size(ra, 32));
    EXPECT_EQ(sizes, (std::vector<uint64_t>{4, 8, 16, 32, 32, 32}));
}

TEST_F(GuestosReadaheadTest, FileStartsWithTheDevicesWindowAndNoHistory) {
    make_file(4);
    EXPECT_EQ(filp_->f_ra.ra_pages, VM_READAHEAD_PAGES);
    EXPECT_EQ(filp_->f_ra.prev_pos, -1);
    EXPECT_EQ(window(), Window(0, 0, 0));
}

TEST_F(GuestosReadaheadTest, SequentialPageReadsRampTheWindowUp4_8_16_32AndMarkEachAsyncPart) {
    make_file(200);
    std::vector<Window> seen;
    for (uint64_t i = 0; i < 100; ++i) {
        ASSERT_EQ(pread(i * P, P), static_cast<long>(P));
        if (seen.empty() || seen.back() != window()) seen.push_back(window());
    }
    // Linux: 4 pages with 3 ahead (the mark on page 1), then 8, 16, 32, 32 pages each read
    // when the reader reaches the previous window's mark.
    EXPECT_EQ(seen, (std::vector<Window>{
                        {0, 4, 3}, {4, 8, 8}, {12, 16, 16}, {28, 32, 32}, {60, 32, 32}, {92, 32, 32}, {124, 32, 32}}));
    EXPECT_EQ(ino_->i_data.nrpages(), 156u);              // pages 0..155
    EXPECT_EQ(marks(200), (std::vector<uint64_t>{124}));  // the marks behind the reader are cleared
    EXPECT_EQ(filp_->f_ra.prev_pos, static_cast<int64_t>(100 * P));
}

TEST_F(GuestosReadaheadTest, FirstReadMarksTheFirstPageOfItsAsyncPart) {
    make_file(64);
    ASSERT_EQ(pread(0, P), static_cast<long>(P));
    EXPECT_EQ(window(), Window(0, 4, 3));
    EXPECT_EQ(ino_->i_data.nrpages(), 4u);
    EXPECT_EQ(marks(64), (std::vector<uint64_t>{1}));
    ASSERT_EQ(pread(P, P), static_cast<long>(P));  // the mark: the next window, 8 pages from 4
    EXPECT_EQ(window(), Window(4, 8, 8));
    EXPECT_EQ(ino_->i_data.nrpages(), 12u);
    EXPECT_EQ(marks(64), (std::vector<uint64_t>{4}));
}

TEST_F(GuestosReadaheadTest, LargerFirstReadGetsTwiceItsSize) {
    make_file(64);
    ASSERT_EQ(pread(0, 4 * P), static_cast<long>(4 * P));
    EXPECT_EQ(window(), Window(0, 8, 4));
    EXPECT_EQ(marks(64), (std::vector<uint64_t>{4}));
}

TEST_F(GuestosReadaheadTest, LoneRandomReadReadsOnlyItsPageAndKeepsTheState) {
    make_file(200);
    ASSERT_EQ(pread(100 * P, P), static_cast<long>(P));
    ASSERT_EQ(pread(37 * P, P), static_cast<long>(P));
    EXPECT_EQ(ino_->i_data.nrpages(), 2u);
    EXPECT_TRUE(cached(100) && cached(37));
    EXPECT_EQ(window(), Window(0, 0, 0));
    EXPECT_TRUE(marks(200).empty());
}

TEST_F(GuestosReadaheadTest, ReadContinuingTheLastOneStartsAWindowThere) {
    make_file(200);
    ASSERT_EQ(pread(100 * P, P), static_cast<long>(P));  // random: alone
    ASSERT_EQ(pread(101 * P, P), static_cast<long>(P));  // follows prev_pos: sequential
    EXPECT_EQ(window(), Window(101, 4, 3));
    EXPECT_TRUE(cached(104) && !cached(105));
}

TEST_F(GuestosReadaheadTest, FadviseRandomReadsExactlyWhatIsAsked) {
    make_file(64);
    EXPECT_EQ(vfs_fadvise(*filp_, 0, 0, POSIX_FADV_RANDOM_), 0);
    for (uint64_t i = 0; i < 8; ++i) ASSERT_EQ(pread(i * P, P), static_cast<long>(P));
    EXPECT_EQ(ino_->i_data.nrpages(), 8u);
    EXPECT_EQ(window(), Window(0, 0, 0));
    EXPECT_EQ(vfs_fadvise(*filp_, 0, 0, POSIX_FADV_NORMAL_), 0);
    EXPECT_FALSE(filp_->f_mode & FMODE_RANDOM);
}

TEST_F(GuestosReadaheadTest, FadviseSequentialDoublesTheMaximum) {
    make_file(200);
    EXPECT_EQ(vfs_fadvise(*filp_, 0, 0, POSIX_FADV_SEQUENTIAL_), 0);
    EXPECT_EQ(filp_->f_ra.ra_pages, 2 * VM_READAHEAD_PAGES);
    for (uint64_t i = 0; i < 100; ++i) ASSERT_EQ(pread(i * P, P), static_cast<long>(P));
    EXPECT_EQ(std::get<1>(window()), 64u);
}

TEST_F(GuestosReadaheadTest, WillneedReadsTheRangeWithoutAWindow) {
    make_file(64);
    EXPECT_EQ(vfs_fadvise(*filp_, 10 * P, 5 * P + 1, POSIX_FADV_WILLNEED_), 0);  // pages 10..15
    EXPECT_EQ(ino_->i_data.nrpages(), 6u);
    EXPECT_TRUE(cached(10) && cached(15) && !cached(16));
    EXPECT_EQ(window(), Window(0, 0, 0));
    EXPECT_TRUE(marks(64).empty());
}

TEST_F(GuestosReadaheadTest, MmapMissReadsAroundTheFaultWithAQuarterAhead) {
    make_file(100);
    vm_area_struct v;
    v.vm_file = filp_;
    do_sync_mmap_readahead(v, 40);
    EXPECT_EQ(window(), Window(24, 32, 8));
    EXPECT_EQ(ino_->i_data.nrpages(), 32u);
    EXPECT_TRUE(cached(24) && cached(55) && !cached(56));
    EXPECT_EQ(marks(100), (std::vector<uint64_t>{48}));
    EXPECT_EQ(filp_->f_ra.mmap_miss, 1u);
    // A hit on the mark reads the next window ahead.
    do_async_mmap_readahead(v, 48, buddy_->phys_to_page(*find_get_page(ino_->i_data, 48)));
    EXPECT_EQ(filp_->f_ra.mmap_miss, 0u);
    EXPECT_EQ(window(), Window(56, 32, 32));
    EXPECT_TRUE(cached(87) && !cached(88));
}

TEST_F(GuestosReadaheadTest, MmapRandomHintReadsNothingAhead) {
    make_file(100);
    vm_area_struct v;
    v.vm_file = filp_;
    v.vm_flags = VM_RAND_READ;
    do_sync_mmap_readahead(v, 40);
    EXPECT_EQ(ino_->i_data.nrpages(), 0u);
}

TEST_F(GuestosReadaheadTest, EventsNameTheLinuxPath) {
    make_file(64);
    ASSERT_EQ(pread(0, P), static_cast<long>(P));
    ASSERT_FALSE(readahead_events().empty());
    const ReadaheadEvent& e = readahead_events().back();
    EXPECT_EQ(e.path, "page_cache_sync_ra -> ondemand_readahead -> page_cache_ra_order -> do_page_cache_ra");
    EXPECT_EQ(e.index, 0u);
    EXPECT_EQ(e.nr, 4u);
    EXPECT_EQ(e.lookahead, 3u);
    EXPECT_EQ(e.read, 4u);
}

TEST_F(GuestosReadaheadTest, OpenFilesAreListedWithTheirState) {
    make_file(64);
    ASSERT_EQ(pread(0, P), static_cast<long>(P));
    bool found = false;
    for (const RaFile& f : readahead_files())
        if (f.filp == filp_.get()) found = f.ra.size == 4 && f.mapping == &ino_->i_data;
    EXPECT_TRUE(found);
    const file* gone = filp_.get();
    filp_.reset();
    for (const RaFile& f : readahead_files()) EXPECT_NE(f.filp, gone);
}

}  // namespace
