// signalfd (fs/signalfd.c): the caller's pending signals of a mask, read as signalfd_siginfo
// records instead of delivered to handlers. What a read or poll sees is the reading task's
// own pending signals; every signal sent wakes the sighand's signalfd_wqh.
#include <cerrno>
#include <cstring>

#include "guestos/include/anon_inodes.h"
#include "guestos/include/poll.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr uint64_t UNBLOCKABLE = sigmask(SIGKILL_) | sigmask(SIGSTOP_);

// struct signalfd_siginfo: 128 bytes, the same in both ABIs.
struct signalfd_siginfo {
    uint32_t ssi_signo;
    int32_t ssi_errno, ssi_code;
    uint32_t ssi_pid, ssi_uid;
    int32_t ssi_fd;
    uint32_t ssi_tid, ssi_band, ssi_overrun, ssi_trapno;
    int32_t ssi_status, ssi_int;
    uint64_t ssi_ptr, ssi_utime, ssi_stime, ssi_addr;
    uint16_t ssi_addr_lsb, pad2;
    int32_t ssi_syscall;
    uint64_t ssi_call_addr;
    uint32_t ssi_arch;
    uint8_t pad[28];
};
static_assert(sizeof(signalfd_siginfo) == 128);

// The record of a dequeued signal, its fields chosen by the siginfo layout
// (signalfd_copyinfo + siginfo_layout).
signalfd_siginfo signalfd_copyinfo(const kernel_siginfo& k, bool compat) {
    signalfd_siginfo n{};
    n.ssi_signo = static_cast<uint32_t>(k.si_signo);
    n.ssi_errno = k.si_errno;
    n.ssi_code = k.si_code;
    const uint64_t ptr = compat ? static_cast<uint32_t>(k.value) : k.value;
    if (k.si_code > SI_USER && k.si_code < SI_KERNEL) {
        if (k.si_signo == SIGCHLD_) {  // SIL_CHLD
            n.ssi_pid = static_cast<uint32_t>(k.pid);
            n.ssi_uid = k.uid;
            n.ssi_status = static_cast<int32_t>(k.value);
        } else {  // SIL_FAULT
            n.ssi_addr = k.addr;
        }
    } else if (k.si_code == SI_TIMER) {  // SIL_TIMER
        n.ssi_tid = static_cast<uint32_t>(k.tid);
        n.ssi_overrun = static_cast<uint32_t>(k.overrun);
        n.ssi_ptr = ptr;
        n.ssi_int = static_cast<int32_t>(k.value);
    } else if (k.si_code < 0) {  // SIL_RT: sigqueue, tkill
        n.ssi_pid = static_cast<uint32_t>(k.pid);
        n.ssi_uid = k.uid;
        n.ssi_ptr = ptr;
        n.ssi_int = static_cast<int32_t>(k.value);
    } else {  // SIL_KILL
        n.ssi_pid = static_cast<uint32_t>(k.pid);
        n.ssi_uid = k.uid;
    }
    return n;
}

class signalfd_ctx final : public file {
public:
    signalfd_ctx(Kernel& k, uint64_t sigmask, unsigned flags) : kernel_(k), sigmask_(sigmask) {
        f_flags = O_RDWR_ | (flags & O_NONBLOCK_);
        f_mode = 0;
    }
    // Reads as many records as fit, waiting for the first one only (signalfd_read).
    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) override {
        const uint64_t count = n / sizeof(signalfd_siginfo);
        if (!count) return -EINVAL;
        task_struct& t = iocb.task;
        uint64_t done = 0;
        bool nonblock = f_flags & O_NONBLOCK_;
        for (; done < count; ++done, nonblock = true) {
            kernel_siginfo info;
            const long r = signalfd_dequeue(t, info, nonblock);
            if (r <= 0) {
                if (done) break;
                return r;
            }
            const signalfd_siginfo rec = signalfd_copyinfo(info, t.is_compat());
            std::memcpy(buf + done * sizeof rec, &rec, sizeof rec);
        }
        return static_cast<long>(done * sizeof(signalfd_siginfo));
    }
    bool can_poll() const override { return true; }
    // Readable while the task on the CPU (the poller: Linux's `current`) has a signal of
    // the mask pending (signalfd_poll).
    uint32_t poll(poll_table* wait) override {
        task_struct* current = kernel_.runqueue().curr;
        if (!current || current->exited) return 0;
        poll_wait(*this, current->sighand->signalfd_wqh, wait);
        return (current->pending & sigmask_) ? EPOLLIN_ : 0;
    }
    long getattr(struct stat& st) override { return anon_inode_getattr(st, 0600); }
    void set_mask(uint64_t mask) { sigmask_ = mask; }

private:
    // One signal of the mask (signalfd_dequeue): its number, -EAGAIN, or -ERESTARTSYS when
    // another signal interrupts the wait.
    long signalfd_dequeue(task_struct& t, kernel_siginfo& info, bool nonblock) {
        if (int sig = dequeue_signal(t, sigmask_, info)) return sig;
        if (nonblock) return -EAGAIN;
        if (long e = wait_event_interruptible(
                t, t.sighand->signalfd_wqh, [&] { return (t.pending & sigmask_) != 0; }, "a signalfd read"))
            return e;
        return dequeue_signal(t, sigmask_, info);
    }

    Kernel& kernel_;
    uint64_t sigmask_;
};

long do_signalfd4(SysCtx& c, int32_t ufd, uint64_t mask, uint64_t flags) {
    if (flags & ~static_cast<uint64_t>(O_CLOEXEC_ | O_NONBLOCK_)) return -EINVAL;
    mask &= ~UNBLOCKABLE;
    if (ufd == -1) {
        auto f = std::make_shared<signalfd_ctx>(c.kernel, mask, static_cast<unsigned>(flags));
        return get_unused_fd_install(c, std::move(f), flags & O_CLOEXEC_);
    }
    auto f = c.task.files->get(ufd);
    if (!f) return -EBADF;
    auto* ctx = dynamic_cast<signalfd_ctx*>(f.get());
    if (!ctx) return -EINVAL;
    ctx->set_mask(mask);
    wake_up(c.task.sighand->signalfd_wqh);
    return ufd;
}

long signalfd_syscall(SysCtx& c, const uint64_t* a, uint64_t flags) {
    if (a[2] != 8) return -EINVAL;
    uint64_t mask;
    if (!copy_from_user(c.mm, &mask, VirtAddr(a[1]), 8)) return -EFAULT;
    return do_signalfd4(c, static_cast<int32_t>(a[0]), mask, flags);
}

}  // namespace

long sys_signalfd(SysCtx& c, const uint64_t* a) { return signalfd_syscall(c, a, 0); }
long sys_signalfd4(SysCtx& c, const uint64_t* a) { return signalfd_syscall(c, a, a[3]); }

}  // namespace guestos
