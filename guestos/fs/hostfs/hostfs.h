// hostfs (fs/hostfs, as User-Mode Linux has it): a directory of the host mounted in the
// guest. Names, attributes and directories are the host's, looked up at each use (a
// dentry is revalidated against the host); file data goes through emu's page cache:
// read_folio preads the host file, writepage pwrites it at fsync, close, exit and reclaim.
// Host errors come back as the same errno, which is Linux's.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

// Mounts the host directory host_root (hostfs_fill_super); read_only refuses writes (EROFS).
// km gives the memory its pages come from once it exists. An error names the directory.
long hostfs_fill_super(const std::string& host_root, bool read_only, std::function<kernel_mem()> km,
                       std::shared_ptr<super_block>& out);

}  // namespace guestos
