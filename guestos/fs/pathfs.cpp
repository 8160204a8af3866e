// pathfs: the path-answering filesystem (procfs) under the VFS.
#include "guestos/fs/pathfs.h"

#include <sys/stat.h>

#include "guestos/fs/proc/base.h"
#include "guestos/include/dcache.h"
#include "guestos/include/sched.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

namespace {

class pathfs_sb final : public super_block {
public:
    pathfs_sb(std::unique_ptr<path_ops> ops, bool dynamic) : ops(std::move(ops)), dynamic_(dynamic) {}
    long statfs(kstatfs& buf) override {
        buf.f_type = s_magic;
        buf.f_flags = (s_flags & SB_RDONLY) ? ST_RDONLY : 0;
        return ops->statfs(buf);
    }
    bool d_revalidate(dentry&) override { return !dynamic_; }
    std::unique_ptr<path_ops> ops;

private:
    bool dynamic_;
};

pathfs_sb& PATHFS_SB(const dentry& d) { return static_cast<pathfs_sb&>(*d.d_sb); }

class pathfs_iops final : public inode_operations {
public:
    long lookup(inode&, dentry& d, task_struct& t) const override {
        struct stat st;
        long e = PATHFS_SB(d).ops->lstat(t, dentry_path_raw(d), st);
        if (e == -ENOENT) return 0;
        if (e) return e;
        d_instantiate(d, make_inode(*d.d_sb, st));
        return 0;
    }
    long get_link(dentry& d, task_struct& t, std::string& target) const override {
        return PATHFS_SB(d).ops->readlink(t, dentry_path_raw(d), target);
    }
    std::shared_ptr<file> magic_link(dentry& d, task_struct& t) const override {
        return PATHFS_SB(d).ops->magic_link(t, dentry_path_raw(d));
    }
    long getattr(dentry& d, task_struct& t, struct stat& st) const override {
        return PATHFS_SB(d).ops->lstat(t, dentry_path_raw(d), st);
    }
    // proc_setattr: no new mode or owner; a size is ignored. (Devices likewise here.)
    long setattr(dentry& d, const iattr& a) const override {
        if (d.d_sb->s_flags & SB_RDONLY) return -EROFS;
        return (a.ia_valid & (ATTR_MODE | ATTR_UID | ATTR_GID)) ? -EPERM : 0;
    }
    long open(const path& p, unsigned flags, task_struct& t, std::shared_ptr<file>& out) const override {
        return PATHFS_SB(*p.dentry).ops->open(t, dentry_path_raw(*p.dentry), flags, out);
    }
    static std::shared_ptr<inode> make_inode(super_block& sb, const struct stat& st);
};

const pathfs_iops pathfs_inode_ops;

std::shared_ptr<inode> pathfs_iops::make_inode(super_block& sb, const struct stat& st) {
    auto ino = std::make_shared<inode>(inode_cache_kind::proc);
    ino->i_ino = st.st_ino;
    ino->i_dev = st.st_dev;
    ino->i_rdev = st.st_rdev;
    ino->i_mode = st.st_mode;
    ino->i_nlink = static_cast<uint32_t>(st.st_nlink);
    ino->i_uid = st.st_uid;
    ino->i_gid = st.st_gid;
    ino->i_size = static_cast<uint64_t>(st.st_size);
    ino->i_blocks = st.st_blocks;
    ino->i_atime = st.st_atim;
    ino->i_mtime = st.st_mtim;
    ino->i_ctime = st.st_ctim;
    ino->i_sb = &sb;
    ino->i_op = &pathfs_inode_ops;
    return ino;
}

// /proc below its mount: the paths procfs parses are absolute ("/proc/self/maps").
class proc_ops final : public path_ops {
public:
    long lstat(task_struct& t, const std::string& rel, struct stat& st) override {
        const std::string abs = full(rel);
        if (long e = proc_lstat(t, abs, st); e <= 0) return e;
        std::shared_ptr<file> f;
        if (long e = proc_open(t, abs, O_RDONLY_, f)) return e;
        return f->getattr(st);
    }
    long open(task_struct& t, const std::string& rel, unsigned flags, std::shared_ptr<file>& out) override {
        return proc_open(t, full(rel), flags, out);
    }
    long readlink(task_struct& t, const std::string& rel, std::string& target) override {
        int err = ENOENT;
        auto link = proc_readlink(t, full(rel), err);
        if (!link) return -err;
        target = *link;
        return 0;
    }
    std::shared_ptr<file> magic_link(task_struct& t, const std::string& rel) override {
        const std::string abs = full(rel);
        if (auto f = proc_fd_file(t, abs)) return f;
        int err = 0;
        if (t.exe_inode && rel.size() > 4 && rel.compare(rel.size() - 4, 4, "/exe") == 0 &&
            proc_readlink(t, abs, err) == t.exe_path)
            return std::make_shared<inode_file>(t.exe_inode);
        return nullptr;
    }

private:
    static std::string full(const std::string& rel) { return rel == "/" ? "/proc" : "/proc" + rel; }
};

}  // namespace

std::shared_ptr<super_block> pathfs_fill_super(std::unique_ptr<path_ops> ops, const char* type, uint64_t magic,
                                               uint64_t dev, bool dynamic, bool read_only, task_struct* boot_task) {
    auto sb = std::make_shared<pathfs_sb>(std::move(ops), dynamic);
    sb->s_type = type;
    sb->s_magic = magic;
    sb->s_dev = dev;
    if (read_only) sb->s_flags |= SB_RDONLY;
    struct stat st {};
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
    st.st_ino = 1;
    st.st_dev = dev;
    if (boot_task) (void)sb->ops->lstat(*boot_task, "/", st);
    sb->s_root = d_make_root(*sb, pathfs_iops::make_inode(*sb, st));
    return sb;
}

std::unique_ptr<path_ops> proc_path_ops() { return std::make_unique<proc_ops>(); }

}  // namespace guestos
