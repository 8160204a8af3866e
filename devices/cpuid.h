// The processor emu emulates, as CPUID describes it: Unicorn 2.0.1's qemu64 model (family 6
// model 6, "QEMU Virtual CPU version 2.5+") with the features its translator really
// implements, each exercised by tests/guest/cpu_state.c, less the features the host processor
// lacks (a program sees what it sees natively). The engine answers CPUID from this
// table; the OS reads it as Linux reads the hardware (AT_HWCAP, /proc/cpuinfo).
#pragma once
#include <cstdint>

namespace devices {

struct cpuid_regs {
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// CPUID leaf 1 EDX bits (Linux's capability word 0).
enum : uint32_t {
    X86_FEATURE_FPU = 1u << 0,
    X86_FEATURE_DE = 1u << 2,
    X86_FEATURE_PSE = 1u << 3,
    X86_FEATURE_TSC = 1u << 4,
    X86_FEATURE_MSR = 1u << 5,
    X86_FEATURE_PAE = 1u << 6,
    X86_FEATURE_MCE = 1u << 7,
    X86_FEATURE_CX8 = 1u << 8,
    X86_FEATURE_MTRR = 1u << 12,
    X86_FEATURE_PGE = 1u << 13,
    X86_FEATURE_MCA = 1u << 14,
    X86_FEATURE_CMOV = 1u << 15,
    X86_FEATURE_PAT = 1u << 16,
    X86_FEATURE_PSE36 = 1u << 17,
    X86_FEATURE_CLFLUSH = 1u << 19,
    X86_FEATURE_MMX = 1u << 23,
    X86_FEATURE_FXSR = 1u << 24,
    X86_FEATURE_XMM = 1u << 25,
    X86_FEATURE_XMM2 = 1u << 26,
};
// CPUID leaf 1 ECX bits (word 4).
enum : uint32_t {
    X86_FEATURE_XMM3 = 1u << 0,
    X86_FEATURE_SSSE3 = 1u << 9,
    X86_FEATURE_CX16 = 1u << 13,
    X86_FEATURE_XMM4_1 = 1u << 19,
    X86_FEATURE_XMM4_2 = 1u << 20,
    X86_FEATURE_AES = 1u << 25,
};
// CPUID leaf 7 EBX bits (word 9).
enum : uint32_t { X86_FEATURE_BMI1 = 1u << 3, X86_FEATURE_ADX = 1u << 19 };
// CPUID 0x80000001 EDX bits (word 1; AMD also mirrors word 0's bits 0-17, 23 and 24 here).
enum : uint32_t {
    X86_FEATURE_SYSCALL = 1u << 11,
    X86_FEATURE_NX = 1u << 20,
    X86_FEATURE_RDTSCP = 1u << 27,
    X86_FEATURE_LM = 1u << 29,
};
// CPUID 0x80000001 ECX bits (word 6).
enum : uint32_t {
    X86_FEATURE_LAHF_LM = 1u << 0,
    X86_FEATURE_ABM = 1u << 5,
    X86_FEATURE_3DNOWPREFETCH = 1u << 8,
};

// What CPUID answers for a leaf and subleaf (cpu_x86_cpuid for this model): leaves above
// the maximum answer as the highest basic leaf does, as Intel documents and qemu does.
cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf);

// The rate rdtsc counts at, in kHz: Unicorn reads the host's TSC, so the host's rate (from
// its /proc/cpuinfo; 0 when unknown).
uint64_t tsc_khz();

}  // namespace devices
