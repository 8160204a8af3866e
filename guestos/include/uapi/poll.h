// poll events (uapi/asm-generic/poll.h) and epoll (uapi/linux/eventpoll.h).
#pragma once
#include <cstdint>

namespace guestos {

inline constexpr short POLLIN_ = 0x0001, POLLPRI_ = 0x0002, POLLOUT_ = 0x0004, POLLERR_ = 0x0008, POLLHUP_ = 0x0010,
                       POLLNVAL_ = 0x0020, POLLRDNORM_ = 0x0040, POLLRDBAND_ = 0x0080, POLLWRNORM_ = 0x0100,
                       POLLWRBAND_ = 0x0200, POLLMSG_ = 0x0400, POLLRDHUP_ = 0x2000;

inline constexpr int EPOLL_CTL_ADD_ = 1, EPOLL_CTL_DEL_ = 2, EPOLL_CTL_MOD_ = 3;
inline constexpr uint32_t EPOLLIN_ = 0x001, EPOLLPRI_ = 0x002, EPOLLOUT_ = 0x004, EPOLLERR_ = 0x008, EPOLLHUP_ = 0x010,
                          EPOLLNVAL_ = 0x020, EPOLLRDNORM_ = 0x040, EPOLLRDBAND_ = 0x080, EPOLLWRNORM_ = 0x100,
                          EPOLLWRBAND_ = 0x200, EPOLLMSG_ = 0x400, EPOLLRDHUP_ = 0x2000, EPOLLEXCLUSIVE_ = 1u << 28,
                          EPOLLWAKEUP_ = 1u << 29, EPOLLONESHOT_ = 1u << 30, EPOLLET_ = 1u << 31;
inline constexpr unsigned EPOLL_CLOEXEC_ = 02000000;

}  // namespace guestos
