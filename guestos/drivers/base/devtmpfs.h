// /dev (drivers/base/devtmpfs.c): the device nodes emu has drivers for and the links a Linux
// /dev holds (fd, stdin, stdout, stderr), mounted with and without a disk; /dev/shm is a
// tmpfs mounted on it.
#pragma once
#include <sys/stat.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guestos/include/fs.h"

namespace guestos {

class Devtmpfs {
public:
    explicit Devtmpfs(const timespec& mounted);
    // Where a path below /dev ("null", "fd/3"; "" for /dev) leads when its first name is a
    // symbolic link (fd -> /proc/self/fd): the path to look up instead, or nullopt.
    std::optional<std::string> follow_link(const std::string& rest) const;
    // Opens /dev/rest (the directory for ""): the device's file, or ENOENT, ENOTDIR, EISDIR.
    long open(const std::string& rest, unsigned flags, std::shared_ptr<file>& out);
    // lstat of /dev/rest: a link reports itself.
    long lstat(const std::string& rest, struct stat& st);
    // The target of /dev/rest, or nullopt with err set (ENOENT; EINVAL: not a link).
    std::optional<std::string> readlink(const std::string& rest, int& err) const;

private:
    struct node {
        std::string name;
        std::shared_ptr<inode> ino;  // its inode (mode, rdev, times)
        std::string link;            // a symbolic link's target, else empty
    };
    const node* find(const std::string& name) const;
    std::shared_ptr<inode> root_;
    std::vector<node> nodes_;
};

}  // namespace guestos
