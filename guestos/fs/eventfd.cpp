// eventfd (fs/eventfd.c): a 64-bit counter behind a file. write adds to it (sleeping while
// the sum would pass 2^64-2), read takes all of it, or one with EFD_SEMAPHORE (sleeping
// while it is 0); both wake the other side's sleepers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/anon_inodes.h"
#include "guestos/include/poll.h"
#include "guestos/include/wait.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr unsigned EFD_SEMAPHORE = 1;
constexpr uint64_t ULLONG_MAX_ = ~0ull;

class eventfd_file final : public file {
public:
    eventfd_file(uint64_t count, unsigned flags) : count_(count), semaphore_(flags & EFD_SEMAPHORE) {
        f_flags = O_RDWR_ | (flags & O_NONBLOCK_);
        f_mode = FMODE_NOWAIT;  // no pread or pwrite; RWF_NOWAIT is EAGAIN
    }
    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) override {
        if (n < 8) return -EINVAL;
        if (!count_) {
            if ((f_flags & O_NONBLOCK_) || (iocb.ki_flags & IOCB_NOWAIT)) return -EAGAIN;
            if (long e = wait_event_interruptible(
                    iocb.task, wqh_, [&] { return count_ != 0; }, "an eventfd read"))
                return e;
        }
        const uint64_t v = semaphore_ ? 1 : count_;
        count_ -= v;
        std::memcpy(buf, &v, 8);
        wake_up_poll(wqh_, EPOLLOUT_);
        return 8;
    }
    long write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) override {
        if (n < 8) return -EINVAL;
        uint64_t v;
        std::memcpy(&v, buf, 8);
        if (v == ULLONG_MAX_) return -EINVAL;
        if (ULLONG_MAX_ - count_ <= v) {
            if ((f_flags & O_NONBLOCK_) || (iocb.ki_flags & IOCB_NOWAIT)) return -EAGAIN;
            if (long e = wait_event_interruptible(
                    iocb.task, wqh_, [&] { return ULLONG_MAX_ - count_ > v; }, "an eventfd write"))
                return e;
        }
        count_ += v;
        wake_up_poll(wqh_, EPOLLIN_);
        return 8;
    }
    bool has_write_iter() const override { return false; }  // eventfd_write is a plain write
    bool can_poll() const override { return true; }
    // Readable above 0, writable below 2^64-2, in error at the overflow mark (eventfd_poll).
    uint32_t poll(poll_table* wait) override {
        poll_wait(*this, wqh_, wait);
        uint32_t events = 0;
        if (count_ > 0) events |= EPOLLIN_;
        if (count_ == ULLONG_MAX_) events |= EPOLLERR_;
        if (ULLONG_MAX_ - 1 > count_) events |= EPOLLOUT_;
        return events;
    }
    long getattr(struct stat& st) override { return anon_inode_getattr(st, 0600); }
    uint64_t count() const { return count_; }
    wait_queue_head& wqh() { return wqh_; }

private:
    uint64_t count_;
    bool semaphore_;
    wait_queue_head wqh_;  // readers and writers wait here
};

long do_eventfd(SysCtx& c, uint64_t count, uint64_t flags) {
    if (flags & ~static_cast<uint64_t>(O_CLOEXEC_ | O_NONBLOCK_ | EFD_SEMAPHORE)) return -EINVAL;
    auto f = std::make_shared<eventfd_file>(static_cast<uint32_t>(count), static_cast<unsigned>(flags));
    return get_unused_fd_install(c, std::move(f), flags & O_CLOEXEC_);
}

}  // namespace

long sys_eventfd(SysCtx& c, const uint64_t* a) { return do_eventfd(c, a[0], 0); }
long sys_eventfd2(SysCtx& c, const uint64_t* a) { return do_eventfd(c, a[0], a[1]); }

}  // namespace guestos
