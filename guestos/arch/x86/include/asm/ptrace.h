// The user register state of a task at a kernel entry (pt_regs plus the FPU state), as the
// signal code saves it into and restores it from signal frames.
#pragma once
#include <cstdint>

namespace guestos {

struct pt_regs {
    // General registers; for i386 guests only the low 32 bits are meaningful.
    uint64_t r15 = 0, r14 = 0, r13 = 0, r12 = 0, bp = 0, bx = 0, r11 = 0, r10 = 0, r9 = 0, r8 = 0;
    uint64_t ax = 0, cx = 0, dx = 0, si = 0, di = 0, ip = 0, flags = 0, sp = 0;
    // The syscall number while leaving a syscall, -1 otherwise (the restart logic reads it).
    uint64_t orig_ax = ~0ull;
    uint16_t cs = 0, ss = 0, ds = 0, es = 0, fs = 0, gs = 0;
    uint64_t fs_base = 0, gs_base = 0;
    alignas(16) uint8_t fxsave[512] = {};  // x87/SSE state in FXSAVE layout
};

// The last trap of a task, for the signal frame (thread_struct's trap_nr, error_code, cr2).
struct trap_info {
    uint64_t trap_nr = 0;
    uint64_t error_code = 0;
    uint64_t cr2 = 0;
    uint64_t orig_ax = ~0ull;  // a syscall that slept: its number, for the restart logic
};

}  // namespace guestos
