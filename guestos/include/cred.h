// Credentials (include/linux/cred.h): each task carries its own ids, supplementary groups
// and capability sets. The first task starts with emu's own identity (root if emu runs as
// root, else the user's ids, with the host process's capabilities: a root in a container
// may lack some, and then Linux refuses what needs them, so emu refuses the same); fork
// copies them, the set*id calls and capset change them, exec recomputes them.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace guestos {

// Capability numbers (uapi/linux/capability.h).
inline constexpr int CAP_CHOWN_ = 0, CAP_DAC_OVERRIDE_ = 1, CAP_DAC_READ_SEARCH_ = 2, CAP_FOWNER_ = 3, CAP_FSETID_ = 4,
                     CAP_KILL_ = 5, CAP_SETGID_ = 6, CAP_SETUID_ = 7, CAP_SETPCAP_ = 8, CAP_LINUX_IMMUTABLE_ = 9,
                     CAP_IPC_LOCK_ = 14, CAP_IPC_OWNER_ = 15, CAP_SYS_CHROOT_ = 18, CAP_SYS_PTRACE_ = 19,
                     CAP_SYS_ADMIN_ = 21, CAP_SYS_BOOT_ = 22, CAP_SYS_NICE_ = 23, CAP_SYS_RESOURCE_ = 24,
                     CAP_MKNOD_ = 27, CAP_SETFCAP_ = 31, CAP_MAC_OVERRIDE_ = 32, CAP_SYSLOG_ = 34, CAP_WAKE_ALARM_ = 35;
// capget/capset header versions (uapi/linux/capability.h).
inline constexpr uint32_t LINUX_CAPABILITY_VERSION_1_ = 0x19980330, LINUX_CAPABILITY_VERSION_2_ = 0x20071026,
                          LINUX_CAPABILITY_VERSION_3_ = 0x20080522;
// securebits (uapi/linux/securebits.h): bit numbers; each has a _LOCKED bit one above.
inline constexpr int SECURE_NOROOT_ = 0, SECURE_NO_SETUID_FIXUP_ = 2, SECURE_KEEP_CAPS_ = 4,
                     SECURE_NO_CAP_AMBIENT_RAISE_ = 6;
inline constexpr uint32_t NGROUPS_MAX_ = 65536;
inline constexpr uint32_t INVALID_UID_ = 0xffffffffu;  // (uid_t)-1: "unchanged", never an id
inline constexpr uint32_t OVERFLOWUID_ = 65534;        // what a 16-bit call shows for a wide id

using kernel_cap_t = uint64_t;

// A task's credentials (struct cred). group_info is sorted (groups_sort) and shared
// between copies until a setgroups replaces it.
struct cred {
    uint32_t uid = 0, gid = 0, suid = 0, sgid = 0, euid = 0, egid = 0, fsuid = 0, fsgid = 0;
    unsigned securebits = 0;
    kernel_cap_t cap_inheritable = 0, cap_permitted = 0, cap_effective = 0, cap_bset = 0, cap_ambient = 0;
    std::shared_ptr<const std::vector<uint32_t>> group_info = std::make_shared<const std::vector<uint32_t>>();
};

// The credentials emu itself runs with (init_cred for the first task and for work done
// outside any task's syscall).
const cred& init_cred();
// The calling task's credentials (current_cred()), or init_cred() outside a syscall.
const cred& current_cred();
// Every capability this kernel knows (CAP_VALID_MASK: 0 .. cap_last_cap).
kernel_cap_t cap_valid_mask();

// capable(): whether the calling task holds the capability in its effective set.
bool capable(int cap);
// Whether gid is the caller's fsgid or one of its supplementary groups (in_group_p).
bool in_group_p(uint32_t gid);
// Whether gid is the caller's egid or one of its supplementary groups (in_egroup_p).
bool in_egroup_p(uint32_t gid);
// Whether gid is in the sorted group list (groups_search).
bool groups_search(const std::vector<uint32_t>& groups, uint32_t gid);

struct task_struct;
// Installs new credentials on t (commit_creds): a change of euid, egid, fsuid or fsgid, or a
// gain of permitted capabilities, makes the process non-dumpable as a set-id program is
// (suid_dumpable 0). Returns 0.
long commit_creds(task_struct& t, const cred& nw);

// The capability sets a new program starts with, and saved/fs ids set to the effective
// ones (cap_bprm_creds_from_file for a file without capabilities or set-id bits).
void cap_bprm_creds_from_file(cred& c);

struct SysCtx;
// prctl's capability options (cap_task_prctl): PR_CAPBSET_READ/DROP, PR_GET/SET_KEEPCAPS,
// PR_GET/SET_SECUREBITS, PR_CAP_AMBIENT; -ENOSYS for any other option.
long cap_task_prctl(SysCtx& c, int option, const uint64_t* a);

// The 16-bit ids of the old i386 calls (linux/highuid.h): a wide id shows as 65534, and
// 0xffff means (uid_t)-1.
inline uint32_t high2lowuid(uint32_t id) { return id & ~0xffffu ? OVERFLOWUID_ : id; }
inline uint32_t low2highuid(uint64_t id) {
    return (id & 0xffff) == 0xffff ? INVALID_UID_ : static_cast<uint32_t>(id & 0xffff);
}

}  // namespace guestos
