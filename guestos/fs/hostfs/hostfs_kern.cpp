// hostfs (fs/hostfs/hostfs_kern.c): the host's files through the VFS and the page cache.
#include "guestos/fs/hostfs/hostfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <iterator>
#include <cstring>
#include <map>
#include <vector>

#include "guestos/drivers/char/mem.h"
#include "guestos/include/dcache.h"
#include "guestos/include/page.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/mm/filemap.h"

namespace guestos {

namespace {

// A host file's inode: the host fd its pages are read and written through, opened at the
// first open (read-write when a writer came), kept until the inode goes.
struct hostfs_inode final : inode {
    ~hostfs_inode() override {
        (void)filemap_write_and_wait(i_data);
        if (fd >= 0) ::close(fd);
    }
    int fd = -1;
    bool fd_writable = false;
    struct timespec host_mtime {};
};

hostfs_inode& HOSTFS_I(inode& ino) { return static_cast<hostfs_inode&>(ino); }

long host_read_folio(address_space& m, uint64_t index, uint8_t* dst) {
    const int fd = HOSTFS_I(*m.host).fd;
    ssize_t n = fd < 0 ? -1 : ::pread(fd, dst, PAGE_SIZE, static_cast<off_t>(index << PAGE_SHIFT));
    if (n < 0) return fd < 0 ? -EIO : -errno;
    std::memset(dst + n, 0, PAGE_SIZE - static_cast<size_t>(n));
    return 0;
}

long host_writepage(address_space& m, page& pg, const uint8_t* src, bool dirty) {
    hostfs_inode& hi = HOSTFS_I(*m.host);
    const uint64_t index = pg.index;
    if (!hi.fd_writable) return dirty ? -EBADF : 0;  // a read-only mapping has nothing to say
    const uint64_t off = index << PAGE_SHIFT;
    if (off >= hi.i_size) return 0;
    const size_t len = static_cast<size_t>(std::min<uint64_t>(PAGE_SIZE, hi.i_size - off));
    for (size_t done = 0; done < len;) {
        const ssize_t n = ::pwrite(hi.fd, src + done, len - done, static_cast<off_t>(off + done));
        if (n < 0) return -errno;
        done += static_cast<size_t>(n);
    }
    return 0;
}

// Consecutive pages in one pwritev (the part of the last inside i_size; none past it).
long host_writepages(address_space& m, uint64_t index, const uint8_t* const* pages, size_t nr) {
    hostfs_inode& hi = HOSTFS_I(*m.host);
    if (!hi.fd_writable) return -EBADF;
    const uint64_t off = index << PAGE_SHIFT;
    if (off >= hi.i_size) return 0;
    const uint64_t len = std::min<uint64_t>(nr * PAGE_SIZE, hi.i_size - off);
    struct iovec iov[IOV_MAX < 64 ? IOV_MAX : 64];
    if (nr > std::size(iov)) return -EINVAL;
    for (size_t i = 0; i < nr; i++)
        iov[i] = {const_cast<uint8_t*>(pages[i]),
                  static_cast<size_t>(std::min<uint64_t>(PAGE_SIZE, len - std::min(len, i * PAGE_SIZE)))};
    for (uint64_t done = 0; done < len;) {
        // After a short write, the rest: skip the iovecs already written.
        size_t first = static_cast<size_t>(done / PAGE_SIZE);
        iov[first].iov_base = const_cast<uint8_t*>(pages[first]) + done % PAGE_SIZE;
        iov[first].iov_len =
            static_cast<size_t>(std::min<uint64_t>(PAGE_SIZE, len - first * PAGE_SIZE) - done % PAGE_SIZE);
        const size_t cnt = static_cast<size_t>((len + PAGE_SIZE - 1) / PAGE_SIZE) - first;
        const ssize_t n = ::pwritev(hi.fd, iov + first, static_cast<int>(cnt), static_cast<off_t>(off + done));
        if (n < 0) return -errno;
        if (n == 0) return -EIO;
        done += static_cast<uint64_t>(n);
    }
    return 0;
}

const address_space_operations hostfs_aops = {"hostfs_aops",  host_read_folio, false,
                                              host_writepage, nullptr,         host_writepages};

bool has_dirty_pages(inode& ino) {
    address_space& m = ino.i_data;
    if (!m.km.page_alloc) return false;
    for (auto [index, frame] : m.i_pages)
        if (m.km.page_alloc->phys_to_page(frame).flags & PG_dirty) return true;
    return false;
}

class hostfs_iops;

class hostfs_sb final : public super_block {
public:
    hostfs_sb(std::string root, std::function<kernel_mem()> km) : root_(std::move(root)), km_(std::move(km)) {
        s_type = "hostfs";
    }
    std::string host_path(const dentry& d) const {
        const std::string rel = dentry_path_raw(d);
        return root_ == "/" ? rel : rel == "/" ? root_ : root_ + rel;
    }
    long statfs(kstatfs& buf) override {
        struct statfs h;
        if (::statfs(root_.c_str(), &h) != 0) return -errno;
        buf.f_type = static_cast<uint64_t>(h.f_type);
        buf.f_bsize = static_cast<uint64_t>(h.f_bsize);
        buf.f_blocks = h.f_blocks;
        buf.f_bfree = h.f_bfree;
        buf.f_bavail = h.f_bavail;
        buf.f_files = h.f_files;
        buf.f_ffree = h.f_ffree;
        buf.f_namelen = static_cast<uint64_t>(h.f_namelen);
        buf.f_frsize = static_cast<uint64_t>(h.f_frsize);
        buf.f_flags = static_cast<uint64_t>(h.f_flags) | ((s_flags & SB_RDONLY) ? ST_RDONLY : 0);
        return 0;
    }
    // The name still means what the dentry says (a host program may have changed it).
    bool d_revalidate(dentry& d) override {
        struct stat st;
        if (::lstat(host_path(d).c_str(), &st) != 0) return d.is_negative() && (errno == ENOENT || errno == ENOTDIR);
        if (d.is_negative() || d.d_inode->i_ino != st.st_ino || d.d_inode->i_dev != st.st_dev) return false;
        refresh(*d.d_inode, st);
        return true;
    }
    void sync_fs() override {
        for (auto& [key, weak] : icache_)
            if (auto ino = weak.lock()) (void)filemap_write_and_wait(ino->i_data);
    }
    // The inode for a host file, one per host inode so hard links share their pages (iget5).
    std::shared_ptr<inode> iget(const struct stat& st);
    // Takes the host's attributes; the size only while no page the host lacks is dirty.
    void refresh(inode& ino, const struct stat& st) {
        ino.i_mode = st.st_mode;
        ino.i_nlink = static_cast<uint32_t>(st.st_nlink);
        ino.i_uid = st.st_uid;
        ino.i_gid = st.st_gid;
        ino.i_rdev = st.st_rdev;
        ino.i_atime = st.st_atim;
        ino.i_ctime = st.st_ctim;
        ino.i_blksize = static_cast<uint32_t>(st.st_blksize);
        hostfs_inode& hi = HOSTFS_I(ino);
        if (has_dirty_pages(ino)) {
            ino.i_size = std::max<uint64_t>(ino.i_size, static_cast<uint64_t>(st.st_size));
            return;
        }
        if (hi.host_mtime.tv_sec != st.st_mtim.tv_sec || hi.host_mtime.tv_nsec != st.st_mtim.tv_nsec ||
            ino.i_size != static_cast<uint64_t>(st.st_size))
            invalidate_mapping_pages(ino.i_data);  // changed on the host: reread
        hi.host_mtime = st.st_mtim;
        ino.i_mtime = st.st_mtim;
        ino.i_size = static_cast<uint64_t>(st.st_size);
        ino.i_blocks = st.st_blocks;
    }
    // The host's current attributes of d (by its fd once the name is gone).
    long stat_host(dentry& d, struct stat& st) {
        hostfs_inode* hi = d.d_inode ? &HOSTFS_I(*d.d_inode) : nullptr;
        const int r = d.d_deleted && hi && hi->fd >= 0 ? ::fstat(hi->fd, &st) : ::lstat(host_path(d).c_str(), &st);
        return r == 0 ? 0 : -errno;
    }
    long reread(dentry& d) {
        struct stat st;
        if (long e = stat_host(d, st)) return e;
        refresh(*d.d_inode, st);
        return 0;
    }

private:
    std::string root_;
    std::function<kernel_mem()> km_;
    std::map<std::pair<uint64_t, uint64_t>, std::weak_ptr<inode>> icache_;
};

hostfs_sb& HOSTFS_SB(const inode& ino) { return static_cast<hostfs_sb&>(*ino.i_sb); }

// A host file open in the guest: the page cache's file, flushed when the last user closes it.
class hostfs_file final : public inode_file {
public:
    using inode_file::inode_file;
    ~hostfs_file() override { (void)filemap_write_and_wait(f_inode->i_data); }
    long fsync() override {
        if (long e = filemap_write_and_wait(f_inode->i_data)) return e;
        return ::fsync(HOSTFS_I(*f_inode).fd) == 0 ? 0 : -errno;
    }
    long truncate(uint64_t size) override {
        iattr a;
        a.ia_valid = ATTR_SIZE | ATTR_MTIME | ATTR_CTIME;
        a.ia_size = size;
        return f_inode->i_op->setattr(*f_path.dentry, a);
    }
};

// A host directory: its entries read whole at the first getdents after a rewind.
class hostfs_dir_file final : public file {
public:
    hostfs_dir_file(std::shared_ptr<inode> ino, std::string host) : file(std::move(ino)), host_(std::move(host)) {}
    long read(uint8_t*, uint64_t, int64_t*) override { return -EISDIR; }
    long llseek(int64_t offset, int whence) override {
        if (whence != SEEK_SET || offset < 0) return -EINVAL;
        return f_pos = offset;
    }
    // The host directory's own entries made durable (fsync of the host directory).
    long fsync() override {
        const int fd = ::open(host_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return -errno;
        const long r = ::fsync(fd) == 0 ? 0 : -errno;
        ::close(fd);
        return r;
    }
    long iterate_shared(const filldir_t& emit) override {
        if (f_pos == 0 || entries_.empty())
            if (long e = fill()) return e;
        for (; static_cast<size_t>(f_pos) < entries_.size(); ++f_pos)
            if (!emit(entries_[static_cast<size_t>(f_pos)])) break;
        return 0;
    }

private:
    long fill() {
        DIR* dir = ::opendir(host_.c_str());
        if (!dir) return -errno;
        entries_.clear();
        while (struct dirent* de = ::readdir(dir))
            entries_.push_back({de->d_ino, static_cast<int64_t>(entries_.size() + 1), de->d_type, de->d_name});
        ::closedir(dir);
        return 0;
    }
    std::string host_;
    std::vector<dir_entry> entries_;
};

class hostfs_iops final : public inode_operations {
public:
    long lookup(inode& dir, dentry& d, task_struct&) const override {
        struct stat st;
        if (::lstat(sb(dir).host_path(d).c_str(), &st) != 0)
            return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;  // a negative dentry
        d_instantiate(d, sb(dir).iget(st));
        return 0;
    }
    long create(inode& dir, dentry& d, uint32_t mode) const override {
        const std::string path = sb(dir).host_path(d);
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
        if (fd < 0) return -errno;
        (void)::fchmod(fd, mode & 07777);  // the guest's umask was applied, not emu's
        if (long e = instantiate(dir, d)) {
            ::close(fd);
            return e;
        }
        hostfs_inode& hi = HOSTFS_I(*d.d_inode);
        if (hi.fd >= 0) ::close(hi.fd);
        hi.fd = fd;
        hi.fd_writable = true;
        return 0;
    }
    long mkdir(inode& dir, dentry& d, uint32_t mode) const override {
        const std::string path = sb(dir).host_path(d);
        if (::mkdir(path.c_str(), mode & 07777) != 0) return -errno;
        (void)::chmod(path.c_str(), mode & 07777);
        return instantiate(dir, d);
    }
    long mknod(inode& dir, dentry& d, uint32_t mode, uint64_t rdev) const override {
        const std::string path = sb(dir).host_path(d);
        if (::mknod(path.c_str(), mode, static_cast<dev_t>(rdev)) != 0) return -errno;
        (void)::chmod(path.c_str(), mode & 07777);  // the guest's umask was applied, not emu's
        return instantiate(dir, d);
    }
    long symlink(inode& dir, dentry& d, const std::string& target) const override {
        if (::symlink(target.c_str(), sb(dir).host_path(d).c_str()) != 0) return -errno;
        return instantiate(dir, d);
    }
    long link(dentry& old, inode& dir, dentry& d) const override {
        if (::link(sb(dir).host_path(old).c_str(), sb(dir).host_path(d).c_str()) != 0) return -errno;
        (void)sb(dir).reread(old);
        d_instantiate(d, old.d_inode);
        (void)sb(dir).reread(*dir_dentry(d));
        return 0;
    }
    long unlink(inode& dir, dentry& d) const override {
        if (::unlink(sb(dir).host_path(d).c_str()) != 0) return -errno;
        after_remove(dir, d);
        return 0;
    }
    long rmdir(inode& dir, dentry& d) const override {
        if (::rmdir(sb(dir).host_path(d).c_str()) != 0) return -errno;
        after_remove(dir, d);
        return 0;
    }
    long rename(inode& old_dir, dentry& old, inode& new_dir, dentry& nw, unsigned flags) const override {
        if (::syscall(SYS_renameat2, AT_FDCWD, sb(old_dir).host_path(old).c_str(), AT_FDCWD,
                      sb(new_dir).host_path(nw).c_str(), flags) != 0)
            return -errno;
        if (nw.d_inode && !(flags & RENAME_EXCHANGE_)) {
            hostfs_inode& victim = HOSTFS_I(*nw.d_inode);
            struct stat st;
            if (victim.fd >= 0 && ::fstat(victim.fd, &st) == 0) sb(old_dir).refresh(victim, st);
            else if (victim.i_nlink) --victim.i_nlink;
        }
        return 0;
    }
    long get_link(dentry& d, task_struct&, std::string& target) const override {
        char buf[4096];
        const ssize_t n = ::readlink(sb(*d.d_inode).host_path(d).c_str(), buf, sizeof buf);
        if (n < 0) return -errno;
        target.assign(buf, static_cast<size_t>(n));
        return 0;
    }
    long setattr(dentry& d, const iattr& a) const override;
    long getattr(dentry& d, task_struct&, struct stat& st) const override {
        if (long e = sb(*d.d_inode).reread(d); e && e != -ENOENT) return e;
        generic_fillattr(*d.d_inode, st);
        return 0;
    }
    long open(const path& p, unsigned flags, task_struct&, std::shared_ptr<file>& out) const override;

private:
    static hostfs_sb& sb(const inode& ino) { return HOSTFS_SB(ino); }
    static dentry* dir_dentry(const dentry& d) { return d.d_parent.get(); }
    static long instantiate(inode& dir, dentry& d) {
        struct stat st;
        if (::lstat(sb(dir).host_path(d).c_str(), &st) != 0) return -errno;
        d_instantiate(d, sb(dir).iget(st));
        if (dentry* parent = dir_dentry(d)) (void)sb(dir).reread(*parent);
        return 0;
    }
    static void after_remove(inode& dir, dentry& d) {
        hostfs_inode& hi = HOSTFS_I(*d.d_inode);
        struct stat st;
        if (hi.fd >= 0 && ::fstat(hi.fd, &st) == 0) sb(dir).refresh(hi, st);
        else hi.i_nlink = S_ISDIR(hi.i_mode) ? 0 : hi.i_nlink - 1;
        if (dentry* parent = dir_dentry(d)) (void)sb(dir).reread(*parent);
    }
    // Opens (or reopens read-write) the host fd the inode's pages go through.
    static long host_open(hostfs_inode& hi, const std::string& path, bool write) {
        if (hi.fd >= 0 && (hi.fd_writable || !write)) return 0;
        const int fd = ::open(path.c_str(), (write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return -errno;
        if (hi.fd >= 0) ::close(hi.fd);
        hi.fd = fd;
        hi.fd_writable = write;
        return 0;
    }
};

const hostfs_iops hostfs_inode_ops;

std::shared_ptr<inode> hostfs_sb::iget(const struct stat& st) {
    const std::pair<uint64_t, uint64_t> key{st.st_dev, st.st_ino};
    if (auto it = icache_.find(key); it != icache_.end())
        if (auto ino = it->second.lock()) {
            refresh(*ino, st);
            return ino;
        }
    auto ino = std::make_shared<hostfs_inode>();
    ino->i_ino = st.st_ino;
    ino->i_dev = st.st_dev;
    ino->i_sb = this;
    ino->i_op = &hostfs_inode_ops;
    ino->i_data.a_ops = &hostfs_aops;
    ino->i_data.km = km_();
    refresh(*ino, st);
    icache_[key] = ino;
    return ino;
}

long hostfs_iops::setattr(dentry& d, const iattr& a) const {
    hostfs_inode& hi = HOSTFS_I(*d.d_inode);
    const std::string path = sb(hi).host_path(d);
    const bool by_fd = d.d_deleted && hi.fd >= 0;
    if (a.ia_valid & ATTR_MODE)
        if ((by_fd ? ::fchmod(hi.fd, a.ia_mode & 07777) : ::chmod(path.c_str(), a.ia_mode & 07777)) != 0) return -errno;
    if (a.ia_valid & (ATTR_UID | ATTR_GID)) {
        const uid_t uid = (a.ia_valid & ATTR_UID) ? a.ia_uid : static_cast<uid_t>(-1);
        const gid_t gid = (a.ia_valid & ATTR_GID) ? a.ia_gid : static_cast<gid_t>(-1);
        if ((by_fd ? ::fchown(hi.fd, uid, gid) : ::lchown(path.c_str(), uid, gid)) != 0) return -errno;
    }
    if (a.ia_valid & ATTR_SIZE) {
        if ((hi.fd_writable ? ::ftruncate(hi.fd, static_cast<off_t>(a.ia_size))
                            : ::truncate(path.c_str(), static_cast<off_t>(a.ia_size))) != 0)
            return -errno;
        truncate_setsize(hi, a.ia_size);
    }
    if (a.ia_valid & (ATTR_ATIME | ATTR_MTIME) && (a.ia_valid & (ATTR_ATIME_SET | ATTR_MTIME_SET | ATTR_ATIME))) {
        struct timespec ts[2];
        ts[0] = (a.ia_valid & ATTR_ATIME) ? ((a.ia_valid & ATTR_ATIME_SET) ? a.ia_atime : timespec{0, UTIME_NOW})
                                          : timespec{0, UTIME_OMIT};
        ts[1] = (a.ia_valid & ATTR_MTIME) ? ((a.ia_valid & ATTR_MTIME_SET) ? a.ia_mtime : timespec{0, UTIME_NOW})
                                          : timespec{0, UTIME_OMIT};
        if (!(a.ia_valid & ATTR_SIZE)) {
            (void)filemap_write_and_wait(hi.i_data);  // a later writeback must not move mtime
            if ((by_fd ? ::futimens(hi.fd, ts) : ::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW)) != 0)
                return -errno;
        }
    }
    (void)sb(hi).reread(d);
    return 0;
}

long hostfs_iops::open(const path& p, unsigned flags, task_struct&, std::shared_ptr<file>& out) const {
    hostfs_inode& hi = HOSTFS_I(*p.dentry->d_inode);
    const std::string host = sb(hi).host_path(*p.dentry);
    if (S_ISDIR(hi.i_mode)) {
        out = std::make_shared<hostfs_dir_file>(p.dentry->d_inode, host);
    } else if (S_ISREG(hi.i_mode)) {
        if (long e = host_open(hi, host, (flags & O_ACCMODE_) != O_RDONLY_)) return e;
        struct stat st;
        if (::fstat(hi.fd, &st) == 0) sb(hi).refresh(hi, st);  // close-to-open: see the host's changes
        out = std::make_shared<hostfs_file>(p.dentry->d_inode, hi.i_sb->s_maxbytes);
    } else if (S_ISCHR(hi.i_mode)) {
        return chrdev_open(p.dentry->d_inode, flags, out);  // init_special_inode: emu's driver for i_rdev
    } else {
        return -ENXIO;  // block devices and sockets are not passed through
    }
    out->f_flags = flags;
    out->f_path = p;
    return 0;
}

}  // namespace

long hostfs_fill_super(const std::string& host_root, bool read_only, std::function<kernel_mem()> km,
                       std::shared_ptr<super_block>& out) {
    struct stat st;
    if (::stat(host_root.c_str(), &st) != 0) return -errno;
    if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
    auto sb = std::make_shared<hostfs_sb>(host_root, std::move(km));
    if (read_only) sb->s_flags |= SB_RDONLY;
    sb->s_root = d_make_root(*sb, sb->iget(st));
    out = sb;
    return 0;
}

}  // namespace guestos
