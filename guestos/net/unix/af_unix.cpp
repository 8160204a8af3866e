// AF_UNIX sockets (net/unix/af_unix.c) and the socket syscalls over them (net/socket.c):
// socketpair of SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET, sends queued as sk_buffs on the
// peer's receive queue (charged to the sender's sk_wmem_alloc until read), SCM_RIGHTS
// descriptors carried in them, shutdown, poll, EPIPE and SIGPIPE; i386's socketcall.
// Named sockets (bind, connect, listen, accept) are not here yet: socket() makes an
// unconnected one, which sends ENOTCONN as Linux's does.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "guestos/fs/internal.h"
#include "guestos/include/anon_inodes.h"
#include "guestos/include/poll.h"
#include "guestos/include/signal.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/socket.h"
#include "guestos/kernel/sched/core.h"

namespace guestos {

namespace {

constexpr int TCP_ESTABLISHED = 1, TCP_CLOSE = 7;
constexpr size_t SKB_OVERHEAD = 768;    // what an sk_buff costs beyond its data (truesize)
constexpr size_t UNIX_SKB_MAX = 36864;  // the most one stream skb carries (head + 32 KiB frags)
constexpr uint64_t OPTMEM_MAX = 20480;  // net.core.optmem_max: the largest control buffer

// net.core.wmem_default, the sndbuf and rcvbuf of a new socket: the host's, as a Linux
// guest configured like it would see.
uint32_t wmem_default() {
    static const uint32_t v = [] {
        unsigned n = 212992;
        if (FILE* f = std::fopen("/proc/sys/net/core/wmem_default", "r")) {
            if (std::fscanf(f, "%u", &n) != 1) n = 212992;
            std::fclose(f);
        }
        return n;
    }();
    return v;
}

struct unix_sock;

// One queued send (struct sk_buff with its unix_skb_parms): bytes, descriptors in flight,
// and the socket whose sk_wmem_alloc it is charged to.
struct sk_buff {
    std::vector<uint8_t> data;
    size_t consumed = 0;  // stream reads take a buffer in parts
    std::vector<std::shared_ptr<file>> fp;
    std::weak_ptr<unix_sock> owner;
    size_t truesize = 0;
    size_t len() const { return data.size() - consumed; }
};

// A socket (struct sock + struct unix_sock): its state, shutdown bits, pending error, peer
// and receive queue, and the wait queue its readers, writers and pollers sleep on.
struct unix_sock {
    int sk_type = SOCK_STREAM_;
    int sk_state = TCP_CLOSE;
    unsigned sk_shutdown = 0;
    int sk_err = 0;
    bool dead = false;  // SOCK_DEAD: released
    // unix_peer: held until this socket is released or disconnected, so a peer that went
    // is still seen (dead) by sends.
    std::shared_ptr<unix_sock> peer;
    std::deque<sk_buff> sk_receive_queue;
    size_t sk_wmem_alloc = 0;
    uint32_t sk_sndbuf = wmem_default(), sk_rcvbuf = wmem_default();
    int peercred_pid = 0;
    uint32_t peercred_uid = 0, peercred_gid = 0;
    wait_queue_head wq;

    bool connection_based() const { return sk_type != SOCK_DGRAM_; }
    // Room to write: what is in flight is at most a quarter of sndbuf (unix_writable).
    bool writable() const { return (sk_wmem_alloc << 2) <= sk_sndbuf; }
    int sock_error() { return std::exchange(sk_err, 0); }
};

// Uncharges a consumed buffer from its sender and wakes the sender's writers (sock_wfree).
void kfree_skb(sk_buff& skb) {
    if (auto o = skb.owner.lock()) {
        o->sk_wmem_alloc -= std::min(o->sk_wmem_alloc, skb.truesize);
        if (o->writable()) wake_up_poll(o->wq, EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_);
    }
    skb.owner.reset();
}

// Queues skb on other's receive queue, charged to sk (skb_set_owner_w + sk_data_ready).
void queue_skb(unix_sock& sk, const std::shared_ptr<unix_sock>& self, unix_sock& other, sk_buff skb) {
    skb.truesize = skb.data.size() + SKB_OVERHEAD;
    skb.owner = self;
    sk.sk_wmem_alloc += skb.truesize;
    other.sk_receive_queue.push_back(std::move(skb));
    wake_up_poll(other.wq, EPOLLIN_ | EPOLLPRI_ | EPOLLRDNORM_ | EPOLLRDBAND_);
}

// The user's buffers of one sendmsg or recvmsg, copied to or from in order.
struct user_iov {
    std::vector<std::pair<uint64_t, uint64_t>> segs;
    uint64_t total = 0;
    // Copies n bytes at offset off of the buffers from (to) host memory: false on a fault.
    bool copy(SysCtx& c, uint64_t off, uint8_t* host, uint64_t n, bool to_user) const {
        for (auto [base, len] : segs) {
            if (off >= len) {
                off -= len;
                continue;
            }
            const uint64_t k = std::min(len - off, n);
            const bool ok = to_user ? copy_to_user(c.mm, VirtAddr(base + off), host, k)
                                    : copy_from_user(c.mm, host, VirtAddr(base + off), k);
            if (!ok) return false;
            host += k, n -= k, off = 0;
            if (!n) break;
        }
        return true;
    }
};

// A msghdr's iovec array: more than UIO_MAXIOV entries is EMSGSIZE (__copy_msghdr), the
// rest as read and write check it (fs/read_write's import_iovec).
long import_iovec(SysCtx& c, uint64_t uiov, uint64_t cnt, user_iov& out) {
    if (cnt > UIO_MAXIOV) return -EMSGSIZE;
    const long total = guestos::import_iovec(c, VirtAddr(uiov), cnt, out.segs);
    if (total < 0) return total;
    out.total = static_cast<uint64_t>(total);
    return 0;
}

// One sendmsg or recvmsg as the protocol sees it (struct msghdr in the kernel).
struct kmsghdr {
    user_iov iov;
    unsigned flags = 0;                     // the call's flags (MSG_DONTWAIT, MSG_PEEK, ...)
    unsigned msg_flags = 0;                 // what recvmsg reports (MSG_TRUNC, MSG_CTRUNC)
    bool has_name = false;                  // a destination or source address was given
    std::vector<std::shared_ptr<file>> fp;  // SCM_RIGHTS to send, or received
};

class socket_file;
socket_file* sockfd_lookup(SysCtx& c, long fd, long& err);

// A socket as an open file (struct socket + socket_file_ops).
class socket_file final : public file {
public:
    explicit socket_file(std::shared_ptr<unix_sock> sk, unsigned flags) : sk_(std::move(sk)) {
        f_flags = O_RDWR | (flags & O_NONBLOCK);
        f_mode = FMODE_NOWAIT;  // a stream: no pread or pwrite; RWF_NOWAIT is MSG_DONTWAIT
        static uint64_t next_ino = 100000;
        ino_ = ++next_ino;
    }
    ~socket_file() override { unix_release_sock(); }

    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) override;
    long write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) override;
    long llseek(int64_t, int) override { return -ESPIPE; }
    long getattr(struct stat& st) override { return anon_inode_getattr(st, S_IFSOCK | 0777, ino_); }
    bool can_poll() const override { return true; }
    bool has_splice_write() const override { return true; }  // splice_to_socket
    bool has_splice_read() const override { return true; }   // sock_splice_read
    // unix_stream_splice_read: SPLICE_F_NONBLOCK reads with MSG_DONTWAIT; datagrams go
    // through copy_splice_read, which waits.
    unsigned splice_read_iocb_flags(unsigned splice_flags) const override {
        return sk_->sk_type == SOCK_STREAM_ && (splice_flags & SPLICE_F_NONBLOCK_) ? IOCB_NOWAIT : 0;
    }
    uint32_t poll(poll_table* wait) override;

    long sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf);
    long recvmsg(task_struct& task, SysCtx* c, kmsghdr& msg, uint8_t* kbuf);
    long shutdown(int how);
    long getsockopt(int level, int optname, uint8_t* val, uint32_t& len);
    long setsockopt(int level, int optname, const uint8_t* val, uint32_t len);
    unix_sock& sk() { return *sk_; }
    const std::shared_ptr<unix_sock>& sk_ptr() { return sk_; }

private:
    bool nonblock(unsigned flags) const { return (f_flags & O_NONBLOCK) || (flags & MSG_DONTWAIT_); }
    long stream_sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf);
    long dgram_sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf);
    long stream_recvmsg(task_struct& task, SysCtx* c, kmsghdr& msg, uint8_t* kbuf);
    long dgram_recvmsg(task_struct& task, SysCtx* c, kmsghdr& msg, uint8_t* kbuf);
    // Takes data for one buffer from the user (or kbuf for write): false on a fault.
    static bool take(SysCtx* c, const kmsghdr& msg, const uint8_t* kbuf, uint64_t off, uint8_t* dst, uint64_t n) {
        if (kbuf) {
            std::memcpy(dst, kbuf + off, n);
            return true;
        }
        return msg.iov.copy(*c, off, dst, n, false);
    }
    static bool give(SysCtx* c, const kmsghdr& msg, uint8_t* kbuf, uint64_t off, const uint8_t* src, uint64_t n) {
        if (kbuf) {
            std::memcpy(kbuf + off, src, n);
            return true;
        }
        return msg.iov.copy(*c, off, const_cast<uint8_t*>(src), n, true);
    }
    // Sleeps on the socket's queue until cond or a signal: 0 or -ERESTARTSYS.
    template <class Cond>
    long wait(task_struct& task, Cond cond, const char* what) {
        return wait_event_interruptible(task, sk_->wq, cond, what);
    }
    void unix_release_sock();

    std::shared_ptr<unix_sock> sk_;
    uint64_t ino_ = 0;
};

// The socket goes (unix_release_sock): a connected peer sees both directions shut down
// (and ECONNRESET if data we never read is lost); what is queued here is dropped.
void socket_file::unix_release_sock() {
    unix_sock& sk = *sk_;
    sk.dead = true;
    sk.sk_state = TCP_CLOSE;
    sk.sk_shutdown = SHUTDOWN_MASK;
    if (auto skpair = sk.peer) {
        if (sk.connection_based()) {
            skpair->sk_shutdown = SHUTDOWN_MASK;
            if (!sk.sk_receive_queue.empty()) skpair->sk_err = ECONNRESET;
        }
        wake_up(skpair->wq);
    }
    sk.peer.reset();
    for (sk_buff& skb : sk.sk_receive_queue) kfree_skb(skb);
    sk.sk_receive_queue.clear();
    wake_up(sk.wq);
}

long socket_file::stream_sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf) {
    unix_sock& sk = *sk_;
    if (msg.flags & MSG_OOB_) return -EOPNOTSUPP;
    if (msg.has_name) return sk.sk_state == TCP_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
    auto other = sk.peer;
    if (!other) return -ENOTCONN;
    const uint64_t len = msg.iov.total;
    uint64_t sent = 0;
    auto pipe_err = [&]() -> long {
        if (!sent && !(msg.flags & MSG_NOSIGNAL_)) send_sig(SIGPIPE_, task);
        return sent ? static_cast<long>(sent) : -EPIPE;
    };
    if (sk.sk_shutdown & SEND_SHUTDOWN) return pipe_err();
    bool fds_sent = false;
    while (sent < len || (!len && !fds_sent && !msg.fp.empty())) {
        const uint64_t size = std::min<uint64_t>({len - sent, (sk.sk_sndbuf >> 1) - 64, UNIX_SKB_MAX});
        // sock_alloc_send_pskb: wait for sndbuf room.
        if (sk.sk_wmem_alloc >= sk.sk_sndbuf) {
            if (nonblock(msg.flags)) return sent ? static_cast<long>(sent) : -EAGAIN;
            if (long e = wait(
                    task,
                    [&] { return sk.sk_wmem_alloc < sk.sk_sndbuf || (sk.sk_shutdown & SEND_SHUTDOWN) || other->dead; },
                    "a socket write"))
                return sent ? static_cast<long>(sent) : e;
            continue;
        }
        if (other->dead || (other->sk_shutdown & RCV_SHUTDOWN) || (sk.sk_shutdown & SEND_SHUTDOWN)) return pipe_err();
        sk_buff skb;
        skb.data.resize(size);
        if (size && !take(c, msg, kbuf, sent, skb.data.data(), size)) return sent ? static_cast<long>(sent) : -EFAULT;
        if (!fds_sent) skb.fp = std::move(msg.fp);  // the descriptors ride on the first buffer
        fds_sent = true;
        queue_skb(sk, sk_, *other, std::move(skb));
        sent += size;
    }
    return static_cast<long>(sent);
}

long socket_file::dgram_sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf) {
    unix_sock& sk = *sk_;
    if (msg.flags & MSG_OOB_) return -EOPNOTSUPP;
    if (sk.sk_type == SOCK_SEQPACKET_) {  // unix_seqpacket_sendmsg
        if (int e = sk.sock_error()) return -e;
        if (sk.sk_state != TCP_ESTABLISHED) return -ENOTCONN;
        msg.has_name = false;
    }
    if (msg.has_name) return -ECONNREFUSED;  // no named sockets to find
    auto other = sk.peer;
    if (!other) return -ENOTCONN;
    const uint64_t len = msg.iov.total;
    if (len > sk.sk_sndbuf - 32) return -EMSGSIZE;
    for (;;) {  // sock_alloc_send_pskb
        if (sk.sk_shutdown & SEND_SHUTDOWN) return -EPIPE;
        if (sk.sk_wmem_alloc < sk.sk_sndbuf) break;
        if (nonblock(msg.flags)) return -EAGAIN;
        if (long e = wait(
                task, [&] { return sk.sk_wmem_alloc < sk.sk_sndbuf || (sk.sk_shutdown & SEND_SHUTDOWN); },
                "a socket write"))
            return e;
    }
    sk_buff skb;
    skb.data.resize(len);
    if (len && !take(c, msg, kbuf, 0, skb.data.data(), len)) return -EFAULT;
    if (other->dead) {
        if (sk.sk_type == SOCK_SEQPACKET_) return -EPIPE;
        sk.peer.reset();  // the peer went: disconnect, drop what it sent (unix_dgram_disconnected)
        sk.sk_state = TCP_CLOSE;
        for (sk_buff& q : sk.sk_receive_queue) kfree_skb(q);
        sk.sk_receive_queue.clear();
        return -ECONNREFUSED;
    }
    if (other->sk_shutdown & RCV_SHUTDOWN) return -EPIPE;
    skb.fp = std::move(msg.fp);
    queue_skb(sk, sk_, *other, std::move(skb));
    return static_cast<long>(len);
}

long socket_file::sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf) {
    return sk_->sk_type == SOCK_STREAM_ ? stream_sendmsg(task, c, msg, kbuf) : dgram_sendmsg(task, c, msg, kbuf);
}

// unix_stream_read_generic: bytes from consecutive buffers until the request is met (one
// byte, or all with MSG_WAITALL); a buffer carrying descriptors ends the read.
long socket_file::stream_recvmsg(task_struct& task, SysCtx* c, kmsghdr& msg, uint8_t* kbuf) {
    unix_sock& sk = *sk_;
    if (msg.flags & MSG_OOB_) return -EOPNOTSUPP;
    if (sk.sk_state != TCP_ESTABLISHED) return -EINVAL;
    const uint64_t size = msg.iov.total;
    const uint64_t target = (msg.flags & MSG_WAITALL_) ? size : std::min<uint64_t>(size, 1);
    const bool peek = msg.flags & MSG_PEEK_;
    uint64_t copied = 0, skip = 0;
    size_t index = 0;  // the buffer a peek has reached
    long err = 0;
    while (copied < size) {
        if (index >= sk.sk_receive_queue.size()) {
            if (copied >= target) break;
            if (int e = sk.sock_error()) {
                err = -e;
                break;
            }
            if (sk.sk_shutdown & RCV_SHUTDOWN) break;
            if (nonblock(msg.flags)) {
                err = -EAGAIN;
                break;
            }
            const size_t have = sk.sk_receive_queue.size();
            if (long e = wait(
                    task,
                    [&] { return sk.sk_receive_queue.size() > have || sk.sk_err || (sk.sk_shutdown & RCV_SHUTDOWN); },
                    "a socket read")) {
                err = e;
                break;
            }
            continue;
        }
        sk_buff& skb = sk.sk_receive_queue[index];
        const uint64_t avail = skb.len() - (peek ? skip : 0);
        const uint64_t chunk = std::min<uint64_t>(avail, size - copied);
        if (chunk && !give(c, msg, kbuf, copied, skb.data.data() + skb.consumed + (peek ? skip : 0), chunk)) {
            if (!copied) err = -EFAULT;
            break;
        }
        copied += chunk;
        const bool had_fds = !skb.fp.empty();
        if (peek) {
            if (had_fds) msg.fp = skb.fp;  // scm_fp_dup
            skip += chunk;
            if (skip == skb.len()) ++index, skip = 0;
            if (had_fds) break;
            continue;
        }
        if (had_fds) msg.fp = std::move(skb.fp);
        skb.consumed += chunk;
        if (skb.len()) break;
        kfree_skb(skb);
        sk.sk_receive_queue.pop_front();
        if (had_fds) break;
        if (!size) break;
    }
    return copied ? static_cast<long>(copied) : err;
}

// __unix_dgram_recvmsg: one message, cut to the buffer (MSG_TRUNC says so; with MSG_TRUNC
// in the call the whole length is returned).
long socket_file::dgram_recvmsg(task_struct& task, SysCtx* c, kmsghdr& msg, uint8_t* kbuf) {
    unix_sock& sk = *sk_;
    if (msg.flags & MSG_OOB_) return -EOPNOTSUPP;
    while (sk.sk_receive_queue.empty()) {
        if (int e = sk.sock_error()) return -e;
        if (sk.sk_shutdown & RCV_SHUTDOWN) return 0;
        if (sk.connection_based() && sk.sk_state != TCP_ESTABLISHED) return 0;
        if (nonblock(msg.flags)) return -EAGAIN;
        if (long e = wait(
                task, [&] { return !sk.sk_receive_queue.empty() || sk.sk_err || (sk.sk_shutdown & RCV_SHUTDOWN); },
                "a socket read"))
            return e;
    }
    sk_buff& skb = sk.sk_receive_queue.front();
    uint64_t size = msg.iov.total;
    if (size > skb.len()) size = skb.len();
    else if (size < skb.len()) msg.msg_flags |= MSG_TRUNC_;
    if (size && !give(c, msg, kbuf, 0, skb.data.data(), size)) return -EFAULT;
    const long ret = (msg.flags & MSG_TRUNC_) ? static_cast<long>(skb.len()) : static_cast<long>(size);
    if (msg.flags & MSG_PEEK_) {
        msg.fp = skb.fp;
    } else {
        msg.fp = std::move(skb.fp);
        kfree_skb(skb);
        sk.sk_receive_queue.pop_front();
    }
    return ret;
}

long socket_file::recvmsg(task_struct& task, SysCtx* c, kmsghdr& msg, uint8_t* kbuf) {
    return sk_->sk_type == SOCK_STREAM_ ? stream_recvmsg(task, c, msg, kbuf) : dgram_recvmsg(task, c, msg, kbuf);
}

long socket_file::read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) {
    if (!n) return 0;  // sock_read_iter: as SYS5 does
    kmsghdr msg;
    msg.iov.total = n;
    if (iocb.ki_flags & IOCB_NOWAIT) msg.flags |= MSG_DONTWAIT_;
    return recvmsg(iocb.task, nullptr, msg, buf);
}

long socket_file::write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) {
    kmsghdr msg;
    msg.iov.total = n;
    if (iocb.ki_flags & IOCB_NOWAIT) msg.flags |= MSG_DONTWAIT_;  // sock_write_iter
    if (iocb.ki_flags & IOCB_NOSIGNAL) msg.flags |= MSG_NOSIGNAL_;
    return sendmsg(iocb.task, nullptr, msg, buf);
}

// unix_poll for streams, unix_dgram_poll for datagrams and seqpackets.
uint32_t socket_file::poll(poll_table* wait) {
    unix_sock& sk = *sk_;
    poll_wait(*this, sk.wq, wait);
    uint32_t mask = 0;
    if (sk.sk_err) mask |= EPOLLERR_;
    if (sk.sk_shutdown == SHUTDOWN_MASK) mask |= EPOLLHUP_;
    if (sk.sk_shutdown & RCV_SHUTDOWN) mask |= EPOLLRDHUP_ | EPOLLIN_ | EPOLLRDNORM_;
    if (!sk.sk_receive_queue.empty()) mask |= EPOLLIN_ | EPOLLRDNORM_;
    if (sk.connection_based() && sk.sk_state == TCP_CLOSE) mask |= EPOLLHUP_;
    if (sk.writable()) mask |= EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_;
    return mask;
}

// shutdown's how as sk_shutdown bits on this socket and, connected, the mirror bits on
// the peer (unix_shutdown).
long socket_file::shutdown(int how) {
    if (how < SHUT_RD_ || how > SHUT_RDWR_) return -EINVAL;
    const unsigned mode = static_cast<unsigned>(how) + 1;
    unix_sock& sk = *sk_;
    sk.sk_shutdown |= mode;
    wake_up(sk.wq);
    auto other = sk.peer;
    if (other && sk.connection_based()) {
        unsigned peer_mode = 0;
        if (mode & RCV_SHUTDOWN) peer_mode |= SEND_SHUTDOWN;
        if (mode & SEND_SHUTDOWN) peer_mode |= RCV_SHUTDOWN;
        other->sk_shutdown |= peer_mode;
        wake_up(other->wq);
    }
    return 0;
}

long socket_file::getsockopt(int level, int optname, uint8_t* val, uint32_t& len) {
    if (level != SOL_SOCKET_) return -EOPNOTSUPP;
    unix_sock& sk = *sk_;
    int v = 0;
    switch (optname) {
    case SO_TYPE_: v = sk.sk_type; break;
    case SO_ERROR_: v = sk.sock_error(); break;
    case SO_SNDBUF_: v = static_cast<int>(sk.sk_sndbuf); break;
    case SO_RCVBUF_: v = static_cast<int>(sk.sk_rcvbuf); break;
    case SO_DOMAIN_: v = AF_UNIX_; break;
    case SO_PROTOCOL_: v = 0; break;
    case SO_ACCEPTCONN_: v = 0; break;
    case SO_PEERCRED_: {
        const int32_t cred[3] = {sk.peercred_pid, static_cast<int32_t>(sk.peercred_uid),
                                 static_cast<int32_t>(sk.peercred_gid)};
        len = std::min<uint32_t>(len, sizeof cred);
        std::memcpy(val, cred, len);
        return 0;
    }
    default: return -ENOPROTOOPT;
    }
    len = std::min<uint32_t>(len, sizeof v);
    std::memcpy(val, &v, len);
    return 0;
}

long socket_file::setsockopt(int level, int optname, const uint8_t* val, uint32_t len) {
    if (level != SOL_SOCKET_) return -EOPNOTSUPP;
    if (len < sizeof(int)) return -EINVAL;
    int v;
    std::memcpy(&v, val, sizeof v);
    constexpr uint32_t SOCK_MIN_SNDBUF = 4608, SOCK_MIN_RCVBUF = 2304, WMEM_MAX = 212992;
    switch (optname) {
    case SO_SNDBUF_:  // doubled for bookkeeping, as sk_setsockopt does
        sk_->sk_sndbuf = std::max<uint32_t>(std::min<uint32_t>(static_cast<uint32_t>(std::max(v, 0)), WMEM_MAX) * 2,
                                            SOCK_MIN_SNDBUF);
        wake_up(sk_->wq);
        return 0;
    case SO_RCVBUF_:
        sk_->sk_rcvbuf = std::max<uint32_t>(std::min<uint32_t>(static_cast<uint32_t>(std::max(v, 0)), WMEM_MAX) * 2,
                                            SOCK_MIN_RCVBUF);
        return 0;
    case SO_PASSCRED_: return 0;
    default: return -ENOPROTOOPT;
    }
}

socket_file* sockfd_lookup(SysCtx& c, long fd, long& err) {
    auto f = c.task.files->get(static_cast<uint32_t>(fd));
    if (!f) {
        err = -EBADF;
        return nullptr;
    }
    auto* s = dynamic_cast<socket_file*>(f.get());
    if (!s) err = -ENOTSOCK;
    return s;
}

// The type and flags of socket() and socketpair() (unix_create's checks).
long sock_create_checks(int& type, unsigned& flags) {
    flags = static_cast<unsigned>(type) & ~static_cast<unsigned>(SOCK_TYPE_MASK_);
    if (flags & ~(SOCK_CLOEXEC_ | SOCK_NONBLOCK_)) return -EINVAL;
    type &= SOCK_TYPE_MASK_;
    return 0;
}

// sock_create's and unix_create's checks of the family, type and protocol.
long unix_create_checks(int family, int& type, int protocol) {
    constexpr int SOCK_MAX = 11;
    if (family != AF_UNIX_) return -EAFNOSUPPORT;
    if (type >= SOCK_MAX) return -EINVAL;
    if (protocol && protocol != AF_UNIX_) return -EPROTONOSUPPORT;
    if (type == SOCK_RAW_) type = SOCK_DGRAM_;
    if (type != SOCK_STREAM_ && type != SOCK_DGRAM_ && type != SOCK_SEQPACKET_) return -ESOCKTNOSUPPORT;
    return 0;
}

std::shared_ptr<unix_sock> unix_create(SysCtx& c, int type) {
    auto sk = std::make_shared<unix_sock>();
    sk->sk_type = type;
    sk->peercred_pid = c.task.tgid;
    sk->peercred_uid = c.task.cred.euid;  // cred_to_ucred: the effective ids
    sk->peercred_gid = c.task.cred.egid;
    return sk;
}

// ---- msghdr and control messages ----

struct user_msghdr_ {
    uint64_t name = 0;
    uint32_t namelen = 0;
    uint64_t iov = 0, iovlen = 0, control = 0, controllen = 0;
    uint32_t flags = 0;
};

// Reads a struct msghdr (or compat_msghdr) at va.
bool get_msghdr(SysCtx& c, uint64_t va, user_msghdr_& m) {
    if (c.compat) {
        uint32_t r[7];
        if (!copy_from_user(c.mm, r, VirtAddr(va), sizeof r)) return false;
        m = {r[0], r[1], r[2], r[3], r[4], r[5], r[6]};
        return true;
    }
    uint64_t r[7];
    if (!copy_from_user(c.mm, r, VirtAddr(va), sizeof r)) return false;
    m = {r[0], static_cast<uint32_t>(r[1]), r[2], r[3], r[4], r[5], static_cast<uint32_t>(r[6])};
    return true;
}

// The header of a control message on this ABI: its size and alignment.
size_t cmsg_hdr(const SysCtx& c) { return c.compat ? 12 : 16; }
size_t cmsg_align(const SysCtx& c, size_t n) { return c.compat ? (n + 3) & ~size_t(3) : (n + 7) & ~size_t(7); }

// Parses the control messages of a send (__scm_send): SCM_RIGHTS descriptors are taken;
// others at SOL_SOCKET are refused unless credentials; other levels are ignored.
long scm_send(SysCtx& c, const user_msghdr_& m, std::vector<std::shared_ptr<file>>& fp) {
    if (!m.controllen) return 0;
    if (m.controllen > INT32_MAX) return -ENOBUFS;
    if (m.controllen > OPTMEM_MAX) return -ENOBUFS;
    std::vector<uint8_t> ctl(m.controllen);
    if (!copy_from_user(c.mm, ctl.data(), VirtAddr(m.control), ctl.size())) return -EFAULT;
    const size_t hdr = cmsg_hdr(c);
    for (size_t off = 0; off + hdr <= ctl.size();) {
        uint64_t len = 0;
        std::memcpy(&len, &ctl[off], c.compat ? 4 : 8);
        int32_t level, type;
        std::memcpy(&level, &ctl[off + (c.compat ? 4 : 8)], 4);
        std::memcpy(&type, &ctl[off + (c.compat ? 8 : 12)], 4);
        if (len < hdr || len > ctl.size() - off) return -EINVAL;
        if (level == SOL_SOCKET_) {
            if (type == SCM_RIGHTS_) {
                const size_t num = (len - hdr) / 4;
                if (fp.size() + num > static_cast<size_t>(SCM_MAX_FD_)) return -EINVAL;
                for (size_t i = 0; i < num; ++i) {
                    int32_t fd;
                    std::memcpy(&fd, &ctl[off + hdr + 4 * i], 4);
                    auto f = c.task.files->get(fd);
                    if (!f) return -EBADF;
                    fp.push_back(std::move(f));
                }
            } else if (type != SCM_CREDENTIALS_) {
                return -EINVAL;
            }
        }
        off += cmsg_align(c, len);
    }
    return 0;
}

// Installs received descriptors and writes their SCM_RIGHTS message into the control
// buffer (scm_detach_fds): as many as fit; fewer, or none, set MSG_CTRUNC. Returns the
// control bytes used.
uint64_t scm_detach_fds(SysCtx& c, const user_msghdr_& m, std::vector<std::shared_ptr<file>>& fp, unsigned flags,
                        unsigned& msg_flags, bool& fault) {
    const size_t hdr = cmsg_hdr(c);
    const size_t fdmax = m.controllen > hdr ? (m.controllen - hdr) / 4 : 0;
    size_t i = 0;
    std::vector<int32_t> fds;
    for (; i < fp.size() && i < fdmax; ++i) {
        const long fd = get_unused_fd_install(c, fp[i], flags & MSG_CMSG_CLOEXEC_);
        if (fd < 0) break;
        fds.push_back(static_cast<int32_t>(fd));
    }
    uint64_t used = 0;
    if (i) {
        std::vector<uint8_t> cm(hdr + 4 * i);
        const uint64_t cmlen = hdr + 4 * i;
        std::memcpy(&cm[0], &cmlen, c.compat ? 4 : 8);
        const int32_t level = SOL_SOCKET_, type = SCM_RIGHTS_;
        std::memcpy(&cm[c.compat ? 4 : 8], &level, 4);
        std::memcpy(&cm[c.compat ? 8 : 12], &type, 4);
        std::memcpy(&cm[hdr], fds.data(), 4 * i);
        if (!copy_to_user(c.mm, VirtAddr(m.control), cm.data(), cm.size())) fault = true;
        used = std::min<uint64_t>(cmsg_align(c, cmlen), m.controllen);
    }
    if (i < fp.size()) msg_flags |= MSG_CTRUNC_;
    return used;
}

// ---- the syscalls ----

long do_sendmsg(SysCtx& c, long fd, const user_msghdr_& m, unsigned flags) {
    long err = 0;
    socket_file* s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    kmsghdr msg;
    msg.flags = flags;
    msg.has_name = m.name && m.namelen;
    if (long e = import_iovec(c, m.iov, m.iovlen, msg.iov)) return e;
    if (long e = scm_send(c, m, msg.fp)) return e;
    if (s->f_flags & O_NONBLOCK) msg.flags |= MSG_DONTWAIT_;
    return s->sendmsg(c.task, &c, msg, nullptr);
}

long do_recvmsg(SysCtx& c, long fd, uint64_t umsg, user_msghdr_& m, unsigned flags) {
    long err = 0;
    socket_file* s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    kmsghdr msg;
    msg.flags = flags;
    if (long e = import_iovec(c, m.iov, m.iovlen, msg.iov)) return e;
    if (s->f_flags & O_NONBLOCK) msg.flags |= MSG_DONTWAIT_;
    const long ret = s->recvmsg(c.task, &c, msg, nullptr);
    if (ret < 0) return ret;
    bool fault = false;
    const uint64_t used =
        msg.fp.empty() && !m.controllen ? 0 : scm_detach_fds(c, m, msg.fp, flags, msg.msg_flags, fault);
    if (fault) return -EFAULT;
    // msg_namelen (an unnamed peer: 0), msg_controllen and msg_flags back to the user.
    const uint32_t namelen = 0;
    const uint32_t out_flags = msg.msg_flags | (flags & MSG_CMSG_CLOEXEC_);  // ___sys_recvmsg keeps it
    bool ok = true;
    if (c.compat) {
        const uint32_t cl = static_cast<uint32_t>(used);
        if (m.name) ok = copy_to_user(c.mm, VirtAddr(umsg + 4), &namelen, 4);
        ok = ok && copy_to_user(c.mm, VirtAddr(umsg + 20), &cl, 4) &&
             copy_to_user(c.mm, VirtAddr(umsg + 24), &out_flags, 4);
    } else {
        if (m.name) ok = copy_to_user(c.mm, VirtAddr(umsg + 8), &namelen, 4);
        ok = ok && copy_to_user(c.mm, VirtAddr(umsg + 40), &used, 8) &&
             copy_to_user(c.mm, VirtAddr(umsg + 48), &out_flags, 4);
    }
    return ok ? ret : -EFAULT;
}

// send/sendto and recv/recvfrom: one buffer, no control messages.
long do_sendto(SysCtx& c, long fd, uint64_t buf, uint64_t len, unsigned flags, uint64_t addr, uint32_t addrlen) {
    user_msghdr_ m;
    m.name = addr;
    m.namelen = addrlen;
    long err = 0;
    socket_file* s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    kmsghdr msg;
    msg.flags = flags | ((s->f_flags & O_NONBLOCK) ? MSG_DONTWAIT_ : 0);
    msg.has_name = addr && addrlen;
    len = std::min<uint64_t>(len, MAX_RW_COUNT);
    if (!access_ok(buf, len)) return -EFAULT;
    msg.iov.segs.emplace_back(buf, len);
    msg.iov.total = len;
    return s->sendmsg(c.task, &c, msg, nullptr);
}

long do_recvfrom(SysCtx& c, long fd, uint64_t buf, uint64_t len, unsigned flags, uint64_t addr, uint64_t addrlen) {
    long err = 0;
    socket_file* s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    kmsghdr msg;
    msg.flags = flags | ((s->f_flags & O_NONBLOCK) ? MSG_DONTWAIT_ : 0);
    len = std::min<uint64_t>(len, MAX_RW_COUNT);
    if (!access_ok(buf, len)) return -EFAULT;
    msg.iov.segs.emplace_back(buf, len);
    msg.iov.total = len;
    const long ret = s->recvmsg(c.task, &c, msg, nullptr);
    if (ret >= 0 && addr && addrlen) {
        const uint32_t zero = 0;
        if (!copy_to_user(c.mm, VirtAddr(addrlen), &zero, 4)) return -EFAULT;
    }
    return ret;
}

// The lowest descriptor free from `from` on (what get_unused_fd_flags will give).
long lowest_free_fd(const files_struct& files, long from) {
    long fd = from;
    while (files.get(fd)) ++fd;
    return fd;
}

long do_socketpair(SysCtx& c, int family, int type, int protocol, uint64_t usockvec) {
    unsigned flags;
    if (long e = sock_create_checks(type, flags)) return e;
    // The two descriptors are reserved and written out before the sockets are made.
    const long r1 = lowest_free_fd(*c.task.files, 0);
    const int32_t reserved[2] = {static_cast<int32_t>(r1), static_cast<int32_t>(lowest_free_fd(*c.task.files, r1 + 1))};
    if (!copy_to_user(c.mm, VirtAddr(usockvec), reserved, sizeof reserved)) return -EFAULT;
    if (long e = unix_create_checks(family, type, protocol)) return e;
    auto a = unix_create(c, type), b = unix_create(c, type);
    a->peer = b, b->peer = a;  // unix_socketpair
    a->sk_state = b->sk_state = TCP_ESTABLISHED;
    const unsigned fl = (flags & SOCK_NONBLOCK_) ? O_NONBLOCK : 0;
    const long fd1 = get_unused_fd_install(c, std::make_shared<socket_file>(a, fl), flags & SOCK_CLOEXEC_);
    if (fd1 < 0) return fd1;
    const long fd2 = get_unused_fd_install(c, std::make_shared<socket_file>(b, fl), flags & SOCK_CLOEXEC_);
    if (fd2 < 0) {
        c.task.files->fd[fd1].reset();
        return fd2;
    }
    return 0;
}

long do_socket(SysCtx& c, int family, int type, int protocol) {
    unsigned flags;
    if (long e = sock_create_checks(type, flags)) return e;
    if (long e = unix_create_checks(family, type, protocol)) return e;
    return get_unused_fd_install(
        c, std::make_shared<socket_file>(unix_create(c, type), (flags & SOCK_NONBLOCK_) ? O_NONBLOCK : 0),
        flags & SOCK_CLOEXEC_);
}

long do_getsockopt(SysCtx& c, long fd, int level, int optname, uint64_t optval, uint64_t optlen) {
    long err = 0;
    socket_file* s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    int32_t len;
    if (!copy_from_user(c.mm, &len, VirtAddr(optlen), 4)) return -EFAULT;
    if (len < 0) return -EINVAL;
    uint8_t val[16] = {};
    uint32_t n = static_cast<uint32_t>(std::min<int32_t>(len, sizeof val));
    if (long e = s->getsockopt(level, optname, val, n)) return e;
    if (!copy_to_user(c.mm, VirtAddr(optval), val, n) || !copy_to_user(c.mm, VirtAddr(optlen), &n, 4)) return -EFAULT;
    return 0;
}

long do_setsockopt(SysCtx& c, long fd, int level, int optname, uint64_t optval, uint32_t optlen) {
    long err = 0;
    socket_file* s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    if (static_cast<int32_t>(optlen) < 0) return -EINVAL;
    uint8_t val[16] = {};
    const uint32_t n = std::min<uint32_t>(optlen, sizeof val);
    if (n && !copy_from_user(c.mm, val, VirtAddr(optval), n)) return -EFAULT;
    return s->setsockopt(level, optname, val, optlen);
}

// getsockname/getpeername of an unnamed socket: the family alone (unix_getname).
long do_getname(SysCtx& c, long fd, uint64_t uaddr, uint64_t ulen, bool peer) {
    long err = 0;
    socket_file* s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    if (peer && !s->sk().peer && s->sk().sk_state != TCP_ESTABLISHED) return -ENOTCONN;
    int32_t len;
    if (!copy_from_user(c.mm, &len, VirtAddr(ulen), 4)) return -EFAULT;
    if (len < 0) return -EINVAL;
    const uint16_t family = AF_UNIX_;
    const uint32_t klen = 2;
    if (len && !copy_to_user(c.mm, VirtAddr(uaddr), &family, std::min<uint32_t>(static_cast<uint32_t>(len), 2)))
        return -EFAULT;
    return copy_to_user(c.mm, VirtAddr(ulen), &klen, 4) ? 0 : -EFAULT;
}

}  // namespace

long sys_socket(SysCtx& c, const uint64_t* a) {
    return do_socket(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), static_cast<int32_t>(a[2]));
}
long sys_socketpair(SysCtx& c, const uint64_t* a) {
    return do_socketpair(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), static_cast<int32_t>(a[2]), a[3]);
}
long sys_sendto(SysCtx& c, const uint64_t* a) {
    return do_sendto(c, static_cast<int32_t>(a[0]), a[1], a[2], static_cast<uint32_t>(a[3]), a[4],
                     static_cast<uint32_t>(a[5]));
}
long sys_recvfrom(SysCtx& c, const uint64_t* a) {
    return do_recvfrom(c, static_cast<int32_t>(a[0]), a[1], a[2], static_cast<uint32_t>(a[3]), a[4], a[5]);
}
long sys_sendmsg(SysCtx& c, const uint64_t* a) {
    user_msghdr_ m;
    if (!get_msghdr(c, a[1], m)) return -EFAULT;
    return do_sendmsg(c, static_cast<int32_t>(a[0]), m, static_cast<uint32_t>(a[2]));
}
long sys_recvmsg(SysCtx& c, const uint64_t* a) {
    user_msghdr_ m;
    if (!get_msghdr(c, a[1], m)) return -EFAULT;
    return do_recvmsg(c, static_cast<int32_t>(a[0]), a[1], m, static_cast<uint32_t>(a[2]));
}
long sys_shutdown(SysCtx& c, const uint64_t* a) {
    long err = 0;
    socket_file* s = sockfd_lookup(c, static_cast<int32_t>(a[0]), err);
    return s ? s->shutdown(static_cast<int32_t>(a[1])) : err;
}
long sys_getsockopt(SysCtx& c, const uint64_t* a) {
    return do_getsockopt(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), static_cast<int32_t>(a[2]), a[3],
                         a[4]);
}
long sys_setsockopt(SysCtx& c, const uint64_t* a) {
    return do_setsockopt(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), static_cast<int32_t>(a[2]), a[3],
                         static_cast<uint32_t>(a[4]));
}
long sys_getsockname(SysCtx& c, const uint64_t* a) {
    return do_getname(c, static_cast<int32_t>(a[0]), a[1], a[2], false);
}
long sys_getpeername(SysCtx& c, const uint64_t* a) {
    return do_getname(c, static_cast<int32_t>(a[0]), a[1], a[2], true);
}

// i386's socketcall(call, args): the arguments of call in user memory (compat_sys_socketcall).
long sys_socketcall(SysCtx& c, const uint64_t* a) {
    static constexpr uint8_t nargs[21] = {0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4};
    const int call = static_cast<int32_t>(a[0]);
    if (call < SYS_SOCKET_ || call > SYS_SENDMMSG_) return -EINVAL;
    uint32_t raw[6] = {};
    if (!copy_from_user(c.mm, raw, VirtAddr(a[1]), nargs[call] * 4u)) return -EFAULT;
    uint64_t v[6];
    for (int i = 0; i < 6; ++i) v[i] = raw[i];
    switch (call) {
    case 1: return sys_socket(c, v);
    case 6: return sys_getsockname(c, v);
    case 7: return sys_getpeername(c, v);
    case 8: return sys_socketpair(c, v);
    case 9: v[4] = 0, v[5] = 0; return sys_sendto(c, v);     // send
    case 10: v[4] = 0, v[5] = 0; return sys_recvfrom(c, v);  // recv
    case 11: return sys_sendto(c, v);
    case 12: return sys_recvfrom(c, v);
    case 13: return sys_shutdown(c, v);
    case 14: return sys_setsockopt(c, v);
    case 15: return sys_getsockopt(c, v);
    case 16: return sys_sendmsg(c, v);
    case 17: return sys_recvmsg(c, v);
    default: return -ENOSYS;  // bind, connect, listen, accept, accept4, recvmmsg, sendmmsg: not yet
    }
}

}  // namespace guestos
