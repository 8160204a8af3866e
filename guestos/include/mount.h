// Mounts (fs/mount.h, fs/namespace.c): each vfsmount puts a super_block's tree at a dentry of
// its parent mount; the namespace owns them all and finds the mount on a dentry
// (lookup_mnt).
#pragma once
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "guestos/include/dcache.h"

namespace guestos {

struct vfsmount {
    std::shared_ptr<super_block> mnt_sb;
    std::shared_ptr<dentry> mnt_root;
    vfsmount* mnt_parent = nullptr;          // itself for the namespace's root
    std::shared_ptr<dentry> mnt_mountpoint;  // in mnt_parent
    unsigned mnt_flags = 0;                  // MNT_READONLY, MNT_NOSUID, ...
    int mnt_id = 0;                          // /proc/PID/mountinfo's first column (mnt_alloc_id)
    std::string mnt_devname = "none";        // what was mounted, /proc/mounts' first column
    bool mnt_expiry_mark = false;            // MNT_EXPIRE asked once and nothing used it since
};

// Whether writes through this mount are refused with EROFS (__mnt_is_readonly).
inline bool mnt_is_readonly(const vfsmount& m) {
    return (m.mnt_flags & MNT_READONLY) || (m.mnt_sb->s_flags & SB_RDONLY);
}

class mnt_namespace {
public:
    // Makes sb's root the namespace's root (init_mount_tree).
    vfsmount* mount_root(std::shared_ptr<super_block> sb, unsigned mnt_flags, std::string devname = "none");
    // Mounts sb on mountpoint, which must be a directory (do_add_mount + attach_mnt).
    vfsmount* do_add_mount(std::shared_ptr<super_block> sb, const path& mountpoint, unsigned mnt_flags,
                           std::string devname = "none");
    // The mount whose mountpoint is p, or null (lookup_mnt).
    vfsmount* lookup_mnt(const path& p) const;
    vfsmount* root() const { return root_; }
    const std::vector<std::unique_ptr<vfsmount>>& mounts() const { return mounts_; }
    // A copy of old's mount whose root is root, for a bind mount (clone_mnt): same
    // superblock and flags, not yet attached.
    std::unique_ptr<vfsmount> clone_mnt(const vfsmount& old, std::shared_ptr<dentry> root);
    // Attaches a mount made by clone_mnt or for a new superblock at mountpoint (attach_mnt).
    vfsmount* attach_mnt(std::unique_ptr<vfsmount> m, const path& mountpoint);
    // The mounts attached to m (its mnt_mounts), in mount order.
    std::vector<vfsmount*> children(const vfsmount& m) const;
    // Whether m is in the table (check_mnt).
    bool check_mnt(const vfsmount* m) const;
    // Takes m and its children out of the tree (umount_tree): they stay valid for whoever
    // still holds a path on them (MNT_DETACH); a superblock no other mount shows is synced,
    // put and its dentries dropped once nothing at all could still reach it (!lazy).
    void umount_tree(vfsmount* m, bool lazy);
    // A new anonymous device number for a superblock without a device (get_anon_bdev).
    uint64_t get_anon_bdev();
    // Writes back every filesystem's dirty pages (sync), the teardown's first step.
    void sync_all();
    // Writes back and unmounts every filesystem's state (sync + put_super of each), the
    // last writes before emu exits; the tree stays readable.
    void umount_all();
    // Drops every dentry and mount (the kernel's teardown).
    void clear();

private:
    vfsmount* root_ = nullptr;
    int next_mnt_id_ = 1;
    unsigned next_anon_minor_ = 0x30;
    std::vector<std::unique_ptr<vfsmount>> mounts_;
    std::vector<std::unique_ptr<vfsmount>> detached_;  // unmounted, kept for paths still on them
    std::map<std::pair<const vfsmount*, const dentry*>, vfsmount*> mount_hashtable_;
};

// The absolute path of p as the calling task's root sees it (d_path); " (deleted)"
// follows a removed file's name. A path outside that root (after chroot) is given from
// the namespace's root.
std::string d_path(const path& p);
// The same from a given root (prepend_path; the namespace's for null): unreachable says
// whether p lies outside it, so that getcwd can say "(unreachable)".
std::string d_path_from(const path& p, const path* root, bool* unreachable);

}  // namespace guestos
