// The dcache and path lookup (fs/dcache.c, fs/namei.c) on a booted kernel's mount tree:
// negative dentries, d_move and d_path, symbolic links up to MAXSYMLINKS, "..", mount
// crossing, trailing slashes and the NAME_MAX / PATH_MAX limits.
#include <gtest/gtest.h>
#include <unistd.h>
#include <sys/stat.h>

#include <string>

#include "guestos/include/kernel.h"
#include "guestos/include/namei.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/mm/shmem.h"

namespace {

using namespace guestos;

// A fresh tmpfs: its root and the inode operations every tmpfs inode has.
struct Tmpfs {
    std::shared_ptr<super_block> sb = shmem_fill_super([] { return kernel_mem{}; }, 77, {1024, std::nullopt, 01777});
    // The unmount's dcache shrink (kill_sb), which breaks the parent/child cycles.
    ~Tmpfs() { dcache_teardown(root()); }
    dentry& root() { return *sb->s_root; }
    std::shared_ptr<dentry> make(dentry& dir, const std::string& name, uint32_t mode) {
        auto d = d_alloc(dir, name);
        inode& ino = *dir.d_inode;
        const long e = S_ISDIR(mode) ? ino.i_op->mkdir(ino, *d, mode) : ino.i_op->create(ino, *d, mode);
        EXPECT_EQ(e, 0);
        return d;
    }
};

TEST(DcacheTest, UnlinkLeavesANegativeDentryAndTheOpenInodeLives) {
    Tmpfs fs;
    auto f = fs.make(fs.root(), "f", S_IFREG | 0644);
    std::shared_ptr<inode> ino = f->d_inode;
    ASSERT_EQ(fs.root().d_inode->i_op->unlink(*fs.root().d_inode, *f), 0);
    d_delete(*f);
    auto neg = d_lookup(fs.root(), "f");
    ASSERT_TRUE(neg);
    EXPECT_TRUE(neg->is_negative());
    EXPECT_NE(neg, f);
    EXPECT_TRUE(f->d_deleted);
    EXPECT_EQ(f->d_inode, ino);  // a holder keeps the inode
    EXPECT_EQ(ino->i_nlink, 0u);
}

TEST(DcacheTest, MoveRenamesAndReparentsAndPathFollows) {
    Tmpfs fs;
    auto a = fs.make(fs.root(), "a", S_IFDIR | 0755);
    auto b = fs.make(fs.root(), "b", S_IFDIR | 0755);
    auto f = fs.make(*a, "f", S_IFREG | 0644);
    EXPECT_EQ(dentry_path_raw(*f), "/a/f");
    d_move(*f, *b, "g");
    EXPECT_EQ(dentry_path_raw(*f), "/b/g");
    EXPECT_EQ(d_lookup(*b, "g"), f);
    ASSERT_TRUE(d_lookup(*a, "f"));
    EXPECT_TRUE(d_lookup(*a, "f")->is_negative());  // the old name is known to be gone
    EXPECT_TRUE(is_subdir(f.get(), b.get()));
    EXPECT_FALSE(is_subdir(f.get(), a.get()));
}

TEST(DcacheTest, ExchangeSwapsNamesAndParents) {
    Tmpfs fs;
    auto a = fs.make(fs.root(), "a", S_IFDIR | 0755);
    auto x = fs.make(*a, "x", S_IFREG | 0644);
    auto y = fs.make(fs.root(), "y", S_IFDIR | 0755);
    d_exchange(*x, *y);
    EXPECT_EQ(dentry_path_raw(*x), "/y");
    EXPECT_EQ(dentry_path_raw(*y), "/a/x");
    EXPECT_EQ(d_lookup(fs.root(), "y"), x);
    EXPECT_EQ(d_lookup(*a, "x"), y);
}

TEST(DcacheTest, TmpfsRmdirRefusesANonEmptyDirectory) {
    Tmpfs fs;
    auto a = fs.make(fs.root(), "a", S_IFDIR | 0755);
    fs.make(*a, "f", S_IFREG | 0644);
    EXPECT_EQ(fs.root().d_inode->i_op->rmdir(*fs.root().d_inode, *a), -ENOTEMPTY);
    EXPECT_EQ(fs.root().d_inode->i_nlink, 3u);  // ".", its own name and a's ".."
}

// namei over a booted kernel's mounts (hostfs at /, tmpfs at /tmp), as the first task.
class NameiTest : public ::testing::Test {
protected:
    void SetUp() override {
        // Started inside the host's /tmp, the guest would see the host's /tmp (no tmpfs over
        // it) and these tests would write there: start from / (each test is a process).
        ASSERT_EQ(::chdir("/"), 0);
        ASSERT_FALSE(kernel_.boot().is_error());
        kernel_.init_task(task_);
        const std::string path = EMU_BINARY_DIR "/guest/hello.x86_64";
        auto ex = kernel_.exec(task_, path, {path}, {});
        ASSERT_FALSE(ex.is_error()) << ex.error().message;
        c_ = std::make_unique<SysCtx>(SysCtx{kernel_, task_, *task_.mm, false});
        std::shared_ptr<file> f;
        ASSERT_EQ(do_filp_open(*c_, AT_FDCWD_, "/tmp", O_RDONLY_ | O_DIRECTORY_, 0, f), 0);
        tmp_ = f->f_path;
    }
    long lookup(const std::string& name, unsigned flags, path& out) {
        return filename_lookup(*c_, AT_FDCWD_, name, flags, out);
    }
    std::shared_ptr<dentry> mkdir(const std::string& name) {
        std::shared_ptr<dentry> d;
        EXPECT_EQ(lookup_one(*c_, *tmp_.dentry, name, d), 0);
        EXPECT_EQ(tmp_.dentry->d_inode->i_op->mkdir(*tmp_.dentry->d_inode, *d, S_IFDIR | 0755), 0);
        return d;
    }
    void symlink(const std::string& name, const std::string& target) {
        std::shared_ptr<dentry> d;
        ASSERT_EQ(lookup_one(*c_, *tmp_.dentry, name, d), 0);
        ASSERT_EQ(tmp_.dentry->d_inode->i_op->symlink(*tmp_.dentry->d_inode, *d, target), 0);
    }

    Kernel kernel_{KernelConfig{}};
    task_struct task_;
    std::unique_ptr<SysCtx> c_;
    path tmp_;
};

TEST_F(NameiTest, AMissingNameIsCachedAsANegativeDentry) {
    path p;
    EXPECT_EQ(lookup("/tmp/missing", LOOKUP_FOLLOW, p), -ENOENT);
    auto neg = d_lookup(*tmp_.dentry, "missing");
    ASSERT_TRUE(neg);
    EXPECT_TRUE(neg->is_negative());
    std::shared_ptr<file> f;
    ASSERT_EQ(do_filp_open(*c_, AT_FDCWD_, "/tmp/missing", O_WRONLY_ | O_CREAT_, 0600, f), 0);
    EXPECT_EQ(d_lookup(*tmp_.dentry, "missing"), neg);  // the same dentry, now positive
    EXPECT_FALSE(neg->is_negative());
    EXPECT_EQ(neg->d_inode->i_mode, S_IFREG | 0600u);  // umask 022 leaves 0600
}

TEST_F(NameiTest, DotDotCrossesBackOverTheMountAndStopsAtTheRoot) {
    path p, root;
    ASSERT_EQ(lookup("/tmp/..", LOOKUP_FOLLOW, p), 0);
    ASSERT_EQ(lookup("/", LOOKUP_FOLLOW, root), 0);
    EXPECT_EQ(p, root);
    ASSERT_EQ(lookup("/../../tmp/../..", LOOKUP_FOLLOW, p), 0);
    EXPECT_EQ(p, root);
    ASSERT_EQ(lookup("/tmp/./", LOOKUP_FOLLOW, p), 0);
    EXPECT_EQ(p, tmp_);  // the tmpfs root, not the directory it covers
    EXPECT_EQ(d_path(p), "/tmp");
}

TEST_F(NameiTest, FortyLinksResolveAndTheFortyFirstIsALoop) {
    mkdir("d");
    symlink("l1", "d");
    for (int i = 2; i <= 41; ++i) symlink("l" + std::to_string(i), "l" + std::to_string(i - 1));
    path p;
    EXPECT_EQ(lookup("/tmp/l40", LOOKUP_FOLLOW, p), 0);
    EXPECT_EQ(d_path(p), "/tmp/d");
    EXPECT_EQ(lookup("/tmp/l41", LOOKUP_FOLLOW, p), -ELOOP);
    EXPECT_EQ(lookup("/tmp/l41", 0, p), 0);  // not followed: the link itself
    EXPECT_TRUE(S_ISLNK(p.dentry->d_inode->i_mode));
    EXPECT_EQ(lookup("/tmp/l41/x", 0, p), -ELOOP);  // a link inside a path is always followed
}

TEST_F(NameiTest, TrailingSlashNeedsADirectoryAndFollowsLinks) {
    mkdir("dir");
    symlink("ln", "dir");
    std::shared_ptr<file> f;
    ASSERT_EQ(do_filp_open(*c_, AT_FDCWD_, "/tmp/file", O_WRONLY_ | O_CREAT_, 0644, f), 0);
    path p;
    EXPECT_EQ(lookup("/tmp/file/", 0, p), -ENOTDIR);
    EXPECT_EQ(lookup("/tmp/file/.", 0, p), -ENOTDIR);
    ASSERT_EQ(lookup("/tmp/ln/", 0, p), 0);
    EXPECT_TRUE(S_ISDIR(p.dentry->d_inode->i_mode));
    EXPECT_EQ(d_path(p), "/tmp/dir");
}

TEST_F(NameiTest, NameMaxIsPerComponent) {
    path p;
    EXPECT_EQ(lookup("/tmp/" + std::string(256, 'x'), LOOKUP_FOLLOW, p), -ENAMETOOLONG);
    EXPECT_EQ(lookup("/tmp/" + std::string(255, 'x'), LOOKUP_FOLLOW, p), -ENOENT);
}

TEST_F(NameiTest, DirfdStartsRelativeLookupsAndMustBeADirectory) {
    mkdir("base");
    std::shared_ptr<file> dir, f;
    ASSERT_EQ(do_filp_open(*c_, AT_FDCWD_, "/tmp/base", O_RDONLY_ | O_DIRECTORY_, 0, dir), 0);
    const long dfd = get_unused_fd_install(*c_, dir, false);
    ASSERT_GE(dfd, 0);
    ASSERT_EQ(do_filp_open(*c_, static_cast<int>(dfd), "inside", O_WRONLY_ | O_CREAT_, 0644, f), 0);
    EXPECT_EQ(d_path(f->f_path), "/tmp/base/inside");
    const long ffd = get_unused_fd_install(*c_, f, false);
    path p;
    EXPECT_EQ(filename_lookup(*c_, static_cast<int>(ffd), "x", 0, p), -ENOTDIR);
    EXPECT_EQ(filename_lookup(*c_, 1000, "x", 0, p), -EBADF);
    EXPECT_EQ(filename_lookup(*c_, 1000, "/tmp", 0, p), 0);  // absolute: the dirfd is not used
}

}  // namespace
