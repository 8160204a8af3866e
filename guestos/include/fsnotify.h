// Filesystem change notification (include/linux/fsnotify.h, fsnotify_backend.h): the VFS
// reports each change at the point Linux does (fsnotify_create, fsnotify_modify, ...); a
// group (one inotify instance) puts marks on inodes and receives the events its marks ask
// for, a directory's marks also those of its children, with the child's name.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

struct dentry;

// The events (FS_*, the same bits as inotify's IN_*).
inline constexpr uint32_t FS_ACCESS = 0x1, FS_MODIFY = 0x2, FS_ATTRIB = 0x4, FS_CLOSE_WRITE = 0x8,
                          FS_CLOSE_NOWRITE = 0x10, FS_OPEN = 0x20, FS_MOVED_FROM = 0x40, FS_MOVED_TO = 0x80,
                          FS_CREATE = 0x100, FS_DELETE = 0x200, FS_DELETE_SELF = 0x400, FS_MOVE_SELF = 0x800,
                          FS_UNMOUNT = 0x2000, FS_Q_OVERFLOW = 0x4000, FS_IN_IGNORED = 0x8000,
                          FS_EVENT_ON_CHILD = 0x08000000, FS_ISDIR = 0x40000000;
inline constexpr uint32_t ALL_FSNOTIFY_EVENTS = 0xfff | FS_UNMOUNT | FS_Q_OVERFLOW;
// What a directory hears of its children (FS_EVENTS_POSS_ON_CHILD).
inline constexpr uint32_t FS_EVENTS_POSS_ON_CHILD =
    FS_ACCESS | FS_MODIFY | FS_ATTRIB | FS_CLOSE_WRITE | FS_CLOSE_NOWRITE | FS_OPEN;

struct fsnotify_mark;

// A listener (struct fsnotify_group with its fsnotify_ops).
struct fsnotify_group {
    virtual ~fsnotify_group() = default;
    // One event a mark asked for: name is the child's, for a directory's mark (handle_inode_event).
    virtual void handle_inode_event(fsnotify_mark& mark, uint32_t mask, const std::string* name, uint32_t cookie) = 0;
    // The mark is going (freeing_mark): inotify queues IN_IGNORED and frees the wd.
    virtual void freeing_mark(fsnotify_mark& mark) = 0;
};

// A group's interest in one inode (struct fsnotify_mark): it holds the inode, as Linux's
// mark pins it.
struct fsnotify_mark {
    std::weak_ptr<fsnotify_group> group;
    std::shared_ptr<inode> ino;
    uint32_t mask = 0;
    bool oneshot = false, excl_unlink = false;
    int wd = -1;  // inotify's watch descriptor
};

// Puts mark on its inode (fsnotify_add_inode_mark).
void fsnotify_add_inode_mark(const std::shared_ptr<fsnotify_mark>& mark);
// Takes mark off its inode and tells its group (fsnotify_destroy_mark).
// (By value: the caller's reference may live in the group's idr, which freeing_mark erases.)
void fsnotify_destroy_mark(std::shared_ptr<fsnotify_mark> mark);
// The group's mark on ino, or null (fsnotify_find_inode_mark).
std::shared_ptr<fsnotify_mark> fsnotify_find_mark(const inode& ino, const fsnotify_group& group);

// The VFS's reports, named as Linux's.
void fsnotify_create(inode& dir, dentry& d);            // a new name in dir (create, mkdir, mknod, symlink)
void fsnotify_link(inode& dir, inode& ino, dentry& d);  // a new link: IN_ATTRIB, then IN_CREATE
void fsnotify_link_count(inode& ino);                   // its link count changed: IN_ATTRIB
void fsnotify_delete(inode& dir, inode& ino, const std::string& name);  // a name gone from dir
void fsnotify_inoderemove(inode& ino);  // the last link's dentry is gone: IN_DELETE_SELF
// A rename: IN_MOVED_FROM and IN_MOVED_TO with one cookie, the replaced target's link
// count, IN_MOVE_SELF on the moved inode.
void fsnotify_move(inode& old_dir, inode& new_dir, const std::string& old_name, const std::string& new_name, bool isdir,
                   inode* target, inode& source);
void fsnotify_change(dentry& d, unsigned ia_valid);  // setattr's changes (notify_change)
void fsnotify_xattr(dentry& d);                      // an extended attribute changed
void fsnotify_access(file& f);                       // read
void fsnotify_modify(file& f);                       // write
void fsnotify_open(file& f);
void fsnotify_close(file& f);  // the file's last reference: IN_CLOSE_WRITE or IN_CLOSE_NOWRITE

class ctl_table_root;
// Registers /proc/sys/fs/inotify: max_user_instances, max_user_watches (from RAM, as
// inotify_user_setup sizes it) and max_queued_events.
void inotify_sysctl_init(ctl_table_root& root, uint64_t totalram_pages);

}  // namespace guestos
