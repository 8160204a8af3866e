// The superblock's shrinker of its dentries and inodes (fs/super.c: alloc_super's s_shrink,
// super_cache_count, super_cache_scan).
#include "guestos/include/dcache.h"
#include "guestos/include/fs.h"

namespace guestos {

namespace {

// Set while one scan runs: an eviction that allocates and reclaims does not scan again, as
// Linux's trylock of s_umount refuses a nested scan.
bool scanning = false;

// Every unused dentry and inode of the filesystem (super_cache_count; vfs_cache_pressure
// 100 leaves the sum as it is).
uint64_t super_cache_count(super_block& sb) {
    const uint64_t total = dcache_count_unused(sb) + icache_count_unused(sb);
    return total ? total : SHRINK_EMPTY;
}

// The batch shared between the dentries and the inodes in proportion to their numbers,
// dentries first, since freeing a dentry may leave its inode unused (super_cache_scan). A
// caller that may not enter the filesystem (no __GFP_FS) or a nested scan stops.
uint64_t super_cache_scan(super_block& sb, shrink_control& sc) {
    if (!(sc.gfp_mask & __GFP_FS) || scanning) return SHRINK_STOP;
    scanning = true;
    const uint64_t dentries = dcache_count_unused(sb), inodes = icache_count_unused(sb);
    const uint64_t total = dentries + inodes + 1;
    uint64_t freed = prune_dcache_sb(sb, sc.nr_to_scan * dentries / total + 1);
    freed += prune_icache_sb(sb, sc.nr_to_scan * inodes / total + 1);
    scanning = false;
    return freed;
}

}  // namespace

super_block::super_block() {
    s_shrink.name = "super_cache";
    s_shrink.count_objects = [this](shrinker&, shrink_control&) { return super_cache_count(*this); };
    s_shrink.scan_objects = [this](shrinker&, shrink_control& sc) { return super_cache_scan(*this, sc); };
    s_shrink.batch = 1024;
    register_shrinker(s_shrink);
}

super_block::~super_block() { unregister_shrinker(s_shrink); }

}  // namespace guestos
