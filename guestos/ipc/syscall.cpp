// i386's ipc() multiplexer (ipc/syscall.c compat_ksys_ipc): the call number's low 16 bits
// choose the operation, its high 16 bits the version.
#include "guestos/include/syscalls.h"
#include "guestos/ipc/util.h"

namespace guestos {

long sys_ipc(SysCtx& c, const uint64_t* a) {
    const unsigned call = static_cast<uint32_t>(a[0]) & 0xffff;
    const int version = static_cast<int>(static_cast<uint32_t>(a[0]) >> 16);
    if (call >= 21 && call <= 24) return ipc_shm(c, call, version, a);
    if (call >= 11 && call <= 14) return ipc_msg(c, call, version, a);
    if (call >= 1 && call <= 4) return ipc_sem(c, call, version, a);
    return -ENOSYS;
}

}  // namespace guestos
