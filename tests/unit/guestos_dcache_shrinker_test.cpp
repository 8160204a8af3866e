// The dcache and icache shrinker (fs/dcache.c prune_dcache_sb, fs/inode.c prune_icache_sb,
// fs/super.c super_cache_count/super_cache_scan): every dentry and inode is an object of its
// Linux cache; the unused ones are freed least recently used first, those in use never; an
// inode goes only once no dentry and no user holds it and nothing of it is dirty; tmpfs names
// stay; drop_slab and shrink_slab reach the shrinker, and the /proc/sys/fs counts follow.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>

#include "guestos/include/dcache.h"
#include "guestos/include/fs.h"
#include "guestos/include/writeback.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/shrinker.h"
#include "guestos/mm/slab_object.h"
#include "guestos/mm/slub.h"
#include "tests/unit/guestos_test_util.h"

namespace guestos {
namespace {

// RAM, SLUB and the kernel's object caches, set as the VFS's: dentries and inodes made while
// it lives take their objects from it.
struct Machine {
    std::unique_ptr<mmu::PhysMemory> ram;
    std::unique_ptr<BuddyAllocator> buddy;
    std::unique_ptr<SlabAllocator> slab;
    std::unique_ptr<KernelCaches> caches;
    Machine() {
        ram = mmu::PhysMemory::create(16 * MiB).release_value();
        buddy = std::make_unique<BuddyAllocator>(*ram);
        slab = std::make_unique<SlabAllocator>(*buddy);
        caches = KernelCaches::create(*slab).release_value();
        set_vfs_caches(caches.get());
    }
    uint64_t active(const ObjectCache* c) const { return slab->get_slabinfo(*c->cachep()).active_objs; }
};

// A filesystem that keeps its inodes in its own cache after their last dentry, as ext2's
// icache does, and gives back those nothing else holds and nothing of which is dirty.
struct CachingSb final : super_block {
    std::map<uint64_t, std::shared_ptr<inode>> icache;
    std::shared_ptr<inode> iget(uint64_t ino, uint32_t mode = S_IFREG | 0644) {
        if (auto it = icache.find(ino); it != icache.end()) {
            inode_lru_touch(*it->second);
            return it->second;
        }
        auto i = std::make_shared<inode>();
        i->i_ino = ino;
        i->i_mode = mode;
        i->i_sb = this;
        icache[ino] = i;
        return i;
    }
    bool inode_unused(inode& i) override {
        auto it = icache.find(i.i_ino);
        return it != icache.end() && it->second.get() == &i && it->second.use_count() == 1 && !inode_has_dirty_state(i);
    }
    std::shared_ptr<inode> isolate_unused_inode(inode& i) override {
        auto it = icache.find(i.i_ino);
        std::shared_ptr<inode> out = std::move(it->second);
        icache.erase(it);
        return out;
    }
};

class DcacheShrinkerTest : public ::testing::Test {
protected:
    void SetUp() override {
        sb = std::make_shared<CachingSb>();
        sb->s_root = d_make_root(*sb, sb->iget(1, S_IFDIR | 0755));
        dentries0 = m.active(m.caches->dentry_cachep);
        inodes0 = m.active(m.caches->inode_cachep);
    }
    void TearDown() override { dcache_teardown(*sb->s_root); }
    dentry& root() { return *sb->s_root; }
    // dir/name naming inode ino, held by nothing but the dcache once the caller lets go.
    std::shared_ptr<dentry> name(dentry& dir, const std::string& n, uint64_t ino, uint32_t mode = S_IFREG | 0644) {
        auto d = d_alloc(dir, n);
        d_instantiate(*d, sb->iget(ino, mode));
        return d;
    }
    bool cached(const dentry& dir, const std::string& n) const { return dir.d_subdirs.count(n) != 0; }
    uint64_t dentries() const { return m.active(m.caches->dentry_cachep) - dentries0; }
    uint64_t inodes() const { return m.active(m.caches->inode_cachep) - inodes0; }

    Machine m;
    std::shared_ptr<CachingSb> sb;
    uint64_t dentries0 = 0, inodes0 = 0;
};

TEST_F(DcacheShrinkerTest, DentriesAndInodesAreObjectsOfTheirCaches) {
    auto f = name(root(), "file", 2);
    EXPECT_EQ(dentries(), 1u);
    EXPECT_EQ(inodes(), 1u);
    ASSERT_TRUE(f->slab.backed());
    EXPECT_STREQ(f->slab.cache()->layout().name, "dentry");
    EXPECT_STREQ(f->d_inode->slab.cache()->layout().name, "inode_cache");
    // The image: d_parent, d_inode and the inline name, at Linux's offsets.
    EXPECT_EQ(f->slab.get(DentryField::d_parent), root().slab.kernel_address());
    EXPECT_EQ(f->slab.get(DentryField::d_inode), f->d_inode->slab.kernel_address());
    EXPECT_EQ(f->slab.cache()->slot(static_cast<unsigned>(DentryField::d_iname)).offset, 56u);
    EXPECT_EQ(f->d_inode->slab.get(InodeField::i_ino), 2u);
    EXPECT_EQ(f->d_inode->slab.get(InodeField::i_mode), S_IFREG | 0644u);
    // A tmpfs inode is an object of shmem_inode_cache.
    auto tmpfs = shmem_fill_super([] { return kernel_mem{}; }, 77, {});
    EXPECT_STREQ(tmpfs->s_root->d_inode->slab.cache()->layout().name, "shmem_inode_cache");
    dcache_teardown(*tmpfs->s_root);
}

TEST_F(DcacheShrinkerTest, UnusedDentriesGoLeastRecentlyUsedFirst) {
    name(root(), "a", 2);
    name(root(), "b", 3);
    name(root(), "c", 4);
    EXPECT_TRUE(d_lookup(root(), "a"));  // a was used last
    EXPECT_EQ(dcache_count_unused(*sb), 3u);
    EXPECT_EQ(dentries(), 3u);

    EXPECT_EQ(prune_dcache_sb(*sb, 1), 1u);
    EXPECT_FALSE(cached(root(), "b"));
    EXPECT_TRUE(cached(root(), "a"));
    EXPECT_TRUE(cached(root(), "c"));
    EXPECT_EQ(prune_dcache_sb(*sb, 1), 1u);
    EXPECT_FALSE(cached(root(), "c"));
    EXPECT_TRUE(cached(root(), "a"));
    EXPECT_EQ(prune_dcache_sb(*sb, 1), 1u);
    EXPECT_FALSE(cached(root(), "a"));
    EXPECT_EQ(dentries(), 0u);  // their objects went back to the cache
    // The inodes stay in the filesystem's cache, unused now.
    EXPECT_EQ(inodes(), 3u);
    EXPECT_EQ(icache_count_unused(*sb), 3u);
    // A pruned name looked up again is made anew from the filesystem.
    auto again = name(root(), "b", 3);
    EXPECT_EQ(again->d_inode->i_ino, 3u);
    EXPECT_EQ(dentries(), 1u);
}

TEST_F(DcacheShrinkerTest, DentriesInUseAndTheirAncestorsStay) {
    auto held = name(root(), "held", 2);  // an open file or a working directory's
    auto dir = name(root(), "dir", 3, S_IFDIR | 0755);
    name(*dir, "child", 4);
    name(root(), "loose", 5);
    dir.reset();
    // dir is held by its cached child: only the two leaves nobody holds are unused.
    EXPECT_EQ(dcache_count_unused(*sb), 2u);
    EXPECT_EQ(prune_dcache_sb(*sb, 100), 2u);
    EXPECT_TRUE(cached(root(), "held"));
    EXPECT_TRUE(cached(root(), "dir"));
    EXPECT_FALSE(cached(root(), "loose"));
    // With its child gone, dir is unused and goes next; held never does.
    EXPECT_EQ(dcache_count_unused(*sb), 1u);
    EXPECT_EQ(prune_dcache_sb(*sb, 100), 1u);
    EXPECT_FALSE(cached(root(), "dir"));
    EXPECT_TRUE(cached(root(), "held"));
    EXPECT_EQ(prune_dcache_sb(*sb, 100), 0u);
    EXPECT_EQ(held.use_count(), 2);  // the caller's and the parent's cache
    EXPECT_EQ(dentries(), 1u);
    // A mount point stays too.
    auto mnt = name(root(), "mnt", 6, S_IFDIR | 0755);
    mnt->d_mounted = 1;
    mnt.reset();
    EXPECT_EQ(prune_dcache_sb(*sb, 100), 0u);
    EXPECT_TRUE(cached(root(), "mnt"));
    d_lookup(root(), "mnt")->d_mounted = 0;
}

TEST_F(DcacheShrinkerTest, UnusedCleanInodesGoLeastRecentlyUsedFirstUsedOrDirtyOnesStay) {
    name(root(), "a", 2);
    name(root(), "b", 3);
    name(root(), "c", 4);
    name(root(), "d", 5);
    EXPECT_EQ(icache_count_unused(*sb), 0u);  // their dentries hold them
    EXPECT_EQ(prune_dcache_sb(*sb, 100), 4u);
    EXPECT_EQ(icache_count_unused(*sb), 4u);
    std::shared_ptr<inode> open = sb->iget(3);  // a user (an open file)
    (void)sb->iget(2);                          // used again: to the tail
    inode& dirty = *sb->icache[5];
    __mark_inode_dirty(dirty.i_data, 0);  // its pages wait for the flusher
    EXPECT_EQ(icache_count_unused(*sb), 2u);

    EXPECT_EQ(prune_icache_sb(*sb, 1), 1u);
    EXPECT_EQ(sb->icache.count(4), 0u);  // the oldest unused one
    EXPECT_EQ(sb->icache.count(2), 1u);
    EXPECT_EQ(prune_icache_sb(*sb, 100), 1u);
    EXPECT_EQ(sb->icache.count(2), 0u);
    EXPECT_EQ(sb->icache.count(3), 1u);  // in use
    EXPECT_EQ(sb->icache.count(5), 1u);  // dirty
    EXPECT_EQ(inodes(), 2u);
    inode_io_list_del(dirty.i_data);  // written back
    open.reset();
    EXPECT_EQ(prune_icache_sb(*sb, 100), 2u);
    EXPECT_EQ(inodes(), 0u);
    EXPECT_EQ(sb->icache.size(), 1u);  // the root's, held by the root dentry
}

TEST_F(DcacheShrinkerTest, DropSlabAndShrinkSlabReachTheSuperblockShrinker) {
    for (int i = 0; i < 300; ++i) name(root(), "f" + std::to_string(i), 10 + i);
    auto held = name(root(), "held", 2);
    EXPECT_EQ(dentries(), 301u);
    const dentry_stat_t before = get_dentry_stat();
    EXPECT_GE(before.nr_unused, 300u);
    // A caller that may not enter filesystems (GFP_NOFS) gets nothing.
    shrink_control nofs;
    nofs.gfp_mask = GFP_KERNEL & ~__GFP_FS;
    nofs.nr_to_scan = 128;
    EXPECT_EQ(sb->s_shrink.scan_objects(sb->s_shrink, nofs), SHRINK_STOP);
    // Reclaim at its lowest priority scans a share too small for a batch; at priority 0 the
    // pass scans every unused dentry (the inodes were not unused when it counted).
    EXPECT_EQ(shrink_slab(m.buddy.get(), GFP_KERNEL, 0, 12), 0u);
    EXPECT_EQ(dentries(), 301u);
    EXPECT_GE(shrink_slab(m.buddy.get(), GFP_KERNEL, 0, 0), 300u);
    EXPECT_EQ(dentries(), 1u);
    EXPECT_GT(inodes(), 1u);
    // drop_caches 2: everything unused, the inodes now too.
    drop_slab(m.buddy.get());
    EXPECT_EQ(dentries(), 1u);
    EXPECT_EQ(inodes(), 1u);  // held's; the root's is counted in inodes0
    EXPECT_EQ(sb->icache.size(), 2u);
    const dentry_stat_t after = get_dentry_stat();
    EXPECT_EQ(before.nr_dentry - after.nr_dentry, 300u);
    EXPECT_EQ(after.age_limit, 45u);
    EXPECT_EQ(dcache_count_unused(*sb), 0u);
    EXPECT_EQ(sb->s_shrink.count_objects(sb->s_shrink, nofs), SHRINK_EMPTY);
}

TEST_F(DcacheShrinkerTest, TmpfsNamesStayNegativeDentriesGo) {
    auto tmpfs = shmem_fill_super([] { return kernel_mem{}; }, 77, {});
    dentry& troot = *tmpfs->s_root;
    {
        auto f = d_alloc(troot, "file");
        ASSERT_EQ(troot.d_inode->i_op->create(*troot.d_inode, *f, S_IFREG | 0644), 0);
        auto dir = d_alloc(troot, "dir");
        ASSERT_EQ(troot.d_inode->i_op->mkdir(*troot.d_inode, *dir, S_IFDIR | 0755), 0);
        d_alloc(troot, "missing");  // a failed lookup's negative dentry
    }
    EXPECT_EQ(dcache_count_unused(*tmpfs), 1u);
    drop_slab(m.buddy.get());
    EXPECT_TRUE(cached(troot, "file"));
    EXPECT_TRUE(cached(troot, "dir"));
    EXPECT_FALSE(cached(troot, "missing"));
    dcache_teardown(troot);
}

}  // namespace
}  // namespace guestos
