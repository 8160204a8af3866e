// The legacy vsyscall page of x86-64 (arch/x86/entry/vsyscall/vsyscall_64.c) in Linux's
// default mode, vsyscall=xonly: no page maps 0xffffffffff600000, but an instruction fetch
// at one of its three entry points is emulated as the system call, and maps shows the gate.
#pragma once
#include <cstdint>

#include "guestos/include/kernel.h"
#include "guestos/include/mm_types.h"

namespace guestos {

inline constexpr uint64_t VSYSCALL_ADDR = 0xffffffffff600000ull;

// The [vsyscall] gate VMA a 64-bit mm shows after its last VMA (get_gate_vma); null for i386.
const vm_area_struct* get_gate_vma(const mm_struct& mm);

// A user fetch fault at address: when it is the vsyscall page of a 64-bit task, runs the
// call (gettimeofday, time or getcpu) and returns to the caller (emulate_vsyscall). The
// outcome is emulated, or the signal a bad call gets; nullopt when the page is not involved.
std::optional<FaultOutcome> emulate_vsyscall(Kernel& k, task_struct& task, VirtAddr address, uint32_t error_code);

}  // namespace guestos
