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

class ctl_table_root;
// Registers kernel.random (random.c's random_table): poolsize and entropy_avail (256 bits, a
// ready pool), write_wakeup_threshold and urandom_min_reseed_secs (writes accepted and
// ignored, as since Linux 5.18), boot_id (one UUID per boot) and uuid (a new one per read).
void random_sysctl_init(ctl_table_root& root);

}  // namespace guestos
