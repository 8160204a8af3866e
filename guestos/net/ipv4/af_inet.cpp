// AF_INET and AF_INET6 sockets (net/ipv4/af_inet.c, net/ipv6/af_inet6.c) backed by host
// sockets, as qemu-user does: the host kernel is Linux, so it makes the same checks of
// addresses, types and options with the same errnos, and the sockaddr layouts are the
// guest's. The host socket is always non-blocking: a guest call that must wait sleeps on
// the socket's wait queue, which the scheduler's idle wait wakes when the host fd is
// ready (host_fd_watch), so emu's one host thread never blocks. What is the guest's own
// stays here: O_NONBLOCK, the timeouts' layouts on i386, SIGPIPE.
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "guestos/include/cred.h"
#include "guestos/lib/host_sysctl.h"
#include "guestos/include/kernel.h"
#include "guestos/include/net.h"
#include "guestos/include/poll.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/socket.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

namespace {

constexpr int CAP_NET_BIND_SERVICE = 10, CAP_NET_RAW = 13;
// The most one host send or receive moves through emu's buffer.
constexpr size_t INET_CHUNK = 256 * 1024;

// A host call's result as a kernel return: the value, or -errno.
long host_ret(long r) { return r < 0 ? -errno : r; }

// An AF_INET/AF_INET6 socket (struct inet_sock) over its host socket.
class inet_socket final : public socket {
public:
    inet_socket(int family, int type, int hfd, unsigned f_flags) : family_(family), type_(type), hfd_(hfd) {
        f_flags_init(f_flags);
        watch_.fd = hfd_;
        watch_.wq = &wq_;
        watch_.edge = true;
        add_host_fd_watch(watch_);
    }
    ~inet_socket() override {
        remove_host_fd_watch(watch_);
        ::close(hfd_);  // the last reference (sock_close)
    }

    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) override;
    long write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) override;
    bool has_splice_write() const override { return true; }
    bool has_splice_read() const override { return true; }
    uint32_t poll(poll_table* wait) override;
    bool ioctl_sizes(unsigned long cmd, size_t& in, size_t& out) const override;
    long ioctl(unsigned long cmd, uint8_t* arg, size_t& in, size_t& out) override;

    int family() const override { return family_; }
    long bind(SysCtx& c, const std::vector<uint8_t>& addr) override;
    long connect(SysCtx& c, const std::vector<uint8_t>& addr) override;
    long listen(SysCtx& c, int backlog) override;
    long accept(SysCtx& c, unsigned f_flags, std::shared_ptr<socket>& out) override;
    long getname(std::vector<uint8_t>& out, bool peer) override;
    long sendmsg(SysCtx& c, socket_msg& msg) override;
    long recvmsg(SysCtx& c, socket_msg& msg) override;
    long shutdown(int how) override;
    long setsockopt(SysCtx& c, int level, int optname, const uint8_t* val, uint32_t len) override;
    long getsockopt(SysCtx& c, int level, int optname, uint8_t* val, uint32_t& len) override;
    int sock_error() override;
    void set_sock_error(int) override {}  // the host keeps sk_err; recvmmsg's leftover is lost

private:
    void f_flags_init(unsigned f_flags) {
        this->f_flags = O_RDWR_ | (f_flags & O_NONBLOCK_);
        f_mode = FMODE_NOWAIT;
    }
    bool nonblock(unsigned flags) const { return (f_flags & O_NONBLOCK_) || (flags & MSG_DONTWAIT_); }
    // Asks the scheduler to wake wq_ when the host fd has one of events.
    void arm(short events) { watch_.events = static_cast<short>(watch_.events | events); }
    // The socket's timeout as an end time: none for 0 (wait forever), as sock_rcvtimeo.
    std::optional<ktime_t> deadline(int optname) const;
    // Sleeps until the host fd has one of events, the deadline or a signal: 0, -EAGAIN at
    // the deadline, or sock_intr_errno (-ERESTARTSYS without a timeout, -EINTR with one).
    long wait_host(task_struct& task, short events, std::optional<ktime_t> until, const char* what);
    // Runs op (a non-blocking host call) until it does not return EAGAIN: its result, or
    // -errno; waits for events between tries unless nonblock.
    template <class Op>
    long host_wait_for(task_struct& task, short events, bool nb, std::optional<ktime_t> until, const char* what,
                       Op op) {
        for (;;) {
            const long r = op();
            if (r >= 0) return r;
            const int e = errno;
            if (e != EAGAIN && e != EWOULDBLOCK) return -e;
            arm(events);  // edge-triggered pollers (Go's netpoller) wait for the next change
            if (nb) return -EAGAIN;
            if (long w = wait_host(task, events, until, what)) return w;
        }
    }
    long send_buf(task_struct& task, const uint8_t* buf, size_t n, unsigned flags, const std::vector<uint8_t>& name,
                  const std::vector<uint8_t>* control = nullptr);
    long recv_buf(task_struct& task, uint8_t* buf, size_t n, unsigned flags, std::vector<uint8_t>* name,
                  unsigned& msg_flags, std::vector<uint8_t>* control = nullptr);
    int sock_type() const { return type_; }

    int family_, type_;
    int hfd_;
    wait_queue_head wq_;
    host_fd_watch watch_;
};

std::optional<ktime_t> inet_socket::deadline(int optname) const {
    timeval tv{};
    socklen_t l = sizeof tv;
    if (::getsockopt(hfd_, SOL_SOCKET, optname, &tv, &l) < 0 || (!tv.tv_sec && !tv.tv_usec)) return std::nullopt;
    return ktime_get() + tv.tv_sec * NSEC_PER_SEC + tv.tv_usec * NSEC_PER_USEC;
}

long inet_socket::wait_host(task_struct& task, short events, std::optional<ktime_t> until, const char* what) {
    WaitQueueGuard guard(wq_, task);
    for (;;) {
        pollfd p{hfd_, events, 0};
        if (::poll(&p, 1, 0) != 0) return 0;  // ready, or an error the next call reports
        if (signal_pending(task)) return until ? -EINTR : -ERESTARTSYS;
        if (until && ktime_get() >= *until) return -EAGAIN;
        arm(events);
        schedule_hrtimeout(task, until, what);
    }
}

// sock_error: the host socket's pending error, cleared.
int inet_socket::sock_error() {
    int err = 0;
    socklen_t l = sizeof err;
    ::getsockopt(hfd_, SOL_SOCKET, SO_ERROR, &err, &l);
    return err;
}

// net.ipv4.ip_unprivileged_port_start: the host's, as a guest configured like it would see.
unsigned ip_unprivileged_port_start() {
    static const auto v = static_cast<unsigned>(host_sysctl("net/ipv4/ip_unprivileged_port_start", 1024));
    return v;
}

// The port a well-formed bind address asks for (__inet_bind's and __inet6_bind's checks
// of length and family pass), else 0.
unsigned bind_port(int family, const std::vector<uint8_t>& addr) {
    if (addr.size() < 4) return 0;
    uint16_t fam, port;
    std::memcpy(&fam, addr.data(), 2);
    std::memcpy(&port, addr.data() + 2, 2);
    if (family == AF_INET_) {
        uint32_t in = 0;
        if (addr.size() < 16) return 0;
        std::memcpy(&in, addr.data() + 4, 4);
        if (fam != AF_INET_ && (fam != AF_UNSPEC_ || in != 0)) return 0;
    } else if (addr.size() < 24 || fam != AF_INET6_) {
        return 0;
    }
    return ntohs(port);
}

// inet_bind: the host checks the address; the port's privilege is the guest task's
// (inet_port_requires_bind_service), not emu's.
long inet_socket::bind(SysCtx& c, const std::vector<uint8_t>& addr) {
    const unsigned port = bind_port(family_, addr);
    if (port && port < ip_unprivileged_port_start() && !(c.task.cred.cap_effective & (1ull << CAP_NET_BIND_SERVICE)))
        return -EACCES;
    return host_ret(::bind(hfd_, reinterpret_cast<const sockaddr*>(addr.data()), static_cast<socklen_t>(addr.size())));
}

// inet_stream_connect / inet_dgram_connect: a stream connect in progress waits for the
// handshake (until SO_SNDTIMEO: EINPROGRESS); connecting again then reports the result and
// moves the host socket on as Linux's blocking connect does (connected, or unconnected with
// its error).
long inet_socket::connect(SysCtx& c, const std::vector<uint8_t>& addr) {
    auto host_connect = [&] {
        return host_ret(
            ::connect(hfd_, reinterpret_cast<const sockaddr*>(addr.data()), static_cast<socklen_t>(addr.size())));
    };
    long r = host_connect();
    if (r != -EINPROGRESS && r != -EALREADY) return r;
    arm(POLLOUT);
    if (f_flags & O_NONBLOCK_) return r;
    const std::optional<ktime_t> until = deadline(SO_SNDTIMEO);
    for (;;) {
        if (long w = wait_host(c.task, POLLOUT, until, "connect")) return w == -EAGAIN ? -EINPROGRESS : w;
        r = host_connect();
        if (r != -EINPROGRESS && r != -EALREADY) return r;
    }
}

long inet_socket::listen(SysCtx&, int backlog) { return host_ret(::listen(hfd_, backlog)); }

// inet_accept: the next connection, waiting for one (until SO_RCVTIMEO: EAGAIN).
long inet_socket::accept(SysCtx& c, unsigned nflags, std::shared_ptr<socket>& out) {
    const long r = host_wait_for(c.task, POLLIN, f_flags & O_NONBLOCK_, deadline(SO_RCVTIMEO), "accept", [&] {
        return static_cast<long>(::accept4(hfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    });
    if (r < 0) return r;
    out = std::make_shared<inet_socket>(family_, type_, static_cast<int>(r), nflags);
    return 0;
}

long inet_socket::getname(std::vector<uint8_t>& out, bool peer) {
    sockaddr_storage ss{};
    socklen_t l = sizeof ss;
    const int r = peer ? ::getpeername(hfd_, reinterpret_cast<sockaddr*>(&ss), &l)
                       : ::getsockname(hfd_, reinterpret_cast<sockaddr*>(&ss), &l);
    if (r < 0) return -errno;
    const auto* p = reinterpret_cast<const uint8_t*>(&ss);
    out.assign(p, p + std::min<size_t>(l, sizeof ss));
    return 0;
}

// One send of a host buffer (tcp_sendmsg / udp_sendmsg): a stream sends it all, waiting
// for room (until SO_SNDTIMEO), and reports what went before an error; EPIPE raises
// SIGPIPE unless MSG_NOSIGNAL (sk_stream_error).
long inet_socket::send_buf(task_struct& task, const uint8_t* buf, size_t n, unsigned flags,
                           const std::vector<uint8_t>& name, const std::vector<uint8_t>* control) {
    const bool nb = nonblock(flags);
    const int hflags =
        static_cast<int>((flags & ~(MSG_DONTWAIT_ | MSG_NOSIGNAL_ | MSG_CMSG_COMPAT_)) | MSG_DONTWAIT | MSG_NOSIGNAL);
    const auto* to = name.empty() ? nullptr : reinterpret_cast<const sockaddr*>(name.data());
    const auto tolen = static_cast<socklen_t>(name.size());
    const std::optional<ktime_t> until = deadline(SO_SNDTIMEO);
    size_t sent = 0;
    long r = 0;
    do {
        r = host_wait_for(task, POLLOUT, nb, until, "a socket write", [&] {
            iovec iov{const_cast<uint8_t*>(buf + sent), n - sent};
            msghdr hm{};
            hm.msg_name = const_cast<sockaddr*>(to);
            hm.msg_namelen = tolen;
            hm.msg_iov = &iov;
            hm.msg_iovlen = 1;
            if (control && !control->empty()) {  // the first send carries them
                hm.msg_control = const_cast<uint8_t*>(control->data());
                hm.msg_controllen = control->size();
            }
            return static_cast<long>(::sendmsg(hfd_, &hm, hflags));
        });
        if (r > 0) control = nullptr;
        if (r < 0) break;
        sent += static_cast<size_t>(r);
    } while (sent < n && sock_type() == SOCK_STREAM);
    if (r == -EPIPE && !(flags & MSG_NOSIGNAL_)) send_sig(SIGPIPE_, task);
    if (sent) return static_cast<long>(sent);
    return r < 0 ? r : 0;
}

// One receive into a host buffer (tcp_recvmsg / udp_recvmsg): waits for data (until
// SO_RCVTIMEO); a stream with MSG_WAITALL waits until the buffer is full, the end or an
// error.
long inet_socket::recv_buf(task_struct& task, uint8_t* buf, size_t n, unsigned flags, std::vector<uint8_t>* name,
                           unsigned& msg_flags, std::vector<uint8_t>* control) {
    const bool nb = nonblock(flags);
    const int hflags = static_cast<int>(
        (flags & ~(MSG_DONTWAIT_ | MSG_WAITALL_ | MSG_CMSG_COMPAT_ | MSG_CMSG_CLOEXEC_)) | MSG_DONTWAIT);
    const std::optional<ktime_t> until = deadline(SO_RCVTIMEO);
    const bool waitall = (flags & MSG_WAITALL_) && !(flags & MSG_PEEK_) && sock_type() == SOCK_STREAM;
    size_t got = 0;
    for (;;) {
        sockaddr_storage ss{};
        iovec iov{buf + got, n - got};
        msghdr hm{};
        hm.msg_name = &ss;
        hm.msg_namelen = sizeof ss;
        hm.msg_iov = &iov;
        hm.msg_iovlen = 1;
        alignas(cmsghdr) uint8_t cbuf[1024];
        if (control) {
            hm.msg_control = cbuf;
            hm.msg_controllen = sizeof cbuf;
        }
        const long r = host_wait_for(task, POLLIN | POLLPRI, nb, until, "a socket read",
                                     [&] { return static_cast<long>(::recvmsg(hfd_, &hm, hflags)); });
        if (r < 0) return got ? static_cast<long>(got) : r;
        msg_flags = static_cast<unsigned>(hm.msg_flags) & ~static_cast<unsigned>(MSG_CMSG_CLOEXEC);
        if (name && hm.msg_namelen) {
            const auto* p = reinterpret_cast<const uint8_t*>(&ss);
            name->assign(p, p + std::min<size_t>(hm.msg_namelen, sizeof ss));
        }
        if (control) control->assign(cbuf, cbuf + hm.msg_controllen);
        if (!waitall) return r;
        got += static_cast<size_t>(r);
        if (!r || got >= n) return static_cast<long>(got);
    }
}

// The user's control messages in the host's layout (cmsghdr_from_user_compat_to_kern for
// i386): EINVAL for a header that does not fit, ENOBUFS beyond net.core.optmem_max.
long get_cmsgs(SysCtx& c, const user_msghdr_& um, std::vector<uint8_t>& host) {
    constexpr uint64_t OPTMEM_MAX = 20480;
    if (!um.control || !um.controllen) return 0;
    const size_t hdr = c.compat ? 12 : 16;
    if (um.controllen < hdr) return -EINVAL;
    if (um.controllen > OPTMEM_MAX) return -ENOBUFS;
    std::vector<uint8_t> g(um.controllen);
    if (!copy_from_user(c.mm, g.data(), VirtAddr(um.control), g.size())) return -EFAULT;
    auto align = [&](size_t n) { return c.compat ? (n + 3) & ~size_t(3) : (n + 7) & ~size_t(7); };
    for (size_t at = 0; at + hdr <= g.size();) {
        uint64_t len = 0;
        std::memcpy(&len, &g[at], c.compat ? 4 : 8);
        if (len < hdr || len > g.size() - at) return -EINVAL;
        int32_t lt[2];
        std::memcpy(lt, &g[at + (c.compat ? 4 : 8)], 8);
        const size_t dlen = len - hdr, base = host.size();
        host.resize(base + CMSG_SPACE(dlen));
        auto* cm = reinterpret_cast<cmsghdr*>(&host[base]);
        cm->cmsg_len = CMSG_LEN(dlen);
        cm->cmsg_level = lt[0];
        cm->cmsg_type = lt[1];
        if (dlen) std::memcpy(CMSG_DATA(cm), &g[at + hdr], dlen);
        at += align(len);
    }
    return 0;
}

long inet_socket::sendmsg(SysCtx& c, socket_msg& msg) {
    std::vector<uint8_t> control;
    if (msg.user)
        if (long e = get_cmsgs(c, *msg.user, control)) return e;
    const uint64_t total = msg.iov.total;
    const bool stream = sock_type() == SOCK_STREAM;
    if (!stream && total > 65535 + 40) return -EMSGSIZE;  // bigger than any IP datagram
    std::vector<uint8_t> buf(std::min<uint64_t>(total, stream ? INET_CHUNK : total));
    uint64_t sent = 0;
    do {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(total - sent, buf.size()));
        if (n && !msg.iov.copy(c, sent, buf.data(), n, false)) return sent ? static_cast<long>(sent) : -EFAULT;
        const long r = send_buf(c.task, buf.data(), n, msg.flags, msg.name, sent ? nullptr : &control);
        if (r < 0) return sent ? static_cast<long>(sent) : r;
        sent += static_cast<uint64_t>(r);
        if (static_cast<size_t>(r) < n) break;  // non-blocking, a timeout or a signal: a partial send
    } while (sent < total);
    return static_cast<long>(sent);
}

// The host's control messages into the user's control buffer in the guest's layout
// (put_cmsg: a message that does not fit whole is cut, with MSG_CTRUNC); an i386 guest's
// SO_TIMESTAMP(NS)_OLD carry 32-bit times. Returns the bytes written, or -EFAULT.
long put_cmsgs(SysCtx& c, const user_msghdr_& um, const std::vector<uint8_t>& host, unsigned& msg_flags) {
    constexpr int SCM_TIMESTAMP_OLD = 29, SCM_TIMESTAMPNS_OLD = 35;
    const size_t hdr = c.compat ? 12 : 16;
    auto align = [&](size_t n) { return c.compat ? (n + 3) & ~size_t(3) : (n + 7) & ~size_t(7); };
    msghdr hm{};
    hm.msg_control = const_cast<uint8_t*>(host.data());
    hm.msg_controllen = host.size();
    uint64_t at = um.control, left = um.control ? um.controllen : 0, used = 0;
    for (cmsghdr* cm = host.empty() ? nullptr : CMSG_FIRSTHDR(&hm); cm; cm = CMSG_NXTHDR(&hm, cm)) {
        std::vector<uint8_t> data(CMSG_DATA(cm), reinterpret_cast<uint8_t*>(cm) + cm->cmsg_len);
        if (c.compat && cm->cmsg_level == SOL_SOCKET &&
            (cm->cmsg_type == SCM_TIMESTAMP_OLD || cm->cmsg_type == SCM_TIMESTAMPNS_OLD) && data.size() == 16) {
            int64_t t[2];
            std::memcpy(t, data.data(), 16);
            const int32_t t32[2] = {static_cast<int32_t>(t[0]), static_cast<int32_t>(t[1])};
            data.assign(reinterpret_cast<const uint8_t*>(t32), reinterpret_cast<const uint8_t*>(t32) + 8);
        }
        if (left < hdr) {
            msg_flags |= MSG_CTRUNC_;
            break;
        }
        uint64_t cmlen = hdr + data.size();
        if (left < cmlen) {
            msg_flags |= MSG_CTRUNC_;
            cmlen = left;
        }
        std::vector<uint8_t> out(hdr + data.size());
        std::memcpy(&out[0], &cmlen, c.compat ? 4 : 8);
        const int32_t lt[2] = {cm->cmsg_level, cm->cmsg_type};
        std::memcpy(&out[c.compat ? 4 : 8], lt, 8);
        if (!data.empty()) std::memcpy(&out[hdr], data.data(), data.size());
        if (!copy_to_user(c.mm, VirtAddr(at), out.data(), cmlen)) return -EFAULT;
        const uint64_t step = std::min<uint64_t>(align(hdr + data.size()), left);
        at += step, left -= step, used += step;
    }
    return static_cast<long>(used);
}

long inet_socket::recvmsg(SysCtx& c, socket_msg& msg) {
    std::vector<uint8_t> buf(std::min<uint64_t>(msg.iov.total, INET_CHUNK)), control;
    const long r =
        recv_buf(c.task, buf.data(), buf.size(), msg.flags, &msg.name, msg.msg_flags, msg.user ? &control : nullptr);
    if (r < 0) return r;
    const size_t n = std::min<size_t>(static_cast<size_t>(r), buf.size());  // MSG_TRUNC reports more
    if (n && !msg.iov.copy(c, 0, buf.data(), n, true)) return -EFAULT;
    if (msg.user) {
        const long used = put_cmsgs(c, *msg.user, control, msg.msg_flags);
        if (used < 0) return used;
        msg.control_used = static_cast<uint64_t>(used);
    }
    return r;
}

long inet_socket::read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) {
    if (!n) return 0;
    unsigned msg_flags = 0;
    return recv_buf(iocb.task, buf, static_cast<size_t>(n), (iocb.ki_flags & IOCB_NOWAIT) ? MSG_DONTWAIT_ : 0, nullptr,
                    msg_flags);
}

long inet_socket::write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) {
    unsigned flags = 0;
    if (iocb.ki_flags & IOCB_NOWAIT) flags |= MSG_DONTWAIT_;
    if (iocb.ki_flags & IOCB_NOSIGNAL) flags |= MSG_NOSIGNAL_;
    return send_buf(iocb.task, buf, static_cast<size_t>(n), flags, {});
}

// The host socket's readiness (tcp_poll / udp_poll); a poller queues on wq_, woken when
// the host fd has what it asks for.
uint32_t inet_socket::poll(poll_table* wait) {
    if (wait && wait->qproc) {
        arm(static_cast<short>(wait->key & (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM | POLLRDHUP)));
        poll_wait(*this, wq_, wait);
    }
    pollfd p{
        hfd_,
        static_cast<short>(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM | POLLRDBAND | POLLWRBAND | POLLRDHUP),
        0};
    if (::poll(&p, 1, 0) < 0) return EPOLLERR_;
    return static_cast<uint16_t>(p.revents);
}

long inet_socket::shutdown(int how) {
    const long r = host_ret(::shutdown(hfd_, how));
    wake_up(wq_);
    return r;
}

// The timeouts' struct timeval in the guest's layout: SO_*TIMEO_OLD is i386's 32-bit one in
// a compat task; SO_*TIMEO_NEW is always 64-bit (__kernel_sock_timeval).
bool timeo_guest_is_32(const SysCtx& c, int optname) {
    return c.compat && (optname == SO_RCVTIMEO_OLD_ || optname == SO_SNDTIMEO_OLD_);
}
bool is_timeo(int level, int optname) {
    return level == SOL_SOCKET_ && (optname == SO_RCVTIMEO_OLD_ || optname == SO_SNDTIMEO_OLD_ ||
                                    optname == SO_RCVTIMEO_NEW_ || optname == SO_SNDTIMEO_NEW_);
}
int host_timeo_name(int optname) {
    return (optname == SO_RCVTIMEO_OLD_ || optname == SO_RCVTIMEO_NEW_) ? SO_RCVTIMEO : SO_SNDTIMEO;
}

// sock_setsockopt and the protocols' options, on the host socket; the timeouts are
// translated to the host's struct timeval (and waits here read them back from it).
long inet_socket::setsockopt(SysCtx& c, int level, int optname, const uint8_t* val, uint32_t len) {
    if (is_timeo(level, optname)) {
        timeval tv{};
        if (timeo_guest_is_32(c, optname)) {
            if (len < 8) return -EINVAL;
            int32_t t[2];
            std::memcpy(t, val, 8);
            tv = {t[0], t[1]};
        } else {
            if (len < 16) return -EINVAL;
            int64_t t[2];
            std::memcpy(t, val, 16);
            tv = {t[0], t[1]};
        }
        return host_ret(::setsockopt(hfd_, SOL_SOCKET, host_timeo_name(optname), &tv, sizeof tv));
    }
    const long r = host_ret(::setsockopt(hfd_, level, optname, val, len));
    wake_up(wq_);  // a bigger SO_SNDBUF or a new SO_RCVLOWAT changes what waiters see
    return r;
}

long inet_socket::getsockopt(SysCtx& c, int level, int optname, uint8_t* val, uint32_t& len) {
    if (is_timeo(level, optname)) {
        timeval tv{};
        socklen_t l = sizeof tv;
        if (::getsockopt(hfd_, SOL_SOCKET, host_timeo_name(optname), &tv, &l) < 0) return -errno;
        uint8_t out[16];
        size_t n;
        if (timeo_guest_is_32(c, optname)) {
            const int32_t t[2] = {static_cast<int32_t>(tv.tv_sec), static_cast<int32_t>(tv.tv_usec)};
            std::memcpy(out, t, n = 8);
        } else {
            const int64_t t[2] = {tv.tv_sec, tv.tv_usec};
            std::memcpy(out, t, n = 16);
        }
        len = static_cast<uint32_t>(std::min<size_t>(len, n));
        std::memcpy(val, out, len);
        return 0;
    }
    socklen_t l = len;
    if (::getsockopt(hfd_, level, optname, val, &l) < 0) return -errno;
    len = l;
    return 0;
}

// The socket ioctls with an int argument (inet_ioctl, sock_ioctl).
bool inet_socket::ioctl_sizes(unsigned long cmd, size_t& in, size_t& out) const {
    switch (cmd) {
    case SIOCINQ_:
    case SIOCOUTQ_:
    case SIOCATMARK_: in = 0, out = 4; return true;
    default: return false;
    }
}

long inet_socket::ioctl(unsigned long cmd, uint8_t* arg, size_t&, size_t&) {
    int v = 0;
    switch (cmd) {
    case SIOCINQ_:
    case SIOCOUTQ_:
    case SIOCATMARK_:
        if (::ioctl(hfd_, cmd, &v) < 0) return -errno;
        std::memcpy(arg, &v, 4);
        return 0;
    default: return -ENOTTY;  // dev_ioctl's answer to what nobody knows
    }
}

}  // namespace

// inet_create / inet6_create: the host makes the socket, so its checks of type and
// protocol are the guest's; a raw socket needs the guest task's CAP_NET_RAW, not emu's.
long inet_create(SysCtx& c, int family, int type, int protocol, unsigned f_flags, std::shared_ptr<socket>& out) {
    const int hfd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (hfd < 0) return -errno;
    if (type == SOCK_RAW_ && !(c.task.cred.cap_effective & (1ull << CAP_NET_RAW))) {
        ::close(hfd);
        return -EPERM;
    }
    out = std::make_shared<inet_socket>(family, type, hfd, f_flags);
    return 0;
}

}  // namespace guestos
