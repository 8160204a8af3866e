// posix_fadvise (mm/fadvise.c, generic_fadvise) and readahead(2) (mm/readahead.c,
// ksys_readahead): the advice is checked; NORMAL, RANDOM and SEQUENTIAL tune the file's
// read-ahead (the device's window, none, twice the device's window), WILLNEED reads the range
// in (force_page_cache_readahead), DONTNEED writes the range's dirty pages and drops the
// clean, unmapped pages wholly inside it. Shmem has no device: only the check.
#include <sys/stat.h>

#include <cerrno>
#include <climits>

#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/readahead.h"

namespace guestos {

namespace {

long ksys_fadvise64_64(SysCtx& c, int fd, int64_t offset, int64_t len, int advice) {
    auto f = c.task.files ? fdget(c, static_cast<uint32_t>(fd)) : nullptr;  // O_PATH: EBADF
    if (!f) return -EBADF;
    return vfs_fadvise(*f, offset, len, advice);
}

// readahead(2) (ksys_readahead): WILLNEED on a regular file open for reading.
long ksys_readahead(SysCtx& c, int fd, int64_t offset, uint64_t count) {
    auto f = c.task.files ? fdget(c, static_cast<uint32_t>(fd)) : nullptr;
    if (!f || (f->f_flags & O_ACCMODE_) == O_WRONLY_) return -EBADF;  // !FMODE_READ
    if (!f->f_inode || !f->f_inode->i_data.a_ops || !S_ISREG(f->f_inode->i_mode)) return -EINVAL;
    return vfs_fadvise(*f, offset, static_cast<int64_t>(count), POSIX_FADV_WILLNEED_);
}

}  // namespace

long vfs_fadvise(file& f, int64_t offset, int64_t len, int advice) {
    struct stat st {};
    if (f.getattr(st) == 0 && S_ISFIFO(st.st_mode)) return -ESPIPE;
    if (len < 0) return -EINVAL;
    if (advice < POSIX_FADV_NORMAL_ || advice > POSIX_FADV_NOREUSE_) return -EINVAL;
    if (!f.f_inode) return 0;  // no page cache
    address_space& m = f.f_inode->i_data;
    // Len 0 means "to the end"; the range is in bytes [offset, endbyte].
    uint64_t endbyte = static_cast<uint64_t>(offset) + static_cast<uint64_t>(len);
    if (!len || endbyte < static_cast<uint64_t>(len)) endbyte = LLONG_MAX;
    else --endbyte;
    const backing_dev_info& bdi = inode_to_bdi(m);
    if (!bdi.ra_pages && advice != POSIX_FADV_DONTNEED_) return 0;  // noop_backing_dev_info: the advice is ignored
    switch (advice) {
    case POSIX_FADV_NORMAL_:
        f.f_ra.ra_pages = bdi.ra_pages;
        f.f_mode &= ~FMODE_RANDOM;
        return 0;
    case POSIX_FADV_RANDOM_: f.f_mode |= FMODE_RANDOM; return 0;
    case POSIX_FADV_SEQUENTIAL_:
        f.f_ra.ra_pages = bdi.ra_pages * 2;
        f.f_mode &= ~FMODE_RANDOM;
        return 0;
    case POSIX_FADV_WILLNEED_: {
        // From the first to the last partial page; a count that wraps is "all".
        const uint64_t start_index = static_cast<uint64_t>(offset) >> PAGE_SHIFT;
        uint64_t nrpages = (endbyte >> PAGE_SHIFT) - start_index + 1;
        if (!nrpages) nrpages = ~0ull;
        force_page_cache_readahead(m, &f, start_index, nrpages);
        return 0;
    }
    case POSIX_FADV_DONTNEED_: break;
    default: return 0;  // NOREUSE
    }
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

long sys_readahead(SysCtx& c, const uint64_t* a) {
    if (c.compat)  // ia32_readahead: the offset in two halves, a 32-bit count
        return ksys_readahead(c, static_cast<int>(a[0]), static_cast<int64_t>((a[1] & 0xffffffffu) | (a[2] << 32)),
                              static_cast<uint32_t>(a[3]));
    return ksys_readahead(c, static_cast<int>(a[0]), static_cast<int64_t>(a[1]), a[2]);
}

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
