// shmem and tmpfs (mm/shmem.c).
#include "guestos/mm/shmem.h"
#include "guestos/include/uapi/fcntl.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace guestos {

namespace {

uint64_t next_shmem_ino = 1;  // get_next_ino
// The internal shm_mnt that shared anonymous memory and memfds live on shows as 00:01.
const uint64_t SHM_MNT_DEV = makedev(0, 1);

}  // namespace

const address_space_operations shmem_aops = {"shmem_aops", nullptr, true};

std::shared_ptr<inode> shmem_get_inode(const kernel_mem& km, uint32_t mode, uint64_t dev, std::string path) {
    auto ino = std::make_shared<inode>();
    ino->i_ino = ++next_shmem_ino;
    ino->i_dev = dev;
    ino->i_mode = mode;
    ino->i_uid = getuid();
    ino->i_gid = getgid();
    ino->path = std::move(path);
    ino->i_data.a_ops = &shmem_aops;
    ino->i_data.km = km;
    inode_touch(*ino, true, true);
    return ino;
}

std::shared_ptr<file> shmem_zero_setup(const kernel_mem& km, uint64_t size) {
    auto ino = shmem_get_inode(km, S_IFREG | 0777, SHM_MNT_DEV, "/dev/zero (deleted)");
    ino->i_size = size;
    ino->i_nlink = 0;
    auto f = std::make_shared<inode_file>(ino);
    f->f_flags = O_RDWR;
    return f;
}

std::shared_ptr<file> shmem_file_setup(const kernel_mem& km, const std::string& name) {
    auto ino = shmem_get_inode(km, S_IFREG | 0777, SHM_MNT_DEV, "/memfd:" + name + " (deleted)");
    ino->i_nlink = 0;
    auto f = std::make_shared<inode_file>(ino);
    f->f_flags = O_RDWR_ | O_LARGEFILE_;
    return f;
}

long shmem_fallocate(inode& ino, int mode, uint64_t offset, uint64_t len) {
    address_space& m = ino.i_data;
    if (!m.a_ops || !m.a_ops->swap_backed) return -EOPNOTSUPP;
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
    if (offset + len < offset || offset + len > static_cast<uint64_t>(INT64_MAX)) return -EFBIG;
    if (mode & FALLOC_FL_PUNCH_HOLE) {
        if (!(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
        // Unmap the pages wholly inside (not private COW copies), then free them and zero
        // the partial pages at the ends (shmem_fallocate's hole punch).
        const uint64_t first = mmu::page_align_up(offset) >> PAGE_SHIFT;
        const uint64_t end = (offset + len) >> PAGE_SHIFT;
        if (end > first) unmap_mapping_pages(m, first, end - first, false);
        truncate_inode_pages_range(m, offset, offset + len - 1);
        inode_touch(ino, false, true);
        return 0;
    }
    // Allocate every missing page; out of memory, the pages this call added go again
    // (shmem_undo_range) and the error is ENOSPC, as shmem reports it.
    std::vector<uint64_t> added;
    for (uint64_t idx = offset >> PAGE_SHIFT; idx <= (offset + len - 1) >> PAGE_SHIFT; ++idx) {
        if (find_get_page(m, idx)) continue;
        if (pagecache_get_page(m, idx).is_error()) {
            for (uint64_t a : added) truncate_inode_pages_range(m, a << PAGE_SHIFT, (a << PAGE_SHIFT) + PAGE_SIZE - 1);
            return -ENOSPC;
        }
        added.push_back(idx);
    }
    if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > ino.i_size) ino.i_size = offset + len;
    inode_touch(ino, false, true);
    return 0;
}

std::shared_ptr<inode> Tmpfs::lookup(const std::string& name) const {
    auto it = dentries_.find(name);
    return it == dentries_.end() ? nullptr : it->second;
}

std::shared_ptr<inode> Tmpfs::create(const kernel_mem& km, const std::string& name, uint32_t mode) {
    auto ino = shmem_get_inode(km, S_IFREG | (mode & 07777), dev_, mountpoint_ + "/" + name);
    dentries_[name] = ino;
    return ino;
}

long Tmpfs::unlink(const std::string& name) {
    auto it = dentries_.find(name);
    if (it == dentries_.end()) return -ENOENT;
    it->second->i_nlink = 0;
    it->second->path += " (deleted)";
    inode_touch(*it->second, false, true);
    dentries_.erase(it);
    return 0;
}

}  // namespace guestos
