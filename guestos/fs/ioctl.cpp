// ioctl (fs/ioctl.c): the commands every file takes (do_vfs_ioctl) and a socket's owner
// commands (sock_ioctl), then the file's own,
// whose argument is copied in and out by the sizes the file gives for the command.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "guestos/fs/internal.h"
#include "guestos/include/fasync.h"
#include "guestos/include/kernel.h"
#include "guestos/include/net.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/ioctls.h"
#include "guestos/include/uapi/socket.h"

namespace guestos {

namespace {

template <typename T>
long put_user(SysCtx& c, uint64_t addr, T v) {
    return copy_to_user(c.mm, VirtAddr(addr), &v, sizeof v) ? 0 : -EFAULT;
}

// do_vfs_ioctl: nullopt for a command the file itself answers.
std::optional<long> do_vfs_ioctl(SysCtx& c, file& f, unsigned fd, unsigned long cmd, uint64_t arg) {
    const inode* ino = f.f_inode.get();
    const uint32_t type = ino ? ino->i_mode & S_IFMT : 0;
    switch (cmd) {
    case FIOCLEX_:
    case FIONCLEX_: c.task.files->cloexec[fd] = cmd == FIOCLEX_; return 0;
    case FIONBIO_: {  // ioctl_fionbio
        int on = 0;
        if (!copy_from_user(c.mm, &on, VirtAddr(arg), sizeof on)) return -EFAULT;
        const long fl = f.status_flags();
        return f.set_status_flags(static_cast<int>(on ? fl | O_NONBLOCK_ : fl & ~O_NONBLOCK_));
    }
    case FIOASYNC_: {  // ioctl_fioasync: only a file with a fasync takes it
        int on = 0;
        if (!copy_from_user(c.mm, &on, VirtAddr(arg), sizeof on)) return -EFAULT;
        if (((f.f_flags & O_ASYNC_) != 0) == (on != 0)) return 0;  // no change
        if (!f.has_fasync()) return -ENOTTY;
        const int e = f.fasync(static_cast<int>(fd), on != 0);
        return e < 0 ? e : 0;
    }
    case FIOQSIZE_: {  // the bytes it takes (inode_get_bytes) of a directory, file or symlink
        if (type != S_IFDIR && type != S_IFREG && type != S_IFLNK) return -ENOTTY;
        struct stat st {};
        if (const long e = f.getattr(st)) return e;
        return put_user<int64_t>(c, arg, static_cast<int64_t>(st.st_blocks) * 512);
    }
    case FIGETBSZ_:
        if (!ino || !ino->i_sb) return std::nullopt;
        if (!ino->i_sb->s_blocksize) return -EINVAL;
        return put_user<int32_t>(c, arg, static_cast<int32_t>(ino->i_sb->s_blocksize));
    case FIONREAD_:  // a regular file: the bytes from the position to the end
        if (type != S_IFREG) return std::nullopt;
        return put_user<int32_t>(c, arg, static_cast<int32_t>(ino->i_size - f.f_pos));
    default: break;
    }
    if (dynamic_cast<socket*>(&f)) {  // sock_ioctl's owner commands, for every family
        switch (cmd) {
        case FIOSETOWN_:
        case SIOCSPGRP_: {
            int pid = 0;
            if (!copy_from_user(c.mm, &pid, VirtAddr(arg), sizeof pid)) return -EFAULT;
            return f_setown(c, f, pid);
        }
        case FIOGETOWN_:
        case SIOCGPGRP_: return put_user<int32_t>(c, arg, static_cast<int32_t>(f_getown(c.kernel, f)));
        default: break;
        }
    }
    return std::nullopt;
}

}  // namespace

long sys_ioctl(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const unsigned long cmd = a[1] & 0xffffffffu;
    if (auto r = do_vfs_ioctl(c, *f, static_cast<unsigned>(a[0]), cmd, a[2])) return *r;
    size_t in = 0, out = 0;
    uint8_t buf[64] = {};
    const bool known = f->ioctl_sizes(cmd, in, out);
    if (known && in && !copy_from_user(c.mm, buf, VirtAddr(a[2]), in)) return -EFAULT;
    if (known && !in && !out) std::memcpy(buf, &a[2], sizeof a[2]);  // an argument by value
    long r = f->ioctl(cmd, buf, in, out);
    if (r < 0) return r;
    if (out && !copy_to_user(c.mm, VirtAddr(a[2]), buf, out)) return -EFAULT;
    return r;
}

}  // namespace guestos
