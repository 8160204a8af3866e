// Task credentials (kernel/cred.c) and the id-changing syscalls (kernel/sys.c: setuid,
// setreuid, setresuid, setfsuid and their gid twins, getresuid, kernel/uid16.c's 16-bit
// forms). Each syscall checks as Linux does, in Linux's order, on a copy of the caller's
// cred (prepare_creds), and installs it only when every check passed (commit_creds).
#include "guestos/include/cred.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "guestos/include/errno.h"
#include "guestos/include/sched.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {

// The highest capability number the host kernel knows (/proc/sys/kernel/cap_last_cap).
int cap_last_cap() {
    static const int last = [] {
        int v = 40;  // CAP_CHECKPOINT_RESTORE, Linux 5.9 on
        if (FILE* f = std::fopen("/proc/sys/kernel/cap_last_cap", "r")) {
            if (std::fscanf(f, "%d", &v) != 1 || v < 0 || v > 63) v = 40;
            std::fclose(f);
        }
        return v;
    }();
    return last;
}

// emu's own identity: ids, groups, and capability sets as the host gives them.
cred host_cred() {
    cred c;
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    c.uid = r, c.euid = e, c.suid = s;
    c.gid = gr, c.egid = ge, c.sgid = gs;
    c.fsuid = static_cast<uint32_t>(::syscall(SYS_setfsuid, -1));  // -1 only reads it
    c.fsgid = static_cast<uint32_t>(::syscall(SYS_setfsgid, -1));
    std::vector<uint32_t> groups(static_cast<size_t>(std::max(0, ::getgroups(0, nullptr))));
    const int n = ::getgroups(static_cast<int>(groups.size()), reinterpret_cast<gid_t*>(groups.data()));
    groups.resize(static_cast<size_t>(std::max(0, n)));
    std::sort(groups.begin(), groups.end());
    c.group_info = std::make_shared<const std::vector<uint32_t>>(std::move(groups));
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) == 0) {
        auto join = [](uint32_t lo, uint32_t hi) {
            return static_cast<uint64_t>(lo) | (static_cast<uint64_t>(hi) << 32);
        };
        c.cap_effective = join(data[0].effective, data[1].effective);
        c.cap_permitted = join(data[0].permitted, data[1].permitted);
        c.cap_inheritable = join(data[0].inheritable, data[1].inheritable);
    }
    for (int cap = 0; cap <= cap_last_cap(); ++cap) {
        if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) c.cap_bset |= 1ull << cap;
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) c.cap_ambient |= 1ull << cap;
    }
    const int sb = ::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    c.securebits = sb > 0 ? static_cast<unsigned>(sb) : 0;
    return c;
}

bool issecure(const cred& c, int bit) { return (c.securebits >> bit) & 1; }

// The fs-related capabilities that follow fsuid 0 (CAP_FS_SET): chown, dac_*, fowner,
// fsetid, mknod, linux_immutable and mac_override.
constexpr kernel_cap_t CAP_FS_SET = (1ull << CAP_CHOWN_) | (1ull << CAP_MKNOD_) | (1ull << CAP_DAC_OVERRIDE_) |
                                    (1ull << CAP_DAC_READ_SEARCH_) | (1ull << CAP_FOWNER_) | (1ull << CAP_FSETID_) |
                                    (1ull << CAP_LINUX_IMMUTABLE_) | (1ull << CAP_MAC_OVERRIDE_);

// Capabilities follow a change of [res]uid (cap_emulate_setxuid): leaving uid 0 entirely
// drops them (unless SECURE_KEEP_CAPS keeps the permitted set), a non-zero euid has no
// effective ones, and returning to euid 0 raises the effective set to the permitted one.
void cap_emulate_setxuid(cred& nw, const cred& old) {
    const bool was_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
    const bool is_root = nw.uid == 0 || nw.euid == 0 || nw.suid == 0;
    if (was_root && !is_root) {
        if (!issecure(old, SECURE_KEEP_CAPS_)) nw.cap_permitted = nw.cap_effective = 0;
        nw.cap_ambient = 0;
    }
    if (old.euid == 0 && nw.euid != 0) nw.cap_effective = 0;
    if (old.euid != 0 && nw.euid == 0) nw.cap_effective = nw.cap_permitted;
}

// security_task_fix_setuid (cap_task_fix_setuid) for setuid, setreuid and setresuid.
void fix_setuid(cred& nw, const cred& old) {
    if (!issecure(old, SECURE_NO_SETUID_FIXUP_)) cap_emulate_setxuid(nw, old);
}

// The same for setfsuid: the fs capabilities go with fsuid 0 and come back with it.
void fix_setfsuid(cred& nw, const cred& old) {
    if (issecure(old, SECURE_NO_SETUID_FIXUP_)) return;
    if (old.fsuid == 0 && nw.fsuid != 0) nw.cap_effective &= ~CAP_FS_SET;
    if (old.fsuid != 0 && nw.fsuid == 0) nw.cap_effective |= nw.cap_permitted & CAP_FS_SET;
}

uint32_t id_arg(uint64_t a) { return static_cast<uint32_t>(a); }

long do_setuid(SysCtx& c, uint32_t uid) {
    if (uid == INVALID_UID_) return -EINVAL;
    const cred& old = c.task.cred;
    cred nw = old;
    if (capable(CAP_SETUID_)) {
        nw.suid = nw.uid = uid;
    } else if (uid != old.uid && uid != old.suid) {
        return -EPERM;
    }
    nw.fsuid = nw.euid = uid;
    fix_setuid(nw, old);
    return commit_creds(c.task, nw);
}

long do_setgid(SysCtx& c, uint32_t gid) {
    if (gid == INVALID_UID_) return -EINVAL;
    const cred& old = c.task.cred;
    cred nw = old;
    if (capable(CAP_SETGID_)) nw.gid = nw.egid = nw.sgid = nw.fsgid = gid;
    else if (gid == old.gid || gid == old.sgid) nw.egid = nw.fsgid = gid;
    else return -EPERM;
    return commit_creds(c.task, nw);
}

// setreuid (BSD style): the real id may become the effective one or back; saved follows
// the new effective id when the real one is set or the effective one leaves the real one.
long do_setreuid(SysCtx& c, uint32_t ruid, uint32_t euid) {
    const cred& old = c.task.cred;
    cred nw = old;
    if (ruid != INVALID_UID_) {
        nw.uid = ruid;
        if (old.uid != ruid && old.euid != ruid && !capable(CAP_SETUID_)) return -EPERM;
    }
    if (euid != INVALID_UID_) {
        nw.euid = euid;
        if (old.uid != euid && old.euid != euid && old.suid != euid && !capable(CAP_SETUID_)) return -EPERM;
    }
    if (ruid != INVALID_UID_ || (euid != INVALID_UID_ && euid != old.uid)) nw.suid = nw.euid;
    nw.fsuid = nw.euid;
    fix_setuid(nw, old);
    return commit_creds(c.task, nw);
}

long do_setregid(SysCtx& c, uint32_t rgid, uint32_t egid) {
    const cred& old = c.task.cred;
    cred nw = old;
    if (rgid != INVALID_UID_) {
        if (old.gid == rgid || old.egid == rgid || capable(CAP_SETGID_)) nw.gid = rgid;
        else return -EPERM;
    }
    if (egid != INVALID_UID_) {
        if (old.gid == egid || old.egid == egid || old.sgid == egid || capable(CAP_SETGID_)) nw.egid = egid;
        else return -EPERM;
    }
    if (rgid != INVALID_UID_ || (egid != INVALID_UID_ && egid != old.gid)) nw.sgid = nw.egid;
    nw.fsgid = nw.egid;
    return commit_creds(c.task, nw);
}

// Whether id is a new one for setres[ug]id: set, and none of the three current ones.
bool id_new(uint32_t id, uint32_t a, uint32_t b, uint32_t c) {
    return id != INVALID_UID_ && id != a && id != b && id != c;
}

long do_setresuid(SysCtx& c, uint32_t ruid, uint32_t euid, uint32_t suid) {
    const cred& old = c.task.cred;
    if ((ruid == INVALID_UID_ || ruid == old.uid) &&
        (euid == INVALID_UID_ || (euid == old.euid && euid == old.fsuid)) && (suid == INVALID_UID_ || suid == old.suid))
        return 0;  // nothing changes
    if ((id_new(ruid, old.uid, old.euid, old.suid) || id_new(euid, old.uid, old.euid, old.suid) ||
         id_new(suid, old.uid, old.euid, old.suid)) &&
        !capable(CAP_SETUID_))
        return -EPERM;
    cred nw = old;
    if (ruid != INVALID_UID_) nw.uid = ruid;
    if (euid != INVALID_UID_) nw.euid = euid;
    if (suid != INVALID_UID_) nw.suid = suid;
    nw.fsuid = nw.euid;
    fix_setuid(nw, old);
    return commit_creds(c.task, nw);
}

long do_setresgid(SysCtx& c, uint32_t rgid, uint32_t egid, uint32_t sgid) {
    const cred& old = c.task.cred;
    if ((rgid == INVALID_UID_ || rgid == old.gid) &&
        (egid == INVALID_UID_ || (egid == old.egid && egid == old.fsgid)) && (sgid == INVALID_UID_ || sgid == old.sgid))
        return 0;
    if ((id_new(rgid, old.gid, old.egid, old.sgid) || id_new(egid, old.gid, old.egid, old.sgid) ||
         id_new(sgid, old.gid, old.egid, old.sgid)) &&
        !capable(CAP_SETGID_))
        return -EPERM;
    cred nw = old;
    if (rgid != INVALID_UID_) nw.gid = rgid;
    if (egid != INVALID_UID_) nw.egid = egid;
    if (sgid != INVALID_UID_) nw.sgid = sgid;
    nw.fsgid = nw.egid;
    return commit_creds(c.task, nw);
}

// setfsuid answers the old fsuid whatever happens; it changes only to one of the caller's
// ids, or to any with CAP_SETUID.
long do_setfsuid(SysCtx& c, uint32_t uid) {
    const cred& old = c.task.cred;
    const long old_fsuid = old.fsuid;
    if (uid == INVALID_UID_) return old_fsuid;
    if ((uid == old.uid || uid == old.euid || uid == old.suid || uid == old.fsuid || capable(CAP_SETUID_)) &&
        uid != old.fsuid) {
        cred nw = old;
        nw.fsuid = uid;
        fix_setfsuid(nw, old);
        commit_creds(c.task, nw);
    }
    return old_fsuid;
}

long do_setfsgid(SysCtx& c, uint32_t gid) {
    const cred& old = c.task.cred;
    const long old_fsgid = old.fsgid;
    if (gid == INVALID_UID_) return old_fsgid;
    if ((gid == old.gid || gid == old.egid || gid == old.sgid || gid == old.fsgid || capable(CAP_SETGID_)) &&
        gid != old.fsgid) {
        cred nw = old;
        nw.fsgid = gid;
        commit_creds(c.task, nw);
    }
    return old_fsgid;
}

// getresuid/getresgid: three ids to three user words (4 bytes, or 2 for the 16-bit calls),
// stopping at the first that faults.
long put_res_ids(SysCtx& c, const uint64_t* a, const uint32_t (&ids)[3], bool low) {
    for (int i = 0; i < 3; ++i) {
        const uint32_t v = low ? high2lowuid(ids[i]) : ids[i];
        if (!copy_to_user(c.mm, VirtAddr(a[i]), &v, low ? 2 : 4)) return -EFAULT;
    }
    return 0;
}

}  // namespace

long commit_creds(task_struct& t, const cred& nw) {
    const cred& old = t.cred;
    if (old.euid != nw.euid || old.egid != nw.egid || old.fsuid != nw.fsuid || old.fsgid != nw.fsgid ||
        (nw.cap_permitted & ~old.cap_permitted))
        t.signal->dumpable = 0;
    t.cred = nw;
    return 0;
}

const cred& init_cred() {
    static const cred c = host_cred();
    return c;
}

const cred& current_cred() {
    const task_struct* t = get_current();
    return t ? t->cred : init_cred();
}

kernel_cap_t cap_valid_mask() { return cap_last_cap() >= 63 ? ~0ull : (1ull << (cap_last_cap() + 1)) - 1; }

// For a program without file capabilities or set-id bits: root (real or effective) gets
// pP' = bset | pI, everyone keeps the ambient set; pE' is pP' for euid 0, else pA'.
void cap_bprm_creds_from_file(cred& c) {
    kernel_cap_t permitted = 0;
    bool effective = false;
    if (!issecure(c, SECURE_NOROOT_)) {
        if (c.euid == 0 || c.uid == 0) permitted = c.cap_bset | c.cap_inheritable;
        if (c.euid == 0) effective = true;
    }
    c.suid = c.fsuid = c.euid;
    c.sgid = c.fsgid = c.egid;
    c.cap_permitted = permitted | c.cap_ambient;
    c.cap_effective = effective ? c.cap_permitted : c.cap_ambient;
    c.securebits &= ~(1u << SECURE_KEEP_CAPS_);
}

long sys_getuid(SysCtx& c, const uint64_t*) { return c.task.cred.uid; }
long sys_geteuid(SysCtx& c, const uint64_t*) { return c.task.cred.euid; }
long sys_getgid(SysCtx& c, const uint64_t*) { return c.task.cred.gid; }
long sys_getegid(SysCtx& c, const uint64_t*) { return c.task.cred.egid; }
long sys_getuid16(SysCtx& c, const uint64_t*) { return high2lowuid(c.task.cred.uid); }
long sys_geteuid16(SysCtx& c, const uint64_t*) { return high2lowuid(c.task.cred.euid); }
long sys_getgid16(SysCtx& c, const uint64_t*) { return high2lowuid(c.task.cred.gid); }
long sys_getegid16(SysCtx& c, const uint64_t*) { return high2lowuid(c.task.cred.egid); }

long sys_setuid(SysCtx& c, const uint64_t* a) { return do_setuid(c, id_arg(a[0])); }
long sys_setgid(SysCtx& c, const uint64_t* a) { return do_setgid(c, id_arg(a[0])); }
long sys_setreuid(SysCtx& c, const uint64_t* a) { return do_setreuid(c, id_arg(a[0]), id_arg(a[1])); }
long sys_setregid(SysCtx& c, const uint64_t* a) { return do_setregid(c, id_arg(a[0]), id_arg(a[1])); }
long sys_setresuid(SysCtx& c, const uint64_t* a) { return do_setresuid(c, id_arg(a[0]), id_arg(a[1]), id_arg(a[2])); }
long sys_setresgid(SysCtx& c, const uint64_t* a) { return do_setresgid(c, id_arg(a[0]), id_arg(a[1]), id_arg(a[2])); }
long sys_setfsuid(SysCtx& c, const uint64_t* a) { return do_setfsuid(c, id_arg(a[0])); }
long sys_setfsgid(SysCtx& c, const uint64_t* a) { return do_setfsgid(c, id_arg(a[0])); }
long sys_getresuid(SysCtx& c, const uint64_t* a) {
    const cred& cr = c.task.cred;
    return put_res_ids(c, a, {cr.uid, cr.euid, cr.suid}, false);
}
long sys_getresgid(SysCtx& c, const uint64_t* a) {
    const cred& cr = c.task.cred;
    return put_res_ids(c, a, {cr.gid, cr.egid, cr.sgid}, false);
}

// kernel/uid16.c: the i386 calls with 16-bit ids.
long sys_setuid16(SysCtx& c, const uint64_t* a) { return do_setuid(c, low2highuid(a[0])); }
long sys_setgid16(SysCtx& c, const uint64_t* a) { return do_setgid(c, low2highuid(a[0])); }
long sys_setreuid16(SysCtx& c, const uint64_t* a) { return do_setreuid(c, low2highuid(a[0]), low2highuid(a[1])); }
long sys_setregid16(SysCtx& c, const uint64_t* a) { return do_setregid(c, low2highuid(a[0]), low2highuid(a[1])); }
long sys_setresuid16(SysCtx& c, const uint64_t* a) {
    return do_setresuid(c, low2highuid(a[0]), low2highuid(a[1]), low2highuid(a[2]));
}
long sys_setresgid16(SysCtx& c, const uint64_t* a) {
    return do_setresgid(c, low2highuid(a[0]), low2highuid(a[1]), low2highuid(a[2]));
}
long sys_setfsuid16(SysCtx& c, const uint64_t* a) { return do_setfsuid(c, low2highuid(a[0])); }
long sys_setfsgid16(SysCtx& c, const uint64_t* a) { return do_setfsgid(c, low2highuid(a[0])); }
long sys_getresuid16(SysCtx& c, const uint64_t* a) {
    const cred& cr = c.task.cred;
    return put_res_ids(c, a, {cr.uid, cr.euid, cr.suid}, true);
}
long sys_getresgid16(SysCtx& c, const uint64_t* a) {
    const cred& cr = c.task.cred;
    return put_res_ids(c, a, {cr.gid, cr.egid, cr.sgid}, true);
}

}  // namespace guestos
