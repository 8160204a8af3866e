// The emulated disk over a host image: open refuses what is not an image, requests are
// whole sectors inside the device, a read-only device refuses writes, and the counters
// count what completed.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "devices/block_device.h"

using devices::BlockDevice;

namespace {

// A private directory under /tmp, removed with everything in it.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/emu_blockdev_XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// Writes `bytes` to a new host file; each byte depends on its offset.
std::vector<uint8_t> make_image(const std::string& path, size_t bytes) {
    std::vector<uint8_t> data(bytes);
    for (size_t i = 0; i < bytes; i++) data[i] = uint8_t((i * 131) ^ (i >> 9));
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), std::streamsize(bytes));
    return data;
}

std::vector<uint8_t> host_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// The descriptor numbers this process has open on `path` (from /proc/self/fd).
std::vector<int> fds_open_on(const std::string& path) {
    std::vector<int> fds;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(e.path(), ec);
        if (!ec && target == path) fds.push_back(std::stoi(e.path().filename().string()));
    }
    return fds;
}

}  // namespace

TEST(BlockDevice, OpenMissingFileNamesTheFile) {
    TempDir dir;
    std::string path = dir.path + "/absent.img";
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadOnly);
    ASSERT_TRUE(dev.is_error());
    EXPECT_EQ(dev.error().errno_value, ENOENT);
    EXPECT_EQ(dev.error().message, path + ": no such file");
}

TEST(BlockDevice, OpenDirectoryIsNotARegularFile) {
    TempDir dir;
    auto dev = BlockDevice::open(dir.path, BlockDevice::Mode::ReadOnly);
    ASSERT_TRUE(dev.is_error());
    EXPECT_EQ(dev.error().errno_value, EISDIR);
    EXPECT_NE(dev.error().message.find(dir.path + ": not a regular file"), std::string::npos) << dev.error().message;
}

TEST(BlockDevice, OpenCharacterDeviceIsNotARegularFile) {
    auto dev = BlockDevice::open("/dev/null", BlockDevice::Mode::ReadOnly);
    ASSERT_TRUE(dev.is_error());
    EXPECT_EQ(dev.error().errno_value, EINVAL);
    EXPECT_EQ(dev.error().message, "/dev/null: not a regular file");
}

TEST(BlockDevice, OpenRefusesSizeNotAMultipleOf512) {
    TempDir dir;
    std::string path = dir.path + "/odd.img";
    make_image(path, 1000);
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadOnly);
    ASSERT_TRUE(dev.is_error());
    EXPECT_EQ(dev.error().errno_value, EINVAL);
    EXPECT_EQ(dev.error().message, path + ": size 1000 is not a multiple of 512");
}

TEST(BlockDevice, OpenRefusesEmptyImage) {
    TempDir dir;
    std::string path = dir.path + "/empty.img";
    make_image(path, 0);
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadWrite);
    ASSERT_TRUE(dev.is_error());
    EXPECT_EQ(dev.error().errno_value, EINVAL);
    EXPECT_EQ(dev.error().message, path + ": empty image");
}

TEST(BlockDevice, ReadsWhatTheHostFileHolds) {
    TempDir dir;
    std::string path = dir.path + "/disk.img";
    auto data = make_image(path, 16 * 512);
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadOnly);
    ASSERT_FALSE(dev.is_error()) << dev.error().message;
    EXPECT_EQ((*dev)->size_bytes(), data.size());
    EXPECT_TRUE((*dev)->read_only());
    for (uint64_t off : {0ull, 512ull, 7 * 512ull}) {
        std::vector<uint8_t> buf(3 * 512);
        ASSERT_EQ((*dev)->read(off, buf.data(), buf.size()), 0);
        EXPECT_TRUE(std::equal(buf.begin(), buf.end(), data.begin() + long(off))) << "offset " << off;
    }
    std::vector<uint8_t> last(512);
    EXPECT_EQ((*dev)->read(data.size() - 512, last.data(), 512), 0);
    EXPECT_TRUE(std::equal(last.begin(), last.end(), data.end() - 512));
}

TEST(BlockDevice, ReadPastTheEndIsEIO) {
    TempDir dir;
    std::string path = dir.path + "/disk.img";
    make_image(path, 4 * 512);
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadOnly).release_value();
    std::vector<uint8_t> buf(1024);
    EXPECT_EQ(dev->read(4 * 512, buf.data(), 512), -EIO);       // starts at the end
    EXPECT_EQ(dev->read(3 * 512, buf.data(), 1024), -EIO);      // runs past it
    EXPECT_EQ(dev->read(~0ull - 511, buf.data(), 1024), -EIO);  // offset + len would wrap
    EXPECT_EQ(dev->read(3 * 512, buf.data(), 512), 0);
}

TEST(BlockDevice, UnalignedRequestsAreEINVAL) {
    TempDir dir;
    std::string path = dir.path + "/disk.img";
    make_image(path, 4 * 512);
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadWrite).release_value();
    std::vector<uint8_t> buf(1024);
    EXPECT_EQ(dev->read(100, buf.data(), 512), -EINVAL);
    EXPECT_EQ(dev->read(0, buf.data(), 100), -EINVAL);
    EXPECT_EQ(dev->write(512, buf.data(), 513), -EINVAL);
    EXPECT_EQ(dev->write(1, buf.data(), 512), -EINVAL);
}

TEST(BlockDevice, WriteToReadOnlyDeviceIsEROFSAndChangesNothing) {
    TempDir dir;
    std::string path = dir.path + "/disk.img";
    auto data = make_image(path, 4 * 512);
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadOnly).release_value();
    std::vector<uint8_t> zeros(512);
    EXPECT_EQ(dev->write(0, zeros.data(), 512), -EROFS);
    EXPECT_EQ(host_bytes(path), data);
    EXPECT_EQ(dev->stats().writes, 0u);
}

TEST(BlockDevice, WritesReachTheHostFile) {
    TempDir dir;
    std::string path = dir.path + "/disk.img";
    auto data = make_image(path, 8 * 512);
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadWrite).release_value();
    EXPECT_FALSE(dev->read_only());
    std::vector<uint8_t> sectors(2 * 512);
    for (size_t i = 0; i < sectors.size(); i++) sectors[i] = uint8_t(255 - i % 251);
    ASSERT_EQ(dev->write(3 * 512, sectors.data(), sectors.size()), 0);
    EXPECT_EQ(dev->flush(), 0);
    std::copy(sectors.begin(), sectors.end(), data.begin() + 3 * 512);
    EXPECT_EQ(host_bytes(path), data);
    std::vector<uint8_t> back(sectors.size());
    ASSERT_EQ(dev->read(3 * 512, back.data(), back.size()), 0);
    EXPECT_EQ(back, sectors);
    EXPECT_EQ(dev->write(7 * 512, sectors.data(), sectors.size()), -EIO);  // would grow the image
    EXPECT_EQ(std::filesystem::file_size(path), 8 * 512u);
}

TEST(BlockDevice, StatsCountCompletedRequestsAndSectors) {
    TempDir dir;
    std::string path = dir.path + "/disk.img";
    make_image(path, 8 * 512);
    auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadWrite).release_value();
    std::vector<uint8_t> buf(4 * 512);
    ASSERT_EQ(dev->read(0, buf.data(), 512), 0);
    ASSERT_EQ(dev->read(512, buf.data(), 4 * 512), 0);
    ASSERT_EQ(dev->write(0, buf.data(), 3 * 512), 0);
    EXPECT_EQ(dev->read(8 * 512, buf.data(), 512), -EIO);  // failed: not counted
    EXPECT_EQ(dev->write(5, buf.data(), 512), -EINVAL);
    const auto& s = dev->stats();
    EXPECT_EQ(s.reads, 2u);
    EXPECT_EQ(s.sectors_read, 5u);
    EXPECT_EQ(s.writes, 1u);
    EXPECT_EQ(s.sectors_written, 3u);
}

TEST(BlockDevice, HostDescriptorIsCloseOnExecAndClosedWithTheDevice) {
    TempDir dir;
    std::string path = dir.path + "/disk.img";
    make_image(path, 512);
    {
        auto dev = BlockDevice::open(path, BlockDevice::Mode::ReadOnly).release_value();
        auto fds = fds_open_on(path);
        ASSERT_EQ(fds.size(), 1u);
        EXPECT_TRUE(::fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    }
    EXPECT_TRUE(fds_open_on(path).empty());
    // A failed open (odd size) leaks no descriptor either.
    make_image(path, 513);
    EXPECT_TRUE(BlockDevice::open(path, BlockDevice::Mode::ReadOnly).is_error());
    EXPECT_TRUE(fds_open_on(path).empty());
}
