// The block layer between the filesystems and an emulated disk (block/blk-core.c,
// blk-mq.c, blk-merge.c, genhd.c): bios become requests, a task's plug holds writes and
// merges the contiguous ones into one request before they go to the device, a dispatched
// write stays in flight until the disk completes it (its bios' end_io runs then), and
// each disk counts its requests, merges, sectors and times as Linux's struct disk_stats
// (/proc/diskstats). docs/block.md describes when requests complete.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "devices/block_device.h"

namespace guestos {

using ktime_t = int64_t;  // nanoseconds (guestos/kernel/time/time.h, which includes more)

// Reads len bytes at a sector-aligned offset (submit_bio of a REQ_OP_READ bio and its wait):
// the plug's writes reach the device first. 0 or a negative errno.
long submit_bio_read(devices::BlockDevice& bdev, uint64_t offset, void* buf, uint64_t len);
// Writes len bytes (REQ_OP_WRITE): at once without a plug, else held in the plug (merged
// with a contiguous request there) until it is flushed; an error of a held write is
// returned by the plug's flush.
long submit_bio_write(devices::BlockDevice& bdev, uint64_t offset, const void* buf, uint64_t len);

// A bio's completion (bio->bi_end_io with bi_private): called once, with 0 or the request's
// error, when the request that carries the bio has been written.
struct bio_end_io_t {
    void (*bi_end_io)(void* bi_private, long err) = nullptr;
    void* bi_private = nullptr;
};
// A write whose bio_vec points at the caller's bytes (a page-cache page: bio_add_page), not
// a copy: buf must stay valid until the request is dispatched (at once without a plug,
// else at the plug's flush), when the disk takes the bytes. end_io runs when the request
// completes: later, on a registered disk (blk_mq_complete_due and the waits below), at
// dispatch on a device without a gendisk. The return is as submit_bio_write's; end_io runs
// in every case, a check failing at submission included.
long submit_bio_write_page(devices::BlockDevice& bdev, uint64_t offset, const void* buf, uint64_t len,
                           bio_end_io_t end_io);
// Dispatches the plug's held requests now (blk_flush_plug, as schedule() does before a task
// sleeps): what a wait for a page's writeback does, its bios being in the plug.
long blk_flush_plug();
// A cache flush (blkdev_issue_flush): the plug's writes, a wait for every write of the
// disk in flight, then the device's flush.
long blkdev_issue_flush(devices::BlockDevice& bdev);

// How long after its dispatch the emulated disk raises a request's completion interrupt
// (one jiffy at HZ=250), and the requests a disk holds in flight at most (nr_requests: a
// dispatch past it waits for the oldest to complete).
inline constexpr ktime_t BLK_MQ_COMPLETION_NS = 4'000'000;
inline constexpr unsigned BLK_MQ_NR_REQUESTS = 64;
// The disks' completion interrupt (blk_mq_complete_request for each request whose time
// has come): every request dispatched BLK_MQ_COMPLETION_NS or more before `now` completes,
// oldest first, and its bios end. The timer interrupt and each kernel entry call it.
void blk_mq_complete_due(ktime_t now);
// When the oldest request in flight completes; nullopt with nothing in flight (the timer
// is programmed for it).
std::optional<ktime_t> blk_mq_next_completion();
// A task waits for I/O (io_schedule until its bio's end_io woke it): requests complete,
// oldest first, until done() holds or nothing is in flight.
void blk_mq_wait_until(const std::function<bool()>& done);
// Waits for everything: the plug's writes dispatched, every request completed (emu's exit,
// an unmount's last wait, reclaim throttled on writeback).
void blk_mq_wait_all();
// The requests of a registered disk in flight (part_in_flight; /proc/diskstats field 9).
unsigned blk_mq_in_flight(const devices::BlockDevice& bdev);

// blk_start_plug / blk_finish_plug for the current task (emu runs one at a time): the
// outermost plug holds the writes of its scope and flushes them when it ends (or when it
// holds BLK_MAX_REQUEST_COUNT requests, or before a read).
class blk_plug {
public:
    blk_plug();
    ~blk_plug() { (void)finish(); }
    blk_plug(const blk_plug&) = delete;
    blk_plug& operator=(const blk_plug&) = delete;
    // Flushes the held writes now (blk_finish_plug); 0 or the first error.
    long finish();

private:
    bool outermost_;
};

// One disk's counters (struct disk_stats; times in milliseconds). Index 0 reads, 1 writes.
struct disk_stats {
    uint64_t ios[2] = {}, merges[2] = {}, sectors[2] = {}, msecs[2] = {};
    uint64_t io_ticks = 0;  // ms with a request in flight
    uint64_t flush_ios = 0, flush_msecs = 0;
};

// Registers the disk bdev as NAME (major:minor) for /proc/diskstats (device_add_disk), and
// forgets it (del_gendisk).
void add_disk(devices::BlockDevice& bdev, const std::string& name, unsigned major, unsigned minor);
void del_gendisk(devices::BlockDevice& bdev);
// A registered disk's counters; zeros for another device.
disk_stats part_stat_read(const devices::BlockDevice& bdev);
// /proc/diskstats (diskstats_show): one line per registered disk.
std::string diskstats_show();

}  // namespace guestos
