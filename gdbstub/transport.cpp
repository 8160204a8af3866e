// Sockets for the GDB stub (see transport.h).
#include "gdbstub/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "gdbstub/packet.h"

namespace gdbstub {

namespace {
bool all_digits(const std::string& s) {
    if (s.empty() || s.size() > 5) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}
}  // namespace

std::unique_ptr<Listener> Listener::open(const std::string& where, std::string& error) {
    std::unique_ptr<Listener> l(new Listener);
    if (all_digits(where)) {
        const unsigned long port = std::stoul(where);
        if (port > 65535) {
            error = "--gdb " + where + ": not a port number";
            return nullptr;
        }
        l->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        if (l->fd_ >= 0) ::setsockopt(l->fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (l->fd_ < 0 || ::bind(l->fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) || ::listen(l->fd_, 1) ||
            ::getsockname(l->fd_, reinterpret_cast<sockaddr*>(&a), &len)) {
            error = "--gdb " + where + ": cannot listen on 127.0.0.1:" + where + ": " + std::strerror(errno);
            return nullptr;
        }
        l->address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
        return l;
    }
    sockaddr_un a{};
    if (where.size() >= sizeof a.sun_path) {
        error = "--gdb " + where + ": socket path too long";
        return nullptr;
    }
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, where.c_str(), where.size() + 1);
    // A socket file left by an earlier run is replaced; any other file is not touched.
    struct stat st;
    if (::lstat(where.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(where.c_str());
    l->fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l->fd_ < 0 || ::bind(l->fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) || ::listen(l->fd_, 1)) {
        error = "--gdb " + where + ": cannot listen on " + where + ": " + std::strerror(errno);
        return nullptr;
    }
    l->address_ = l->unix_path_ = where;
    return l;
}

Listener::~Listener() {
    if (fd_ >= 0) ::close(fd_);
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

std::unique_ptr<Connection> Listener::accept(std::string& error) {
    int fd;
    do {
        fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        error = "gdb: accept on " + address_ + ": " + std::strerror(errno);
        return nullptr;
    }
    ::close(fd_);
    fd_ = -1;
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
    unix_path_.clear();
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on Unix sockets
    return std::make_unique<Connection>(fd);
}

Connection::Connection(int fd) : fd_(fd) {
    thread_ = std::thread([this] { reader(); });
}

Connection::~Connection() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes the reader's recv
    thread_.join();
    ::close(fd_);
}

void Connection::reader() {
    PacketParser parser;
    std::vector<PacketEvent> events;
    uint8_t buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        events.clear();
        parser.feed(buf, static_cast<size_t>(n), events);
        for (PacketEvent& e : events) {
            if (e.kind == PacketEvent::Interrupt) {
                interrupt_ = true;
                std::lock_guard lock(mu_);
                if (on_interrupt_) on_interrupt_();
                continue;
            }
            if (!no_ack_) send_raw(e.kind == PacketEvent::Packet ? "+" : "-");
            if (e.kind != PacketEvent::Packet) continue;
            std::lock_guard lock(mu_);
            queue_.push_back(std::move(e.data));
            cv_.notify_one();
        }
    }
    std::lock_guard lock(mu_);
    closed_ = true;
    if (on_interrupt_) on_interrupt_();
    cv_.notify_one();
}

std::optional<std::string> Connection::next_packet() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return std::nullopt;
    std::string p = std::move(queue_.front());
    queue_.pop_front();
    return p;
}

void Connection::while_running(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    on_interrupt_ = std::move(fn);
    if (on_interrupt_ && closed_) on_interrupt_();  // gone already: stop at once
}

void Connection::send(const std::string& payload) { send_raw(frame_packet(payload)); }

void Connection::send_raw(const std::string& bytes) {
    std::lock_guard lock(send_mu_);
    for (size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            closed_ = true;
            return;
        }
        done += static_cast<size_t>(n);
    }
}

}  // namespace gdbstub
