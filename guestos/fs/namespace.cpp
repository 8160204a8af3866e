// The mount table (fs/namespace.c) and d_path (fs/d_path.c).
#include "guestos/include/mount.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "guestos/fs/pathfs.h"
#include "guestos/include/cred.h"
#include "guestos/include/dcache.h"
#include "guestos/include/kernel.h"
#include "guestos/include/namei.h"
#include "guestos/include/sched.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/mount.h"
#include "guestos/mm/shmem.h"

namespace guestos {

vfsmount* mnt_namespace::mount_root(std::shared_ptr<super_block> sb, unsigned mnt_flags, std::string devname) {
    auto m = std::make_unique<vfsmount>();
    m->mnt_id = next_mnt_id_++;
    m->mnt_devname = std::move(devname);
    m->mnt_root = sb->s_root;
    m->mnt_sb = std::move(sb);
    m->mnt_parent = m.get();
    m->mnt_flags = mnt_flags;
    root_ = m.get();
    mounts_.push_back(std::move(m));
    return root_;
}

vfsmount* mnt_namespace::do_add_mount(std::shared_ptr<super_block> sb, const path& mountpoint, unsigned mnt_flags,
                                      std::string devname) {
    auto m = std::make_unique<vfsmount>();
    m->mnt_id = next_mnt_id_++;
    m->mnt_devname = std::move(devname);
    m->mnt_root = sb->s_root;
    m->mnt_sb = std::move(sb);
    m->mnt_flags = mnt_flags;
    // A later mount on the same place hides the earlier one (it stacks on its root).
    return attach_mnt(std::move(m), mountpoint);
}

std::unique_ptr<vfsmount> mnt_namespace::clone_mnt(const vfsmount& old, std::shared_ptr<dentry> root) {
    auto m = std::make_unique<vfsmount>();
    m->mnt_id = next_mnt_id_++;
    m->mnt_devname = old.mnt_devname;
    m->mnt_root = std::move(root);
    m->mnt_sb = old.mnt_sb;
    m->mnt_flags = old.mnt_flags;
    return m;
}

vfsmount* mnt_namespace::attach_mnt(std::unique_ptr<vfsmount> m, const path& mountpoint) {
    m->mnt_parent = mountpoint.mnt;
    m->mnt_mountpoint = mountpoint.dentry;
    ++mountpoint.dentry->d_mounted;
    vfsmount* raw = m.get();
    mount_hashtable_[{mountpoint.mnt, mountpoint.dentry.get()}] = raw;
    mounts_.push_back(std::move(m));
    return raw;
}

std::vector<vfsmount*> mnt_namespace::children(const vfsmount& m) const {
    std::vector<vfsmount*> out;
    for (const auto& c : mounts_)
        if (c->mnt_parent == &m && c.get() != &m) out.push_back(c.get());
    return out;
}

bool mnt_namespace::check_mnt(const vfsmount* m) const {
    return std::any_of(mounts_.begin(), mounts_.end(), [m](const auto& x) { return x.get() == m; });
}

void mnt_namespace::umount_tree(vfsmount* m, bool lazy) {
    for (vfsmount* child : children(*m)) umount_tree(child, lazy);
    const std::pair<const vfsmount*, const dentry*> key{m->mnt_parent, m->mnt_mountpoint.get()};
    if (auto it = mount_hashtable_.find(key); it != mount_hashtable_.end() && it->second == m)
        mount_hashtable_.erase(it);
    --m->mnt_mountpoint->d_mounted;
    auto it = std::find_if(mounts_.begin(), mounts_.end(), [m](const auto& x) { return x.get() == m; });
    std::unique_ptr<vfsmount> gone = std::move(*it);
    mounts_.erase(it);
    const bool shown_elsewhere =
        std::any_of(mounts_.begin(), mounts_.end(), [&](const auto& x) { return x->mnt_sb == gone->mnt_sb; });
    if (!shown_elsewhere) {  // deactivate_super: the last mount of its superblock went
        gone->mnt_sb->sync_fs();
        gone->mnt_sb->put_super();
        if (!lazy && gone->mnt_sb->s_root) dcache_teardown(*gone->mnt_sb->s_root);  // kill_litter_super
    }
    detached_.push_back(std::move(gone));
}

uint64_t mnt_namespace::get_anon_bdev() { return makedev(0, next_anon_minor_++); }

vfsmount* mnt_namespace::lookup_mnt(const path& p) const {
    auto it = mount_hashtable_.find({p.mnt, p.dentry.get()});
    return it == mount_hashtable_.end() ? nullptr : it->second;
}

void mnt_namespace::sync_all() {
    for (auto& m : mounts_) m->mnt_sb->sync_fs();
}

void mnt_namespace::umount_all() {
    sync_all();
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) (*it)->mnt_sb->put_super();
}

void mnt_namespace::clear() {
    umount_all();
    mount_hashtable_.clear();
    // Children before parents: a mount's root may be another's mountpoint.
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
        (*it)->mnt_mountpoint.reset();
        (*it)->mnt_root.reset();
    }
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
        if (auto& sb = (*it)->mnt_sb; sb && sb->s_root) {
            dcache_teardown(*sb->s_root);
            sb->s_root.reset();
        }
    }
    mounts_.clear();
    for (auto& m : detached_) {
        m->mnt_mountpoint.reset();
        m->mnt_root.reset();
    }
    detached_.clear();
    root_ = nullptr;
}

std::string d_path_from(const path& p, const path* root, bool* unreachable) {
    if (!p) return "";
    std::string out;
    const vfsmount* m = p.mnt;
    const dentry* d = p.dentry.get();
    bool reached = !root;
    for (;;) {
        if (root && m == root->mnt && d == root->dentry.get()) {  // the caller's root is "/"
            reached = true;
            break;
        }
        if (d == m->mnt_root.get() || !d->d_parent) {  // at a mount's root: cross to its mountpoint
            if (m->mnt_parent == m || d != m->mnt_root.get()) break;
            d = m->mnt_mountpoint.get();
            m = m->mnt_parent;
            continue;
        }
        out = "/" + d->d_name + out;
        d = d->d_parent.get();
    }
    if (unreachable) *unreachable = !reached;
    if (out.empty()) out = "/";
    if (p.dentry->d_deleted) out += " (deleted)";
    return out;
}

std::string d_path(const path& p) {
    const task_struct* t = get_current();
    return d_path_from(p, t && t->fs && t->fs->root ? &t->fs->root : nullptr, nullptr);
}

}  // namespace guestos

// ---- mount(2) and umount2(2) (fs/namespace.c: path_mount, path_umount) ----

namespace guestos {

namespace {

// A mount string argument (copy_mount_string): absent for a null pointer.
long copy_mount_string(SysCtx& c, uint64_t uptr, std::optional<std::string>& out) {
    if (!uptr) return 0;
    std::string s;
    if (long e = getname(c, uptr, s, true)) return e;
    out = std::move(s);
    return 0;
}

// A number with an optional k/m/g suffix (memparse); false for anything else.
bool memparse(const std::string& v, uint64_t& out, bool& percent) {
    char* end = nullptr;
    errno = 0;
    out = std::strtoull(v.c_str(), &end, 0);
    if (end == v.c_str() || errno) return false;
    percent = false;
    switch (*end) {
    case 'g':
    case 'G': out <<= 10; [[fallthrough]];
    case 'm':
    case 'M': out <<= 10; [[fallthrough]];
    case 'k':
    case 'K':
        out <<= 10;
        ++end;
        break;
    case '%':
        percent = true;
        ++end;
        break;
    default: break;
    }
    return *end == '\0';
}

// tmpfs's options (shmem_parse_one): size=, nr_inodes=, mode=, uid=, gid=; EINVAL for others.
long shmem_parse_options(SysCtx& c, const std::string& data, shmem_options& opt, uint32_t& uid, uint32_t& gid) {
    constexpr uint64_t PAGE = 4096;
    size_t pos = 0;
    while (pos <= data.size() && !data.empty()) {
        const size_t comma = data.find(',', pos);
        const std::string item = data.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? data.size() + 1 : comma + 1;
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        const std::string key = item.substr(0, eq), val = eq == std::string::npos ? "" : item.substr(eq + 1);
        uint64_t n = 0;
        bool percent = false;
        if (key == "size" && memparse(val, n, percent)) {
            const uint64_t ram = c.kernel.buddy() ? c.kernel.buddy()->totalram_pages() : 0;
            opt.max_blocks = percent ? ram * n / 100 : (n + PAGE - 1) / PAGE;
        } else if (key == "nr_inodes" && memparse(val, n, percent) && !percent) {
            opt.max_inodes = n;
        } else if (key == "mode" && !val.empty() && val.find_first_not_of("01234567") == std::string::npos) {
            opt.mode = static_cast<uint32_t>(std::strtoul(val.c_str(), nullptr, 8)) & 07777;
        } else if ((key == "uid" || key == "gid") && !val.empty() &&
                   val.find_first_not_of("0123456789") == std::string::npos) {
            (key == "uid" ? uid : gid) = static_cast<uint32_t>(std::strtoul(val.c_str(), nullptr, 10));
        } else {
            return -EINVAL;  // "tmpfs: Unknown parameter" or a bad value
        }
    }
    return 0;
}

// The superblock a new mount of fstype shows (get_fs_type + vfs_get_tree): ENODEV for a type
// emu lacks, EINVAL for options it refuses.
long vfs_get_tree(SysCtx& c, const std::string& fstype, const std::string& data, std::shared_ptr<super_block>& sb) {
    mnt_namespace& ns = c.kernel.mnt_ns();
    if (fstype == "tmpfs") {
        shmem_options opt;
        uint32_t uid = 0, gid = 0;
        if (long e = shmem_parse_options(c, data, opt, uid, gid)) return e;
        Kernel& k = c.kernel;
        sb = shmem_fill_super([&k] { return k.kmem(); }, ns.get_anon_bdev(), opt);
        sb->s_root->d_inode->i_uid = uid;
        sb->s_root->d_inode->i_gid = gid;
        return 0;
    }
    if (fstype == "proc") {
        if (!data.empty()) return -EINVAL;  // hidepid= and subset= are not modelled
        sb = pathfs_fill_super(proc_path_ops(), "proc", 0x9fa0, ns.get_anon_bdev(), true, false, &c.task);
        return 0;
    }
    return -ENODEV;
}

// The MNT_* flags of mount's MS_* flags (path_mount's translation).
unsigned mnt_flags_of(uint64_t flags, const vfsmount& at) {
    unsigned f = 0;
    if (!(flags & MS_NOATIME_)) f |= MNT_RELATIME;  // relatime unless told otherwise
    if (flags & MS_NOSUID_) f |= MNT_NOSUID;
    if (flags & MS_NODEV_) f |= MNT_NODEV;
    if (flags & MS_NOEXEC_) f |= MNT_NOEXEC;
    if (flags & MS_NOATIME_) f |= MNT_NOATIME;
    if (flags & MS_NODIRATIME_) f |= MNT_NODIRATIME;
    if (flags & MS_STRICTATIME_) f &= ~(MNT_RELATIME | MNT_NOATIME);
    if (flags & MS_RDONLY_) f |= MNT_READONLY;
    constexpr unsigned MNT_ATIME_MASK = MNT_NOATIME | MNT_NODIRATIME | MNT_RELATIME;
    // A remount that names no atime flag keeps the mount's.
    if ((flags & MS_REMOUNT_) && !(flags & (MS_NOATIME_ | MS_NODIRATIME_ | MS_RELATIME_ | MS_STRICTATIME_)))
        f = (f & ~MNT_ATIME_MASK) | (at.mnt_flags & MNT_ATIME_MASK);
    return f;
}

// Whether two places are both directories or both not (graft_tree's ENOTDIR check).
bool same_dirness(const dentry& a, const dentry& b) { return S_ISDIR(a.d_inode->i_mode) == S_ISDIR(b.d_inode->i_mode); }

long do_new_mount(SysCtx& c, const path& p, const std::optional<std::string>& fstype, unsigned sb_flags,
                  unsigned mnt_flags, const std::optional<std::string>& name, const std::string& data) {
    if (!fstype) return -EINVAL;
    std::shared_ptr<super_block> sb;
    if (long e = vfs_get_tree(c, *fstype, data, sb)) return e;
    sb->s_flags |= sb_flags & SB_RDONLY;
    if (!same_dirness(*p.dentry, *sb->s_root)) return -ENOTDIR;
    c.kernel.mnt_ns().do_add_mount(sb, p, mnt_flags, name ? *name : "none");
    return 0;
}

// A copy of old's child mounts under the bind's root onto the copy (copy_tree's loop).
void copy_tree(mnt_namespace& ns, const vfsmount& old, const dentry& root, vfsmount& copy) {
    for (vfsmount* child : ns.children(old)) {
        if (!is_subdir(child->mnt_mountpoint.get(), &root)) continue;
        vfsmount* c = ns.attach_mnt(ns.clone_mnt(*child, child->mnt_root), {&copy, child->mnt_mountpoint});
        copy_tree(ns, *child, *child->mnt_root, *c);
    }
}

// MS_BIND (do_loopback): old_name's place shown again at p, with its submounts for MS_REC.
long do_loopback(SysCtx& c, const path& p, const std::optional<std::string>& old_name, bool recurse) {
    if (!old_name || old_name->empty()) return -EINVAL;
    path old;
    if (long e = filename_lookup(c, AT_FDCWD_, *old_name, LOOKUP_FOLLOW, old)) return e;
    mnt_namespace& ns = c.kernel.mnt_ns();
    if (!ns.check_mnt(p.mnt) || !ns.check_mnt(old.mnt)) return -EINVAL;
    if (!same_dirness(*p.dentry, *old.dentry)) return -ENOTDIR;
    vfsmount* m = ns.attach_mnt(ns.clone_mnt(*old.mnt, old.dentry), p);
    if (recurse) copy_tree(ns, *old.mnt, *old.dentry, *m);
    return 0;
}

// Whether a file or place of some task is on m (what keeps mnt_count above its floor).
bool mnt_in_use(SysCtx& c, const vfsmount* m) {
    for (task_struct* t : c.kernel.all_tasks()) {
        if (t->fs && (t->fs->root.mnt == m || t->fs->pwd.mnt == m)) return true;
        if (t->files)
            for (const auto& f : t->files->fd)
                if (f && f->f_path.mnt == m) return true;
        if (t->mm)
            for (const vm_area_struct& v : t->mm->mm_rb)
                if (v.vm_file && v.vm_file->f_path.mnt == m) return true;
    }
    return false;
}

// Whether a file open for writing is on a mount of sb (sb_prepare_remount_readonly's check).
bool sb_has_writers(SysCtx& c, const super_block* sb) {
    for (task_struct* t : c.kernel.all_tasks())
        if (t->files)
            for (const auto& f : t->files->fd)
                if (f && f->f_path && f->f_path.mnt->mnt_sb.get() == sb && (f->f_flags & O_ACCMODE_) != O_RDONLY_ &&
                    f->f_inode && S_ISREG(f->f_inode->i_mode))
                    return true;
    return false;
}

// MS_REMOUNT (do_remount): the superblock's read-only state and the mount's flags; with
// MS_BIND only the mount's (do_reconfigure_mnt).
long do_remount(SysCtx& c, const path& p, uint64_t flags, unsigned sb_flags, unsigned mnt_flags,
                const std::string& data) {
    if (!c.kernel.mnt_ns().check_mnt(p.mnt)) return -EINVAL;
    if (p.dentry != p.mnt->mnt_root) return -EINVAL;
    if (!(flags & MS_BIND_)) {
        super_block& sb = *p.mnt->mnt_sb;
        if (sb.s_type == "tmpfs") {
            shmem_options opt;
            uint32_t uid = 0, gid = 0;
            if (long e = shmem_parse_options(c, data, opt, uid, gid)) return e;
        }
        const bool to_ro = sb_flags & SB_RDONLY;
        if (to_ro && !(sb.s_flags & SB_RDONLY) && sb_has_writers(c, &sb)) return -EBUSY;
        if (to_ro) sb.sync_fs();
        sb.s_flags = to_ro ? (sb.s_flags | SB_RDONLY) : (sb.s_flags & ~SB_RDONLY);
    }
    if ((mnt_flags & MNT_READONLY) && !(p.mnt->mnt_flags & MNT_READONLY) && sb_has_writers(c, p.mnt->mnt_sb.get()))
        return -EBUSY;
    p.mnt->mnt_flags = mnt_flags;
    return 0;
}

long path_mount(SysCtx& c, const std::optional<std::string>& dev_name, const path& p,
                const std::optional<std::string>& type, uint64_t flags, const std::string& data) {
    if ((flags & MS_MGC_MSK_) == MS_MGC_VAL_) flags &= ~MS_MGC_MSK_;
    if (flags & MS_NOUSER_) return -EINVAL;
    if (!capable(CAP_SYS_ADMIN_)) return -EPERM;  // may_mount
    const unsigned mnt_flags = mnt_flags_of(flags, *p.mnt);
    const unsigned sb_flags = (flags & MS_RDONLY_) ? SB_RDONLY : 0;
    if (flags & MS_REMOUNT_) return do_remount(c, p, flags, sb_flags, mnt_flags, data);
    if (flags & MS_BIND_) return do_loopback(c, p, dev_name, flags & MS_REC_);
    if (flags & (MS_SHARED_ | MS_PRIVATE_ | MS_SLAVE_ | MS_UNBINDABLE_)) {  // do_change_type
        if (p.dentry != p.mnt->mnt_root) return -EINVAL;
        const uint64_t type_bits = flags & (MS_SHARED_ | MS_PRIVATE_ | MS_SLAVE_ | MS_UNBINDABLE_);
        if (type_bits & (type_bits - 1)) return -EINVAL;  // more than one propagation type
        // Every mount here is private (no peer groups), which is also what a slave of none is.
        return (type_bits & (MS_PRIVATE_ | MS_SLAVE_)) ? 0 : -EINVAL;
    }
    if (flags & MS_MOVE_) return -EINVAL;  // not modelled
    return do_new_mount(c, p, type, sb_flags, mnt_flags, dev_name, data);
}

}  // namespace

long sys_mount(SysCtx& c, const uint64_t* a) {
    std::optional<std::string> type, dev;
    if (long e = copy_mount_string(c, a[2], type)) return e;
    if (long e = copy_mount_string(c, a[0], dev)) return e;
    std::optional<std::string> data;
    if (long e = copy_mount_string(c, a[4], data)) return e;  // copy_mount_options, as a string
    path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[1], LOOKUP_FOLLOW, p)) return e;
    return path_mount(c, dev, p, type, a[3], data.value_or(""));
}

long sys_umount2(SysCtx& c, const uint64_t* a) {
    const int flags = static_cast<int32_t>(a[1]);
    if (flags & ~(MNT_FORCE_ | MNT_DETACH_ | MNT_EXPIRE_ | UMOUNT_NOFOLLOW_)) return -EINVAL;
    path p;
    if (long e = user_path_at(c, AT_FDCWD_, a[0], (flags & UMOUNT_NOFOLLOW_) ? 0 : LOOKUP_FOLLOW, p)) return e;
    mnt_namespace& ns = c.kernel.mnt_ns();
    // can_umount
    if (!capable(CAP_SYS_ADMIN_)) return -EPERM;
    if (p.dentry != p.mnt->mnt_root) return -EINVAL;
    if (!ns.check_mnt(p.mnt)) return -EINVAL;
    // do_umount
    vfsmount* m = p.mnt;
    if (flags & MNT_EXPIRE_) {
        if (m == c.task.fs->root.mnt || (flags & (MNT_FORCE_ | MNT_DETACH_))) return -EINVAL;
        if (!m->mnt_expiry_mark) {
            m->mnt_expiry_mark = true;
            return -EAGAIN;
        }
    }
    if (m == c.task.fs->root.mnt && !(flags & MNT_DETACH_)) {  // "unmounting" / remounts it read-only
        m->mnt_sb->sync_fs();
        m->mnt_sb->s_flags |= SB_RDONLY;
        return 0;
    }
    p = {};  // the lookup's own reference is not a use
    if (flags & MNT_DETACH_) {
        ns.umount_tree(m, true);
        return 0;
    }
    if (!ns.children(*m).empty() || mnt_in_use(c, m)) return -EBUSY;
    ns.umount_tree(m, false);
    return 0;
}

// umount(2), i386's oldumount: umount2 without flags.
long sys_oldumount(SysCtx& c, const uint64_t* a) {
    const uint64_t args[2] = {a[0], 0};
    return sys_umount2(c, args);
}

}  // namespace guestos
