// ELF parsing and validation, mirroring the checks of Linux's load_elf_binary (fs/binfmt_elf.c).
// Every read of the file goes through read_at(), which bounds-checks and memcpys, so any input
// (truncated, corrupted, hostile) yields an Error and never undefined behaviour.
#include "loader/elf.h"
#include "base/format.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>

namespace loader {

static_assert(std::endian::native == std::endian::little, "ELF structs are read by memcpy");

namespace {

using mmu::PAGE_SIZE;

// The fields of an ELF header we use, widened to 64 bits.
struct Header {
    ElfClass cls;
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff;
    uint16_t phentsize, phnum;
};

// One program header, widened to 64 bits.
struct RawPhdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
};

// Per-class limits on where and how big segments may be.
struct Limits {
    uint64_t user_top;
    uint64_t max_segment;
};

Error noexec(std::string msg) { return Error::from_errno(ENOEXEC, std::move(msg)); }

// Copies a T from file[off, off+sizeof T); false (and no read) if that range leaves the file.
template <class T>
bool read_at(std::span<const uint8_t> file, uint64_t off, T& out) {
    if (off > file.size() || sizeof(T) > file.size() - off) return false;
    std::memcpy(&out, file.data() + off, sizeof(T));
    return true;
}

using base::hex;

// True if [off, off+len) lies inside a file of `size` bytes (overflow-safe).
bool in_file(uint64_t size, uint64_t off, uint64_t len) { return off <= size && len <= size - off; }

// Human name of an e_machine value, for refusal messages ("" if unknown).
const char* machine_name(uint16_t m) {
    switch (m) {
    case EM_386: return "i386";
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "AArch64";
    case EM_ARM: return "ARM";
    case EM_MIPS: return "MIPS";
    case EM_PPC: return "PowerPC";
    case EM_PPC64: return "PowerPC64";
    case EM_RISCV: return "RISC-V";
    case EM_S390: return "S/390";
    case EM_SPARC: return "SPARC";
    case EM_SPARCV9: return "SPARC V9";
    case EM_IA_64: return "IA-64";
    case EM_68K: return "m68k";
    case EM_SH: return "SuperH";
    case 258: return "LoongArch";  // EM_LOONGARCH, missing from older <elf.h>
    default: return "";
    }
}

// Describes a machine as "183 (AArch64)" or just "4242".
std::string describe_machine(uint16_t m) {
    std::string name = machine_name(m);
    return std::to_string(m) + (name.empty() ? "" : " (" + name + ")");
}

// Checks magic and class in e_ident; guarantees the file holds a whole header of that class.
ErrorOr<ElfClass> check_ident(std::span<const uint8_t> file) {
    static constexpr uint8_t magic[SELFMAG] = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3};
    size_t n = std::min<size_t>(file.size(), SELFMAG);
    if (n != 0 && std::memcmp(file.data(), magic, n) != 0) return noexec("not an ELF file");
    if (file.size() <= EI_CLASS) return noexec("truncated ELF header");
    uint8_t c = file[EI_CLASS];
    if (c != ELFCLASS32 && c != ELFCLASS64)
        return noexec("ELF class " + std::to_string(c) + " is neither ELFCLASS32 nor ELFCLASS64");
    size_t need = c == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
    if (file.size() < need) return noexec("truncated ELF header");
    return c == ELFCLASS32 ? ElfClass::Elf32 : ElfClass::Elf64;
}

// Widens the class's ELF header; the caller guaranteed it is inside the file.
template <class Ehdr>
Header widen_header(std::span<const uint8_t> file, ElfClass cls) {
    Ehdr e{};
    (void)read_at(file, 0, e);
    return Header{cls, e.e_type, e.e_machine, e.e_version, e.e_entry, e.e_phoff, e.e_phentsize, e.e_phnum};
}

// Reads the ELF header and checks byte order and version.
ErrorOr<Header> read_header(std::span<const uint8_t> file) {
    auto cls = TRY(check_ident(file));
    if (file[EI_DATA] != ELFDATA2LSB)
        return noexec("ELF data encoding " + std::to_string(file[EI_DATA]) + " is not little-endian");
    Header h = cls == ElfClass::Elf32 ? widen_header<Elf32_Ehdr>(file, cls) : widen_header<Elf64_Ehdr>(file, cls);
    uint32_t version = file[EI_VERSION] != EV_CURRENT ? file[EI_VERSION] : h.version;
    if (version != EV_CURRENT) return noexec("ELF version " + std::to_string(version) + " is not 1 (EV_CURRENT)");
    return h;
}

// Guarantees an x86 machine whose class matches (EM_386/ELFCLASS32, EM_X86_64/ELFCLASS64).
ErrorOr<void> check_machine(const Header& h) {
    if (h.machine != EM_386 && h.machine != EM_X86_64)
        return noexec("ELF machine " + describe_machine(h.machine) + " is not x86");
    if (h.machine == EM_X86_64 && h.cls == ElfClass::Elf32)
        return noexec("x32 programs (ELFCLASS32 with EM_X86_64) are not supported");
    if (h.machine == EM_386 && h.cls == ElfClass::Elf64)
        return noexec("ELFCLASS64 file with machine 3 (i386): class and machine disagree");
    return {};
}

// Guarantees an executable type: ET_EXEC, or ET_DYN (PIE / static-pie).
ErrorOr<void> check_type(const Header& h) {
    switch (h.type) {
    case ET_EXEC:
    case ET_DYN: return {};
    case ET_REL: return noexec("relocatable object (ET_REL) cannot be executed");
    case ET_CORE: return noexec("core file (ET_CORE) cannot be executed");
    default: return noexec("ELF type " + std::to_string(h.type) + " is not an executable");
    }
}

// Guarantees the program header table has the class's entry size, a sane count, and fits the file.
ErrorOr<void> check_phdr_table(const Header& h, uint64_t file_size) {
    bool is32 = h.cls == ElfClass::Elf32;
    uint64_t want = is32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
    if (h.phentsize != want)
        return noexec("e_phentsize " + std::to_string(h.phentsize) + " is wrong for " +
                      (is32 ? "ELFCLASS32" : "ELFCLASS64") + " (expected " + std::to_string(want) + ")");
    if (h.phnum == 0) return noexec("no program headers (e_phnum 0)");
    uint64_t max = 65536 / want;  // Linux: e_phnum > 65536U / sizeof(struct elf_phdr)
    if (h.phnum > max)
        return noexec("e_phnum " + std::to_string(h.phnum) + " is absurd (max " + std::to_string(max) + ")");
    if (!in_file(file_size, h.phoff, uint64_t(h.phnum) * want))
        return noexec("program header table extends beyond end of file (truncated?)");
    return {};
}

// Widens program header i of a class; the table was bounds-checked by check_phdr_table.
template <class Phdr>
RawPhdr widen_phdr(std::span<const uint8_t> file, uint64_t off) {
    Phdr p{};
    (void)read_at(file, off, p);
    return RawPhdr{p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_filesz, p.p_memsz, p.p_align};
}

// Reads all program headers in file order.
std::vector<RawPhdr> read_phdrs(std::span<const uint8_t> file, const Header& h) {
    std::vector<RawPhdr> out;
    out.reserve(h.phnum);
    for (uint64_t i = 0; i < h.phnum; i++) {
        uint64_t off = h.phoff + i * h.phentsize;
        out.push_back(h.cls == ElfClass::Elf32 ? widen_phdr<Elf32_Phdr>(file, off) : widen_phdr<Elf64_Phdr>(file, off));
    }
    return out;
}

// The first PT_INTERP's path, checked as load_elf_binary checks it: 2 to PATH_MAX bytes
// inside the file, the last a NUL. "" when there is no PT_INTERP.
ErrorOr<std::string> read_interp(std::span<const uint8_t> file, const std::vector<RawPhdr>& phdrs) {
    for (const RawPhdr& p : phdrs) {
        if (p.type != PT_INTERP) continue;
        if (p.filesz < 2 || p.filesz > 4096)
            return noexec("PT_INTERP of " + std::to_string(p.filesz) + " bytes (a path needs 2 to 4096)");
        if (!in_file(file.size(), p.offset, p.filesz)) return noexec("PT_INTERP extends beyond end of file");
        if (file[p.offset + p.filesz - 1] != 0) return noexec("PT_INTERP path is not NUL-terminated");
        return std::string(reinterpret_cast<const char*>(file.data() + p.offset));
    }
    return std::string();
}

// Converts a validated program header to a segment.
ElfSegment to_segment(const RawPhdr& p) {
    return ElfSegment{
        VirtAddr(p.vaddr),    p.memsz, p.filesz, p.offset, p.align, (p.flags & PF_R) != 0, (p.flags & PF_W) != 0,
        (p.flags & PF_X) != 0};
}

// Guarantees sizes are sane and the file-backed part lies inside the file.
ErrorOr<void> check_sizes(const RawPhdr& p, const std::string& what, uint64_t file_size, const Limits& lim) {
    if (p.filesz > p.memsz) return noexec(what + " has p_filesz larger than p_memsz");
    if (p.memsz > lim.max_segment)
        return noexec(what + " has an absurd size (p_memsz " + std::to_string(p.memsz) + " bytes)");
    if (!in_file(file_size, p.offset, p.filesz)) return noexec(what + " extends beyond end of file (truncated?)");
    return {};
}

// Guarantees [vaddr, vaddr+memsz) neither wraps nor (for ET_EXEC) leaves user space, and that
// file offset and address agree modulo the page size so the segment can be mmapped.
ErrorOr<void> check_placement(const RawPhdr& p, const std::string& what, bool is_dyn, const Limits& lim) {
    if (p.vaddr > std::numeric_limits<uint64_t>::max() - PAGE_SIZE - p.memsz)
        return noexec(what + " address range overflows");
    if (!is_dyn && p.vaddr + p.memsz > lim.user_top) return noexec(what + " lies beyond the user address space");
    if (p.vaddr % PAGE_SIZE != p.offset % PAGE_SIZE)
        return noexec("misaligned segment: " + what + " has p_vaddr " + hex(p.vaddr) + " and p_offset " +
                      hex(p.offset) + ", which differ modulo the page size");
    return {};
}

// Validates one PT_LOAD (program header `index`) and returns it as a segment.
ErrorOr<ElfSegment> check_load(const RawPhdr& p, size_t index, uint64_t file_size, bool is_dyn, const Limits& lim) {
    std::string what = "PT_LOAD segment " + std::to_string(index);
    TRY(check_sizes(p, what, file_size, lim));
    TRY(check_placement(p, what, is_dyn, lim));
    return to_segment(p);
}

// Guarantees no two PT_LOAD byte ranges [vaddr, vaddr+memsz) overlap (sharing a page is fine).
ErrorOr<void> check_overlap(const std::vector<ElfSegment>& loads) {
    std::vector<size_t> order;
    for (size_t i = 0; i < loads.size(); i++)
        if (loads[i].memsz) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return loads[a].vaddr < loads[b].vaddr; });
    for (size_t k = 1; k < order.size(); k++) {
        const ElfSegment& lo = loads[order[k - 1]];
        const ElfSegment& hi = loads[order[k]];
        if (lo.vaddr.value + lo.memsz > hi.vaddr.value)
            return noexec("PT_LOAD segments overlap ([" + hex(lo.vaddr.value) + ", " + hex(lo.vaddr.value + lo.memsz) +
                          ") and [" + hex(hi.vaddr.value) + ", " + hex(hi.vaddr.value + hi.memsz) + "))");
    }
    return {};
}

// Sets min_vaddr/max_vaddr to the page-aligned span and guarantees it fits in user space.
ErrorOr<void> compute_span(ElfImage& img, const Limits& lim) {
    uint64_t lo = std::numeric_limits<uint64_t>::max(), hi = 0;
    for (const ElfSegment& s : img.loads) {
        lo = std::min(lo, s.vaddr.value);
        hi = std::max(hi, s.vaddr.value + s.memsz);
    }
    img.min_vaddr = mmu::page_align_down(lo);
    img.max_vaddr = mmu::page_align_up(hi);  // cannot wrap: check_placement left a page of headroom
    if (img.max_vaddr - img.min_vaddr > lim.user_top)
        return noexec("PT_LOAD segments span more than the user address space");
    return {};
}

// Collects the PT_LOAD segments in file order, validated; refuses a file without any.
ErrorOr<void> collect_loads(ElfImage& img, const std::vector<RawPhdr>& phdrs, uint64_t file_size, const Limits& lim) {
    for (size_t i = 0; i < phdrs.size(); i++) {
        if (phdrs[i].type != PT_LOAD) continue;
        auto seg = TRY(check_load(phdrs[i], i, file_size, img.is_pie(), lim));
        img.loads.push_back(seg);
    }
    if (img.loads.empty()) return noexec("no PT_LOAD segments");
    TRY(check_overlap(img.loads));
    return compute_span(img, lim);
}

// Records the first PT_TLS (validated like a segment's file part) and the PT_GNU_STACK verdict.
ErrorOr<void> collect_tls_and_stack(ElfImage& img, const std::vector<RawPhdr>& phdrs, uint64_t file_size,
                                    const Limits& lim) {
    std::optional<bool> gnu_stack_x;
    for (size_t i = 0; i < phdrs.size(); i++) {
        const RawPhdr& p = phdrs[i];
        if (p.type == PT_GNU_STACK) gnu_stack_x = (p.flags & PF_X) != 0;  // last wins, as in Linux
        if (p.type != PT_TLS || img.tls) continue;
        TRY(check_sizes(p, "PT_TLS segment " + std::to_string(i), file_size, lim));
        img.tls = to_segment(p);
    }
    img.read_implies_exec = img.cls == ElfClass::Elf32 && !gnu_stack_x;  // elf_read_implies_exec
    img.exec_stack = gnu_stack_x.value_or(false) || img.read_implies_exec;
    return {};
}

// Where the program headers are in memory: PT_PHDR, else the PT_LOAD whose file part holds them.
uint64_t find_phdr_vaddr(const ElfImage& img, const std::vector<RawPhdr>& phdrs) {
    for (const RawPhdr& p : phdrs)
        if (p.type == PT_PHDR) return p.vaddr;
    uint64_t table = uint64_t(img.phnum) * img.phentsize;
    for (const ElfSegment& s : img.loads)
        if (s.offset <= img.phoff && img.phoff - s.offset <= s.filesz && table <= s.filesz - (img.phoff - s.offset))
            return s.vaddr.value + (img.phoff - s.offset);
    return 0;
}

// Guarantees a non-zero entry point below the top of user space.
ErrorOr<void> check_entry(const ElfImage& img, const Limits& lim) {
    if (img.entry == 0) return noexec("entry point is 0");
    if (img.entry >= lim.user_top) return noexec("entry point lies beyond the user address space");
    return {};
}

// Fills an image from a validated header.
ElfImage image_from_header(const Header& h) {
    ElfImage img;
    img.cls = h.cls;
    img.machine = h.machine;
    img.type = h.type;
    img.entry = h.entry;
    img.phoff = h.phoff;
    img.phentsize = h.phentsize;
    img.phnum = h.phnum;
    return img;
}

// Validates everything that the ELF header alone decides.
ErrorOr<Header> validate_header(std::span<const uint8_t> file) {
    auto h = TRY(read_header(file));
    TRY(check_machine(h));
    TRY(check_type(h));
    TRY(check_phdr_table(h, file.size()));
    return h;
}

// Builds an errno-carrying error that names the path ("path: reason").
Error path_error(int err, const std::string& path, const std::string& reason) {
    return Error::from_errno(err, path + ": " + reason);
}

// Reason text for an open()/read() errno, Linux-style.
std::string errno_reason(int err) {
    switch (err) {
    case ENOENT: return "no such file";
    case EACCES: return "permission denied";
    case EISDIR: return "is a directory";
    default: return std::strerror(err);
    }
}

// Reads exactly `size` bytes from fd into `out`; guarantees a whole read or an error.
ErrorOr<void> read_all(int fd, const std::string& path, uint64_t size, std::vector<uint8_t>& out) {
    out.assign(size, 0);
    uint64_t done = 0;
    while (done < size) {
        ssize_t n = ::read(fd, out.data() + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return path_error(errno, path, errno_reason(errno));
        if (n == 0) return path_error(EIO, path, "file shrank while being read");
        done += uint64_t(n);
    }
    return {};
}

// Opens a regular, executable, non-empty file (execve's checks) and reads it whole into `out`.
ErrorOr<void> read_file(const std::string& path, std::vector<uint8_t>& out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return path_error(errno, path, errno_reason(errno));
    struct stat st {};
    ErrorOr<void> r;
    if (::fstat(fd, &st) != 0) r = path_error(errno, path, errno_reason(errno));
    else if (S_ISDIR(st.st_mode)) r = path_error(EISDIR, path, "is a directory");
    else if (!S_ISREG(st.st_mode)) r = path_error(EACCES, path, "not a regular file");  // as execve
    else if (::access(path.c_str(), X_OK) != 0) r = path_error(EACCES, path, "permission denied (not executable)");
    else if (st.st_size == 0) r = path_error(ENOEXEC, path, "empty file");
    else r = read_all(fd, path, uint64_t(st.st_size), out);
    ::close(fd);
    return r;
}

}  // namespace

bool ElfImage::is_pie() const { return type == ET_DYN; }

ErrorOr<ElfImage> parse_elf(std::span<const uint8_t> file) {
    auto h = TRY(validate_header(file));
    Limits lim = h.cls == ElfClass::Elf32 ? Limits{USER_TOP_32, MAX_SEGMENT_32} : Limits{USER_TOP_64, MAX_SEGMENT_64};
    std::vector<RawPhdr> phdrs = read_phdrs(file, h);
    ElfImage img = image_from_header(h);
    img.interp = TRY(read_interp(file, phdrs));
    TRY(collect_loads(img, phdrs, file.size(), lim));
    TRY(collect_tls_and_stack(img, phdrs, file.size(), lim));
    TRY(check_entry(img, lim));
    img.phdr_vaddr = find_phdr_vaddr(img, phdrs);
    return img;
}

ErrorOr<ElfImage> parse_interp(const ElfImage& prog, std::span<const uint8_t> file) {
    static constexpr uint8_t magic[SELFMAG] = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3};
    const size_t ehdr = prog.cls == ElfClass::Elf64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (file.size() < ehdr) return Error::from_errno(EIO, "the program interpreter is shorter than an ELF header");
    if (std::memcmp(file.data(), magic, SELFMAG) != 0)
        return Error::from_errno(ELIBBAD, "the program interpreter is not an ELF file");
    uint16_t machine = 0;
    (void)read_at(file, offsetof(Elf64_Ehdr, e_machine), machine);  // the same offset in both classes
    if (machine != prog.machine)
        return Error::from_errno(ELIBBAD, "the program interpreter is for machine " + describe_machine(machine));
    return parse_elf(file);
}

ErrorOr<ElfImage> load_elf_file(const std::string& path, std::vector<uint8_t>& contents) {
    contents.clear();
    TRY(read_file(path, contents));
    auto img = parse_elf(contents);
    if (img.is_error()) return path_error(img.error().errno_value, path, img.error().message);
    return img;
}

}  // namespace loader
