// Sockets (include/linux/socket.h, net.h, uapi/asm-generic/socket.h).
#pragma once
#include <cstdint>

namespace guestos {

inline constexpr int AF_UNSPEC_ = 0, AF_UNIX_ = 1, AF_INET_ = 2, AF_INET6_ = 10;
// struct sockaddr_un: sun_family, then sun_path[108]; sockaddr_storage is 128 bytes.
inline constexpr int UNIX_PATH_MAX_ = 108, SUN_PATH_OFFSET_ = 2, SOCKADDR_UN_SIZE_ = 110, SOCKADDR_STORAGE_SIZE_ = 128;
// net.core.somaxconn and net.unix.max_dgram_qlen's defaults.
inline constexpr int SOMAXCONN_ = 4096, UNIX_MAX_DGRAM_QLEN_ = 10;
inline constexpr int SOCK_STREAM_ = 1, SOCK_DGRAM_ = 2, SOCK_RAW_ = 3, SOCK_SEQPACKET_ = 5;
inline constexpr int SOCK_TYPE_MASK_ = 0xf;
inline constexpr unsigned SOCK_CLOEXEC_ = 02000000, SOCK_NONBLOCK_ = 04000;

inline constexpr unsigned MSG_OOB_ = 0x1, MSG_PEEK_ = 0x2, MSG_CTRUNC_ = 0x8, MSG_TRUNC_ = 0x20, MSG_DONTWAIT_ = 0x40,
                          MSG_EOR_ = 0x80, MSG_WAITALL_ = 0x100, MSG_NOSIGNAL_ = 0x4000, MSG_WAITFORONE_ = 0x10000,
                          MSG_CMSG_COMPAT_ = 0x80000000, MSG_CMSG_CLOEXEC_ = 0x40000000;

inline constexpr int SOL_SOCKET_ = 1;
inline constexpr int SCM_RIGHTS_ = 1, SCM_CREDENTIALS_ = 2;
inline constexpr int SCM_MAX_FD_ = 253;
inline constexpr int SO_REUSEADDR_ = 2, SO_BROADCAST_ = 6, SO_KEEPALIVE_ = 9;
inline constexpr int SO_TYPE_ = 3, SO_ERROR_ = 4, SO_SNDBUF_ = 7, SO_RCVBUF_ = 8, SO_PASSCRED_ = 16, SO_PEERCRED_ = 17,
                     SO_ACCEPTCONN_ = 30, SO_PROTOCOL_ = 38, SO_DOMAIN_ = 39;
// The timeouts as struct timeval: the ABI's own (old: i386's is 32-bit) and 64-bit (new).
inline constexpr int SO_RCVTIMEO_OLD_ = 20, SO_SNDTIMEO_OLD_ = 21, SO_RCVTIMEO_NEW_ = 66, SO_SNDTIMEO_NEW_ = 67;
// Socket ioctls: SIOCINQ is FIONREAD, SIOCOUTQ is TIOCOUTQ.
inline constexpr unsigned SIOCINQ_ = 0x541B, SIOCOUTQ_ = 0x5411, SIOCATMARK_ = 0x8905;
// The socket's SIGIO owner (sock_ioctl): FIOSETOWN/SIOCSPGRP set it, FIOGETOWN/SIOCGPGRP read it.
inline constexpr unsigned FIOSETOWN_ = 0x8901, SIOCSPGRP_ = 0x8902, FIOGETOWN_ = 0x8903, SIOCGPGRP_ = 0x8904;

// shutdown's how, and the sk_shutdown bits it sets (how + 1).
inline constexpr int SHUT_RD_ = 0, SHUT_WR_ = 1, SHUT_RDWR_ = 2;
inline constexpr unsigned RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2, SHUTDOWN_MASK = 3;

// i386's socketcall numbers (linux/net.h SYS_SOCKET ... SYS_SENDMMSG).
inline constexpr int SYS_SOCKET_ = 1, SYS_BIND_ = 2, SYS_CONNECT_ = 3, SYS_LISTEN_ = 4, SYS_ACCEPT_ = 5,
                     SYS_GETSOCKNAME_ = 6, SYS_GETPEERNAME_ = 7, SYS_SOCKETPAIR_ = 8, SYS_SEND_ = 9, SYS_RECV_ = 10,
                     SYS_SENDTO_ = 11, SYS_RECVFROM_ = 12, SYS_SHUTDOWN_ = 13, SYS_SETSOCKOPT_ = 14,
                     SYS_GETSOCKOPT_ = 15, SYS_SENDMSG_ = 16, SYS_RECVMSG_ = 17, SYS_ACCEPT4_ = 18, SYS_RECVMMSG_ = 19,
                     SYS_SENDMMSG_ = 20;

}  // namespace guestos
