// shmem and tmpfs (mm/shmem.c): files whose only copy is their page cache in emulated RAM.
// They back MAP_SHARED|MAP_ANONYMOUS memory (shmem_zero_setup), memfd_create, and the tmpfs
// mounted at /tmp and /dev/shm, with real directories (kept in the dcache).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

struct vm_area_struct;

extern const address_space_operations shmem_aops;

// A new shmem inode of the given mode (shmem_get_inode); its pages come from km.
std::shared_ptr<inode> shmem_get_inode(const kernel_mem& km, uint32_t mode, uint64_t dev, std::string path);
// The file behind a shared anonymous mapping of size bytes, "/dev/zero (deleted)" in maps
// (shmem_zero_setup); vm_flags are the mapping's (VM_NORESERVE: no size commitment). Null
// when the commit limit refuses its size (ENOMEM).
std::shared_ptr<file> shmem_zero_setup(const kernel_mem& km, uint64_t size, unsigned long vm_flags);

// Overcommit for shmem (shmem_acct_size, shmem_acct_blocks): a file set up without
// VM_NORESERVE in flags commits its whole i_size now (0 or -ENOMEM); one with it commits
// each block when allocated.
long shmem_acct_size(inode& ino, unsigned long flags);
// A new block of a shmem mapping, charged to its tmpfs's size= budget and, for a
// VM_NORESERVE file, to Committed_AS (shmem_inode_acct_blocks): 0, or -ENOSPC when either
// refuses; shmem_inode_unacct_blocks gives blocks back.
long shmem_inode_acct_blocks(address_space& mapping, long pages);
void shmem_inode_unacct_blocks(address_space& mapping, long pages);
// Gives back what a shmem mapping still has committed when its inode goes (shmem_evict_inode).
void shmem_unacct_size(address_space& mapping);
// An unlinked shmem file named "memfd:NAME" (memfd_create's shmem_file_setup), open read-write.
std::shared_ptr<file> shmem_file_setup(const kernel_mem& km, const std::string& name);

// fallocate on a shmem file: allocate pages (mode 0 or FALLOC_FL_KEEP_SIZE), or punch a
// hole (FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE) that unmaps and frees the pages inside
// and zeroes the partial ones. 0 or EOPNOTSUPP, ENOSPC, EFBIG.
long shmem_fallocate(inode& ino, int mode, uint64_t offset, uint64_t len);

// Whether ino is a shmem file (tmpfs, memfd, shared anonymous memory, SysV shm).
inline bool shmem_mapping(const inode& ino) { return ino.i_data.a_ops && ino.i_data.a_ops->swap_backed; }
// What shmem's seals allow (mm/memfd.c and shmem_write_begin, shmem_setattr,
// shmem_fallocate): 0 or -EPERM for a write of len bytes at pos (len shortened so that a
// F_SEAL_GROW file does not grow), a new size, and a new mapping's vm_flags (a shared
// read-only mapping of a write-sealed file loses VM_MAYWRITE).
long shmem_seal_write(const inode& ino, uint64_t pos, uint64_t& len);
long shmem_seal_resize(const inode& ino, uint64_t new_size);
long memfd_check_seals_mmap(const inode& ino, unsigned long& vm_flags);
// fcntl's F_ADD_SEALS and F_GET_SEALS (memfd_fcntl): EINVAL for a file that is not shmem.
long memfd_fcntl(file& f, unsigned cmd, uint64_t arg);

// Reclaim of a shmem page nothing maps and only the cache holds: it gets a swap slot, is
// written there, its index keeps the swap entry instead and the frame is freed
// (shmem_writepage). False, changing nothing, without a slot or when the write fails.
bool shmem_writepage(address_space& mapping, page& p);
// Brings page index of a shmem mapping back from its swap slot into the cache, dirty,
// the slot freed (shmem_swapin_folio); ENOMEM without RAM, EIO when the read failed. A
// page not in the swap cache is read with the 2^page_cluster slots around it, which stay
// in the swap cache for later swap-ins (shmem_swapin_cluster -> swap_cluster_readahead).
mmu::ErrorOr<PhysAddr> shmem_swapin(address_space& mapping, uint64_t index);
// Bytes of a shmem mapping's pages in [start, end) (page indexes) that are out in swap
// (shmem_partial_swap_usage: the swap entries in that range of its cache).
uint64_t shmem_partial_swap_usage(const address_space& mapping, uint64_t start, uint64_t end);
// Bytes of the shmem file behind vma that are out in swap within the part it maps: the
// file's whole count when the VMA maps it all from offset 0, else the range's
// (shmem_swap_usage).
uint64_t shmem_swap_usage(const vm_area_struct& vma);
// swapoff: every shmem page in area type comes back into RAM (shmem_unuse); false when
// one could not.
bool shmem_unuse(unsigned type);

inline constexpr uint64_t TMPFS_MAGIC = 0x01021994;

// A tmpfs instance's mount options (shmem_parse_options): size= in pages and nr_inodes=
// (unset: Linux's defaults, half of RAM; 0: no limit), and the root's mode.
struct shmem_options {
    std::optional<uint64_t> max_blocks;
    std::optional<uint64_t> max_inodes;
    uint32_t mode = 01777;
};
// A new tmpfs instance (shmem_fill_super): its root directory, its device number, its
// limits; km gives the memory its pages come from once it exists. A write past the size,
// or a new file or link past nr_inodes, is ENOSPC.
std::shared_ptr<super_block> shmem_fill_super(std::function<kernel_mem()> km, uint64_t dev, const shmem_options& opt);

}  // namespace guestos
