// shmem and tmpfs (mm/shmem.c): files whose only copy is their page cache in emulated RAM.
// They back MAP_SHARED|MAP_ANONYMOUS memory (shmem_zero_setup), memfd_create, and the tmpfs
// mounted at /tmp and /dev/shm, a flat directory of regular files.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

extern const address_space_operations shmem_aops;

// A new shmem inode of the given mode (shmem_get_inode); its pages come from km.
std::shared_ptr<inode> shmem_get_inode(const kernel_mem& km, uint32_t mode, uint64_t dev, std::string path);
// The file behind a shared anonymous mapping of size bytes, "/dev/zero (deleted)" in maps
// (shmem_zero_setup).
std::shared_ptr<file> shmem_zero_setup(const kernel_mem& km, uint64_t size);
// An unlinked shmem file named "memfd:NAME" (memfd_create's shmem_file_setup), open read-write.
std::shared_ptr<file> shmem_file_setup(const kernel_mem& km, const std::string& name);

// fallocate on a shmem file: allocate pages (mode 0 or FALLOC_FL_KEEP_SIZE), or punch a
// hole (FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE) that unmaps and frees the pages inside
// and zeroes the partial ones. 0 or EOPNOTSUPP, ENOSPC, EFBIG.
long shmem_fallocate(inode& ino, int mode, uint64_t offset, uint64_t len);

// One mounted tmpfs: a flat directory of regular files (shmem_fill_super's root).
class Tmpfs {
public:
    Tmpfs(std::string mountpoint, uint64_t dev) : mountpoint_(std::move(mountpoint)), dev_(dev) {}
    const std::string& mountpoint() const { return mountpoint_; }
    uint64_t dev() const { return dev_; }
    // The file called name, or null (shmem_lookup).
    std::shared_ptr<inode> lookup(const std::string& name) const;
    // A new empty file (shmem_create); the caller checked that name is free.
    std::shared_ptr<inode> create(const kernel_mem& km, const std::string& name, uint32_t mode);
    // Removes the name; open files and mappings keep the inode (shmem_unlink). ENOENT.
    long unlink(const std::string& name);
    // The files in name order (a flat directory, as dcache_readdir lists it).
    const std::map<std::string, std::shared_ptr<inode>>& entries() const { return dentries_; }
    // Drops every file (umount), before the allocator goes.
    void clear() { dentries_.clear(); }

private:
    std::string mountpoint_;
    uint64_t dev_;
    std::map<std::string, std::shared_ptr<inode>> dentries_;
};

}  // namespace guestos
