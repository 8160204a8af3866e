#include "guestos/fs/ext2/ext2_mount.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>

#include "guestos/drivers/char/mem.h"

namespace guestos {

namespace {

// A VFS inode of the mount: the ext2 inode it was read from (ext2_inode_info).
struct ext2_vfs_inode final : inode {
    ext2::ext2_inode_info ei;
    ext2::Ext2Fs* fs = nullptr;
};

// ext2_aops.read_folio: the file's page from its blocks, zeros for holes and past EOF.
long ext2_read_folio(address_space& mapping, uint64_t index, uint8_t* dst) {
    auto& i = static_cast<ext2_vfs_inode&>(*mapping.host);
    return i.fs->read_folio(i.ei, index, dst);
}

const address_space_operations ext2_aops = {"ext2_aops", &ext2_read_folio, false};

unsigned char dt_of(uint8_t ft) {
    static constexpr unsigned char map[] = {DT_UNKNOWN, DT_REG, DT_DIR, DT_CHR, DT_BLK, DT_FIFO, DT_SOCK, DT_LNK};
    return ft < sizeof map ? map[ft] : static_cast<unsigned char>(DT_UNKNOWN);
}

// An open ext2 directory: getdents lists it in on-disk order (ext2_readdir), f_pos being
// the byte offset of the next entry.
class ext2_dir_file final : public file {
public:
    ext2_dir_file(std::shared_ptr<inode> ino, ext2::Ext2Fs& fs) : file(std::move(ino)), fs_(fs) {}
    long read(uint8_t*, uint64_t, int64_t*) override { return -EISDIR; }
    long llseek(int64_t offset, int whence) override {
        if (whence == SEEK_CUR) offset += f_pos;
        if ((whence != SEEK_SET && whence != SEEK_CUR) || offset < 0) return -EINVAL;
        return f_pos = offset;
    }
    long iterate_shared(const filldir_t& emit) override {
        auto entries = fs_.readdir(static_cast<ext2_vfs_inode&>(*f_inode).ei);
        if (entries.is_error()) return -entries.error().errno_value;
        int64_t pos = 0;  // the offset of each entry: where the previous one ends
        for (const auto& e : entries.value()) {
            const int64_t at = pos;
            pos = static_cast<int64_t>(e.d_off);
            if (at < f_pos) continue;
            if (!emit({e.ino, pos, dt_of(e.file_type), e.name})) break;
            f_pos = pos;
        }
        return 0;
    }

private:
    ext2::Ext2Fs& fs_;
};

long to_errno(const mmu::Error& e) { return -(e.errno_value ? e.errno_value : EIO); }

}  // namespace

mmu::ErrorOr<std::unique_ptr<Ext2Mount>> Ext2Mount::mount(const std::string& image, const kernel_mem& km) {
    auto bdev = devices::BlockDevice::open(image, devices::BlockDevice::Mode::ReadOnly);
    if (bdev.is_error()) return bdev.error();
    auto fs = ext2::Ext2Fs::fill_super(*bdev.value());
    if (fs.is_error()) return mmu::Error::from_errno(fs.error().errno_value, image + ": " + fs.error().message);
    return std::unique_ptr<Ext2Mount>(new Ext2Mount(bdev.release_value(), fs.release_value(), km));
}

mmu::ErrorOr<std::shared_ptr<inode>> Ext2Mount::iget(uint32_t ino) {
    if (auto it = icache_.find(ino); it != icache_.end()) return it->second;
    auto ei = fs_->iget(ino);
    if (ei.is_error()) return ei.error();
    auto i = std::make_shared<ext2_vfs_inode>();
    i->ei = ei.value();
    i->fs = fs_.get();
    i->i_ino = ino;
    i->i_dev = ROOT_DEV;
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
    i->i_data.km = km_;
    icache_[ino] = i;
    return std::shared_ptr<inode>(i);
}

mmu::ErrorOr<uint32_t> Ext2Mount::resolve(const std::string& abs, bool follow) {
    std::string path = abs;
    for (int links = 0;; ++links) {
        // "name/" must be a directory, and a link there is followed (path_lookupat).
        const bool must_be_dir = path.size() > 1 && path.back() == '/';
        const std::string base = must_be_dir ? path.substr(0, path.find_last_not_of('/') + 1) : path;
        auto ino = fs_->namei(base);
        if (ino.is_error()) return ino.error();
        auto i = iget(ino.value());
        if (i.is_error()) return i.error();
        if (S_ISLNK(i.value()->i_mode) && (follow || must_be_dir)) {
            if (links >= 40) return mmu::Error::from_errno(ELOOP, "too many symbolic links");
            auto target = fs_->readlink(static_cast<ext2_vfs_inode&>(*i.value()).ei);
            if (target.is_error()) return target.error();
            const std::string& t = target.value();
            if (t.empty()) return mmu::Error::from_errno(ENOENT, "empty symbolic link");
            path = (t[0] == '/' ? t : base.substr(0, base.rfind('/') + 1) + t) + (must_be_dir ? "/" : "");
            continue;
        }
        if (must_be_dir && !S_ISDIR(i.value()->i_mode)) return mmu::Error::from_errno(ENOTDIR, path);
        return ino.value();
    }
}

long Ext2Mount::open(const std::string& abs, unsigned flags, std::shared_ptr<file>& out) {
    const unsigned acc = flags & O_ACCMODE;
    auto ino = resolve(abs, !(flags & O_NOFOLLOW));
    if (ino.is_error()) {
        // A missing last component with O_CREAT would be created: not on a read-only mount.
        if (ino.error().errno_value == ENOENT && (flags & O_CREAT)) {
            const std::string parent = abs.substr(0, abs.find_last_of('/') + 1);
            if (!resolve(parent, true).is_error()) return -EROFS;
        }
        return to_errno(ino.error());
    }
    if ((flags & O_CREAT) && (flags & O_EXCL)) return -EEXIST;
    auto i = iget(ino.value());
    if (i.is_error()) return to_errno(i.error());
    const uint32_t mode = i.value()->i_mode;
    if (S_ISLNK(mode)) return -ELOOP;  // O_NOFOLLOW on a symbolic link
    if ((flags & O_DIRECTORY) && !S_ISDIR(mode)) return -ENOTDIR;
    if (S_ISDIR(mode)) {
        if (acc != O_RDONLY || (flags & O_CREAT)) return -EISDIR;
        out = std::make_shared<ext2_dir_file>(i.value(), *fs_);
    } else if (S_ISREG(mode)) {
        if (acc != O_RDONLY || (flags & O_TRUNC)) return -EROFS;
        out = std::make_shared<inode_file>(i.value());
    } else if (S_ISCHR(mode)) {
        return chrdev_open(i.value(), flags, out);  // the same device devtmpfs opens
    } else {
        return -ENXIO;  // block devices, FIFOs, sockets: no driver behind them
    }
    out->f_flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
    return 0;
}

long Ext2Mount::stat(const std::string& abs, bool follow, struct stat& st) {
    auto ino = resolve(abs, follow);
    if (ino.is_error()) return to_errno(ino.error());
    auto i = iget(ino.value());
    if (i.is_error()) return to_errno(i.error());
    file f(i.value());
    return f.getattr(st);
}

long Ext2Mount::readlink(const std::string& abs, std::string& target) {
    auto ino = resolve(abs, false);
    if (ino.is_error()) return to_errno(ino.error());
    auto i = iget(ino.value());
    if (i.is_error()) return to_errno(i.error());
    if (!S_ISLNK(i.value()->i_mode)) return -EINVAL;
    auto t = fs_->readlink(static_cast<ext2_vfs_inode&>(*i.value()).ei);
    if (t.is_error()) return to_errno(t.error());
    target = t.value();
    return 0;
}

}  // namespace guestos
