// The nodes devtmpfs creates as drivers register (mem, tty) and the links udev adds.
#include "guestos/drivers/base/devtmpfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "guestos/drivers/char/mem.h"
#include "guestos/drivers/tty/tty.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

namespace {

// devtmpfs's anonymous device (0:5 on a Debian system: the first devtmpfs mount).
const uint64_t DEVTMPFS_DEV = makedev(0, 5);

std::shared_ptr<inode> make_inode(uint64_t ino, uint32_t mode, uint64_t rdev, const timespec& t) {
    auto i = std::make_shared<inode>();
    i->i_ino = ino;
    i->i_dev = DEVTMPFS_DEV;
    i->i_mode = mode;
    i->i_rdev = rdev;
    i->i_atime = i->i_mtime = i->i_ctime = t;
    i->i_blocks = 0;
    return i;
}

// The directory /dev: stat and getdents (dcache_readdir: ".", "..", then the names).
class devtmpfs_dir_file final : public simple_dir_file {
public:
    devtmpfs_dir_file(std::shared_ptr<inode> root, std::vector<dir_entry> entries)
        : simple_dir_file(std::move(entries), std::move(root)) {}
};

// /dev/tty, the controlling terminal (tty_open_current_tty): emu's own, if the caller's
// session has it; ENXIO otherwise, as for a process without one.
long tty_open(std::shared_ptr<inode> ino, unsigned flags, std::shared_ptr<file>& out) {
    const task_struct* t = get_current();
    if (t && !t->signal->tty) return -ENXIO;
    const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -ENXIO;
    out = std::make_shared<console_file>(fd, ConsoleOwnsFd::Yes);
    out->f_inode = std::move(ino);
    out->f_flags = flags & ~(O_CREAT_ | O_EXCL_ | O_TRUNC_ | O_NOCTTY_);
    return 0;
}

}  // namespace

Devtmpfs::Devtmpfs(const timespec& mounted) : root_(make_inode(1, S_IFDIR | 0755, 0, mounted)) {
    root_->i_nlink = 3;  // ".", its entry in /, and shm's ".."
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
    uint64_t ino = 2;
    for (const auto& t : table) {
        auto i = make_inode(ino++, t.mode, t.rdev, mounted);
        if (*t.link) i->i_size = std::string(t.link).size();
        nodes_.push_back({t.name, std::move(i), t.link});
    }
}

const Devtmpfs::node* Devtmpfs::find(const std::string& name) const {
    for (const node& n : nodes_)
        if (n.name == name) return &n;
    return nullptr;
}

std::optional<std::string> Devtmpfs::follow_link(const std::string& rest) const {
    const size_t slash = rest.find('/');
    const node* n = find(rest.substr(0, slash));
    if (!n || n->link.empty()) return std::nullopt;
    return slash == std::string::npos ? n->link : n->link + rest.substr(slash);
}

long Devtmpfs::open(const std::string& rest, unsigned flags, std::shared_ptr<file>& out) {
    if (rest.empty()) {
        if ((flags & O_ACCMODE_) != O_RDONLY_ || (flags & O_CREAT_)) return -EISDIR;
        std::vector<dir_entry> e = {{1, 1, DT_DIR, "."}, {1, 2, DT_DIR, ".."}};
        for (const node& n : nodes_)
            e.push_back({n.ino->i_ino, static_cast<int64_t>(e.size() + 1),
                         static_cast<unsigned char>(S_ISDIR(n.ino->i_mode)   ? DT_DIR
                                                    : S_ISLNK(n.ino->i_mode) ? DT_LNK
                                                                             : DT_CHR),
                         n.name});
        out = std::make_shared<devtmpfs_dir_file>(root_, std::move(e));
        out->f_flags = flags;
        return 0;
    }
    const node* n = find(rest.substr(0, rest.find('/')));
    if (!n) return (flags & O_CREAT_) ? -EACCES : -ENOENT;  // devtmpfs is root's; emu creates nothing
    if (rest.find('/') != std::string::npos) return -ENOTDIR;
    if ((flags & O_DIRECTORY_) && !S_ISDIR(n->ino->i_mode)) return -ENOTDIR;
    if ((flags & O_CREAT_) && (flags & O_EXCL_)) return -EEXIST;
    if (S_ISLNK(n->ino->i_mode)) return -ELOOP;  // O_NOFOLLOW: the caller followed the rest
    if (major(n->ino->i_rdev) == TTYAUX_MAJOR) return tty_open(n->ino, flags, out);
    return chrdev_open(n->ino, flags, out);
}

long Devtmpfs::lstat(const std::string& rest, struct stat& st) {
    const node* n = rest.empty() ? nullptr : find(rest);
    if (!rest.empty() && !n) return rest.find('/') != std::string::npos ? -ENOTDIR : -ENOENT;
    file f(rest.empty() ? root_ : n->ino);
    return f.getattr(st);
}

std::optional<std::string> Devtmpfs::readlink(const std::string& rest, int& err) const {
    const node* n = find(rest);
    err = n ? EINVAL : ENOENT;
    if (!n || n->link.empty()) return std::nullopt;
    return n->link;
}

}  // namespace guestos
