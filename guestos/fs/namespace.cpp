// The mount table (fs/namespace.c) and d_path (fs/d_path.c).
#include "guestos/include/mount.h"

#include <sys/stat.h>

#include "guestos/include/dcache.h"
#include "guestos/include/sched.h"

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
    m->mnt_parent = mountpoint.mnt;
    m->mnt_mountpoint = mountpoint.dentry;
    m->mnt_flags = mnt_flags;
    ++mountpoint.dentry->d_mounted;
    // A later mount on the same place hides the earlier one (it stacks on its root).
    vfsmount* raw = m.get();
    mount_hashtable_[{mountpoint.mnt, mountpoint.dentry.get()}] = raw;
    mounts_.push_back(std::move(m));
    return raw;
}

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
