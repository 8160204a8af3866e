// /dev (drivers/base/devtmpfs.c): a tmpfs instance holding the device nodes emu has drivers
// for and the links a Linux /dev holds (fd, stdin, stdout, stderr), mounted with and without
// a disk; /dev/shm is a tmpfs mounted on its shm directory. Being a tmpfs, it takes what a
// program makes there: nodes, directories, links, sockets (syslogd's /dev/log).
#pragma once
#include <functional>
#include <memory>

#include "guestos/include/fs.h"
#include "guestos/mm/shmem.h"

namespace guestos {

class Devtmpfs {
public:
    // The superblock (devtmpfs_init's mount) with the nodes devtmpfs_create_node makes as
    // the drivers register; km gives the memory its pages come from once it exists.
    explicit Devtmpfs(std::function<kernel_mem()> km);
    const std::shared_ptr<super_block>& sb() const { return sb_; }

private:
    std::shared_ptr<super_block> sb_;
};

}  // namespace guestos
