// Names in ext2 directories (fs/ext2/namei.c, symlink.c): lookup, links' targets, and the
// operations that change the tree.
#include "guestos/fs/ext2/ext2.h"
#include "guestos/include/dcache.h"

namespace guestos::ext2 {

namespace {

long to_errno(const mmu::Error& e) { return -(e.errno_value ? e.errno_value : EIO); }

class ext2_iops final : public inode_operations {
public:
    // ext2_lookup: the entry's inode, or a negative dentry when the name is not there.
    long lookup(inode& dir, dentry& d, task_struct&) const override {
        auto ino = EXT2_SB(dir).fs().lookup(EXT2_I(dir).ei, d.d_name);
        if (ino.is_error()) return ino.error().errno_value == ENOENT ? 0 : to_errno(ino.error());
        auto i = EXT2_SB(dir).iget(ino.value());
        if (i.is_error()) return to_errno(i.error());
        d_instantiate(d, i.release_value());
        return 0;
    }
    // ext2_get_link / page_get_link: a fast symlink's target is in i_data, a slow one's in
    // its first block.
    long get_link(dentry& d, task_struct&, std::string& target) const override {
        inode& i = *d.d_inode;
        if (!S_ISLNK(i.i_mode)) return -EINVAL;
        auto t = EXT2_SB(i).fs().readlink(EXT2_I(i).ei);
        if (t.is_error()) return to_errno(t.error());
        target = t.release_value();
        return 0;
    }
    long setattr(dentry& d, const iattr& a) const override {
        if (d.d_sb->s_flags & SB_RDONLY) return -EROFS;
        return simple_setattr(*d.d_inode, a);
    }
    long open(const path& p, unsigned flags, task_struct&, std::shared_ptr<file>& out) const override {
        return ext2_open(p, flags, out);
    }
};

const ext2_iops ext2_iops_instance;

}  // namespace

const inode_operations& ext2_inode_ops = ext2_iops_instance;

}  // namespace guestos::ext2
