// kcmp(2) (kernel/kcmp.c): whether two processes share a kernel resource. Equal gives 0;
// different ones are ordered by their addresses (1: less, 2: greater), which Linux
// obfuscates, so only equality means anything to a caller.
#include <functional>

#include "guestos/include/errno.h"
#include "guestos/include/kernel.h"
#include "guestos/include/ptrace.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {

enum : int {
    KCMP_FILE = 0,
    KCMP_VM = 1,
    KCMP_FILES = 2,
    KCMP_FS = 3,
    KCMP_SIGHAND = 4,
    KCMP_IO = 5,
    KCMP_SYSVSEM = 6,
    KCMP_EPOLL_TFD = 7,
};

long kcmp_ptr(const void* a, const void* b) {
    if (a == b) return 0;
    return std::less<const void*>()(a, b) ? 1 : 2;
}

}  // namespace

long sys_kcmp(SysCtx& c, const uint64_t* a) {
    const int pid1 = static_cast<int32_t>(a[0]), pid2 = static_cast<int32_t>(a[1]);
    const int type = static_cast<int32_t>(a[2]);
    task_struct* t1 = c.kernel.find_task_by_vpid(pid1);
    task_struct* t2 = c.kernel.find_task_by_vpid(pid2);
    if (!t1 || !t2 || t1->exited || t2->exited) return -ESRCH;
    if (ptrace_may_access(c.task, *t1) || ptrace_may_access(c.task, *t2)) return -EPERM;
    switch (type) {
    case KCMP_FILE: {
        auto f1 = t1->files ? t1->files->get(static_cast<long>(static_cast<uint32_t>(a[3]))) : nullptr;
        auto f2 = t2->files ? t2->files->get(static_cast<long>(static_cast<uint32_t>(a[4]))) : nullptr;
        if (!f1 || !f2) return -EBADF;
        return kcmp_ptr(f1.get(), f2.get());
    }
    case KCMP_VM: return kcmp_ptr(t1->mm.get(), t2->mm.get());
    case KCMP_FILES: return kcmp_ptr(t1->files.get(), t2->files.get());
    case KCMP_FS: return kcmp_ptr(t1->fs.get(), t2->fs.get());
    case KCMP_SIGHAND: return kcmp_ptr(t1->sighand.get(), t2->sighand.get());
    case KCMP_IO: return t1 == t2 || (t1->ioprio < 0 && t2->ioprio < 0) ? 0 : kcmp_ptr(t1, t2);  // io_contexts
    case KCMP_SYSVSEM: return 0;              // neither has a semaphore undo list
    case KCMP_EPOLL_TFD: return -EOPNOTSUPP;  // not yet: epoll's target lookup
    default: return -EINVAL;
    }
}

}  // namespace guestos
