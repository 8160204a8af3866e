// The g packet's register image (see registers.h).
#include "gdbstub/registers.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace gdbstub {

namespace {

using guestos::pt_regs;

// Where a register of the image lives in pt_regs.
enum class Kind { Gpr, Seg, St, FpCtl, Xmm, Mxcsr };
struct Reg {
    Kind kind;
    size_t size;
    uint64_t pt_regs::*gpr = nullptr;
    uint16_t pt_regs::*seg = nullptr;
    int index = 0;  // St, FpCtl and Xmm: which one
};

// FXSAVE offsets (Intel SDM vol. 1, 10.5.1).
constexpr size_t FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8, FX_FDP = 16, FX_MXCSR = 24, FX_ST = 32,
                 FX_XMM = 160;

std::vector<Reg> make_layout(bool is64) {
    std::vector<Reg> l;
    const size_t w = is64 ? 8 : 4;
    if (is64) {
        for (auto f : {&pt_regs::ax, &pt_regs::bx, &pt_regs::cx, &pt_regs::dx, &pt_regs::si, &pt_regs::di, &pt_regs::bp,
                       &pt_regs::sp, &pt_regs::r8, &pt_regs::r9, &pt_regs::r10, &pt_regs::r11, &pt_regs::r12,
                       &pt_regs::r13, &pt_regs::r14, &pt_regs::r15, &pt_regs::ip})
            l.push_back({Kind::Gpr, 8, f});
    } else {
        for (auto f : {&pt_regs::ax, &pt_regs::cx, &pt_regs::dx, &pt_regs::bx, &pt_regs::sp, &pt_regs::bp, &pt_regs::si,
                       &pt_regs::di, &pt_regs::ip})
            l.push_back({Kind::Gpr, 4, f});
    }
    l.push_back({Kind::Gpr, 4, &pt_regs::flags});
    for (auto s : {&pt_regs::cs, &pt_regs::ss, &pt_regs::ds, &pt_regs::es, &pt_regs::fs, &pt_regs::gs})
        l.push_back({Kind::Seg, 4, nullptr, s});
    for (int i = 0; i < 8; ++i) l.push_back({Kind::St, 10, nullptr, nullptr, i});
    for (int i = 0; i < 8; ++i) l.push_back({Kind::FpCtl, 4, nullptr, nullptr, i});
    for (int i = 0; i < (is64 ? 16 : 8); ++i) l.push_back({Kind::Xmm, 16, nullptr, nullptr, i});
    l.push_back({Kind::Mxcsr, 4});
    l.push_back({Kind::Gpr, w, &pt_regs::orig_ax});
    if (is64) {
        l.push_back({Kind::Gpr, 8, &pt_regs::fs_base});
        l.push_back({Kind::Gpr, 8, &pt_regs::gs_base});
    }
    return l;
}

const std::vector<Reg>& layout(bool is64) {
    static const std::vector<Reg> l64 = make_layout(true), l32 = make_layout(false);
    return is64 ? l64 : l32;
}

uint64_t get_le(const uint8_t* p, size_t n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    return v;
}

// The full x87 tag word (2 bits a register) from FXSAVE's abridged one and the registers
// (what FSAVE would store: valid 0, zero 1, special 2, empty 3).
uint16_t full_ftag(const uint8_t* fx) {
    const unsigned top = (get_le(fx + FX_FSW, 2) >> 11) & 7;
    uint16_t tag = 0;
    for (unsigned phys = 0; phys < 8; ++phys) {
        unsigned t = 3;
        if (fx[FX_FTW] & (1u << phys)) {
            const uint8_t* st = fx + FX_ST + 16 * ((phys - top) & 7);
            const uint64_t mant = get_le(st, 8);
            const unsigned exp = get_le(st + 8, 2) & 0x7fff;
            if (exp == 0x7fff) t = 2;
            else if (exp == 0) t = mant ? 2 : 1;
            else t = (mant >> 63) ? 0 : 2;
        }
        tag = static_cast<uint16_t>(tag | t << (2 * phys));
    }
    return tag;
}

// The x87 control register i (fctrl fstat ftag fiseg fioff foseg fooff fop) from FXSAVE.
uint32_t fp_ctl(const uint8_t* fx, int i) {
    switch (i) {
    case 0: return static_cast<uint32_t>(get_le(fx + FX_FCW, 2));
    case 1: return static_cast<uint32_t>(get_le(fx + FX_FSW, 2));
    case 2: return full_ftag(fx);
    case 3: return static_cast<uint32_t>(get_le(fx + FX_FIP + 4, 2));
    case 4: return static_cast<uint32_t>(get_le(fx + FX_FIP, 4));
    case 5: return static_cast<uint32_t>(get_le(fx + FX_FDP + 4, 2));
    case 6: return static_cast<uint32_t>(get_le(fx + FX_FDP, 4));
    default: return static_cast<uint32_t>(get_le(fx + FX_FOP, 2) & 0x7ff);
    }
}

void set_fp_ctl(uint8_t* fx, int i, uint32_t v) {
    auto put = [&](size_t off, size_t n) { std::memcpy(fx + off, &v, n); };
    switch (i) {
    case 0: put(FX_FCW, 2); break;
    case 1: put(FX_FSW, 2); break;
    case 2: {  // FXSAVE keeps only "empty or not"
        uint8_t abridged = 0;
        for (unsigned phys = 0; phys < 8; ++phys)
            if (((v >> (2 * phys)) & 3) != 3) abridged = static_cast<uint8_t>(abridged | 1u << phys);
        fx[FX_FTW] = abridged;
        break;
    }
    case 3: put(FX_FIP + 4, 2); break;
    case 4: put(FX_FIP, 4); break;
    case 5: put(FX_FDP + 4, 2); break;
    case 6: put(FX_FDP, 4); break;
    default: v &= 0x7ff, put(FX_FOP, 2); break;
    }
}

}  // namespace

std::string encode_registers(const pt_regs& r, bool is64) {
    std::string out;
    for (const Reg& g : layout(is64)) {
        uint8_t b[16] = {};
        switch (g.kind) {
        case Kind::Gpr: {
            const uint64_t v = r.*g.gpr;
            std::memcpy(b, &v, 8);
            break;
        }
        case Kind::Seg: {
            const uint32_t v = r.*g.seg;
            std::memcpy(b, &v, 4);
            break;
        }
        case Kind::St: std::memcpy(b, r.fxsave + FX_ST + 16 * g.index, 10); break;
        case Kind::FpCtl: {
            const uint32_t v = fp_ctl(r.fxsave, g.index);
            std::memcpy(b, &v, 4);
            break;
        }
        case Kind::Xmm: std::memcpy(b, r.fxsave + FX_XMM + 16 * g.index, 16); break;
        case Kind::Mxcsr: std::memcpy(b, r.fxsave + FX_MXCSR, 4); break;
        }
        out.append(reinterpret_cast<const char*>(b), g.size);
    }
    return out;
}

bool decode_registers(const std::string& image, bool is64, pt_regs& r) {
    size_t total = 0;
    for (const Reg& g : layout(is64)) total += g.size;
    if (image.size() != total) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(image.data());
    for (const Reg& g : layout(is64)) {
        switch (g.kind) {
        case Kind::Gpr: {
            uint64_t v = get_le(p, g.size);
            if (g.size == 4 && g.gpr == &pt_regs::orig_ax && v == 0xffffffffu) v = ~0ull;  // -1 stays -1
            r.*g.gpr = v;
            break;
        }
        case Kind::Seg: r.*g.seg = static_cast<uint16_t>(get_le(p, 2)); break;
        case Kind::St: std::memcpy(r.fxsave + FX_ST + 16 * g.index, p, 10); break;
        case Kind::FpCtl: set_fp_ctl(r.fxsave, g.index, static_cast<uint32_t>(get_le(p, 4))); break;
        case Kind::Xmm: std::memcpy(r.fxsave + FX_XMM + 16 * g.index, p, 16); break;
        case Kind::Mxcsr: std::memcpy(r.fxsave + FX_MXCSR, p, 4); break;
        }
        p += g.size;
    }
    return true;
}

std::optional<std::pair<size_t, size_t>> register_slot(unsigned n, bool is64) {
    const auto& l = layout(is64);
    if (n >= l.size()) return std::nullopt;
    size_t off = 0;
    for (unsigned i = 0; i < n; ++i) off += l[i].size;
    return std::pair{off, l[n].size};
}

}  // namespace gdbstub
