// I/O priorities (block/ioprio.c): ioprio_set and ioprio_get over each task's io_context.
// emu's block layer does not schedule by them; they are checked, kept and inherited as
// Linux keeps them; a task without an io_context reports IOPRIO_CLASS_NONE.
#include <algorithm>

#include "guestos/include/cred.h"
#include "guestos/include/errno.h"
#include "guestos/include/kernel.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {

enum : int { IOPRIO_CLASS_NONE = 0, IOPRIO_CLASS_RT = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_IDLE = 3 };
enum : int { IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2, IOPRIO_WHO_USER = 3 };
constexpr int IOPRIO_CLASS_SHIFT = 13, IOPRIO_BE_NORM = 4;

int ioprio_class(int ioprio) { return (ioprio >> IOPRIO_CLASS_SHIFT) & 7; }
int ioprio_value(int cls, int level) { return (cls << IOPRIO_CLASS_SHIFT) | level; }
bool ioprio_valid(int ioprio) { return ioprio_class(ioprio) != IOPRIO_CLASS_NONE; }

// ioprio_check_cap: RT needs CAP_SYS_NICE or CAP_SYS_ADMIN; NONE takes no level; classes
// past IDLE are invalid.
long ioprio_check_cap(int ioprio) {
    switch (ioprio_class(ioprio)) {
    case IOPRIO_CLASS_RT:
        if (!capable(CAP_SYS_NICE_) && !capable(CAP_SYS_ADMIN_)) return -EPERM;
        return 0;
    case IOPRIO_CLASS_BE:
    case IOPRIO_CLASS_IDLE: return 0;
    case IOPRIO_CLASS_NONE: return (ioprio & 7) ? -EINVAL : 0;
    default: return -EINVAL;
    }
}

// set_task_ioprio: t's real uid must be the caller's real or effective one, or CAP_SYS_NICE.
long set_task_ioprio(task_struct& t, int ioprio) {
    const cred& c = current_cred();
    if (t.cred.uid != c.euid && t.cred.uid != c.uid && !capable(CAP_SYS_NICE_)) return -EPERM;
    t.ioprio = ioprio & 0xffff;  // io_context's unsigned short
    return 0;
}

// get_task_ioprio: the io_context's value, IOPRIO_CLASS_NONE (0) without one.
int get_task_ioprio(const task_struct& t) { return t.ioprio < 0 ? ioprio_value(IOPRIO_CLASS_NONE, 0) : t.ioprio; }

// The higher of two priorities, an unset one counting as best-effort normal (ioprio_best).
int ioprio_best(int a, int b) {
    if (!ioprio_valid(a)) a = ioprio_value(IOPRIO_CLASS_BE, IOPRIO_BE_NORM);
    if (!ioprio_valid(b)) b = ioprio_value(IOPRIO_CLASS_BE, IOPRIO_BE_NORM);
    return std::min(a, b);
}

// The live threads which/who names; who 0 is the caller (its group, its uid).
std::vector<task_struct*> ioprio_targets(SysCtx& c, int which, int32_t who) {
    std::vector<task_struct*> v;
    if (which == IOPRIO_WHO_PROCESS) {
        task_struct* p = who ? c.kernel.find_task_by_vpid(who) : &c.task;
        if (p && !p->exited) v.push_back(p);
        return v;
    }
    const int pgrp = who ? who : c.task.signal->pgrp;
    const uint32_t uid = who ? static_cast<uint32_t>(who) : c.task.cred.uid;
    for (task_struct* t : c.kernel.all_tasks())
        if (!t->exited && (which == IOPRIO_WHO_PGRP ? t->signal->pgrp == pgrp : t->cred.uid == uid)) v.push_back(t);
    return v;
}

}  // namespace

long sys_ioprio_set(SysCtx& c, const uint64_t* a) {
    const int which = static_cast<int32_t>(a[0]);
    const int ioprio = static_cast<int32_t>(a[2]);
    if (long e = ioprio_check_cap(ioprio)) return e;
    if (which < IOPRIO_WHO_PROCESS || which > IOPRIO_WHO_USER) return -EINVAL;
    long ret = -ESRCH;
    for (task_struct* t : ioprio_targets(c, which, static_cast<int32_t>(a[1]))) {
        ret = set_task_ioprio(*t, ioprio);
        if (ret) break;
    }
    return ret;
}

long sys_ioprio_get(SysCtx& c, const uint64_t* a) {
    const int which = static_cast<int32_t>(a[0]);
    if (which < IOPRIO_WHO_PROCESS || which > IOPRIO_WHO_USER) return -EINVAL;
    long ret = -ESRCH;
    for (task_struct* t : ioprio_targets(c, which, static_cast<int32_t>(a[1]))) {
        const int v = get_task_ioprio(*t);
        ret = (ret == -ESRCH || which == IOPRIO_WHO_PROCESS) ? v : ioprio_best(static_cast<int>(ret), v);
    }
    return ret;
}

}  // namespace guestos
