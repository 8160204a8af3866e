// The in-kernel halves of splice (fs/splice.c) that sendfile and copy_file_range use.
#pragma once
#include <cstdint>

#include "guestos/include/fs.h"

namespace guestos {

struct pipe_inode_info;

// Waits for room in the pipe, then reads up to len bytes of in at *offset into it
// (splice_file_to_pipe): bytes read, EAGAIN (SPLICE_F_NONBLOCK_ in flags), EPIPE and
// SIGPIPE without readers, EINVAL for a file splice cannot read.
long splice_file_to_pipe(task_struct& task, file& in, pipe_inode_info& p, int64_t* offset, uint64_t len,
                         unsigned flags);

// Copies up to len bytes from the regular file in at *ppos to out at *opos, a pipe's worth
// at a time, both through their page caches (do_splice_direct): bytes copied, stopping at
// in's end or a short write; the positions advance by what was written. EINVAL for an
// O_APPEND or unsplicable output, or an input that cannot seek (a pipe, a socket).
long do_splice_direct(task_struct& task, file& in, int64_t* ppos, file& out, int64_t* opos, uint64_t len);

}  // namespace guestos
