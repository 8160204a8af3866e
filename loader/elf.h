// ELF executable parsing and validation: what execve's load_elf_binary checks before it maps
// anything. Pure parsing and layout; the OS layer maps the segments this describes.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "mmu/types.h"

namespace loader {

using mmu::Error;
using mmu::ErrorOr;
using mmu::VirtAddr;

enum class ElfClass { Elf32, Elf64 };

// Highest user address (exclusive) for each class: i386 keeps the top GiB for the kernel
// (3G/1G split); x86-64 uses TASK_SIZE_MAX = 2^47 - PAGE_SIZE.
inline constexpr uint64_t USER_TOP_32 = 0xC0000000ull;
inline constexpr uint64_t USER_TOP_64 = 0x7ffffffff000ull;
// Largest memsz of one segment we accept before calling the file absurd.
inline constexpr uint64_t MAX_SEGMENT_32 = 3ull << 30;
inline constexpr uint64_t MAX_SEGMENT_64 = 64ull << 30;

// Highest user address (exclusive) for programs of this class.
constexpr uint64_t user_top(ElfClass cls) { return cls == ElfClass::Elf32 ? USER_TOP_32 : USER_TOP_64; }

// One PT_LOAD or PT_TLS program header, validated against the file and the address space.
struct ElfSegment {
    VirtAddr vaddr;  // as in the file (for ET_DYN add the load bias)
    uint64_t memsz = 0;
    uint64_t filesz = 0;  // <= memsz; the rest up to memsz is zero-filled (bss)
    uint64_t offset = 0;  // offset + filesz <= file size; offset % PAGE_SIZE == vaddr % PAGE_SIZE
    uint64_t align = 0;
    bool read = false, write = false, exec = false;
};

// A validated executable: everything execve needs to lay out the address space.
struct ElfImage {
    ElfClass cls = ElfClass::Elf64;
    uint16_t machine = 0;  // EM_386 or EM_X86_64
    uint16_t type = 0;     // ET_EXEC or ET_DYN
    uint64_t entry = 0;    // as in the file (for ET_DYN add the load bias)
    uint64_t phoff = 0;
    uint16_t phentsize = 0, phnum = 0;
    std::vector<ElfSegment> loads;  // PT_LOAD in file order, pairwise non-overlapping
    std::optional<ElfSegment> tls;  // first PT_TLS
    // The program interpreter a dynamically linked program names (the first PT_INTERP, up to
    // its NUL), which execve maps beside it and starts instead (load_elf_interp); empty
    // for a static program.
    std::string interp;
    // Linux's elf_read_implies_exec on x86 (arch/x86/include/asm/elf.h, since 5.8): only an
    // ia32 program *without* PT_GNU_STACK gets READ_IMPLIES_EXEC (every PROT_READ mapping
    // becomes executable, the stack included). x86-64 without PT_GNU_STACK gets neither.
    bool read_implies_exec = false;
    // Stack executable: PT_GNU_STACK has PF_X (last one wins, as in Linux), or read_implies_exec.
    bool exec_stack = false;
    // Address of the program headers in memory (for AT_PHDR): PT_PHDR's p_vaddr, else computed
    // from the PT_LOAD whose file range holds the whole table; 0 if not mapped. Unbiased.
    uint64_t phdr_vaddr = 0;
    uint64_t min_vaddr = 0, max_vaddr = 0;  // page-aligned span of all PT_LOADs (unbiased)

    bool is_pie() const;  // ET_DYN (glibc static-pie, or a self-relocating loader)
};

// Parses and validates an executable held in memory; never reads outside `file`.
// Errors are ENOEXEC with a one-line reason.
ErrorOr<ElfImage> parse_elf(std::span<const uint8_t> file);

// Parses the program interpreter `prog` names, checked as load_elf_binary checks it: EIO when
// the file is shorter than an ELF header of prog's class (elf_read's short read), ELIBBAD
// when it is not an ELF file or not for prog's machine (elf_check_arch), ENOEXEC when it is
// a malformed one.
ErrorOr<ElfImage> parse_interp(const ElfImage& prog, std::span<const uint8_t> file);

// Reads `path` into `contents` and parses it; every error message names the path.
ErrorOr<ElfImage> load_elf_file(const std::string& path, std::vector<uint8_t>& contents);

}  // namespace loader
