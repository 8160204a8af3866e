// Struct file and its default operations (fs/file_table.c): what a file without an
// operation answers, and the inode-backed file of a regular file.
#include "guestos/include/dcache.h"
#include "guestos/include/fsnotify.h"
#include "guestos/include/cred.h"
#include "guestos/kernel/time/time.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/fs.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <unistd.h>

#include "guestos/include/filelock.h"
#include "guestos/mm/readahead.h"
#include "guestos/mm/shmem.h"
#include "guestos/include/page.h"

namespace guestos {

// The last reference (__fput): IN_CLOSE_*, and an unlinked file's last link goes with its
// dentry when nothing else holds that (dentry_unlink_inode: IN_DELETE_SELF).
file::~file() {
    locks_remove_file(*this);
    fsnotify_close(*this);
    if (f_path && f_path.dentry->d_deleted && f_inode && f_inode->i_nlink == 0 && f_path.dentry.use_count() == 1)
        fsnotify_inoderemove(*f_inode);
}

long file::read(uint8_t*, uint64_t, int64_t*) { return -EINVAL; }
long file::write(const uint8_t*, uint64_t, int64_t*) { return -EINVAL; }
long file::llseek(int64_t, int) { return -ESPIPE; }
long file::ioctl(unsigned long, uint8_t*, size_t&, size_t&) { return -ENOTTY; }

long file::set_status_flags(int flags) {
    // SETFL_MASK: O_APPEND O_NONBLOCK O_ASYNC O_DIRECT O_NOATIME
    constexpr unsigned settable = 02000 | 04000 | 020000 | 040000 | 0400000;
    f_flags = (f_flags & ~settable) | (static_cast<unsigned>(flags) & settable);
    return 0;
}

long file::getattr(struct stat& st) {
    st = {};
    if (!f_inode) return -EBADF;
    generic_fillattr(*f_inode, st);
    return 0;
}

namespace {
long host_read_folio(address_space& m, uint64_t index, uint8_t* dst) {
    const std::vector<uint8_t>& bytes = m.host->contents;
    const uint64_t off = index << PAGE_SHIFT;
    const uint64_t n = off < bytes.size() ? std::min<uint64_t>(PAGE_SIZE, bytes.size() - off) : 0;
    if (n) std::memcpy(dst, bytes.data() + off, n);
    std::memset(dst + n, 0, PAGE_SIZE - n);
    return 0;
}
}  // namespace

const address_space_operations host_file_aops = {"host_file_aops", host_read_folio, false};

void inode_touch(inode& ino, bool atime, bool mtime_ctime) {
    const timespec now = current_time();
    if (atime) ino.i_atime = now;
    if (mtime_ctime) ino.i_mtime = ino.i_ctime = now;
}

inode_file::inode_file(std::shared_ptr<inode> ino, uint64_t max_bytes) : file(std::move(ino)), max_bytes_(max_bytes) {
    if (f_inode) file_ra_state_init(*this, f_inode->i_data);
}

inode_file::~inode_file() { file_ra_state_release(*this); }

long inode_file::read(uint8_t* buf, uint64_t n, int64_t* pos) {
    if (*pos < 0) return -EINVAL;
    long r = filemap_read(*f_inode, buf, n, *pos, this);
    if (r > 0) *pos += r;
    return r;
}

std::optional<long> inode_file::read_iter(kiocb& iocb, iov_iter& to, uint64_t n) {
    if (*iocb.ki_pos < 0) return -EINVAL;
    long r = filemap_read(*f_inode, to, n, *iocb.ki_pos, this);
    if (r > 0) *iocb.ki_pos += r;
    return r;
}

long inode_file::write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) {
    if (iocb.ki_flags & IOCB_APPEND) *iocb.ki_pos = static_cast<int64_t>(f_inode->i_size);
    if (n)
        if (long e = write_check_fsize(iocb.task, *iocb.ki_pos, n)) return e;
    // generic_write_check_limits: without O_LARGEFILE (an i386 open) a file stops at 2 GiB.
    constexpr int64_t MAX_NON_LFS = 0x7fffffff;
    if (!(f_flags & O_LARGEFILE_) && n) {
        if (*iocb.ki_pos >= MAX_NON_LFS) return -EFBIG;
        n = std::min<uint64_t>(n, static_cast<uint64_t>(MAX_NON_LFS - *iocb.ki_pos));
    }
    return write(buf, n, iocb.ki_pos);
}

long inode_file::write(const uint8_t* buf, uint64_t n, int64_t* pos) {
    if (*pos < 0) return -EINVAL;
    if (!n) return 0;
    if (shmem_mapping(*f_inode))  // shmem_write_begin: the seals
        if (long e = shmem_seal_write(*f_inode, static_cast<uint64_t>(*pos), n)) return e;
    long r = generic_perform_write(*f_inode, buf, n, *pos, max_bytes_);
    if (r > 0) {
        *pos += r;
        inode_touch(*f_inode, false, true);
    }
    return r;
}

long inode_file::truncate(uint64_t size) {
    if (size > max_bytes_) return -EFBIG;
    if (!f_inode->i_data.a_ops || !f_inode->i_data.a_ops->swap_backed) return -EINVAL;  // only tmpfs is writable
    if (long e = shmem_seal_resize(*f_inode, size)) return e;
    truncate_setsize(*f_inode, size);
    inode_touch(*f_inode, false, true);
    return 0;
}

long inode_file::llseek(int64_t offset, int whence) {
    const int64_t size = static_cast<int64_t>(f_inode->i_size);
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f_pos : whence == SEEK_END ? size : -1;
    if (base < 0 || base + offset < 0) return -EINVAL;
    f_pos = base + offset;
    return f_pos;
}

}  // namespace guestos
