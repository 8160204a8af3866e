// Extended attributes (include/linux/xattr.h, fs/xattr.c): a filesystem hangs one handler
// per name prefix off its super_block (s_xattr); the VFS checks permissions and finds the
// handler, which gets and sets the value. simple_xattrs is the in-memory store of tmpfs.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "guestos/include/fs.h"

namespace guestos {

// The operations of one namespace (struct xattr_handler): name is the whole name, prefix
// included (xattr_full_name); a null value removes (__vfs_removexattr).
struct xattr_handler {
    const char* prefix;
    // The value's size, copying it to buf unless size is 0: ENODATA, ERANGE.
    long (*get)(const xattr_handler&, inode& ino, const std::string& name, uint8_t* buf, size_t size);
    // Sets (XATTR_CREATE: EEXIST; XATTR_REPLACE: ENODATA) or removes the value.
    long (*set)(const xattr_handler&, inode& ino, const std::string& name, const uint8_t* value, size_t size,
                int flags);
};

// One inode's attributes kept in memory (struct simple_xattrs), ordered by name as
// Linux's rbtree keeps them.
struct simple_xattrs {
    std::map<std::string, std::vector<uint8_t>> xattrs;
};
// simple_xattr_get: the value's size, copied to buf when size is not 0 (ERANGE if short).
long simple_xattr_get(const simple_xattrs& x, const std::string& name, uint8_t* buf, size_t size);
// simple_xattr_set: set, create or replace (EEXIST, ENODATA), or remove when value is null.
long simple_xattr_set(simple_xattrs& x, const std::string& name, const uint8_t* value, size_t size, int flags);
// simple_xattr_list: the names, each NUL-terminated, trusted.* only for CAP_SYS_ADMIN; the
// size needed when size is 0, ERANGE when buf is short.
long simple_xattr_list(const simple_xattrs& x, char* buf, size_t size);

}  // namespace guestos
