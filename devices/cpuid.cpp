// The CPUID table of the emulated processor. Left out although Unicorn 2.0.1 lists them:
// BMI2 (its pdep and pext swap their operands), POPCNT, MOVBE, PCLMULQDQ, RDRAND and
// XSAVE (#UD in its translator), SEP (no sysenter entry) and the APIC (none is emulated).
#include "devices/cpuid.h"

#include <cpuid.h>

#include <cstdio>
#include <cstring>

namespace devices {

namespace {

constexpr uint32_t MAX_BASIC_LEAF = 0xd, MAX_EXTENDED_LEAF = 0x80000008;
constexpr uint32_t SIGNATURE = 0x663;  // family 6, model 6, stepping 3

constexpr uint32_t LEAF1_EDX = X86_FEATURE_FPU | X86_FEATURE_DE | X86_FEATURE_PSE | X86_FEATURE_TSC | X86_FEATURE_MSR |
                               X86_FEATURE_PAE | X86_FEATURE_MCE | X86_FEATURE_CX8 | X86_FEATURE_MTRR |
                               X86_FEATURE_PGE | X86_FEATURE_MCA | X86_FEATURE_CMOV | X86_FEATURE_PAT |
                               X86_FEATURE_PSE36 | X86_FEATURE_CLFLUSH | X86_FEATURE_MMX | X86_FEATURE_FXSR |
                               X86_FEATURE_XMM | X86_FEATURE_XMM2;
constexpr uint32_t LEAF1_ECX =
    X86_FEATURE_XMM3 | X86_FEATURE_SSSE3 | X86_FEATURE_CX16 | X86_FEATURE_XMM4_1 | X86_FEATURE_XMM4_2 | X86_FEATURE_AES;
constexpr uint32_t LEAF7_EBX = X86_FEATURE_BMI1 | X86_FEATURE_ADX;
// CPUID_EXT2_AMD_ALIASES: an AMD processor repeats these leaf 1 bits in 0x80000001 EDX.
constexpr uint32_t AMD_ALIASES = 0x0183f3ffu;
constexpr uint32_t EXT1_EDX =
    (LEAF1_EDX & AMD_ALIASES) | X86_FEATURE_SYSCALL | X86_FEATURE_NX | X86_FEATURE_RDTSCP | X86_FEATURE_LM;
constexpr uint32_t EXT1_ECX = X86_FEATURE_LAHF_LM | X86_FEATURE_ABM | X86_FEATURE_3DNOWPREFETCH;

// Twelve bytes of a name as CPUID returns them in ebx, edx, ecx (leaf 0's order).
cpuid_regs vendor(uint32_t max) {
    cpuid_regs r{max, 0, 0, 0};
    std::memcpy(&r.ebx, "Auth", 4);
    std::memcpy(&r.edx, "enti", 4);
    std::memcpy(&r.ecx, "cAMD", 4);
    return r;
}

// Sixteen bytes of the brand string for leaf 0x80000002 + part.
cpuid_regs brand(uint32_t part) {
    static const char name[48] = "QEMU Virtual CPU version 2.5+";
    cpuid_regs r;
    std::memcpy(&r, name + 16 * part, 16);
    return r;
}

// The host processor's answer for leaf/subleaf; zeros for a leaf past its maximum.
cpuid_regs host_cpuid(uint32_t leaf, uint32_t subleaf) {
    cpuid_regs r;
    if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) return r;
    __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
    return r;
}

// The feature words, less what the host lacks: a program sees under emu the features it sees
// natively on the same machine (a hypervisor may hide some, rdtscp for one), so what it
// chooses by CPUID and prints is the same; emu never offers more than its translator has.
struct feature_words {
    uint32_t leaf1_ecx, leaf1_edx, leaf7_ebx, ext1_ecx, ext1_edx;
};

const feature_words& features() {
    static const feature_words w = [] {
        const cpuid_regs h1 = host_cpuid(1, 0), h7 = host_cpuid(7, 0), he = host_cpuid(0x80000001, 0);
        const uint32_t edx1 = LEAF1_EDX & h1.edx;
        // The AMD aliases of leaf 1's bits follow leaf 1 (an Intel host has none in 0x80000001).
        return feature_words{LEAF1_ECX & h1.ecx, edx1, LEAF7_EBX & h7.ebx, EXT1_ECX & he.ecx,
                             (edx1 & AMD_ALIASES) | (EXT1_EDX & ~AMD_ALIASES & he.edx)};
    }();
    return w;
}

}  // namespace

cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf) {
    if (leaf >= 0x80000000 ? leaf > MAX_EXTENDED_LEAF : leaf > MAX_BASIC_LEAF) leaf = MAX_BASIC_LEAF;
    const feature_words& f = features();
    switch (leaf) {
    case 0: return vendor(MAX_BASIC_LEAF);
    case 1: return {SIGNATURE, 8u << 8, f.leaf1_ecx, f.leaf1_edx};  // CLFLUSH line 8 quadwords, APIC id 0
    case 7: return subleaf == 0 ? cpuid_regs{0, f.leaf7_ebx, 0, 0} : cpuid_regs{};
    case 0x80000000: return vendor(MAX_EXTENDED_LEAF);
    case 0x80000001: return {SIGNATURE, 0, f.ext1_ecx, f.ext1_edx};
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: return brand(leaf - 0x80000002);
    // L1 TLBs and caches (64 KiB, 2-way, 64-byte lines), then L2 (512 KiB) as qemu encodes them.
    case 0x80000005: return {0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140};
    case 0x80000006: return {0, 0x42004200, 0x02008140, 0};
    case 0x80000008: return {0x3028, 0, 0, 0};  // 40 physical and 48 virtual address bits
    default: return {};
    }
}

uint64_t tsc_khz() {
    static const uint64_t khz = [] {
        double mhz = 0;
        if (FILE* f = std::fopen("/proc/cpuinfo", "r")) {
            char line[256];
            while (std::fgets(line, sizeof line, f))
                if (std::sscanf(line, "cpu MHz : %lf", &mhz) == 1) break;
            std::fclose(f);
        }
        return static_cast<uint64_t>(mhz * 1000);
    }();
    return khz;
}

}  // namespace devices
