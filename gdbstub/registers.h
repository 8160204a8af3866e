// The g packet: the guest's registers in the order and sizes of target_xml.h, little-endian.
// x86-64: rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip eflags cs ss ds es fs gs st0-7 fctrl
// fstat ftag fiseg fioff foseg fooff fop xmm0-15 mxcsr orig_rax fs_base gs_base;
// i386: eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs st0-7 (the same eight
// x87 control registers) xmm0-7 mxcsr orig_eax.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "guestos/arch/x86/include/asm/ptrace.h"

namespace gdbstub {

// The register image of r (raw bytes, not hex).
std::string encode_registers(const guestos::pt_regs& r, bool is64);
// Replaces r's registers from an image; false (r unchanged) when its size is wrong.
bool decode_registers(const std::string& image, bool is64, guestos::pt_regs& r);
// Register n's offset and size in the image (p and P packets); nullopt past the last.
std::optional<std::pair<size_t, size_t>> register_slot(unsigned n, bool is64);

}  // namespace gdbstub
