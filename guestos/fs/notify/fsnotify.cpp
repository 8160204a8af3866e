// The fsnotify core (fs/notify/fsnotify.c, mark.c, include/linux/fsnotify.h): marks on
// inodes, and each VFS report turned into events for the marks that ask for them, a
// directory's marks first (with the child's name), then the inode's own.
#include "guestos/include/fsnotify.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <vector>

#include "guestos/include/dcache.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

namespace {

uint32_t fsnotify_sync_cookie = 0;

// Each watched inode's marks (i_fsnotify_marks): a mark holds its inode, so an inode here
// lives until its last mark goes, and its entry with it.
std::map<const inode*, std::vector<std::shared_ptr<fsnotify_mark>>> i_fsnotify_marks;
bool live_marks() { return !i_fsnotify_marks.empty(); }

// The marks of ino (a copy: a oneshot mark goes while its event is handled).
std::vector<std::shared_ptr<fsnotify_mark>> inode_marks(const inode& ino) {
    auto it = i_fsnotify_marks.find(&ino);
    return it == i_fsnotify_marks.end() ? std::vector<std::shared_ptr<fsnotify_mark>>{} : it->second;
}

// Gives the event to one mark if it asks for it (fsnotify_handle_inode_event).
void send_to_mark(const std::shared_ptr<fsnotify_mark>& m, uint32_t mask, const std::string* name, uint32_t cookie,
                  bool unlinked) {
    if (!(mask & m->mask & ALL_FSNOTIFY_EVENTS)) return;
    if (m->excl_unlink && unlinked) return;
    if (auto g = m->group.lock()) g->handle_inode_event(*m, mask & ~FS_EVENT_ON_CHILD, name, cookie);
}

// An event on ino, also heard by dir's marks with name (fsnotify): dir's marks first, as
// fsnotify_handle_event reports to the parent's mark before the inode's.
void fsnotify(uint32_t mask, inode* dir, const std::string* name, inode* ino, uint32_t cookie, bool unlinked = false) {
    if (!live_marks()) return;
    if (dir)
        for (auto& m : inode_marks(*dir)) send_to_mark(m, mask, name, cookie, unlinked);
    if (ino)
        for (auto& m : inode_marks(*ino)) send_to_mark(m, mask & ~FS_EVENT_ON_CHILD, nullptr, cookie, false);
}

// The event of the inode dir/name only (fsnotify_name): a change of dir's entries.
void fsnotify_name(uint32_t mask, inode& dir, const std::string& name, uint32_t cookie) {
    if (!live_marks()) return;
    for (auto& m : inode_marks(dir)) send_to_mark(m, mask, &name, cookie, false);
}

// The event of d's inode, heard too by its parent when that watches its children
// (fsnotify_parent).
void fsnotify_parent(dentry& d, uint32_t mask, bool unlinked) {
    if (!live_marks() || !d.d_inode) return;
    inode& ino = *d.d_inode;
    if (S_ISDIR(ino.i_mode)) mask |= FS_ISDIR;
    inode* dir = d.d_parent && !d.is_root() ? d.d_parent->d_inode.get() : nullptr;
    fsnotify(mask | (dir ? FS_EVENT_ON_CHILD : 0), dir, &d.d_name, &ino, 0, unlinked);
}

// The event of an inode alone (fsnotify_inode).
void fsnotify_inode(inode& ino, uint32_t mask) {
    if (S_ISDIR(ino.i_mode)) mask |= FS_ISDIR;
    fsnotify(mask, nullptr, nullptr, &ino, 0);
}

// An open file's event (fsnotify_file): none for O_PATH files or files without a place.
void fsnotify_file(file& f, uint32_t mask) {
    if (!live_marks() || !f.f_path || (f.f_flags & O_PATH_)) return;
    fsnotify_parent(*f.f_path.dentry, mask, f.f_path.dentry->d_deleted);
}

}  // namespace

void fsnotify_add_inode_mark(const std::shared_ptr<fsnotify_mark>& mark) {
    i_fsnotify_marks[mark->ino.get()].push_back(mark);
}

void fsnotify_destroy_mark(std::shared_ptr<fsnotify_mark> mark) {
    auto ino = mark->ino;  // keeps the inode until the mark is off it
    if (!ino) return;
    auto it = i_fsnotify_marks.find(ino.get());
    if (it != i_fsnotify_marks.end()) {
        std::erase(it->second, mark);
        if (it->second.empty()) i_fsnotify_marks.erase(it);
    }
    if (auto g = mark->group.lock()) g->freeing_mark(*mark);
    mark->ino.reset();
}

std::shared_ptr<fsnotify_mark> fsnotify_find_mark(const inode& ino, const fsnotify_group& group) {
    for (auto& m : inode_marks(ino))
        if (m->group.lock().get() == &group) return m;
    return nullptr;
}

void fsnotify_create(inode& dir, dentry& d) {
    fsnotify_name(FS_CREATE | (d.d_inode && S_ISDIR(d.d_inode->i_mode) ? FS_ISDIR : 0), dir, d.d_name, 0);
}

void fsnotify_link(inode& dir, inode& ino, dentry& d) {
    fsnotify_link_count(ino);
    fsnotify_name(FS_CREATE, dir, d.d_name, 0);
}

void fsnotify_link_count(inode& ino) { fsnotify_inode(ino, FS_ATTRIB); }

void fsnotify_delete(inode& dir, inode& ino, const std::string& name) {
    fsnotify_name(FS_DELETE | (S_ISDIR(ino.i_mode) ? FS_ISDIR : 0), dir, name, 0);
}

void fsnotify_inoderemove(inode& ino) {
    if (!live_marks()) return;
    fsnotify_inode(ino, FS_DELETE_SELF);
    for (auto& m : inode_marks(ino)) fsnotify_destroy_mark(m);  // __fsnotify_inode_delete
}

void fsnotify_move(inode& old_dir, inode& new_dir, const std::string& old_name, const std::string& new_name, bool isdir,
                   inode* target, inode& source) {
    if (!live_marks()) return;
    const uint32_t cookie = ++fsnotify_sync_cookie;  // fsnotify_get_cookie
    const uint32_t isdir_bit = isdir ? FS_ISDIR : 0;
    fsnotify_name(FS_MOVED_FROM | isdir_bit, old_dir, old_name, cookie);
    fsnotify_name(FS_MOVED_TO | isdir_bit, new_dir, new_name, cookie);
    if (target) fsnotify_link_count(*target);
    fsnotify_inode(source, FS_MOVE_SELF);
}

void fsnotify_change(dentry& d, unsigned ia_valid) {
    uint32_t mask = 0;
    if (ia_valid & (ATTR_UID | ATTR_GID | ATTR_MODE)) mask |= FS_ATTRIB;
    if (ia_valid & ATTR_SIZE) mask |= FS_MODIFY;
    if ((ia_valid & (ATTR_ATIME | ATTR_MTIME)) == (ATTR_ATIME | ATTR_MTIME)) mask |= FS_ATTRIB;  // utimes
    else if (ia_valid & ATTR_ATIME) mask |= FS_ACCESS;
    else if (ia_valid & ATTR_MTIME) mask |= FS_MODIFY;
    if (mask) fsnotify_parent(d, mask, d.d_deleted);
}

void fsnotify_xattr(dentry& d) { fsnotify_parent(d, FS_ATTRIB, d.d_deleted); }
void fsnotify_access(file& f) { fsnotify_file(f, FS_ACCESS); }
void fsnotify_modify(file& f) { fsnotify_file(f, FS_MODIFY); }
void fsnotify_open(file& f) { fsnotify_file(f, FS_OPEN); }
void fsnotify_close(file& f) {
    fsnotify_file(f, (f.f_flags & O_ACCMODE_) != O_RDONLY_ ? FS_CLOSE_WRITE : FS_CLOSE_NOWRITE);
}

}  // namespace guestos
