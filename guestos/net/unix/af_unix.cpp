// AF_UNIX sockets (net/unix/af_unix.c) and the socket syscalls over them (net/socket.c):
// socketpair of SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET, sends queued as sk_buffs on the
// peer's receive queue (charged to the sender's sk_wmem_alloc until read), SCM_RIGHTS
// descriptors carried in them, shutdown, poll, EPIPE and SIGPIPE; names (bind to a socket
// file made through the VFS, to an abstract name, or autobind), listen/connect/accept with a
// backlog of embryo sockets, datagram peers and addressed sends; sendmmsg/recvmmsg; i386's
// socketcall.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "guestos/net/unix/af_unix.h"
#include "guestos/lib/host_sysctl.h"
#include "guestos/fs/internal.h"
#include "guestos/include/anon_inodes.h"
#include "guestos/include/fasync.h"
#include "guestos/include/cred.h"
#include "guestos/include/dcache.h"
#include "guestos/include/kernel.h"
#include "guestos/include/namei.h"
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

constexpr int TCP_ESTABLISHED = 1, TCP_CLOSE = 7, TCP_LISTEN = 10;
constexpr size_t SKB_OVERHEAD = 768;    // what an sk_buff costs beyond its data (truesize)
constexpr size_t UNIX_SKB_MAX = 36864;  // the most one stream skb carries (head + 32 KiB frags)
constexpr uint64_t OPTMEM_MAX = 20480;  // net.core.optmem_max: the largest control buffer

// net.core.wmem_default, the sndbuf and rcvbuf of a new socket: the host's, as a Linux
// guest configured like it would see.
uint32_t wmem_default() {
    static const auto v = static_cast<uint32_t>(host_sysctl("net/core/wmem_default", 212992));
    return v;
}

// net.unix.max_dgram_qlen, the longest queue a datagram receiver takes from others: the
// host's, as net.core.wmem_default.
int max_dgram_qlen() {
    static const auto v = static_cast<int>(host_sysctl("net/unix/max_dgram_qlen", UNIX_MAX_DGRAM_QLEN_));
    return v;
}

}  // namespace

struct unix_sock;

// A socket's name (struct unix_address): the sockaddr_un bytes getsockname returns, as long
// as the name is (the family, then the path with its NUL, or the abstract bytes).
struct unix_address {
    std::vector<uint8_t> name;
    bool abstract() const { return name.size() <= SUN_PATH_OFFSET_ || name[SUN_PATH_OFFSET_] == 0; }
};

// One queued send (struct sk_buff with its unix_skb_parms): bytes, descriptors in flight,
// and the socket whose sk_wmem_alloc it is charged to.
// The credentials a message carries (struct ucred; UNIXCB(skb).pid/uid/gid): the sender's,
// or what it claimed with SCM_CREDENTIALS.
struct ucred_k {
    int32_t pid = 0;
    uint32_t uid = UINT32_MAX, gid = UINT32_MAX;
    bool operator==(const ucred_k&) const = default;
};

struct sk_buff {
    std::vector<uint8_t> data;
    size_t consumed = 0;  // stream reads take a buffer in parts
    std::vector<std::shared_ptr<file>> fp;
    std::weak_ptr<unix_sock> owner;
    std::shared_ptr<const unix_address> addr;  // the sender's name when it sent (skb->sk's addr)
    ucred_k creds;
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
    // A listener's connections not yet accepted: the embryo sockets their connects made
    // (carried by skbs on Linux's sk_receive_queue).
    std::deque<std::shared_ptr<unix_sock>> accept_queue;
    unsigned sk_flags = 0;                      // boolean socket options set, by their SO_ number's bit
    int sk_max_ack_backlog = max_dgram_qlen();  // listen's backlog; a datagram queue's limit
    size_t sk_wmem_alloc = 0;
    uint32_t sk_sndbuf = wmem_default(), sk_rcvbuf = wmem_default();
    // sk_peer_pid and sk_peer_cred: none (0, -1, -1) until a connect, listen or socketpair.
    int peercred_pid = 0;
    uint32_t peercred_uid = UINT32_MAX, peercred_gid = UINT32_MAX;
    std::shared_ptr<const unix_address> addr;  // the bound name (unix_sk(sk)->addr)
    uint64_t sk_socket_ino = 0;                // its socket's inode (sock_i_ino); 0 for an embryo
    struct path path;                          // the socket file a filesystem name made
    wait_queue_head wq;
    wait_queue_head peer_wait;  // connects waiting for backlog room, senders for queue room
    fasync_list fasync;         // its socket's O_ASYNC files (socket_wq's fasync_list)

    bool connection_based() const { return sk_type != SOCK_DGRAM_; }
    // Room to write: not listening, and what is in flight is at most a quarter of sndbuf
    // (unix_writable).
    bool writable() const { return sk_state != TCP_LISTEN && (sk_wmem_alloc << 2) <= sk_sndbuf; }
    int sock_error() { return std::exchange(sk_err, 0); }
    // More queued than the backlog allows (unix_recvq_full_lockless).
    bool recvq_full() const {
        const size_t qlen = sk_state == TCP_LISTEN ? accept_queue.size() : sk_receive_queue.size();
        return qlen > static_cast<size_t>(sk_max_ack_backlog);
    }
};

// The bound sockets of the namespace (net->unx.table): abstract names by type and bytes,
// filesystem names by the socket file's inode. Entries of released sockets are skipped.
struct netns_unix {
    std::map<std::pair<int, std::vector<uint8_t>>, std::weak_ptr<unix_sock>> abstract;
    std::map<std::pair<const super_block*, uint64_t>, std::weak_ptr<unix_sock>> bsd;
    // Every socket until it is released (unix_insert_socket / unix_remove_socket): what
    // /proc/net/unix walks, in creation order.
    std::vector<std::weak_ptr<unix_sock>> all;
};

netns_unix& Kernel::net_unix() {
    if (!net_unix_) net_unix_ = std::make_shared<netns_unix>();
    return *net_unix_;
}

namespace {

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
    kill_fasync(other.fasync, SIGIO_, POLL_IN_);  // sock_def_readable's sk_wake_async
}

// One sendmsg or recvmsg as the protocol sees it (struct msghdr in the kernel).
struct kmsghdr {
    user_iov iov;
    unsigned flags = 0;                        // the call's flags (MSG_DONTWAIT, MSG_PEEK, ...)
    unsigned msg_flags = 0;                    // what recvmsg reports (MSG_TRUNC, MSG_CTRUNC)
    std::vector<uint8_t> name;                 // a send's destination (msg_name, msg_namelen)
    std::shared_ptr<const unix_address> from;  // a receive's sender, when it has a name
    std::vector<std::shared_ptr<file>> fp;     // SCM_RIGHTS to send, or received
    ucred_k creds;                             // a send's (scm_set_cred), a receive's first buffer's
};

class socket_file;
void unix_release_sock(unix_sock& sk, bool embrion);
long unix_validate_addr(const std::vector<uint8_t>& addr);
long unix_find_other(SysCtx& c, const std::vector<uint8_t>& addr, int type, std::shared_ptr<unix_sock>& out);
long unix_autobind(SysCtx& c, const std::shared_ptr<unix_sock>& sk);

// A socket as an open file (struct socket + socket_file_ops).
class socket_file final : public socket {
public:
    explicit socket_file(std::shared_ptr<unix_sock> sk, unsigned flags) : sk_(std::move(sk)) {
        f_flags = O_RDWR_ | (flags & O_NONBLOCK_);
        f_mode = FMODE_NOWAIT;       // a stream: no pread or pwrite; RWF_NOWAIT is MSG_DONTWAIT
        sk_->sk_socket_ino = ino();  // sock_graft
    }
    ~socket_file() override {
        if (f_flags & O_ASYNC_) fasync(-1, false);
        unix_release_sock(*sk_, false);
    }
    bool has_fasync() const override { return true; }
    int fasync(int fd, bool on) override { return fasync_helper(fd, *this, on, sk_->fasync); }  // sock_fasync

    long read_iter(kiocb& iocb, uint8_t* buf, uint64_t n) override;
    long write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) override;
    bool has_splice_write() const override { return true; }  // splice_to_socket
    bool has_splice_read() const override { return true; }   // sock_splice_read
    // unix_stream_splice_read: SPLICE_F_NONBLOCK reads with MSG_DONTWAIT; datagrams go
    // through copy_splice_read, which waits.
    unsigned splice_read_iocb_flags(unsigned splice_flags) const override {
        return sk_->sk_type == SOCK_STREAM_ && (splice_flags & SPLICE_F_NONBLOCK_) ? IOCB_NOWAIT : 0;
    }
    uint32_t poll(poll_table* wait) override;

    // unix_stream_ops / unix_dgram_ops / unix_seqpacket_ops (net/socket.cpp calls them).
    int family() const override { return AF_UNIX_; }
    long bind(SysCtx& c, const std::vector<uint8_t>& addr) override;
    long connect(SysCtx& c, const std::vector<uint8_t>& addr) override;
    long listen(SysCtx& c, int backlog) override;
    long accept(SysCtx& c, unsigned f_flags, std::shared_ptr<socket>& out) override;
    long getname(std::vector<uint8_t>& out, bool peer) override;
    long sendmsg(SysCtx& c, socket_msg& m) override;
    long recvmsg(SysCtx& c, socket_msg& m) override;
    long setsockopt(SysCtx&, int level, int optname, const uint8_t* val, uint32_t len) override {
        return setsockopt(level, optname, val, len);
    }
    long getsockopt(SysCtx&, int level, int optname, uint8_t* val, uint32_t& len) override {
        return getsockopt(level, optname, val, len);
    }
    int sock_error() override { return sk_->sock_error(); }
    void set_sock_error(int err) override { sk_->sk_err = err; }

    long sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf);
    long recvmsg(task_struct& task, SysCtx* c, kmsghdr& msg, uint8_t* kbuf);
    long shutdown(int how) override;
    long getsockopt(int level, int optname, uint8_t* val, uint32_t& len);
    long setsockopt(int level, int optname, const uint8_t* val, uint32_t len);
    unix_sock& sk() { return *sk_; }
    // SO_PASSCRED: receives carry the sender's credentials.
    bool passcred() const { return sk_->sk_flags & (1u << SO_PASSCRED_); }
    const std::shared_ptr<unix_sock>& sk_ptr() { return sk_; }

private:
    bool nonblock(unsigned flags) const { return (f_flags & O_NONBLOCK_) || (flags & MSG_DONTWAIT_); }
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

    std::shared_ptr<unix_sock> sk_;
};

// The socket goes (unix_release_sock): a connected peer sees both directions shut down
// (and ECONNRESET if data we never read is lost, or if we were an embryo never accepted);
// what is queued here is dropped, and a listener's embryos go with it.
void unix_release_sock(unix_sock& sk, bool embrion) {
    sk.dead = true;
    sk.sk_state = TCP_CLOSE;
    sk.sk_shutdown = SHUTDOWN_MASK;
    wake_up(sk.peer_wait);
    if (auto skpair = sk.peer) {
        if (sk.connection_based()) {
            skpair->sk_shutdown = SHUTDOWN_MASK;
            if (!sk.sk_receive_queue.empty() || embrion) skpair->sk_err = ECONNRESET;
            wake_up(skpair->wq);
            kill_fasync(skpair->fasync, SIGIO_, POLL_HUP_);
        } else {
            wake_up(skpair->wq);
        }
    }
    sk.peer.reset();
    for (sk_buff& skb : sk.sk_receive_queue) kfree_skb(skb);
    sk.sk_receive_queue.clear();
    for (auto& embryo : std::exchange(sk.accept_queue, {})) unix_release_sock(*embryo, true);
    sk.path = {};
    wake_up(sk.wq);
}

// Our datagram peer changed or went (unix_dgram_disconnected): what is queued here is
// dropped, and a peer that still sends to us learns of the loss.
void unix_dgram_disconnected(unix_sock& sk, unix_sock& other) {
    if (sk.sk_receive_queue.empty()) return;
    for (sk_buff& q : sk.sk_receive_queue) kfree_skb(q);
    sk.sk_receive_queue.clear();
    wake_up(sk.peer_wait);
    if (!other.dead && other.peer.get() == &sk) {
        other.sk_err = ECONNRESET;
        wake_up(other.wq);
    }
}

long socket_file::stream_sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf) {
    unix_sock& sk = *sk_;
    if (msg.flags & MSG_OOB_) return -EOPNOTSUPP;
    if (!msg.name.empty()) return sk.sk_state == TCP_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
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
        skb.addr = sk.addr;
        skb.creds = msg.creds;  // unix_scm_to_skb
        queue_skb(sk, sk_, *other, std::move(skb));
        sent += size;
    }
    return static_cast<long>(sent);
}

// unix_dgram_sendmsg: to the address given, else to the peer; a receiver that is not our
// peer takes at most its queue limit (EAGAIN, or we sleep until it reads).
long socket_file::dgram_sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf) {
    unix_sock& sk = *sk_;
    if (msg.flags & MSG_OOB_) return -EOPNOTSUPP;
    if (sk.sk_type == SOCK_SEQPACKET_) {  // unix_seqpacket_sendmsg
        if (int e = sk.sock_error()) return -e;
        if (sk.sk_state != TCP_ESTABLISHED) return -ENOTCONN;
        msg.name.clear();
    }
    std::shared_ptr<unix_sock> other;
    if (!msg.name.empty()) {
        if (long e = unix_validate_addr(msg.name)) return e;
    } else if (!(other = sk.peer)) {
        return -ENOTCONN;
    }
    if (c && (sk.sk_flags & (1u << SO_PASSCRED_)) && !sk.addr)  // a receiver must be able to answer
        if (long e = unix_autobind(*c, sk_)) return e;
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
    for (;;) {  // restart: find the receiver again after a wait
        if (!other && c) {
            if (long e = unix_find_other(*c, msg.name, sk.sk_type, other)) return e;
        }
        if (!other) return -ECONNRESET;
        if (other->peer && other->peer != sk_) return -EPERM;  // unix_may_send
        if (other->dead) {
            if (sk.sk_type == SOCK_SEQPACKET_) return -EPIPE;
            if (sk.peer != other) return -ECONNREFUSED;
            sk.peer.reset();  // the peer went: disconnect, drop what it sent
            sk.sk_state = TCP_CLOSE;
            unix_dgram_disconnected(sk, *other);
            return -ECONNREFUSED;
        }
        if (other->sk_shutdown & RCV_SHUTDOWN) return -EPIPE;
        if (other->peer == sk_ || !other->recvq_full()) break;
        if (nonblock(msg.flags)) return -EAGAIN;
        // unix_wait_for_peer: until the receiver reads, goes or shuts down.
        if (long e = wait_event_interruptible(
                task, other->peer_wait,
                [&] { return other->dead || (other->sk_shutdown & RCV_SHUTDOWN) || !other->recvq_full(); },
                "a datagram receiver's queue"))
            return e;
        if (!msg.name.empty()) other.reset();
    }
    skb.fp = std::move(msg.fp);
    skb.addr = sk.addr;
    skb.creds = msg.creds;  // unix_scm_to_skb
    queue_skb(sk, sk_, *other, std::move(skb));
    return static_cast<long>(len);
}

long socket_file::sendmsg(task_struct& task, SysCtx* c, kmsghdr& msg, const uint8_t* kbuf) {
    if (!msg.creds.pid) msg.creds = {task.tgid, task.cred.uid, task.cred.gid};  // scm_set_cred: the sender's
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
        if (!copied) {
            msg.from = skb.addr;  // unix_copy_addr of the first buffer's sender
            msg.creds = skb.creds;
        } else if ((sk.sk_flags & (1u << SO_PASSCRED_)) && !(skb.creds == msg.creds)) {
            break;  // never glue messages from different writers
        }
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
    msg.from = skb.addr;
    msg.creds = skb.creds;
    if (msg.flags & MSG_PEEK_) {
        msg.fp = skb.fp;
    } else {
        msg.fp = std::move(skb.fp);
        kfree_skb(skb);
        sk.sk_receive_queue.pop_front();
        wake_up_poll(sk.peer_wait, EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_);  // senders waiting for room
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
// A listener is readable when a connection waits; a datagram socket whose peer's queue is
// full is not writable, and waits on the peer for room (unix_dgram_peer_wake_me).
uint32_t socket_file::poll(poll_table* wait) {
    unix_sock& sk = *sk_;
    poll_wait(*this, sk.wq, wait);
    uint32_t mask = 0;
    if (sk.sk_err) mask |= EPOLLERR_;
    if (sk.sk_shutdown == SHUTDOWN_MASK) mask |= EPOLLHUP_;
    if (sk.sk_shutdown & RCV_SHUTDOWN) mask |= EPOLLRDHUP_ | EPOLLIN_ | EPOLLRDNORM_;
    if (!sk.sk_receive_queue.empty() || !sk.accept_queue.empty()) mask |= EPOLLIN_ | EPOLLRDNORM_;
    if (sk.connection_based() && sk.sk_state == TCP_CLOSE) mask |= EPOLLHUP_;
    bool writable = sk.writable();
    if (auto other = sk.peer;
        writable && sk.sk_type != SOCK_STREAM_ && other && other->peer != sk_ && other->recvq_full()) {
        poll_wait(*this, other->peer_wait, wait);
        writable = false;
    }
    if (writable) mask |= EPOLLOUT_ | EPOLLWRNORM_ | EPOLLWRBAND_;
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
        if (peer_mode == SHUTDOWN_MASK) kill_fasync(other->fasync, SIGIO_, POLL_HUP_);
        else if (peer_mode & RCV_SHUTDOWN) kill_fasync(other->fasync, SIGIO_, POLL_IN_);
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
    case SO_ACCEPTCONN_: v = sk.sk_state == TCP_LISTEN; break;
    case SO_REUSEADDR_:
    case SO_BROADCAST_:
    case SO_KEEPALIVE_:
    case SO_PASSCRED_: v = !!(sk.sk_flags & (1u << optname)); break;
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
    case SO_REUSEADDR_:  // the flags sock_setsockopt keeps for any socket (sk_reuse, SOCK_*)
    case SO_BROADCAST_:
    case SO_KEEPALIVE_:
    case SO_PASSCRED_:
        if (v) sk_->sk_flags |= 1u << optname;
        else sk_->sk_flags &= ~(1u << optname);
        return 0;
    default: return -ENOPROTOOPT;
    }
}

// unix_create's checks of the type and protocol.
long unix_create_checks(int& type, int protocol) {
    if (protocol && protocol != AF_UNIX_) return -EPROTONOSUPPORT;
    if (type == SOCK_RAW_) type = SOCK_DGRAM_;
    if (type != SOCK_STREAM_ && type != SOCK_DGRAM_ && type != SOCK_SEQPACKET_) return -ESOCKTNOSUPPORT;
    return 0;
}

std::shared_ptr<unix_sock> unix_create1(int type) {
    auto sk = std::make_shared<unix_sock>();
    sk->sk_type = type;
    if (task_struct* t = get_current(); t && t->kernel) {
        auto& all = t->kernel->net_unix().all;  // unix_insert_unbound_socket; released sockets leave
        std::erase_if(all, [](const std::weak_ptr<unix_sock>& w) {
            auto s = w.lock();
            return !s || s->dead;
        });
        all.push_back(sk);
    }
    return sk;
}

// The caller is who the socket's peer sees (init_peercred; cred_to_ucred: the effective ids).
void init_peercred(unix_sock& sk, const task_struct& t) {
    sk.peercred_pid = t.tgid;
    sk.peercred_uid = t.cred.euid;
    sk.peercred_gid = t.cred.egid;
}

// ---- names: bind, the table, lookup ----

// A sockaddr_un's length and family (unix_validate_addr).
long unix_validate_addr(const std::vector<uint8_t>& addr) {
    if (addr.size() <= static_cast<size_t>(SUN_PATH_OFFSET_) || addr.size() > static_cast<size_t>(SOCKADDR_UN_SIZE_))
        return -EINVAL;
    return (addr[0] | addr[1] << 8) == AF_UNIX_ ? 0 : -EINVAL;
}

// The path of a filesystem name: sun_path up to its NUL or the length (unix_mkname_bsd).
std::string unix_mkname_bsd(const std::vector<uint8_t>& addr) {
    const char* p = reinterpret_cast<const char*>(addr.data()) + SUN_PATH_OFFSET_;
    return std::string(p, strnlen(p, addr.size() - SUN_PATH_OFFSET_));
}

// A bound socket still there (not released, its file not unlinked), or null.
std::shared_ptr<unix_sock> live(const std::weak_ptr<unix_sock>& w) {
    auto sk = w.lock();
    if (!sk || sk->dead || (sk->path.dentry && sk->path.dentry->d_deleted)) return nullptr;
    return sk;
}

std::shared_ptr<unix_sock> unix_find_socket_byname(netns_unix& net, int type, const std::vector<uint8_t>& name) {
    auto it = net.abstract.find({type, name});
    return it == net.abstract.end() ? nullptr : live(it->second);
}

std::shared_ptr<unix_sock> unix_find_socket_byinode(netns_unix& net, const inode& ino) {
    auto it = net.bsd.find({ino.i_sb, ino.i_ino});
    return it == net.bsd.end() ? nullptr : live(it->second);
}

// The socket bound to the file at the path: ENOENT (and the lookup's errors), EACCES
// without write permission, ECONNREFUSED when it is no socket file or none is bound to it,
// EPROTOTYPE for another type (unix_find_bsd).
long unix_find_bsd(SysCtx& c, const std::vector<uint8_t>& addr, int type, std::shared_ptr<unix_sock>& out) {
    struct path p;
    if (long e = filename_lookup(c, AT_FDCWD_, unix_mkname_bsd(addr), LOOKUP_FOLLOW, p)) return e;
    const inode& ino = *p.dentry->d_inode;
    if (long e = inode_permission(ino, MAY_WRITE)) return e;
    if (!S_ISSOCK(ino.i_mode)) return -ECONNREFUSED;
    auto sk = unix_find_socket_byinode(c.kernel.net_unix(), ino);
    if (!sk) return -ECONNREFUSED;
    if (sk->sk_type != type) return -EPROTOTYPE;
    out = std::move(sk);
    return 0;
}

// The socket a (validated) address names (unix_find_other): by path or abstract name.
long unix_find_other(SysCtx& c, const std::vector<uint8_t>& addr, int type, std::shared_ptr<unix_sock>& out) {
    if (addr[SUN_PATH_OFFSET_]) return unix_find_bsd(c, addr, type, out);
    out = unix_find_socket_byname(c.kernel.net_unix(), type, addr);
    return out ? 0 : -ECONNREFUSED;
}

// An unbound socket takes the first free abstract name "\0XXXXX" (5 hex digits) after a
// random start (unix_autobind); ENOSPC when all 2^20 are taken.
long unix_autobind(SysCtx& c, const std::shared_ptr<unix_sock>& sk) {
    if (sk->addr) return 0;
    netns_unix& net = c.kernel.net_unix();
    uint32_t ordernum = 0;
    arc4random_buf(&ordernum, sizeof ordernum);
    const uint32_t lastnum = ordernum & 0xfffff;
    std::vector<uint8_t> name(SUN_PATH_OFFSET_ + 6, 0);
    name[0] = AF_UNIX_;
    for (;;) {
        ordernum = (ordernum + 1) & 0xfffff;
        char hex[6];
        std::snprintf(hex, sizeof hex, "%05x", ordernum);
        std::memcpy(&name[SUN_PATH_OFFSET_ + 1], hex, 5);
        if (!unix_find_socket_byname(net, sk->sk_type, name)) break;
        if (ordernum == lastnum) return -ENOSPC;
    }
    net.abstract[{sk->sk_type, name}] = sk;
    sk->addr = std::make_shared<unix_address>(unix_address{std::move(name)});
    return 0;
}

// An abstract name: EINVAL when already bound, EADDRINUSE when taken (unix_bind_abstract).
long unix_bind_abstract(SysCtx& c, const std::shared_ptr<unix_sock>& sk, const std::vector<uint8_t>& addr) {
    if (sk->addr) return -EINVAL;
    netns_unix& net = c.kernel.net_unix();
    if (unix_find_socket_byname(net, sk->sk_type, addr)) return -EADDRINUSE;
    net.abstract[{sk->sk_type, addr}] = sk;
    sk->addr = std::make_shared<unix_address>(unix_address{addr});
    return 0;
}

// A filesystem name: a socket file made by mknod with 0777 less the umask (EADDRINUSE when
// the name exists), then bound; a socket already bound removes the new file again and is
// EINVAL (unix_bind_bsd).
long unix_bind_bsd(SysCtx& c, const std::shared_ptr<unix_sock>& sk, const std::vector<uint8_t>& addr) {
    const std::string name = unix_mkname_bsd(addr);
    struct path parent;
    std::shared_ptr<dentry> d;
    long err = kern_path_create(c, AT_FDCWD_, name, parent, d);
    if (err) return err == -EEXIST ? -EADDRINUSE : err;
    inode& dir = *parent.dentry->d_inode;
    const uint32_t mode = S_IFSOCK | (0777 & ~c.task.fs->umask);
    if (long e = dir.i_op->mknod(dir, *d, mode, 0)) return e == -EEXIST ? -EADDRINUSE : e;
    if (sk->addr || !d->d_inode) {  // out_unlink
        if (d->d_inode && !dir.i_op->unlink(dir, *d)) d_delete(*d);
        return -EINVAL;
    }
    std::vector<uint8_t> stored(addr.begin(), addr.begin() + SUN_PATH_OFFSET_);
    stored.insert(stored.end(), name.begin(), name.end());
    stored.push_back(0);
    sk->addr = std::make_shared<unix_address>(unix_address{std::move(stored)});
    sk->path = {parent.mnt, d};
    c.kernel.net_unix().bsd[{d->d_inode->i_sb, d->d_inode->i_ino}] = sk;
    return 0;
}

// bind (unix_bind): the bare family autobinds; otherwise a path or an abstract name.
long unix_bind(SysCtx& c, const std::shared_ptr<unix_sock>& sk, const std::vector<uint8_t>& addr) {
    if (addr.size() == static_cast<size_t>(SUN_PATH_OFFSET_) && (addr[0] | addr[1] << 8) == AF_UNIX_)
        return unix_autobind(c, sk);
    if (long e = unix_validate_addr(addr)) return e;
    return addr[SUN_PATH_OFFSET_] ? unix_bind_bsd(c, sk, addr) : unix_bind_abstract(c, sk, addr);
}

// ---- connections: listen, connect, accept ----

// listen (unix_listen): streams and seqpackets only, bound ones only; a bigger backlog wakes
// connects waiting for room.
long unix_listen(task_struct& t, unix_sock& sk, int backlog) {
    if (sk.sk_type != SOCK_STREAM_ && sk.sk_type != SOCK_SEQPACKET_) return -EOPNOTSUPP;
    if (!sk.addr) return -EINVAL;
    if (sk.sk_state != TCP_CLOSE && sk.sk_state != TCP_LISTEN) return -EINVAL;
    if (backlog > sk.sk_max_ack_backlog) wake_up(sk.peer_wait);
    sk.sk_max_ack_backlog = backlog;
    sk.sk_state = TCP_LISTEN;
    init_peercred(sk, t);  // what connecting sockets will see as their peer
    return 0;
}

// connect on a stream or seqpacket (unix_stream_connect): an embryo socket, our peer, goes
// on the listener's queue for accept; a full backlog is EAGAIN, or a sleep until accept
// makes room.
long unix_stream_connect(SysCtx& c, const std::shared_ptr<unix_sock>& sk, const std::vector<uint8_t>& addr,
                         bool nonblock) {
    if (long e = unix_validate_addr(addr)) return e;
    if ((sk->sk_flags & (1u << SO_PASSCRED_)) && !sk->addr)  // the peer must be able to answer
        if (long e = unix_autobind(c, sk)) return e;
    for (;;) {
        std::shared_ptr<unix_sock> other;
        if (long e = unix_find_other(c, addr, sk->sk_type, other)) return e;
        if (other->sk_state != TCP_LISTEN || (other->sk_shutdown & RCV_SHUTDOWN)) return -ECONNREFUSED;
        if (other->recvq_full()) {
            if (nonblock) return -EAGAIN;
            // unix_wait_for_peer: until accept makes room, or the listener goes.
            if (long e = wait_event_interruptible(
                    c.task, other->peer_wait,
                    [&] { return other->dead || (other->sk_shutdown & RCV_SHUTDOWN) || !other->recvq_full(); },
                    "a listening socket's backlog"))
                return e;
            continue;
        }
        if (sk->sk_state == TCP_ESTABLISHED) return -EISCONN;
        if (sk->sk_state != TCP_CLOSE) return -EINVAL;
        auto newsk = unix_create1(sk->sk_type);
        newsk->sk_state = TCP_ESTABLISHED;
        init_peercred(*newsk, c.task);  // the acceptor's peer is us
        newsk->peer = sk;
        newsk->addr = other->addr;  // the accepted socket has the listener's name
        newsk->path = other->path;
        newsk->sk_sndbuf = other->sk_sndbuf, newsk->sk_rcvbuf = other->sk_rcvbuf;
        sk->peercred_pid = other->peercred_pid;  // copy_peercred: we see the listener
        sk->peercred_uid = other->peercred_uid, sk->peercred_gid = other->peercred_gid;
        sk->sk_state = TCP_ESTABLISHED;
        sk->peer = newsk;
        other->accept_queue.push_back(std::move(newsk));
        wake_up_poll(other->wq, EPOLLIN_ | EPOLLRDNORM_);  // sk_data_ready
        kill_fasync(other->fasync, SIGIO_, POLL_IN_);
        return 0;
    }
}

// connect on a datagram socket (unix_dgram_connect): the default peer, or none with
// AF_UNSPEC; a peer that is another's is EPERM; the old peer's datagrams here are dropped.
long unix_dgram_connect(SysCtx& c, const std::shared_ptr<unix_sock>& sk, const std::vector<uint8_t>& addr) {
    if (addr.size() < 2) return -EINVAL;
    std::shared_ptr<unix_sock> other;
    if ((addr[0] | addr[1] << 8) != AF_UNSPEC_) {
        if (long e = unix_validate_addr(addr)) return e;
        if ((sk->sk_flags & (1u << SO_PASSCRED_)) && !sk->addr)
            if (long e = unix_autobind(c, sk)) return e;
        if (long e = unix_find_other(c, addr, sk->sk_type, other)) return e;
        if (other->peer && other->peer != sk) return -EPERM;  // unix_may_send
        sk->sk_state = other->sk_state = TCP_ESTABLISHED;
    }
    auto old_peer = std::exchange(sk->peer, other);
    if (!other) sk->sk_state = TCP_CLOSE;
    if (old_peer && old_peer != other) unix_dgram_disconnected(*sk, *old_peer);
    return 0;
}

// The name getsockname or getpeername reports (unix_getname): the bound bytes, or the bare
// family of an unnamed socket; ENOTCONN for the peer of an unconnected one.
long unix_getname(unix_sock& sk, bool peer, std::vector<uint8_t>& out) {
    std::shared_ptr<const unix_address> addr = sk.addr;
    if (peer) {
        if (!sk.peer) return -ENOTCONN;
        addr = sk.peer->addr;
    }
    if (addr) out = addr->name;
    else out = {AF_UNIX_, 0};
    return 0;
}

// ---- msghdr and control messages ----

// The header of a control message on this ABI: its size and alignment.
size_t cmsg_hdr(const SysCtx& c) { return c.compat ? 12 : 16; }
size_t cmsg_align(const SysCtx& c, size_t n) { return c.compat ? (n + 3) & ~size_t(3) : (n + 7) & ~size_t(7); }

// The credentials an SCM_CREDENTIALS message claims (scm_check_creds + __scm_send's case):
// EINVAL for a wrong length or an invalid id, EPERM for ids and a pid the sender may not
// claim, ESRCH for a pid nobody has.
long scm_check_creds(SysCtx& c, const uint8_t* cmsg, size_t len, ucred_k& creds) {
    const size_t hdr = cmsg_hdr(c);
    if (len != hdr + 12) return -EINVAL;
    ucred_k claim;
    std::memcpy(&claim.pid, cmsg + hdr, 4);
    std::memcpy(&claim.uid, cmsg + hdr + 4, 4);
    std::memcpy(&claim.gid, cmsg + hdr + 8, 4);
    if (claim.uid == UINT32_MAX || claim.gid == UINT32_MAX) return -EINVAL;
    const cred& cr = current_cred();
    const bool pid_ok = claim.pid == c.task.tgid || capable(CAP_SYS_ADMIN_);
    const bool uid_ok = claim.uid == cr.uid || claim.uid == cr.euid || claim.uid == cr.suid || capable(CAP_SETUID_);
    const bool gid_ok = claim.gid == cr.gid || claim.gid == cr.egid || claim.gid == cr.sgid || capable(CAP_SETGID_);
    if (!(pid_ok && uid_ok && gid_ok)) return -EPERM;
    if (claim.pid != creds.pid && !c.kernel.find_task_by_vpid(claim.pid)) return -ESRCH;
    creds = claim;
    return 0;
}

// Parses the control messages of a send (__scm_send): SCM_RIGHTS descriptors are taken,
// SCM_CREDENTIALS replaces the sender's own credentials (scm_set_cred's, always sent);
// others at SOL_SOCKET are refused; other levels are ignored.
long scm_send(SysCtx& c, const user_msghdr_& m, std::vector<std::shared_ptr<file>>& fp, ucred_k& creds) {
    creds = {c.task.tgid, current_cred().uid, current_cred().gid};
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
            } else if (type == SCM_CREDENTIALS_) {
                if (long e = scm_check_creds(c, &ctl[off], len, creds)) return e;
            } else {
                return -EINVAL;
            }
        }
        off += cmsg_align(c, len);
    }
    return 0;
}

// Writes the sender's credentials as an SCM_CREDENTIALS message at the start of the control
// buffer and moves the buffer past it (put_cmsg): cut short, or left out when not even a
// header fits, with MSG_CTRUNC. Returns the control bytes used.
uint64_t put_cmsg_creds(SysCtx& c, user_msghdr_& m, const ucred_k& creds, unsigned& msg_flags, bool& fault) {
    const size_t hdr = cmsg_hdr(c);
    if (!m.control || m.controllen < hdr) {
        msg_flags |= MSG_CTRUNC_;
        return 0;
    }
    uint64_t cmlen = hdr + 12;
    if (m.controllen < cmlen) {
        msg_flags |= MSG_CTRUNC_;
        cmlen = m.controllen;
    }
    std::vector<uint8_t> cm(hdr + 12);
    std::memcpy(&cm[0], &cmlen, c.compat ? 4 : 8);
    const int32_t level = SOL_SOCKET_, type = SCM_CREDENTIALS_;
    std::memcpy(&cm[c.compat ? 4 : 8], &level, 4);
    std::memcpy(&cm[c.compat ? 8 : 12], &type, 4);
    std::memcpy(&cm[hdr], &creds.pid, 4);
    std::memcpy(&cm[hdr + 4], &creds.uid, 4);
    std::memcpy(&cm[hdr + 8], &creds.gid, 4);
    if (!copy_to_user(c.mm, VirtAddr(m.control), cm.data(), cmlen)) fault = true;
    const uint64_t used = std::min<uint64_t>(cmsg_align(c, hdr + 12), m.controllen);
    m.control += used;
    m.controllen -= used;
    return used;
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

// ---- the proto_ops net/socket.cpp calls ----

// accept (unix_accept): the oldest embryo of a listener, or EAGAIN, or a sleep until a
// connect comes; EINVAL when not listening or shut down while waiting.
long unix_accept(task_struct& t, unix_sock& sk, bool nonblock, std::shared_ptr<unix_sock>& out) {
    if (sk.sk_type != SOCK_STREAM_ && sk.sk_type != SOCK_SEQPACKET_) return -EOPNOTSUPP;
    if (sk.sk_state != TCP_LISTEN) return -EINVAL;
    while (sk.accept_queue.empty()) {  // skb_recv_datagram
        if (int e = sk.sock_error()) return -e;
        if (sk.sk_shutdown & RCV_SHUTDOWN) return -EINVAL;
        if (nonblock) return -EAGAIN;
        if (long e = wait_event_interruptible(
                t, sk.wq, [&] { return !sk.accept_queue.empty() || sk.sk_err || (sk.sk_shutdown & RCV_SHUTDOWN); },
                "accept"))
            return e;
    }
    out = std::move(sk.accept_queue.front());
    sk.accept_queue.pop_front();
    wake_up(sk.peer_wait);  // room in the backlog
    return 0;
}

long socket_file::bind(SysCtx& c, const std::vector<uint8_t>& addr) { return unix_bind(c, sk_, addr); }

long socket_file::connect(SysCtx& c, const std::vector<uint8_t>& addr) {
    if (sk_->sk_type == SOCK_DGRAM_) return unix_dgram_connect(c, sk_, addr);
    return unix_stream_connect(c, sk_, addr, f_flags & O_NONBLOCK_);
}

long socket_file::listen(SysCtx& c, int backlog) { return unix_listen(c.task, *sk_, backlog); }

long socket_file::accept(SysCtx& c, unsigned nflags, std::shared_ptr<socket>& out) {
    std::shared_ptr<unix_sock> newsk;
    if (long e = unix_accept(c.task, *sk_, f_flags & O_NONBLOCK_, newsk)) return e;
    out = std::make_shared<socket_file>(std::move(newsk), nflags);
    return 0;
}

long socket_file::getname(std::vector<uint8_t>& out, bool peer) { return unix_getname(*sk_, peer, out); }

// sendmsg and sendto: a msghdr's control messages are parsed first (__scm_send).
long socket_file::sendmsg(SysCtx& c, socket_msg& m) {
    kmsghdr msg;
    msg.iov = std::move(m.iov);
    msg.flags = m.flags;
    msg.name = std::move(m.name);
    if (m.user)
        if (long e = scm_send(c, *m.user, msg.fp, msg.creds)) return e;
    return sendmsg(c.task, &c, msg, nullptr);
}

// recvmsg and recvfrom: the sender's name (unix_copy_addr), and for recvmsg the
// credentials and descriptors as control messages.
long socket_file::recvmsg(SysCtx& c, socket_msg& m) {
    kmsghdr msg;
    msg.iov = std::move(m.iov);
    msg.flags = m.flags;
    const long ret = recvmsg(c.task, &c, msg, nullptr);
    if (ret < 0) return ret;
    if (msg.from) m.name = msg.from->name;
    m.msg_flags = msg.msg_flags;
    if (!m.user) return ret;
    bool fault = false;
    user_msghdr_ rest = *m.user;  // the control buffer left after each message
    uint64_t used = passcred() ? put_cmsg_creds(c, rest, msg.creds, msg.msg_flags, fault) : 0;
    if (!msg.fp.empty() || rest.controllen) used += scm_detach_fds(c, rest, msg.fp, m.flags, msg.msg_flags, fault);
    if (fault) return -EFAULT;
    m.control_used = used;
    m.msg_flags = msg.msg_flags;
    return ret;
}

}  // namespace

long unix_create(int type, int protocol, unsigned f_flags, std::shared_ptr<socket>& out) {
    if (long e = unix_create_checks(type, protocol)) return e;
    out = std::make_shared<socket_file>(unix_create1(type), f_flags);
    return 0;
}

long unix_socketpair(SysCtx& c, int type, int protocol, unsigned f_flags, std::shared_ptr<socket>& sa,
                     std::shared_ptr<socket>& sb) {
    if (long e = unix_create_checks(type, protocol)) return e;
    auto a = unix_create1(type), b = unix_create1(type);
    a->peer = b, b->peer = a;
    init_peercred(*a, c.task);
    init_peercred(*b, c.task);
    a->sk_state = b->sk_state = TCP_ESTABLISHED;
    sa = std::make_shared<socket_file>(a, f_flags);
    sb = std::make_shared<socket_file>(b, f_flags);
    return 0;
}

// /proc/net/unix (unix_seq_show): a line per socket. Num is the sock's address (shown
// as %pK shows it to a reader without kptr access: zeros); RefCount is the sock's references
// as Linux counts them here: its socket's and the table's, plus one from each socket whose
// peer it is (unix_peer holds it); a listener has __SO_ACCEPTCON; St is the socket's state, or
// for an embryo not yet accepted (no socket, inode 0) SS_CONNECTING; then the name, abstract
// ones with '@' for each NUL.
std::string proc_net_unix(Kernel& k) {
    constexpr unsigned SO_ACCEPTCON = 1u << 16;
    constexpr int SS_UNCONNECTED = 1, SS_CONNECTING = 2, SS_CONNECTED = 3, SS_DISCONNECTING = 4;
    std::string out = "Num       RefCount Protocol Flags    Type St Inode Path\n";
    std::vector<std::shared_ptr<unix_sock>> live;
    for (const auto& w : k.net_unix().all)
        if (auto s = w.lock(); s && !s->dead) live.push_back(std::move(s));
    for (const auto& s : live) {
        unsigned refs = 2;
        for (const auto& o : live)
            if (o->peer == s) ++refs;
        const bool established = s->sk_state == TCP_ESTABLISHED;
        const int st = s->sk_socket_ino ? (established ? SS_CONNECTED : SS_UNCONNECTED)
                                        : (established ? SS_CONNECTING : SS_DISCONNECTING);
        char line[128];
        std::snprintf(line, sizeof line, "%016llx: %08X %08X %08X %04X %02X %5llu", 0ull, refs, 0u,
                      s->sk_state == TCP_LISTEN ? SO_ACCEPTCON : 0u, static_cast<unsigned>(s->sk_type), st,
                      static_cast<unsigned long long>(s->sk_socket_ino));
        out += line;
        if (s->addr) {
            const std::vector<uint8_t>& name = s->addr->name;
            out += ' ';
            size_t i = SUN_PATH_OFFSET_, len = name.size();
            if (len > i && name[i]) {
                --len;  // the path's NUL
            } else {
                out += '@';
                ++i;
            }
            for (; i < len; ++i) out += name[i] ? static_cast<char>(name[i]) : '@';
        }
        out += '\n';
    }
    return out;
}

}  // namespace guestos
