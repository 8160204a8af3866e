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
bool instruction_writes(const uint8_t* code, size_t len, uint64_t ip, bool is64, uint64_t addr,
                        const RegReader& reg);

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
