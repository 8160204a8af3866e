// lib/kstrtox.c: the conversions behind /proc and /sys writes.
#include "guestos/lib/kstrtox.h"

#include <cctype>
#include <cerrno>
#include <climits>

#include "guestos/include/errno.h"

namespace guestos {

namespace {

// The base a 0x or 0 prefix gives when base is 0, and the prefix skipped
// (_parse_integer_fixup_radix: "0x" followed by a hex digit is hex).
unsigned fixup_radix(std::string_view& s, unsigned base) {
    const bool hex_prefix = s.size() > 2 && s[0] == '0' && std::tolower(static_cast<unsigned char>(s[1])) == 'x' &&
                            std::isxdigit(static_cast<unsigned char>(s[2]));
    if (base == 0) base = hex_prefix ? 16 : (!s.empty() && s[0] == '0') ? 8 : 10;
    if (base == 16 && s.size() >= 2 && s[0] == '0' && std::tolower(static_cast<unsigned char>(s[1])) == 'x')
        s.remove_prefix(2);
    return base;
}

// _kstrtoull: digits of base to the end or a single trailing newline.
int kstrtoull(std::string_view s, unsigned base, unsigned long long* res) {
    base = fixup_radix(s, base);
    unsigned long long v = 0;
    size_t n = 0;
    bool overflow = false;
    for (; n < s.size(); ++n) {
        const int c = std::tolower(static_cast<unsigned char>(s[n]));
        const unsigned d = std::isdigit(c)          ? static_cast<unsigned>(c - '0')
                           : (c >= 'a' && c <= 'f') ? static_cast<unsigned>(c - 'a' + 10)
                                                    : 16;
        if (d >= base) break;
        if (v > (ULLONG_MAX - d) / base) overflow = true;
        v = v * base + d;
    }
    if (overflow) return -ERANGE;
    if (n == 0) return -EINVAL;
    s.remove_prefix(n);
    if (!s.empty() && s[0] == '\n') s.remove_prefix(1);
    if (!s.empty()) return -EINVAL;
    *res = v;
    return 0;
}

}  // namespace

int kstrtoll(std::string_view s, unsigned base, long long* res) {
    unsigned long long v = 0;
    if (!s.empty() && s[0] == '-') {
        if (int e = kstrtoull(s.substr(1), base, &v)) return e;
        if (v > static_cast<unsigned long long>(LLONG_MAX) + 1) return -ERANGE;
        *res = static_cast<long long>(0 - v);
        return 0;
    }
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);  // kstrtoull
    if (int e = kstrtoull(s, base, &v)) return e;
    if (v > static_cast<unsigned long long>(LLONG_MAX)) return -ERANGE;
    *res = static_cast<long long>(v);
    return 0;
}

int kstrtoint(std::string_view s, unsigned base, int* res) {
    long long v = 0;
    if (int e = kstrtoll(s, base, &v)) return e;
    if (v < INT_MIN || v > INT_MAX) return -ERANGE;
    *res = static_cast<int>(v);
    return 0;
}

std::string_view strstrip(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

}  // namespace guestos
