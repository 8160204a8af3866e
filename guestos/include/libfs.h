// Helpers a simple filesystem builds on (fs/libfs.c).
#pragma once
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

// A directory whose entries are its dentry's cached positive children (dcache_readdir with
// its cursor): "." and ".." first, then the names in order; a position past an entry that
// was removed since still continues after it.
class dcache_dir_file final : public file {
public:
    explicit dcache_dir_file(const struct path& p) : file(p.dentry->d_inode) { f_path = p; }
    long read(uint8_t*, uint64_t, int64_t*) override { return -EISDIR; }
    long fsync() override { return 0; }  // simple_dir_operations' noop_fsync
    long llseek(int64_t offset, int whence) override;
    long iterate_shared(const filldir_t& emit) override;

private:
    std::string cursor_;  // the last name listed
};

}  // namespace guestos
