// File locks (include/linux/filelock.h, fs/locks.c): POSIX record locks owned by a process's
// fd table (fcntl F_SETLK), open file description locks (F_OFD_SETLK) and flock(2) locks
// owned by the open file. POSIX and OFD locks share one list per inode and conflict with
// each other; flock locks are a separate list. A blocked request sleeps on the inode's
// wait queue and looks again whenever a lock there goes or shrinks. Leases (F_SETLEASE) are
// a third list: an open or truncate that conflicts with one signals its holder and waits
// until the holder gives it up or fs.lease-break-time passes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "guestos/include/wait.h"
#include "guestos/kernel/time/time.h"

namespace guestos {

class ctl_table_root;
class file;
struct SysCtx;
struct files_struct;
struct inode;
struct task_struct;

inline constexpr unsigned FL_POSIX = 1, FL_FLOCK = 2, FL_LEASE = 0x20, FL_OFD = 0x400;
// A lease being broken: its holder must remove it, or downgrade it to a read lease.
inline constexpr unsigned FL_UNLOCK_PENDING = 0x200, FL_DOWNGRADE_PENDING = 0x800;
inline constexpr int64_t OFFSET_MAX = INT64_MAX;

struct file_lock {
    const void* fl_owner = nullptr;  // the files_struct (POSIX) or the file (OFD, flock)
    unsigned fl_flags = 0;
    int fl_type = 0;  // F_RDLCK, F_WRLCK, F_UNLCK
    int fl_pid = 0;   // the owner's tgid; OFD locks report -1
    int64_t fl_start = 0, fl_end = OFFSET_MAX;
    const file* fl_file = nullptr;
    uint64_t fl_seq = 0;  // when it joined the global list (/proc/locks shows the newest first)
};

// A lease (struct file_lease): owned by the open file it was set on; a break sets a pending
// flag and the time (CLOCK_MONOTONIC, 0: never) at which it is forced.
struct file_lease {
    file* fl_file = nullptr;
    int fl_type = 0;  // F_RDLCK or F_WRLCK
    unsigned fl_flags = FL_LEASE;
    int fl_pid = 0;  // the setter's tgid
    int fa_fd = 0;   // the descriptor the lease was set through (si_fd of its break signal)
    ktime_t fl_break_time = 0, fl_downgrade_time = 0;
    uint64_t fl_seq = 0;
};

// The locks of one inode (struct file_lock_context), with the inode's device and number
// for /proc/locks; every context is on a global list while it lives.
struct file_lock_context {
    file_lock_context(uint64_t dev, uint64_t ino);
    ~file_lock_context();
    file_lock_context(const file_lock_context&) = delete;
    file_lock_context& operator=(const file_lock_context&) = delete;
    std::vector<file_lock> flc_posix, flc_flock;
    std::vector<file_lease> flc_lease;
    wait_queue_head flc_wait;  // blocked requests, woken when a lock goes
    uint64_t s_dev, i_ino;
    // Opens for writing (and truncates) waiting in break_lease: Linux's i_writecount counts
    // them already, so a holder cannot downgrade to a read lease meanwhile.
    int breaking_writers = 0;
};

// Drops the POSIX locks owner holds on f's inode (locks_remove_posix: any close of an fd).
void locks_remove_posix(const file& f, const files_struct* owner);
// fcntl's lock commands on f (fcntl_getlk / fcntl_setlk, with the i386 layouts).
long fcntl_lock(SysCtx& c, file& f, int cmd, uint64_t arg);
// Drops the OFD and flock locks of the open file (locks_remove_file: its last close).
void locks_remove_file(const file& f);

// fcntl F_SETLEASE on descriptor fd of f (fcntl_setlease): arg F_RDLCK, F_WRLCK or F_UNLCK.
long fcntl_setlease(SysCtx& c, int fd, file& f, long arg);
// fcntl F_GETLEASE (fcntl_getlease): the lease type f holds, or what a pending break asks.
long fcntl_getlease(file& f);
// An open with flags `mode`, or a truncate (O_WRONLY), of ino by task: breaks the leases it
// conflicts with and waits for them to go (__break_lease): 0, -EWOULDBLOCK for O_NONBLOCK,
// -ERESTARTSYS on a signal.
long break_lease(task_struct& task, inode& ino, unsigned mode);

// /proc/locks (locks_show): every lock and lease, the newest first, each followed by the
// requests blocked on it ("-> ").
std::string locks_show();

// Registers fs.lease-break-time (45 seconds, fs/locks.c's locks_sysctls): how long a lease
// break waits for the holder.
void locks_sysctl_init(ctl_table_root& root);

}  // namespace guestos
