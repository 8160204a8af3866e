// Formatting helpers shared by every layer.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace base {

// 0x-prefixed lowercase hex, "0x0" for zero.
inline std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// C's "%#llx": as hex(), but "0" for zero (how Linux's traces print a null value).
inline std::string hex_alt(uint64_t v) { return v ? hex(v) : "0"; }

}  // namespace base
