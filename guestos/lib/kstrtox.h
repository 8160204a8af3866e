// Strict string-to-integer conversion for what userspace writes to kernel files (lib/kstrtox.c).
#pragma once
#include <cstdint>
#include <string_view>

namespace guestos {

// Converts s (one optional '+' or '-', then digits in base, with base 0 meaning 0x: hex,
// leading 0: octal, else decimal; one trailing '\n' allowed, nothing else): 0 with *res set,
// -EINVAL for anything else, -ERANGE past the type's range (kstrtoll, kstrtoint).
int kstrtoll(std::string_view s, unsigned base, long long* res);
int kstrtoint(std::string_view s, unsigned base, int* res);
// s without the whitespace at either end (strstrip).
std::string_view strstrip(std::string_view s);

}  // namespace guestos
