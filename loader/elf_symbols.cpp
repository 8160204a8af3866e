// ELF symbol tables: section headers -> SHT_SYMTAB/SHT_DYNSYM -> their string table.
#include "loader/elf_symbols.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace loader {

namespace {

constexpr uint32_t SHT_SYMTAB = 2, SHT_DYNSYM = 11;
constexpr unsigned STT_OBJECT = 1, STT_FUNC = 2;

// A little-endian integer of `bytes` bytes at off, if it lies inside the file.
std::optional<uint64_t> read_uint(std::span<const uint8_t> f, uint64_t off, unsigned bytes) {
    if (off > f.size() || bytes > f.size() - off) return std::nullopt;
    uint64_t v = 0;
    std::memcpy(&v, f.data() + off, bytes);
    return v;
}

struct Section {
    uint32_t type = 0, link = 0;
    uint64_t offset = 0, size = 0, entsize = 0;
};

// Section header i of a 32- or 64-bit file.
std::optional<Section> section(std::span<const uint8_t> f, bool is64, uint64_t shoff, uint64_t shentsize, uint64_t i) {
    const uint64_t at = shoff + i * shentsize;
    Section s;
    auto type = read_uint(f, at + 4, 4);
    auto link = read_uint(f, at + (is64 ? 40 : 24), 4);
    auto offset = read_uint(f, at + (is64 ? 24 : 16), is64 ? 8 : 4);
    auto size = read_uint(f, at + (is64 ? 32 : 20), is64 ? 8 : 4);
    auto entsize = read_uint(f, at + (is64 ? 56 : 36), is64 ? 8 : 4);
    if (!type || !link || !offset || !size || !entsize) return std::nullopt;
    s.type = static_cast<uint32_t>(*type), s.link = static_cast<uint32_t>(*link);
    s.offset = *offset, s.size = *size, s.entsize = *entsize;
    return s;
}

// The NUL-terminated string at off inside the string table, or "".
std::string string_at(std::span<const uint8_t> f, const Section& strtab, uint64_t off) {
    if (off >= strtab.size || strtab.offset > f.size() || strtab.size > f.size() - strtab.offset) return {};
    const auto* s = reinterpret_cast<const char*>(f.data() + strtab.offset + off);
    return std::string(s, strnlen(s, strtab.size - off));
}

}  // namespace

ElfSymbols ElfSymbols::parse(std::span<const uint8_t> f) {
    ElfSymbols out;
    if (f.size() < 52 || std::memcmp(f.data(),
                                     "\x7f"
                                     "ELF",
                                     4) != 0)
        return out;
    const bool is64 = f[4] == 2;
    auto shoff = read_uint(f, is64 ? 0x28 : 0x20, is64 ? 8 : 4);
    auto shentsize = read_uint(f, is64 ? 0x3a : 0x2e, 2);
    auto shnum = read_uint(f, is64 ? 0x3c : 0x30, 2);
    if (!shoff || !shentsize || !shnum || *shentsize < (is64 ? 64u : 40u)) return out;
    for (uint32_t want : {SHT_SYMTAB, SHT_DYNSYM}) {
        for (uint64_t i = 0; i < *shnum && out.syms_.empty(); ++i) {
            auto sym = section(f, is64, *shoff, *shentsize, i);
            if (!sym || sym->type != want || sym->entsize < (is64 ? 24u : 16u) || sym->link >= *shnum) continue;
            auto str = section(f, is64, *shoff, *shentsize, sym->link);
            if (!str) continue;
            for (uint64_t at = sym->offset;
                 at + sym->entsize <= sym->offset + sym->size && at + sym->entsize <= f.size(); at += sym->entsize) {
                auto name = read_uint(f, at, 4);
                auto info = read_uint(f, at + (is64 ? 4 : 12), 1);
                auto value = read_uint(f, at + (is64 ? 8 : 4), is64 ? 8 : 4);
                auto size = read_uint(f, at + (is64 ? 16 : 8), is64 ? 8 : 4);
                if (!name || !info || !value || !size || !*value) continue;
                const unsigned type = *info & 0xf;
                if (type != STT_FUNC && type != STT_OBJECT) continue;
                std::string n = string_at(f, *str, *name);
                if (!n.empty()) out.syms_.push_back({*value, *size, std::move(n)});
            }
        }
        if (!out.syms_.empty()) break;
    }
    std::sort(out.syms_.begin(), out.syms_.end(),
              [](const ElfSymbol& a, const ElfSymbol& b) { return a.value < b.value; });
    return out;
}

std::string ElfSymbols::describe(uint64_t addr) const {
    auto it =
        std::upper_bound(syms_.begin(), syms_.end(), addr, [](uint64_t a, const ElfSymbol& s) { return a < s.value; });
    if (it == syms_.begin()) return {};
    const ElfSymbol& s = *std::prev(it);
    if (s.size && addr >= s.value + s.size) return {};
    if (!s.size && addr - s.value > 0x10000) return {};
    char off[24];
    std::snprintf(off, sizeof off, "+0x%llx", static_cast<unsigned long long>(addr - s.value));
    return addr == s.value ? s.name : s.name + off;
}

uint64_t ElfSymbols::address_of(const std::string& name) const {
    for (const ElfSymbol& s : syms_)
        if (s.name == name) return s.value;
    return 0;
}

}  // namespace loader
