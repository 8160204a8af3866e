// The block layer (block/blk-core.c, blk-mq.c, blk-merge.c, genhd.c): bios to requests,
// plugging and merging, requests in flight until the disk completes them, and each disk's
// statistics (/proc/diskstats). The completion model is in docs/block.md.
#include "guestos/include/blkdev.h"

#include "guestos/kernel/time/time.h"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <vector>

namespace guestos {

namespace {

constexpr uint64_t SECTOR_SIZE = devices::BlockDevice::SECTOR_SIZE;
constexpr size_t BLK_MAX_REQUEST_COUNT = 32;           // requests a plug holds before it flushes
constexpr uint64_t MAX_SECTORS_BYTES = 1280ull << 10;  // queue/max_sectors_kb's default
constexpr ktime_t NSEC_PER_MSEC = 1'000'000;

struct gendisk {
    std::string disk_name;
    unsigned major = 0, first_minor = 0;
    disk_stats stats;
    unsigned in_flight = 0;  // requests dispatched and not completed (part_in_flight)
    ktime_t busy_since = 0;  // when in_flight last rose from 0 (update_io_ticks)
};

std::map<const devices::BlockDevice*, gendisk>& disks() {
    static std::map<const devices::BlockDevice*, gendisk> d;
    return d;
}

gendisk* disk_of(const devices::BlockDevice& bdev) {
    auto it = disks().find(&bdev);
    return it == disks().end() ? nullptr : &it->second;
}

disk_stats* stats_of(const devices::BlockDevice& bdev) {
    gendisk* d = disk_of(bdev);
    return d ? &d->stats : nullptr;
}

// One write bio: its bytes are a page-cache page's (bv_page, completed through end_io) or,
// for a caller that reuses its buffer, a copy.
struct bio {
    const uint8_t* data;
    uint64_t len;
    bio_end_io_t end_io;
    std::vector<uint8_t> copy;  // (movable without copying the bytes: the plug list grows)
};

// One write request held in the plug: the bios merged into it, in disk order.
struct request {
    devices::BlockDevice* q;
    uint64_t pos;  // byte offset on the device
    uint64_t len = 0;
    std::vector<bio> bios;
};

bio make_bio(const uint8_t* src, uint64_t len, bio_end_io_t end_io) {
    if (end_io.bi_end_io) return bio{src, len, end_io, {}};
    bio b{nullptr, len, end_io, std::vector<uint8_t>(src, src + len)};
    b.data = b.copy.data();
    return b;
}

// bio_endio: the bio's owner learns the outcome.
void bio_endio(const bio_end_io_t& end_io, long err) {
    if (end_io.bi_end_io) end_io.bi_end_io(end_io.bi_private, err);
}

struct plug_list {
    bool active = false;
    std::vector<request> mq_list;
};
plug_list& current_plug() {
    static plug_list p;  // current->plug: one task runs at a time
    return p;
}

uint64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count());
}

// Sends one request to the device and accounts it when it completes
// (blk_account_io_done): one I/O, its sectors, its time.
long dispatch(devices::BlockDevice& q, int op, uint64_t pos, void* buf, uint64_t len) {
    const auto start = std::chrono::steady_clock::now();
    const long r = op == 0 ? q.read(pos, buf, len) : q.write(pos, buf, len);
    if (disk_stats* s = stats_of(q); s && r == 0) {
        const uint64_t ms = elapsed_ms(start);
        s->ios[op]++;
        s->sectors[op] += len / SECTOR_SIZE;
        s->msecs[op] += ms;
        s->io_ticks += ms;
    }
    return r;
}

// A dispatched write request the disk has not completed yet (a blk-mq request holding a
// tag): its bios' completions wait for the disk's interrupt (blk_mq_complete_request).
struct inflight_request {
    devices::BlockDevice* q;
    uint64_t sectors;
    ktime_t start;  // when it was dispatched (one clock read per dispatched batch)
    long err;       // the device's answer, known at dispatch and told at completion
    std::vector<bio_end_io_t> end_io;
};

// Every disk's dispatched requests, oldest first: the emulated disks complete in order.
std::deque<inflight_request>& inflight() {
    static std::deque<inflight_request> q;
    return q;
}

// blk_mq_end_request with blk_account_io_done: the request counts as one write of its
// sectors and its time in flight; its bios end (end_io: end_buffer_async_write).
void blk_mq_end_request(inflight_request& rq, ktime_t now) {
    if (gendisk* d = disk_of(*rq.q)) {
        const uint64_t ms = static_cast<uint64_t>(std::max<ktime_t>(now - rq.start, 0)) / NSEC_PER_MSEC;
        if (rq.err == 0) {
            d->stats.ios[1]++;
            d->stats.sectors[1] += rq.sectors;
            d->stats.msecs[1] += ms;
        }
        if (d->in_flight && --d->in_flight == 0)
            d->stats.io_ticks += static_cast<uint64_t>(std::max<ktime_t>(now - d->busy_since, 0)) / NSEC_PER_MSEC;
    }
    for (const bio_end_io_t& e : rq.end_io) bio_endio(e, rq.err);
}

// Completes the oldest request in flight; false when none is.
bool complete_oldest(ktime_t now) {
    std::deque<inflight_request>& q = inflight();
    if (q.empty()) return false;
    inflight_request rq = std::move(q.front());
    q.pop_front();
    blk_mq_end_request(rq, now);  // (may submit more: the list is consistent first)
    return true;
}

// A merged write request: its bios' segments in one device write, then in flight on a
// registered disk until completed (a disk without a gendisk completes it at once, as a
// bio-based driver does within submit_bio). A full queue first waits for the oldest
// request to complete (blk_mq_get_tag sleeping for a free tag).
long dispatch_request(request& rq, ktime_t now) {
    std::vector<iovec> iov;
    iov.reserve(rq.bios.size());
    for (auto& b : rq.bios) iov.push_back({const_cast<uint8_t*>(b.data), b.len});
    const long r = rq.q->writev(rq.pos, iov.data(), static_cast<int>(iov.size()));
    inflight_request done{rq.q, rq.len / SECTOR_SIZE, now, r, {}};
    done.end_io.reserve(rq.bios.size());
    for (auto& b : rq.bios)
        if (b.end_io.bi_end_io) done.end_io.push_back(b.end_io);
    gendisk* d = disk_of(*rq.q);
    if (!d) {
        blk_mq_end_request(done, now);
        return r;
    }
    while (d->in_flight >= BLK_MQ_NR_REQUESTS && complete_oldest(now)) {}
    if (d->in_flight++ == 0) d->busy_since = now;
    inflight().push_back(std::move(done));
    return r;
}

}  // namespace

// blk_mq_flush_plug_list: every held request to its device, in the order they were made.
long blk_flush_plug() {
    plug_list& plug = current_plug();
    if (plug.mq_list.empty()) return 0;
    long err = 0;
    std::vector<request> list = std::move(plug.mq_list);
    plug.mq_list.clear();
    const ktime_t now = ktime_get();  // one clock read for the batch
    for (request& rq : list)
        if (long r = dispatch_request(rq, now); r && !err) err = r;
    return err;
}

void blk_mq_complete_due(ktime_t now) {
    std::deque<inflight_request>& q = inflight();
    while (!q.empty() && q.front().start + BLK_MQ_COMPLETION_NS <= now) (void)complete_oldest(now);
}

std::optional<ktime_t> blk_mq_next_completion() {
    const std::deque<inflight_request>& q = inflight();
    if (q.empty()) return std::nullopt;
    return q.front().start + BLK_MQ_COMPLETION_NS;
}

void blk_mq_wait_until(const std::function<bool()>& done) {
    if (done() || inflight().empty()) return;
    const ktime_t now = ktime_get();
    while (!done() && complete_oldest(now)) {}
}

void blk_mq_wait_all() {
    (void)blk_flush_plug();
    if (inflight().empty()) return;
    const ktime_t now = ktime_get();
    while (complete_oldest(now)) {}
}

unsigned blk_mq_in_flight(const devices::BlockDevice& bdev) {
    const gendisk* d = disk_of(bdev);
    return d ? d->in_flight : 0;
}

namespace {

// The checks a bio fails at submission (bio_check_eod, bio_check_ro, alignment).
long bio_check(const devices::BlockDevice& bdev, uint64_t offset, uint64_t len, bool write) {
    if (offset % SECTOR_SIZE || len % SECTOR_SIZE) return -EINVAL;
    if (offset > bdev.size_bytes() || len > bdev.size_bytes() - offset) return -EIO;
    if (write && bdev.read_only()) return -EROFS;
    return 0;
}

// blk_attempt_plug_merge: the bio joins the plug's last request when it continues it (back
// merge) or ends where it starts (front merge), within the request size limit.
bool attempt_plug_merge(devices::BlockDevice& bdev, uint64_t offset, const uint8_t* src, uint64_t len,
                        bio_end_io_t end_io) {
    plug_list& plug = current_plug();
    if (plug.mq_list.empty()) return false;
    request& rq = plug.mq_list.back();
    if (rq.q != &bdev || rq.len + len > MAX_SECTORS_BYTES) return false;
    if (rq.pos + rq.len == offset) {
        rq.bios.push_back(make_bio(src, len, end_io));
    } else if (offset + len == rq.pos) {
        rq.bios.insert(rq.bios.begin(), make_bio(src, len, end_io));
        rq.pos = offset;
    } else {
        return false;
    }
    rq.len += len;
    if (disk_stats* s = stats_of(bdev)) s->merges[1]++;
    return true;
}

}  // namespace

long submit_bio_read(devices::BlockDevice& bdev, uint64_t offset, void* buf, uint64_t len) {
    if (long e = bio_check(bdev, offset, len, false)) return e;
    if (long e = blk_flush_plug()) return e;  // the held writes first: the read sees them
    return dispatch(bdev, 0, offset, buf, len);
}

namespace {

long submit_write(devices::BlockDevice& bdev, uint64_t offset, const void* buf, uint64_t len, bio_end_io_t end_io) {
    if (long e = bio_check(bdev, offset, len, true)) {
        bio_endio(end_io, e);
        return e;
    }
    plug_list& plug = current_plug();
    const auto* src = static_cast<const uint8_t*>(buf);
    if (!plug.active) {  // a request of its own, dispatched now (blk_mq_submit_bio unplugged)
        request rq{&bdev, offset, len, {}};
        rq.bios.push_back(bio{src, len, end_io, {}});  // written before submit returns: no copy
        return dispatch_request(rq, ktime_get());
    }
    if (attempt_plug_merge(bdev, offset, src, len, end_io)) return 0;
    if (plug.mq_list.size() >= BLK_MAX_REQUEST_COUNT)
        if (long e = blk_flush_plug()) {
            bio_endio(end_io, e);
            return e;
        }
    request& rq = plug.mq_list.emplace_back(request{&bdev, offset, len, {}});
    rq.bios.push_back(make_bio(src, len, end_io));
    return 0;
}

}  // namespace

long submit_bio_write(devices::BlockDevice& bdev, uint64_t offset, const void* buf, uint64_t len) {
    return submit_write(bdev, offset, buf, len, {});
}

long submit_bio_write_page(devices::BlockDevice& bdev, uint64_t offset, const void* buf, uint64_t len,
                           bio_end_io_t end_io) {
    return submit_write(bdev, offset, buf, len, end_io);
}

long blkdev_issue_flush(devices::BlockDevice& bdev) {
    long err = blk_flush_plug();
    // The flush's submitter has waited for its writes (filemap_fdatawait, the buffers'
    // wait): emu waits for every request of the disk in flight.
    blk_mq_wait_until([&bdev] { return blk_mq_in_flight(bdev) == 0; });
    const auto start = std::chrono::steady_clock::now();
    const long r = bdev.flush();
    if (disk_stats* s = stats_of(bdev); s && r == 0) {
        s->flush_ios++;
        s->flush_msecs += elapsed_ms(start);
    }
    return err ? err : r;
}

blk_plug::blk_plug() : outermost_(!current_plug().active) { current_plug().active = true; }

long blk_plug::finish() {
    if (!outermost_) return 0;
    outermost_ = false;
    current_plug().active = false;
    return blk_flush_plug();
}

void add_disk(devices::BlockDevice& bdev, const std::string& name, unsigned major, unsigned minor) {
    disks()[&bdev] = gendisk{name, major, minor, {}};
}

void del_gendisk(devices::BlockDevice& bdev) {
    (void)blk_flush_plug();
    blk_mq_wait_until([&bdev] { return blk_mq_in_flight(bdev) == 0; });  // nothing left in flight
    disks().erase(&bdev);
}

disk_stats part_stat_read(const devices::BlockDevice& bdev) {
    const disk_stats* s = stats_of(bdev);
    return s ? *s : disk_stats{};
}

std::string diskstats_show() {
    std::string out;
    char line[512];
    const ktime_t now = inflight().empty() ? 0 : ktime_get();
    for (const auto& [bdev, d] : disks()) {
        const disk_stats& s = d.stats;
        const unsigned inflight = d.in_flight;
        uint64_t io_ticks = s.io_ticks;  // and the busy time so far (update_io_ticks)
        if (inflight) io_ticks += static_cast<uint64_t>(std::max<ktime_t>(now - d.busy_since, 0)) / NSEC_PER_MSEC;
        // diskstats_show's format: 4 + 4 + 4 (discard) + 2 (flush) fields after the name.
        std::snprintf(line, sizeof line, "%4u %7u %s %lu %lu %lu %u %lu %lu %lu %u %u %u %u %lu %lu %lu %u %lu %u\n",
                      d.major, d.first_minor, d.disk_name.c_str(), (unsigned long)s.ios[0], (unsigned long)s.merges[0],
                      (unsigned long)s.sectors[0], (unsigned)s.msecs[0], (unsigned long)s.ios[1],
                      (unsigned long)s.merges[1], (unsigned long)s.sectors[1], (unsigned)s.msecs[1], inflight,
                      (unsigned)io_ticks, (unsigned)(s.msecs[0] + s.msecs[1] + s.flush_msecs), 0ul, 0ul, 0ul, 0u,
                      (unsigned long)s.flush_ios, (unsigned)s.flush_msecs);
        out += line;
    }
    return out;
}

}  // namespace guestos
