// ioctl (fs/ioctl.c): the argument is copied in and out by the sizes the file gives for
// the command, and the file answers it.
#include <cerrno>
#include <cstring>

#include "guestos/fs/internal.h"
#include "guestos/include/syscalls.h"

namespace guestos {

long sys_ioctl(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    const unsigned long cmd = a[1] & 0xffffffffu;
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
