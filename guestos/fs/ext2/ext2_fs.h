// ext2 as the kernel mounts it (fs/ext2/super.c's file_system_type): the disk image given
// with --disk, mounted at /.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "guestos/include/fs.h"
#include "mmu/types.h"

namespace guestos {

// st_dev of the disk's files: /dev/sda (8:0), as on a machine with one SCSI/SATA disk.
inline constexpr uint64_t ROOT_DEV = (8u << 8) | 0u;

// Opens the image and mounts the ext2 filesystem on it (mount_bdev + ext2_fill_super):
// read_only opens the image read-only. km gives the memory its pages come from once it
// exists. The error names the image and what is wrong with it.
mmu::ErrorOr<std::shared_ptr<super_block>> ext2_mount(const std::string& image, bool read_only,
                                                      std::function<kernel_mem()> km);

}  // namespace guestos
