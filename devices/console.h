// The console device: the terminal (or pipe, or file) emu itself was given on fds 0-2.
// Guest reads and writes pass through to the host descriptor.
#pragma once
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace devices {

class Console {
public:
    explicit Console(int host_fd) : fd_(host_fd) {}
    int host_fd() const { return fd_; }
    // Each returns the host result or a negative errno.
    long read(void* buf, size_t n);
    long write(const void* buf, size_t n);
    long pread(void* buf, size_t n, int64_t pos);
    long pwrite(const void* buf, size_t n, int64_t pos);
    long lseek(int64_t off, int whence);
    long fstat(struct stat& st);
    long status_flags();
    long set_status_flags(int flags);
    // Terminal ioctls with fixed-size arguments (TCGETS, TCSETS*, TIOCGWINSZ, ...): `arg`
    // holds the in/out bytes; -ENOTTY (or -EINVAL on a terminal) for anything else.
    long ioctl(unsigned long cmd, uint8_t* arg, size_t& in_len, size_t& out_len);
    // Sizes of the argument an ioctl reads and writes; false for one the console refuses.
    static bool ioctl_sizes(unsigned long cmd, size_t& in_len, size_t& out_len);

private:
    int fd_;
};

}  // namespace devices
