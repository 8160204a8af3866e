// Fast user-space mutexes (kernel/futex): tasks sleep on a 32-bit word of user memory until
// another task wakes that word. Private futexes are keyed by (mm, address); shared ones in a
// MAP_SHARED file or shmem mapping by (inode, page index, offset) as get_futex_key does, so
// processes that share the memory through fork meet on the same key.
#pragma once
#include <cstdint>

#include "guestos/include/sched.h"

namespace guestos {

// Wakes up to nr waiters on uaddr of t's mm whose bitset meets `bitset`: the number woken.
long futex_wake(task_struct& t, uint64_t uaddr, int nr, uint32_t bitset, bool priv);
// Walks t's robust futex list at exit, marking held locks FUTEX_OWNER_DIED and waking a
// waiter of each (exit_robust_list).
void exit_robust_list(task_struct& t);

}  // namespace guestos
