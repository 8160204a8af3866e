// The dentry cache (fs/dcache.c).
#include "guestos/include/dcache.h"

#include <vector>

#include "guestos/include/sysctl.h"

namespace guestos {

namespace {

// Every live dentry, least recently looked up first (the superblocks' s_dentry_lru in one
// list, with the dentries in use, which Linux keeps off it). Never destroyed: dentries held
// by static objects may outlive every other static.
std::list<dentry*>& dentry_list() {
    static auto* l = new std::list<dentry*>;
    return *l;
}

// d was looked up or made: to the tail of the list.
void d_lru_touch(dentry& d) { dentry_list().splice(dentry_list().end(), dentry_list(), d.d_lru); }

// Whether d is in its parent's cache (d_unhashed's opposite).
bool d_hashed(const dentry& d) {
    if (!d.d_parent) return false;
    auto it = d.d_parent->d_subdirs.find(d.d_name);
    return it != d.d_parent->d_subdirs.end() && it->second.get() == &d;
}

// Takes d out of its parent's hash chain, keeping its own children (__d_drop).
void d_unhash(dentry& d) {
    if (!d.d_parent) return;
    auto& siblings = d.d_parent->d_subdirs;
    if (auto it = siblings.find(d.d_name); it != siblings.end() && it->second.get() == &d) siblings.erase(it);
}

// Forgets every cached descendant (shrink_dcache_parent), breaking the parent/child cycles.
void shrink_dcache_parent(dentry& d) {
    auto children = std::move(d.d_subdirs);
    d.d_subdirs.clear();
    for (auto& [name, child] : children) shrink_dcache_parent(*child);
}

}  // namespace

dentry::dentry() {
    if (KernelCaches* c = vfs_caches()) (void)slab.alloc(c->dentry_cachep);  // unbacked without memory
    d_lru = dentry_list().insert(dentry_list().end(), this);
}

dentry::~dentry() { dentry_list().erase(d_lru); }

void dentry::sync_slab() const {
    if (!slab.backed()) return;
    const unsigned word = slab.cache()->word_size();
    const FieldSlot iname = slab.cache()->slot(static_cast<unsigned>(DentryField::d_iname));
    const bool inline_name = d_name.size() < iname.size;  // DNAME_INLINE_LEN; longer ones: an external name
    slab.set_ptr(DentryField::d_parent, d_parent ? &d_parent->slab : &slab);    // a root is its own parent
    slab.set(DentryField::d_name, static_cast<uint64_t>(d_name.size()) << 32);  // hash_len: the length, hash 0
    slab.set_word(DentryField::d_name, 8 / word, inline_name ? slab.kernel_address() + iname.offset : 0);
    slab.set_bytes(DentryField::d_iname, inline_name ? d_name : std::string());
    slab.set_ptr(DentryField::d_inode, d_inode ? &d_inode->slab : nullptr);
}

std::shared_ptr<dentry> d_make_root(super_block& sb, std::shared_ptr<inode> root) {
    auto d = std::make_shared<dentry>();
    d->d_name = "/";
    d->d_sb = &sb;
    d->d_inode = std::move(root);
    if (d->d_inode) d->d_inode->sync_slab();
    d->sync_slab();
    return d;
}

std::shared_ptr<dentry> d_lookup(dentry& parent, const std::string& name) {
    auto it = parent.d_subdirs.find(name);
    if (it == parent.d_subdirs.end()) return nullptr;
    d_lru_touch(*it->second);
    return it->second;
}

std::shared_ptr<dentry> d_alloc(dentry& parent, const std::string& name) {
    auto keep = parent.shared_from_this();  // the allocation may reclaim: the parent stays
    auto d = std::make_shared<dentry>();
    d->d_name = name;
    d->d_parent = std::move(keep);
    d->d_sb = parent.d_sb;
    parent.d_subdirs[name] = d;
    d->sync_slab();
    return d;
}

void d_instantiate(dentry& d, std::shared_ptr<inode> ino) {
    d.d_inode = std::move(ino);
    if (d.d_inode) d.d_inode->sync_slab();
    d.sync_slab();
}

void d_drop(dentry& d) {
    d_unhash(d);
    shrink_dcache_parent(d);
}

void d_delete(dentry& d) {
    d_drop(d);
    d.d_deleted = true;
    if (d.d_parent) d_alloc(*d.d_parent, d.d_name);  // the name is now known not to exist
}

void d_move(dentry& d, dentry& newparent, const std::string& newname) {
    if (auto old = d_lookup(newparent, newname); old && old.get() != &d) {
        d_drop(*old);
        if (old->d_inode && (old->d_inode->i_nlink == 0 || S_ISDIR(old->d_inode->i_mode))) old->d_deleted = true;
    }
    auto self = d.shared_from_this();
    d_unhash(d);
    if (d.d_parent) d_alloc(*d.d_parent, d.d_name);
    d.d_name = newname;
    d.d_parent = newparent.shared_from_this();
    newparent.d_subdirs[newname] = self;
    d.sync_slab();
}

void d_exchange(dentry& a, dentry& b) {
    auto sa = a.shared_from_this(), sb = b.shared_from_this();
    std::swap(a.d_name, b.d_name);
    std::swap(a.d_parent, b.d_parent);
    if (a.d_parent) a.d_parent->d_subdirs[a.d_name] = sa;
    if (b.d_parent) b.d_parent->d_subdirs[b.d_name] = sb;
    a.sync_slab();
    b.sync_slab();
}

bool is_subdir(const dentry* d, const dentry* ancestor) {
    for (; d; d = d->d_parent.get())
        if (d == ancestor) return true;
    return false;
}

std::string dentry_path_raw(const dentry& d) {
    std::string out;
    for (const dentry* p = &d; p && p->d_parent; p = p->d_parent.get()) out = "/" + p->d_name + out;
    return out.empty() ? "/" : out;
}

void dcache_teardown(dentry& root) { shrink_dcache_parent(root); }

bool d_unused(const dentry& d) {
    if (d.weak_from_this().use_count() != 1 || !d.d_subdirs.empty() || d.d_mounted) return false;
    if (d.d_inode && d.d_sb && d.d_sb->s_pin_dentries) return false;
    // An inode that would go with its last dentry while it has pages to write stays (Linux
    // keeps such an inode in the icache, off the LRU, until written).
    if (d.d_inode && d.d_inode.use_count() == 1 && inode_has_dirty_state(*d.d_inode)) return false;
    return d_hashed(d);
}

uint64_t dcache_count_unused(const super_block& sb) {
    uint64_t n = 0;
    for (const dentry* d : dentry_list())
        if (d->d_sb == &sb && d_unused(*d)) ++n;
    return n;
}

uint64_t prune_dcache_sb(super_block& sb, uint64_t nr_to_scan, uint64_t* scanned) {
    // Isolate: take each victim out of its parent's cache onto the dispose list, so that
    // nothing is freed while the list is walked.
    std::vector<std::shared_ptr<dentry>> dispose;
    std::list<dentry*>& l = dentry_list();
    uint64_t looked = 0;
    size_t left = l.size();
    for (auto it = l.begin(); left-- && it != l.end() && looked < nr_to_scan;) {
        dentry& d = **it;
        auto next = std::next(it);
        if (d.d_sb == &sb) {
            if (d_unused(d)) {
                ++looked;
                auto& siblings = d.d_parent->d_subdirs;
                auto slot = siblings.find(d.d_name);
                dispose.push_back(std::move(slot->second));
                siblings.erase(slot);
            } else {
                l.splice(l.end(), l, it);  // in use: off the LRU until its users let go
            }
        }
        it = next;
    }
    if (scanned) *scanned = looked;
    const uint64_t freed = dispose.size();
    dispose.clear();  // shrink_dentry_list: each goes, with its hold on its inode and parent
    return freed;
}

dentry_stat_t get_dentry_stat() {
    dentry_stat_t s;
    for (const dentry* d : dentry_list()) {
        ++s.nr_dentry;
        if (!d->d_inode) ++s.nr_negative;
        if (d_unused(*d)) ++s.nr_unused;
    }
    return s;
}

void vfs_caches_bootstrap() {
    KernelCaches* c = vfs_caches();
    if (!c) return;
    for (dentry* d : dentry_list())
        if (!d->slab.backed()) {
            (void)d->slab.alloc(c->dentry_cachep);
            d->sync_slab();
        }
    inode_caches_bootstrap(*c);
    for (dentry* d : dentry_list()) d->sync_slab();  // d_parent and d_inode now point somewhere
}

namespace {

dentry_stat_t dentry_stat;
unsigned long inodes_stat[7];  // nr_inodes, nr_unused, dummy[5]

// proc_nr_dentry: the figures as they are now, as unsigned longs.
long proc_nr_dentry(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    dentry_stat = get_dentry_stat();
    return proc_doulongvec_minmax(table, write, buffer, lenp, ppos);
}

// proc_nr_inodes: inode-nr shows the first two, inode-state all seven.
long proc_nr_inodes(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    inodes_stat[0] = get_nr_inodes();
    inodes_stat[1] = get_nr_inodes_unused();
    return proc_doulongvec_minmax(table, write, buffer, lenp, ppos);
}

}  // namespace

void dcache_sysctl_init(ctl_table_root& root) {
    root.register_sysctl("fs", {
                                   {"dentry-state", &dentry_stat, sizeof dentry_stat, 0444, proc_nr_dentry},
                                   {"inode-nr", inodes_stat, 2 * sizeof(unsigned long), 0444, proc_nr_inodes},
                                   {"inode-state", inodes_stat, sizeof inodes_stat, 0444, proc_nr_inodes},
                               });
}

}  // namespace guestos
