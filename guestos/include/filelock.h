// File locks (include/linux/filelock.h, fs/locks.c): POSIX record locks owned by a process's
// fd table (fcntl F_SETLK), open file description locks (F_OFD_SETLK) and flock(2) locks
// owned by the open file. POSIX and OFD locks share one list per inode and conflict with
// each other; flock locks are a separate list. A blocked request sleeps on the inode's
// wait queue and looks again whenever a lock there goes or shrinks.
#pragma once
#include <cstdint>
#include <vector>

#include "guestos/include/wait.h"

namespace guestos {

class ctl_table_root;
class file;
struct SysCtx;
struct files_struct;
struct inode;

inline constexpr unsigned FL_POSIX = 1, FL_FLOCK = 2, FL_OFD = 0x400;
inline constexpr int64_t OFFSET_MAX = INT64_MAX;

struct file_lock {
    const void* fl_owner = nullptr;  // the files_struct (POSIX) or the file (OFD, flock)
    unsigned fl_flags = 0;
    int fl_type = 0;  // F_RDLCK, F_WRLCK, F_UNLCK
    int fl_pid = 0;   // the owner's tgid; OFD locks report -1
    int64_t fl_start = 0, fl_end = OFFSET_MAX;
    const file* fl_file = nullptr;
};

// The locks of one inode (struct file_lock_context).
struct file_lock_context {
    std::vector<file_lock> flc_posix, flc_flock;
    wait_queue_head flc_wait;  // blocked requests, woken when a lock goes
};

// Drops the POSIX locks owner holds on f's inode (locks_remove_posix: any close of an fd).
void locks_remove_posix(const file& f, const files_struct* owner);
// fcntl's lock commands on f (fcntl_getlk / fcntl_setlk, with the i386 layouts).
long fcntl_lock(SysCtx& c, file& f, int cmd, uint64_t arg);
// Drops the OFD and flock locks of the open file (locks_remove_file: its last close).
void locks_remove_file(const file& f);

// Registers fs.lease-break-time (45 seconds, fs/locks.c's locks_sysctls). emu grants no
// leases (F_SETLEASE), so nothing waits on it yet.
void locks_sysctl_init(ctl_table_root& root);

}  // namespace guestos
