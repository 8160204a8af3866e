#include "devices/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace devices {

namespace {
long result(long r) { return r < 0 ? -static_cast<long>(errno) : r; }

struct KnownIoctl {
    unsigned long cmd;
    size_t in, out;
};
// struct termios (kernel) is 36 bytes, struct winsize 8, pids and counts are ints.
constexpr KnownIoctl known_ioctls[] = {
    {0x5401, 0, 36}, {0x5402, 36, 0}, {0x5403, 36, 0}, {0x5404, 36, 0},  // TCGETS, TCSETS, TCSETSW, TCSETSF
    {0x5413, 0, 8},  {0x5414, 8, 0},                                     // TIOCGWINSZ, TIOCSWINSZ
    {0x540F, 0, 4},  {0x541B, 0, 4},                                     // TIOCGPGRP, FIONREAD
    {0x5410, 4, 0},  {0x5429, 0, 4},                                     // TIOCSPGRP, TIOCGSID
    {0x540E, 0, 0},  {0x5422, 0, 0},                                     // TIOCSCTTY (by value), TIOCNOTTY
};
}  // namespace

long Console::read(void* buf, size_t n) { return result(::read(fd_, buf, n)); }
long Console::write(const void* buf, size_t n) { return result(::write(fd_, buf, n)); }
long Console::pread(void* buf, size_t n, int64_t pos) { return result(::pread(fd_, buf, n, pos)); }
long Console::pwrite(const void* buf, size_t n, int64_t pos) { return result(::pwrite(fd_, buf, n, pos)); }
long Console::lseek(int64_t off, int whence) { return result(::lseek(fd_, off, whence)); }
long Console::fstat(struct stat& st) { return result(::fstat(fd_, &st)); }
long Console::status_flags() { return result(::fcntl(fd_, F_GETFL)); }
long Console::set_status_flags(int flags) { return result(::fcntl(fd_, F_SETFL, flags)); }

bool Console::ioctl_sizes(unsigned long cmd, size_t& in_len, size_t& out_len) {
    for (const auto& k : known_ioctls) {
        if (k.cmd != cmd) continue;
        in_len = k.in;
        out_len = k.out;
        return true;
    }
    return false;
}

long Console::ioctl(unsigned long cmd, uint8_t* arg, size_t& in_len, size_t& out_len) {
    if (!ioctl_sizes(cmd, in_len, out_len)) return isatty(fd_) ? -EINVAL : -ENOTTY;
    return result(::ioctl(fd_, cmd, arg));
}

}  // namespace devices
