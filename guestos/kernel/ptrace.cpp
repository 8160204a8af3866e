// The access check other processes' inspection goes through (kernel/ptrace.c).
#include "guestos/include/ptrace.h"

#include "guestos/include/cred.h"
#include "guestos/include/errno.h"
#include "guestos/include/sched.h"

namespace guestos {

long ptrace_may_access(const task_struct& caller, const task_struct& t) {
    if (caller.tgid == t.tgid) return 0;
    const cred& c = caller.cred;
    const cred& tc = t.cred;
    const bool same_ids = c.uid == tc.euid && c.uid == tc.suid && c.uid == tc.uid && c.gid == tc.egid &&
                          c.gid == tc.sgid && c.gid == tc.gid;
    if (!same_ids && !capable(CAP_SYS_PTRACE_)) return -EPERM;
    if (t.mm && t.signal->dumpable != 1 && !capable(CAP_SYS_PTRACE_)) return -EPERM;
    return 0;
}

}  // namespace guestos
