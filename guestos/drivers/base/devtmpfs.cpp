// The nodes devtmpfs creates as drivers register (mem, tty) and the links udev adds, made in
// a tmpfs instance through its own inode operations, as devtmpfs does with vfs_mknod.
#include "guestos/drivers/base/devtmpfs.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "guestos/drivers/char/mem.h"
#include "guestos/drivers/tty/tty.h"
#include "guestos/include/dcache.h"

namespace guestos {

Devtmpfs::Devtmpfs(std::function<kernel_mem()> km) {
    // devtmpfs's anonymous device (0:5 on a Debian system: the first devtmpfs mount), root
    // 0755 (devtmpfs_init's "mode=0755").
    sb_ = shmem_fill_super(std::move(km), makedev(0, 5), {std::nullopt, std::nullopt, 0755});
    sb_->s_type = "devtmpfs";
    const struct {
        const char* name;
        uint32_t mode;
        uint64_t rdev;
        const char* link;
    } table[] = {
        {"fd", S_IFLNK | 0777, 0, "/proc/self/fd"},
        {"full", S_IFCHR | 0666, makedev(MEM_MAJOR, 7), ""},
        {"null", S_IFCHR | 0666, makedev(MEM_MAJOR, 3), ""},
        {"random", S_IFCHR | 0666, makedev(MEM_MAJOR, 8), ""},
        {"shm", S_IFDIR | 01777, 0, ""},
        {"stderr", S_IFLNK | 0777, 0, "/proc/self/fd/2"},
        {"stdin", S_IFLNK | 0777, 0, "/proc/self/fd/0"},
        {"stdout", S_IFLNK | 0777, 0, "/proc/self/fd/1"},
        {"tty", S_IFCHR | 0666, makedev(TTYAUX_MAJOR, 0), ""},
        {"urandom", S_IFCHR | 0666, makedev(MEM_MAJOR, 9), ""},
        {"zero", S_IFCHR | 0666, makedev(MEM_MAJOR, 5), ""},
    };
    dentry& root = *sb_->s_root;
    inode& dir = *root.d_inode;
    for (const auto& t : table) {
        auto d = d_alloc(root, t.name);
        if (S_ISLNK(t.mode)) (void)dir.i_op->symlink(dir, *d, t.link);
        else if (S_ISDIR(t.mode)) (void)dir.i_op->mkdir(dir, *d, t.mode);
        else (void)dir.i_op->mknod(dir, *d, t.mode, t.rdev);
    }
}

}  // namespace guestos
