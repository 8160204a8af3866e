// Initial stack layout, following Linux: copy_strings() fills the top of the stack downwards
// (execfn, then envp, then argv, so argv[0] ends up lowest), then create_elf_tables() adds the
// platform string and AT_RANDOM bytes and places argc/argv/envp/auxv so that sp is 16-aligned.
// Positions are computed first as depths below stack_top, then written in one pass.
#include "loader/stack.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace loader {

namespace {

// Every address the stack holds, decided before any byte is written.
struct Layout {
    uint64_t ptr = 8;  // pointer width in bytes
    uint64_t execfn = 0, platform = 0, random = 0;
    std::vector<uint64_t> argv, envp;  // string addresses
    std::vector<AuxEntry> auxv;        // final auxv, AT_NULL last
    uint64_t sp = 0;
};

Error einval(std::string msg) { return Error::from_errno(EINVAL, std::move(msg)); }
Error e2big(std::string msg) { return Error::from_errno(E2BIG, std::move(msg)); }

constexpr uint64_t align_up16(uint64_t v) { return (v + 15) & ~uint64_t(15); }

// Linux argv: an empty argv gets a single "" (fs/exec.c, since 5.18) so argv[0] always exists.
std::vector<std::string> effective_argv(const StackSpec& spec) {
    return spec.argv.empty() ? std::vector<std::string>{""} : spec.argv;
}

// Guarantees no string carries an embedded NUL (it would cut the C string short).
ErrorOr<void> check_no_nul(const std::vector<std::string>& v, const char* name) {
    for (size_t i = 0; i < v.size(); i++)
        if (v[i].find('\0') != std::string::npos)
            return einval(std::string(name) + "[" + std::to_string(i) + "] contains a NUL byte");
    return {};
}

// Linux's bprm_stack_limits(): the room strings may take (quarter of RLIMIT_STACK, clamped).
uint64_t arg_space_limit(uint64_t rlimit) {
    uint64_t limit = std::min<uint64_t>(DEFAULT_STACK_RLIMIT / 4 * 3, rlimit / 4);
    return std::max<uint64_t>(limit, MAX_ARG_STRLEN);  // ARG_MAX floor
}

// Guarantees each string fits MAX_ARG_STRLEN and all of them fit the argument space (E2BIG).
ErrorOr<void> check_arg_sizes(const StackSpec& spec, const std::vector<std::string>& argv, uint64_t ptr) {
    uint64_t total = 0;
    auto add = [&](const std::string& s, const std::string& what) -> ErrorOr<void> {
        if (s.size() + 1 > MAX_ARG_STRLEN) return e2big(what + " is longer than MAX_ARG_STRLEN (131072 bytes)");
        total += s.size() + 1;
        return {};
    };
    TRY(add(spec.execfn, "execfn"));
    for (size_t i = 0; i < spec.envp.size(); i++) TRY(add(spec.envp[i], "envp[" + std::to_string(i) + "]"));
    for (size_t i = 0; i < argv.size(); i++) TRY(add(argv[i], "argv[" + std::to_string(i) + "]"));
    uint64_t limit = arg_space_limit(spec.stack_rlimit);
    uint64_t pointers = (argv.size() + spec.envp.size()) * ptr;
    if (pointers >= limit || total > limit - pointers)
        return e2big("argument list too long (" + std::to_string(total) + " bytes of strings, limit " +
                     std::to_string(limit) + ")");
    return {};
}

// Guarantees the caller's auxv leaves the builder's entries to it and fits the pointer width.
ErrorOr<void> check_auxv(const StackSpec& spec, uint64_t ptr) {
    for (const AuxEntry& a : spec.auxv) {
        if (a.type == AT_NULL || a.type == AT_RANDOM || a.type == AT_EXECFN || a.type == AT_PLATFORM)
            return einval("auxv type " + std::to_string(a.type) + " is added by the stack builder");
        if (ptr == 4 && (a.type > UINT32_MAX || a.value > UINT32_MAX))
            return einval("auxv entry " + std::to_string(a.type) + " does not fit a 32-bit stack");
    }
    return {};
}

// Guarantees a well-formed spec: aligned, addressable stack_top and clean strings and auxv.
ErrorOr<void> check_spec(const StackSpec& spec, const std::vector<std::string>& argv, uint64_t ptr) {
    uint64_t top = spec.stack_top.value;
    if (top % mmu::PAGE_SIZE != 0) return einval("stack_top is not page aligned");
    if (ptr == 4 && top > (1ull << 32)) return einval("stack_top is above 4 GiB for a 32-bit program");
    TRY(check_no_nul(argv, "argv"));
    TRY(check_no_nul(spec.envp, "envp"));
    if (spec.execfn.find('\0') != std::string::npos || spec.platform.find('\0') != std::string::npos)
        return einval("execfn or platform contains a NUL byte");
    TRY(check_arg_sizes(spec, argv, ptr));
    return check_auxv(spec, ptr);
}

// copy_strings(): places each string below the previous one, last first; returns their depths.
std::vector<uint64_t> place_strings(const std::vector<std::string>& v, uint64_t& depth) {
    std::vector<uint64_t> at(v.size());
    for (size_t i = v.size(); i-- > 0;) {
        depth += v[i].size() + 1;
        at[i] = depth;
    }
    return at;
}

// Index just past the first entry of `type` in v, or v.size() if absent.
size_t after_type(const std::vector<AuxEntry>& v, uint64_t type) {
    auto it = std::find_if(v.begin(), v.end(), [&](const AuxEntry& a) { return a.type == type; });
    return it == v.end() ? v.size() : size_t(it - v.begin()) + 1;
}

// Places the builder's entries where create_elf_tables() does: AT_RANDOM after AT_SECURE, then
// AT_EXECFN and AT_PLATFORM after AT_HWCAP2 (else right after AT_RANDOM); AT_NULL last.
std::vector<AuxEntry> merge_auxv(const std::vector<AuxEntry>& given, AuxEntry random,
                                 const std::vector<AuxEntry>& execfn_platform) {
    size_t random_at = after_type(given, AT_SECURE);
    size_t execfn_at = std::max(random_at, after_type(given, AT_HWCAP2));
    std::vector<AuxEntry> out;
    for (size_t i = 0; i <= given.size(); i++) {
        if (i == random_at) out.push_back(random);
        if (i == execfn_at) out.insert(out.end(), execfn_platform.begin(), execfn_platform.end());
        if (i < given.size()) out.push_back(given[i]);
    }
    out.push_back({AT_NULL, 0});
    return out;
}

// Converts depths below top into addresses.
std::vector<uint64_t> to_addrs(const std::vector<uint64_t>& depths, uint64_t top) {
    std::vector<uint64_t> out;
    for (uint64_t d : depths) out.push_back(top - d);
    return out;
}

// Computes every address: strings at the top, then platform and random bytes, then the tables.
ErrorOr<Layout> plan_layout(const StackSpec& spec, const std::vector<std::string>& argv, uint64_t ptr) {
    uint64_t top = spec.stack_top.value;
    Layout l;
    l.ptr = ptr;
    uint64_t d = spec.kernel == StackKernel::X86_64 ? 8 : ptr;  // bprm->p = vm_end - sizeof(void *)
    d += spec.execfn.size() + 1;
    uint64_t execfn_d = d;
    std::vector<uint64_t> envp_d = place_strings(spec.envp, d);
    std::vector<uint64_t> argv_d = place_strings(argv, d);
    d = align_up16(d);  // arch_align_stack() without randomization
    uint64_t platform_d = spec.platform.empty() ? 0 : (d += spec.platform.size() + 1);
    uint64_t random_d = (d += 16);
    uint64_t words = (argv.size() + 1) + (spec.envp.size() + 1) + 1;  // argc, argv+NULL, envp+NULL
    std::vector<AuxEntry> mine = {{AT_EXECFN, top - execfn_d}};
    if (platform_d) mine.push_back({AT_PLATFORM, top - platform_d});
    l.auxv = merge_auxv(spec.auxv, {AT_RANDOM, top - random_d}, mine);
    d = align_up16(d + (words + 2 * l.auxv.size()) * ptr);  // STACK_ROUND()
    if (d > top) return einval("stack_top is too low for the initial stack");
    l.execfn = top - execfn_d;
    l.platform = platform_d ? top - platform_d : 0;
    l.random = top - random_d;
    l.argv = to_addrs(argv_d, top);
    l.envp = to_addrs(envp_d, top);
    l.sp = top - d;
    return l;
}

// Writes bytes at guest address `addr` of a buffer that starts at `base`.
void put_bytes(std::vector<uint8_t>& buf, uint64_t base, uint64_t addr, const void* src, size_t n) {
    std::memcpy(buf.data() + (addr - base), src, n);
}

// Writes a NUL-terminated string (the buffer is zero-filled, so the NUL is already there).
void put_string(std::vector<uint8_t>& buf, uint64_t base, uint64_t addr, const std::string& s) {
    put_bytes(buf, base, addr, s.data(), s.size());
}

// Writes one little-endian word of the layout's pointer width.
void put_word(std::vector<uint8_t>& buf, uint64_t base, uint64_t addr, uint64_t v, uint64_t ptr) {
    if (ptr == 4) {
        uint32_t w = uint32_t(v);
        put_bytes(buf, base, addr, &w, 4);
    } else {
        put_bytes(buf, base, addr, &v, 8);
    }
}

// Writes argc, argv pointers, NULL, envp pointers, NULL, then the auxv pairs from sp upwards.
void write_tables(std::vector<uint8_t>& buf, const Layout& l) {
    uint64_t a = l.sp;
    auto word = [&](uint64_t v) {
        put_word(buf, l.sp, a, v, l.ptr);
        a += l.ptr;
    };
    word(l.argv.size());
    for (uint64_t p : l.argv) word(p);
    word(0);
    for (uint64_t p : l.envp) word(p);
    word(0);
    for (const AuxEntry& e : l.auxv) {
        word(e.type);
        word(e.value);
    }
}

// Writes every string and the random bytes at their planned addresses.
void write_strings(std::vector<uint8_t>& buf, const Layout& l, const StackSpec& spec,
                   const std::vector<std::string>& argv) {
    put_string(buf, l.sp, l.execfn, spec.execfn);
    for (size_t i = 0; i < argv.size(); i++) put_string(buf, l.sp, l.argv[i], argv[i]);
    for (size_t i = 0; i < spec.envp.size(); i++) put_string(buf, l.sp, l.envp[i], spec.envp[i]);
    if (l.platform) put_string(buf, l.sp, l.platform, spec.platform);
    put_bytes(buf, l.sp, l.random, spec.random_bytes.data(), spec.random_bytes.size());
}

}  // namespace

ErrorOr<StackImage> build_initial_stack(const StackSpec& spec) {
    uint64_t ptr = spec.cls == ElfClass::Elf32 ? 4 : 8;
    std::vector<std::string> argv = effective_argv(spec);
    TRY(check_spec(spec, argv, ptr));
    auto planned = TRY(plan_layout(spec, argv, ptr));
    const Layout& l = planned;
    StackImage img;
    img.sp = VirtAddr(l.sp);
    img.bytes.assign(spec.stack_top.value - l.sp, 0);
    write_strings(img.bytes, l, spec, argv);
    write_tables(img.bytes, l);
    img.argv_start = VirtAddr(l.argv.front());
    img.envp_start = img.argv_end = VirtAddr(l.envp.empty() ? l.execfn : l.envp.front());
    img.envp_end = VirtAddr(l.execfn);
    return img;
}

}  // namespace loader
