// The CPU state a new program starts with (fpu__init_cpu, start_thread) and the CPUID
// features it may rely on: the x87 control and tag words, MXCSR, float-to-int conversions,
// printf of double and long double, and each advertised feature's instructions at work.
#include <cpuid.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned short fcw_at_start, ftw_at_start;
static unsigned mxcsr_at_start;

// Reads the state before libc's printf can touch the FPU.
__attribute__((constructor)) static void read_start_state(void) {
    unsigned char env[28];
    __asm__ volatile("fnstcw %0" : "=m"(fcw_at_start));
    __asm__ volatile("fnstenv %0" : "=m"(env));
    memcpy(&ftw_at_start, env + 8, 2);
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr_at_start));
}

struct feature {
    const char* name;
    unsigned leaf, reg, bit;  // reg: 0 eax 1 ebx 2 ecx 3 edx
};

// The features of the CPU emu emulates (devices/cpuid.cpp); a native CPU has them too.
static const struct feature features[] = {
    {"fpu", 1, 3, 0},      {"tsc", 1, 3, 4},     {"cx8", 1, 3, 8},       {"cmov", 1, 3, 15},
    {"clflush", 1, 3, 19}, {"mmx", 1, 3, 23},    {"fxsr", 1, 3, 24},     {"sse", 1, 3, 25},
    {"sse2", 1, 3, 26},    {"pni", 1, 2, 0},     {"ssse3", 1, 2, 9},     {"cx16", 1, 2, 13},
    {"sse4_1", 1, 2, 19},  {"sse4_2", 1, 2, 20}, {"aes", 1, 2, 25},      {"bmi1", 7, 1, 3},
    {"adx", 7, 1, 19},    {"lahf_lm", 0x80000001, 2, 0},
    {"abm", 0x80000001, 2, 5}, {"syscall", 0x80000001, 3, 11}, {"nx", 0x80000001, 3, 20},
    {"rdtscp", 0x80000001, 3, 27}, {"lm", 0x80000001, 3, 29},
};

static int has(const struct feature* f) {
    unsigned r[4];
    if (!__get_cpuid_count(f->leaf, 0, &r[0], &r[1], &r[2], &r[3])) return 0;
    return (r[f->reg] >> f->bit) & 1;
}

// Each check runs the feature's instructions on known inputs (i386 builds need the
// registers declared to clobber them; the arithmetic of main stays on the x87).
#pragma GCC push_options
#pragma GCC target("mmx,sse2")
static int check_mmx(void) {
    uint64_t a = 0x0102030405060708ull, b = 0x1010101010101010ull, r;
    __asm__("movq %1, %%mm0\n\tmovq %2, %%mm1\n\tpaddb %%mm1, %%mm0\n\tmovq %%mm0, %0\n\temms"
            : "=m"(r) : "m"(a), "m"(b) : "mm0", "mm1");
    return r == 0x1112131415161718ull;
}
static int check_sse3(void) {
    float in[4] = {1, 2, 3, 4}, out[4];
    __asm__("movups %1, %%xmm0\n\thaddps %%xmm0, %%xmm0\n\tmovups %%xmm0, %0" : "=m"(out) : "m"(in) : "xmm0");
    return out[0] == 3 && out[1] == 7 && out[2] == 3 && out[3] == 7;
}
static int check_ssse3(void) {
    unsigned char in[16], idx[16], out[16];
    for (int i = 0; i < 16; i++) in[i] = (unsigned char)(i * 3), idx[i] = (unsigned char)(15 - i);
    __asm__("movdqu %1, %%xmm0\n\tmovdqu %2, %%xmm1\n\tpshufb %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %0"
            : "=m"(out) : "m"(in), "m"(idx) : "xmm0", "xmm1");
    for (int i = 0; i < 16; i++)
        if (out[i] != in[15 - i]) return 0;
    return 1;
}
static int check_sse41(void) {
    double x = 2.5, r;
    __asm__("movsd %1, %%xmm0\n\troundsd $0, %%xmm0, %%xmm0\n\tmovsd %%xmm0, %0" : "=m"(r) : "m"(x) : "xmm0");
    return r == 2.0;
}
static int check_sse42(void) {
    unsigned crc = 0;
    const unsigned char* s = (const unsigned char*)"123456789";
    for (int i = 0; i < 9; i++) __asm__("crc32b %1, %0" : "+r"(crc) : "rm"(s[i]));
    const char hay[16] = "hello, world!!!", set[16] = ",";
    int idx;
    __asm__("movdqu %1, %%xmm0\n\tmovdqu %2, %%xmm1\n\tpcmpistri $0, %%xmm1, %%xmm0\n\tmovl %%ecx, %0"
            : "=r"(idx) : "m"(set), "m"(hay) : "xmm0", "xmm1", "ecx", "cc");
    return crc == 0x58e3fa20u && idx == 5;  // CRC-32C("123456789") with no final xor
}
static int check_aes(void) {
    // One AESENC round on zero state and key: SubBytes(0) = 0x63, MixColumns of 0x63s.
    unsigned char z[16] = {0}, out[16];
    __asm__("movdqu %1, %%xmm0\n\tmovdqu %1, %%xmm1\n\taesenc %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %0"
            : "=m"(out) : "m"(z) : "xmm0", "xmm1");
    for (int i = 0; i < 16; i++)
        if (out[i] != 0x63) return 0;
    return 1;
}
static int check_bmi1(void) {
    unsigned a = 0xf0f0, b = 0xff00, r, t;
    __asm__("andn %2, %1, %0" : "=r"(r) : "r"(a), "r"(b));
    __asm__("tzcnt %1, %0" : "=r"(t) : "r"(0u));
    return r == 0x0f00 && t == 32;
}
static int check_adx(void) {
    unsigned a = 0xffffffffu, b = 1, c = 5, d = 7;
    __asm__("stc\n\tadcx %2, %0\n\tadox %3, %1" : "+r"(a), "+r"(c), "+r"(b), "+r"(d) : : "cc");
    return a == 1 && c == 12;  // CF in, OF clear after stc
}
static int check_fxsr(void) {
    static unsigned char area[512] __attribute__((aligned(16)));
    unsigned short fcw = 0x27f, back;
    __asm__ volatile("fnstcw %0" : "=m"(back));
    __asm__ volatile("fldcw %0\n\tfxsave %1\n\tfldcw %2\n\tfxrstor %1\n\tfnstcw %2" : "+m"(fcw), "+m"(area), "+m"(back));
    unsigned short restored = back;
    back = 0x37f;
    __asm__ volatile("fldcw %0" : : "m"(back));
    return restored == 0x27f && area[0] == 0x7f && area[1] == 0x02;
}
static int check_abm(void) {
    unsigned r;
    __asm__("lzcnt %1, %0" : "=r"(r) : "r"(1u));
    return r == 31;
}
static int check_cx8(void) {
    uint64_t v = 5;
    uint32_t lo = 5, hi = 0;
    __asm__ volatile("lock cmpxchg8b %0" : "+m"(v), "+a"(lo), "+d"(hi) : "b"(7), "c"(0) : "cc");
    return v == 7;
}
static int check_rdtscp(void) {
    unsigned lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    return aux < 4096;  // IA32_TSC_AUX: the CPU number, as getcpu reads it
}

#pragma GCC pop_options

int main(void) {
    printf("fcw %#06x ftw %#06x mxcsr %#010x\n", fcw_at_start, ftw_at_start, mxcsr_at_start);
    volatile double third = 1.0 / 3, big = 3e9, neg = -2.7;
    volatile long double lthird = 1.0L / 3;
    volatile float f = 2.5f;
    printf("double %.17g long double %.21Lg\n", third, lthird);
    int rounded;
    __asm__("cvtss2si %1, %0" : "=r"(rounded) : "m"(f));  // rounds by MXCSR.RC: to nearest even
    printf("(int)%g = %d (long long)%g = %lld (int)%g = %d cvtss2si(2.5f) = %d\n", (double)neg, (int)neg,
           (double)big, (long long)big, (double)f, (int)f, rounded);
    printf("%.30Lf\n", lthird * 3);
    for (size_t i = 0; i < sizeof features / sizeof *features; i++) printf("%s %d\n", features[i].name, has(&features[i]));
    printf("checks mmx %d fxsr %d sse3 %d ssse3 %d sse4_1 %d sse4_2 %d aes %d bmi1 %d adx %d abm %d cx8 %d rdtscp %d\n",
           check_mmx(), check_fxsr(), check_sse3(), check_ssse3(), check_sse41(), check_sse42(), check_aes(),
           check_bmi1(), check_adx(), check_abm(), check_cx8(), check_rdtscp());
    return 0;
}
