// The dentry cache (include/linux/dcache.h, fs/dcache.c): the names of the tree as a tree of
// dentries, each naming one inode or none (a negative dentry: the name is known not to
// exist). A child holds its parent (d_parent, as Linux's reference), and a parent caches its
// children (d_subdirs, the hash chains); a dentry dropped from the cache lets go of its
// cached children, which live on only while someone (an open file, a working directory)
// holds them.
//
// Each live dentry owns one object of the dentry cache (guestos/mm/slab_object.h) and sits on
// the dentry list, least recently looked up first. A hashed dentry that nothing but its
// parent's cache holds (no user, no cached child, no mount) is unused: what Linux keeps on
// the superblock's dentry LRU (s_dentry_lru). The superblock's shrinker frees unused dentries
// oldest first (prune_dcache_sb), which lets go of their inodes; a tmpfs dentry that names
// something is the file itself and is never unused (Linux pins it with an extra reference).
#pragma once
#include <sys/stat.h>

#include <list>
#include <map>
#include <memory>
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

inline constexpr size_t NAME_MAX_ = 255;
inline constexpr size_t PATH_MAX_ = 4096;

struct dentry : std::enable_shared_from_this<dentry> {
    // Takes its object of the dentry cache (d_alloc's kmem_cache_alloc; unbacked before the
    // slab exists or when it has no memory) and joins the dentry list at its tail.
    dentry();
    // Frees the object (dentry_free) and leaves the list.
    ~dentry();
    dentry(const dentry&) = delete;
    dentry& operator=(const dentry&) = delete;

    std::string d_name;
    std::shared_ptr<dentry> d_parent;  // null for a root
    std::shared_ptr<inode> d_inode;    // null: negative
    super_block* d_sb = nullptr;
    std::map<std::string, std::shared_ptr<dentry>> d_subdirs;  // the children looked up so far
    int d_mounted = 0;                                         // mounts on it (DCACHE_MOUNTED)
    bool d_deleted = false;                                    // unlinked or removed (d_unlinked)

    SlabObject slab;                     // its struct dentry in the dentry cache
    std::list<dentry*>::iterator d_lru;  // its place on the dentry list

    bool is_negative() const { return !d_inode; }
    bool is_root() const { return d_sb && d_sb->s_root.get() == this; }
    // Writes d_parent, d_name, d_iname and d_inode into its object.
    void sync_slab() const;
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

// Whether d is on its superblock's dentry LRU: hashed, and held by nothing but its parent's
// cache (no user, no cached child, no mount), and not a tmpfs name (d_lru_isolate's test).
bool d_unused(const dentry& d);
// sb's unused dentries (list_lru_shrink_count of s_dentry_lru).
uint64_t dcache_count_unused(const super_block& sb);
// Frees up to nr_to_scan of sb's unused dentries, least recently used first: each leaves its
// parent's cache and goes with its object and its hold on its inode (prune_dcache_sb: isolate
// to a dispose list, then shrink_dentry_list). A dentry in use met on the way goes to the end
// of the list and is not counted, as Linux takes it off the LRU until its last user lets go.
// *scanned: the unused dentries of sb looked at. Returns the dentries freed.
uint64_t prune_dcache_sb(super_block& sb, uint64_t nr_to_scan, uint64_t* scanned = nullptr);

// fs.dentry-state's figures (struct dentry_stat_t): every dentry, the unused ones, the
// negative ones; age_limit 45 and want_pages 0 as Linux's.
struct dentry_stat_t {
    unsigned long nr_dentry = 0, nr_unused = 0, age_limit = 45, want_pages = 0, nr_negative = 0, dummy = 0;
};
dentry_stat_t get_dentry_stat();

// Gives every dentry and inode made before the slab existed (the boot mounts) its object, now
// that vfs_caches() is set (as SLUB's bootstrap moves the boot caches' objects).
void vfs_caches_bootstrap();

class ctl_table_root;
// Registers fs.dentry-state, fs.inode-nr and fs.inode-state (read-only, 0444).
void dcache_sysctl_init(ctl_table_root& root);

}  // namespace guestos
