// Sockets as the socket layer sees them (include/linux/net.h): struct socket with its
// proto_ops, which net/socket.cpp's syscalls call after the family-independent steps
// (the descriptor, copying addresses, msghdrs and options in and out). Each family
// (net/unix/af_unix.cpp, net/ipv4/af_inet.cpp) derives its socket from it.
#pragma once
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "guestos/include/fs.h"
#include "guestos/include/syscalls.h"

namespace guestos {

// The user's buffers of one sendmsg or recvmsg, copied to or from in order.
struct user_iov {
    std::vector<std::pair<uint64_t, uint64_t>> segs;
    uint64_t total = 0;
    // Copies n bytes at offset off of the buffers from (to) host memory: false on a fault.
    bool copy(SysCtx& c, uint64_t off, uint8_t* host, uint64_t n, bool to_user) const;
};

// A struct msghdr (or compat_msghdr) as the user gave it.
struct user_msghdr_ {
    uint64_t name = 0;
    uint32_t namelen = 0;
    uint64_t iov = 0, iovlen = 0, control = 0, controllen = 0;
    uint32_t flags = 0;
};

// One sendmsg/recvmsg (sendto/recvfrom, read/write) as socket.c hands it to the family
// (struct msghdr in the kernel).
struct socket_msg {
    user_iov iov;
    unsigned flags = 0;                  // the call's MSG_*, MSG_DONTWAIT added for O_NONBLOCK
    std::vector<uint8_t> name;           // send: the destination; recv: the source, when known
    const user_msghdr_* user = nullptr;  // the user's msghdr for control messages (sendmsg/recvmsg only)
    uint64_t control_used = 0;           // recv: control bytes written (msg_controllen back)
    unsigned msg_flags = 0;              // recv: MSG_TRUNC, MSG_CTRUNC, ...
};

// A socket as an open file (struct socket + socket_file_ops): fstat is S_IFSOCK with its
// own inode number; /proc/PID/fd shows socket:[ino]. The virtuals are its proto_ops.
class socket : public file {
public:
    socket();
    long llseek(int64_t, int) override { return -ESPIPE; }
    long getattr(struct stat& st) override;
    bool can_poll() const override { return true; }
    uint64_t ino() const { return ino_; }

    virtual int family() const = 0;
    virtual long bind(SysCtx& c, const std::vector<uint8_t>& addr) = 0;
    virtual long connect(SysCtx& c, const std::vector<uint8_t>& addr) = 0;
    virtual long listen(SysCtx& c, int backlog) = 0;
    // The next connection, as a new socket with f_flags (O_NONBLOCK or 0).
    virtual long accept(SysCtx& c, unsigned f_flags, std::shared_ptr<socket>& out) = 0;
    virtual long getname(std::vector<uint8_t>& out, bool peer) = 0;
    virtual long sendmsg(SysCtx& c, socket_msg& msg) = 0;
    virtual long recvmsg(SysCtx& c, socket_msg& msg) = 0;
    virtual long shutdown(int how) = 0;
    // Options on kernel copies of the value: set gets optlen bytes (at most what fits in
    // the buffer the caller gave), get fills at most len and sets len.
    virtual long setsockopt(SysCtx& c, int level, int optname, const uint8_t* val, uint32_t len) = 0;
    virtual long getsockopt(SysCtx& c, int level, int optname, uint8_t* val, uint32_t& len) = 0;
    // The pending error, cleared (sock_error), and one left for later (recvmmsg).
    virtual int sock_error() = 0;
    virtual void set_sock_error(int err) = 0;

private:
    uint64_t ino_ = 0;
    // Its inode in sockfs: the socket_alloc in sock_inode_cache (sock_alloc_inode).
    SlabObject sock_inode_;
};

// Family constructors socket() dispatches to (net_families[family]->create): a checked
// type (SOCK_TYPE_MASK bits only) and protocol; f_flags is O_NONBLOCK or 0.
long unix_create(int type, int protocol, unsigned f_flags, std::shared_ptr<socket>& out);
long inet_create(SysCtx& c, int family, int type, int protocol, unsigned f_flags, std::shared_ptr<socket>& out);
// socketpair for AF_UNIX (unix_socketpair): two connected sockets.
long unix_socketpair(SysCtx& c, int type, int protocol, unsigned f_flags, std::shared_ptr<socket>& a,
                     std::shared_ptr<socket>& b);

}  // namespace guestos
