// The socket gdb talks to: a listener on 127.0.0.1:PORT or a Unix socket path, and the one
// connection it accepts. A reader thread parses what arrives (packet.h) so that an interrupt
// byte (Ctrl-C in gdb) or the client going away is seen while the guest runs on the main
// thread; packets wait in a queue for the main thread, which alone answers them.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace gdbstub {

class Connection;

class Listener {
public:
    // Listens at where: a decimal port on 127.0.0.1 (0 picks a free one) or a Unix socket
    // path (a stale socket file there is replaced). nullptr with error set on failure.
    static std::unique_ptr<Listener> open(const std::string& where, std::string& error);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    // "127.0.0.1:41234" or the socket path.
    const std::string& address() const { return address_; }
    // Waits for gdb; stops listening once it has come (a Unix socket's file is removed).
    std::unique_ptr<Connection> accept(std::string& error);

private:
    Listener() = default;
    int fd_ = -1;
    std::string address_;
    std::string unix_path_;
};

class Connection {
public:
    explicit Connection(int fd);
    ~Connection();  // closes the socket and joins the reader
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // The next packet's payload; nullopt once the client has gone (and nothing is queued).
    std::optional<std::string> next_packet();
    // Sends one packet (framed and checksummed); a failed send marks the connection closed.
    void send(const std::string& payload);
    // After QStartNoAckMode: no more `+` for packets received from here on.
    void set_no_ack() { no_ack_ = true; }
    // While the guest runs, fn is called from the reader thread on an interrupt byte or when
    // the client goes away (it must be thread-safe: emu::Debugger::pause); none: nullptr.
    void while_running(std::function<void()> fn);
    bool closed() const { return closed_; }
    // An interrupt byte came since the last call.
    bool take_interrupt() { return interrupt_.exchange(false); }

private:
    void reader();
    void send_raw(const std::string& bytes);

    int fd_;
    std::thread thread_;
    std::mutex mu_;  // guards queue_, on_interrupt_
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    std::function<void()> on_interrupt_;
    std::mutex send_mu_;
    std::atomic<bool> closed_{false};
    std::atomic<bool> no_ack_{false};
    std::atomic<bool> interrupt_{false};
};

}  // namespace gdbstub
