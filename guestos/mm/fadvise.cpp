// posix_fadvise (mm/fadvise.c, generic_fadvise): the advice is checked; POSIX_FADV_DONTNEED
// writes the range's dirty pages and drops the clean, unmapped pages wholly inside it.
#include <sys/stat.h>

#include <cerrno>
#include <climits>

#include "guestos/include/syscalls.h"
#include "guestos/mm/filemap.h"

namespace guestos {

namespace {

enum : int {
    POSIX_FADV_NORMAL_ = 0,
    POSIX_FADV_RANDOM_ = 1,
    POSIX_FADV_SEQUENTIAL_ = 2,
    POSIX_FADV_WILLNEED_ = 3,
    POSIX_FADV_DONTNEED_ = 4,
    POSIX_FADV_NOREUSE_ = 5,
};

long ksys_fadvise64_64(SysCtx& c, int fd, int64_t offset, int64_t len, int advice) {
    auto f = c.task.files ? fdget(c, static_cast<uint32_t>(fd)) : nullptr;  // O_PATH: EBADF
    if (!f) return -EBADF;
    struct stat st {};
    if (f->getattr(st) == 0 && S_ISFIFO(st.st_mode)) return -ESPIPE;
    if (len < 0) return -EINVAL;
    if (advice < POSIX_FADV_NORMAL_ || advice > POSIX_FADV_NOREUSE_) return -EINVAL;
    if (!f->f_inode || advice != POSIX_FADV_DONTNEED_) return 0;  // no page cache, or advice that only tunes readahead
    address_space& m = f->f_inode->i_data;
    // Len 0 means "to the end"; the range is in bytes [offset, endbyte].
    uint64_t endbyte = static_cast<uint64_t>(offset) + static_cast<uint64_t>(len);
    if (!len || endbyte < static_cast<uint64_t>(len)) endbyte = LLONG_MAX;
    else --endbyte;
    (void)filemap_write_and_wait(m);  // __filemap_fdatawrite_range: dirty pages become clean first
    // Only pages wholly inside the range go: a partial page at either end stays.
    const uint64_t start_index = (static_cast<uint64_t>(offset) + PAGE_SIZE - 1) >> PAGE_SHIFT;
    uint64_t end_index = endbyte >> PAGE_SHIFT;
    if ((endbyte & (PAGE_SIZE - 1)) != PAGE_SIZE - 1) {
        if (end_index == 0) return 0;
        --end_index;
    }
    if (end_index >= start_index) invalidate_mapping_pages(m, start_index, end_index);
    return 0;
}

}  // namespace

long sys_fadvise64(SysCtx& c, const uint64_t* a) {
    if (c.compat)  // ia32_fadvise64: the offset in two halves, a 32-bit length
        return ksys_fadvise64_64(c, static_cast<int>(a[0]), static_cast<int64_t>((a[1] & 0xffffffffu) | (a[2] << 32)),
                                 static_cast<int64_t>(static_cast<uint32_t>(a[3])), static_cast<int>(a[4]));
    return ksys_fadvise64_64(c, static_cast<int>(a[0]), static_cast<int64_t>(a[1]), static_cast<int64_t>(a[2]),
                             static_cast<int>(a[3]));
}

long sys_fadvise64_64(SysCtx& c, const uint64_t* a) {  // i386 only: offset and length in halves
    return ksys_fadvise64_64(c, static_cast<int>(a[0]), static_cast<int64_t>((a[1] & 0xffffffffu) | (a[2] << 32)),
                             static_cast<int64_t>((a[3] & 0xffffffffu) | (a[4] << 32)), static_cast<int>(a[5]));
}

}  // namespace guestos
