// System V IPC's common part (ipc/util.c): the ids of one kind of object (ipc_ids), their
// keys and permissions (kern_ipc_perm), ipcget's create-or-find rules and ipcperms.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "guestos/include/errno.h"

namespace guestos {

struct SysCtx;

inline constexpr int IPC_PRIVATE_ = 0;
inline constexpr int IPC_CREAT_ = 01000, IPC_EXCL_ = 02000, IPC_NOWAIT_ = 04000;
inline constexpr int IPC_RMID_ = 0, IPC_SET_ = 1, IPC_STAT_ = 2, IPC_INFO_ = 3;
inline constexpr int IPC_64_ = 0x100, IPC_OLD_ = 0;
inline constexpr unsigned S_IRWXUGO_ = 0777, S_IRUGO_ = 0444, S_IWUGO_ = 0222;
// An id is its index plus the allocation's sequence number times this (ipc_buildid).
inline constexpr int IPCMNI_SHIFT = 15, SEQ_MULTIPLIER = 1 << IPCMNI_SHIFT, IPCMNI = 32768;

// The key, owner, creator, mode and id of an object (struct kern_ipc_perm).
struct kern_ipc_perm {
    virtual ~kern_ipc_perm() = default;
    int id = -1;
    int key = 0;
    uint32_t uid = 0, gid = 0, cuid = 0, cgid = 0;
    unsigned mode = 0;
    unsigned seq = 0;
    bool deleted = false;  // removed from its ids (ipc_valid_object fails)
};

// The objects of one kind (struct ipc_ids): by index, with the sequence that makes ids.
struct ipc_ids {
    std::map<int, std::shared_ptr<kern_ipc_perm>> idr;
    int in_use = 0;
    unsigned seq = 0;
    int last_idx = -1;
};

// The kernel's objects (struct ipc_namespace) with their limits (the sysctl defaults).
struct ipc_namespace {
    ipc_ids shm_ids;
    uint64_t shm_ctlmax = ~0ull - (1ull << 24), shm_ctlall = ~0ull - (1ull << 24);
    int shm_ctlmni = 4096;
    uint64_t shm_tot = 0;  // pages of all segments
    ipc_ids msg_ids;
    int msg_ctlmax = 8192, msg_ctlmnb = 16384, msg_ctlmni = 32000;  // MSGMAX, MSGMNB, MSGMNI
    uint64_t msg_bytes = 0, msg_hdrs = 0;                           // in all queues (MSG_INFO)
    ipc_ids sem_ids;
    int sc_semmsl = 32000, sc_semmns = 1024000000, sc_semopm = 500, sc_semmni = 32000;
    uint64_t used_sems = 0;
    // SEM_UNDO adjustments of each process (its sem_undo_list, shared by its threads as
    // CLONE_SYSVSEM shares it): tgid -> semid -> one adjustment per semaphore.
    std::map<int, std::map<int, std::vector<int>>> sem_undo;
    // POSIX message queues (ipc/mqueue.c): the mqueue filesystem's names, its limits (the
    // /proc/sys/fs/mqueue defaults) and the bytes each user's queues charge to its
    // RLIMIT_MSGQUEUE (user_struct.mq_bytes).
    std::map<std::string, std::shared_ptr<struct inode>> mq_names;
    int mq_queues_count = 0, mq_queues_max = 256, mq_msg_max = 10, mq_msgsize_max = 8192, mq_msg_default = 10,
        mq_msgsize_default = 8192;
    std::map<uint32_t, uint64_t> mq_bytes;
    uint64_t mq_next_ino = 1;
};

// The caller's effective ids, as the checks below see them.
uint32_t current_euid();
uint32_t current_egid();
// -1 when the caller may not use the object with the access in flag's low 9 bits (ipcperms).
int ipcperms(const kern_ipc_perm& perm, int flag);
// The object of an id (ipc_obtain_object_check): null for a free index or a stale id.
kern_ipc_perm* ipc_obtain_object_check(ipc_ids& ids, int id);
// The object at an index (ipc_obtain_object_idr, for SHM_STAT and friends).
kern_ipc_perm* ipc_obtain_object_idr(ipc_ids& ids, int idx);
// The live object with this key (ipc_findkey).
kern_ipc_perm* ipc_findkey(ipc_ids& ids, int key);
// Gives the object an index and an id (ipc_addid): its id, or -ENOSPC at the limit.
int ipc_addid(ipc_ids& ids, std::shared_ptr<kern_ipc_perm> p, int limit);
// Removes the object from its ids (ipc_rmid).
void ipc_rmid(ipc_ids& ids, kern_ipc_perm& p);
// The highest index in use, -1 for none (ipc_get_maxidx).
int ipc_get_maxidx(const ipc_ids& ids);
// The checks of IPC_SET and IPC_RMID (ipcctl_obtain_check): the object, or null with err
// set: -EINVAL for no such id, -EPERM for a caller who neither owns nor created it.
kern_ipc_perm* ipcctl_obtain_check(ipc_ids& ids, int id, long& err);
// IPC_SET's changes (ipc_update_perm): owner and the permission bits of mode.
void ipc_update_perm(kern_ipc_perm& p, uint32_t uid, uint32_t gid, unsigned mode);
// Splits IPC_64 off a command of the old entry points (ipc_parse_version).
int ipc_parse_version(int& cmd);

// struct ipc64_perm in the caller's layout (48 bytes on x86-64; 36 as compat_ipc64_perm).
size_t ipc64_perm_size(bool compat);
void put_ipc64_perm(uint8_t* out, const kern_ipc_perm& p, bool compat);
// uid, gid and mode of an IPC_SET buffer (the same offsets in both layouts).
void get_ipc64_perm_set(const uint8_t* in, uint32_t& uid, uint32_t& gid, unsigned& mode, bool compat);

// The calls of i386's ipc() multiplexer for each kind (compat_ksys_ipc's cases): a[] are
// ipc's arguments (call, first, second, third, ptr, fifth).
long ipc_shm(SysCtx& c, unsigned call, int version, const uint64_t* a);
long ipc_msg(SysCtx& c, unsigned call, int version, const uint64_t* a);
long ipc_sem(SysCtx& c, unsigned call, int version, const uint64_t* a);
// /proc/sysvipc/shm, msg and sem (ipc_init_proc_interface's header, then
// sysvipc_*_proc_show for each object in index order), as a 64-bit kernel prints them.
std::string sysvipc_shm_proc_show(ipc_namespace& ns);
std::string sysvipc_msg_proc_show(ipc_namespace& ns);
std::string sysvipc_sem_proc_show(ipc_namespace& ns);

// /proc/sys/fs/mqueue: the POSIX message queues' limits (mq_register_sysctl_table).
class ctl_table_root;
void mq_sysctl_init(ctl_table_root& root, ipc_namespace& ns);
// /proc/sys/kernel's System V IPC limits: shmmax, shmall, shmmni, msgmax, msgmni, msgmnb and
// sem (ipc/ipc_sysctl.c).
void ipc_sysctl_init(ctl_table_root& root, ipc_namespace& ns);

// A process's last thread exits: its SEM_UNDO adjustments are applied (exit_sem).
void exit_sem(ipc_namespace& ns, int tgid);

}  // namespace guestos
