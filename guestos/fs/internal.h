// What the file syscalls share across guestos/fs (Linux's fs/internal.h): the caps on one
// transfer, the user iovecs of a vectored call, and the IOCB_* flags of a plain read/write.
#pragma once
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "guestos/include/fs.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

inline constexpr uint64_t MAX_RW_COUNT = 0x7ffff000;  // Linux caps one read/write at this
// f_mode: this open created the file (FMODE_CREATED of linux/fs.h; F_CREATED_QUERY reads it).
inline constexpr unsigned FMODE_CREATED = 0x100000;
inline constexpr uint64_t UIO_MAXIOV = 1024;
inline constexpr uint64_t IO_CHUNK = 1 << 20;  // the host buffer one transfer step uses

// A host buffer of up to IO_CHUNK bytes for one transfer step, not zeroed, taken from a
// small pool and given back at the end of its scope (a task that sleeps inside a transfer
// keeps its own): no allocation, and no zeroing of a megabyte, per read or write call.
class io_buffer {
public:
    explicit io_buffer(uint64_t n);
    ~io_buffer();
    io_buffer(const io_buffer&) = delete;
    io_buffer& operator=(const io_buffer&) = delete;
    uint8_t* data() const { return buf_.get(); }
    uint64_t size() const { return n_; }

private:
    std::unique_ptr<uint8_t[]> buf_;
    uint64_t n_;
};

// The user buffers of one read or write (an iov_iter over user iovecs): segments of
// (address, length), their lengths already capped so the total is at most MAX_RW_COUNT.
using user_iovec = std::vector<std::pair<uint64_t, uint64_t>>;

// Reads a user iovec array as import_iovec does: at most UIO_MAXIOV entries, no negative
// length, every buffer within access_ok (EFAULT), lengths cut so the total stays within
// MAX_RW_COUNT. Returns the total or a negative errno.
long import_iovec(SysCtx& c, VirtAddr uiov, uint64_t cnt, user_iovec& out);

// Whether f was opened for reading (FMODE_READ) or writing (FMODE_WRITE); O_PATH for neither.
inline bool fmode_read(const file& f) { return (f.f_flags & O_ACCMODE_) != O_WRONLY_ && !(f.f_flags & O_PATH_); }
inline bool fmode_write(const file& f) { return (f.f_flags & O_ACCMODE_) != O_RDONLY_ && !(f.f_flags & O_PATH_); }

// The IOCB_* flags a plain read or write of f has (iocb_flags): its O_APPEND, O_DSYNC, O_SYNC.
unsigned iocb_flags(const file& f);

// rw_verify_area's checks of a transfer of count bytes at *pos (null for a stream): EINVAL
// for a negative count or position, or one that would wrap past the largest offset.
long rw_verify_area(const int64_t* pos, uint64_t count);

// Whether f's access mode allows reading or writing (O_ACCMODE alone, as the read and
// write paths check it).
inline bool readable(const file& f) { return (f.f_flags & O_ACCMODE_) != O_WRONLY_; }
inline bool writable(const file& f) { return (f.f_flags & O_ACCMODE_) != O_RDONLY_; }

// A 64-bit offset argument at a[i]: whole on x86-64, split low/high over a[i], a[i+1] on i386.
inline int64_t pos_arg(SysCtx& c, const uint64_t* a, int i) {
    return c.compat ? static_cast<int64_t>(a[i] | (a[i + 1] << 32)) : static_cast<int64_t>(a[i]);
}

// Puts f at the lowest free fd >= from (f_dupfd: fcntl's F_DUPFD and F_DUPFD_CLOEXEC);
// EINVAL when from is at or past RLIMIT_NOFILE.
long f_dupfd(SysCtx& c, uint64_t from, std::shared_ptr<file> f, bool cloexec);

}  // namespace guestos
