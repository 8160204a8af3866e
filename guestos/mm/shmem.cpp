// shmem and tmpfs (mm/shmem.c).
#include "guestos/include/cred.h"
#include "guestos/kernel/time/time.h"
#include "guestos/mm/shmem.h"
#include "guestos/include/dcache.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/xattr.h"
#include "guestos/include/xattr.h"

#include <fcntl.h>  // FALLOC_FL_*, the same on every architecture
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "guestos/include/mm_types.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/page_io.h"
#include "guestos/mm/swap_state.h"
#include "guestos/mm/swapfile.h"
#include "guestos/mm/util.h"

namespace guestos {

namespace {

uint64_t next_shmem_ino = 1;  // get_next_ino
// The internal shm_mnt that shared anonymous memory and memfds live on shows as 00:01.
const uint64_t SHM_MNT_DEV = makedev(0, 1);

}  // namespace

const address_space_operations shmem_aops = {"shmem_aops", nullptr, true};

namespace {

// A new shmem inode's fields (shmem_get_inode's init).
void shmem_init_inode(inode& ino, const kernel_mem& km, uint32_t mode, uint64_t dev, std::string path) {
    ino.i_ino = ++next_shmem_ino;
    ino.i_dev = dev;
    ino.i_mode = mode;
    ino.i_uid = current_cred().fsuid;
    ino.i_gid = current_cred().fsgid;
    ino.path = std::move(path);
    ino.i_data.a_ops = &shmem_aops;
    ino.i_data.km = km;
    ino.seals = F_SEAL_SEAL_;  // sealing is refused unless memfd_create allows it
    inode_touch(ino, true, true);
}

}  // namespace

std::shared_ptr<inode> shmem_get_inode(const kernel_mem& km, uint32_t mode, uint64_t dev, std::string path) {
    auto ino = std::make_shared<inode>(inode_cache_kind::shmem);
    shmem_init_inode(*ino, km, mode, dev, std::move(path));
    return ino;
}

namespace {

// Commits pages of mapping m to Committed_AS, or -ENOMEM under the overcommit policy.
long shmem_commit(address_space& m, long pages) {
    if (!m.km.page_alloc || !pages) return 0;
    if (long e = security_vm_enough_memory(*m.km.page_alloc, pages)) return e;
    m.shmem_committed += static_cast<uint64_t>(pages);
    m.km.page_alloc->overcommit.shmem_committed += pages;
    return 0;
}

void shmem_uncommit(address_space& m, long pages) {
    pages = std::min<long>(pages, static_cast<long>(m.shmem_committed));
    if (!m.km.page_alloc || pages <= 0) return;
    m.shmem_committed -= static_cast<uint64_t>(pages);
    m.km.page_alloc->overcommit.shmem_committed -= pages;
    vm_unacct_memory(*m.km.page_alloc, pages);
}

}  // namespace

long shmem_acct_size(inode& ino, unsigned long flags) {
    address_space& m = ino.i_data;
    m.shmem_noreserve = flags & VM_NORESERVE;
    if (m.shmem_noreserve) return 0;
    return shmem_commit(m, static_cast<long>(mmu::page_align_up(ino.i_size) >> PAGE_SHIFT)) ? -ENOMEM : 0;
}

long shmem_inode_acct_blocks(address_space& m, long pages) {
    if (m.shmem_noreserve && shmem_commit(m, pages)) return -ENOSPC;
    if (m.blocks && m.blocks->max_blocks &&
        m.blocks->used_blocks + static_cast<uint64_t>(pages) > m.blocks->max_blocks) {
        if (m.shmem_noreserve) shmem_uncommit(m, pages);
        return -ENOSPC;
    }
    if (m.blocks) m.blocks->used_blocks += static_cast<uint64_t>(pages);
    return 0;
}

void shmem_inode_unacct_blocks(address_space& m, long pages) {
    if (m.blocks) m.blocks->used_blocks -= std::min<uint64_t>(static_cast<uint64_t>(pages), m.blocks->used_blocks);
    if (m.shmem_noreserve) shmem_uncommit(m, pages);
}

void shmem_unacct_size(address_space& m) { shmem_uncommit(m, static_cast<long>(m.shmem_committed)); }

std::shared_ptr<file> shmem_zero_setup(const kernel_mem& km, uint64_t size, unsigned long vm_flags) {
    auto ino = shmem_get_inode(km, S_IFREG | 0777, SHM_MNT_DEV, "/dev/zero (deleted)");
    ino->i_size = size;
    ino->i_nlink = 0;
    if (shmem_acct_size(*ino, vm_flags)) return nullptr;
    auto f = std::make_shared<inode_file>(ino);
    f->f_flags = O_RDWR_;
    return f;
}

std::shared_ptr<file> shmem_file_setup(const kernel_mem& km, const std::string& name) {
    auto ino = shmem_get_inode(km, S_IFREG | 0777, SHM_MNT_DEV, "/memfd:" + name + " (deleted)");
    ino->i_nlink = 0;
    auto f = std::make_shared<inode_file>(ino);
    f->f_flags = O_RDWR_ | O_LARGEFILE_;
    return f;
}

long shmem_fallocate(inode& ino, int mode, uint64_t offset, uint64_t len) {
    address_space& m = ino.i_data;
    if (!m.a_ops || !m.a_ops->swap_backed) return -EOPNOTSUPP;
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
    if ((mode & FALLOC_FL_PUNCH_HOLE) && (ino.seals & (F_SEAL_WRITE_ | F_SEAL_FUTURE_WRITE_))) return -EPERM;
    if (offset + len < offset || offset + len > static_cast<uint64_t>(INT64_MAX)) return -EFBIG;
    if (!(mode & FALLOC_FL_PUNCH_HOLE) && (ino.seals & F_SEAL_GROW_) && offset + len > ino.i_size) return -EPERM;
    if (mode & FALLOC_FL_PUNCH_HOLE) {
        if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
        // Unmap the pages wholly inside (not private COW copies), then free them and zero
        // the partial pages at the ends (shmem_fallocate's hole punch).
        const uint64_t first = mmu::page_align_up(offset) >> PAGE_SHIFT;
        const uint64_t end = (offset + len) >> PAGE_SHIFT;
        if (end > first) unmap_mapping_pages(m, first, end - first, false);
        truncate_inode_pages_range(m, offset, offset + len - 1);
        inode_touch(ino, false, true);
        return 0;
    }
    // Allocate every missing page; out of memory, the pages this call added go again
    // (shmem_undo_range) and the error is ENOSPC, as shmem reports it.
    std::vector<uint64_t> added;
    for (uint64_t idx = offset >> PAGE_SHIFT; idx <= (offset + len - 1) >> PAGE_SHIFT; ++idx) {
        if (find_get_page(m, idx)) continue;
        if (pagecache_get_page(m, idx).is_error()) {
            for (uint64_t a : added) truncate_inode_pages_range(m, a << PAGE_SHIFT, (a << PAGE_SHIFT) + PAGE_SIZE - 1);
            return -ENOSPC;
        }
        added.push_back(idx);
    }
    if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > ino.i_size) ino.i_size = offset + len;
    inode_touch(ino, false, true);
    return 0;
}

namespace {

// An inode slot of dir's tmpfs taken (false: none left) or given back.
bool shmem_reserve_inode(inode& dir);
void shmem_free_inode(inode& dir);

// tmpfs's inodes: directories live in the dcache (simple_lookup leaves a missing name
// negative), files in the page cache, a link's target in the inode (shmem_*_inode_operations).
class shmem_inode_operations final : public inode_operations {
public:
    // shmem_setattr: a sealed size stays.
    long setattr(dentry& d, const iattr& a) const override {
        if (a.ia_valid & ATTR_SIZE)
            if (long e = shmem_seal_resize(*d.d_inode, a.ia_size)) return e;
        return simple_setattr(*d.d_inode, a);
    }
    long create(inode& dir, dentry& d, uint32_t mode) const override { return shmem_mknod(dir, d, mode); }
    long mknod(inode& dir, dentry& d, uint32_t mode, uint64_t rdev) const override {
        if (long e = shmem_mknod(dir, d, mode)) return e;
        d.d_inode->i_rdev = rdev;  // init_special_inode
        return 0;
    }
    long mkdir(inode& dir, dentry& d, uint32_t mode) const override {
        if (long e = shmem_mknod(dir, d, mode)) return e;
        ++dir.i_nlink;
        return 0;
    }
    long symlink(inode& dir, dentry& d, const std::string& target) const override {
        if (target.size() >= PAGE_SIZE) return -ENAMETOOLONG;
        if (long e = shmem_mknod(dir, d, S_IFLNK | 0777)) return e;
        d.d_inode->i_link = target;
        d.d_inode->i_size = target.size();
        return 0;
    }
    long link(dentry& old, inode& dir, dentry& d) const override {
        if (old.d_inode->i_nlink >= 0xffffffffu) return -EMLINK;
        if (!shmem_reserve_inode(dir)) return -ENOSPC;  // a link takes an inode slot
        ++old.d_inode->i_nlink;
        inode_touch(*old.d_inode, false, true);
        touch_dir(dir);
        d_instantiate(d, old.d_inode);
        return 0;
    }
    long unlink(inode& dir, dentry& d) const override {
        if (d.d_inode->i_nlink > 1 && !S_ISDIR(d.d_inode->i_mode)) shmem_free_inode(dir);
        --d.d_inode->i_nlink;
        inode_touch(*d.d_inode, false, true);
        touch_dir(dir);
        return 0;
    }
    long rmdir(inode& dir, dentry& d) const override {
        if (!simple_empty(d)) return -ENOTEMPTY;
        d.d_inode->i_nlink = 0;
        --dir.i_nlink;
        touch_dir(dir);
        return 0;
    }
    long listxattr(dentry& d, char* buf, size_t size) const override;
    long rename(inode& old_dir, dentry& old, inode& new_dir, dentry& nw, unsigned flags) const override {
        const bool old_is_dir = S_ISDIR(old.d_inode->i_mode);
        if (flags & RENAME_EXCHANGE_) {  // simple_rename_exchange
            const bool new_is_dir = S_ISDIR(nw.d_inode->i_mode);
            if (old_is_dir != new_is_dir && &old_dir != &new_dir) {
                if (old_is_dir) --old_dir.i_nlink, ++new_dir.i_nlink;
                else ++old_dir.i_nlink, --new_dir.i_nlink;
            }
        } else {
            if (nw.d_inode) {
                if (S_ISDIR(nw.d_inode->i_mode)) {
                    if (!simple_empty(nw)) return -ENOTEMPTY;
                    nw.d_inode->i_nlink = 0;
                    --new_dir.i_nlink;
                } else {
                    if (nw.d_inode->i_nlink > 1) shmem_free_inode(new_dir);
                    --nw.d_inode->i_nlink;
                }
                inode_touch(*nw.d_inode, false, true);
            }
            if (old_is_dir) --old_dir.i_nlink, ++new_dir.i_nlink;
        }
        touch_dir(old_dir);
        touch_dir(new_dir);
        inode_touch(*old.d_inode, false, false);
        old.d_inode->i_ctime = current_time();
        return 0;
    }

private:
    static void touch_dir(inode& dir) { inode_touch(dir, false, true); }

    // Whether a directory has no positive children (simple_empty).
    static bool simple_empty(const dentry& d) {
        for (const auto& [name, child] : d.d_subdirs)
            if (child->d_inode) return false;
        return true;
    }
    long shmem_mknod(inode& dir, dentry& d, uint32_t mode) const;
};

const shmem_inode_operations shmem_iops;

// A tmpfs inode: gives its inode slot back when it goes (shmem_evict_inode ->
// shmem_free_inode).
struct shmem_inode final : inode {
    shmem_inode() : inode(inode_cache_kind::shmem) {}
    std::shared_ptr<uint64_t> used_inodes;
    simple_xattrs xattrs;  // shmem_inode_info's
    ~shmem_inode() override {
        if (used_inodes) --*used_inodes;
    }
};

long shmem_inode_operations::listxattr(dentry& d, char* buf, size_t size) const {
    auto* info = dynamic_cast<shmem_inode*>(d.d_inode.get());
    return info ? simple_xattr_list(info->xattrs, buf, size) : 0;
}

long shmem_xattr_handler_get(const xattr_handler&, inode& ino, const std::string& name, uint8_t* buf, size_t size) {
    auto* info = dynamic_cast<shmem_inode*>(&ino);
    return info ? simple_xattr_get(info->xattrs, name, buf, size) : -EOPNOTSUPP;
}

// Sets or removes, and the change is a change of the inode (inode_set_ctime_current).
long shmem_xattr_handler_set(const xattr_handler&, inode& ino, const std::string& name, const uint8_t* value,
                             size_t size, int flags) {
    auto* info = dynamic_cast<shmem_inode*>(&ino);
    if (!info) return -EOPNOTSUPP;
    if (long e = simple_xattr_set(info->xattrs, name, value, size, flags)) return e;
    ino.i_ctime = current_time();
    return 0;
}

// tmpfs's namespaces: user.* since Linux 6.6, then security.* and trusted.* (no POSIX ACLs).
const xattr_handler shmem_user_xattr_handler{XATTR_USER_PREFIX_, shmem_xattr_handler_get, shmem_xattr_handler_set};
const xattr_handler shmem_security_xattr_handler{XATTR_SECURITY_PREFIX_, shmem_xattr_handler_get,
                                                 shmem_xattr_handler_set};
const xattr_handler shmem_trusted_xattr_handler{XATTR_TRUSTED_PREFIX_, shmem_xattr_handler_get,
                                                shmem_xattr_handler_set};
const xattr_handler* const shmem_xattr_handlers[] = {&shmem_user_xattr_handler, &shmem_security_xattr_handler,
                                                     &shmem_trusted_xattr_handler, nullptr};

// One tmpfs mount (shmem_sb_info): its device number, its size in pages and in inodes
// (both 0: no limit), and what its files use of them. An unset size is Linux's default,
// half of RAM, and an unset inode count min(lowmem, half of RAM) pages' worth, both taken
// from RAM once memory is set up.
class shmem_sb_info final : public super_block {
public:
    shmem_sb_info(std::function<kernel_mem()> km, uint64_t dev, const shmem_options& opt)
        : km_(std::move(km)), opt_(opt) {
        s_type = "tmpfs";
        s_magic = TMPFS_MAGIC;
        s_xattr = shmem_xattr_handlers;
        s_dev = dev;
        s_pin_dentries = true;  // the names are the files
    }
    long statfs(kstatfs& buf) override {
        resolve();
        buf.f_type = s_magic;
        buf.f_bsize = buf.f_frsize = PAGE_SIZE;
        if (blocks_->max_blocks) {
            buf.f_blocks = blocks_->max_blocks;
            buf.f_bfree = buf.f_bavail = blocks_->max_blocks - std::min(blocks_->used_blocks, blocks_->max_blocks);
        }
        if (max_inodes_) {
            buf.f_files = max_inodes_;
            buf.f_ffree = max_inodes_ - std::min(*used_inodes_, max_inodes_);
        }
        buf.f_namelen = NAME_MAX_;
        buf.f_flags = ST_NOSUID | ST_NODEV | ST_RELATIME;
        return 0;
    }
    // shmem_show_options: what differs from the defaults.
    void show_options(std::string& m) override {
        resolve();
        if (blocks_->max_blocks != default_max_blocks_)
            m += ",size=" + std::to_string(blocks_->max_blocks << (PAGE_SHIFT - 10)) + "k";
        if (max_inodes_ != default_max_inodes_) m += ",nr_inodes=" + std::to_string(max_inodes_);
        if (opt_.mode != 01777) {
            char mode[16];
            std::snprintf(mode, sizeof mode, ",mode=%03o", opt_.mode);
            m += mode;
        }
    }
    // A new inode, or null when every inode slot is taken (shmem_reserve_inode: ENOSPC).
    std::shared_ptr<inode> new_inode(uint32_t mode) {
        if (!shmem_reserve_inode()) return nullptr;
        auto ino = std::make_shared<shmem_inode>();
        ino->used_inodes = used_inodes_;
        shmem_init_inode(*ino, km_(), mode, s_dev, "");
        ino->i_ino = ++last_ino_;
        ino->i_sb = this;
        ino->i_op = &shmem_iops;
        ino->i_data.blocks = blocks_;
        return ino;
    }
    // One inode slot more (a new inode, or a hard link: shmem_link reserves one too).
    bool shmem_reserve_inode() {
        resolve();
        if (max_inodes_ && *used_inodes_ >= max_inodes_) return false;
        ++*used_inodes_;
        return true;
    }
    void shmem_free_inode() { --*used_inodes_; }
    uint32_t root_mode() const { return opt_.mode; }

private:
    // The defaults and the unset sizes, once RAM is known (shmem_default_max_blocks and
    // shmem_default_max_inodes at fill_super).
    void resolve() {
        if (resolved_) return;
        const kernel_mem km = km_();
        if (!km.page_alloc) return;
        const uint64_t totalram = km.page_alloc->totalram_pages();
        const auto* buddy = dynamic_cast<const BuddyAllocator*>(km.page_alloc);
        const uint64_t totalhigh = buddy ? buddy->totalhigh_pages() : 0;
        default_max_blocks_ = totalram / 2;
        default_max_inodes_ = std::min(totalram - totalhigh, totalram / 2);
        blocks_->max_blocks = opt_.max_blocks.value_or(default_max_blocks_);
        max_inodes_ = opt_.max_inodes.value_or(default_max_inodes_);
        resolved_ = true;
    }
    std::function<kernel_mem()> km_;
    shmem_options opt_;
    bool resolved_ = false;
    uint64_t default_max_blocks_ = 0, default_max_inodes_ = 0;
    std::shared_ptr<shmem_blocks> blocks_ = std::make_shared<shmem_blocks>();
    uint64_t max_inodes_ = 0;
    std::shared_ptr<uint64_t> used_inodes_ = std::make_shared<uint64_t>(0);
    uint64_t last_ino_ = 0;  // the root is 1
};

bool shmem_reserve_inode(inode& dir) { return static_cast<shmem_sb_info&>(*dir.i_sb).shmem_reserve_inode(); }
void shmem_free_inode(inode& dir) { static_cast<shmem_sb_info&>(*dir.i_sb).shmem_free_inode(); }

long shmem_inode_operations::shmem_mknod(inode& dir, dentry& d, uint32_t mode) const {
    auto& sb = static_cast<shmem_sb_info&>(*dir.i_sb);
    auto ino = sb.new_inode(mode);
    if (!ino) return -ENOSPC;
    ino->i_uid = current_cred().fsuid;
    ino->i_gid = (dir.i_mode & S_ISGID) ? dir.i_gid : current_cred().fsgid;  // inode_init_owner
    if (S_ISDIR(mode)) {
        ino->i_nlink = 2;
        if (dir.i_mode & S_ISGID) ino->i_mode |= S_ISGID;
    }
    ino->i_size = S_ISDIR(mode) ? 40 : 0;  // tmpfs counts a directory's entries (BOGO_DIRENT_SIZE)
    d_instantiate(d, ino);
    inode_touch(dir, false, true);
    return 0;
}

}  // namespace

std::shared_ptr<super_block> shmem_fill_super(std::function<kernel_mem()> km, uint64_t dev, const shmem_options& opt) {
    auto sb = std::make_shared<shmem_sb_info>(std::move(km), dev, opt);
    auto root = sb->new_inode(S_IFDIR | opt.mode);  // the root takes an inode slot too
    root->i_nlink = 2;
    root->i_size = 40;
    root->i_uid = root->i_gid = 0;
    sb->s_root = d_make_root(*sb, root);
    return sb;
}

bool shmem_writepage(address_space& m, page& p) {
    PageAllocator& pa = *m.km.page_alloc;
    auto it = m.i_pages.find(p.index);
    if (it == m.i_pages.end() || &pa.phys_to_page(it->second) != &p || (p.flags & PG_swapcache)) return false;
    const PhysAddr frame = it->second;
    const swp_entry_t entry = get_swap_page();  // folio_alloc_swap: the slot has SWAP_HAS_CACHE
    if (!entry.val) return false;
    add_to_swap_cache(p, static_cast<uint32_t>(frame.pfn()), entry);
    (void)swap_duplicate(entry);  // swap_shmem_alloc: the mapping's reference
    p.flags |= PG_dirty;
    if (swap_writepage(pa, p) < 0) {  // the page stays in the cache, the slot goes
        swap_free(entry);
        __delete_from_swap_cache(p);
        --p._refcount;
        put_swap_page(entry);
        return false;
    }
    // shmem_delete_from_page_cache: the index holds the swap entry instead of the page.
    m.i_pages.erase(it);
    m.i_swap[p.index] = entry;
    p.mapping = nullptr;
    p.flags &= ~PG_uptodate;
    --p._refcount;  // the page cache's reference
    // __remove_mapping: out of the swap cache, a shadow entry left for workingset_refault;
    // the slot keeps the mapping's reference.
    lruvec* lv = pa.node_lruvec();
    __delete_from_swap_cache(p, lv ? workingset_eviction(*lv, p) : 0);
    put_swap_page(entry);
    pa.free_page(frame);
    return true;
}

mmu::ErrorOr<PhysAddr> shmem_swapin(address_space& m, uint64_t index) {
    PageAllocator& pa = *m.km.page_alloc;
    const swp_entry_t entry = m.i_swap.at(index);
    // swap_cache_get_folio: read ahead by an earlier swap-in (a hit), or still cached;
    // else shmem_swapin_cluster reads the slots around it too (swap_cluster_readahead).
    std::optional<uint32_t> pfn = lookup_swap_cache(entry);
    if (pfn) {
        ++pa.pfn_to_page(*pfn)._refcount;  // the caller's reference
        swap_cache_hit(pa, pa.pfn_to_page(*pfn));
    } else {
        bool major = false;
        pfn = swap_cluster_readahead(pa, entry, GFP_HIGHUSER_MOVABLE, major);
    }
    if (!pfn) return mmu::Error::from_errno(__swap_count(entry) ? ENOMEM : EIO, "shmem page not swapped in");
    page& p = pa.pfn_to_page(*pfn);
    // shmem_add_to_page_cache, swap_free, delete_from_swap_cache: the caller's reference
    // becomes the page cache's, the slot is freed, the page is dirty (its only copy).
    delete_from_swap_cache(pa, p);
    swap_free(entry);
    m.i_swap.erase(index);
    p.flags = (p.flags & ~PG_anon) | PG_swapbacked | PG_uptodate | PG_dirty;
    pa.set_page_use(p, PageUse::File);
    p.mapping = &m;
    p.index = index;
    const PhysAddr frame = PhysAddr::from_pfn(*pfn);
    m.i_pages[index] = frame;
    return frame;
}

uint64_t shmem_partial_swap_usage(const address_space& m, uint64_t start, uint64_t end) {
    uint64_t swapped = 0;
    for (auto it = m.i_swap.lower_bound(start); it != m.i_swap.end() && it->first < end; ++it) ++swapped;
    return swapped << PAGE_SHIFT;
}

uint64_t shmem_swap_usage(const vm_area_struct& vma) {
    const inode& ino = *vma.vm_file->f_inode;
    const uint64_t swapped = ino.i_data.i_swap.size();  // info->swapped
    if (!swapped) return 0;
    if (!vma.vm_pgoff && vma.size() >= static_cast<uint64_t>(ino.i_size)) return swapped << PAGE_SHIFT;
    return shmem_partial_swap_usage(ino.i_data, vma.vm_pgoff, vma.vm_pgoff + (vma.size() >> PAGE_SHIFT));
}

bool shmem_unuse(unsigned type) {
    for (address_space* m : shmem_swaplist()) {
        std::vector<uint64_t> indices;
        for (const auto& [index, entry] : m->i_swap)
            if (swp_type(entry) == type) indices.push_back(index);
        for (uint64_t index : indices)
            if (shmem_swapin(*m, index).is_error()) return false;
    }
    return true;
}

}  // namespace guestos
