// Path lookup (include/linux/namei.h, fs/namei.c): from a starting directory (the root, the
// working directory or a dirfd) component by component through the dcache, crossing
// mounts, following symbolic links (at most MAXSYMLINKS of them), checking search
// permission on every directory passed.
#pragma once
#include <memory>
#include <string>

#include "guestos/include/mount.h"

namespace guestos {

struct SysCtx;

inline constexpr unsigned LOOKUP_FOLLOW = 1, LOOKUP_DIRECTORY = 2, LOOKUP_EMPTY = 0x4000;
// openat2's RESOLVE_* as lookup flags: no mount crossing (EXDEV), no magic links or no
// symbolic links at all (ELOOP), the walk kept beneath the start (EXDEV) or rooted at it,
// and only what the dcache holds (EAGAIN).
inline constexpr unsigned LOOKUP_NO_SYMLINKS = 0x010000, LOOKUP_NO_MAGICLINKS = 0x020000, LOOKUP_NO_XDEV = 0x040000,
                          LOOKUP_BENEATH = 0x080000, LOOKUP_IN_ROOT = 0x100000, LOOKUP_CACHED = 0x200000;
inline constexpr unsigned LOOKUP_IS_SCOPED = LOOKUP_BENEATH | LOOKUP_IN_ROOT;
inline constexpr int MAXSYMLINKS = 40;
inline constexpr int MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4;

// Reads a user path as getname does: EFAULT, ENOENT for "" (unless empty_ok), ENAMETOOLONG.
long getname(SysCtx& c, uint64_t upath, std::string& out, bool empty_ok = false);
// Where dfd starts a relative lookup: the working directory (AT_FDCWD) or the directory
// open at dfd (EBADF, ENOTDIR).
long path_start(SysCtx& c, int dfd, path& out);
// Looks name up from dfd (filename_lookup): the path it names.
// A magic link to a file without a path (the running executable, a pipe) ends the walk on
// the link; *jumped, when given, receives that file.
long filename_lookup(SysCtx& c, int dfd, const std::string& name, unsigned flags, path& out,
                     std::shared_ptr<file>* jumped = nullptr);
// user_path_at: getname + filename_lookup; with LOOKUP_EMPTY an empty name is dfd itself.
long user_path_at(SysCtx& c, int dfd, uint64_t upath, unsigned flags, path& out,
                  std::shared_ptr<file>* jumped = nullptr);
// Opens name from dfd (do_filp_open): O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW,
// O_PATH, the permission checks; mode is masked by the umask.
// lookup_flags adds openat2's LOOKUP_NO_* and scoping flags to the walk, or LOOKUP_EMPTY
// (execveat's AT_EMPTY_PATH: an empty name opens the file at dfd anew).
long do_filp_open(SysCtx& c, int dfd, const std::string& name, unsigned flags, unsigned mode,
                  std::shared_ptr<file>& out, unsigned lookup_flags = 0);
// Whether the task may access the inode as mask asks (inode_permission: mode bits, the
// owner and group, CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH).
long inode_permission(const inode& ino, int mask);
// The owner or CAP_FOWNER (inode_owner_or_capable).
bool inode_owner_or_capable(const inode& ino);
// The place an open fd stands for (AT_EMPTY_PATH): EBADF, ENOENT for a file with none.
long path_of_fd(SysCtx& c, int dfd, path& out);
// Opens anew, with new flags, the file a magic link (/proc/PID/fd/N) leads to when it has no
// path: emu's console through the host's link, a pipe or anonymous file shared.
long reopen_file(SysCtx& c, const std::shared_ptr<file>& f, unsigned flags, std::shared_ptr<file>& out);
// The parent and the new negative dentry of a kernel-held name about to be created, checked
// as mknod checks it (kern_path_create: filename_create + may_create): EEXIST, ENOENT, EROFS,
// EACCES.
long kern_path_create(SysCtx& c, int dfd, const std::string& name, path& parent, std::shared_ptr<dentry>& d);
// The lookup under a found parent: the cached or looked-up child (lookup_one_qstr_excl).
long lookup_one(SysCtx& c, dentry& parent, const std::string& name, std::shared_ptr<dentry>& out);

}  // namespace guestos
