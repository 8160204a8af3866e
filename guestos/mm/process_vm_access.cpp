// process_vm_readv and process_vm_writev (mm/process_vm_access.c): copies between the
// caller's buffers and another process's memory, page by page, stopping at the first page
// either side cannot reach; what was copied before counts.
#include <algorithm>
#include <cstring>
#include <vector>

#include "guestos/fs/internal.h"
#include "guestos/include/kernel.h"
#include "guestos/include/ptrace.h"
#include "guestos/mm/memory.h"

namespace guestos {

namespace {

enum class VmDirection { Read, Write };

// The remote iovec array (iovec_from_user): at most UIO_MAXIOV entries, no negative
// length; the addresses are the other process's, so they are not checked here.
long iovec_from_user(SysCtx& c, VirtAddr uiov, uint64_t cnt, user_iovec& out) {
    if (cnt > UIO_MAXIOV) return -EINVAL;
    const uint64_t ps = c.ptr_size();
    std::vector<uint8_t> raw(cnt * 2 * ps);
    if (cnt && !copy_from_user(c.mm, raw.data(), uiov, raw.size())) return -EFAULT;
    for (uint64_t i = 0; i < cnt; ++i) {
        uint64_t base = 0, len = 0;
        std::memcpy(&base, &raw[i * 2 * ps], ps);
        std::memcpy(&len, &raw[i * 2 * ps + ps], ps);
        if (static_cast<int64_t>(len) < 0 || (c.compat && static_cast<int32_t>(len) < 0)) return -EINVAL;
        out.emplace_back(base, len);
    }
    return 0;
}

// Copies one chunk (within one page on both sides) through a bounce buffer: false when
// either side faults (the chunk is then not counted).
bool process_vm_rw_chunk(mm_struct& local, mm_struct& remote, uint64_t lva, uint64_t rva, uint64_t n, VmDirection dir) {
    uint8_t buf[PAGE_SIZE];
    if (dir == VmDirection::Read)
        return copy_from_user(remote, buf, VirtAddr(rva), n) && copy_to_user(local, VirtAddr(lva), buf, n);
    return copy_from_user(local, buf, VirtAddr(lva), n) && copy_to_user(remote, VirtAddr(rva), buf, n);
}

// process_vm_rw_core: the remote vectors in order against the local ones; the bytes moved,
// or -EFAULT if none could be.
long process_vm_rw_core(SysCtx& c, mm_struct& remote, const user_iovec& lv, const user_iovec& rv, VmDirection dir) {
    size_t li = 0;
    uint64_t loff = 0, copied = 0;
    for (const auto& [rbase, rlen] : rv) {
        for (uint64_t roff = 0; roff < rlen;) {
            while (li < lv.size() && loff == lv[li].second) ++li, loff = 0;
            if (li == lv.size()) return static_cast<long>(copied);  // the local buffers are full
            const uint64_t lva = lv[li].first + loff, rva = rbase + roff;
            const uint64_t n = std::min({rlen - roff, lv[li].second - loff, PAGE_SIZE - (rva & (PAGE_SIZE - 1)),
                                         PAGE_SIZE - (lva & (PAGE_SIZE - 1))});
            if (!process_vm_rw_chunk(c.mm, remote, lva, rva, n, dir))
                return copied ? static_cast<long>(copied) : -EFAULT;
            roff += n, loff += n, copied += n;
        }
    }
    return static_cast<long>(copied);
}

long process_vm_rw(SysCtx& c, const uint64_t* a, VmDirection dir) {
    if (a[5]) return -EINVAL;  // flags
    user_iovec lv, rv;
    const long total = import_iovec(c, VirtAddr(a[1]), a[2], lv);
    if (total <= 0) return total;
    if (long e = iovec_from_user(c, VirtAddr(a[3]), a[4], rv)) return e;
    if (std::none_of(rv.begin(), rv.end(), [](const auto& v) { return v.second > 0; })) return 0;
    task_struct* t = c.kernel.find_task_by_vpid(static_cast<int32_t>(a[0]));
    if (!t || t->exit_state == EXIT_DEAD) return -ESRCH;
    if (!t->mm) return -ESRCH;                         // an exited task (mm_access gives no mm)
    if (ptrace_may_access(c.task, *t)) return -EPERM;  // PTRACE_MODE_ATTACH_REALCREDS
    return process_vm_rw_core(c, *t->mm, lv, rv, dir);
}

}  // namespace

// process_vm_readv(pid, local_iov, liovcnt, remote_iov, riovcnt, flags)
long sys_process_vm_readv(SysCtx& c, const uint64_t* a) { return process_vm_rw(c, a, VmDirection::Read); }
// process_vm_writev(pid, local_iov, liovcnt, remote_iov, riovcnt, flags)
long sys_process_vm_writev(SysCtx& c, const uint64_t* a) { return process_vm_rw(c, a, VmDirection::Write); }

}  // namespace guestos
