// Default file operations (what a file without the operation answers) and seq_file.
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/fs.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <unistd.h>

#include "guestos/include/page.h"

namespace guestos {

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
    st.st_dev = f_inode->i_dev;
    st.st_ino = f_inode->i_ino;
    st.st_mode = f_inode->i_mode;
    st.st_nlink = f_inode->i_nlink;
    st.st_uid = f_inode->i_uid;
    st.st_gid = f_inode->i_gid;
    st.st_rdev = f_inode->i_rdev;
    st.st_size = static_cast<off_t>(f_inode->i_size);
    st.st_blksize = f_inode->i_blksize;
    // Blocks allocated: a disk file says, a shmem file counts its cached pages, a host file its size.
    const address_space& m = f_inode->i_data;
    st.st_blocks = f_inode->i_blocks >= 0 ? static_cast<blkcnt_t>(f_inode->i_blocks)
                   : (m.a_ops && m.a_ops->swap_backed) ? static_cast<blkcnt_t>(m.nrpages() * (PAGE_SIZE / 512))
                                                     : static_cast<blkcnt_t>((f_inode->i_size + 511) / 512);
    st.st_atim = f_inode->i_atime;
    st.st_mtim = f_inode->i_mtime;
    st.st_ctim = f_inode->i_ctime;
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
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (atime) ino.i_atime = now;
    if (mtime_ctime) ino.i_mtime = ino.i_ctime = now;
}

long inode_file::read(uint8_t* buf, uint64_t n, int64_t* pos) {
    if (*pos < 0) return -EINVAL;
    long r = filemap_read(*f_inode, buf, n, *pos);
    if (r > 0) *pos += r;
    return r;
}

long inode_file::write(const uint8_t* buf, uint64_t n, int64_t* pos) {
    if (f_flags & O_APPEND_) *pos = static_cast<int64_t>(f_inode->i_size);
    if (*pos < 0) return -EINVAL;
    if (!n) return 0;
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

long seq_file::read(uint8_t* buf, uint64_t n, int64_t* pos) {
    if (*pos < 0) return -EINVAL;
    if (static_cast<uint64_t>(*pos) >= text_.size()) return 0;
    uint64_t len = std::min<uint64_t>(n, text_.size() - static_cast<uint64_t>(*pos));
    std::memcpy(buf, text_.data() + *pos, len);
    *pos += static_cast<int64_t>(len);
    return static_cast<long>(len);
}

long seq_file::llseek(int64_t offset, int whence) {
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f_pos : whence == SEEK_END ? static_cast<int64_t>(text_.size()) : -1;
    if (base < 0 || base + offset < 0) return -EINVAL;
    f_pos = base + offset;
    return f_pos;
}

long seq_file::getattr(struct stat& st) {
    st = {};
    st.st_mode = mode_;
    st.st_nlink = 1;
    st.st_blksize = 1024;
    st.st_uid = getuid();
    st.st_gid = getgid();
    return 0;
}

}  // namespace guestos
