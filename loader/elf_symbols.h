// The symbol table of an ELF executable (.symtab, else .dynsym): function and object names
// by address, for disassembly listings ("main+0x1c"). Pure parsing: never reads outside the
// file, and a missing or malformed table is an empty result, not an error.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace loader {

struct ElfSymbol {
    uint64_t value = 0;  // as in the file (for ET_DYN add the load bias)
    uint64_t size = 0;
    std::string name;
};

class ElfSymbols {
public:
    // Reads STT_FUNC and STT_OBJECT symbols with a name and an address.
    static ElfSymbols parse(std::span<const uint8_t> file);
    // "name" or "name+0x1c" for the symbol containing addr (or the nearest one below it when
    // sizes are 0), "" when none does.
    std::string describe(uint64_t addr) const;
    // The address of the symbol called name, 0 when there is none.
    uint64_t address_of(const std::string& name) const;
    size_t size() const { return syms_.size(); }

private:
    std::vector<ElfSymbol> syms_;  // sorted by value
};

}  // namespace loader
