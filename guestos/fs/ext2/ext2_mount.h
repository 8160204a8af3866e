// The root filesystem: an ext2 image on the emulated disk, mounted read-only at / (the
// VFS side of fs/ext2: ext2_iget into an inode cache, ext2_aops for the page cache,
// ext2_readdir for getdents, path walks with symbolic links).
#pragma once
#include <sys/stat.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "devices/block_device.h"
#include "guestos/fs/ext2/ext2.h"
#include "guestos/include/fs.h"

namespace guestos {

// st_dev of the disk's files: /dev/sda (8:0), as on a machine with one SCSI/SATA disk.
inline constexpr uint64_t ROOT_DEV = (8u << 8) | 0u;

class Ext2Mount {
public:
    // Opens the image read-only and reads its superblock (mount_root); the error names the
    // image and what is wrong with it.
    static mmu::ErrorOr<std::unique_ptr<Ext2Mount>> mount(const std::string& image, const kernel_mem& km);

    // Opens an absolute path (path_openat on a read-only mount): EROFS for write access or
    // creation, EISDIR for a directory opened for writing, ENOTDIR, ELOOP with O_NOFOLLOW.
    long open(const std::string& abs, unsigned flags, std::shared_ptr<file>& out);
    // stat or lstat of an absolute path (vfs_statx).
    long stat(const std::string& abs, bool follow, struct stat& st);
    // The target of the symbolic link at abs (EINVAL when it is none).
    long readlink(const std::string& abs, std::string& target);
    // Drops the cached inodes and their pages (umount), before the allocator goes.
    void clear() { icache_.clear(); }

    // Where the inodes' pages come from: set once memory is set up, before any open.
    void set_kmem(const kernel_mem& km) { km_ = km; }
    ext2::Ext2Fs& fs() { return *fs_; }
    const devices::BlockDevice& bdev() const { return *bdev_; }

private:
    Ext2Mount(std::unique_ptr<devices::BlockDevice> bdev, std::unique_ptr<ext2::Ext2Fs> fs, const kernel_mem& km)
        : bdev_(std::move(bdev)), fs_(std::move(fs)), km_(km) {}
    // The inode a path names, following a final symbolic link when `follow` (path_lookupat).
    mmu::ErrorOr<uint32_t> resolve(const std::string& abs, bool follow);
    // The VFS inode for an ext2 inode number, read once (ext2_iget + iget_locked's cache).
    mmu::ErrorOr<std::shared_ptr<inode>> iget(uint32_t ino);

    std::unique_ptr<devices::BlockDevice> bdev_;
    std::unique_ptr<ext2::Ext2Fs> fs_;
    kernel_mem km_;
    std::unordered_map<uint32_t, std::shared_ptr<inode>> icache_;
};

}  // namespace guestos
