// Default file operations (what a file without the operation answers) and seq_file.
#include "guestos/include/cred.h"
#include "guestos/kernel/time/time.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/fs.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <unistd.h>

#include "guestos/include/filelock.h"
#include "guestos/mm/shmem.h"
#include "guestos/include/page.h"

namespace guestos {

file::~file() { locks_remove_file(*this); }

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

long inode_file::read(uint8_t* buf, uint64_t n, int64_t* pos) {
    if (*pos < 0) return -EINVAL;
    long r = filemap_read(*f_inode, buf, n, *pos);
    if (r > 0) *pos += r;
    return r;
}

long inode_file::write_iter(kiocb& iocb, const uint8_t* buf, uint64_t n) {
    if (iocb.ki_flags & IOCB_APPEND) *iocb.ki_pos = static_cast<int64_t>(f_inode->i_size);
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

seq_file::seq_file(show_fn show, uint32_t mode, timespec time) : show_(std::move(show)), mode_(mode), time_(time) {
    f_mode &= ~FMODE_PWRITE;  // seq_open: lseek and pread, never pwrite
}

seq_file::show_fn seq_file::single(std::function<std::string()> text) {
    return [text = std::move(text)](int64_t& index) -> std::optional<std::string> {
        if (index != 0) return std::nullopt;
        index = 1;
        return text();
    };
}

void seq_file::traverse(int64_t offset) {
    index_ = 0;
    buf_.clear();
    from_ = 0;
    for (int64_t pos = 0; pos < offset;) {
        auto rec = show_(index_);
        if (!rec) return;
        if (pos + static_cast<int64_t>(rec->size()) > offset) {  // the offset falls inside it
            buf_ = std::move(*rec);
            from_ = static_cast<size_t>(offset - pos);
            return;
        }
        pos += static_cast<int64_t>(rec->size());
    }
}

long seq_file::read(uint8_t* buf, uint64_t n, int64_t* pos) {
    if (*pos < 0) return -EINVAL;
    if (!n) return 0;
    if (*pos == 0) {  // a read from the start begins a new listing
        index_ = 0;
        buf_.clear();
        from_ = 0;
    }
    if (*pos != read_pos_) traverse(*pos);
    read_pos_ = *pos;
    uint64_t copied = 0;
    if (from_ < buf_.size()) {  // the rest of records already made goes first
        copied = std::min<uint64_t>(n, buf_.size() - from_);
        std::memcpy(buf, buf_.data() + from_, copied);
        from_ += copied;
        if (from_ < buf_.size() || copied == n) {
            *pos += static_cast<int64_t>(copied);
            read_pos_ += static_cast<int64_t>(copied);
            return static_cast<long>(copied);
        }
    }
    buf_.clear();
    from_ = 0;
    // One record (the buffer grows until it fits), then more while the reader wants more
    // and they fit the buffer.
    while (auto rec = show_(index_)) {
        if (rec->empty()) continue;
        while (rec->size() >= size_) size_ *= 2;
        buf_ = std::move(*rec);
        for (int64_t next = index_; buf_.size() < n - copied; index_ = next) {
            auto more = show_(next);
            if (!more || buf_.size() + more->size() >= size_) break;
            buf_ += *more;
        }
        break;
    }
    const uint64_t take = std::min<uint64_t>(n - copied, buf_.size());
    std::memcpy(buf + copied, buf_.data(), take);
    from_ = take;
    copied += take;
    *pos += static_cast<int64_t>(copied);
    read_pos_ += static_cast<int64_t>(copied);
    return static_cast<long>(copied);
}

long seq_file::llseek(int64_t offset, int whence) {
    if (whence == SEEK_CUR) offset += f_pos;
    else if (whence != SEEK_SET) return -EINVAL;
    if (offset < 0) return -EINVAL;
    if (offset != read_pos_) {
        traverse(offset);
        read_pos_ = offset;
    }
    return f_pos = offset;
}

long seq_file::getattr(struct stat& st) {
    st = {};
    st.st_mode = mode_;
    st.st_atim = st.st_mtim = st.st_ctim = time_;
    st.st_nlink = 1;
    st.st_blksize = 1024;
    st.st_uid = current_cred().euid;
    st.st_gid = current_cred().egid;
    return 0;
}

}  // namespace guestos
