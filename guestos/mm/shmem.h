// shmem and tmpfs (mm/shmem.c): files whose only copy is their page cache in emulated RAM.
// They back MAP_SHARED|MAP_ANONYMOUS memory (shmem_zero_setup), memfd_create, and the tmpfs
// mounted at /tmp and /dev/shm, with real directories (kept in the dcache).
#pragma once
#include <cstdint>
#include <functional>
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

inline constexpr uint64_t TMPFS_MAGIC = 0x01021994;

// A new tmpfs instance (shmem_fill_super): its root directory of the given mode, its device
// number, room for max_blocks pages; km gives the memory its pages come from once it exists.
std::shared_ptr<super_block> shmem_fill_super(std::function<kernel_mem()> km, uint64_t dev, uint64_t max_blocks,
                                              uint32_t root_mode);

}  // namespace guestos
