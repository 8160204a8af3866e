// Tests for loader/elf: every refusal load_elf_binary-style validation makes, valid 32/64-bit
// ET_EXEC and static-pie ET_DYN files, real host binaries, and fuzz-style robustness.
#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "loader/elf.h"

using loader::ElfClass;
using loader::ElfImage;
using loader::parse_elf;

namespace {

// A program header as the builder writes it (narrowed for ELFCLASS32).
struct Phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

// Builds small ELF files in memory: header at 0, program headers right after it.
struct ElfBuilder {
    bool is64 = true;
    uint16_t type = ET_EXEC;
    uint16_t machine = EM_X86_64;
    uint64_t entry = 0;
    std::vector<Phdr> phdrs;
    size_t file_size = 0;  // total size; zero padded

    size_t ehsize() const { return is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr); }
    size_t phentsize() const { return is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr); }

    // Returns the file bytes.
    std::vector<uint8_t> build() const {
        size_t need = ehsize() + phdrs.size() * phentsize();
        std::vector<uint8_t> f(std::max(file_size, need), 0);
        if (is64) write_header<Elf64_Ehdr>(f);
        else write_header<Elf32_Ehdr>(f);
        for (size_t i = 0; i < phdrs.size(); i++) {
            size_t off = ehsize() + i * phentsize();
            if (is64) write_phdr<Elf64_Phdr>(f, off, phdrs[i]);
            else write_phdr<Elf32_Phdr>(f, off, phdrs[i]);
        }
        return f;
    }

    template <class Ehdr>
    void write_header(std::vector<uint8_t>& f) const {
        Ehdr e{};
        std::memcpy(e.e_ident, ELFMAG, SELFMAG);
        e.e_ident[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
        e.e_ident[EI_DATA] = ELFDATA2LSB;
        e.e_ident[EI_VERSION] = EV_CURRENT;
        e.e_type = type;
        e.e_machine = machine;
        e.e_version = EV_CURRENT;
        e.e_entry = decltype(e.e_entry)(entry);
        e.e_phoff = ehsize();
        e.e_ehsize = uint16_t(ehsize());
        e.e_phentsize = uint16_t(phentsize());
        e.e_phnum = uint16_t(phdrs.size());
        std::memcpy(f.data(), &e, sizeof e);
    }

    template <class P>
    static void write_phdr(std::vector<uint8_t>& f, size_t off, const Phdr& p) {
        P out{};
        out.p_type = p.type;
        out.p_flags = p.flags;
        out.p_offset = decltype(out.p_offset)(p.offset);
        out.p_vaddr = out.p_paddr = decltype(out.p_vaddr)(p.vaddr);
        out.p_filesz = decltype(out.p_filesz)(p.filesz);
        out.p_memsz = decltype(out.p_memsz)(p.memsz);
        out.p_align = decltype(out.p_align)(p.align);
        std::memcpy(f.data() + off, &out, sizeof out);
    }
};

// A valid static x86-64 ET_EXEC: text (holding the headers) and data+bss, non-exec stack.
ElfBuilder valid64() {
    ElfBuilder b;
    b.entry = 0x401000;
    b.phdrs = {
        {PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x1800, 0x1800, 0x1000},
        {PT_LOAD, PF_R | PF_W, 0x1800, 0x402800, 0x100, 0x3000, 0x1000},
        {PT_TLS, PF_R, 0x1800, 0x402800, 0x10, 0x40, 8},
        {PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16},
    };
    b.file_size = 0x1900;
    return b;
}

// A valid static i386 ET_EXEC at the classic 0x08048000, with PT_GNU_STACK RW.
ElfBuilder valid32() {
    ElfBuilder b;
    b.is64 = false;
    b.machine = EM_386;
    b.entry = 0x08049000;
    b.phdrs = {
        {PT_LOAD, PF_R | PF_X, 0, 0x08048000, 0x1800, 0x1800, 0x1000},
        {PT_LOAD, PF_R | PF_W, 0x1800, 0x0804a800, 0x100, 0x2000, 0x1000},
        {PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16},
    };
    b.file_size = 0x1900;
    return b;
}

// A glibc-style static-pie: ET_DYN linked at 0, PT_DYNAMIC but no PT_INTERP.
ElfBuilder static_pie64() {
    ElfBuilder b;
    b.type = ET_DYN;
    b.entry = 0x1040;
    b.phdrs = {
        {PT_PHDR, PF_R, 64, 64, 4 * 56, 4 * 56, 8},
        {PT_LOAD, PF_R | PF_X, 0, 0, 0x1800, 0x1800, 0x1000},
        {PT_LOAD, PF_R | PF_W, 0x1800, 0x2800, 0x100, 0x1000, 0x1000},
        {PT_DYNAMIC, PF_R | PF_W, 0x1800, 0x2800, 0x80, 0x80, 8},
    };
    b.file_size = 0x1900;
    return b;
}

// Parses and expects an ENOEXEC refusal whose message contains `text`.
void expect_refused(const std::vector<uint8_t>& f, const std::string& text) {
    auto r = parse_elf(f);
    ASSERT_TRUE(r.is_error()) << "expected refusal containing: " << text;
    EXPECT_EQ(r.error().errno_value, ENOEXEC);
    EXPECT_NE(r.error().message.find(text), std::string::npos) << "message: " << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

// Parses and expects success.
ElfImage expect_ok(const std::vector<uint8_t>& f) {
    auto r = parse_elf(f);
    EXPECT_FALSE(r.is_error()) << r.error().message;
    return r.is_error() ? ElfImage{} : r.release_value();
}

// Checks the guarantees parse_elf documents for any accepted file.
void expect_invariants(const ElfImage& img, size_t file_size) {
    ASSERT_FALSE(img.loads.empty());
    uint64_t top = loader::user_top(img.cls);
    for (const auto& s : img.loads) {
        EXPECT_LE(s.filesz, s.memsz);
        EXPECT_LE(s.offset + s.filesz, file_size);
        EXPECT_EQ(s.vaddr.value % mmu::PAGE_SIZE, s.offset % mmu::PAGE_SIZE);
        EXPECT_GE(s.vaddr.value, img.min_vaddr);
        EXPECT_LE(s.vaddr.value + s.memsz, img.max_vaddr);
    }
    EXPECT_EQ(img.min_vaddr % mmu::PAGE_SIZE, 0u);
    EXPECT_EQ(img.max_vaddr % mmu::PAGE_SIZE, 0u);
    EXPECT_LE(img.max_vaddr - img.min_vaddr, top);
    EXPECT_NE(img.entry, 0u);
}

// Overwrites bytes of f at off with the value v (little endian).
template <class T>
void poke(std::vector<uint8_t>& f, size_t off, T v) {
    std::memcpy(f.data() + off, &v, sizeof v);
}

}  // namespace

// ---- valid files ----

TEST(LoaderElfTest, AcceptsStaticExec64) {
    auto f = valid64().build();
    ElfImage img = expect_ok(f);
    EXPECT_EQ(img.cls, ElfClass::Elf64);
    EXPECT_EQ(img.machine, EM_X86_64);
    EXPECT_EQ(img.type, ET_EXEC);
    EXPECT_FALSE(img.is_pie());
    EXPECT_EQ(img.entry, 0x401000u);
    EXPECT_EQ(img.phoff, 64u);
    EXPECT_EQ(img.phentsize, 56);
    EXPECT_EQ(img.phnum, 4);
    ASSERT_EQ(img.loads.size(), 2u);
    EXPECT_EQ(img.loads[0].vaddr.value, 0x400000u);
    EXPECT_TRUE(img.loads[0].read && img.loads[0].exec && !img.loads[0].write);
    EXPECT_EQ(img.loads[1].vaddr.value, 0x402800u);
    EXPECT_EQ(img.loads[1].filesz, 0x100u);
    EXPECT_EQ(img.loads[1].memsz, 0x3000u);
    EXPECT_EQ(img.loads[1].offset, 0x1800u);
    EXPECT_EQ(img.loads[1].align, 0x1000u);
    EXPECT_TRUE(img.loads[1].read && img.loads[1].write && !img.loads[1].exec);
    ASSERT_TRUE(img.tls.has_value());
    EXPECT_EQ(img.tls->vaddr.value, 0x402800u);
    EXPECT_EQ(img.tls->filesz, 0x10u);
    EXPECT_EQ(img.tls->memsz, 0x40u);
    EXPECT_EQ(img.tls->align, 8u);
    EXPECT_FALSE(img.exec_stack);
    EXPECT_FALSE(img.read_implies_exec);
    EXPECT_EQ(img.phdr_vaddr, 0x400040u);  // inside the text PT_LOAD, which maps offset 0
    EXPECT_EQ(img.min_vaddr, 0x400000u);
    EXPECT_EQ(img.max_vaddr, 0x406000u);
    expect_invariants(img, f.size());
}

TEST(LoaderElfTest, AcceptsStaticExec32) {
    auto f = valid32().build();
    ElfImage img = expect_ok(f);
    EXPECT_EQ(img.cls, ElfClass::Elf32);
    EXPECT_EQ(img.machine, EM_386);
    EXPECT_EQ(img.entry, 0x08049000u);
    EXPECT_EQ(img.phoff, 52u);
    EXPECT_EQ(img.phentsize, 32);
    EXPECT_EQ(img.phnum, 3);
    ASSERT_EQ(img.loads.size(), 2u);
    EXPECT_EQ(img.loads[1].vaddr.value, 0x0804a800u);
    EXPECT_EQ(img.loads[1].memsz, 0x2000u);
    EXPECT_FALSE(img.tls.has_value());
    EXPECT_FALSE(img.exec_stack);
    EXPECT_FALSE(img.read_implies_exec);
    EXPECT_EQ(img.phdr_vaddr, 0x08048034u);
    EXPECT_EQ(img.min_vaddr, 0x08048000u);
    EXPECT_EQ(img.max_vaddr, 0x0804d000u);
    expect_invariants(img, f.size());
}

TEST(LoaderElfTest, AcceptsStaticPieWithoutInterp) {
    auto f = static_pie64().build();
    ElfImage img = expect_ok(f);
    EXPECT_TRUE(img.is_pie());
    EXPECT_EQ(img.type, ET_DYN);
    EXPECT_EQ(img.entry, 0x1040u);
    EXPECT_EQ(img.phdr_vaddr, 64u);  // from PT_PHDR, unbiased
    EXPECT_EQ(img.min_vaddr, 0u);
    EXPECT_EQ(img.max_vaddr, 0x4000u);
    expect_invariants(img, f.size());
}

TEST(LoaderElfTest, PhdrVaddrPrefersPtPhdr) {
    auto b = valid64();
    b.phdrs.push_back({PT_PHDR, PF_R, 64, 0x400040, 5 * 56, 5 * 56, 8});
    EXPECT_EQ(expect_ok(b.build()).phdr_vaddr, 0x400040u);
    b.phdrs.back().vaddr = 0x400080;  // PT_PHDR wins even when it disagrees with the PT_LOAD
    EXPECT_EQ(expect_ok(b.build()).phdr_vaddr, 0x400080u);
}

TEST(LoaderElfTest, PhdrVaddrZeroWhenTableNotLoaded) {
    auto b = valid64();
    b.phdrs[0].offset = 0x1000;
    b.phdrs[0].vaddr = 0x401000;
    b.phdrs[0].filesz = b.phdrs[0].memsz = 0x800;
    EXPECT_EQ(expect_ok(b.build()).phdr_vaddr, 0u);
}

TEST(LoaderElfTest, GnuStackWithExecMakesStackExecutable) {
    auto b = valid64();
    b.phdrs[3].flags = PF_R | PF_W | PF_X;
    ElfImage img = expect_ok(b.build());
    EXPECT_TRUE(img.exec_stack);
    EXPECT_FALSE(img.read_implies_exec);
}

TEST(LoaderElfTest, MissingGnuStackFollowsElfReadImpliesExec) {
    auto b64 = valid64();
    b64.phdrs.pop_back();  // x86-64 without PT_GNU_STACK: neither exec stack nor READ_IMPLIES_EXEC
    ElfImage img64 = expect_ok(b64.build());
    EXPECT_FALSE(img64.exec_stack);
    EXPECT_FALSE(img64.read_implies_exec);
    auto b32 = valid32();
    b32.phdrs.pop_back();  // i386 without PT_GNU_STACK: READ_IMPLIES_EXEC, stack executable
    ElfImage img32 = expect_ok(b32.build());
    EXPECT_TRUE(img32.exec_stack);
    EXPECT_TRUE(img32.read_implies_exec);
}

TEST(LoaderElfTest, AcceptsSegmentsSharingAPage) {
    auto b = valid64();
    b.phdrs[1].offset = 0x1800;
    b.phdrs[1].vaddr = 0x401800;  // starts right where text ends, inside text's last page
    ElfImage img = expect_ok(b.build());
    EXPECT_EQ(img.max_vaddr, 0x405000u);
}

TEST(LoaderElfTest, AcceptsSegmentEndingExactlyAtUserTop) {
    auto b = valid32();
    b.phdrs[1].vaddr = 0xC0000000 - 0x2000 + 0x800;
    b.phdrs[1].memsz = 0x1800;
    expect_ok(b.build());
    auto b64 = valid64();
    b64.phdrs[1].vaddr = 0x7ffffffff000 - 0x3000 + 0x800;
    b64.phdrs[1].memsz = 0x2800;
    expect_ok(b64.build());
}

// ---- refusals: the ELF header ----

TEST(LoaderElfTest, RefusesTruncatedHeader) {
    auto f = valid64().build();
    expect_refused(std::vector<uint8_t>(f.begin(), f.begin() + 63), "truncated ELF header");
    expect_refused(std::vector<uint8_t>(f.begin(), f.begin() + 4), "truncated ELF header");
    expect_refused({}, "truncated ELF header");
    auto g = valid32().build();
    expect_refused(std::vector<uint8_t>(g.begin(), g.begin() + 51), "truncated ELF header");
}

TEST(LoaderElfTest, RefusesBadMagic) {
    auto f = valid64().build();
    f[1] = 'X';
    expect_refused(f, "not an ELF file");
    expect_refused({'#', '!'}, "not an ELF file");
    std::string script = "#!/bin/sh\necho hello\n";
    expect_refused(std::vector<uint8_t>(script.begin(), script.end()), "not an ELF file");
}

TEST(LoaderElfTest, RefusesBadClass) {
    auto f = valid64().build();
    f[EI_CLASS] = 3;
    expect_refused(f, "ELF class 3 is neither ELFCLASS32 nor ELFCLASS64");
    f[EI_CLASS] = ELFCLASSNONE;
    expect_refused(f, "ELF class 0");
}

TEST(LoaderElfTest, RefusesBigEndian) {
    auto f = valid64().build();
    f[EI_DATA] = ELFDATA2MSB;
    expect_refused(f, "not little-endian");
}

TEST(LoaderElfTest, RefusesBadVersion) {
    auto f = valid64().build();
    poke<uint32_t>(f, offsetof(Elf64_Ehdr, e_version), 2);
    expect_refused(f, "ELF version 2 is not 1");
    auto g = valid64().build();
    g[EI_VERSION] = 0;
    expect_refused(g, "ELF version 0 is not 1");
}

TEST(LoaderElfTest, RefusesNonX86Machine) {
    auto b = valid64();
    b.machine = EM_AARCH64;
    expect_refused(b.build(), "ELF machine 183 (AArch64) is not x86");
    b.machine = EM_RISCV;
    expect_refused(b.build(), "ELF machine 243 (RISC-V) is not x86");
    b.machine = 4242;
    expect_refused(b.build(), "ELF machine 4242 is not x86");
}

TEST(LoaderElfTest, RefusesClassMachineMismatch) {
    auto x32 = valid32();
    x32.machine = EM_X86_64;
    expect_refused(x32.build(), "x32 programs (ELFCLASS32 with EM_X86_64) are not supported");
    auto b = valid64();
    b.machine = EM_386;
    expect_refused(b.build(), "ELFCLASS64 file with machine 3 (i386)");
}

TEST(LoaderElfTest, RefusesNonExecutableTypes) {
    auto b = valid64();
    b.type = ET_REL;
    expect_refused(b.build(), "relocatable object");
    b.type = ET_CORE;
    expect_refused(b.build(), "core file");
    b.type = ET_NONE;
    expect_refused(b.build(), "ELF type 0 is not an executable");
}

TEST(LoaderElfTest, RefusesWrongPhentsize) {
    auto f = valid64().build();
    poke<uint16_t>(f, offsetof(Elf64_Ehdr, e_phentsize), 32);
    expect_refused(f, "e_phentsize 32 is wrong for ELFCLASS64 (expected 56)");
    auto g = valid32().build();
    poke<uint16_t>(g, offsetof(Elf32_Ehdr, e_phentsize), 56);
    expect_refused(g, "e_phentsize 56 is wrong for ELFCLASS32 (expected 32)");
}

TEST(LoaderElfTest, RefusesBadPhnum) {
    auto f = valid64().build();
    poke<uint16_t>(f, offsetof(Elf64_Ehdr, e_phnum), 0);
    expect_refused(f, "no program headers (e_phnum 0)");
    poke<uint16_t>(f, offsetof(Elf64_Ehdr, e_phnum), 1171);  // 65536 / 56 = 1170
    expect_refused(f, "e_phnum 1171 is absurd (max 1170)");
    auto g = valid32().build();
    poke<uint16_t>(g, offsetof(Elf32_Ehdr, e_phnum), 0xffff);
    expect_refused(g, "e_phnum 65535 is absurd (max 2048)");
}

TEST(LoaderElfTest, RefusesPhdrTableOutsideFile) {
    auto f = valid64().build();
    poke<uint64_t>(f, offsetof(Elf64_Ehdr, e_phoff), f.size() - 56);
    expect_refused(f, "program header table extends beyond end of file");
    poke<uint64_t>(f, offsetof(Elf64_Ehdr, e_phoff), ~0ull - 8);  // would wrap
    expect_refused(f, "program header table extends beyond end of file");
    auto g = valid32().build();
    poke<uint16_t>(g, offsetof(Elf32_Ehdr, e_phnum), 1000);
    expect_refused(g, "program header table extends beyond end of file");
}

// ---- refusals: program headers ----

TEST(LoaderElfTest, RecordsThePtInterpPath) {
    auto b = valid64();
    const char path[] = "/lib64/ld-linux-x86-64.so.2";
    b.phdrs.insert(b.phdrs.begin(), {PT_INTERP, PF_R, 0x300, 0x400300, sizeof path, sizeof path, 1});
    auto f = b.build();
    std::memcpy(f.data() + 0x300, path, sizeof path);
    auto r = parse_elf(f);
    ASSERT_FALSE(r.is_error()) << r.error().message;
    EXPECT_EQ(r->interp, path);
    EXPECT_EQ(parse_elf(valid64().build())->interp, "");
}

// load_elf_binary's checks of PT_INTERP: 2..PATH_MAX bytes, inside the file, NUL-terminated.
TEST(LoaderElfTest, RefusesBadPtInterp) {
    struct Case {
        uint64_t offset, filesz;
        const char* bytes;
        const char* why;
    };
    const Case cases[] = {
        {0x300, 1, "", "PT_INTERP of 1 bytes"},
        {0x300, 4097, "", "PT_INTERP of 4097 bytes"},
        {0x100000, 20, "", "PT_INTERP extends beyond end of file"},
        {0x300, 4, "/lib", "PT_INTERP path is not NUL-terminated"},
    };
    for (const Case& c : cases) {
        auto b = valid32();
        b.phdrs.push_back({PT_INTERP, PF_R, c.offset, 0, c.filesz, c.filesz, 1});
        auto f = b.build();
        if (c.offset + 4 < f.size()) std::memcpy(f.data() + c.offset, c.bytes, std::strlen(c.bytes));
        expect_refused(f, c.why);
    }
}

// The interpreter's own checks (elf_read, the magic, elf_check_arch): EIO, ELIBBAD, ENOEXEC.
TEST(LoaderElfTest, ChecksTheInterpreterAgainstTheProgram) {
    auto prog = parse_elf(valid64().build());
    ASSERT_FALSE(prog.is_error());
    auto interp = valid64().build();
    EXPECT_FALSE(loader::parse_interp(*prog, interp).is_error());
    std::vector<uint8_t> short_file(interp.begin(), interp.begin() + 63);
    EXPECT_EQ(loader::parse_interp(*prog, short_file).error().errno_value, EIO);
    std::vector<uint8_t> text(200, 'x');
    EXPECT_EQ(loader::parse_interp(*prog, text).error().errno_value, ELIBBAD);
    EXPECT_EQ(loader::parse_interp(*prog, valid32().build()).error().errno_value, ELIBBAD);
    auto broken = valid64();
    broken.phdrs.clear();
    EXPECT_EQ(loader::parse_interp(*prog, broken.build()).error().errno_value, ENOEXEC);
}

TEST(LoaderElfTest, RefusesNoLoadSegments) {
    auto b = valid64();
    b.phdrs.erase(b.phdrs.begin(), b.phdrs.begin() + 2);
    expect_refused(b.build(), "no PT_LOAD segments");
}

TEST(LoaderElfTest, RefusesFileszLargerThanMemsz) {
    auto b = valid64();
    b.phdrs[1].memsz = 0x80;
    expect_refused(b.build(), "PT_LOAD segment 1 has p_filesz larger than p_memsz");
}

TEST(LoaderElfTest, RefusesSegmentBeyondEndOfFile) {
    auto b = valid64();
    b.phdrs[1].filesz = 0x101;
    expect_refused(b.build(), "segment 1 extends beyond end of file (truncated?)");
    auto c = valid64();
    c.phdrs[1].offset = ~0ull - 0x7ff;  // offset + filesz wraps; offset ≡ vaddr mod page
    expect_refused(c.build(), "segment 1 extends beyond end of file (truncated?)");
}

TEST(LoaderElfTest, RefusesSegmentBeyondUserSpace64) {
    auto b = valid64();
    b.phdrs[1].vaddr = 0x7ffffffff000 - 0x2800;  // memsz 0x3000: ends 0x800 past the top
    expect_refused(b.build(), "PT_LOAD segment 1 lies beyond the user address space");
    b.phdrs[1].vaddr = 0xffffffff80000800;  // kernel half
    expect_refused(b.build(), "PT_LOAD segment 1 lies beyond the user address space");
}

TEST(LoaderElfTest, RefusesSegmentBeyondUserSpace32) {
    auto b = valid32();
    b.phdrs[1].vaddr = 0xC0000800;  // the kernel's 1 GiB
    expect_refused(b.build(), "PT_LOAD segment 1 lies beyond the user address space");
    b.phdrs[1].vaddr = 0xBFFFF800;
    expect_refused(b.build(), "PT_LOAD segment 1 lies beyond the user address space");
    b.phdrs[1].vaddr = 0xFFFFF800;  // end beyond 4 GiB
    expect_refused(b.build(), "PT_LOAD segment 1 lies beyond the user address space");
}

TEST(LoaderElfTest, RefusesAddressOverflow) {
    auto b = static_pie64();  // ET_DYN skips the user-space check, so only the wrap check remains
    b.phdrs[2].vaddr = 0xfffffffffffff800;
    expect_refused(b.build(), "PT_LOAD segment 2 address range overflows");
}

TEST(LoaderElfTest, RefusesPieSpanLargerThanUserSpace) {
    auto b = static_pie64();
    b.phdrs[2].vaddr = 0x800000000800;  // 2^47: span from 0 exceeds the x86-64 user space
    expect_refused(b.build(), "PT_LOAD segments span more than the user address space");
    auto c = static_pie64();
    c.phdrs[2].vaddr = 0x7fff00000800;  // wide but fits
    expect_ok(c.build());
}

TEST(LoaderElfTest, RefusesMisalignedSegment) {
    auto b = valid64();
    b.phdrs[1].vaddr = 0x402900;  // offset 0x1800 -> 0x800 in page, vaddr -> 0x900
    expect_refused(b.build(), "misaligned segment");
}

TEST(LoaderElfTest, RefusesOverlappingSegments) {
    auto b = valid64();
    b.phdrs[1].vaddr = 0x400800;  // data [0x400800, 0x403800) overlaps text [0x400000, 0x401800)
    expect_refused(b.build(), "PT_LOAD segments overlap ([0x400000, 0x401800) and [0x400800, 0x403800))");
    auto c = valid64();  // out of file order, still overlapping
    c.phdrs[1].vaddr = 0x3ff800;
    expect_refused(c.build(), "PT_LOAD segments overlap");
}

TEST(LoaderElfTest, RefusesAbsurdSizes) {
    auto b = valid64();
    b.phdrs[1].memsz = (64ull << 30) + 1;
    expect_refused(b.build(), "PT_LOAD segment 1 has an absurd size");
    auto c = valid32();
    c.phdrs[1].memsz = (3ull << 30) + 1;
    expect_refused(c.build(), "PT_LOAD segment 1 has an absurd size");
    auto t = valid64();
    t.phdrs[2].memsz = 1ull << 40;
    expect_refused(t.build(), "PT_TLS segment 2 has an absurd size");
}

TEST(LoaderElfTest, RefusesBadTls) {
    auto b = valid64();
    b.phdrs[2].filesz = 0x100;
    expect_refused(b.build(), "PT_TLS segment 2 has p_filesz larger than p_memsz");
    b.phdrs[2].filesz = b.phdrs[2].memsz = 0x1000;
    expect_refused(b.build(), "PT_TLS segment 2 extends beyond end of file");
}

TEST(LoaderElfTest, RefusesZeroEntry) {
    auto b = valid64();
    b.entry = 0;
    expect_refused(b.build(), "entry point is 0");
    auto c = valid32();
    c.entry = 0;
    expect_refused(c.build(), "entry point is 0");
    auto d = valid64();
    d.entry = 0xffffffff81000000;
    expect_refused(d.build(), "entry point lies beyond the user address space");
}

// ---- robustness ----

TEST(LoaderElfTest, EveryTruncationFailsCleanly) {
    for (const auto& full : {valid64().build(), valid32().build(), static_pie64().build()}) {
        for (size_t len = 0; len < full.size(); len++) {
            std::vector<uint8_t> cut(full.begin(), full.begin() + len);  // exact size: ASan sees overreads
            auto r = parse_elf(cut);
            ASSERT_TRUE(r.is_error()) << "length " << len;
            EXPECT_EQ(r.error().errno_value, ENOEXEC);
            EXPECT_FALSE(r.error().message.empty());
        }
        EXPECT_FALSE(parse_elf(full).is_error());
    }
}

TEST(LoaderElfTest, RandomMutationsNeverCrash) {
    std::mt19937 rng(20240531);
    const std::vector<std::vector<uint8_t>> seeds = {valid64().build(), valid32().build(), static_pie64().build()};
    int accepted = 0;
    for (int iter = 0; iter < 5000; iter++) {
        std::vector<uint8_t> f = seeds[iter % seeds.size()];
        size_t hot = 64 + 8 * 56;  // header and program headers, where mutations matter
        int flips = 1 + int(rng() % 8);
        for (int k = 0; k < flips; k++) {
            size_t pos = (rng() % 2) ? rng() % std::min(hot, f.size()) : rng() % f.size();
            f[pos] = (rng() % 3 == 0) ? uint8_t(0xff) : uint8_t(f[pos] ^ (1u << (rng() % 8)));
        }
        if (rng() % 10 == 0) f.resize(rng() % f.size());
        auto r = parse_elf(f);
        if (r.is_error()) {
            EXPECT_FALSE(r.error().message.empty());
            continue;
        }
        accepted++;
        expect_invariants(*r, f.size());
    }
    EXPECT_GT(accepted, 0);  // some mutations only touch padding
}

// ---- real binaries and files ----

TEST(LoaderElfTest, ParsesRealBusybox) {
    if (access("/bin/busybox", R_OK) != 0) GTEST_SKIP() << "/bin/busybox not installed";
    std::vector<uint8_t> contents;
    auto r = loader::load_elf_file("/bin/busybox", contents);
    if (r.is_error() && r.error().message.find("PT_INTERP") != std::string::npos)
        GTEST_SKIP() << "/bin/busybox is dynamically linked (not busybox-static)";
    ASSERT_FALSE(r.is_error()) << r.error().message;
    EXPECT_EQ(r->machine, EM_X86_64);
    EXPECT_EQ(r->cls, ElfClass::Elf64);
    EXPECT_NE(r->phdr_vaddr, 0u);
    expect_invariants(*r, contents.size());
}

TEST(LoaderElfTest, ParsesDynamicLsWithItsInterpreter) {
    if (access("/bin/ls", R_OK) != 0) GTEST_SKIP() << "/bin/ls not present";
    std::vector<uint8_t> contents;
    auto r = loader::load_elf_file("/bin/ls", contents);
    ASSERT_FALSE(r.is_error()) << r.error().message;
    EXPECT_EQ(r->interp.rfind("/lib", 0), 0u) << r->interp;
    expect_invariants(*r, contents.size());
}

TEST(LoaderElfTest, LoadFileReportsMissingDirectoryAndEmpty) {
    std::vector<uint8_t> contents;
    auto missing = loader::load_elf_file("/nonexistent/emu-prog", contents);
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().errno_value, ENOENT);
    EXPECT_EQ(missing.error().message, "/nonexistent/emu-prog: no such file");

    auto dir = loader::load_elf_file("/tmp", contents);
    ASSERT_TRUE(dir.is_error());
    EXPECT_EQ(dir.error().errno_value, EISDIR);
    EXPECT_EQ(dir.error().message, "/tmp: is a directory");

    auto dev = loader::load_elf_file("/dev/null", contents);
    ASSERT_TRUE(dev.is_error());
    EXPECT_EQ(dev.error().errno_value, EACCES);
    EXPECT_EQ(dev.error().message, "/dev/null: not a regular file");

    char path[] = "/tmp/emu_loader_empty_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    chmod(path, 0755);  // execve refuses a file without execute permission first
    auto empty = loader::load_elf_file(path, contents);
    ASSERT_TRUE(empty.is_error());
    EXPECT_EQ(empty.error().errno_value, ENOEXEC);
    EXPECT_EQ(empty.error().message, std::string(path) + ": empty file");
    unlink(path);
}

TEST(LoaderElfTest, LoadFileRefusesAFileWithoutExecutePermission) {
    char path[] = "/tmp/emu_loader_noexec_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    auto f = valid64().build();
    ASSERT_EQ(write(fd, f.data(), f.size()), ssize_t(f.size()));
    close(fd);
    chmod(path, 0644);
    std::vector<uint8_t> contents;
    auto r = loader::load_elf_file(path, contents);
    unlink(path);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().errno_value, EACCES);
    EXPECT_EQ(r.error().message, std::string(path) + ": permission denied (not executable)");
}

TEST(LoaderElfTest, LoadFileReportsPermissionDenied) {
    if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
    char path[] = "/tmp/emu_loader_noperm_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    auto f = valid64().build();
    ASSERT_EQ(write(fd, f.data(), f.size()), ssize_t(f.size()));
    close(fd);
    chmod(path, 0);
    std::vector<uint8_t> contents;
    auto r = loader::load_elf_file(path, contents);
    unlink(path);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().errno_value, EACCES);
    EXPECT_EQ(r.error().message, std::string(path) + ": permission denied");
}

TEST(LoaderElfTest, LoadFileParsesAndPrefixesParseErrors) {
    char path[] = "/tmp/emu_loader_ok_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    auto f = valid32().build();
    ASSERT_EQ(write(fd, f.data(), f.size()), ssize_t(f.size()));
    close(fd);
    chmod(path, 0755);
    std::vector<uint8_t> contents;
    auto ok = loader::load_elf_file(path, contents);
    ASSERT_FALSE(ok.is_error()) << ok.error().message;
    EXPECT_EQ(contents, f);
    EXPECT_EQ(ok->cls, ElfClass::Elf32);

    fd = open(path, O_WRONLY | O_TRUNC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "#!/bin/sh\n", 10), 10);
    close(fd);
    auto bad = loader::load_elf_file(path, contents);
    unlink(path);
    ASSERT_TRUE(bad.is_error());
    EXPECT_EQ(bad.error().errno_value, ENOEXEC);
    EXPECT_EQ(bad.error().message, std::string(path) + ": not an ELF file");
}

// The guest test programs (tests/guest, built into EMU_BINARY_DIR/guest) all parse as expected.
TEST(LoaderElfTest, ParsesGuestPrograms) {
    struct Want {
        const char* name;
        ElfClass cls;
        uint16_t type;
    };
    const Want wants[] = {{"hello.x86_64", ElfClass::Elf64, ET_EXEC},
                          {"hello.i386", ElfClass::Elf32, ET_EXEC},
                          {"hello.musl", ElfClass::Elf64, ET_EXEC},
                          {"hello.pie.x86_64", ElfClass::Elf64, ET_DYN}};
    int found = 0;
    for (const Want& w : wants) {
        std::string path = std::string(EMU_BINARY_DIR) + "/guest/" + w.name;
        if (access(path.c_str(), R_OK) != 0) continue;
        found++;
        std::vector<uint8_t> contents;
        auto r = loader::load_elf_file(path, contents);
        ASSERT_FALSE(r.is_error()) << r.error().message;
        EXPECT_EQ(r->cls, w.cls) << w.name;
        EXPECT_EQ(r->type, w.type) << w.name;
        EXPECT_EQ(r->machine, w.cls == ElfClass::Elf64 ? EM_X86_64 : EM_386) << w.name;
        EXPECT_FALSE(r->exec_stack) << w.name;
        EXPECT_NE(r->phdr_vaddr, 0u) << w.name;
        expect_invariants(*r, contents.size());
    }
    if (found == 0) GTEST_SKIP() << "guest programs not built in " << EMU_BINARY_DIR << "/guest";
}
