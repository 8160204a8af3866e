// The flusher's decisions (fs/fs-writeback.c, mm/page-writeback.c) on a bare page cache
// whose writepage records what reaches the "disk": the dirty limits domain_dirty_limits
// gives for the vm.dirty_* sysctls (read and written as /proc/sys/vm does), when an inode
// has aged enough for the periodic write (dirty_expire_centisecs) and when that write runs
// (dirty_writeback_centisecs), oldest first, the background threshold, and a writer past
// the dirty threshold writing back itself. Every time is given to the flusher explicitly
// (the guest's clock in emu): no test waits for the host's clock.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "guestos/include/fs.h"
#include "guestos/include/mmzone.h"
#include "guestos/include/sysctl.h"
#include "guestos/include/writeback.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/page-writeback.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/swap.h"
#include "guestos/mm/vmscan.h"
#include "guestos_test_util.h"

using namespace guestos;

namespace {

constexpr uint64_t P = 4096;
constexpr ktime_t SEC = NSEC_PER_SEC;

// The "disk": each page written back, as (inode number, index), in order.
std::vector<std::pair<unsigned long, uint64_t>>& disk_writes() {
    static std::vector<std::pair<unsigned long, uint64_t>> w;
    return w;
}

uint64_t folio_reads = 0;  // read_folio calls

long zero_read_folio(address_space&, uint64_t, uint8_t* dst) {
    ++folio_reads;
    std::memset(dst, 0, P);
    return 0;
}

bool fail_writes = false;  // the disk answers EIO

long record_writepage(address_space& m, page& p, const uint8_t*, bool) {
    if (fail_writes) return -EIO;
    disk_writes().push_back({m.host->i_ino, p.index});
    return 0;
}

const address_space_operations recording_aops = {"recording_aops", zero_read_folio, false, record_writepage};

// writepages calls, as (first index, pages), and the first byte of each page they wrote.
std::vector<std::pair<uint64_t, size_t>> writepages_calls;
std::vector<uint8_t> writepages_bytes;

long record_writepages(address_space&, uint64_t index, const uint8_t* const* pages, size_t nr) {
    if (fail_writes) return -EIO;
    writepages_calls.push_back({index, nr});
    for (size_t i = 0; i < nr; i++) writepages_bytes.push_back(pages[i][0]);
    return 0;
}

const address_space_operations batching_aops = {"batching_aops",  zero_read_folio, false,
                                                record_writepage, nullptr,         record_writepages};

// The sysctl handlers' text interface, as a write to and a read of /proc/sys/vm/NAME.
class VmSysctl {
public:
    VmSysctl() { page_writeback_sysctl_init(root_); }
    long write(const std::string& name, const std::string& text) {
        const ctl_table* t = root_.find_entry("vm", name);
        std::string buf = text;
        buf.push_back('\0');
        size_t len = text.size();
        int64_t pos = 0;
        return t->handler(t, 1, buf.data(), &len, &pos);
    }
    std::string read(const std::string& name) {
        const ctl_table* t = root_.find_entry("vm", name);
        std::string buf(64, '\0');
        size_t len = 63;
        int64_t pos = 0;
        EXPECT_EQ(t->handler(t, 0, buf.data(), &len, &pos), 0);
        return buf.substr(0, len);
    }

private:
    ctl_table_root root_;
};

class GuestosWritebackTest : public ReclaimRamTest {
protected:
    void SetUp() override {
        ReclaimRamTest::SetUp();
        ASSERT_FALSE(HasFatalFailure());
        // Linux's defaults, in the order that leaves each ratio set (a write zeroes its bytes form).
        ASSERT_EQ(sysctl_.write("dirty_background_ratio", "10"), 0);
        ASSERT_EQ(sysctl_.write("dirty_ratio", "20"), 0);
        ASSERT_EQ(sysctl_.write("dirty_expire_centisecs", "3000"), 0);
        ASSERT_EQ(sysctl_.write("dirty_writeback_centisecs", "500"), 0);
        wb_init(ktime_get());
        disk_writes().clear();
        writepages_calls.clear();
        writepages_bytes.clear();
        fail_writes = false;
        folio_reads = 0;
    }
    void TearDown() override {
        for (auto& i : inodes_) truncate_inode_pages(i->i_data, 0);
        inodes_.clear();
        (void)sysctl_.write("dirty_background_ratio", "10");
        (void)sysctl_.write("dirty_ratio", "20");
        (void)sysctl_.write("dirty_expire_centisecs", "3000");
        (void)sysctl_.write("dirty_writeback_centisecs", "500");
    }
    inode& new_inode() {
        auto i = std::make_shared<inode>();
        i->i_ino = inodes_.size() + 1;
        i->i_mode = S_IFREG | 0644;
        i->i_data.a_ops = &recording_aops;
        i->i_data.host = i.get();
        i->i_data.km = kernel_mem{ram_.get(), buddy_.get(), nullptr, nullptr};
        inodes_.push_back(i);
        return *i;
    }
    // pages pages written at page `from` of i, through the write path (generic_perform_write).
    void write_pages(inode& i, uint64_t from, uint64_t pages) {
        std::vector<uint8_t> buf(pages * P, 'w');
        ASSERT_EQ(generic_perform_write(i, buf.data(), buf.size(), static_cast<int64_t>(from * P), UINT64_MAX),
                  static_cast<long>(buf.size()));
    }
    int64_t dirty() const { return buddy_->node_page_state(NR_FILE_DIRTY); }
    int64_t written() const { return buddy_->node_page_state(NR_WRITTEN); }
    uint64_t writes_of(const inode& i) const {
        uint64_t n = 0;
        for (auto& [ino, index] : disk_writes()) n += ino == i.i_ino;
        return n;
    }
    // Runs every flusher turn due up to `until`, in order; the pages they wrote.
    long run_flusher_until(ktime_t until) {
        long wrote = 0;
        while (auto at = wb_dwork_expires()) {
            if (*at > until) break;
            wrote += wb_workfn(*buddy_, *at);
        }
        return wrote;
    }

    VmSysctl sysctl_;
    std::vector<std::shared_ptr<inode>> inodes_;
};

}  // namespace

TEST(GuestosDirtyLimits, RatiosArePerPageSizeOfDirtyableMemoryAsLinuxRoundsThem) {
    VmSysctl s;
    ASSERT_EQ(s.write("dirty_background_ratio", "10"), 0);
    ASSERT_EQ(s.write("dirty_ratio", "20"), 0);
    dirty_throttle_control d;
    d.avail = 1000;
    domain_dirty_limits(d);
    EXPECT_EQ(d.thresh, 199u);    // (20 * 4096 / 100 = 819) * 1000 / 4096
    EXPECT_EQ(d.bg_thresh, 99u);  // 409 * 1000 / 4096
    ASSERT_EQ(s.write("dirty_ratio", "5"), 0);
    domain_dirty_limits(d);
    EXPECT_EQ(d.thresh, 49u);
    EXPECT_EQ(d.bg_thresh, 24u);  // 10% is not under 5%: half the dirty threshold
}

TEST(GuestosDirtyLimits, BytesRoundUpToPagesAndEachFormZeroesTheOther) {
    VmSysctl s;
    ASSERT_EQ(s.write("dirty_bytes", "131072"), 0);
    EXPECT_EQ(s.read("dirty_ratio"), "0\n");
    ASSERT_EQ(s.write("dirty_background_bytes", "4097"), 0);
    EXPECT_EQ(s.read("dirty_background_ratio"), "0\n");
    dirty_throttle_control d;
    d.avail = 1000;
    domain_dirty_limits(d);
    EXPECT_EQ(d.thresh, 32u);
    EXPECT_EQ(d.bg_thresh, 2u);
    EXPECT_EQ(s.write("dirty_bytes", "4096"), -EINVAL);  // under two pages: refused, kept
    EXPECT_EQ(s.read("dirty_bytes"), "131072\n");
    ASSERT_EQ(s.write("dirty_background_ratio", "10"), 0);
    EXPECT_EQ(s.read("dirty_background_bytes"), "0\n");
    ASSERT_EQ(s.write("dirty_ratio", "20"), 0);
    EXPECT_EQ(s.read("dirty_bytes"), "0\n");
}

TEST_F(GuestosWritebackTest, DirtyableMemoryIsFreeAboveTheReservePlusTheFileLru) {
    const uint64_t before = global_dirtyable_memory(*buddy_);
    EXPECT_EQ(before, buddy_->nr_free_pages() - buddy_->totalreserve_pages() + 1);
    inode& i = new_inode();
    write_pages(i, 0, 8);
    lru_add_drain(*buddy_);
    // Eight pages left the free lists for the file LRU: dirtyable memory is unchanged.
    EXPECT_EQ(global_dirtyable_memory(*buddy_), before);
    EXPECT_EQ(global_dirtyable_memory(*buddy_), before);
    EXPECT_EQ(global_dirty_limits(*buddy_).thresh, 819 * before / 4096);
}

TEST_F(GuestosWritebackTest, TheFirstDirtyInodeQueuesTheFlusherOneWritebackIntervalLater) {
    EXPECT_FALSE(wb_dwork_expires());
    inode& a = new_inode();
    write_pages(a, 0, 2);
    const auto when = inode_dirtied_when(a.i_data);
    ASSERT_TRUE(when);
    ASSERT_TRUE(wb_dwork_expires());
    EXPECT_EQ(*wb_dwork_expires(), *when + 5 * SEC);
    // A second inode, and more pages of the first, move neither the timer nor the stamp.
    inode& b = new_inode();
    write_pages(b, 0, 1);
    write_pages(a, 5, 1);
    EXPECT_EQ(*wb_dwork_expires(), *when + 5 * SEC);
    EXPECT_EQ(*inode_dirtied_when(a.i_data), *when);
    EXPECT_GE(*inode_dirtied_when(b.i_data), *when);
    EXPECT_EQ(wb_workfn(*buddy_, *when + 5 * SEC - 1), 0);  // not due yet: nothing runs
    EXPECT_EQ(*wb_dwork_expires(), *when + 5 * SEC);
}

TEST_F(GuestosWritebackTest, AnInodeIsWrittenByThePeriodicRunAfterItsExpiryNotBefore) {
    inode& a = new_inode();
    write_pages(a, 0, 3);
    const ktime_t when = *inode_dirtied_when(a.i_data);
    // The runs every 5 s before 30 s have passed write nothing and re-queue themselves.
    EXPECT_EQ(run_flusher_until(when + 30 * SEC - 1), 0);
    EXPECT_EQ(dirty(), 3);
    EXPECT_EQ(*wb_dwork_expires(), when + 30 * SEC);
    // The run at 30 s writes the inode whole; clean, it leaves the list; nothing re-queues.
    EXPECT_EQ(wb_workfn(*buddy_, when + 30 * SEC), 3);
    EXPECT_EQ(writes_of(a), 3u);
    EXPECT_EQ(dirty(), 0);
    EXPECT_FALSE(inode_dirtied_when(a.i_data));
    EXPECT_FALSE(wb_dwork_expires());
}

TEST_F(GuestosWritebackTest, ExpiryFollowsTheSysctlsAndOlderInodesGoFirst) {
    ASSERT_EQ(sysctl_.write("dirty_expire_centisecs", "1000"), 0);    // 10 s
    ASSERT_EQ(sysctl_.write("dirty_writeback_centisecs", "200"), 0);  // every 2 s
    inode& a = new_inode();
    write_pages(a, 0, 1);
    const ktime_t ta = *inode_dirtied_when(a.i_data);
    inode& b = new_inode();
    __mark_inode_dirty(b.i_data, ta + 4 * SEC);  // b's pages dirtied 4 s after a's
    write_pages(b, 0, 2);
    EXPECT_EQ(run_flusher_until(ta + 10 * SEC - 1), 0);
    EXPECT_EQ(run_flusher_until(ta + 14 * SEC - 1), 1);  // a at 10 s
    EXPECT_EQ(writes_of(a), 1u);
    EXPECT_EQ(writes_of(b), 0u);
    EXPECT_EQ(run_flusher_until(ta + 14 * SEC), 2);  // b at 14 s
    EXPECT_EQ(disk_writes().size(), 3u);
    EXPECT_EQ(dirty(), 0);
}

TEST_F(GuestosWritebackTest, AZeroWritebackIntervalStopsThePeriodicWrite) {
    ASSERT_EQ(sysctl_.write("dirty_writeback_centisecs", "0"), 0);
    inode& a = new_inode();
    write_pages(a, 0, 2);
    const ktime_t ta = *inode_dirtied_when(a.i_data);
    // The wake-up of the first dirty inode comes at once and finds nothing to do.
    ASSERT_TRUE(wb_dwork_expires());
    EXPECT_EQ(wb_workfn(*buddy_, ta + 3600 * SEC), 0);
    EXPECT_FALSE(wb_dwork_expires());
    EXPECT_EQ(dirty(), 2);
    // A new non-zero interval wakes the flusher to write everything at once.
    ASSERT_EQ(sysctl_.write("dirty_writeback_centisecs", "500"), 0);
    ASSERT_TRUE(wb_dwork_expires());
    EXPECT_EQ(wb_workfn(*buddy_, *wb_dwork_expires()), 2);
    EXPECT_EQ(dirty(), 0);
}

TEST_F(GuestosWritebackTest, OverTheBackgroundThresholdTheFlusherWritesOldestFirstUntilUnderIt) {
    ASSERT_EQ(sysctl_.write("dirty_background_bytes", std::to_string(16 * P)), 0);
    ASSERT_EQ(sysctl_.write("dirty_bytes", std::to_string(1024 * P)), 0);
    inode& a = new_inode();
    write_pages(a, 0, 24);
    inode& b = new_inode();
    write_pages(b, 0, 12);  // 36 pages dirtied: balance_dirty_pages ran at least once
    EXPECT_TRUE(wb_over_bg_thresh(*buddy_));
    EXPECT_EQ(dirty(), 36);
    EXPECT_EQ(written(), 0);  // under the dirty threshold the writer did not write
    // The flusher was queued to run at once: a first, then 12 <= 16, so b waits.
    ASSERT_TRUE(wb_dwork_expires());
    const ktime_t now = *wb_dwork_expires();
    EXPECT_LE(now, ktime_get());
    EXPECT_EQ(wb_workfn(*buddy_, now), 24);
    EXPECT_EQ(writes_of(a), 24u);
    EXPECT_EQ(writes_of(b), 0u);
    EXPECT_FALSE(wb_over_bg_thresh(*buddy_));
    EXPECT_TRUE(inode_dirtied_when(b.i_data));
}

TEST_F(GuestosWritebackTest, AWriterPastTheDirtyThresholdWritesBackItself) {
    ASSERT_EQ(sysctl_.write("dirty_background_bytes", std::to_string(16 * P)), 0);
    ASSERT_EQ(sysctl_.write("dirty_bytes", std::to_string(32 * P)), 0);
    inode& a = new_inode();
    write_pages(a, 0, 70);
    // No flusher ran: balance_dirty_pages, checked every 32 pages dirtied, found more than
    // 32 dirty at least once and wrote back (the whole inode, as far as written then).
    EXPECT_GE(written(), 33);
    EXPECT_EQ(static_cast<uint64_t>(written()), writes_of(a));
    EXPECT_EQ(dirty() + written(), 70);
    // What is left is at most the threshold plus one ratelimit's pages.
    EXPECT_LE(dirty(), 32 + 32);
}

TEST_F(GuestosWritebackTest, FsyncTakesTheInodeOffTheListAndAFailedWriteWaitsAnotherExpiry) {
    inode& a = new_inode();
    write_pages(a, 0, 2);
    ASSERT_EQ(filemap_write_and_wait(a.i_data), 0);
    EXPECT_FALSE(inode_dirtied_when(a.i_data));
    write_pages(a, 0, 1);  // dirtied again: a new stamp
    const ktime_t t1 = *inode_dirtied_when(a.i_data);
    fail_writes = true;
    const ktime_t t2 = t1 + 35 * SEC;
    EXPECT_EQ(wb_workfn(*buddy_, t2), 0);
    EXPECT_EQ(dirty(), 1);  // redirtied, stamped with the failed run's time (redirty_tail)
    EXPECT_EQ(*inode_dirtied_when(a.i_data), t2);
    fail_writes = false;
    EXPECT_EQ(run_flusher_until(t2 + 30 * SEC - 1), 0);
    EXPECT_EQ(run_flusher_until(t2 + 30 * SEC), 1);
    EXPECT_EQ(writes_of(a), 3u);
}

// A write that covers a page whole, or lands past the end of the file, does not read the
// page first (write_begin); a partial write inside the file does.
TEST_F(GuestosWritebackTest, OnlyAPartialWriteInsideTheFileReadsThePageFirst) {
    inode& a = new_inode();
    write_pages(a, 0, 3);
    EXPECT_EQ(folio_reads, 0u);
    ASSERT_EQ(filemap_write_and_wait(a.i_data), 0);
    truncate_inode_pages(a.i_data, 0);  // evicted: the next partial write must read
    const uint8_t byte = 'x';
    ASSERT_EQ(generic_perform_write(a, &byte, 1, static_cast<int64_t>(P + 5), UINT64_MAX), 1);
    EXPECT_EQ(folio_reads, 1u);
    ASSERT_EQ(generic_perform_write(a, &byte, 1, static_cast<int64_t>(7 * P + 5), UINT64_MAX), 1);  // past EOF
    EXPECT_EQ(folio_reads, 1u);
}

// With writepages, runs of consecutive dirty pages go in batches of at most 16, a clean
// page or a hole ending a run; every page ends its writeback written and clean.
TEST_F(GuestosWritebackTest, WritepagesTakesRunsOfConsecutiveDirtyPagesInBatches) {
    inode& a = new_inode();
    a.i_data.a_ops = &batching_aops;
    write_pages(a, 0, 40);
    write_pages(a, 45, 2);
    ASSERT_EQ(filemap_write_and_wait(a.i_data), 0);
    const std::vector<std::pair<uint64_t, size_t>> want = {{0, 16}, {16, 16}, {32, 8}, {45, 2}};
    EXPECT_EQ(writepages_calls, want);
    EXPECT_EQ(writepages_bytes, std::vector<uint8_t>(42, 'w'));
    EXPECT_EQ(dirty(), 0);
    EXPECT_EQ(written(), 42);
    EXPECT_EQ(buddy_->node_page_state(NR_WRITEBACK), 0);
    EXPECT_TRUE(disk_writes().empty());  // writepage was not used
    // Page 20 alone dirtied again: one call of one page.
    write_pages(a, 20, 1);
    writepages_calls.clear();
    ASSERT_EQ(filemap_write_and_wait(a.i_data), 0);
    EXPECT_EQ(writepages_calls, (std::vector<std::pair<uint64_t, size_t>>{{20, 1}}));
}

TEST_F(GuestosWritebackTest, AFailedWritepagesLeavesItsPagesDirtyAndReportsTheError) {
    inode& a = new_inode();
    a.i_data.a_ops = &batching_aops;
    write_pages(a, 0, 20);
    fail_writes = true;
    EXPECT_EQ(filemap_write_and_wait(a.i_data), -EIO);
    EXPECT_EQ(dirty(), 20);
    EXPECT_EQ(written(), 0);
    EXPECT_EQ(buddy_->node_page_state(NR_WRITEBACK), 0);
    fail_writes = false;
    ASSERT_EQ(filemap_write_and_wait(a.i_data), 0);
    EXPECT_EQ(dirty(), 0);
    EXPECT_EQ(written(), 20);
}
