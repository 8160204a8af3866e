// Writing a file's or every filesystem's dirty data back (fs/sync.c): fsync, fdatasync,
// sync, syncfs and sync_file_range.
#include <sys/stat.h>

#include <cerrno>

#include "guestos/fs/internal.h"
#include "guestos/include/kernel.h"
#include "guestos/include/mount.h"
#include "guestos/mm/filemap.h"
#include "guestos/include/syscalls.h"

namespace guestos {

long sys_fsync(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    return f ? f->fsync() : -EBADF;
}
long sys_fdatasync(SysCtx& c, const uint64_t* a) { return sys_fsync(c, a); }

// sync: every filesystem's dirty pages and metadata (ksys_sync).
long sys_sync(SysCtx& c, const uint64_t*) {
    c.kernel.mnt_ns().sync_all();
    return 0;
}

// syncfs: the filesystem the fd is on (sync_filesystem).
long sys_syncfs(SysCtx& c, const uint64_t* a) {
    auto f = fdget(c, a[0]);
    if (!f) return -EBADF;
    if (f->f_inode && f->f_inode->i_sb) f->f_inode->i_sb->sync_fs();
    return 0;
}

// sync_file_range: writes back the dirty pages of a file (ksys_sync_file_range). Flags
// other than WAIT_BEFORE, WRITE and WAIT_AFTER, a negative offset or a range that wraps are
// EINVAL; anything but a regular file, block device, directory or link is ESPIPE. The
// whole file's pages are written (a superset of the range); WRITE alone starts their
// writeback and returns, WAIT_BEFORE and WAIT_AFTER wait for it.
long ksys_sync_file_range(SysCtx& c, uint64_t fd, int64_t offset, int64_t nbytes, uint64_t flags) {
    constexpr uint32_t VALID_FLAGS =
        SYNC_FILE_RANGE_WAIT_BEFORE_ | SYNC_FILE_RANGE_WRITE_ | SYNC_FILE_RANGE_WAIT_AFTER_;
    auto f = fdget(c, fd);
    if (!f) return -EBADF;
    const uint32_t fl = static_cast<uint32_t>(flags);
    const auto endbyte = static_cast<int64_t>(static_cast<uint64_t>(offset) + static_cast<uint64_t>(nbytes));
    if ((fl & ~VALID_FLAGS) || offset < 0 || endbyte < 0 || endbyte < offset) return -EINVAL;
    struct stat st {};
    if (f->f_inode) st.st_mode = f->f_inode->i_mode;
    else if (f->getattr(st)) return -ESPIPE;
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return -ESPIPE;
    if (!f->f_inode) return 0;
    address_space& m = f->f_inode->i_data;
    if (fl & SYNC_FILE_RANGE_WAIT_BEFORE_) (void)filemap_fdatawait(m);
    if (fl & SYNC_FILE_RANGE_WRITE_) {  // without a wait on both sides, writeback is only started
        constexpr uint32_t WRITE_AND_WAIT =
            SYNC_FILE_RANGE_WAIT_BEFORE_ | SYNC_FILE_RANGE_WRITE_ | SYNC_FILE_RANGE_WAIT_AFTER_;
        const auto mode = (fl & WRITE_AND_WAIT) == WRITE_AND_WAIT ? writeback_sync_modes::WB_SYNC_ALL
                                                                  : writeback_sync_modes::WB_SYNC_NONE;
        if (long e = filemap_fdatawrite_wbc(m, mode)) return e;
    }
    if (fl & SYNC_FILE_RANGE_WAIT_AFTER_) (void)filemap_fdatawait(m);
    return 0;
}

long sys_sync_file_range(SysCtx& c, const uint64_t* a) {
    if (c.compat)  // sys_ia32_sync_file_range: offset and nbytes in halves
        return ksys_sync_file_range(c, a[0], pos_arg(c, a, 1), pos_arg(c, a, 3), a[5]);
    return ksys_sync_file_range(c, a[0], static_cast<int64_t>(a[1]), static_cast<int64_t>(a[2]), a[3]);
}

}  // namespace guestos
