// Counting a task's I/O (include/linux/task_io_accounting_ops.h): the syscalls count calls
// and bytes where fs/read_write.c does; the page cache counts storage traffic.
#pragma once
#include <cstdint>

#include "guestos/include/sched.h"

namespace guestos {

inline void add_rchar(task_struct& t, long n) { t.ioac.rchar += static_cast<uint64_t>(n); }
inline void add_wchar(task_struct& t, long n) { t.ioac.wchar += static_cast<uint64_t>(n); }
inline void inc_syscr(task_struct& t) { ++t.ioac.syscr; }
inline void inc_syscw(task_struct& t) { ++t.ioac.syscw; }
// Bytes the current task made the page cache read from or dirty for a backing store, and
// dirty bytes truncated before they were written (null current: the kernel's own I/O).
inline void task_io_account_read(uint64_t bytes) {
    if (task_struct* t = get_current()) t->ioac.read_bytes += bytes;
}
inline void task_io_account_write(uint64_t bytes) {
    if (task_struct* t = get_current()) t->ioac.write_bytes += bytes;
}
inline void task_io_account_cancelled_write(uint64_t bytes) {
    if (task_struct* t = get_current()) t->ioac.cancelled_write_bytes += bytes;
}

}  // namespace guestos
