// The socket syscalls (net/socket.c): the descriptor, the family-independent checks and the
// copies of addresses, msghdrs and options in and out, then the socket's proto_ops
// (include/net.h) for what the family does; sendmmsg/recvmmsg; i386's socketcall.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "guestos/fs/internal.h"
#include "guestos/include/anon_inodes.h"
#include "guestos/include/kernel.h"
#include "guestos/include/net.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/socket.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

socket::socket() {
    static uint64_t next_ino = 100000;  // sockfs's inode numbers (get_next_ino)
    ino_ = ++next_ino;
    if (KernelCaches* c = vfs_caches()) (void)sock_inode_.alloc(c->sock_inode_cachep);  // unbacked without memory
    sock_inode_.set(InodeField::i_mode, S_IFSOCK | 0777);
    sock_inode_.set(InodeField::i_ino, ino_);
    sock_inode_.set(InodeField::i_nlink, 1);
}

long socket::getattr(struct stat& st) { return anon_inode_getattr(st, S_IFSOCK | 0777, ino_); }

bool user_iov::copy(SysCtx& c, uint64_t off, uint8_t* host, uint64_t n, bool to_user) const {
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

namespace {

constexpr int AF_MAX = 46, SOCK_MAX = 11;

// The socket behind fd (sockfd_lookup): EBADF (an O_PATH file too: fdget), or ENOTSOCK
// for another file. The caller holds it, so a close by another thread while it sleeps does
// not free it.
std::shared_ptr<socket> sockfd_lookup(SysCtx& c, long fd, long& err) {
    auto f = fdget(c, static_cast<uint32_t>(fd));
    if (!f) {
        err = -EBADF;
        return nullptr;
    }
    auto s = std::dynamic_pointer_cast<socket>(f);
    if (!s) err = -ENOTSOCK;
    return s;
}

// The type and flags of socket() and socketpair().
long sock_create_checks(int& type, unsigned& flags) {
    flags = static_cast<unsigned>(type) & ~static_cast<unsigned>(SOCK_TYPE_MASK_);
    if (flags & ~(SOCK_CLOEXEC_ | SOCK_NONBLOCK_)) return -EINVAL;
    type &= SOCK_TYPE_MASK_;
    return 0;
}

// __sock_create: the family and type ranges, then the family's create.
long sock_create(SysCtx& c, int family, int type, int protocol, unsigned f_flags, std::shared_ptr<socket>& out) {
    if (family < 0 || family >= AF_MAX) return -EAFNOSUPPORT;
    if (type < 0 || type >= SOCK_MAX) return -EINVAL;
    switch (family) {
    case AF_UNIX_: return unix_create(type, protocol, f_flags, out);
    case AF_INET_:
    case AF_INET6_: return inet_create(c, family, type, protocol, f_flags, out);
    default: return -EAFNOSUPPORT;
    }
}

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

// A msghdr's iovec array: more than UIO_MAXIOV entries is EMSGSIZE (__copy_msghdr), the
// rest as read and write check it (fs/read_write's import_iovec).
long import_iovec(SysCtx& c, uint64_t uiov, uint64_t cnt, user_iov& out) {
    if (cnt > UIO_MAXIOV) return -EMSGSIZE;
    const long total = guestos::import_iovec(c, VirtAddr(uiov), cnt, out.segs);
    if (total < 0) return total;
    out.total = static_cast<uint64_t>(total);
    return 0;
}

// A user sockaddr into the kernel (move_addr_to_kernel): EINVAL beyond sockaddr_storage,
// nothing for an empty one.
long move_addr_to_kernel(SysCtx& c, uint64_t uaddr, int32_t ulen, std::vector<uint8_t>& out) {
    if (ulen < 0 || ulen > SOCKADDR_STORAGE_SIZE_) return -EINVAL;
    out.assign(static_cast<size_t>(ulen), 0);
    if (ulen && !copy_from_user(c.mm, out.data(), VirtAddr(uaddr), out.size())) return -EFAULT;
    return 0;
}

// A kernel sockaddr out to the user (move_addr_to_user): as much as the user's length at
// ulen allows, and the full length back there.
long move_addr_to_user(SysCtx& c, const std::vector<uint8_t>& kaddr, uint64_t uaddr, uint64_t ulen) {
    int32_t len;
    if (!copy_from_user(c.mm, &len, VirtAddr(ulen), 4)) return -EFAULT;
    const uint32_t klen = static_cast<uint32_t>(kaddr.size());
    if (len > static_cast<int32_t>(klen)) len = static_cast<int32_t>(klen);
    if (len < 0) return -EINVAL;
    if (len && !copy_to_user(c.mm, VirtAddr(uaddr), kaddr.data(), static_cast<size_t>(len))) return -EFAULT;
    return copy_to_user(c.mm, VirtAddr(ulen), &klen, 4) ? 0 : -EFAULT;
}

// ____sys_sendmsg: the destination, the iovec, then the family's sendmsg.
long do_sendmsg(SysCtx& c, long fd, const user_msghdr_& m, unsigned flags) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    socket_msg msg;
    msg.flags = flags;
    // copy_msghdr_from_user: a negative length is EINVAL, a long one is cut to the storage.
    const int32_t namelen = m.name ? static_cast<int32_t>(m.namelen) : 0;
    if (namelen < 0) return -EINVAL;
    if (m.name && namelen) {
        if (long e = move_addr_to_kernel(c, m.name, std::min(namelen, SOCKADDR_STORAGE_SIZE_), msg.name)) return e;
    }
    if (long e = import_iovec(c, m.iov, m.iovlen, msg.iov)) return e;
    msg.user = &m;
    if (s->f_flags & O_NONBLOCK_) msg.flags |= MSG_DONTWAIT_;
    return s->sendmsg(c, msg);
}

// ____sys_recvmsg: the family's recvmsg, then the source's name, msg_controllen and
// msg_flags back to the user.
long do_recvmsg(SysCtx& c, long fd, uint64_t umsg, user_msghdr_& m, unsigned flags) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    socket_msg msg;
    msg.flags = flags;
    if (m.name && static_cast<int32_t>(m.namelen) < 0) return -EINVAL;
    if (long e = import_iovec(c, m.iov, m.iovlen, msg.iov)) return e;
    msg.user = &m;
    if (s->f_flags & O_NONBLOCK_) msg.flags |= MSG_DONTWAIT_;
    const long ret = s->recvmsg(c, msg);
    if (ret < 0) return ret;
    if (m.name) {
        if (long e = move_addr_to_user(c, msg.name, m.name, umsg + (c.compat ? 4 : 8))) return e;
    }
    const uint32_t out_flags = msg.msg_flags | (flags & MSG_CMSG_CLOEXEC_);  // ___sys_recvmsg keeps it
    const uint64_t used = msg.control_used;
    bool ok = true;
    if (c.compat) {
        const uint32_t cl = static_cast<uint32_t>(used);
        ok = copy_to_user(c.mm, VirtAddr(umsg + 20), &cl, 4) && copy_to_user(c.mm, VirtAddr(umsg + 24), &out_flags, 4);
    } else {
        ok =
            copy_to_user(c.mm, VirtAddr(umsg + 40), &used, 8) && copy_to_user(c.mm, VirtAddr(umsg + 48), &out_flags, 4);
    }
    return ok ? ret : -EFAULT;
}

// send/sendto (__sys_sendto) and recv/recvfrom (__sys_recvfrom): one buffer, no control
// messages.
long do_sendto(SysCtx& c, long fd, uint64_t buf, uint64_t len, unsigned flags, uint64_t addr, uint32_t addrlen) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    socket_msg msg;
    msg.flags = flags | ((s->f_flags & O_NONBLOCK_) ? MSG_DONTWAIT_ : 0);
    if (addr) {
        if (long e = move_addr_to_kernel(c, addr, static_cast<int32_t>(addrlen), msg.name)) return e;
    }
    len = std::min<uint64_t>(len, MAX_RW_COUNT);
    if (!access_ok(buf, len)) return -EFAULT;
    msg.iov.segs.emplace_back(buf, len);
    msg.iov.total = len;
    return s->sendmsg(c, msg);
}

long do_recvfrom(SysCtx& c, long fd, uint64_t buf, uint64_t len, unsigned flags, uint64_t addr, uint64_t addrlen) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    socket_msg msg;
    msg.flags = flags | ((s->f_flags & O_NONBLOCK_) ? MSG_DONTWAIT_ : 0);
    len = std::min<uint64_t>(len, MAX_RW_COUNT);
    if (!access_ok(buf, len)) return -EFAULT;
    msg.iov.segs.emplace_back(buf, len);
    msg.iov.total = len;
    const long ret = s->recvmsg(c, msg);
    if (ret >= 0 && addr) {
        if (long e = move_addr_to_user(c, msg.name, addr, addrlen)) return e;
    }
    return ret;
}

// The lowest descriptor free from `from` on (what get_unused_fd_flags will give).
long lowest_free_fd(const files_struct& files, long from) {
    long fd = from;
    while (files.get(fd)) ++fd;
    return fd;
}

// __sys_socketpair: the two descriptors are reserved and written out before the sockets
// are made; only AF_UNIX pairs (the others' sock_no_socketpair is EOPNOTSUPP).
long do_socketpair(SysCtx& c, int family, int type, int protocol, uint64_t usockvec) {
    unsigned flags;
    if (long e = sock_create_checks(type, flags)) return e;
    const long r1 = lowest_free_fd(*c.task.files, 0);
    const int32_t reserved[2] = {static_cast<int32_t>(r1), static_cast<int32_t>(lowest_free_fd(*c.task.files, r1 + 1))};
    if (!copy_to_user(c.mm, VirtAddr(usockvec), reserved, sizeof reserved)) return -EFAULT;
    const unsigned fl = (flags & SOCK_NONBLOCK_) ? O_NONBLOCK_ : 0;
    std::shared_ptr<socket> a, b;
    if (family != AF_UNIX_) {
        if (long e = sock_create(c, family, type, protocol, fl, a)) return e;
        return -EOPNOTSUPP;
    }
    if (type < 0 || type >= SOCK_MAX) return -EINVAL;
    if (long e = unix_socketpair(c, type, protocol, fl, a, b)) return e;
    const long fd1 = get_unused_fd_install(c, std::move(a), flags & SOCK_CLOEXEC_);
    if (fd1 < 0) return fd1;
    const long fd2 = get_unused_fd_install(c, std::move(b), flags & SOCK_CLOEXEC_);
    if (fd2 < 0) {
        c.task.files->fd[fd1].reset();
        return fd2;
    }
    return 0;
}

long do_socket(SysCtx& c, int family, int type, int protocol) {
    unsigned flags;
    if (long e = sock_create_checks(type, flags)) return e;
    std::shared_ptr<socket> s;
    if (long e = sock_create(c, family, type, protocol, (flags & SOCK_NONBLOCK_) ? O_NONBLOCK_ : 0, s)) return e;
    return get_unused_fd_install(c, std::move(s), flags & SOCK_CLOEXEC_);
}

// The largest option value copied in or out (struct tcp_info is the biggest we answer).
constexpr uint32_t OPTVAL_MAX = 256;

long do_getsockopt(SysCtx& c, long fd, int level, int optname, uint64_t optval, uint64_t optlen) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    int32_t len;
    if (!copy_from_user(c.mm, &len, VirtAddr(optlen), 4)) return -EFAULT;
    if (len < 0) return -EINVAL;
    uint8_t val[OPTVAL_MAX] = {};
    uint32_t n = static_cast<uint32_t>(std::min<int32_t>(len, sizeof val));
    if (long e = s->getsockopt(c, level, optname, val, n)) return e;
    if (!copy_to_user(c.mm, VirtAddr(optval), val, n) || !copy_to_user(c.mm, VirtAddr(optlen), &n, 4)) return -EFAULT;
    return 0;
}

long do_setsockopt(SysCtx& c, long fd, int level, int optname, uint64_t optval, uint32_t optlen) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    if (static_cast<int32_t>(optlen) < 0) return -EINVAL;
    uint8_t val[OPTVAL_MAX] = {};
    const uint32_t n = std::min<uint32_t>(optlen, sizeof val);
    if (n && !copy_from_user(c.mm, val, VirtAddr(optval), n)) return -EFAULT;
    return s->setsockopt(c, level, optname, val, optlen);
}

// getsockname/getpeername (__sys_getsockname, __sys_getpeername).
long do_getname(SysCtx& c, long fd, uint64_t uaddr, uint64_t ulen, bool peer) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    std::vector<uint8_t> name;
    if (long e = s->getname(name, peer)) return e;
    return move_addr_to_user(c, name, uaddr, ulen);
}

long do_bind(SysCtx& c, long fd, uint64_t uaddr, int32_t addrlen) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    std::vector<uint8_t> addr;
    if (long e = move_addr_to_kernel(c, uaddr, addrlen, addr)) return e;
    return s->bind(c, addr);
}

// listen: the backlog is cut to net.core.somaxconn (as unsigned, so a negative one too).
long do_listen(SysCtx& c, long fd, int32_t backlog) {
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    if (static_cast<uint32_t>(backlog) > static_cast<uint32_t>(SOMAXCONN_)) backlog = SOMAXCONN_;
    return s->listen(c, backlog);
}

// connect (__sys_connect): EBADF, then the address, then ENOTSOCK.
long do_connect(SysCtx& c, long fd, uint64_t uaddr, int32_t addrlen) {
    auto f = fdget(c, static_cast<uint32_t>(fd));
    if (!f) return -EBADF;
    std::vector<uint8_t> addr;
    if (long e = move_addr_to_kernel(c, uaddr, addrlen, addr)) return e;
    auto s = std::dynamic_pointer_cast<socket>(f);
    if (!s) return -ENOTSOCK;
    return s->connect(c, addr);
}

// accept4 (__sys_accept4): the new socket's file with SOCK_NONBLOCK/SOCK_CLOEXEC, and the
// peer's name when asked.
long do_accept4(SysCtx& c, long fd, uint64_t upeer, uint64_t upeer_len, int32_t flags) {
    if (static_cast<unsigned>(flags) & ~(SOCK_CLOEXEC_ | SOCK_NONBLOCK_)) return -EINVAL;
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    std::shared_ptr<socket> newsock;
    if (long e = s->accept(c, (flags & SOCK_NONBLOCK_) ? O_NONBLOCK_ : 0, newsock)) return e;
    if (upeer) {
        std::vector<uint8_t> name;
        if (newsock->getname(name, true)) return -ECONNABORTED;
        if (long e = move_addr_to_user(c, name, upeer, upeer_len)) return e;
    }
    return get_unused_fd_install(c, std::move(newsock), flags & SOCK_CLOEXEC_);
}

// The size of one struct mmsghdr (a msghdr and msg_len, padded) and where msg_len is.
uint64_t mmsghdr_size(const SysCtx& c) { return c.compat ? 32 : 64; }
uint64_t mmsghdr_len_off(const SysCtx& c) { return c.compat ? 28 : 56; }

// sendmmsg (__sys_sendmmsg): up to UIO_MAXIOV messages, each one's msg_len filled; stops at
// an error or a partial send; the count sent, or the error when none was.
long do_sendmmsg(SysCtx& c, long fd, uint64_t mmsg, uint32_t vlen, uint32_t flags) {
    if (!c.compat && (flags & MSG_CMSG_COMPAT_)) return -EINVAL;  // the compat entry sets it itself
    vlen = std::min<uint32_t>(vlen, UIO_MAXIOV);
    long err = 0;
    if (!sockfd_lookup(c, fd, err)) return err;
    uint32_t datagrams = 0;
    while (datagrams < vlen) {
        const uint64_t entry = mmsg + datagrams * mmsghdr_size(c);
        user_msghdr_ m;
        if (!get_msghdr(c, entry, m)) {
            err = -EFAULT;
            break;
        }
        err = do_sendmsg(c, fd, m, flags);
        if (err < 0) break;
        const uint32_t sent = static_cast<uint32_t>(err);
        if (!copy_to_user(c.mm, VirtAddr(entry + mmsghdr_len_off(c)), &sent, 4)) {
            err = -EFAULT;
            break;
        }
        ++datagrams;
        user_iov iov;  // msg_data_left: a partial send ends the batch
        if (import_iovec(c, m.iov, m.iovlen, iov) == 0 && sent < iov.total) break;
    }
    return datagrams ? static_cast<long>(datagrams) : (err < 0 ? err : 0);
}

// recvmmsg (do_recvmmsg): up to vlen messages, each one's msg_len filled; MSG_WAITFORONE
// stops waiting after the first; the timeout is looked at between messages, and what is
// left of it written back. An error after some messages is left on the socket.
long do_recvmmsg(SysCtx& c, long fd, uint64_t mmsg, uint32_t vlen, uint32_t flags, uint64_t utimeout, bool time64) {
    if (!c.compat && (flags & MSG_CMSG_COMPAT_)) return -EINVAL;  // the compat entry sets it itself
    std::optional<ktime_t> end_time;
    if (utimeout) {
        timespec ts;
        if (!get_timespec(c, VirtAddr(utimeout), ts, time64)) return -EFAULT;
        if (!timespec_valid(ts)) return -EINVAL;  // poll_select_set_timeout
        end_time = (ts.tv_sec || ts.tv_nsec) ? ktime_add_safe(ktime_get(), timespec_to_ktime(ts)) : 0;
    }
    long err = 0;
    auto s = sockfd_lookup(c, fd, err);
    if (!s) return err;
    if (int e = s->sock_error()) return -e;
    uint32_t datagrams = 0;
    ktime_t left = 0;
    err = 0;
    while (datagrams < vlen) {
        const uint64_t entry = mmsg + uint64_t{datagrams} * mmsghdr_size(c);
        user_msghdr_ m;
        if (!get_msghdr(c, entry, m)) {
            err = -EFAULT;
            break;
        }
        err = do_recvmsg(c, fd, entry, m, flags & ~MSG_WAITFORONE_);
        if (err < 0) break;
        const uint32_t got = static_cast<uint32_t>(err);
        err = 0;
        if (!copy_to_user(c.mm, VirtAddr(entry + mmsghdr_len_off(c)), &got, 4)) {
            err = -EFAULT;
            break;
        }
        ++datagrams;
        if (flags & MSG_WAITFORONE_) flags |= MSG_DONTWAIT_;
        if (end_time) {
            left = std::max<ktime_t>(*end_time - ktime_get(), 0);
            if (!left) break;
        }
    }
    if (err && !datagrams) return err;
    if (err && err != -EAGAIN) s->set_sock_error(static_cast<int>(-err));
    if (datagrams && utimeout && !put_timespec(c, VirtAddr(utimeout), ktime_to_timespec(left), time64)) return -EFAULT;
    return datagrams;
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
    auto s = sockfd_lookup(c, static_cast<int32_t>(a[0]), err);
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

long sys_bind(SysCtx& c, const uint64_t* a) {
    return do_bind(c, static_cast<int32_t>(a[0]), a[1], static_cast<int32_t>(a[2]));
}
long sys_listen(SysCtx& c, const uint64_t* a) {
    return do_listen(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]));
}
long sys_connect(SysCtx& c, const uint64_t* a) {
    return do_connect(c, static_cast<int32_t>(a[0]), a[1], static_cast<int32_t>(a[2]));
}
long sys_accept(SysCtx& c, const uint64_t* a) { return do_accept4(c, static_cast<int32_t>(a[0]), a[1], a[2], 0); }
long sys_accept4(SysCtx& c, const uint64_t* a) {
    return do_accept4(c, static_cast<int32_t>(a[0]), a[1], a[2], static_cast<int32_t>(a[3]));
}
long sys_sendmmsg(SysCtx& c, const uint64_t* a) {
    return do_sendmmsg(c, static_cast<int32_t>(a[0]), a[1], static_cast<uint32_t>(a[2]), static_cast<uint32_t>(a[3]));
}
// recvmmsg's timeout: 64-bit on x86-64, i386's old 32-bit timespec (recvmmsg_time64 has the
// 64-bit one).
long sys_recvmmsg(SysCtx& c, const uint64_t* a) {
    return do_recvmmsg(c, static_cast<int32_t>(a[0]), a[1], static_cast<uint32_t>(a[2]), static_cast<uint32_t>(a[3]),
                       a[4], !c.compat);
}
long sys_recvmmsg_time64(SysCtx& c, const uint64_t* a) {
    return do_recvmmsg(c, static_cast<int32_t>(a[0]), a[1], static_cast<uint32_t>(a[2]), static_cast<uint32_t>(a[3]),
                       a[4], true);
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
    case SYS_SOCKET_: return sys_socket(c, v);
    case SYS_BIND_: return sys_bind(c, v);
    case SYS_CONNECT_: return sys_connect(c, v);
    case SYS_LISTEN_: return sys_listen(c, v);
    case SYS_ACCEPT_: return sys_accept(c, v);
    case SYS_GETSOCKNAME_: return sys_getsockname(c, v);
    case SYS_GETPEERNAME_: return sys_getpeername(c, v);
    case SYS_SOCKETPAIR_: return sys_socketpair(c, v);
    case SYS_SEND_: v[4] = 0, v[5] = 0; return sys_sendto(c, v);
    case SYS_RECV_: v[4] = 0, v[5] = 0; return sys_recvfrom(c, v);
    case SYS_SENDTO_: return sys_sendto(c, v);
    case SYS_RECVFROM_: return sys_recvfrom(c, v);
    case SYS_SHUTDOWN_: return sys_shutdown(c, v);
    case SYS_SETSOCKOPT_: return sys_setsockopt(c, v);
    case SYS_GETSOCKOPT_: return sys_getsockopt(c, v);
    case SYS_SENDMSG_: return sys_sendmsg(c, v);
    case SYS_RECVMSG_: return sys_recvmsg(c, v);
    case SYS_ACCEPT4_: return sys_accept4(c, v);
    case SYS_RECVMMSG_: return sys_recvmmsg(c, v);  // the old 32-bit timespec
    default: return sys_sendmmsg(c, v);
    }
}

}  // namespace guestos
