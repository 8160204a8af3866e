// The filesystem emu had before its VFS answers by path: procfs (proc_pid_lookup's chain).
// pathfs puts it under the VFS: a lookup asks the filesystem for the lstat of the dentry's path, a link's
// target and an open go to it by that path, so namei, mounts and the syscalls are the
// VFS's. (A step on the way to giving each its own inode operations.)
#pragma once
#include <memory>
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

// What a path-answering filesystem provides; rel is the path below its root ("/" the root).
class path_ops {
public:
    virtual ~path_ops() = default;
    // lstat of rel: 0 or a negative errno (ENOENT: the name does not exist).
    virtual long lstat(task_struct& t, const std::string& rel, struct stat& st) = 0;
    virtual long open(task_struct& t, const std::string& rel, unsigned flags, std::shared_ptr<file>& out) = 0;
    virtual long readlink(task_struct& t, const std::string& rel, std::string& target) = 0;
    // A link to an open file (/proc/PID/fd/N, /proc/PID/exe), or null.
    virtual std::shared_ptr<file> magic_link(task_struct&, const std::string&) { return nullptr; }
    virtual long statfs(kstatfs&) { return 0; }
};

// A superblock over ops: dentries are revalidated at every lookup when `dynamic` (procfs's
// names change with the processes), cached otherwise.
std::shared_ptr<super_block> pathfs_fill_super(std::unique_ptr<path_ops> ops, const char* type, uint64_t magic,
                                               uint64_t dev, bool dynamic, bool read_only, task_struct* boot_task);

// procfs's path_ops.
std::unique_ptr<path_ops> proc_path_ops();

}  // namespace guestos
