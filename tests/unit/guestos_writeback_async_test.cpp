// Asynchronous writeback completion (block/blk-mq.c, mm/filemap.c folio_end_writeback and
// folio_wait_writeback, mm/page-writeback.c __folio_start_writeback): a page cache whose
// writepage sends bios to a registered emulated disk. A written page stays under writeback
// (PG_writeback, NR_WRITEBACK, the disk's in-flight count) from its dispatch until the
// disk's completion interrupt, BLK_MQ_COMPLETION_NS later, or until someone waits for it:
// fsync, truncation, reclaim, a full queue. The data is on the image from dispatch on.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "devices/block_device.h"
#include "guestos/include/blkdev.h"
#include "guestos/include/fs.h"
#include "guestos/include/mmzone.h"
#include "guestos/include/writeback.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/vmscan.h"
#include "guestos_test_util.h"

using namespace guestos;

namespace {

constexpr uint64_t P = 4096;
constexpr uint64_t DISK_BYTES = 4ull << 20;

devices::BlockDevice* the_disk = nullptr;  // what the test's writepage writes to

long disk_read_folio(address_space&, uint64_t index, uint8_t* dst) {
    return submit_bio_read(*the_disk, index * P, dst, P);
}

// ext2's writepage, reduced: one bio of the page's bytes, ending its writeback when done.
long disk_writepage(address_space&, page& p, const uint8_t* src, bool) {
    return submit_bio_write_page(*the_disk, p.index * P, src, P, mark_page_async_write(p));
}

const address_space_operations disk_aops = {"disk_aops", disk_read_folio, false, disk_writepage};

class AsyncWritebackTest : public ReclaimRamTest {
protected:
    void SetUp() override {
        ReclaimRamTest::SetUp();
        ASSERT_FALSE(HasFatalFailure());
        char tmpl[] = "/tmp/emu_wb_async_XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        image_ = dir_ + "/disk.img";
        std::ofstream(image_, std::ios::binary) << std::string(DISK_BYTES, '\0');
        auto dev = devices::BlockDevice::open(image_, devices::BlockDevice::Mode::ReadWrite);
        ASSERT_FALSE(dev.is_error());
        disk_ = dev.release_value();
        the_disk = disk_.get();
        add_disk(*disk_, "sdw", 8, 32);
        wb_init(ktime_get());
    }
    void TearDown() override {
        for (auto& i : inodes_) truncate_inode_pages(i->i_data, 0);
        inodes_.clear();
        if (disk_) del_gendisk(*disk_);  // completes what is left in flight
        EXPECT_FALSE(blk_mq_next_completion().has_value());
        the_disk = nullptr;
        disk_.reset();
        std::filesystem::remove_all(dir_);
    }
    inode& new_inode() {
        auto i = std::make_shared<inode>();
        i->i_ino = inodes_.size() + 1;
        i->i_mode = S_IFREG | 0644;
        i->i_data.a_ops = &disk_aops;
        i->i_data.host = i.get();
        i->i_data.km = kernel_mem{ram_.get(), buddy_.get(), nullptr, nullptr};
        inodes_.push_back(i);
        return *i;
    }
    void write_pages(inode& i, uint64_t from, uint64_t pages, char c) {
        std::vector<uint8_t> buf(pages * P, static_cast<uint8_t>(c));
        ASSERT_EQ(generic_perform_write(i, buf.data(), buf.size(), static_cast<int64_t>(from * P), UINT64_MAX),
                  static_cast<long>(buf.size()));
    }
    int64_t nstat(node_stat_item item) const { return buddy_->node_page_state(item); }
    page& page_at(inode& i, uint64_t index) {
        auto f = find_get_page(i.i_data, index);
        EXPECT_TRUE(f.has_value());
        return buddy_->phys_to_page(*f);
    }
    // The byte at `offset` of the host image.
    char image_byte(uint64_t offset) const {
        std::ifstream in(image_, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(offset));
        return static_cast<char>(in.get());
    }
    // Field `n` (1-based, after the name) of the disk's /proc/diskstats line.
    static uint64_t diskstat(int n) {
        std::istringstream lines(diskstats_show());
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream f(line);
            std::string major, minor, name;
            f >> major >> minor >> name;
            if (name != "sdw") continue;
            uint64_t v = 0;
            for (int k = 0; k < n; k++) f >> v;
            return v;
        }
        ADD_FAILURE() << "no sdw line in /proc/diskstats";
        return 0;
    }
    static uint64_t in_flight() { return diskstat(9); }
    static uint64_t writes_completed() { return diskstat(5); }

    std::string dir_, image_;
    std::unique_ptr<devices::BlockDevice> disk_;
    std::vector<std::shared_ptr<inode>> inodes_;
};

}  // namespace

TEST_F(AsyncWritebackTest, PagesStayUnderWritebackUntilTheDiskCompletesThem) {
    inode& i = new_inode();
    write_pages(i, 0, 8, 'a');
    const int64_t dirty = nstat(NR_FILE_DIRTY), written = nstat(NR_WRITTEN);
    ASSERT_EQ(filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE), 0);
    // Dispatched: on the image already, but not completed.
    EXPECT_EQ(image_byte(7 * P), 'a');
    EXPECT_EQ(nstat(NR_FILE_DIRTY), dirty - 8);
    EXPECT_EQ(nstat(NR_WRITEBACK), 8);
    EXPECT_EQ(nstat(NR_WRITTEN), written);
    for (uint64_t k = 0; k < 8; k++) EXPECT_TRUE(page_at(i, k).flags & PG_writeback) << k;
    EXPECT_EQ(in_flight(), 1u);  // one merged request
    EXPECT_EQ(writes_completed(), 0u);
    const auto due = blk_mq_next_completion();
    ASSERT_TRUE(due.has_value());
    blk_mq_complete_due(*due - 1);  // the interrupt has not come yet
    EXPECT_EQ(nstat(NR_WRITEBACK), 8);
    blk_mq_complete_due(*due);
    EXPECT_EQ(nstat(NR_WRITEBACK), 0);
    EXPECT_EQ(nstat(NR_WRITTEN), written + 8);
    for (uint64_t k = 0; k < 8; k++) EXPECT_FALSE(page_at(i, k).flags & PG_writeback) << k;
    EXPECT_EQ(in_flight(), 0u);
    EXPECT_EQ(writes_completed(), 1u);
    EXPECT_EQ(diskstat(7), 64u);  // sectors written, counted at completion
    EXPECT_FALSE(blk_mq_next_completion().has_value());
}

TEST_F(AsyncWritebackTest, FsyncReturnsOnlyAfterItsWritesCompleted) {
    inode& i = new_inode();
    write_pages(i, 0, 4, 'f');
    const int64_t written = nstat(NR_WRITTEN);
    ASSERT_EQ(filemap_write_and_wait(i.i_data), 0);
    EXPECT_EQ(nstat(NR_WRITEBACK), 0);
    EXPECT_EQ(nstat(NR_WRITTEN), written + 4);
    EXPECT_EQ(in_flight(), 0u);
    EXPECT_EQ(writes_completed(), 1u);
    EXPECT_FALSE(blk_mq_next_completion().has_value());
    EXPECT_EQ(image_byte(3 * P + 17), 'f');
    EXPECT_FALSE(inode_dirtied_when(i.i_data).has_value());
}

TEST_F(AsyncWritebackTest, TheFlusherStartsWritebackWithoutWaitingForIt) {
    inode& i = new_inode();
    write_pages(i, 0, 6, 'w');
    const ktime_t now = ktime_get();
    wakeup_flusher_threads(now);
    EXPECT_EQ(wb_workfn(*buddy_, now), 0);  // nothing completed yet: nr_written unchanged
    EXPECT_EQ(nstat(NR_WRITEBACK), 6);
    EXPECT_EQ(nstat(NR_FILE_DIRTY), 0);
    EXPECT_FALSE(inode_dirtied_when(i.i_data).has_value());  // clean: off b_dirty
    EXPECT_EQ(in_flight(), 1u);
    blk_mq_complete_due(*blk_mq_next_completion());
    EXPECT_EQ(nstat(NR_WRITEBACK), 0);
}

TEST_F(AsyncWritebackTest, ARewriteUnderWritebackProceedsAndIsWrittenAgain) {
    inode& i = new_inode();
    write_pages(i, 0, 1, 'a');
    ASSERT_EQ(filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE), 0);
    // ext2 has no stable pages (no SB_I_STABLE_WRITES): the write does not wait.
    write_pages(i, 0, 1, 'b');
    page& p = page_at(i, 0);
    EXPECT_TRUE(p.flags & PG_writeback);
    EXPECT_TRUE(p.flags & PG_dirty);
    EXPECT_EQ(nstat(NR_WRITEBACK), 1);
    EXPECT_EQ(nstat(NR_FILE_DIRTY), 1);
    // Background writeback leaves a page under writeback dirty, its inode listed.
    ASSERT_EQ(filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE), 0);
    EXPECT_EQ(nstat(NR_WRITEBACK), 1);
    EXPECT_EQ(nstat(NR_FILE_DIRTY), 1);
    EXPECT_EQ(image_byte(0), 'a');
    EXPECT_TRUE(inode_dirtied_when(i.i_data).has_value());
    // A sync waits for the first write, then writes the page again.
    ASSERT_EQ(filemap_write_and_wait(i.i_data), 0);
    EXPECT_EQ(image_byte(0), 'b');
    EXPECT_EQ(nstat(NR_WRITEBACK), 0);
    EXPECT_EQ(nstat(NR_FILE_DIRTY), 0);
    EXPECT_EQ(writes_completed(), 2u);
}

TEST_F(AsyncWritebackTest, TruncationWaitsForWritebackAndFreesThePages) {
    const uint64_t free_before = buddy_->nr_free_pages();
    inode& i = new_inode();
    write_pages(i, 0, 4, 't');
    ASSERT_EQ(filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE), 0);
    ASSERT_EQ(nstat(NR_WRITEBACK), 4);
    truncate_inode_pages(i.i_data, 0);
    EXPECT_EQ(nstat(NR_WRITEBACK), 0);
    EXPECT_EQ(in_flight(), 0u);
    EXPECT_TRUE(i.i_data.i_pages.empty());
    EXPECT_EQ(buddy_->nr_free_pages(), free_before);  // the writeback's references were dropped
}

TEST_F(AsyncWritebackTest, AFullQueueWaitsForItsOldestRequest) {
    inode& i = new_inode();
    const uint64_t n = BLK_MQ_NR_REQUESTS + 8;
    for (uint64_t k = 0; k < n; k++) write_pages(i, 2 * k, 1, 'q');  // no two pages merge
    ASSERT_EQ(filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE), 0);
    EXPECT_EQ(in_flight(), BLK_MQ_NR_REQUESTS);
    EXPECT_EQ(writes_completed(), 8u);
    EXPECT_EQ(nstat(NR_WRITEBACK), static_cast<int64_t>(BLK_MQ_NR_REQUESTS));
    EXPECT_FALSE(page_at(i, 0).flags & PG_writeback);  // the oldest went first
    EXPECT_TRUE(page_at(i, 2 * (n - 1)).flags & PG_writeback);
}

TEST_F(AsyncWritebackTest, ReclaimWaitsForPagesUnderWritebackThenFreesThem) {
    inode& i = new_inode();
    write_pages(i, 0, 16, 'r');
    ASSERT_EQ(filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE), 0);
    ASSERT_EQ(nstat(NR_WRITEBACK), 16);
    lru_add_drain(*buddy_);
    (void)try_to_free_pages(*buddy_, GFP_KERNEL, 0);
    EXPECT_EQ(nstat(NR_WRITEBACK), 0);  // reclaim_throttle: the writes completed
    EXPECT_EQ(in_flight(), 0u);
    EXPECT_LT(i.i_data.i_pages.size(), 16u);  // and the clean pages went
}

// fadvise(DONTNEED) and drop_caches drop clean pages only (mapping_evict_folio): a page
// still under writeback stays cached, and invalidation does not wait for the disk.
TEST_F(AsyncWritebackTest, InvalidationSkipsPagesUnderWriteback) {
    inode& i = new_inode();
    write_pages(i, 0, 4, 'v');
    ASSERT_EQ(filemap_fdatawrite_wbc(i.i_data, writeback_sync_modes::WB_SYNC_NONE), 0);
    ASSERT_EQ(nstat(NR_WRITEBACK), 4);
    invalidate_mapping_pages(i.i_data, 0, 1);
    EXPECT_EQ(nstat(NR_WRITEBACK), 4);  // nobody waited
    EXPECT_TRUE(find_get_page(i.i_data, 0).has_value());
    EXPECT_TRUE(find_get_page(i.i_data, 1).has_value());
    blk_mq_wait_all();
    EXPECT_EQ(nstat(NR_WRITEBACK), 0);
    invalidate_mapping_pages(i.i_data, 0, 1);  // clean now: dropped
    EXPECT_FALSE(find_get_page(i.i_data, 0).has_value());
    EXPECT_FALSE(find_get_page(i.i_data, 1).has_value());
    EXPECT_TRUE(find_get_page(i.i_data, 2).has_value());
}
