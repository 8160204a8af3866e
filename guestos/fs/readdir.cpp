// getdents and getdents64 (fs/readdir.c): a directory's entries as the ABI's dirent
// records, as many as fit.
#include <cerrno>
#include <cstring>
#include <vector>

#include "guestos/fs/internal.h"
#include "guestos/include/fsnotify.h"
#include "guestos/include/syscalls.h"

namespace guestos {

// getdents (the old call): struct linux_dirent records of the ABI's longs (d_ino, d_off),
// d_reclen, the name and its NUL, then d_type in the record's last byte, long-aligned;
// EOVERFLOW for an inode or offset a 32-bit long cannot hold.
long sys_getdents(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const uint64_t count = static_cast<uint32_t>(a[2]);
    const uint64_t L = c.ptr_size();
    std::vector<uint8_t> buf;
    long error = 0;
    long err = f->iterate_shared([&](const dir_entry& d) {
        const uint64_t reclen = (2 * L + 2 + d.name.size() + 2 + L - 1) & ~(L - 1);
        if (L == 4 && (d.ino > 0xffffffffull || static_cast<uint64_t>(d.d_off) > 0x7fffffffull)) {
            error = -EOVERFLOW;
            return false;
        }
        if (buf.size() + reclen > count) {
            if (buf.empty()) error = -EINVAL;
            return false;
        }
        const size_t at = buf.size();
        buf.resize(at + reclen, 0);
        const uint16_t rl = static_cast<uint16_t>(reclen);
        std::memcpy(&buf[at], &d.ino, L);
        std::memcpy(&buf[at + L], &d.d_off, L);
        std::memcpy(&buf[at + 2 * L], &rl, 2);
        std::memcpy(&buf[at + 2 * L + 2], d.name.data(), d.name.size());
        buf[at + reclen - 1] = d.d_type;
        return true;
    });
    fsnotify_access(*f);  // iterate_dir
    if (err) return err;
    if (buf.empty() && error) return error;
    if (!buf.empty() && !copy_to_user(c.mm, VirtAddr(a[1]), buf.data(), buf.size())) return -EFAULT;
    return static_cast<long>(buf.size());
}

// getdents64: whole struct linux_dirent64 records (d_ino, d_off, d_reclen, d_type, the name
// and its NUL, 8-byte aligned) while they fit; EINVAL when not even the first does.
long sys_getdents64(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const uint64_t count = static_cast<uint32_t>(a[2]);
    std::vector<uint8_t> buf;
    bool too_small = false;
    long err = f->iterate_shared([&](const dir_entry& d) {
        const uint64_t reclen = (19 + d.name.size() + 1 + 7) & ~uint64_t{7};
        if (buf.size() + reclen > count) {
            too_small = buf.empty();
            return false;
        }
        const size_t at = buf.size();
        buf.resize(at + reclen, 0);
        const uint16_t rl = static_cast<uint16_t>(reclen);
        std::memcpy(&buf[at], &d.ino, 8);
        std::memcpy(&buf[at + 8], &d.d_off, 8);
        std::memcpy(&buf[at + 16], &rl, 2);
        buf[at + 18] = d.d_type;
        std::memcpy(&buf[at + 19], d.name.data(), d.name.size());
        return true;
    });
    fsnotify_access(*f);  // iterate_dir
    if (err) return err;
    if (too_small) return -EINVAL;
    if (!buf.empty() && !copy_to_user(c.mm, VirtAddr(a[1]), buf.data(), buf.size())) return -EFAULT;
    return static_cast<long>(buf.size());
}

}  // namespace guestos
