// Sockets (include/linux/socket.h, net.h, uapi/asm-generic/socket.h).
#pragma once
#include <cstdint>

namespace guestos {

inline constexpr int AF_UNIX_ = 1;
inline constexpr int SOCK_STREAM_ = 1, SOCK_DGRAM_ = 2, SOCK_RAW_ = 3, SOCK_SEQPACKET_ = 5;
inline constexpr int SOCK_TYPE_MASK_ = 0xf;
inline constexpr unsigned SOCK_CLOEXEC_ = 02000000, SOCK_NONBLOCK_ = 04000;

inline constexpr unsigned MSG_OOB_ = 0x1, MSG_PEEK_ = 0x2, MSG_CTRUNC_ = 0x8, MSG_TRUNC_ = 0x20, MSG_DONTWAIT_ = 0x40,
                          MSG_EOR_ = 0x80, MSG_WAITALL_ = 0x100, MSG_NOSIGNAL_ = 0x4000, MSG_CMSG_CLOEXEC_ = 0x40000000;

inline constexpr int SOL_SOCKET_ = 1;
inline constexpr int SCM_RIGHTS_ = 1, SCM_CREDENTIALS_ = 2;
inline constexpr int SCM_MAX_FD_ = 253;
inline constexpr int SO_TYPE_ = 3, SO_ERROR_ = 4, SO_SNDBUF_ = 7, SO_RCVBUF_ = 8, SO_PASSCRED_ = 16, SO_PEERCRED_ = 17,
                     SO_ACCEPTCONN_ = 30, SO_PROTOCOL_ = 38, SO_DOMAIN_ = 39;

// shutdown's how, and the sk_shutdown bits it sets (how + 1).
inline constexpr int SHUT_RD_ = 0, SHUT_WR_ = 1, SHUT_RDWR_ = 2;
inline constexpr unsigned RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2, SHUTDOWN_MASK = 3;

// i386's socketcall numbers (SYS_SOCKET ... SYS_SENDMMSG).
inline constexpr int SYS_SOCKET_ = 1, SYS_SENDMMSG_ = 20;

}  // namespace guestos
