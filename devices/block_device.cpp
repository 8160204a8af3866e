#include "devices/block_device.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace devices {

namespace {

using mmu::Error;

// "path: reason", carrying errno `err`.
Error open_error(int err, const std::string& path, const std::string& reason) {
    return Error::from_errno(err, path + ": " + reason);
}

// Reason text for an open() errno.
std::string errno_reason(int err) {
    switch (err) {
    case ENOENT: return "no such file";
    case EACCES: return "permission denied";
    default: return std::strerror(err);
    }
}

// Closes the descriptor unless released: open() must not leak it on a failed check.
struct FdGuard {
    int fd;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

// Refuses an image that is not a non-empty regular file of whole sectors.
mmu::ErrorOr<uint64_t> image_size(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) < 0) return open_error(errno, path, errno_reason(errno));
    if (S_ISDIR(st.st_mode)) return open_error(EISDIR, path, "not a regular file (a directory)");
    if (!S_ISREG(st.st_mode)) return open_error(EINVAL, path, "not a regular file");
    auto size = uint64_t(st.st_size);
    if (size == 0) return open_error(EINVAL, path, "empty image");
    if (size % BlockDevice::SECTOR_SIZE != 0)
        return open_error(EINVAL, path, "size " + std::to_string(size) + " is not a multiple of 512");
    return size;
}

}  // namespace

mmu::ErrorOr<std::unique_ptr<BlockDevice>> BlockDevice::open(const std::string& path, Mode mode) {
    int flags = (mode == Mode::ReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    FdGuard fd{::open(path.c_str(), flags)};
    if (fd.fd < 0) return open_error(errno, path, errno_reason(errno));
    auto size = TRY(image_size(fd.fd, path));
    return std::unique_ptr<BlockDevice>(new BlockDevice(fd.release(), path, size, mode));
}

BlockDevice::~BlockDevice() { ::close(fd_); }

long BlockDevice::check_request(uint64_t offset, uint64_t len) const {
    if (offset % SECTOR_SIZE != 0 || len % SECTOR_SIZE != 0) return -EINVAL;
    if (offset > size_ || len > size_ - offset) return -EIO;
    return 0;
}

long BlockDevice::read(uint64_t offset, void* buf, uint64_t len) {
    if (long r = check_request(offset, len); r < 0) return r;
    auto* p = static_cast<uint8_t*>(buf);
    for (uint64_t done = 0; done < len;) {
        ssize_t n = ::pread(fd_, p + done, len - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -EIO;  // a host error, or the image shrank under us
        done += uint64_t(n);
    }
    stats_.reads++;
    stats_.sectors_read += len / SECTOR_SIZE;
    return 0;
}

long BlockDevice::write(uint64_t offset, const void* buf, uint64_t len) {
    if (read_only()) return -EROFS;
    if (long r = check_request(offset, len); r < 0) return r;
    auto* p = static_cast<const uint8_t*>(buf);
    for (uint64_t done = 0; done < len;) {
        ssize_t n = ::pwrite(fd_, p + done, len - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -EIO;
        done += uint64_t(n);
    }
    stats_.writes++;
    stats_.sectors_written += len / SECTOR_SIZE;
    return 0;
}

long BlockDevice::writev(uint64_t offset, const struct iovec* iov, int iovcnt) {
    uint64_t len = 0;
    for (int i = 0; i < iovcnt; ++i) len += iov[i].iov_len;
    if (read_only()) return -EROFS;
    if (long r = check_request(offset, len); r < 0) return r;
    uint64_t at = offset;
    for (int i = 0; i < iovcnt;) {
        const ssize_t n = ::pwritev(fd_, iov + i, std::min(iovcnt - i, IOV_MAX), off_t(at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -EIO;
        // Whole segments written move on; a segment written in part is finished with pwrite.
        uint64_t left = uint64_t(n);
        for (; i < iovcnt && left >= iov[i].iov_len; ++i) {
            left -= iov[i].iov_len;
            at += iov[i].iov_len;
        }
        if (!left) continue;
        const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
        for (uint64_t done = left; done < iov[i].iov_len;) {
            const ssize_t w = ::pwrite(fd_, p + done, iov[i].iov_len - done, off_t(at + done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return -EIO;
            done += uint64_t(w);
        }
        at += iov[i].iov_len;
        ++i;
    }
    stats_.writes++;
    stats_.sectors_written += len / SECTOR_SIZE;
    return 0;
}

long BlockDevice::flush() {
    if (::fdatasync(fd_) < 0) return -EIO;
    return 0;
}

}  // namespace devices
