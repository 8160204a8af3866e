// Supplementary groups (kernel/groups.c, kernel/uid16.c): getgroups, setgroups and their
// 16-bit forms, and the membership tests the permission checks use.
#include <algorithm>

#include "guestos/include/cred.h"
#include "guestos/include/errno.h"
#include "guestos/include/sched.h"
#include "guestos/include/syscalls.h"

namespace guestos {

bool groups_search(const std::vector<uint32_t>& groups, uint32_t gid) {
    return std::binary_search(groups.begin(), groups.end(), gid);
}

bool in_group_p(uint32_t gid) {
    const cred& c = current_cred();
    return gid == c.fsgid || groups_search(*c.group_info, gid);
}

bool in_egroup_p(uint32_t gid) {
    const cred& c = current_cred();
    return gid == c.egid || groups_search(*c.group_info, gid);
}

namespace {

// getgroups: the count; with a non-zero size also the list, which must fit (EINVAL).
// Entries are 4 bytes, or 2 for the 16-bit call (wide ids show as 65534).
long do_getgroups(SysCtx& c, uint64_t size_arg, uint64_t list, bool low) {
    const int gidsetsize = static_cast<int32_t>(size_arg);
    if (gidsetsize < 0) return -EINVAL;
    const std::vector<uint32_t>& groups = *c.task.cred.group_info;
    const long n = static_cast<long>(groups.size());
    if (!gidsetsize) return n;
    if (n > gidsetsize) return -EINVAL;
    for (long i = 0; i < n; ++i) {
        const uint32_t v = low ? high2lowuid(groups[i]) : groups[i];
        if (!copy_to_user(c.mm, VirtAddr(list + i * (low ? 2 : 4)), &v, low ? 2 : 4)) return -EFAULT;
    }
    return n;
}

// setgroups: CAP_SETGID, at most NGROUPS_MAX entries, each a valid id; stored sorted.
long do_setgroups(SysCtx& c, uint64_t size_arg, uint64_t list, bool low) {
    const int gidsetsize = static_cast<int32_t>(size_arg);
    if (!capable(CAP_SETGID_)) return -EPERM;
    if (static_cast<unsigned>(gidsetsize) > NGROUPS_MAX_) return -EINVAL;
    std::vector<uint32_t> groups(static_cast<size_t>(gidsetsize));
    for (int i = 0; i < gidsetsize; ++i) {
        uint32_t v = 0;
        if (!copy_from_user(c.mm, &v, VirtAddr(list + i * (low ? 2 : 4)), low ? 2 : 4)) return -EFAULT;
        groups[i] = low ? low2highuid(v) : v;
        if (groups[i] == INVALID_UID_) return -EINVAL;  // !gid_valid
    }
    std::sort(groups.begin(), groups.end());
    cred nw = c.task.cred;
    nw.group_info = std::make_shared<const std::vector<uint32_t>>(std::move(groups));
    return commit_creds(c.task, nw);
}

}  // namespace

long sys_getgroups(SysCtx& c, const uint64_t* a) { return do_getgroups(c, a[0], a[1], false); }
long sys_setgroups(SysCtx& c, const uint64_t* a) { return do_setgroups(c, a[0], a[1], false); }
long sys_getgroups16(SysCtx& c, const uint64_t* a) { return do_getgroups(c, a[0], a[1], true); }
long sys_setgroups16(SysCtx& c, const uint64_t* a) { return do_setgroups(c, a[0], a[1], true); }

}  // namespace guestos
