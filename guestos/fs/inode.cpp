// Inodes as slab objects and the inode LRU (fs/inode.c: alloc_inode, inode_lru_isolate,
// prune_icache_sb, get_nr_inodes, get_nr_inodes_unused).
#include <vector>

#include "guestos/include/fs.h"
#include "guestos/include/page.h"
#include "guestos/include/writeback.h"

namespace guestos {

namespace {

// Every live inode, least recently looked up first. Never destroyed: inodes held by static
// objects may outlive every other static.
std::list<inode*>& inode_list() {
    static auto* l = new std::list<inode*>;
    return *l;
}

ObjectCache* inode_cachep_of(KernelCaches& c, inode_cache_kind kind) {
    switch (kind) {
    case inode_cache_kind::ext2: return c.ext2_inode_cachep;
    case inode_cache_kind::shmem: return c.shmem_inode_cachep;
    case inode_cache_kind::proc: return c.proc_inode_cachep;
    case inode_cache_kind::sock: return c.sock_inode_cachep;
    case inode_cache_kind::generic: break;
    }
    return c.inode_cachep;
}

}  // namespace

inode::inode(inode_cache_kind kind) : i_cache_kind(kind) {
    i_data.host = this;
    if (KernelCaches* c = vfs_caches()) (void)slab.alloc(inode_cachep_of(*c, kind));  // unbacked without memory
    i_lru = inode_list().insert(inode_list().end(), this);
}

inode::~inode() { inode_list().erase(i_lru); }

void inode::sync_slab() const {
    if (!slab.backed()) return;
    slab.set(InodeField::i_mode, i_mode);
    slab.set(InodeField::i_uid, i_uid);
    slab.set(InodeField::i_gid, i_gid);
    slab.set(InodeField::i_ino, i_ino);
    slab.set(InodeField::i_nlink, i_nlink);
    slab.set(InodeField::i_rdev, i_rdev);
    slab.set(InodeField::i_size, i_size);
    const unsigned word = slab.cache()->word_size();  // struct timespec64: tv_sec (8 bytes), then tv_nsec (a long)
    for (auto [field, t] :
         {std::pair{InodeField::i_atime, i_atime}, {InodeField::i_mtime, i_mtime}, {InodeField::i_ctime, i_ctime}}) {
        slab.set(field, static_cast<uint64_t>(t.tv_sec));
        slab.set_word(field, 8 / word, static_cast<uint64_t>(t.tv_nsec));
    }
    slab.set(InodeField::i_blocks, i_blocks < 0 ? 0 : static_cast<uint64_t>(i_blocks));
}

void inode_lru_touch(inode& i) { inode_list().splice(inode_list().end(), inode_list(), i.i_lru); }

uint64_t get_nr_inodes() { return inode_list().size(); }

uint64_t get_nr_inodes_unused() {
    uint64_t n = 0;
    for (inode* i : inode_list())
        if (i->i_sb && i->i_sb->inode_unused(*i)) ++n;
    return n;
}

uint64_t icache_count_unused(super_block& sb) {
    uint64_t n = 0;
    for (inode* i : inode_list())
        if (i->i_sb == &sb && sb.inode_unused(*i)) ++n;
    return n;
}

uint64_t prune_icache_sb(super_block& sb, uint64_t nr_to_scan, uint64_t* scanned) {
    std::vector<std::shared_ptr<inode>> dispose;
    std::list<inode*>& l = inode_list();
    uint64_t looked = 0;
    size_t left = l.size();
    for (auto it = l.begin(); left-- && it != l.end() && looked < nr_to_scan;) {
        inode& i = **it;
        auto next = std::next(it);
        if (i.i_sb == &sb) {
            std::shared_ptr<inode> victim = sb.inode_unused(i) ? sb.isolate_unused_inode(i) : nullptr;
            if (victim) {
                ++looked;
                dispose.push_back(std::move(victim));
            } else {
                l.splice(l.end(), l, it);  // in use or dirty: off the LRU (LRU_REMOVED / LRU_SKIP)
            }
        }
        it = next;
    }
    if (scanned) *scanned = looked;
    const uint64_t freed = dispose.size();
    dispose.clear();  // dispose_list: evict each, its clean page cache with it
    return freed;
}

bool inode_has_dirty_state(inode& i) {
    address_space& m = i.i_data;
    if (inode_dirtied_when(m)) return true;
    if (!m.km.page_alloc) return false;
    for (auto [index, frame] : m.i_pages)
        if (m.km.page_alloc->phys_to_page(frame).flags & (PG_dirty | PG_writeback)) return true;
    return false;
}

void inode_caches_bootstrap(KernelCaches& c) {
    for (inode* i : inode_list())
        if (!i->slab.backed()) {
            (void)i->slab.alloc(inode_cachep_of(c, i->i_cache_kind));
            i->sync_slab();
        }
}

}  // namespace guestos
