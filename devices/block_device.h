// An emulated disk: whole 512-byte sectors of a host image file, read and written with
// pread/pwrite. What a filesystem driver (guestos/ext2) reads its blocks through.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

struct iovec;

#include "mmu/types.h"

namespace devices {

class BlockDevice {
public:
    static constexpr uint64_t SECTOR_SIZE = 512;
    enum class Mode { ReadOnly, ReadWrite };

    // Opens a host image; errors name the file and the reason (missing, not a regular
    // file, size not a multiple of 512, empty).
    static mmu::ErrorOr<std::unique_ptr<BlockDevice>> open(const std::string& path, Mode mode);

    BlockDevice(const BlockDevice&) = delete;
    BlockDevice& operator=(const BlockDevice&) = delete;
    ~BlockDevice();

    uint64_t size_bytes() const { return size_; }
    bool read_only() const { return mode_ == Mode::ReadOnly; }
    const std::string& path() const { return path_; }

    // Whole sectors at a sector-aligned byte offset: 0 or a negative errno (-EIO past the
    // end or on a host error; -EROFS writing a read-only device; -EINVAL unaligned).
    [[nodiscard]] long read(uint64_t offset, void* buf, uint64_t len);
    [[nodiscard]] long write(uint64_t offset, const void* buf, uint64_t len);
    // The segments one after the other from offset, in one request (pwritev).
    [[nodiscard]] long writev(uint64_t offset, const struct iovec* iov, int iovcnt);
    // Makes completed writes durable (fdatasync on the host file); 0 or a negative errno.
    [[nodiscard]] long flush();

    // Completed requests, as /proc/diskstats counts them.
    struct Stats {
        uint64_t reads = 0, writes = 0, sectors_read = 0, sectors_written = 0;
    };
    const Stats& stats() const { return stats_; }

private:
    BlockDevice(int fd, std::string path, uint64_t size, Mode mode)
        : fd_(fd), path_(std::move(path)), size_(size), mode_(mode) {}
    // -EINVAL for an unaligned request, -EIO for one past the end, else 0.
    long check_request(uint64_t offset, uint64_t len) const;

    int fd_;
    std::string path_;
    uint64_t size_;
    Mode mode_;
    Stats stats_;
};

}  // namespace devices
