// membarrier(2) (kernel/sched/membarrier.c): on emu's one CPU every barrier is already
// there, so the commands only keep Linux's rules: the expedited private ones need their
// registration in the mm first (EPERM), flags are EINVAL except the RSEQ command's CPU flag.
#include "guestos/include/errno.h"
#include "guestos/include/mm_types.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {

enum : int {
    MEMBARRIER_CMD_QUERY = 0,
    MEMBARRIER_CMD_GLOBAL = 1,
    MEMBARRIER_CMD_GLOBAL_EXPEDITED = 2,
    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 4,
    MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16,
    MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64,
    MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 128,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256,
    MEMBARRIER_CMD_GET_REGISTRATIONS = 512,
};
constexpr unsigned MEMBARRIER_CMD_FLAG_CPU = 1;
constexpr int MEMBARRIER_CMD_BITMASK = 1023;

// A private expedited barrier: allowed once its registration is in the mm.
long private_expedited(const mm_struct& mm, int registration) {
    return (mm.membarrier_state & registration) ? 0 : -EPERM;
}

}  // namespace

long sys_membarrier(SysCtx& c, const uint64_t* a) {
    const int cmd = static_cast<int32_t>(a[0]);
    const unsigned flags = static_cast<uint32_t>(a[1]);
    if (cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ? (flags && flags != MEMBARRIER_CMD_FLAG_CPU) : flags != 0)
        return -EINVAL;
    mm_struct& mm = c.mm;
    switch (cmd) {
    case MEMBARRIER_CMD_QUERY: return MEMBARRIER_CMD_BITMASK;
    case MEMBARRIER_CMD_GLOBAL:
    case MEMBARRIER_CMD_GLOBAL_EXPEDITED: return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED: return private_expedited(mm, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
        return private_expedited(mm, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE);
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
        return private_expedited(mm, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ);
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
        mm.membarrier_state |= cmd;  // the registrations, by their command bits
        return 0;
    case MEMBARRIER_CMD_GET_REGISTRATIONS: return mm.membarrier_state;
    default: return -EINVAL;
    }
}

}  // namespace guestos
