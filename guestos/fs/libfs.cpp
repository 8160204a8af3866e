// What a filesystem gets when it leaves an operation out (fs/libfs.c, fs/attr.c, fs/stat.c):
// the answers Linux gives for a null inode operation, generic_fillattr, simple_setattr and
// dcache_readdir over a directory's cached children (tmpfs directories live only there).
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "guestos/kernel/time/time.h"
#include "guestos/include/dcache.h"
#include "guestos/include/libfs.h"
#include "guestos/drivers/char/mem.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/sched.h"
#include "guestos/include/signal.h"
#include "guestos/include/uapi/resource.h"
#include "guestos/include/uapi/signal.h"
#include "guestos/mm/filemap.h"

namespace guestos {

long inode_operations::lookup(inode&, dentry&, task_struct&) const { return 0; }
long inode_operations::create(inode&, dentry&, uint32_t) const { return -EACCES; }
long inode_operations::mkdir(inode&, dentry&, uint32_t) const { return -EPERM; }
long inode_operations::rmdir(inode&, dentry&) const { return -EPERM; }
long inode_operations::unlink(inode&, dentry&) const { return -EPERM; }
long inode_operations::symlink(inode&, dentry&, const std::string&) const { return -EPERM; }
long inode_operations::mknod(inode&, dentry&, uint32_t, uint64_t) const { return -EPERM; }
long inode_operations::link(dentry&, inode&, dentry&) const { return -EPERM; }
long inode_operations::rename(inode&, dentry&, inode&, dentry&, unsigned) const { return -EPERM; }
long inode_operations::get_link(dentry& d, task_struct&, std::string& target) const {
    if (!S_ISLNK(d.d_inode->i_mode)) return -EINVAL;
    target = d.d_inode->i_link;
    return 0;
}
long inode_operations::setattr(dentry& d, const iattr& attr) const { return simple_setattr(*d.d_inode, attr); }
long inode_operations::getattr(dentry& d, task_struct&, struct stat& st) const {
    generic_fillattr(*d.d_inode, st);
    return 0;
}
long inode_operations::open(const path& p, unsigned flags, task_struct&, std::shared_ptr<file>& out) const {
    const inode& ino = *p.dentry->d_inode;
    if (S_ISDIR(ino.i_mode)) out = std::make_shared<dcache_dir_file>(p);
    else if (S_ISREG(ino.i_mode))
        out = std::make_shared<inode_file>(p.dentry->d_inode, ino.i_sb ? ino.i_sb->s_maxbytes : ~0ull >> 1);
    else if (S_ISCHR(ino.i_mode)) return chrdev_open(p.dentry->d_inode, flags, out);  // def_chr_fops
    else return -ENXIO;  // a block device or socket node: nothing to open
    out->f_flags = flags;
    out->f_path = p;
    return 0;
}

long write_check_fsize(task_struct& t, int64_t pos, uint64_t& n) {
    const uint64_t limit = t.signal->rlim[RLIMIT_FSIZE_].rlim_cur;
    if (limit == RLIM_INFINITY_) return 0;
    if (static_cast<uint64_t>(pos) >= limit) {
        send_sig(SIGXFSZ_, t);
        return -EFBIG;
    }
    n = std::min<uint64_t>(n, limit - static_cast<uint64_t>(pos));
    return 0;
}

long inode_newsize_ok(const inode& ino, uint64_t offset) {
    if (offset <= ino.i_size) return 0;  // shrinking: no limit (no swapfile here)
    task_struct* t = get_current();
    const uint64_t limit = t ? t->signal->rlim[RLIMIT_FSIZE_].rlim_cur : RLIM_INFINITY_;
    if (limit != RLIM_INFINITY_ && offset > limit) {
        send_sig(SIGXFSZ_, *t);
        return -EFBIG;
    }
    if (ino.i_sb && offset > ino.i_sb->s_maxbytes) return -EFBIG;
    return 0;
}

void generic_fillattr(const inode& ino, struct stat& st) {
    st = {};
    st.st_dev = ino.i_dev;
    st.st_ino = ino.i_ino;
    st.st_mode = ino.i_mode;
    st.st_nlink = ino.i_nlink;
    st.st_uid = ino.i_uid;
    st.st_gid = ino.i_gid;
    st.st_rdev = ino.i_rdev;
    st.st_size = static_cast<off_t>(ino.i_size);
    st.st_blksize = ino.i_blksize;
    const address_space& m = ino.i_data;
    st.st_blocks = ino.i_blocks >= 0                   ? static_cast<blkcnt_t>(ino.i_blocks)
                   : (m.a_ops && m.a_ops->swap_backed) ? static_cast<blkcnt_t>(m.nrpages() * (PAGE_SIZE / 512))
                                                       : static_cast<blkcnt_t>((ino.i_size + 511) / 512);
    st.st_atim = ino.i_atime;
    st.st_mtim = ino.i_mtime;
    st.st_ctim = ino.i_ctime;
}

long simple_setattr(inode& ino, const iattr& a) {
    if (a.ia_valid & ATTR_SIZE) {
        if (!S_ISREG(ino.i_mode)) return S_ISDIR(ino.i_mode) ? -EISDIR : -EINVAL;
        if (ino.i_sb && a.ia_size > ino.i_sb->s_maxbytes) return -EFBIG;
        if (a.ia_size != ino.i_size) truncate_setsize(ino, a.ia_size);
    }
    const timespec now = current_time();
    if (a.ia_valid & ATTR_MODE) ino.i_mode = (ino.i_mode & S_IFMT) | (a.ia_mode & 07777);
    if (a.ia_valid & ATTR_UID) ino.i_uid = a.ia_uid;
    if (a.ia_valid & ATTR_GID) ino.i_gid = a.ia_gid;
    if (a.ia_valid & ATTR_ATIME) ino.i_atime = (a.ia_valid & ATTR_ATIME_SET) ? a.ia_atime : now;
    if (a.ia_valid & ATTR_MTIME) ino.i_mtime = (a.ia_valid & ATTR_MTIME_SET) ? a.ia_mtime : now;
    if (a.ia_valid & (ATTR_CTIME | ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE)) ino.i_ctime = now;
    return 0;
}

long dcache_dir_file::iterate_shared(const filldir_t& emit) {
    const dentry& dir = *f_path.dentry;
    auto take = [&](uint64_t ino, unsigned char type, const std::string& name) {
        if (!emit({ino, f_pos + 1, type, name})) return false;
        ++f_pos;
        cursor_ = name;
        return true;
    };
    if (f_pos == 0 && !take(f_inode->i_ino, DT_DIR, ".")) return 0;
    if (f_pos == 1) {
        const dentry* parent = dir.d_parent ? dir.d_parent.get() : &dir;
        if (!take(parent->d_inode ? parent->d_inode->i_ino : f_inode->i_ino, DT_DIR, "..")) return 0;
        cursor_.clear();
    }
    // After the cursor's name, so entries removed meanwhile do not make the listing skip.
    auto it = cursor_.empty() ? dir.d_subdirs.begin() : dir.d_subdirs.upper_bound(cursor_);
    if (cursor_.empty() && f_pos > 2) {  // lseek to an index: count from the start
        it = dir.d_subdirs.begin();
        for (int64_t i = 2; i < f_pos && it != dir.d_subdirs.end(); ++it)
            if (it->second->d_inode) ++i;
    }
    for (; it != dir.d_subdirs.end(); ++it) {
        const inode* ino = it->second->d_inode.get();
        if (!ino) continue;
        if (!take(ino->i_ino, static_cast<unsigned char>((ino->i_mode >> 12) & 15), it->first)) break;
    }
    return 0;
}

long dcache_dir_file::llseek(int64_t offset, int whence) {
    if (whence != 0 /* SEEK_SET */ || offset < 0) return -EINVAL;
    if (offset != f_pos) cursor_.clear();
    return f_pos = offset;
}

}  // namespace guestos
