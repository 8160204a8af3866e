// Tests for loader/stack: the initial stack is parsed back the way a libc's _start reads it
// (argc, argv, envp, auxv through the pointers), for both pointer widths.
#include <elf.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "loader/stack.h"

using loader::AuxEntry;
using loader::ElfClass;
using loader::StackImage;
using loader::StackSpec;

namespace {

// Reads a built stack image back at guest addresses, as the guest would.
struct StackReader {
    const StackImage& img;
    uint64_t top;
    uint64_t ptr;

    // True if [addr, addr+n) lies inside the image.
    bool inside(uint64_t addr, uint64_t n) const { return addr >= img.sp.value && addr <= top && n <= top - addr; }
    uint64_t word(uint64_t addr) const {
        EXPECT_TRUE(inside(addr, ptr)) << std::hex << addr;
        if (!inside(addr, ptr)) return 0;
        uint64_t v = 0;
        std::memcpy(&v, img.bytes.data() + (addr - img.sp.value), ptr);
        return v;
    }
    std::string str(uint64_t addr) const {
        std::string s;
        for (; inside(addr, 1) && img.bytes[addr - img.sp.value]; addr++)
            s.push_back(char(img.bytes[addr - img.sp.value]));
        EXPECT_TRUE(inside(addr, 1)) << "unterminated string";
        return s;
    }
};

// What a guest's _start sees.
struct ParsedStack {
    std::vector<std::string> argv, envp;
    std::vector<uint64_t> argv_ptrs, envp_ptrs;
    std::vector<AuxEntry> auxv;
    std::map<uint64_t, uint64_t> aux;
};

// Walks argc/argv/envp/auxv from sp like a libc startup does.
ParsedStack parse_stack(const StackReader& r) {
    ParsedStack p;
    uint64_t a = r.img.sp.value;
    uint64_t argc = r.word(a);
    a += r.ptr;
    for (uint64_t i = 0; i < argc; i++, a += r.ptr) p.argv_ptrs.push_back(r.word(a));
    EXPECT_EQ(r.word(a), 0u) << "argv not NULL-terminated";
    a += r.ptr;
    for (uint64_t v; (v = r.word(a)) != 0; a += r.ptr) p.envp_ptrs.push_back(v);
    a += r.ptr;
    for (int guard = 0; guard < 100 && r.inside(a, 2 * r.ptr); guard++, a += 2 * r.ptr) {
        AuxEntry e{r.word(a), r.word(a + r.ptr)};
        p.auxv.push_back(e);
        p.aux[e.type] = e.value;
        if (e.type == AT_NULL) break;
    }
    for (uint64_t q : p.argv_ptrs) p.argv.push_back(r.str(q));
    for (uint64_t q : p.envp_ptrs) p.envp.push_back(r.str(q));
    return p;
}

// A typical spec for a class.
StackSpec make_spec(ElfClass cls) {
    StackSpec s;
    s.cls = cls;
    s.stack_top = mmu::VirtAddr(cls == ElfClass::Elf64 ? 0x7ffffffff000ull : 0xC0000000ull);
    s.argv = {"/bin/prog", "-x", "hello world"};
    s.envp = {"HOME=/root", "PATH=/bin:/usr/bin", "LANG=C"};
    s.execfn = "/bin/prog";
    s.platform = cls == ElfClass::Elf64 ? "x86_64" : "i686";
    for (int i = 0; i < 16; i++) s.random_bytes[i] = uint8_t(0xA0 + i);
    s.auxv = {{AT_PAGESZ, 4096}, {AT_PHDR, 0x400040}, {AT_PHENT, 56}, {AT_PHNUM, 9}, {AT_ENTRY, 0x401000}};
    return s;
}

// Checks everything a guest relies on for one spec.
void check_stack(const StackSpec& spec) {
    auto built = loader::build_initial_stack(spec);
    ASSERT_FALSE(built.is_error()) << built.error().message;
    const StackImage& img = *built;
    uint64_t top = spec.stack_top.value;
    uint64_t ptr = spec.cls == ElfClass::Elf64 ? 8 : 4;
    StackReader r{img, top, ptr};
    EXPECT_EQ(img.sp.value % 16, 0u);
    EXPECT_EQ(img.bytes.size(), top - img.sp.value);
    ParsedStack p = parse_stack(r);
    std::vector<std::string> want_argv = spec.argv.empty() ? std::vector<std::string>{""} : spec.argv;
    EXPECT_EQ(p.argv, want_argv);
    EXPECT_EQ(p.envp, spec.envp);

    // auxv (no AT_SECURE/AT_HWCAP2 given): the caller's entries in order, then AT_RANDOM, AT_EXECFN,
    // AT_PLATFORM, AT_NULL.
    ASSERT_EQ(p.auxv.size(), spec.auxv.size() + 4);
    for (size_t i = 0; i < spec.auxv.size(); i++) {
        EXPECT_EQ(p.auxv[i].type, spec.auxv[i].type);
        EXPECT_EQ(p.auxv[i].value, spec.auxv[i].value);
    }
    EXPECT_EQ(p.auxv.back().type, uint64_t(AT_NULL));
    EXPECT_EQ(p.auxv.back().value, 0u);
    ASSERT_TRUE(p.aux.count(AT_RANDOM));
    uint64_t rnd = p.aux[AT_RANDOM];
    ASSERT_TRUE(r.inside(rnd, 16));
    EXPECT_EQ(std::memcmp(img.bytes.data() + (rnd - img.sp.value), spec.random_bytes.data(), 16), 0);
    EXPECT_EQ(r.str(p.aux[AT_EXECFN]), spec.execfn);
    EXPECT_EQ(r.str(p.aux[AT_PLATFORM]), spec.platform);

    // Linux order from the top: zero word, execfn, envp strings, argv strings, platform, random.
    uint64_t top_word = spec.kernel == loader::StackKernel::X86_64 ? 8 : ptr;
    for (uint64_t i = 0; i < top_word; i++) EXPECT_EQ(img.bytes[img.bytes.size() - 1 - i], 0) << "top word";
    EXPECT_EQ(p.aux[AT_EXECFN] + spec.execfn.size() + 1, top - top_word);
    EXPECT_EQ(img.envp_end.value, p.aux[AT_EXECFN]);
    ASSERT_FALSE(p.argv_ptrs.empty());
    EXPECT_EQ(img.argv_start.value, p.argv_ptrs.front());
    EXPECT_EQ(img.argv_end.value, img.envp_start.value);
    uint64_t env_first = p.envp_ptrs.empty() ? p.aux[AT_EXECFN] : p.envp_ptrs.front();
    EXPECT_EQ(img.envp_start.value, env_first);
    for (size_t i = 1; i < p.argv_ptrs.size(); i++) EXPECT_GT(p.argv_ptrs[i], p.argv_ptrs[i - 1]);
    EXPECT_LT(p.aux[AT_PLATFORM], img.argv_start.value);
    EXPECT_EQ(rnd + 16, p.aux[AT_PLATFORM]);
    EXPECT_EQ((p.aux[AT_PLATFORM] + spec.platform.size() + 1) % 16, 0u);  // arch_align_stack()
    EXPECT_LT(img.sp.value + (p.argv.size() + p.envp.size() + 3 + 2 * p.auxv.size()) * ptr, rnd + 1);
    EXPECT_LE(rnd - (img.sp.value + (p.argv.size() + p.envp.size() + 3 + 2 * p.auxv.size()) * ptr), 15u);

    // The string areas read as /proc/pid/cmdline and /proc/pid/environ do.
    std::string cmdline, environ;
    for (const auto& a : want_argv) cmdline += a + '\0';
    for (const auto& e : spec.envp) environ += e + '\0';
    EXPECT_EQ(img.argv_end - img.argv_start, cmdline.size());
    EXPECT_EQ(img.envp_end - img.envp_start, environ.size());
    EXPECT_EQ(std::memcmp(img.bytes.data() + (img.argv_start.value - img.sp.value), cmdline.data(), cmdline.size()), 0);
    EXPECT_EQ(std::memcmp(img.bytes.data() + (img.envp_start.value - img.sp.value), environ.data(), environ.size()), 0);
}

// Stacks the host kernel (Linux 6.18, x86-64) built for tiny static programs run as
// `env -i A=1 setarch -R ./pNN x` (no randomization), dumped from sp to the stack top.
const char* const kLinuxStack64 =
    "0200000000000000e6efffffff7f0000ecefffffff7f00000000000000000000eeefffffff7f00000000000000000000"
    "210000000000000000d0fff7ff7f00003300000000000000300d0000000000001000000000000000fffb8b1700000000"
    "060000000000000000100000000000001100000000000000640000000000000003000000000000004000400000000000"
    "0400000000000000380000000000000005000000000000000a0000000000000007000000000000000000000000000000"
    "08000000000000000000000000000000090000000000000060154000000000000b000000000000000000000000000000"
    "0c0000000000000000000000000000000d0000000000000000000000000000000e000000000000000000000000000000"
    "170000000000000000000000000000001900000000000000c9efffffff7f00001a000000000000000200000000000000"
    "1f00000000000000f2efffffff7f00000f00000000000000d9efffffff7f00001b000000000000001c00000000000000"
    "1c000000000000002000000000000000000000000000000000000000000000000000000000000000006a2f2a876ababb"
    "d69bdb705f3e4e28c27838365f3634000000000000002e2f703634007800413d31002e2f703634000000000000000000";  // top 0x7ffffffff000
const char* const kLinuxStack32 =
    "02000000e6dfffffecdfffff00000000eedfffff0000000020000000e0c5fff72100000000c0fff733000000300d0000"
    "10000000fffb8b1706000000001000001100000064000000030000003480040804000000200000000500000008000000"
    "0700000000000000080000000000000009000000f09504080b000000000000000c000000000000000d00000000000000"
    "0e00000000000000170000000000000019000000cbdfffff1a000000020000001f000000f2dfffff0f000000dbdfffff"
    "1b0000001c0000001c000000200000000000000000000000000000dcc3cf9ae167d4e2df4f0de82685a6ec6936383600"
    "0000000000002e2f703332007800413d31002e2f703332000000000000000000";  // top 0xffffe000, ia32 under the x86-64 kernel

// Decodes a hex string into bytes.
std::vector<uint8_t> from_hex(const std::string& h) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(uint8_t(std::stoul(h.substr(i, 2), nullptr, 16)));
    return out;
}

// Rebuilds a spec from a real stack (argv, envp, auxv and random bytes as the kernel wrote them),
// builds it with our builder and expects the identical bytes at the identical sp.
void expect_same_as_linux(const char* hex, ElfClass cls, uint64_t top, const std::string& execfn,
                          const std::string& platform, loader::StackKernel kernel) {
    StackImage real;
    real.bytes = from_hex(hex);
    real.sp = mmu::VirtAddr(top - real.bytes.size());
    uint64_t ptr = cls == ElfClass::Elf64 ? 8 : 4;
    StackReader r{real, top, ptr};
    ParsedStack p = parse_stack(r);
    StackSpec s;
    s.cls = cls;
    s.stack_top = mmu::VirtAddr(top);
    s.argv = p.argv;
    s.envp = p.envp;
    s.execfn = execfn;
    s.platform = platform;
    s.kernel = kernel;
    ASSERT_EQ(r.str(p.aux[AT_EXECFN]), execfn);
    ASSERT_EQ(r.str(p.aux[AT_PLATFORM]), platform);
    ASSERT_TRUE(r.inside(p.aux[AT_RANDOM], 16));
    std::memcpy(s.random_bytes.data(), real.bytes.data() + (p.aux[AT_RANDOM] - real.sp.value), 16);
    for (const AuxEntry& e : p.auxv)
        if (e.type != AT_RANDOM && e.type != AT_EXECFN && e.type != AT_PLATFORM && e.type != AT_NULL)
            s.auxv.push_back(e);
    auto ours = loader::build_initial_stack(s);
    ASSERT_FALSE(ours.is_error()) << ours.error().message;
    EXPECT_EQ(ours->sp.value, real.sp.value);
    EXPECT_EQ(ours->bytes, real.bytes);
}

}  // namespace

TEST(LoaderStackTest, LaysOutStack64) { check_stack(make_spec(ElfClass::Elf64)); }

TEST(LoaderStackTest, LaysOutStack32) { check_stack(make_spec(ElfClass::Elf32)); }

TEST(LoaderStackTest, ExactLayout64) {
    StackSpec s = make_spec(ElfClass::Elf64);
    s.argv = {"a"};
    s.envp = {};
    s.execfn = "/p";
    s.auxv = {};
    auto img = loader::build_initial_stack(s);
    ASSERT_FALSE(img.is_error());
    uint64_t top = 0x7ffffffff000;
    // top-8: zero word; "/p\0" at top-11; "a\0" at top-13; align to 16 -> top-16;
    // "x86_64\0" at top-23; random at top-39; argc, argv[0], NULL, NULL + 4 aux pairs = 12 words
    // -> top-135 -> rounded down to 16: top-144.
    EXPECT_EQ(img->argv_start.value, top - 13);
    EXPECT_EQ(img->envp_start.value, top - 11);
    EXPECT_EQ(img->envp_end.value, top - 11);
    EXPECT_EQ(img->sp.value, top - 144);
}

TEST(LoaderStackTest, Ia32OnX86_64KernelHasEightByteTopWord) {
    StackSpec s = make_spec(ElfClass::Elf32);
    s.kernel = loader::StackKernel::X86_64;
    check_stack(s);
    auto native = loader::build_initial_stack(make_spec(ElfClass::Elf32));
    auto compat = loader::build_initial_stack(s);
    ASSERT_FALSE(native.is_error() || compat.is_error());
    EXPECT_EQ(compat->envp_end.value + 4, native->envp_end.value);  // execfn sits 4 bytes lower
}

TEST(LoaderStackTest, AuxvFollowsLinuxOrder) {
    StackSpec s = make_spec(ElfClass::Elf64);
    // The auxv types an x86-64 6.x kernel passes, in its order, minus the builder's own.
    const uint64_t given[] = {AT_SYSINFO_EHDR,
                              AT_MINSIGSTKSZ,
                              AT_HWCAP,
                              AT_PAGESZ,
                              AT_CLKTCK,
                              AT_PHDR,
                              AT_PHENT,
                              AT_PHNUM,
                              AT_BASE,
                              AT_FLAGS,
                              AT_ENTRY,
                              AT_UID,
                              AT_EUID,
                              AT_GID,
                              AT_EGID,
                              AT_SECURE,
                              AT_HWCAP2,
                              27 /*AT_RSEQ_FEATURE_SIZE*/,
                              28 /*AT_RSEQ_ALIGN*/};
    s.auxv.clear();
    for (uint64_t t : given) s.auxv.push_back({t, t + 1000});
    auto img = loader::build_initial_stack(s);
    ASSERT_FALSE(img.is_error()) << img.error().message;
    ParsedStack p = parse_stack(StackReader{*img, s.stack_top.value, 8});
    std::vector<uint64_t> types;
    for (const AuxEntry& e : p.auxv) types.push_back(e.type);
    const std::vector<uint64_t> want = {AT_SYSINFO_EHDR, AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR,
                                        AT_PHENT,        AT_PHNUM,       AT_BASE,  AT_FLAGS,  AT_ENTRY,  AT_UID,
                                        AT_EUID,         AT_GID,         AT_EGID,  AT_SECURE, AT_RANDOM, AT_HWCAP2,
                                        AT_EXECFN,       AT_PLATFORM,    27,       28,        AT_NULL};
    EXPECT_EQ(types, want);
    EXPECT_EQ(p.aux[AT_HWCAP2], uint64_t(AT_HWCAP2) + 1000);
    EXPECT_EQ(StackReader({*img, s.stack_top.value, 8}).str(p.aux[AT_EXECFN]), s.execfn);
}

TEST(LoaderStackTest, MatchesRealLinuxStack64) {
    expect_same_as_linux(kLinuxStack64, ElfClass::Elf64, 0x7ffffffff000, "./p64", "x86_64",
                         loader::StackKernel::MatchClass);
}

TEST(LoaderStackTest, MatchesRealLinuxStackIa32OnX86_64) {
    expect_same_as_linux(kLinuxStack32, ElfClass::Elf32, 0xffffe000, "./p32", "i686", loader::StackKernel::X86_64);
}

TEST(LoaderStackTest, SpAlignedForManyShapes) {
    for (ElfClass cls : {ElfClass::Elf64, ElfClass::Elf32}) {
        for (int argc = 0; argc < 6; argc++) {
            for (int envc = 0; envc < 6; envc++) {
                StackSpec s = make_spec(cls);
                s.argv.clear();
                s.envp.clear();
                for (int i = 0; i < argc; i++) s.argv.push_back(std::string(size_t(i * 3 + 1), char('a' + i)));
                for (int i = 0; i < envc; i++)
                    s.envp.push_back("V" + std::to_string(i) + "=" + std::string(size_t(i), 'x'));
                s.execfn = std::string(size_t(argc + envc), 'f');
                SCOPED_TRACE(testing::Message() << "argc " << argc << " envc " << envc);
                check_stack(s);
                s.kernel = loader::StackKernel::X86_64;
                check_stack(s);
            }
        }
    }
}

TEST(LoaderStackTest, EmptyArgvGetsEmptyArgv0) {
    StackSpec s = make_spec(ElfClass::Elf64);
    s.argv.clear();
    auto img = loader::build_initial_stack(s);
    ASSERT_FALSE(img.is_error());
    StackReader r{*img, s.stack_top.value, 8};
    EXPECT_EQ(r.word(img->sp.value), 1u);
    EXPECT_EQ(r.str(r.word(img->sp.value + 8)), "");
    check_stack(s);
}

TEST(LoaderStackTest, NoPlatformMeansNoAtPlatform) {
    StackSpec s = make_spec(ElfClass::Elf32);
    s.platform.clear();
    auto img = loader::build_initial_stack(s);
    ASSERT_FALSE(img.is_error());
    ParsedStack p = parse_stack(StackReader{*img, s.stack_top.value, 4});
    EXPECT_EQ(p.aux.count(AT_PLATFORM), 0u);
    EXPECT_EQ(p.auxv.back().type, uint64_t(AT_NULL));
    EXPECT_EQ(p.auxv.size(), s.auxv.size() + 3);
}

TEST(LoaderStackTest, RefusesOverlongString) {
    StackSpec s = make_spec(ElfClass::Elf64);
    s.argv.push_back(std::string(131071, 'a'));  // 131072 with its NUL: the largest allowed
    EXPECT_FALSE(loader::build_initial_stack(s).is_error());
    s.argv.back().push_back('a');
    auto r = loader::build_initial_stack(s);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().errno_value, E2BIG);
    EXPECT_NE(r.error().message.find("argv[3]"), std::string::npos) << r.error().message;
    StackSpec e = make_spec(ElfClass::Elf32);
    e.envp.push_back("X=" + std::string(200000, 'y'));
    auto re = loader::build_initial_stack(e);
    ASSERT_TRUE(re.is_error());
    EXPECT_EQ(re.error().errno_value, E2BIG);
}

TEST(LoaderStackTest, RefusesHugeArgumentList) {
    StackSpec s = make_spec(ElfClass::Elf64);
    for (int i = 0; i < 25; i++) s.argv.push_back(std::string(100000, 'z'));  // 2.5 MB > 8 MiB / 4
    auto r = loader::build_initial_stack(s);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().errno_value, E2BIG);
    EXPECT_NE(r.error().message.find("argument list too long"), std::string::npos);
    s.stack_rlimit = 16ull << 20;  // a quarter is 4 MiB: now it fits
    auto ok = loader::build_initial_stack(s);
    ASSERT_FALSE(ok.is_error()) << ok.error().message;
    EXPECT_EQ(ok->sp.value % 16, 0u);
    StackSpec many = make_spec(ElfClass::Elf32);  // pointers count against the limit too
    many.argv.assign(500000, "");                 // 2 MB of pointers + 0.5 MB of NULs
    auto rm = loader::build_initial_stack(many);
    ASSERT_TRUE(rm.is_error());
    EXPECT_EQ(rm.error().errno_value, E2BIG);
}

TEST(LoaderStackTest, RefusesMalformedSpec) {
    auto expect_einval = [](const StackSpec& s, const std::string& text) {
        auto r = loader::build_initial_stack(s);
        ASSERT_TRUE(r.is_error()) << text;
        EXPECT_EQ(r.error().errno_value, EINVAL);
        EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
    };
    StackSpec a = make_spec(ElfClass::Elf64);
    a.stack_top = mmu::VirtAddr(0x7fffffffe800);
    expect_einval(a, "not page aligned");
    StackSpec b = make_spec(ElfClass::Elf32);
    b.stack_top = mmu::VirtAddr(0x100001000);
    expect_einval(b, "above 4 GiB");
    StackSpec c = make_spec(ElfClass::Elf64);
    c.argv[1] = std::string("a\0b", 3);
    expect_einval(c, "argv[1] contains a NUL byte");
    StackSpec d = make_spec(ElfClass::Elf64);
    d.auxv.push_back({AT_RANDOM, 0});
    expect_einval(d, "added by the stack builder");
    StackSpec e = make_spec(ElfClass::Elf32);
    e.auxv.push_back({AT_ENTRY, 0x100000000});
    expect_einval(e, "does not fit a 32-bit stack");
    StackSpec f = make_spec(ElfClass::Elf64);
    f.stack_top = mmu::VirtAddr(0);
    expect_einval(f, "too low");
}
