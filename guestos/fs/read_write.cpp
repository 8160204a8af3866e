// sendfile and copy_file_range (fs/read_write.c): copies between two open files inside the
// kernel, through splice (guestos/fs/splice.cpp), with Linux's checks in Linux's order.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "guestos/fs/internal.h"
#include "guestos/fs/pipe.h"
#include "guestos/fs/splice.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

namespace {

constexpr int64_t MAX_NON_LFS = 0x7fffffff;  // the largest offset without O_LARGEFILE

std::shared_ptr<file> fdget(SysCtx& c, uint64_t fd) {
    return c.task.files->get(static_cast<long>(static_cast<uint32_t>(fd)));
}

// The largest file size of the filesystem f is on (s_maxbytes; a pipe's pipefs has no limit).
int64_t s_maxbytes(const file& f) {
    return f.f_inode && f.f_inode->i_sb ? static_cast<int64_t>(f.f_inode->i_sb->s_maxbytes) : INT64_MAX;
}

// f's file type (its inode's i_mode & S_IFMT), asked of the file so that pipes answer too.
uint32_t file_type(file& f) {
    struct stat st {};
    if (f.f_inode) return f.f_inode->i_mode & S_IFMT;
    return f.getattr(st) == 0 ? st.st_mode & S_IFMT : 0;
}

// Copies count bytes from in_fd (at *ppos, or its position) to out_fd (at its position)
// (do_sendfile): to a pipe by splice_file_to_pipe, to anything else by do_splice_direct;
// count is capped at MAX_RW_COUNT and at max, the largest offset the input may reach.
long do_sendfile(SysCtx& c, uint64_t out_fd, uint64_t in_fd, int64_t* ppos, uint64_t count, int64_t max) {
    auto in = fdget(c, in_fd);
    if (!in || !fmode_read(*in)) return -EBADF;
    int64_t pos = in->f_pos;
    if (ppos) {
        pos = *ppos;
        if (!(in->f_mode & FMODE_PREAD)) return -ESPIPE;
    }
    if (long e = rw_verify_area(&pos, count)) return e;
    count = std::min(count, MAX_RW_COUNT);
    auto out = fdget(c, out_fd);
    if (!out || !fmode_write(*out)) return -EBADF;
    int64_t out_pos = out->f_pos;
    if (!max) max = std::min(s_maxbytes(*in), s_maxbytes(*out));
    if (pos + static_cast<int64_t>(count) > max) {
        if (pos >= max) return -EOVERFLOW;
        count = static_cast<uint64_t>(max - pos);
    }
    long r;
    if (pipe_inode_info* opipe = get_pipe_info(*out)) {
        const unsigned fl = (out->f_flags & O_NONBLOCK_) ? SPLICE_F_NONBLOCK_ : 0;
        r = splice_file_to_pipe(c.task, *in, *opipe, &pos, count, fl);
    } else {
        if (long e = rw_verify_area(&out_pos, count)) return e;
        r = do_splice_direct(c.task, *in, &pos, *out, &out_pos, count);
    }
    if (r > 0) {
        out->f_pos = out_pos;
        (ppos ? *ppos : in->f_pos) = pos;
    }
    return pos > max ? -EOVERFLOW : r;
}

// sendfile with a user offset of the given width (off_t or loff_t): read, used, written back.
long sendfile_with_offset(SysCtx& c, const uint64_t* a, unsigned width, int64_t max) {
    const uint64_t count = c.compat ? static_cast<uint32_t>(a[3]) : a[3];
    if (!a[2]) return do_sendfile(c, a[0], a[1], nullptr, count, 0);
    int64_t pos = 0;
    if (width == 4) {
        int32_t off = 0;
        if (!copy_from_user(c.mm, &off, VirtAddr(a[2]), sizeof off)) return -EFAULT;
        pos = off;
    } else if (!copy_from_user(c.mm, &pos, VirtAddr(a[2]), sizeof pos)) {
        return -EFAULT;
    }
    const long r = do_sendfile(c, a[0], a[1], &pos, count, max);
    if (!copy_to_user(c.mm, VirtAddr(a[2]), &pos, width)) return -EFAULT;  // put_user (little-endian low bytes)
    return r;
}

// The checks of copy_file_range before any byte moves (generic_copy_file_checks): both
// regular files (EISDIR, EINVAL), readable in and writable, non-append out (EBADF), one
// filesystem (EXDEV: none here has a copy_file_range of its own), no wrap (EOVERFLOW), the
// count cut at in's end and at out's size limit (EFBIG), no overlap within one file (EINVAL).
long generic_copy_file_checks(file& in, int64_t pos_in, file& out, int64_t pos_out, uint64_t& count) {
    const uint32_t ti = file_type(in), to = file_type(out);
    if (ti == S_IFDIR || to == S_IFDIR) return -EISDIR;
    if (ti != S_IFREG || to != S_IFREG) return -EINVAL;
    if (!fmode_read(in) || !fmode_write(out) || (out.f_flags & O_APPEND_)) return -EBADF;
    // (A console redirected to a host file is a regular file of no guest filesystem.)
    if (!in.f_inode || !out.f_inode || in.f_inode->i_sb != out.f_inode->i_sb) return -EXDEV;
    const auto upos_in = static_cast<uint64_t>(pos_in), upos_out = static_cast<uint64_t>(pos_out);
    if (upos_in + count < upos_in || upos_out + count < upos_out) return -EOVERFLOW;
    const auto size_in = static_cast<int64_t>(in.f_inode->i_size);
    count = pos_in >= size_in ? 0 : std::min(count, static_cast<uint64_t>(size_in - pos_in));
    // generic_write_check_limits
    const int64_t max_size = (out.f_flags & O_LARGEFILE_) ? s_maxbytes(out) : MAX_NON_LFS;
    if (pos_out >= max_size) return -EFBIG;
    count = std::min(count, static_cast<uint64_t>(max_size - pos_out));
    if (in.f_inode == out.f_inode && pos_out + static_cast<int64_t>(count) > pos_in &&
        pos_out < pos_in + static_cast<int64_t>(count))
        return -EINVAL;
    return 0;
}

// Copies len bytes from in at pos_in to out at pos_out on one filesystem through the page
// cache (vfs_copy_file_range, its splice fallback): bytes copied, short at in's end.
long vfs_copy_file_range(SysCtx& c, file& in, int64_t pos_in, file& out, int64_t pos_out, uint64_t len) {
    if (long e = generic_copy_file_checks(in, pos_in, out, pos_out, len)) return e;
    if (long e = rw_verify_area(&pos_in, len)) return e;
    if (long e = rw_verify_area(&pos_out, len)) return e;
    if (!len) return 0;
    len = std::min(len, MAX_RW_COUNT);
    return do_splice_direct(c.task, in, &pos_in, out, &pos_out, len);
}

}  // namespace

// x86-64's sendfile is sendfile64 (a loff_t offset); i386's takes a 32-bit off_t and stops
// at MAX_NON_LFS.
long sys_sendfile(SysCtx& c, const uint64_t* a) {
    return c.compat ? sendfile_with_offset(c, a, 4, MAX_NON_LFS) : sendfile_with_offset(c, a, 8, 0);
}
long sys_sendfile64(SysCtx& c, const uint64_t* a) { return sendfile_with_offset(c, a, 8, 0); }

long sys_copy_file_range(SysCtx& c, const uint64_t* a) {
    auto in = fdget(c, a[0]);
    if (!in) return -EBADF;
    auto out = fdget(c, a[2]);
    if (!out) return -EBADF;
    int64_t pos_in = in->f_pos, pos_out = out->f_pos;
    if (a[1] && !copy_from_user(c.mm, &pos_in, VirtAddr(a[1]), sizeof pos_in)) return -EFAULT;
    if (a[3] && !copy_from_user(c.mm, &pos_out, VirtAddr(a[3]), sizeof pos_out)) return -EFAULT;
    if (static_cast<uint32_t>(a[5])) return -EINVAL;  // no flags are defined
    const uint64_t len = c.compat ? static_cast<uint32_t>(a[4]) : a[4];
    long r = vfs_copy_file_range(c, *in, pos_in, *out, pos_out, len);
    if (r <= 0) return r;
    pos_in += r;
    pos_out += r;
    if (a[1]) {
        if (!copy_to_user(c.mm, VirtAddr(a[1]), &pos_in, sizeof pos_in)) r = -EFAULT;
    } else {
        in->f_pos = pos_in;
    }
    if (a[3]) {
        if (!copy_to_user(c.mm, VirtAddr(a[3]), &pos_out, sizeof pos_out)) r = -EFAULT;
    } else {
        out->f_pos = pos_out;
    }
    return r;
}

}  // namespace guestos
