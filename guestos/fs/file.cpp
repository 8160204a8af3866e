// The fd table (fs/file.c): finding, allocating, duplicating and closing a task's
// descriptors, and the table a new task starts with.
#include <algorithm>
#include <cerrno>

#include "guestos/drivers/tty/tty.h"
#include "guestos/fs/internal.h"
#include "guestos/include/filelock.h"
#include "guestos/include/kernel.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/uapi/resource.h"

namespace guestos {

std::shared_ptr<file> fdget_raw(SysCtx& c, uint64_t fd) {
    return c.task.files->get(static_cast<long>(static_cast<uint32_t>(fd)));
}

std::shared_ptr<file> fdget(SysCtx& c, uint64_t fd) {
    auto f = fdget_raw(c, fd);
    return f && (f->f_flags & O_PATH_) ? nullptr : f;  // FMODE_PATH: EBADF for I/O
}

namespace {

// Puts an open file at the lowest free fd >= min (alloc_fd).
long alloc_fd(SysCtx& c, std::shared_ptr<file> f, uint64_t min, bool cloexec) {
    auto& t = *c.task.files;
    const uint64_t nofile = c.task.signal->rlim[RLIMIT_NOFILE_].rlim_cur;
    for (uint64_t i = min; i < nofile; ++i) {
        if (i >= t.fd.size()) {
            t.fd.resize(i + 1);
            t.cloexec.resize(i + 1);
        }
        if (!t.fd[i]) {
            // alloc_empty_file: every file a task holds has its struct file in the filp cache.
            if (!f->slab.backed() && !f->slab.alloc(c.kernel.caches() ? c.kernel.caches()->filp_cachep : nullptr))
                return -ENOMEM;
            t.fd[i] = std::move(f);
            t.cloexec[i] = cloexec;
            return static_cast<long>(i);
        }
    }
    return -EMFILE;
}

// dup2/dup3's core: newfd now refers to oldfd's file.
long do_dup3(SysCtx& c, uint64_t oldfd, uint64_t newfd, bool cloexec) {
    newfd = static_cast<uint32_t>(newfd);  // unsigned int in the syscall
    auto f = fdget_raw(c, oldfd);
    if (!f) return -EBADF;
    if (newfd >= c.task.signal->rlim[RLIMIT_NOFILE_].rlim_cur || static_cast<int64_t>(newfd) < 0) return -EBADF;
    auto& t = *c.task.files;
    if (newfd >= t.fd.size()) {
        t.fd.resize(newfd + 1);
        t.cloexec.resize(newfd + 1);
    }
    if (t.fd[newfd]) locks_remove_posix(*t.fd[newfd], &t);  // the replaced file is closed
    t.fd[newfd] = f;
    t.cloexec[newfd] = cloexec;
    return static_cast<long>(newfd);
}

}  // namespace

long f_dupfd(SysCtx& c, uint64_t from, std::shared_ptr<file> f, bool cloexec) {
    from = static_cast<uint32_t>(from);  // fcntl's argument as an unsigned int
    if (from >= c.task.signal->rlim[RLIMIT_NOFILE_].rlim_cur) return -EINVAL;
    return alloc_fd(c, std::move(f), from, cloexec);
}

long get_unused_fd_install(SysCtx& c, std::shared_ptr<file> f, bool cloexec) {
    return alloc_fd(c, std::move(f), 0, cloexec);
}

void do_close_on_exec(files_struct& files) {
    for (size_t i = 0; i < files.fd.size(); ++i)
        if (i < files.cloexec.size() && files.cloexec[i]) {
            if (files.fd[i]) locks_remove_posix(*files.fd[i], &files);
            files.fd[i].reset();
            files.cloexec[i] = false;
        }
}

void init_console_files(task_struct& task) {
    task.files->fd.clear();
    task.files->cloexec.clear();
    for (int i = 0; i < 3; ++i) {
        auto f = std::make_shared<console_file>(i);
        f->f_flags = O_RDWR_;  // the terminal emu was given; the host fd enforces the real mode
        task.files->fd.push_back(f);
        task.files->cloexec.push_back(false);
    }
}

long sys_dup(SysCtx& c, const uint64_t* a) {
    auto f = fdget_raw(c, a[0]);
    return f ? alloc_fd(c, f, 0, false) : -EBADF;
}
long sys_dup2(SysCtx& c, const uint64_t* a) {
    if (static_cast<uint32_t>(a[0]) == static_cast<uint32_t>(a[1]))
        return fdget_raw(c, a[0]) ? static_cast<long>(static_cast<uint32_t>(a[1])) : -EBADF;
    return do_dup3(c, a[0], a[1], false);
}
long sys_dup3(SysCtx& c, const uint64_t* a) {
    if (static_cast<uint32_t>(a[0]) == static_cast<uint32_t>(a[1])) return -EINVAL;
    if (a[2] & ~static_cast<uint64_t>(O_CLOEXEC_)) return -EINVAL;
    return do_dup3(c, a[0], a[1], a[2] & O_CLOEXEC_);
}

// close_range(fd, max_fd, flags): closes (or with CLOSE_RANGE_CLOEXEC_ marks close-on-exec)
// every open fd in [fd, max_fd]; CLOSE_RANGE_UNSHARE_ first gives the caller its own table.
long sys_close_range(SysCtx& c, const uint64_t* a) {
    constexpr uint32_t CLOSE_RANGE_UNSHARE_ = 1u << 1, CLOSE_RANGE_CLOEXEC_ = 1u << 2;
    const uint32_t fd = static_cast<uint32_t>(a[0]), max_fd = static_cast<uint32_t>(a[1]);
    const uint32_t flags = static_cast<uint32_t>(a[2]);
    if (flags & ~(CLOSE_RANGE_UNSHARE_ | CLOSE_RANGE_CLOEXEC_)) return -EINVAL;
    if (fd > max_fd) return -EINVAL;
    if ((flags & CLOSE_RANGE_UNSHARE_) && c.task.files.use_count() > 1)
        c.task.files = std::make_shared<files_struct>(*c.task.files);  // unshare_fd
    files_struct& files = *c.task.files;
    const uint64_t end = std::min<uint64_t>(max_fd, files.fd.size() ? files.fd.size() - 1 : 0);
    for (uint64_t i = fd; i < files.fd.size() && i <= end; ++i) {
        if (!files.fd[i]) continue;
        if (flags & CLOSE_RANGE_CLOEXEC_) {
            if (files.cloexec.size() <= i) files.cloexec.resize(i + 1, false);
            files.cloexec[i] = true;
            continue;
        }
        locks_remove_posix(*files.fd[i], &files);
        files.fd[i].reset();
        if (i < files.cloexec.size()) files.cloexec[i] = false;
    }
    return 0;
}

}  // namespace guestos
