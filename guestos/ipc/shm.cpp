// System V shared memory (ipc/shm.c): a segment is a shmem inode named "SYSV<key>" whose
// pages are real page-cache pages (Shmem in meminfo); shmat maps it MAP_SHARED through a
// file of its own, so /proc/PID/maps shows "/SYSVkkkkkkkk (deleted)" with the shmid as the
// inode number. A segment's attach count is the number of VMAs that map it (the i_mmap
// tree: Linux counts the same VMAs through shm_open/shm_close), so fork, munmap, exit and
// exec keep it right; a segment removed while attached (SHM_DEST) goes when the count
// reaches 0, seen at the next use of the segments (shm_destroy_orphaned's moment).
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "guestos/include/cred.h"
#include "guestos/include/kernel.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/mman.h"
#include "guestos/ipc/util.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/util.h"

namespace guestos {

namespace {

constexpr int SHM_NORESERVE = 010000;  // shmget: no size commitment (unless overcommit is "never")
constexpr int SHM_RDONLY = 010000, SHM_RND = 020000, SHM_REMAP = 040000, SHM_EXEC = 0100000;
constexpr int SHM_LOCK = 11, SHM_UNLOCK = 12, SHM_STAT = 13, SHM_INFO = 14, SHM_STAT_ANY = 15;
constexpr unsigned SHM_DEST = 01000, SHM_LOCKED = 02000;
constexpr uint64_t SHMMIN = 1, SHMLBA = PAGE_SIZE;

// A segment (struct shmid_kernel).
struct shmid_kernel final : kern_ipc_perm {
    uint64_t shm_segsz = 0;
    int64_t shm_atim = 0, shm_dtim = 0, shm_ctim = 0;
    int shm_cprid = 0, shm_lprid = 0;
    std::shared_ptr<inode> shm_inode;  // the shmem inode: its pages are the segment
    size_t shm_nattch() const { return shm_inode->i_data.i_mmap.size(); }
};

// The file one shmat maps (shm_file_data): the segment's inode, read-only for SHM_RDONLY.
class shm_file final : public inode_file {
public:
    shm_file(std::shared_ptr<inode> ino, unsigned flags) : inode_file(std::move(ino)) { f_flags = flags; }
};

ipc_ids& shm_ids(SysCtx& c) { return c.kernel.ipc_ns().shm_ids; }

int64_t ktime_get_real_seconds() { return static_cast<int64_t>(::time(nullptr)); }

// Frees a segment with no id and no attaches (shm_destroy): its pages go with its inode.
void shm_destroy(ipc_namespace& ns, shmid_kernel& shp) {
    ns.shm_tot -= (shp.shm_segsz + PAGE_SIZE - 1) >> PAGE_SHIFT;
    ipc_rmid(ns.shm_ids, shp);
}

// Segments removed while attached whose last attach has gone are freed now.
void shm_reap_orphans(ipc_namespace& ns) {
    std::vector<shmid_kernel*> dead;
    for (auto& [idx, p] : ns.shm_ids.idr) {
        auto* shp = static_cast<shmid_kernel*>(p.get());
        if ((shp->mode & SHM_DEST) && !shp->shm_nattch()) dead.push_back(shp);
    }
    for (shmid_kernel* shp : dead) shm_destroy(ns, *shp);
}

// The segment of an id (shm_obtain_object_check), or null.
shmid_kernel* shm_obtain_object_check(SysCtx& c, int id) {
    shm_reap_orphans(c.kernel.ipc_ns());
    return static_cast<shmid_kernel*>(ipc_obtain_object_check(shm_ids(c), id));
}

// A new segment (newseg): its id, or -EINVAL for a bad size, -ENOSPC past the limits,
// -ENOMEM when the commit limit refuses its size.
long newseg(SysCtx& c, int key, uint64_t size, int shmflg) {
    ipc_namespace& ns = c.kernel.ipc_ns();
    const uint64_t numpages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    if (size < SHMMIN || size > ns.shm_ctlmax) return -EINVAL;
    if ((numpages << PAGE_SHIFT) < size) return -ENOSPC;
    if (ns.shm_tot + numpages < ns.shm_tot || ns.shm_tot + numpages > ns.shm_ctlall) return -ENOSPC;
    auto shp = std::make_shared<shmid_kernel>();
    shp->key = key;
    shp->mode = static_cast<unsigned>(shmflg) & S_IRWXUGO_;
    char name[32];
    std::snprintf(name, sizeof name, "/SYSV%08x (deleted)", static_cast<unsigned>(key));
    shp->shm_inode = shmem_get_inode(c.kernel.kmem(), S_IFREG | S_IRWXUGO_, 1, name);
    shp->shm_inode->i_size = size;
    shp->shm_inode->i_nlink = 0;
    const bool noreserve = (shmflg & SHM_NORESERVE) && overcommit_allows_noreserve(c.mm);
    if (shmem_acct_size(*shp->shm_inode, noreserve ? static_cast<unsigned long>(VM_NORESERVE) : 0ul)) return -ENOMEM;
    shp->shm_cprid = c.task.tgid;
    shp->shm_ctim = ktime_get_real_seconds();
    shp->shm_segsz = size;
    shmid_kernel* raw = shp.get();
    const int id = ipc_addid(ns.shm_ids, std::move(shp), ns.shm_ctlmni);
    if (id < 0) return id;
    raw->shm_inode->i_ino = static_cast<uint64_t>(id);  // maps shows the shmid as the inode
    ns.shm_tot += numpages;
    return id;
}

// ipcget for segments: a new one for IPC_PRIVATE, else the key's (ipcget_public).
long ksys_shmget(SysCtx& c, int key, uint64_t size, int shmflg) {
    shm_reap_orphans(c.kernel.ipc_ns());
    if (key == IPC_PRIVATE_) return newseg(c, key, size, shmflg);
    auto* shp = static_cast<shmid_kernel*>(ipc_findkey(shm_ids(c), key));
    if (!shp) return (shmflg & IPC_CREAT_) ? newseg(c, key, size, shmflg) : -ENOENT;
    if ((shmflg & IPC_CREAT_) && (shmflg & IPC_EXCL_)) return -EEXIST;
    if (shp->shm_segsz < size) return -EINVAL;  // shm_more_checks
    if (ipcperms(*shp, shmflg)) return -EACCES;
    return shp->id;
}

// shmat's work (do_shmat): the address of the new mapping or -errno.
long do_shmat(SysCtx& c, int shmid, uint64_t addr, int shmflg) {
    if (shmid < 0) return -EINVAL;
    if (addr & (SHMLBA - 1)) {
        if (!(shmflg & SHM_RND)) return -EINVAL;
        addr &= ~(SHMLBA - 1);
        if (!addr && (shmflg & SHM_REMAP)) return -EINVAL;
    }
    unsigned long flags = MAP_SHARED_, prot;
    int acc_mode;
    unsigned f_flags;
    if (addr) flags |= MAP_FIXED_;
    else if (shmflg & SHM_REMAP) return -EINVAL;
    if (shmflg & SHM_RDONLY) {
        prot = PROT_READ_;
        acc_mode = S_IRUGO_;
        f_flags = O_RDONLY_;
    } else {
        prot = PROT_READ_ | PROT_WRITE_;
        acc_mode = S_IRUGO_ | S_IWUGO_;
        f_flags = O_RDWR_;
    }
    if (shmflg & SHM_EXEC) {
        prot |= PROT_EXEC_;
        acc_mode |= 0111;
    }
    shmid_kernel* shp = shm_obtain_object_check(c, shmid);
    if (!shp) return -EINVAL;
    if (ipcperms(*shp, acc_mode)) return -EACCES;
    const uint64_t size = shp->shm_segsz;
    if (addr && !(shmflg & SHM_REMAP) &&
        find_vma_intersection(c.mm, VirtAddr(addr), VirtAddr(addr + mmu::page_align_up(size))))
        return -EINVAL;
    auto f = std::make_shared<shm_file>(shp->shm_inode, f_flags);
    if (!f->slab.alloc(c.kernel.caches() ? c.kernel.caches()->filp_cachep : nullptr)) return -ENOMEM;
    const long r = do_mmap(c.mm, std::move(f), addr, size, prot, flags, 0);
    if (r < 0) return r;
    shp->shm_atim = ktime_get_real_seconds();  // shm_open
    shp->shm_lprid = c.task.tgid;
    return r;
}

bool is_shm_vma(const vm_area_struct& v) { return dynamic_cast<const shm_file*>(v.vm_file.get()) != nullptr; }

// Records a detach on the segment whose inode the VMA maps (shm_close's times).
void shm_close(SysCtx& c, const vm_area_struct& v) {
    for (auto& [idx, p] : shm_ids(c).idr) {
        auto* shp = static_cast<shmid_kernel*>(p.get());
        if (shp->shm_inode == v.vm_file->f_inode) {
            shp->shm_dtim = ktime_get_real_seconds();
            shp->shm_lprid = c.task.tgid;
        }
    }
}

// shmdt (ksys_shmdt): unmaps the segment attached at addr, and its fragments that mprotect
// or munmap split off; -EINVAL when nothing of a segment starts there.
long ksys_shmdt(SysCtx& c, uint64_t addr) {
    if (addr & (PAGE_SIZE - 1)) return -EINVAL;
    vm_area_struct* vma = find_vma(c.mm, VirtAddr(addr));
    long retval = -EINVAL;
    std::shared_ptr<file> f;
    uint64_t size = 0;
    auto is_fragment = [&](const vm_area_struct& v) {
        return is_shm_vma(v) && v.vm_start.value >= addr && (v.vm_start.value - addr) / PAGE_SIZE == v.vm_pgoff;
    };
    while (vma) {
        vm_area_struct* next = vma->vm_next;
        if (is_fragment(*vma)) {
            f = vma->vm_file;
            size = f->f_inode->i_size;
            shm_close(c, *vma);
            do_munmap(c.mm, vma->vm_start.value, vma->vm_end.value - vma->vm_start.value);
            retval = 0;
            vma = next;
            break;
        }
        vma = next;
    }
    size = mmu::page_align_up(size);
    while (vma && vma->vm_end.value - addr <= size) {
        vm_area_struct* next = vma->vm_next;
        if (is_fragment(*vma) && vma->vm_file->f_inode == f->f_inode)
            do_munmap(c.mm, vma->vm_start.value, vma->vm_end.value - vma->vm_start.value);
        vma = next;
    }
    shm_reap_orphans(c.kernel.ipc_ns());
    return retval;
}

// struct shmid64_ds in the caller's layout (112 bytes on x86-64, 84 as compat_shmid64_ds).
std::vector<uint8_t> shmid64_ds_bytes(const shmid_kernel& shp, bool compat) {
    const size_t ps = compat ? 4 : 8, perm = ipc64_perm_size(compat);
    std::vector<uint8_t> out(compat ? 84 : 112, 0);
    put_ipc64_perm(out.data(), shp, compat);
    auto put = [&](size_t off, uint64_t v, size_t n) { std::memcpy(out.data() + off, &v, n); };
    put(perm, shp.shm_segsz, ps);
    if (compat) {  // times as low and high halves
        put(perm + 4, static_cast<uint64_t>(shp.shm_atim), 4),
            put(perm + 8, static_cast<uint64_t>(shp.shm_atim) >> 32, 4);
        put(perm + 12, static_cast<uint64_t>(shp.shm_dtim), 4),
            put(perm + 16, static_cast<uint64_t>(shp.shm_dtim) >> 32, 4);
        put(perm + 20, static_cast<uint64_t>(shp.shm_ctim), 4),
            put(perm + 24, static_cast<uint64_t>(shp.shm_ctim) >> 32, 4);
        put(perm + 28, static_cast<uint32_t>(shp.shm_cprid), 4),
            put(perm + 32, static_cast<uint32_t>(shp.shm_lprid), 4);
        put(perm + 36, shp.shm_nattch(), 4);
    } else {
        put(perm + 8, static_cast<uint64_t>(shp.shm_atim), 8), put(perm + 16, static_cast<uint64_t>(shp.shm_dtim), 8);
        put(perm + 24, static_cast<uint64_t>(shp.shm_ctim), 8);
        put(perm + 32, static_cast<uint32_t>(shp.shm_cprid), 4),
            put(perm + 36, static_cast<uint32_t>(shp.shm_lprid), 4);
        put(perm + 40, shp.shm_nattch(), 8);
    }
    return out;
}

// IPC_STAT, SHM_STAT and SHM_STAT_ANY (shmctl_stat): 0, or the id for the SHM_ ones.
long shmctl_stat(SysCtx& c, int shmid, int cmd, uint64_t buf) {
    shmid_kernel* shp;
    if (cmd == SHM_STAT || cmd == SHM_STAT_ANY) {
        shm_reap_orphans(c.kernel.ipc_ns());
        shp = static_cast<shmid_kernel*>(ipc_obtain_object_idr(shm_ids(c), shmid));
    } else {
        shp = shm_obtain_object_check(c, shmid);
    }
    if (!shp) return -EINVAL;
    if (cmd != SHM_STAT_ANY && ipcperms(*shp, S_IRUGO_)) return -EACCES;
    const auto bytes = shmid64_ds_bytes(*shp, c.compat);
    if (!copy_to_user(c.mm, VirtAddr(buf), bytes.data(), bytes.size())) return -EFAULT;
    return cmd == IPC_STAT_ ? 0 : shp->id;
}

// IPC_INFO (struct shminfo64) and SHM_INFO (struct shm_info): the highest index in use.
long shmctl_info(SysCtx& c, int cmd, uint64_t buf) {
    ipc_namespace& ns = c.kernel.ipc_ns();
    shm_reap_orphans(ns);
    const size_t ps = c.compat ? 4 : 8;
    std::vector<uint8_t> out;
    auto put = [&](uint64_t v, size_t n) {
        const size_t at = out.size();
        out.resize(at + n);
        std::memcpy(out.data() + at, &v, n);
    };
    if (cmd == IPC_INFO_) {
        uint64_t shmmax = ns.shm_ctlmax;
        if (c.compat && shmmax > INT_MAX) shmmax = INT_MAX;
        for (uint64_t v : {shmmax, SHMMIN, uint64_t(ns.shm_ctlmni), uint64_t(ns.shm_ctlmni), ns.shm_ctlall, uint64_t(0),
                           uint64_t(0), uint64_t(0), uint64_t(0)})
            put(v, ps);
    } else {
        uint64_t rss = 0;
        for (auto& [idx, p] : ns.shm_ids.idr) rss += static_cast<shmid_kernel*>(p.get())->shm_inode->i_data.nrpages();
        put(static_cast<uint64_t>(ns.shm_ids.in_use), ps);  // an int, padded to a long on x86-64
        for (uint64_t v : {ns.shm_tot, rss, uint64_t(0), uint64_t(0), uint64_t(0)}) put(v, ps);
    }
    if (!copy_to_user(c.mm, VirtAddr(buf), out.data(), out.size())) return -EFAULT;
    const int max = ipc_get_maxidx(ns.shm_ids);
    return max < 0 ? 0 : max;
}

// IPC_RMID and IPC_SET (shmctl_down).
long shmctl_down(SysCtx& c, int shmid, int cmd, uint64_t buf) {
    uint32_t uid = 0, gid = 0;
    unsigned mode = 0;
    if (cmd == IPC_SET_) {
        uint8_t raw[112];
        if (!copy_from_user(c.mm, raw, VirtAddr(buf), c.compat ? 84 : 112)) return -EFAULT;
        get_ipc64_perm_set(raw, uid, gid, mode, c.compat);
    }
    shm_reap_orphans(c.kernel.ipc_ns());
    long err = 0;
    auto* shp = static_cast<shmid_kernel*>(ipcctl_obtain_check(shm_ids(c), shmid, err));
    if (!shp) return err;
    if (cmd == IPC_SET_) {
        if (static_cast<int32_t>(uid) == -1 || static_cast<int32_t>(gid) == -1) return -EINVAL;  // !uid_valid
        ipc_update_perm(*shp, uid, gid, mode);
        shp->shm_ctim = ktime_get_real_seconds();
        return 0;
    }
    // do_shm_rmid: an attached segment lives on, keyless, until its last detach.
    if (shp->shm_nattch()) {
        shp->mode |= SHM_DEST;
        shp->key = IPC_PRIVATE_;
        return 0;
    }
    shm_destroy(c.kernel.ipc_ns(), *shp);
    return 0;
}

// SHM_LOCK and SHM_UNLOCK (shmctl_do_lock): the owner, creator or CAP_IPC_LOCK may; only
// the flag is kept (shmem pages here are never swapped while attached anyway).
long shmctl_do_lock(SysCtx& c, int shmid, int cmd) {
    shmid_kernel* shp = shm_obtain_object_check(c, shmid);
    if (!shp) return -EINVAL;
    if (!capable(CAP_IPC_LOCK_)) {
        const uint32_t euid = current_euid();
        if (euid != shp->uid && euid != shp->cuid) return -EPERM;
        if (cmd == SHM_LOCK && !c.task.signal->rlim[RLIMIT_MEMLOCK_].rlim_cur) return -EPERM;
    }
    if (cmd == SHM_LOCK) shp->mode |= SHM_LOCKED;
    else shp->mode &= ~SHM_LOCKED;
    return 0;
}

long ksys_shmctl(SysCtx& c, int shmid, int cmd, uint64_t buf, int version) {
    if (cmd < 0 || shmid < 0) return -EINVAL;
    if (version != IPC_64_) {
        // The old (pre-IPC_64) layouts: only the commands without a buffer.
        if (cmd != IPC_RMID_ && cmd != SHM_LOCK && cmd != SHM_UNLOCK) return -EINVAL;
    }
    switch (cmd) {
    case IPC_INFO_:
    case SHM_INFO: return shmctl_info(c, cmd, buf);
    case SHM_STAT:
    case SHM_STAT_ANY:
    case IPC_STAT_: return shmctl_stat(c, shmid, cmd, buf);
    case IPC_SET_:
    case IPC_RMID_: return shmctl_down(c, shmid, cmd, buf);
    case SHM_LOCK:
    case SHM_UNLOCK: return shmctl_do_lock(c, shmid, cmd);
    default: return -EINVAL;
    }
}

}  // namespace

long sys_shmget(SysCtx& c, const uint64_t* a) {
    // i386 passes the size as an unsigned 32-bit value; x86-64's is a size_t.
    return ksys_shmget(c, static_cast<int32_t>(a[0]), a[1], static_cast<int32_t>(a[2]));
}

long sys_shmat(SysCtx& c, const uint64_t* a) {
    return do_shmat(c, static_cast<int32_t>(a[0]), a[1], static_cast<int32_t>(a[2]));
}

long sys_shmdt(SysCtx& c, const uint64_t* a) { return ksys_shmdt(c, a[0]); }

long sys_shmctl(SysCtx& c, const uint64_t* a) {
    return ksys_shmctl(c, static_cast<int32_t>(a[0]), static_cast<int32_t>(a[1]), a[2], IPC_64_);
}

// The shm calls of i386's ipc() multiplexer (compat_ksys_ipc).
long ipc_shm(SysCtx& c, unsigned call, int version, const uint64_t* a) {
    constexpr unsigned SHMAT = 21, SHMDT = 22, SHMGET = 23, SHMCTL = 24;
    const int first = static_cast<int32_t>(a[1]);
    switch (call) {
    case SHMAT: {
        if (version == 1) return -EINVAL;  // iBCS2's variant
        const long r = do_shmat(c, first, a[4], static_cast<int32_t>(a[2]));
        if (r < 0) return r;
        return put_user_long(c, VirtAddr(a[3]), static_cast<uint64_t>(r)) ? 0 : -EFAULT;
    }
    case SHMDT: return ksys_shmdt(c, a[4]);
    case SHMGET: return ksys_shmget(c, first, static_cast<uint32_t>(a[2]), static_cast<int32_t>(a[3]));
    case SHMCTL: {
        int cmd = static_cast<int32_t>(a[2]);
        const int v = ipc_parse_version(cmd);
        return ksys_shmctl(c, first, cmd, a[4], v);
    }
    default: return -ENOSYS;
    }
}

std::string sysvipc_shm_proc_show(ipc_namespace& ns) {
    std::string out =
        "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid"
        "      atime      dtime      ctime                   rss                  swap\n";
    for (const auto& [idx, perm] : ns.shm_ids.idr) {
        const auto& shp = static_cast<const shmid_kernel&>(*perm);
        char line[256];
        // shm_add_rss_swap: the segment's cached pages (shmem pages of a segment are not swapped here).
        std::snprintf(
            line, sizeof line, "%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u %10llu %10llu %10llu %21lu %21lu\n",
            shp.key, shp.id, shp.mode, (unsigned long)shp.shm_segsz, (unsigned)shp.shm_cprid, (unsigned)shp.shm_lprid,
            (unsigned long)shp.shm_nattch(), shp.uid, shp.gid, shp.cuid, shp.cgid, (unsigned long long)shp.shm_atim,
            (unsigned long long)shp.shm_dtim, (unsigned long long)shp.shm_ctim,
            (unsigned long)(shp.shm_inode->i_data.nrpages() * PAGE_SIZE), 0ul);
        out += line;
    }
    return out;
}

}  // namespace guestos
