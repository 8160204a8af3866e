// The dentry cache (fs/dcache.c).
#include "guestos/include/dcache.h"

namespace guestos {

namespace {

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

std::shared_ptr<dentry> d_make_root(super_block& sb, std::shared_ptr<inode> root) {
    auto d = std::make_shared<dentry>();
    d->d_name = "/";
    d->d_sb = &sb;
    d->d_inode = std::move(root);
    return d;
}

std::shared_ptr<dentry> d_lookup(dentry& parent, const std::string& name) {
    auto it = parent.d_subdirs.find(name);
    return it == parent.d_subdirs.end() ? nullptr : it->second;
}

std::shared_ptr<dentry> d_alloc(dentry& parent, const std::string& name) {
    auto d = std::make_shared<dentry>();
    d->d_name = name;
    d->d_parent = parent.shared_from_this();
    d->d_sb = parent.d_sb;
    parent.d_subdirs[name] = d;
    return d;
}

void d_instantiate(dentry& d, std::shared_ptr<inode> ino) { d.d_inode = std::move(ino); }

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
}

void d_exchange(dentry& a, dentry& b) {
    auto sa = a.shared_from_this(), sb = b.shared_from_this();
    std::swap(a.d_name, b.d_name);
    std::swap(a.d_parent, b.d_parent);
    if (a.d_parent) a.d_parent->d_subdirs[a.d_name] = sa;
    if (b.d_parent) b.d_parent->d_subdirs[b.d_name] = sb;
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

}  // namespace guestos
