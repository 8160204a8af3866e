// i386 TLS descriptors (arch/x86/kernel/tls.c): set_thread_area's slots in the GDT.
#pragma once
#include <cstdint>

#include "guestos/include/sched.h"

namespace guestos {

// The 8-byte segment descriptor of a user_desc (fill_ldt), or 0 for an empty one.
uint64_t fill_ldt(const user_desc& u);
// set_thread_area for t from the user_desc at u_info in mm (do_set_thread_area): stores the
// slot and, when t is on the CPU (load), writes the GDT entry. 0 or -errno.
long do_set_thread_area(task_struct& t, mm_struct& mm, VirtAddr u_info, bool load);

}  // namespace guestos
