// /proc/cpuinfo from CPUID, as identify_cpu fills boot_cpu_data and show_cpuinfo prints it.
#include "guestos/arch/x86/kernel/cpu/proc.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "devices/cpuid.h"

namespace guestos {

namespace {

// Flag names of one capability word (x86_cap_flags), by bit; null where Linux prints none.
struct cap_word {
    uint32_t leaf;
    int reg;  // 1 ebx, 2 ecx, 3 edx
    const char* names[32];
};

// Words 0 (1.EDX), 1 (0x80000001.EDX), 4 (1.ECX), 6 (0x80000001.ECX) and 9 (7.EBX).
const cap_word cap_words[] = {
    {1, 3, {"fpu",  "vme",  "de",   "pse", "tsc",  "msr", "pae",   "mce", "cx8",     "apic",  nullptr,
            "sep",  "mtrr", "pge",  "mca", "cmov", "pat", "pse36", "pn",  "clflush", nullptr, "dts",
            "acpi", "mmx",  "fxsr", "sse", "sse2", "ss",  "ht",    "tm",  "ia64",    "pbe"}},
    {0x80000001, 3, {nullptr, nullptr,    nullptr,   nullptr,   nullptr, nullptr, nullptr,    nullptr,
                     nullptr, nullptr,    nullptr,   "syscall", nullptr, nullptr, nullptr,    nullptr,
                     nullptr, nullptr,    nullptr,   "mp",      "nx",    nullptr, "mmxext",   nullptr,
                     nullptr, "fxsr_opt", "pdpe1gb", "rdtscp",  nullptr, "lm",    "3dnowext", "3dnow"}},
    {1, 2, {"pni",    "pclmulqdq", "dtes64", "monitor", "ds_cpl",
            "vmx",    "smx",       "est",    "tm2",     "ssse3",
            "cid",    "sdbg",      "fma",    "cx16",    "xtpr",
            "pdcm",   nullptr,     "pcid",   "dca",     "sse4_1",
            "sse4_2", "x2apic",    "movbe",  "popcnt",  "tsc_deadline_timer",
            "aes",    "xsave",     nullptr,  "avx",     "f16c",
            "rdrand", "hypervisor"}},
    {0x80000001, 2, {"lahf_lm",     "cmp_legacy",    "svm",          "extapic",    "cr8_legacy", "abm",        "sse4a",
                     "misalignsse", "3dnowprefetch", "osvw",         "ibs",        "xop",        "skinit",     "wdt",
                     nullptr,       "lwp",           "fma4",         "tce",        nullptr,      "nodeid_msr", nullptr,
                     "tbm",         "topoext",       "perfctr_core", "perfctr_nb", nullptr,      "bpext",      "ptsc",
                     "perfctr_llc", "mwaitx",        nullptr,        nullptr}},
    {7, 1, {"fsgsbase", "tsc_adjust", "sgx",      "bmi1",     "hle",      "avx2",       nullptr,    "smep",
            "bmi2",     "erms",       "invpcid",  "rtm",      "cqm",      nullptr,      "mpx",      "rdt_a",
            "avx512f",  "avx512dq",   "rdseed",   "adx",      "smap",     "avx512ifma", nullptr,    "clflushopt",
            "clwb",     "intel_pt",   "avx512pf", "avx512er", "avx512cd", "sha_ni",     "avx512bw", "avx512vl"}},
};

uint32_t reg_of(const devices::cpuid_regs& r, int reg) { return reg == 1 ? r.ebx : reg == 2 ? r.ecx : r.edx; }

std::string flags() {
    std::string out;
    for (const cap_word& w : cap_words) {
        const uint32_t bits = reg_of(devices::cpuid(w.leaf, 0), w.reg);
        for (int b = 0; b < 32; ++b)
            if ((bits >> b & 1) && w.names[b]) out += std::string(" ") + w.names[b];
    }
    return out;
}

// The brand string of leaves 0x80000002-4, without trailing NULs.
std::string model_name() {
    char name[49] = {};
    for (uint32_t i = 0; i < 3; ++i) {
        const devices::cpuid_regs r = devices::cpuid(0x80000002 + i, 0);
        std::memcpy(name + 16 * i, &r, 16);
    }
    return name;
}

std::string vendor_id() {
    const devices::cpuid_regs r = devices::cpuid(0, 0);
    char v[13] = {};
    std::memcpy(v, &r.ebx, 4);
    std::memcpy(v + 4, &r.edx, 4);
    std::memcpy(v + 8, &r.ecx, 4);
    return v;
}

}  // namespace

std::string show_cpuinfo() {
    const devices::cpuid_regs sig = devices::cpuid(1, 0);
    const unsigned family = (sig.eax >> 8) & 0xf, model = (sig.eax >> 4) & 0xf, stepping = sig.eax & 0xf;
    const unsigned cache_kb = devices::cpuid(0x80000006, 0).ecx >> 16;  // the L2 size (AMD)
    const uint32_t sizes = devices::cpuid(0x80000008, 0).eax;
    const unsigned clflush = ((sig.ebx >> 8) & 0xff) * 8;
    const uint64_t khz = devices::tsc_khz();
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\nmodel name\t: %s\n"
                  "stepping\t: %u\nmicrocode\t: 0x1000065\ncpu MHz\t\t: %" PRIu64 ".%03" PRIu64
                  "\n"
                  "cache size\t: %u KB\nphysical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n"
                  "apicid\t\t: 0\ninitial apicid\t: 0\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\n"
                  "wp\t\t: yes\n",
                  vendor_id().c_str(), family, model, model_name().c_str(), stepping, khz / 1000, khz % 1000, cache_kb,
                  devices::cpuid(0, 0).eax);
    std::string out = buf;
    out += "flags\t\t:" + flags() + "\nbugs\t\t:\n";
    std::snprintf(buf, sizeof buf,
                  "bogomips\t: %" PRIu64 ".%02" PRIu64
                  "\nclflush size\t: %u\ncache_alignment\t: %u\n"
                  "address sizes\t: %u bits physical, %u bits virtual\npower management:\n\n",
                  khz / 500, (khz / 5) % 100, clflush, clflush, sizes & 0xff, (sizes >> 8) & 0xff);
    return out + buf;
}

}  // namespace guestos
