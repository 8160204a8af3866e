// A minimal open-file object: what VMAs and file descriptors point at until the VFS exists.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace guestos {

// An immutable host file image (the executable). The VFS and page cache replace it.
struct inode {
    uint64_t i_ino = 0;
    uint64_t i_dev = 0;
    uint32_t i_mode = 0;
    std::string path;                 // host path, as /proc/PID/maps shows it
    std::vector<uint8_t> contents;
    uint64_t i_size() const { return contents.size(); }
};

struct file {
    std::shared_ptr<inode> f_inode;
};

}  // namespace guestos
