// What the faulting instruction did at an address: decoded with Capstone.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace emu {

// Register values the decoder needs to compute effective addresses, by Capstone register id.
using RegReader = std::function<uint64_t(int capstone_reg)>;

// True when the instruction (bytes at `code`, at address `ip`) writes memory at `addr`'s page:
// an explicit memory operand with write access whose effective address lies on that page, or
// an implicit stack push (push, call, enter) when no explicit operand matches.
bool instruction_writes(const uint8_t* code, size_t len, uint64_t ip, bool is64, uint64_t addr, const RegReader& reg);

// One memory access of an instruction: [addr, addr + size), read and/or written.
struct MemAccess {
    uint64_t addr = 0;
    unsigned size = 0;
    bool read = false, write = false;
};

// The data accesses the instruction at ip makes with the registers as they are now: its
// explicit memory operands and its implicit stack slot (push, call, enter write below the
// stack pointer; pop, ret read at it). Empty when it cannot be decoded or touches no memory.
std::vector<MemAccess> memory_accesses(const uint8_t* code, size_t len, uint64_t ip, bool is64, const RegReader& reg);

// A data watchpoint (gdb's Z2, Z3, Z4): [addr, addr + len) written, read, or either.
enum class WatchKind { Write, Read, Access };
struct Watchpoint {
    uint64_t addr = 0, len = 0;
    WatchKind kind = WatchKind::Write;
    bool operator==(const Watchpoint&) const = default;
};
// Which watchpoint an instruction triggered, and the address it touched in its range.
struct WatchHit {
    Watchpoint watch;
    uint64_t data_address = 0;
};
// The first watchpoint the accesses trigger (a write for Write, a read for Read, either for
// Access), if any.
std::optional<WatchHit> match_watchpoints(const std::vector<Watchpoint>& watches,
                                          const std::vector<MemAccess>& accesses);

// Reads a pointer-sized value of guest memory at an address; nullopt when unmapped.
using MemReader = std::function<std::optional<uint64_t>(uint64_t addr, unsigned size)>;

// Every address the instruction at ip can run next: itself (a fault retries it, a rep
// string instruction iterates), the one after it, and a branch, call or return target
// computed from the registers and memory. nullopt when it cannot be decoded or its target
// cannot be computed (a far transfer, an unreadable pointer).
std::optional<std::vector<uint64_t>> next_instructions(const uint8_t* code, size_t len, uint64_t ip, bool is64,
                                                       const RegReader& reg, const MemReader& mem);

// The instruction at `code` in Intel syntax ("mov byte ptr [rax + 0xa], 0x2a"), or "(bad)".
std::string disassemble(const uint8_t* code, size_t len, uint64_t ip, bool is64);

}  // namespace emu
