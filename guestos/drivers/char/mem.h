// The character devices (drivers/char/mem.c, random.c, tty_io.c): null, zero, full, random,
// urandom and /dev/tty, opened by major:minor (chrdev_open) wherever their node is: devtmpfs,
// a tmpfs or a disk.
#pragma once
#include <sys/sysmacros.h>

#include <cstdint>
#include <memory>

#include "guestos/include/fs.h"

namespace guestos {

inline constexpr unsigned MEM_MAJOR = 1, TTYAUX_MAJOR = 5;

// Opens the character device rdev (chrdev_open): its file, or -ENXIO when emu has no driver
// for it. ino is the inode of the node it was opened through.
long chrdev_open(std::shared_ptr<inode> ino, unsigned flags, std::shared_ptr<file>& out);

}  // namespace guestos
