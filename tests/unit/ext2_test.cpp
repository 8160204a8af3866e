// The read-only ext2 driver against real images made by e2fsprogs from a host tree the
// test builds: every file, directory and symlink must read back as the host has it, at
// each block size; corrupt or foreign images must give a named error, never a crash or
// a hang. e2fsck, debugfs and dumpe2fs are the independent witnesses.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "devices/block_device.h"
#include "guestos/fs/ext2/ext2.h"

using devices::BlockDevice;
using namespace guestos::ext2;

namespace {

constexpr const char* MKE2FS = "/usr/sbin/mke2fs";
constexpr const char* E2FSCK = "/usr/sbin/e2fsck";
constexpr const char* DEBUGFS = "/usr/sbin/debugfs";
constexpr const char* DUMPE2FS = "/usr/sbin/dumpe2fs";
constexpr uint64_t PAGE = mmu::PAGE_SIZE;

bool have_e2fsprogs() { return ::access(MKE2FS, X_OK) == 0; }

struct RunResult {
    int status = -1;     // exit status, -1 when it did not exit normally
    std::string output;  // stdout and stderr
};

// Runs a program (no shell) with stdin from /dev/null, capturing its output.
RunResult run(const std::vector<std::string>& argv) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) < 0) return {};
    pid_t pid = ::fork();
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(pipefd[1], 1);
        ::dup2(pipefd[1], 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(pipefd[1]);
    RunResult r;
    char buf[4096];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) r.output.append(buf, size_t(n));
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// A private directory under /tmp, removed with everything in it.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/emu_ext2_XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// File content that differs at every offset and per file, and never has a zero block
// (mke2fs -d would store one as a hole).
uint8_t pattern_byte(uint64_t pos, uint32_t seed) {
    uint64_t x = ((pos >> 3) + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t(seed) * 0xD1B54A32D192ED03ull);
    x ^= x >> 29;
    return uint8_t(x >> ((pos & 7) * 8)) | 1;
}

void write_pattern(int fd, uint64_t pos, uint64_t len, uint32_t seed) {
    std::vector<uint8_t> buf(64 * 1024);
    for (uint64_t done = 0; done < len;) {
        uint64_t n = std::min<uint64_t>(buf.size(), len - done);
        for (uint64_t i = 0; i < n; i++) buf[i] = pattern_byte(pos + done + i, seed);
        ASSERT_EQ(::pwrite(fd, buf.data(), n, off_t(pos + done)), ssize_t(n));
        done += n;
    }
}

void make_file(const std::string& path, uint64_t size, uint32_t seed, mode_t mode = 0644) {
    int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, mode);
    ASSERT_GE(fd, 0) << path;
    write_pattern(fd, 0, size, seed);
    ::fchmod(fd, mode);  // past the umask
    ::close(fd);
}

// The sparse file: holes at the start, between the pieces and at the end; the pieces sit
// in the single-, double- and (with 1 KiB blocks) triple-indirect ranges.
constexpr uint64_t SPARSE_SIZE = 70ull << 20;
const std::vector<std::pair<uint64_t, uint64_t>> sparse_pieces = {
    {100000, 3000}, {5ull << 20, 9000}, {(66ull << 20) + 123, 5000}};

// Past 4 GiB: i_size needs i_size_high, and the piece is triple-indirect up to 4 KiB blocks.
constexpr uint64_t HUGE_SIZE = (5ull << 30) + 17;
constexpr uint64_t HUGE_PIECE = (9ull << 29) + 1000, HUGE_PIECE_LEN = 10000;

void make_sparse(const std::string& path, uint64_t size, const std::vector<std::pair<uint64_t, uint64_t>>& pieces) {
    int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t(size)), 0);
    for (auto [pos, len] : pieces) write_pattern(fd, pos, len, 99);
    ::close(fd);
}

const std::vector<uint32_t> block_sizes = {1024, 2048, 4096, 65536};

// Names of the regular files that sit on a block-tree boundary for block size bs.
std::string edge_name(uint32_t bs, const char* what) { return "edges/b" + std::to_string(bs) + "_" + what; }

// Builds the host tree every image is made from.
void make_source_tree(const std::string& src) {
    namespace fs = std::filesystem;
    fs::create_directories(src + "/d1/d2/d3");
    fs::create_directories(src + "/edges");
    fs::create_directories(src + "/many");
    fs::create_directories(src + "/odd");
    fs::create_directories(src + "/emptydir");
    make_file(src + "/d1/d2/d3/deep.txt", 4321, 1);
    make_file(src + "/d1/top.txt", 77, 2);
    make_file(src + "/empty", 0, 3);
    make_file(src + "/one", 1, 4);
    make_file(src + "/private", 5000, 5, 0600);
    make_file(src + "/setuid", 10, 6, 04755);
    uint32_t seed = 10;
    for (uint32_t bs : {1024u, 2048u, 4096u}) {
        uint64_t ptrs = bs / 4;
        make_file(src + "/" + edge_name(bs, "direct_full"), 12ull * bs, seed++);           // the last direct block
        make_file(src + "/" + edge_name(bs, "ind_first"), 12ull * bs + 1, seed++);         // one byte into IND
        make_file(src + "/" + edge_name(bs, "ind_full"), (12 + ptrs) * bs, seed++);        // IND full
        make_file(src + "/" + edge_name(bs, "dind"), (12 + ptrs + 3) * bs + 777, seed++);  // into DIND
    }
    make_sparse(src + "/sparse", SPARSE_SIZE, sparse_pieces);
    make_sparse(src + "/huge_sparse", HUGE_SIZE, {{HUGE_PIECE, HUGE_PIECE_LEN}});
    make_file(src + "/owned_high", 10, 8);
    ::lchown((src + "/owned_high").c_str(), 70001, 70002);  // needs the high 16 bits (only as root)
    make_file(src + "/hard_a", 3000, 7);
    fs::create_hard_link(src + "/hard_a", src + "/hard_b");
    fs::create_symlink("d1/d2/d3/deep.txt", src + "/link_fast");
    std::string slow = "/d1";
    while (slow.size() < 100) slow += "/.";
    slow += "/d2/d3/deep.txt";
    fs::create_symlink(slow, src + "/link_slow");
    fs::create_symlink("d1/d2", src + "/link_dir");
    fs::create_symlink("../../one", src + "/d1/d2/link_up");
    fs::create_symlink("does/not/exist", src + "/dangling");
    fs::create_symlink("loop_b", src + "/loop_a");
    fs::create_symlink("loop_a", src + "/loop_b");
    ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0640), 0);
    for (int i = 0; i < 300; i++) {
        char name[64];
        std::snprintf(name, sizeof name, "/many/entry_%03d_with_a_longer_name", i);
        if (i % 50 == 7) fs::create_directory(src + name);
        else make_file(src + name, i % 10 == 0 ? 100 + i : 0, 1000 + i);
    }
    for (std::string name :
         std::vector<std::string>{"with space", "tab\tname", "new\nline",
                                  "\xc3\xbc"
                                  "n"
                                  "\xc3\xaf"
                                  "c"
                                  "\xc3\xb8"
                                  "d"
                                  "\xc3\xa9 \xe2\x9c\x93",
                                  "a:b;c*?<>|\"'", "-dash", ".hidden", "...", "#hash%percent", std::string(255, 'n')})
        make_file(src + "/odd/" + name, name.size(), 2000 + uint32_t(name.size()));
}

// An image made by mke2fs -d from the source tree.
std::string make_image(const std::string& dir, const std::string& src, uint32_t bs,
                       const std::vector<std::string>& extra = {}, const std::string& name = "") {
    std::string img = dir + "/" + (name.empty() ? "ext2_" + std::to_string(bs) + ".img" : name);
    std::vector<std::string> argv = {MKE2FS,           "-q", "-F",       "-t", "ext2", "-b", std::to_string(bs), "-E",
                                     "root_owner=0:0", "-L", "emu-test", "-d", src};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(img);
    argv.push_back("32M");
    auto r = run(argv);
    EXPECT_EQ(r.status, 0) << r.output;
    return img;
}

// The source tree, made once, and a clean image per block size, made when first asked
// for (ctest runs each test in its own process).
struct Images {
    TempDir dir;
    std::string src = dir.path + "/src";
    std::map<uint32_t, std::string> by_block_size;
    Images() { make_source_tree(src); }
    const std::string& clean(uint32_t bs) {
        if (!by_block_size.count(bs)) by_block_size[bs] = make_image(dir.path, src, bs);
        return by_block_size[bs];
    }
};
Images& images() {
    static Images imgs;
    return imgs;
}

// A device and the filesystem mounted on it (the filesystem goes first).
struct Mounted {
    std::unique_ptr<BlockDevice> dev;
    std::unique_ptr<Ext2Fs> fs;
};
mmu::ErrorOr<Mounted> mount(const std::string& img) {
    Mounted m{TRY(BlockDevice::open(img, BlockDevice::Mode::ReadOnly)), nullptr};
    m.fs = TRY(Ext2Fs::fill_super(*m.dev));
    return m;
}

// A copy of a clean image the test may corrupt.
std::string copy_image(const std::string& from, const std::string& name) {
    std::string to = images().dir.path + "/" + name;
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
    return to;
}

void poke(const std::string& img, uint64_t offset, const void* bytes, size_t len) {
    int fd = ::open(img.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, bytes, len, off_t(offset)), ssize_t(len));
    ::close(fd);
}
template <class T>
void poke_value(const std::string& img, uint64_t offset, T v) {
    poke(img, offset, &v, sizeof v);
}
template <class T>
T peek_value(const std::string& img, uint64_t offset) {
    T v{};
    int fd = ::open(img.c_str(), O_RDONLY);
    EXPECT_EQ(::pread(fd, &v, sizeof v, off_t(offset)), ssize_t(sizeof v));
    ::close(fd);
    return v;
}

std::string debugfs(const std::string& img, const std::string& request) {
    return run({DEBUGFS, "-R", request, img}).output;
}

// Byte offset of an inode in the image, as debugfs's imap places it.
uint64_t inode_offset(const std::string& img, const std::string& path) {
    std::smatch m;
    std::string out = debugfs(img, "imap " + path);
    static const std::regex re("located at block (\\d+), offset 0x([0-9a-fA-F]+)");
    EXPECT_TRUE(std::regex_search(out, m, re)) << out;
    if (m.empty()) return 0;
    uint32_t bs = 1024u << peek_value<uint32_t>(img, 1024 + 24);
    return std::stoull(m[1]) * bs + std::stoull(m[2], nullptr, 16);
}

// Logical -> physical block map of a file from debugfs's stat (the "(0-11):1234-1245"
// ranges; "(IND):n" metadata entries are skipped).
std::map<uint64_t, uint64_t> debugfs_block_map(const std::string& img, const std::string& path) {
    std::string out = debugfs(img, "stat " + path);
    std::map<uint64_t, uint64_t> map;
    auto at = out.find("BLOCKS:");
    EXPECT_NE(at, std::string::npos) << out;
    if (at == std::string::npos) return map;
    static const std::regex re("\\((\\d+)(?:-(\\d+))?\\):(\\d+)(?:-(\\d+))?");
    std::string blocks = out.substr(at);
    for (std::sregex_iterator it(blocks.begin(), blocks.end(), re), end; it != end; ++it) {
        const auto& m = *it;
        uint64_t l0 = std::stoull(m[1]), l1 = m[2].matched ? std::stoull(m[2]) : l0;
        uint64_t p0 = std::stoull(m[3]);
        for (uint64_t l = l0; l <= l1; l++) map[l] = p0 + (l - l0);
    }
    return map;
}

// "Key:   value" lines of dumpe2fs -h.
std::map<std::string, std::string> dumpe2fs_header(const std::string& img) {
    std::map<std::string, std::string> kv;
    std::istringstream in(run({DUMPE2FS, "-h", img}).output);
    for (std::string line; std::getline(in, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        kv[line.substr(0, colon)] = value;
    }
    return kv;
}

// Every entry of the host tree, as paths relative to its root ("d1", "d1/top.txt", ...).
void host_walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
    DIR* d = ::opendir((root + "/" + rel).c_str());
    ASSERT_NE(d, nullptr);
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        std::string child = rel.empty() ? name : rel + "/" + name;
        out.push_back(child);
        if (e->d_type == DT_DIR) host_walk(root, child, out);
    }
    ::closedir(d);
}

std::set<std::string> host_names(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

uint8_t ext2_file_type(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return EXT2_FT_REG_FILE;
    case S_IFDIR: return EXT2_FT_DIR;
    case S_IFLNK: return EXT2_FT_SYMLINK;
    case S_IFIFO: return EXT2_FT_FIFO;
    case S_IFCHR: return EXT2_FT_CHRDEV;
    case S_IFBLK: return EXT2_FT_BLKDEV;
    case S_IFSOCK: return EXT2_FT_SOCK;
    }
    return EXT2_FT_UNKNOWN;
}

// Reads a whole file through read_folio, page by page.
std::vector<uint8_t> read_whole(Ext2Fs& fs, const ext2_inode_info& inode, long* err) {
    std::vector<uint8_t> data;
    std::vector<uint8_t> page(PAGE);
    for (uint64_t index = 0; index * PAGE < inode.i_size; index++) {
        *err = fs.read_folio(inode, index, page.data());
        if (*err) return data;
        data.insert(data.end(), page.begin(), page.end());
    }
    data.resize(inode.i_size);
    return data;
}

std::vector<uint8_t> host_file(const std::string& path) {
    std::vector<uint8_t> data(std::filesystem::file_size(path));
    int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_EQ(::read(fd, data.data(), data.size()), ssize_t(data.size()));
    ::close(fd);
    return data;
}

std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\n' ? std::string("\\n") : c == '\t' ? std::string("\\t") : std::string(1, c);
    return out + "'";
}

// The tests over a clean image, once per block size.
class Ext2Image : public ::testing::TestWithParam<uint32_t> {
protected:
    void SetUp() override {
        if (!have_e2fsprogs()) GTEST_SKIP() << MKE2FS << " is missing (install e2fsprogs to run the ext2 tests)";
        img = images().clean(GetParam());
        src = images().src;
        auto m = mount(img);
        ASSERT_FALSE(m.is_error()) << m.error().message;
        mounted = m.release_value();
        fs = mounted.fs.get();
    }
    ext2_inode_info inode_at(const std::string& path) {
        auto ino = fs->namei(path);
        EXPECT_FALSE(ino.is_error()) << path << ": " << ino.error().message;
        if (ino.is_error()) return {};
        auto inode = fs->iget(*ino);
        EXPECT_FALSE(inode.is_error()) << path << ": " << inode.error().message;
        return inode.is_error() ? ext2_inode_info{} : *inode;
    }
    std::string img, src;
    Mounted mounted;
    Ext2Fs* fs = nullptr;
};

TEST_P(Ext2Image, CleanImagePassesE2fsck) {
    auto r = run({E2FSCK, "-fn", img});
    EXPECT_EQ(r.status, 0) << r.output;
}

TEST_P(Ext2Image, StatfsFiguresMatchDumpe2fs) {
    auto h = dumpe2fs_header(img);
    EXPECT_EQ(fs->block_size(), GetParam());
    EXPECT_EQ(std::to_string(fs->block_size()), h["Block size"]);
    EXPECT_EQ(std::to_string(fs->blocks_count()), h["Block count"]);
    EXPECT_EQ(std::to_string(fs->free_blocks()), h["Free blocks"]);
    EXPECT_EQ(std::to_string(fs->inodes_count()), h["Inode count"]);
    EXPECT_EQ(std::to_string(fs->free_inodes()), h["Free inodes"]);
    EXPECT_EQ(fs->volume_name(), h["Filesystem volume name"]);
    auto u = fs->uuid();
    char text[37];
    std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                  u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    EXPECT_EQ(text, h["Filesystem UUID"]);
}

TEST_P(Ext2Image, EveryFileReadsBackByteForByte) {
    std::vector<std::string> paths;
    host_walk(src, "", paths);
    int files = 0;
    for (const auto& rel : paths) {
        struct stat st {};
        ASSERT_EQ(::lstat((src + "/" + rel).c_str(), &st), 0);
        if (!S_ISREG(st.st_mode) || uint64_t(st.st_size) > SPARSE_SIZE) continue;  // huge_sparse: see its own test
        auto inode = inode_at("/" + rel);
        long err = 0;
        auto data = read_whole(*fs, inode, &err);
        ASSERT_EQ(err, 0) << rel;
        EXPECT_TRUE(data == host_file(src + "/" + rel)) << quoted(rel) << " differs";
        files++;
    }
    EXPECT_GT(files, 300);
}

TEST_P(Ext2Image, PagesPastTheEndAndTailsAreZero) {
    auto inode = inode_at("/" + edge_name(1024, "ind_first"));  // 12 KiB + 1 byte
    std::vector<uint8_t> page(PAGE, 0xAA);
    ASSERT_EQ(fs->read_folio(inode, 3, page.data()), 0);
    EXPECT_EQ(page[0], host_file(src + "/" + edge_name(1024, "ind_first")).back());
    EXPECT_TRUE(std::all_of(page.begin() + 1, page.end(), [](uint8_t b) { return b == 0; }));
    std::fill(page.begin(), page.end(), 0xAA);
    ASSERT_EQ(fs->read_folio(inode, 4, page.data()), 0);
    EXPECT_TRUE(std::all_of(page.begin(), page.end(), [](uint8_t b) { return b == 0; }));
    ASSERT_EQ(fs->read_folio(inode, ~0ull, page.data()), 0);  // index * PAGE_SIZE would overflow
    EXPECT_TRUE(std::all_of(page.begin(), page.end(), [](uint8_t b) { return b == 0; }));
}

TEST_P(Ext2Image, GetBlockAgreesWithDebugfsAcrossIndirectBoundaries) {
    const uint32_t bs = GetParam();
    std::vector<std::string> files = {"/one", "/d1/d2/d3/deep.txt"};
    for (uint32_t edge_bs : {1024u, 2048u, 4096u})
        for (const char* what : {"direct_full", "ind_first", "ind_full", "dind"})
            files.push_back("/" + edge_name(edge_bs, what));
    for (const auto& path : files) {
        auto inode = inode_at(path);
        auto expected = debugfs_block_map(img, path);
        uint64_t nblocks = (inode.i_size + bs - 1) / bs;
        ASSERT_EQ(expected.size(), nblocks) << path;
        for (uint64_t i = 0; i < nblocks; i++) {
            auto b = fs->get_block(inode, i);
            ASSERT_FALSE(b.is_error()) << path << " block " << i << ": " << b.error().message;
            ASSERT_EQ(*b, expected[i]) << path << " block " << i;
        }
        auto past = fs->get_block(inode, nblocks);  // unallocated: a hole
        ASSERT_FALSE(past.is_error());
        EXPECT_EQ(*past, 0u) << path;
    }
}

TEST_P(Ext2Image, SparseFileHolesReadAsZeros) {
    const uint32_t bs = GetParam();
    auto inode = inode_at("/sparse");
    EXPECT_EQ(inode.i_size, SPARSE_SIZE);
    auto allocated = debugfs_block_map(img, "/sparse");
    std::set<uint64_t> data_blocks;
    for (auto [pos, len] : sparse_pieces)
        for (uint64_t b = pos / bs; b <= (pos + len - 1) / bs; b++) data_blocks.insert(b);
    EXPECT_EQ(allocated.size(), data_blocks.size());
    for (uint64_t b : data_blocks) {
        auto phys = fs->get_block(inode, b);
        ASSERT_FALSE(phys.is_error()) << phys.error().message;
        EXPECT_EQ(*phys, allocated[b]) << "block " << b;
    }
    for (uint64_t hole : std::vector<uint64_t>{0, (1ull << 20) / bs, (30ull << 20) / bs, (SPARSE_SIZE - 1) / bs}) {
        ASSERT_FALSE(data_blocks.count(hole)) << hole;
        auto phys = fs->get_block(inode, hole);
        ASSERT_FALSE(phys.is_error()) << phys.error().message;
        EXPECT_EQ(*phys, 0u) << "hole block " << hole;
    }
    // Every page, holes included, as the host reads it.
    int fd = ::open((src + "/sparse").c_str(), O_RDONLY);
    std::vector<uint8_t> page(PAGE), want(PAGE);
    for (uint64_t index = 0; index < SPARSE_SIZE / PAGE; index++) {
        ASSERT_EQ(fs->read_folio(inode, index, page.data()), 0) << index;
        ASSERT_EQ(::pread(fd, want.data(), PAGE, off_t(index * PAGE)), ssize_t(PAGE));
        ASSERT_TRUE(page == want) << "page " << index;
    }
    ::close(fd);
}

TEST_P(Ext2Image, FilePast4GiBUsesSizeHighAndDeepTrees) {
    const uint32_t bs = GetParam();
    auto inode = inode_at("/huge_sparse");
    EXPECT_EQ(inode.i_size, HUGE_SIZE);
    auto allocated = debugfs_block_map(img, "/huge_sparse");
    uint64_t first = HUGE_PIECE / bs, last = (HUGE_PIECE + HUGE_PIECE_LEN - 1) / bs;
    ASSERT_EQ(allocated.size(), last - first + 1);
    for (uint64_t b = first; b <= last; b++) EXPECT_EQ(fs->get_block(inode, b).value(), allocated[b]) << b;
    EXPECT_EQ(fs->get_block(inode, first - 1).value(), 0u);
    EXPECT_EQ(fs->get_block(inode, (HUGE_SIZE - 1) / bs).value(), 0u);
    int fd = ::open((src + "/huge_sparse").c_str(), O_RDONLY);
    std::vector<uint8_t> page(PAGE), want(PAGE);
    std::vector<uint64_t> indexes = {0, HUGE_PIECE / PAGE - 1, (HUGE_SIZE - 1) / PAGE};
    for (uint64_t i = HUGE_PIECE / PAGE; i <= (HUGE_PIECE + HUGE_PIECE_LEN - 1) / PAGE; i++) indexes.push_back(i);
    for (uint64_t index : indexes) {
        ASSERT_EQ(fs->read_folio(inode, index, page.data()), 0) << index;
        ASSERT_EQ(::pread(fd, want.data(), PAGE, off_t(index * PAGE)),
                  ssize_t(std::min(PAGE, HUGE_SIZE - index * PAGE)));
        if (index == (HUGE_SIZE - 1) / PAGE) std::fill(want.begin() + long(HUGE_SIZE % PAGE), want.end(), 0);
        EXPECT_TRUE(page == want) << "page " << index;
    }
    ::close(fd);
}

TEST_P(Ext2Image, DirectoryListingsMatchTheHost) {
    std::vector<std::string> paths = {""};
    host_walk(src, "", paths);
    int dirs = 0;
    for (const auto& rel : paths) {
        std::string host = src + "/" + rel;
        if (!std::filesystem::is_directory(std::filesystem::symlink_status(host))) continue;
        auto dir = inode_at("/" + rel);
        auto entries = fs->readdir(dir);
        ASSERT_FALSE(entries.is_error()) << rel << ": " << entries.error().message;
        std::map<std::string, uint8_t> want;
        for (const auto& name : host_names(host)) {
            struct stat st {};
            ASSERT_EQ(::lstat((host + "/" + name).c_str(), &st), 0);
            want[name] = ext2_file_type(st.st_mode);
        }
        want["."] = want[".."] = EXT2_FT_DIR;
        if (rel.empty()) want["lost+found"] = EXT2_FT_DIR;  // mke2fs makes it
        std::map<std::string, uint8_t> got;
        uint64_t last_off = 0;
        for (const auto& e : *entries) {
            EXPECT_TRUE(got.emplace(e.name, e.file_type).second) << "duplicate " << quoted(e.name);
            EXPECT_GT(e.d_off, last_off) << quoted(e.name);
            last_off = e.d_off;
            if (e.name == ".") {
                EXPECT_EQ(e.ino, dir.i_ino);
            } else if (e.name != "..") {
                EXPECT_EQ(fs->lookup(dir, e.name).value(), e.ino) << quoted(e.name);
            }
        }
        EXPECT_EQ(last_off, dir.i_size) << rel << ": the last entry runs to the end";
        ASSERT_GE(entries->size(), 2u);
        EXPECT_EQ((*entries)[0].name, ".");
        EXPECT_EQ((*entries)[1].name, "..");
        EXPECT_EQ(got, want) << "directory " << quoted(rel);
        if (!rel.empty()) {
            auto parent = std::filesystem::path("/" + rel).parent_path().string();
            EXPECT_EQ(fs->lookup(dir, "..").value(), fs->namei(parent).value()) << rel;
        }
        dirs++;
    }
    EXPECT_GE(dirs, 13);
}

TEST_P(Ext2Image, ManyEntryDirectorySpansSeveralBlocks) {
    auto dir = inode_at("/many");
    if (GetParam() <= 4096) {
        EXPECT_GT(dir.i_size, uint64_t(GetParam())) << "the test needs a multi-block directory";
    }
    auto entries = fs->readdir(dir);
    ASSERT_FALSE(entries.is_error()) << entries.error().message;
    EXPECT_EQ(entries->size(), 302u);
    std::set<uint64_t> blocks;
    for (const auto& e : *entries) blocks.insert((e.d_off - 1) / GetParam());
    EXPECT_EQ(blocks.size(), dir.i_size / GetParam()) << "entries in every block";
    auto last = fs->lookup(dir, "entry_299_with_a_longer_name");
    ASSERT_FALSE(last.is_error()) << last.error().message;
    EXPECT_EQ(*last, fs->namei("/many/entry_299_with_a_longer_name").value());
}

TEST_P(Ext2Image, WholeBlockOfFreeSpaceInADirectoryIsSkipped) {
    // debugfs's expand_dir appends a block holding one unused entry that spans it all
    // (with 64 KiB blocks, a rec_len of 65536 is stored as 65535).
    auto copy = copy_image(img, "expanded_" + std::to_string(GetParam()) + ".img");
    auto r = run({DEBUGFS, "-w", "-R", "expand_dir /emptydir", copy});
    ASSERT_EQ(run({E2FSCK, "-fn", copy}).status, 0) << r.output;
    auto m = mount(copy);
    ASSERT_FALSE(m.is_error()) << m.error().message;
    auto dir = m->fs->iget(m->fs->namei("/emptydir").value()).value();
    ASSERT_EQ(dir.i_size, 2ull * GetParam()) << r.output;
    auto entries = m->fs->readdir(dir);
    ASSERT_FALSE(entries.is_error()) << entries.error().message;
    ASSERT_EQ(entries->size(), 2u);
    EXPECT_EQ((*entries)[0].name, ".");
    EXPECT_EQ((*entries)[1].name, "..");
    EXPECT_EQ((*entries)[1].d_off, GetParam());
    auto missing = m->fs->lookup(dir, "x");
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().errno_value, ENOENT);
    std::filesystem::remove(copy);
}

TEST_P(Ext2Image, NameiMatchesHostLstat) {
    std::vector<std::string> paths;
    host_walk(src, "", paths);
    for (const auto& rel : paths) {
        struct stat st {};
        ASSERT_EQ(::lstat((src + "/" + rel).c_str(), &st), 0);
        auto inode = inode_at("/" + rel);
        SCOPED_TRACE(quoted(rel));
        EXPECT_EQ(inode.i_mode, st.st_mode);
        EXPECT_EQ(inode.i_uid, st.st_uid);
        EXPECT_EQ(inode.i_gid, st.st_gid);
        EXPECT_EQ(inode.i_mtime, st.st_mtime);
        if (S_ISDIR(st.st_mode)) {
            // ext2 counts "." and each subdirectory's ".." (hosts such as btrfs report 1).
            uint32_t subdirs = 0;
            for (const auto& e : std::filesystem::directory_iterator(src + "/" + rel))
                subdirs += e.is_directory() && !e.is_symlink();
            EXPECT_EQ(inode.i_nlink, 2 + subdirs);
        } else {
            EXPECT_EQ(inode.i_nlink, st.st_nlink);
            EXPECT_EQ(inode.i_size, uint64_t(st.st_size));
        }
    }
    EXPECT_EQ(inode_at("/").i_uid, 0u);  // root_owner=0:0
    EXPECT_EQ(inode_at("/").i_ino, EXT2_ROOT_INO);
    EXPECT_EQ(fs->namei("/hard_a").value(), fs->namei("/hard_b").value());
    EXPECT_EQ(inode_at("/hard_a").i_nlink, 2u);
}

TEST_P(Ext2Image, DotAndDotDotAndSlashesResolve) {
    uint32_t deep = fs->namei("/d1/d2/d3/deep.txt").value();
    EXPECT_EQ(fs->namei("//d1/./d2//d3/../d3/deep.txt").value(), deep);
    EXPECT_EQ(fs->namei("/..").value(), EXT2_ROOT_INO);  // the root's ".." is itself
    EXPECT_EQ(fs->namei("/./").value(), EXT2_ROOT_INO);
    EXPECT_EQ(fs->namei("/d1/d2/").value(), fs->namei("/d1/d2").value());
    auto dots = fs->namei("/odd/...");  // an ordinary name
    ASSERT_FALSE(dots.is_error()) << dots.error().message;
    EXPECT_TRUE(S_ISREG(fs->iget(*dots).value().i_mode));
    auto dots_dir = fs->namei("/odd/.../");
    ASSERT_TRUE(dots_dir.is_error());
    EXPECT_EQ(dots_dir.error().errno_value, ENOTDIR);
}

TEST_P(Ext2Image, SymlinksReadAndFollow) {
    std::vector<std::string> links = {"link_fast", "link_slow", "link_dir", "d1/d2/link_up", "dangling", "loop_a"};
    for (const auto& rel : links) {
        auto inode = inode_at("/" + rel);
        ASSERT_TRUE(S_ISLNK(inode.i_mode)) << rel;  // the last component is not followed
        auto target = fs->readlink(inode);
        ASSERT_FALSE(target.is_error()) << rel << ": " << target.error().message;
        EXPECT_EQ(*target, std::filesystem::read_symlink(src + "/" + rel).string()) << rel;
    }
    EXPECT_EQ(inode_at("/link_fast").i_blocks, 0u) << "a target under 60 bytes is kept in i_data";
    EXPECT_GT(inode_at("/link_slow").i_blocks, 0u) << "a longer one takes a block";
    EXPECT_GT(inode_at("/link_slow").i_size, 60u);
    uint32_t deep = fs->namei("/d1/d2/d3/deep.txt").value();
    EXPECT_EQ(fs->namei("/link_dir/d3/deep.txt").value(), deep);              // relative, mid-path
    EXPECT_EQ(fs->namei("/link_dir/").value(), fs->namei("/d1/d2").value());  // trailing '/' follows
    EXPECT_EQ(fs->namei("/link_dir/link_up").value(), fs->namei("/d1/d2/link_up").value());
    EXPECT_EQ(fs->namei("/link_dir/d3/../d3/deep.txt").value(), deep);
    auto through_file = fs->namei("/link_dir/link_up/");  // follows to /one, not a directory
    ASSERT_TRUE(through_file.is_error());
    EXPECT_EQ(through_file.error().errno_value, ENOTDIR);
    auto dangling = fs->namei("/dangling/x");
    ASSERT_TRUE(dangling.is_error());
    EXPECT_EQ(dangling.error().errno_value, ENOENT);
    auto loop = fs->namei("/loop_a/x");
    ASSERT_TRUE(loop.is_error());
    EXPECT_EQ(loop.error().errno_value, ELOOP) << loop.error().message;
    auto not_link = fs->readlink(inode_at("/one"));
    ASSERT_TRUE(not_link.is_error());
    EXPECT_EQ(not_link.error().errno_value, EINVAL);
    std::vector<uint8_t> page(PAGE);
    EXPECT_EQ(fs->read_folio(inode_at("/link_fast"), 0, page.data()), -EINVAL);
}

TEST_P(Ext2Image, MissingNamesAndPathsThroughFilesFail) {
    auto root = inode_at("/");
    auto missing = fs->lookup(root, "no_such_name");
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().errno_value, ENOENT);
    EXPECT_NE(missing.error().message.find("no_such_name"), std::string::npos);
    for (const char* path : {"/nope", "/d1/nope", "/d1/d2/d3/deep.txt.bak", "/many/entry_300_with_a_longer_name"}) {
        auto r = fs->namei(path);
        ASSERT_TRUE(r.is_error()) << path;
        EXPECT_EQ(r.error().errno_value, ENOENT) << path;
    }
    for (const char* path : {"/one/x", "/d1/top.txt/", "/link_fast/x", "/fifo/x"}) {
        auto r = fs->namei(path);
        ASSERT_TRUE(r.is_error()) << path;
        EXPECT_EQ(r.error().errno_value, ENOTDIR) << path << ": " << r.error().message;
    }
    auto file_as_dir = fs->lookup(inode_at("/one"), "x");
    ASSERT_TRUE(file_as_dir.is_error());
    EXPECT_EQ(file_as_dir.error().errno_value, ENOTDIR);
    auto readdir_file = fs->readdir(inode_at("/one"));
    ASSERT_TRUE(readdir_file.is_error());
    EXPECT_EQ(readdir_file.error().errno_value, ENOTDIR);
    auto relative = fs->namei("d1");
    ASSERT_TRUE(relative.is_error());
    EXPECT_EQ(relative.error().errno_value, EINVAL);
    auto too_long = fs->namei("/" + std::string(256, 'n'));
    ASSERT_TRUE(too_long.is_error());
    EXPECT_EQ(too_long.error().errno_value, ENAMETOOLONG);
    EXPECT_FALSE(fs->namei("/odd/" + std::string(255, 'n')).is_error());
}

TEST_P(Ext2Image, IgetRefusesOutOfRangeAndUnusedInodes) {
    for (uint64_t ino : std::vector<uint64_t>{0, fs->inodes_count() + 1}) {
        auto r = fs->iget(uint32_t(ino));
        ASSERT_TRUE(r.is_error()) << ino;
        EXPECT_EQ(r.error().errno_value, EINVAL) << ino;
        EXPECT_NE(r.error().message.find("bad inode number"), std::string::npos);
    }
    auto unused = fs->iget(uint32_t(fs->inodes_count()));  // the image is far from full
    ASSERT_TRUE(unused.is_error());
    EXPECT_EQ(unused.error().errno_value, ESTALE);
    auto lost = fs->iget(fs->namei("/lost+found").value());
    ASSERT_FALSE(lost.is_error());
    EXPECT_TRUE(S_ISDIR(lost->i_mode));
}

INSTANTIATE_TEST_SUITE_P(Ext2, Ext2Image, ::testing::ValuesIn(block_sizes),
                         [](const auto& info) { return "block" + std::to_string(info.param); });

// Foreign and corrupt images: each must give a named error quickly.
class Ext2Corrupt : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_e2fsprogs()) GTEST_SKIP() << MKE2FS << " is missing (install e2fsprogs to run the ext2 tests)";
        clean = images().clean(1024);
        start = std::chrono::steady_clock::now();
    }
    void TearDown() override {
        auto took = std::chrono::steady_clock::now() - start;
        EXPECT_LT(took, std::chrono::seconds(20)) << "a corrupt image must not make the driver loop";
    }
    // fill_super's error on `img`, which must refuse to mount.
    mmu::Error mount_error(const std::string& img) {
        auto m = mount(img);
        EXPECT_TRUE(m.is_error()) << img << " mounted";
        return m.is_error() ? m.error() : mmu::Error{};
    }
    std::string clean;
    std::chrono::steady_clock::time_point start;
};

TEST_F(Ext2Corrupt, BadMagicIsNotExt2) {
    auto img = copy_image(clean, "bad_magic.img");
    poke_value<uint16_t>(img, 1024 + 56, 0x1234);
    auto e = mount_error(img);
    EXPECT_EQ(e.errno_value, EINVAL);
    EXPECT_EQ(e.message, "ext2: bad magic 0x1234 (not an ext2 image)");
}

TEST_F(Ext2Corrupt, TruncatedImageExceedsTheDevice) {
    auto img = copy_image(clean, "truncated.img");
    std::filesystem::resize_file(img, 2048);
    auto e = mount_error(img);
    EXPECT_EQ(e.errno_value, EINVAL);
    EXPECT_NE(e.message.find("exceeds the device (2 blocks of 1024 bytes"), std::string::npos) << e.message;
    std::filesystem::resize_file(img, 1536);  // not even a whole superblock
    e = mount_error(img);
    EXPECT_NE(e.message.find("too small to hold a superblock"), std::string::npos) << e.message;
}

TEST_F(Ext2Corrupt, SuperblockFieldsOutOfRange) {
    struct Case {
        const char* what;
        uint64_t offset;  // in the superblock
        uint32_t value;
        size_t size;
        const char* message;
    } cases[] = {
        {"zero blocks per group", 32, 0, 4, "bad blocks per group 0 (1..8192)"},
        {"too many blocks per group", 32, 8193, 4, "bad blocks per group 8193"},
        {"zero inodes per group", 40, 0, 4, "bad inodes per group 0"},
        {"inode count off by one", 0, 0, 4, " is not "},  // value: the count + 1, below
        {"huge block size", 24, 20, 4, "bad block size: s_log_block_size 20"},
        {"revision 2", 76, 2, 4, "unsupported revision level 2"},
        {"inode size 100", 88, 100, 2, "unsupported inode size 100"},
        {"inode size 384", 88, 384, 2, "unsupported inode size 384"},
        {"first inode 3", 84, 3, 4, "bad first inode 3"},
        {"first data block past the end", 20, 0x7fffffff, 4, "first data block 2147483647"},
    };
    for (auto& c : cases) {
        SCOPED_TRACE(c.what);
        auto img = copy_image(clean, "sb.img");
        uint32_t value = c.value;
        if (std::string(c.what) == "inode count off by one") value = peek_value<uint32_t>(img, 1024) + 1;
        if (c.size == 2) poke_value<uint16_t>(img, 1024 + c.offset, uint16_t(value));
        else poke_value<uint32_t>(img, 1024 + c.offset, value);
        auto e = mount_error(img);
        EXPECT_EQ(e.errno_value, EINVAL);
        EXPECT_EQ(e.message.rfind("ext2: ", 0), 0u) << e.message;
        EXPECT_NE(e.message.find(c.message), std::string::npos) << e.message;
        if (c.offset == 0) {
            EXPECT_NE(e.message.find("inode count " + std::to_string(value) + " is not"), std::string::npos);
        }
    }
}

TEST_F(Ext2Corrupt, InodeTableOutsideItsGroup) {
    auto img = copy_image(clean, "gdt.img");
    // The first group descriptor (1 KiB blocks: block 2); bg_inode_table at +8.
    poke_value<uint32_t>(img, 2 * 1024 + 8, peek_value<uint32_t>(img, 1024 + 4) + 100);
    auto e = mount_error(img);
    EXPECT_EQ(e.errno_value, EINVAL);
    EXPECT_NE(e.message.find("inode table"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("for group 0 not in group"), std::string::npos) << e.message;
}

TEST_F(Ext2Corrupt, BlockPointerPastTheEndIsAnError) {
    auto img = copy_image(clean, "blockptr.img");
    uint32_t blocks = peek_value<uint32_t>(img, 1024 + 4);
    const std::string small = "/d1/d2/d3/deep.txt", big = "/" + edge_name(1024, "dind");
    ASSERT_EQ(run({E2FSCK, "-fn", img}).status, 0);
    poke_value<uint32_t>(img, inode_offset(img, small) + 40, blocks + 5);          // i_block[0]
    poke_value<uint32_t>(img, inode_offset(img, big) + 40 + 13 * 4, blocks + 77);  // i_block[EXT2_DIND_BLOCK]
    auto m = mount(img);
    ASSERT_FALSE(m.is_error()) << m.error().message;
    Ext2Fs& fs = *m->fs;
    auto inode = fs.iget(fs.namei(small).value()).value();
    auto b = fs.get_block(inode, 0);
    ASSERT_TRUE(b.is_error());
    EXPECT_EQ(b.error().errno_value, EIO);
    EXPECT_NE(b.error().message.find("block pointer " + std::to_string(blocks + 5)), std::string::npos)
        << b.error().message;
    EXPECT_NE(b.error().message.find("outside the filesystem"), std::string::npos);
    std::vector<uint8_t> page(PAGE);
    EXPECT_EQ(fs.read_folio(inode, 0, page.data()), -EIO);
    EXPECT_EQ(fs.read_folio(inode, 1, page.data()), 0) << "its last block is intact";
    auto big_inode = fs.iget(fs.namei(big).value()).value();
    EXPECT_FALSE(fs.get_block(big_inode, 12 + 255).is_error()) << "the single-indirect part is intact";
    auto dind = fs.get_block(big_inode, 12 + 256);
    ASSERT_TRUE(dind.is_error());
    EXPECT_NE(dind.error().message.find(std::to_string(blocks + 77)), std::string::npos) << dind.error().message;
    EXPECT_EQ(fs.read_folio(big_inode, (12 + 256) * 1024 / PAGE, page.data()), -EIO);
}

TEST_F(Ext2Corrupt, StaleBytesPastEndOfFileReadAsZeros) {
    auto img = copy_image(clean, "tail.img");
    const std::string path = "/d1/d2/d3/deep.txt";  // 4321 bytes: its fifth block holds 225
    auto map = debugfs_block_map(img, path);
    ASSERT_EQ(map.size(), 5u);
    std::vector<uint8_t> junk(1024 - 225, 0xEE);
    poke(img, map[4] * 1024 + 225, junk.data(), junk.size());
    auto mounted = mount(img);
    ASSERT_FALSE(mounted.is_error());
    auto inode = mounted->fs->iget(mounted->fs->namei(path).value()).value();
    std::vector<uint8_t> page(PAGE);
    ASSERT_EQ(mounted->fs->read_folio(inode, 1, page.data()), 0);
    auto host = host_file(images().src + path);
    EXPECT_TRUE(std::equal(host.begin() + PAGE, host.end(), page.begin()));
    EXPECT_TRUE(std::all_of(page.begin() + long(host.size() - PAGE), page.end(), [](uint8_t b) { return b == 0; }));
}

TEST_F(Ext2Corrupt, BadPointerInsideAnIndirectBlock) {
    auto img = copy_image(clean, "indptr.img");
    const std::string big = "/" + edge_name(1024, "ind_full");
    auto map = debugfs_block_map(img, big);
    // The IND block is the one debugfs's stat lists as "(IND):n".
    std::smatch m;
    std::string stat = debugfs(img, "stat " + big);
    ASSERT_TRUE(std::regex_search(stat, m, std::regex("\\(IND\\):(\\d+)"))) << stat;
    uint64_t ind = std::stoull(m[1]);
    poke_value<uint32_t>(img, ind * 1024 + 4 * 10, 0xFFFFFFF0u);  // file block 12 + 10
    auto mounted = mount(img);
    ASSERT_FALSE(mounted.is_error());
    Ext2Fs& fs = *mounted->fs;
    auto inode = fs.iget(fs.namei(big).value()).value();
    EXPECT_EQ(fs.get_block(inode, 12 + 9).value(), map[12 + 9]);
    auto bad = fs.get_block(inode, 12 + 10);
    ASSERT_TRUE(bad.is_error());
    EXPECT_EQ(bad.error().errno_value, EIO);
    EXPECT_NE(bad.error().message.find("4294967280"), std::string::npos) << bad.error().message;
}

TEST_F(Ext2Corrupt, IndirectBlockPointingAtItselfEndsTheWalk) {
    auto img = copy_image(clean, "selfloop.img");
    const std::string big = "/" + edge_name(1024, "dind");
    std::smatch m;
    std::string stat = debugfs(img, "stat " + big);
    ASSERT_TRUE(std::regex_search(stat, m, std::regex("\\(DIND\\):(\\d+)"))) << stat;
    uint64_t dind = std::stoull(m[1]);
    std::vector<uint32_t> self(256, uint32_t(dind));  // every entry: the DIND block itself
    poke(img, dind * 1024, self.data(), 1024);
    auto mounted = mount(img);
    ASSERT_FALSE(mounted.is_error());
    Ext2Fs& fs = *mounted->fs;
    auto inode = fs.iget(fs.namei(big).value()).value();
    // Two levels below DIND still end at a block: the walk has a fixed depth.
    EXPECT_EQ(fs.get_block(inode, 12 + 256).value(), dind);
    std::vector<uint8_t> page(PAGE);
    for (uint64_t index = 0; index * PAGE < inode.i_size; index++)
        EXPECT_EQ(fs.read_folio(inode, index, page.data()), 0);
}

TEST_F(Ext2Corrupt, DirectoryEntryWithRecLenZero) {
    auto img = copy_image(clean, "reclen.img");
    auto map = debugfs_block_map(img, "/d1");
    ASSERT_EQ(map.size(), 1u);
    // The first entry is "."; its rec_len is at +4.
    poke_value<uint16_t>(img, map[0] * 1024 + 4, 0);
    auto mounted = mount(img);
    ASSERT_FALSE(mounted.is_error());
    Ext2Fs& fs = *mounted->fs;
    auto d1 = fs.iget(fs.namei("/d1").value()).value();
    auto entries = fs.readdir(d1);
    ASSERT_TRUE(entries.is_error());
    EXPECT_EQ(entries.error().errno_value, EIO);
    EXPECT_EQ(entries.error().message, "ext2: bad entry in directory #" + std::to_string(d1.i_ino) +
                                           ": rec_len is smaller than minimal - offset=0, inode=" +
                                           std::to_string(d1.i_ino) + ", rec_len=0, name_len=1");
    auto looked = fs.namei("/d1/top.txt");
    ASSERT_TRUE(looked.is_error());
    EXPECT_EQ(looked.error().errno_value, EIO);
    EXPECT_FALSE(fs.namei("/many/entry_000_with_a_longer_name").is_error()) << "other directories still read";
}

TEST_F(Ext2Corrupt, DirectoryEntriesThatDoNotTileTheBlock) {
    auto map = debugfs_block_map(clean, "/d1");
    ASSERT_EQ(map.size(), 1u);
    struct Case {
        const char* what;
        uint64_t at;  // offset in the block: ".." follows "." at 12 (inode +0, rec_len +4, name_len +6)
        uint32_t value;
        size_t size;
        const char* message;
    } cases[] = {
        {"unaligned rec_len", 12 + 4, 13, 2, "unaligned directory entry"},
        {"rec_len past the block", 12 + 4, 2048, 2, "directory entry across blocks"},
        {"name longer than rec_len", 12 + 6, 200, 1, "rec_len is too small for name_len"},
        {"inode number past the count", 12 + 0, 0xFFFFFFFFu, 4, "inode out of bounds"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        auto img = copy_image(clean, "dirent.img");
        uint64_t at = map[0] * 1024 + c.at;
        if (c.size == 1) poke_value<uint8_t>(img, at, uint8_t(c.value));
        else if (c.size == 2) poke_value<uint16_t>(img, at, uint16_t(c.value));
        else poke_value<uint32_t>(img, at, c.value);
        auto mounted = mount(img);
        ASSERT_FALSE(mounted.is_error());
        auto d1 = mounted->fs->iget(mounted->fs->namei("/d1").value()).value();
        auto entries = mounted->fs->readdir(d1);
        ASSERT_TRUE(entries.is_error());
        EXPECT_EQ(entries.error().errno_value, EIO);
        EXPECT_NE(entries.error().message.find(c.message), std::string::npos) << entries.error().message;
    }
}

TEST_F(Ext2Corrupt, DirectorySizeBeyondItsBlocks) {
    auto img = copy_image(clean, "dirsize.img");
    poke_value<uint32_t>(img, inode_offset(img, "/many") + 4, 0xFFFFFC00u);  // i_size: almost 4 GiB
    auto mounted = mount(img);
    ASSERT_FALSE(mounted.is_error());
    Ext2Fs& fs = *mounted->fs;
    auto many = fs.iget(fs.namei("/many").value()).value();
    auto entries = fs.readdir(many);
    ASSERT_TRUE(entries.is_error());
    EXPECT_EQ(entries.error().errno_value, EIO);
    EXPECT_NE(entries.error().message.find("exceeds its"), std::string::npos) << entries.error().message;
}

TEST_F(Ext2Corrupt, Ext4ExtentsImageIsRefusedNamingItsFeatures) {
    TempDir dir;
    std::string img = dir.path + "/ext4.img";
    auto r = run({MKE2FS, "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-d", images().src + "/d1", img, "16M"});
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(run({E2FSCK, "-fn", img}).status, 0);
    uint32_t incompat = peek_value<uint32_t>(img, 1024 + 96);
    ASSERT_TRUE(incompat & EXT4_FEATURE_INCOMPAT_EXTENTS);
    char bits[16];
    std::snprintf(bits, sizeof bits, "0x%x", incompat & ~EXT2_FEATURE_INCOMPAT_FILETYPE);
    auto e = mount_error(img);
    EXPECT_EQ(e.errno_value, EINVAL);
    EXPECT_NE(e.message.find(std::string("unsupported INCOMPAT features ") + bits), std::string::npos) << e.message;
    // Each INCOMPAT feature dumpe2fs lists, except filetype, is named in the message.
    std::istringstream features(dumpe2fs_header(img)["Filesystem features"]);
    const std::set<std::string> incompat_names = {"extent",      "64bit",    "flex_bg",           "meta_bg",
                                                  "inline_data", "mmp",      "ea_inode",          "large_dir",
                                                  "encrypt",     "casefold", "metadata_csum_seed"};
    int named = 0;
    for (std::string f; features >> f;) {
        if (!incompat_names.count(f)) continue;
        EXPECT_NE(e.message.find(f), std::string::npos) << f << " missing from: " << e.message;
        named++;
    }
    EXPECT_GE(named, 1);
}

// Images that must mount: an ext3 journal is COMPAT, a revision 0 image has no features.
class Ext2Mount : public Ext2Corrupt {};

TEST_F(Ext2Mount, Ext3JournalIsIgnoredWhenReadingOnly) {
    TempDir dir;
    std::string img = dir.path + "/ext3.img";
    auto r = run({MKE2FS, "-q", "-F", "-t", "ext3", "-d", images().src + "/d1", img, "16M"});
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(run({E2FSCK, "-fn", img}).status, 0);
    ASSERT_TRUE(peek_value<uint32_t>(img, 1024 + 92) & EXT3_FEATURE_COMPAT_HAS_JOURNAL);
    auto m = mount(img);
    ASSERT_FALSE(m.is_error()) << m.error().message;
    auto inode = m->fs->iget(m->fs->namei("/d2/d3/deep.txt").value()).value();
    long err = 0;
    EXPECT_TRUE(read_whole(*m->fs, inode, &err) == host_file(images().src + "/d1/d2/d3/deep.txt"));
    EXPECT_EQ(err, 0);
}

TEST_F(Ext2Mount, Revision0ImageHasNoFileTypes) {
    TempDir dir;
    std::string img = dir.path + "/rev0.img";
    auto r = run({MKE2FS, "-q", "-F", "-t", "ext2", "-r", "0", "-b", "1024", "-d", images().src + "/d1", img, "8M"});
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(run({E2FSCK, "-fn", img}).status, 0);
    ASSERT_EQ(peek_value<uint32_t>(img, 1024 + 76), EXT2_GOOD_OLD_REV);
    auto m = mount(img);
    ASSERT_FALSE(m.is_error()) << m.error().message;
    auto root = m->fs->iget(EXT2_ROOT_INO).value();
    auto entries = m->fs->readdir(root);
    ASSERT_FALSE(entries.is_error()) << entries.error().message;
    std::set<std::string> names;
    for (const auto& e : *entries) {
        EXPECT_EQ(e.file_type, EXT2_FT_UNKNOWN) << e.name;
        names.insert(e.name);
    }
    EXPECT_EQ(names, (std::set<std::string>{".", "..", "lost+found", "d2", "top.txt"}));
    auto top = m->fs->iget(m->fs->namei("/top.txt").value()).value();
    long err = 0;
    EXPECT_TRUE(read_whole(*m->fs, top, &err) == host_file(images().src + "/d1/top.txt"));
}

}  // namespace

// The allocators (balloc.c, ialloc.c) on an empty image of several groups, written back
// with sync_super: e2fsck -fn must agree with every count and bitmap afterwards.
class Ext2Alloc : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_e2fsprogs()) GTEST_SKIP() << MKE2FS << " is missing (install e2fsprogs to run the ext2 tests)";
        img = images().dir.path + "/alloc_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".img";
        // 1 KiB blocks, 8192 per group: four groups in 32 MiB.
        auto r = run({MKE2FS, "-q", "-F", "-t", "ext2", "-b", "1024", "-m", "0", img, "32M"});
        ASSERT_EQ(r.status, 0) << r.output;
        auto dev = BlockDevice::open(img, BlockDevice::Mode::ReadWrite);
        ASSERT_FALSE(dev.is_error());
        m.dev = dev.release_value();
        auto fs = Ext2Fs::fill_super(*m.dev);
        ASSERT_FALSE(fs.is_error()) << fs.error().message;
        m.fs = fs.release_value();
        ASSERT_GE(m.fs->groups_count(), 4u);
    }
    // Writes everything back and runs e2fsck -fn on the image.
    void expect_fsck_clean() {
        ASSERT_EQ(m.fs->sync_super(true), 0);
        auto r = run({E2FSCK, "-fn", img});
        EXPECT_EQ(r.status, 0) << r.output;
    }
    void expect_fsck_clean_after_free(const std::vector<std::pair<uint32_t, uint32_t>>& runs) {
        for (auto [block, count] : runs) m.fs->free_blocks(block, count);
        expect_fsck_clean();
    }
    std::string img;
    Mounted m;
};

TEST_F(Ext2Alloc, NewBlocksTakesTheGoalThenTheBlocksAfterIt) {
    Ext2Fs& fs = *m.fs;
    const uint64_t free0 = fs.free_blocks();
    const uint32_t goal = fs.group_first_block(2) + 1000;
    uint32_t count = 1;
    auto a = fs.new_blocks(goal, &count);
    ASSERT_FALSE(a.is_error()) << a.error().message;
    EXPECT_EQ(a.value(), goal);
    count = 8;
    auto b = fs.new_blocks(goal, &count);  // the goal is taken: the run after it
    ASSERT_FALSE(b.is_error());
    EXPECT_EQ(b.value(), goal + 1);
    EXPECT_EQ(count, 8u);
    EXPECT_EQ(fs.free_blocks(), free0 - 9);
    fs.free_blocks(a.value(), 1);
    fs.free_blocks(b.value(), 8);
    EXPECT_EQ(fs.free_blocks(), free0);
    expect_fsck_clean();
}

TEST_F(Ext2Alloc, NewBlocksFillsEveryGroupThenFailsWithEnospc) {
    Ext2Fs& fs = *m.fs;
    const uint64_t free0 = fs.free_blocks();
    std::vector<std::pair<uint32_t, uint32_t>> runs;
    uint64_t got = 0;
    std::set<uint32_t> groups;
    for (;;) {
        uint32_t count = 4096;
        auto b = fs.new_blocks(fs.group_first_block(1), &count);
        if (b.is_error()) {
            EXPECT_EQ(b.error().errno_value, ENOSPC);
            break;
        }
        runs.push_back({b.value(), count});
        groups.insert((b.value() - fs.super_block().s_first_data_block) / fs.super_block().s_blocks_per_group);
        got += count;
        ASSERT_LE(got, free0) << "more blocks handed out than were free";
    }
    EXPECT_EQ(got, free0);
    EXPECT_EQ(fs.free_blocks(), 0u);
    EXPECT_EQ(groups.size(), fs.groups_count());
    expect_fsck_clean_after_free(runs);
}

TEST_F(Ext2Alloc, DirectoriesSpreadOverGroupsAndFilesStayNearTheirDirectory) {
    Ext2Fs& fs = *m.fs;
    auto root = fs.iget(EXT2_ROOT_INO);
    ASSERT_FALSE(root.is_error());
    const uint32_t ipg = fs.super_block().s_inodes_per_group;
    std::set<uint32_t> dir_groups;
    std::vector<uint32_t> dirs;
    for (int i = 0; i < 8; i++) {  // top-level directories: find_group_orlov's spread
        auto ino = fs.new_inode(root.value(), S_IFDIR | 0755);
        ASSERT_FALSE(ino.is_error()) << ino.error().message;
        dirs.push_back(ino.value());
        dir_groups.insert((ino.value() - 1) / ipg);
    }
    EXPECT_GE(dir_groups.size(), 2u) << "every top-level directory in one group";
    EXPECT_EQ(fs.count_dirs(), 2u + 8u);  // root and lost+found
    ext2_inode_info parent;
    parent.i_ino = dirs.back();
    parent.i_mode = S_IFDIR | 0755;
    auto file = fs.new_inode(parent, S_IFREG | 0644);  // find_group_other: the parent's group
    ASSERT_FALSE(file.is_error());
    EXPECT_EQ((file.value() - 1) / ipg, (dirs.back() - 1) / ipg);
    fs.free_inode(file.value(), false);
    for (uint32_t d : dirs) fs.free_inode(d, true);
    EXPECT_EQ(fs.count_dirs(), 2u);
    expect_fsck_clean();
}
