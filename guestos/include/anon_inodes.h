// The inode behind an eventfd, an epoll or a socket (fs/anon_inodes.c's and sockfs's): no
// file system to ask, so its attributes are made here, owned by the caller's user.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>

#include "guestos/include/cred.h"

namespace guestos {

// Fills st as fstat reports such an inode: the mode, one link, the caller's ids.
inline long anon_inode_getattr(struct stat& st, uint32_t mode, uint64_t ino = 0) {
    st = {};
    st.st_mode = mode;
    st.st_ino = ino;
    st.st_nlink = 1;
    st.st_uid = current_cred().fsuid;
    st.st_gid = current_cred().fsgid;
    st.st_blksize = 4096;
    return 0;
}

}  // namespace guestos
