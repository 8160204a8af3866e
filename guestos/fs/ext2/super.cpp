// The mounted filesystem (fs/ext2/super.c): mount, statfs and the inode cache.
#include <sys/sysmacros.h>

#include "guestos/fs/ext2/ext2.h"
#include "guestos/fs/ext2/ext2_fs.h"
#include "guestos/include/dcache.h"

namespace guestos::ext2 {

ext2_sb_info::ext2_sb_info(std::unique_ptr<devices::BlockDevice> bdev, std::unique_ptr<Ext2Fs> fs,
                           std::function<kernel_mem()> km)
    : bdev_(std::move(bdev)), fs_(std::move(fs)), km_(std::move(km)) {
    s_type = "ext2";
    s_magic = EXT2_SUPER_MAGIC;
    s_dev = ROOT_DEV;
    s_blocksize = fs_->block_size();
    if (bdev_->read_only()) s_flags |= SB_RDONLY;
}

long ext2_sb_info::statfs(kstatfs& buf) {
    buf.f_type = s_magic;
    buf.f_bsize = buf.f_frsize = fs_->block_size();
    buf.f_blocks = fs_->blocks_count();
    buf.f_bfree = buf.f_bavail = fs_->free_blocks();
    buf.f_files = fs_->inodes_count();
    buf.f_ffree = fs_->free_inodes();
    buf.f_namelen = EXT2_NAME_LEN;
    buf.f_flags = (s_flags & SB_RDONLY) ? ST_RDONLY : 0;
    return 0;
}

mmu::ErrorOr<std::shared_ptr<inode>> ext2_sb_info::iget(uint32_t ino) {
    if (auto it = icache_.find(ino); it != icache_.end()) return std::shared_ptr<inode>(it->second);
    auto ei = fs_->iget(ino);
    if (ei.is_error()) return ei.error();
    auto i = std::make_shared<ext2_vfs_inode>();
    i->ei = ei.value();
    i->i_ino = ino;
    i->i_dev = s_dev;
    i->i_sb = this;
    i->i_op = &ext2_inode_ops;
    i->i_mode = i->ei.i_mode;
    i->i_nlink = i->ei.i_nlink;
    i->i_uid = i->ei.i_uid;
    i->i_gid = i->ei.i_gid;
    i->i_size = i->ei.i_size;
    i->i_atime = {i->ei.i_atime, 0};
    i->i_mtime = {i->ei.i_mtime, 0};
    i->i_ctime = {i->ei.i_ctime, 0};
    i->i_blocks = i->ei.i_blocks;
    if (S_ISCHR(i->i_mode) || S_ISBLK(i->i_mode)) {  // init_special_inode: old or new encoding
        const uint32_t old_dev = i->ei.i_data[0], new_dev = i->ei.i_data[1];
        i->i_rdev = old_dev ? makedev((old_dev >> 8) & 0xff, old_dev & 0xff)
                            : makedev((new_dev & 0xfff00) >> 8, (new_dev & 0xff) | ((new_dev >> 12) & 0xfff00));
    }
    i->i_blksize = fs_->block_size();
    i->i_data.a_ops = &ext2_aops;
    i->i_data.km = km_();
    icache_[ino] = i;
    return std::shared_ptr<inode>(i);
}

}  // namespace guestos::ext2

namespace guestos {

mmu::ErrorOr<std::shared_ptr<super_block>> ext2_mount(const std::string& image, bool read_only,
                                                      std::function<kernel_mem()> km) {
    using devices::BlockDevice;
    auto bdev = BlockDevice::open(image, read_only ? BlockDevice::Mode::ReadOnly : BlockDevice::Mode::ReadWrite);
    if (bdev.is_error()) return bdev.error();
    auto fs = ext2::Ext2Fs::fill_super(*bdev.value());
    if (fs.is_error()) return mmu::Error::from_errno(fs.error().errno_value, image + ": " + fs.error().message);
    auto sb = std::make_shared<ext2::ext2_sb_info>(bdev.release_value(), fs.release_value(), std::move(km));
    auto root = sb->iget(ext2::EXT2_ROOT_INO);
    if (root.is_error()) return mmu::Error::from_errno(root.error().errno_value, image + ": " + root.error().message);
    if (!S_ISDIR(root.value()->i_mode)) return mmu::Error::from_errno(EINVAL, image + ": ext2: the root inode is not a directory");
    sb->s_root = d_make_root(*sb, root.release_value());
    return std::shared_ptr<super_block>(sb);
}

}  // namespace guestos
