// The dentry cache (include/linux/dcache.h, fs/dcache.c): the names of the tree as a tree of
// dentries, each naming one inode or none (a negative dentry: the name is known not to
// exist). A child holds its parent (d_parent, as Linux's reference), and a parent caches its
// children (d_subdirs, the hash chains); a dentry dropped from the cache lets go of its
// cached children, which live on only while someone (an open file, a working directory)
// holds them.
#pragma once
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

inline constexpr size_t NAME_MAX_ = 255;
inline constexpr size_t PATH_MAX_ = 4096;

struct dentry : std::enable_shared_from_this<dentry> {
    std::string d_name;
    std::shared_ptr<dentry> d_parent;  // null for a root
    std::shared_ptr<inode> d_inode;    // null: negative
    super_block* d_sb = nullptr;
    std::map<std::string, std::shared_ptr<dentry>> d_subdirs;  // the children looked up so far
    int d_mounted = 0;                                         // mounts on it (DCACHE_MOUNTED)
    bool d_deleted = false;                                    // unlinked or removed (d_unlinked)

    bool is_negative() const { return !d_inode; }
    bool is_root() const { return d_sb && d_sb->s_root.get() == this; }
};

// A new root dentry for a filesystem's root inode (d_make_root).
std::shared_ptr<dentry> d_make_root(super_block& sb, std::shared_ptr<inode> root);
// The cached child called name, or null (d_lookup).
std::shared_ptr<dentry> d_lookup(dentry& parent, const std::string& name);
// A new child, negative until instantiated, hashed under its parent (d_alloc + d_add).
std::shared_ptr<dentry> d_alloc(dentry& parent, const std::string& name);
// Makes d name ino (d_instantiate).
void d_instantiate(dentry& d, std::shared_ptr<inode> ino);
// Takes d out of the cache with its cached descendants: it stays valid for whoever holds
// it (d_drop + shrink_dcache_parent).
void d_drop(dentry& d);
// The name is gone (d_delete after unlink/rmdir): d leaves the tree, its parent keeps a
// fresh negative dentry in its place, and the inode stays with d's holders.
void d_delete(dentry& d);
// Moves d to newparent under newname, dropping what was there (d_move).
void d_move(dentry& d, dentry& newparent, const std::string& newname);
// Swaps two dentries' places (d_exchange).
void d_exchange(dentry& a, dentry& b);
// Whether d is a descendant of (or is) ancestor (is_subdir).
bool is_subdir(const dentry* d, const dentry* ancestor);
// Forgets the whole cached tree under root (umount's shrink_dcache_for_umount).
void dcache_teardown(dentry& root);
// The path of d from its filesystem's root, "/" for the root (dentry_path_raw).
std::string dentry_path_raw(const dentry& d);

}  // namespace guestos
