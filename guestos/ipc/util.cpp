// System V IPC's ids, keys and permissions.
#include "guestos/ipc/util.h"

#include <cerrno>
#include <cstring>

#include "guestos/include/cred.h"
#include "guestos/include/sysctl.h"

namespace guestos {

uint32_t current_euid() { return current_cred().euid; }
uint32_t current_egid() { return current_cred().egid; }

int ipcperms(const kern_ipc_perm& perm, int flag) {
    const int requested = (flag >> 6) | (flag >> 3) | flag;
    int granted = static_cast<int>(perm.mode);
    const uint32_t euid = current_euid();
    if (euid == perm.cuid || euid == perm.uid) granted >>= 6;
    else if (in_group_p(perm.cgid) || in_group_p(perm.gid)) granted >>= 3;
    if ((requested & ~granted & 0007) && !capable(CAP_IPC_OWNER_)) return -1;
    return 0;
}

kern_ipc_perm* ipc_obtain_object_idr(ipc_ids& ids, int idx) {
    auto it = ids.idr.find(idx);
    return it == ids.idr.end() ? nullptr : it->second.get();
}

kern_ipc_perm* ipc_obtain_object_check(ipc_ids& ids, int id) {
    if (id < 0) return nullptr;
    kern_ipc_perm* p = ipc_obtain_object_idr(ids, id % SEQ_MULTIPLIER);
    if (!p || static_cast<unsigned>(id / SEQ_MULTIPLIER) != p->seq) return nullptr;  // ipc_checkid
    return p;
}

kern_ipc_perm* ipc_findkey(ipc_ids& ids, int key) {
    for (auto& [idx, p] : ids.idr)
        if (p->key == key && !p->deleted) return p.get();
    return nullptr;
}

int ipc_addid(ipc_ids& ids, std::shared_ptr<kern_ipc_perm> p, int limit) {
    if (ids.in_use >= limit) return -ENOSPC;
    // Indexes are handed out cyclically; the sequence moves on each time they wrap
    // (ipc_idr_alloc), so a stale id of a reused index fails ipc_checkid.
    int idx = -1;
    for (int i = 1; i <= IPCMNI; ++i) {
        const int cand = (ids.last_idx + i) % IPCMNI;
        if (!ids.idr.count(cand)) {
            idx = cand;
            break;
        }
    }
    if (idx < 0) return -ENOSPC;
    if (idx <= ids.last_idx && ++ids.seq > static_cast<unsigned>(INT32_MAX / SEQ_MULTIPLIER)) ids.seq = 0;
    ids.last_idx = idx;
    p->seq = ids.seq;
    p->id = static_cast<int>(p->seq) * SEQ_MULTIPLIER + idx;
    p->uid = p->cuid = current_euid();
    p->gid = p->cgid = current_egid();
    ids.idr[idx] = std::move(p);
    ++ids.in_use;
    return ids.idr[idx]->id;
}

void ipc_rmid(ipc_ids& ids, kern_ipc_perm& p) {
    p.deleted = true;
    --ids.in_use;
    ids.idr.erase(p.id % SEQ_MULTIPLIER);  // may free p
}

int ipc_get_maxidx(const ipc_ids& ids) { return ids.idr.empty() ? -1 : ids.idr.rbegin()->first; }

kern_ipc_perm* ipcctl_obtain_check(ipc_ids& ids, int id, long& err) {
    kern_ipc_perm* p = ipc_obtain_object_check(ids, id);
    if (!p) {
        err = -EINVAL;
        return nullptr;
    }
    const uint32_t euid = current_euid();
    if (euid == p->cuid || euid == p->uid || capable(CAP_SYS_ADMIN_)) return p;
    err = -EPERM;
    return nullptr;
}

void ipc_update_perm(kern_ipc_perm& p, uint32_t uid, uint32_t gid, unsigned mode) {
    p.uid = uid;
    p.gid = gid;
    p.mode = (p.mode & ~S_IRWXUGO_) | (mode & S_IRWXUGO_);
}

int ipc_parse_version(int& cmd) {
    if (cmd & IPC_64_) {
        cmd ^= IPC_64_;
        return IPC_64_;
    }
    return IPC_OLD_;
}

size_t ipc64_perm_size(bool compat) { return compat ? 36 : 48; }

void put_ipc64_perm(uint8_t* out, const kern_ipc_perm& p, bool compat) {
    std::memset(out, 0, ipc64_perm_size(compat));
    const uint32_t v[5] = {static_cast<uint32_t>(p.key), p.uid, p.gid, p.cuid, p.cgid};
    std::memcpy(out, v, sizeof v);
    if (compat) {
        const uint16_t mode = static_cast<uint16_t>(p.mode);
        std::memcpy(out + 20, &mode, 2);
    } else {
        const uint32_t mode = p.mode;
        std::memcpy(out + 20, &mode, 4);
    }
    const uint16_t seq = static_cast<uint16_t>(p.seq);
    std::memcpy(out + 24, &seq, 2);
}

void get_ipc64_perm_set(const uint8_t* in, uint32_t& uid, uint32_t& gid, unsigned& mode, bool compat) {
    std::memcpy(&uid, in + 4, 4);
    std::memcpy(&gid, in + 8, 4);
    if (compat) {
        uint16_t m;
        std::memcpy(&m, in + 20, 2);
        mode = m;
    } else {
        uint32_t m;
        std::memcpy(&m, in + 20, 4);
        mode = m;
    }
}

namespace {
const int ipc_mni = IPCMNI;

// kernel.sem (proc_ipc_sem_dointvec): SEMMSL, SEMMNS, SEMOPM and SEMMNI; a SEMMNI past
// IPCMNI keeps its old value and is ERANGE (sem_check_semmni).
long proc_ipc_sem_dointvec(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    auto& ns = *static_cast<ipc_namespace*>(table->owner);
    int v[4] = {ns.sc_semmsl, ns.sc_semmns, ns.sc_semopm, ns.sc_semmni};
    ctl_table t = *table;
    t.data = v;
    const long ret = proc_dointvec(&t, write, buffer, lenp, ppos);
    if (ret || !write) return ret;
    ns.sc_semmsl = v[0];
    ns.sc_semmns = v[1];
    ns.sc_semopm = v[2];
    if (v[3] < 0 || v[3] > IPCMNI) return -ERANGE;
    ns.sc_semmni = v[3];
    return 0;
}
}  // namespace

void ipc_sysctl_init(ctl_table_root& root, ipc_namespace& ns) {
    root.register_sysctl(
        "kernel", {
                      {"shmmax", &ns.shm_ctlmax, sizeof(uint64_t), 0644, proc_doulongvec_minmax},
                      {"shmall", &ns.shm_ctlall, sizeof(uint64_t), 0644, proc_doulongvec_minmax},
                      {"shmmni", &ns.shm_ctlmni, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO, &ipc_mni},
                      {"msgmax", &ns.msg_ctlmax, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO, SYSCTL_INT_MAX},
                      {"msgmni", &ns.msg_ctlmni, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO, &ipc_mni},
                      {"msgmnb", &ns.msg_ctlmnb, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO, SYSCTL_INT_MAX},
                      {"sem", nullptr, 4 * sizeof(int), 0644, proc_ipc_sem_dointvec, nullptr, nullptr, &ns},
                  });
}

}  // namespace guestos
