// personality(2) (kernel/exec_domain.c): the task's execution domain and its flags,
// inherited over fork; x86-64 exec clears READ_IMPLIES_EXEC (set_personality_64bit).
#include "guestos/include/sched.h"
#include "guestos/include/syscalls.h"

namespace guestos {

// personality(persona): the old value; 0xffffffff only asks.
long sys_personality(SysCtx& c, const uint64_t* a) {
    const uint32_t old = c.task.personality;
    const uint32_t persona = static_cast<uint32_t>(a[0]);
    if (persona != 0xffffffffu) c.task.personality = persona;
    return old;
}

}  // namespace guestos
