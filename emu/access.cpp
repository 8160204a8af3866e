#include "emu/access.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace emu {

namespace {

// One decoder per mode, opened once, with operand details.
csh decoder(bool is64) {
    static csh handles[2] = {0, 0};
    static bool opened[2] = {false, false};
    const int i = is64 ? 1 : 0;
    if (!opened[i]) {
        if (cs_open(CS_ARCH_X86, is64 ? CS_MODE_64 : CS_MODE_32, &handles[i]) == CS_ERR_OK)
            cs_option(handles[i], CS_OPT_DETAIL, CS_OPT_ON);
        opened[i] = true;
    }
    return handles[i];
}

bool is_implicit_pop(unsigned id) {
    switch (id) {
    case X86_INS_POP:
    case X86_INS_POPAL:
    case X86_INS_POPAW:
    case X86_INS_POPF:
    case X86_INS_POPFD:
    case X86_INS_POPFQ:
    case X86_INS_RET:
    case X86_INS_LEAVE: return true;
    default: return false;
    }
}

bool is_implicit_push(unsigned id) {
    switch (id) {
    case X86_INS_PUSH:
    case X86_INS_PUSHAL:
    case X86_INS_PUSHAW:
    case X86_INS_PUSHF:
    case X86_INS_PUSHFD:
    case X86_INS_PUSHFQ:
    case X86_INS_CALL:
    case X86_INS_ENTER: return true;
    default: return false;
    }
}

// The memory operands of one decoded instruction: what instruction_writes needs of it.
struct DecodedInsn {
    uint64_t ip = 0;
    bool is64 = false;
    bool valid = false;
    uint8_t size = 0;  // instruction length; bytes[0, size) identify it
    uint8_t bytes[16] = {};
    unsigned id = 0;
    uint8_t nmem = 0;
    struct MemOp {
        x86_op_mem mem;
        uint8_t size;
        uint8_t access;
    } mem[8];
};

// Decoded instructions by address (direct-mapped): a loop that faults page after page
// decodes its faulting store once, not once per page. An entry counts only while the
// bytes at its address are still the same, so changed code is decoded again.
DecodedInsn* decode_cached(const uint8_t* code, size_t len, uint64_t ip, bool is64) {
    static DecodedInsn cache[256];
    DecodedInsn& e = cache[(ip ^ (ip >> 8)) & 255];
    if (e.valid && e.ip == ip && e.is64 == is64 && e.size <= len && std::memcmp(e.bytes, code, e.size) == 0) return &e;
    csh h = decoder(is64);
    cs_insn* insn = nullptr;
    if (!h || cs_disasm(h, code, len, ip, 1, &insn) != 1) return nullptr;
    e = DecodedInsn{};
    e.ip = ip;
    e.is64 = is64;
    e.size = static_cast<uint8_t>(std::min<size_t>(insn->size, sizeof e.bytes));
    std::memcpy(e.bytes, code, e.size);
    e.id = insn->id;
    const cs_x86& x = insn->detail->x86;
    for (int i = 0; i < x.op_count && e.nmem < std::size(e.mem); ++i)
        if (x.operands[i].type == X86_OP_MEM)
            e.mem[e.nmem++] = {x.operands[i].mem, x.operands[i].size, x.operands[i].access};
    cs_free(insn, 1);
    e.valid = true;
    return &e;
}

// base + index*scale + disp (+ the FS/GS base), as the CPU computes it.
uint64_t effective_address(const DecodedInsn& insn, const x86_op_mem& m, const RegReader& reg, bool is64) {
    uint64_t ea = static_cast<uint64_t>(m.disp);
    if (m.base == X86_REG_RIP) ea += insn.ip + insn.size;
    else if (m.base != X86_REG_INVALID) ea += reg(m.base);
    if (m.index != X86_REG_INVALID) ea += reg(m.index) * static_cast<uint64_t>(m.scale);
    if (m.segment == X86_REG_FS || m.segment == X86_REG_GS) ea += reg(m.segment);
    return is64 ? ea : (ea & 0xffffffffu);
}

}  // namespace

bool instruction_writes(const uint8_t* code, size_t len, uint64_t ip, bool is64, uint64_t addr, const RegReader& reg) {
    const DecodedInsn* insn = decode_cached(code, len, ip, is64);
    if (!insn) return false;
    bool matched = false, writes = false;
    for (int i = 0; i < insn->nmem; ++i) {
        const auto& op = insn->mem[i];
        const uint64_t ea = effective_address(*insn, op.mem, reg, is64);
        const uint64_t last = ea + (op.size ? op.size : 1) - 1;
        if ((ea >> 12) != (addr >> 12) && (last >> 12) != (addr >> 12)) continue;
        matched = true;
        writes = writes || (op.access & CS_AC_WRITE);
    }
    if (!matched) writes = is_implicit_push(insn->id);
    return writes;
}

std::vector<MemAccess> memory_accesses(const uint8_t* code, size_t len, uint64_t ip, bool is64, const RegReader& reg) {
    std::vector<MemAccess> out;
    const DecodedInsn* insn = decode_cached(code, len, ip, is64);
    if (!insn) return out;
    for (int i = 0; i < insn->nmem; ++i) {
        const auto& op = insn->mem[i];
        if (insn->id == X86_INS_LEA || insn->id == X86_INS_NOP) continue;  // address only
        out.push_back({effective_address(*insn, op.mem, reg, is64), op.size ? op.size : 1u,
                       (op.access & CS_AC_READ) != 0, (op.access & CS_AC_WRITE) != 0});
    }
    const unsigned ptr = is64 ? 8 : 4;
    const uint64_t mask = is64 ? ~0ull : 0xffffffffull;
    // leave reads at the frame pointer (mov rsp, rbp; pop rbp).
    const uint64_t sp =
        reg(insn->id == X86_INS_LEAVE ? (is64 ? X86_REG_RBP : X86_REG_EBP) : (is64 ? X86_REG_RSP : X86_REG_ESP));
    if (is_implicit_push(insn->id)) out.push_back({(sp - ptr) & mask, ptr, false, true});
    else if (is_implicit_pop(insn->id)) out.push_back({sp & mask, ptr, true, false});
    return out;
}

std::optional<WatchHit> match_watchpoints(const std::vector<Watchpoint>& watches,
                                          const std::vector<MemAccess>& accesses) {
    for (const Watchpoint& w : watches)
        for (const MemAccess& a : accesses) {
            const bool kind = w.kind == WatchKind::Write  ? a.write
                              : w.kind == WatchKind::Read ? a.read
                                                          : (a.read || a.write);
            if (kind && a.addr < w.addr + w.len && w.addr < a.addr + a.size)
                return WatchHit{w, std::max(a.addr, w.addr)};
        }
    return std::nullopt;
}

std::optional<std::vector<uint64_t>> next_instructions(const uint8_t* code, size_t len, uint64_t ip, bool is64,
                                                       const RegReader& reg, const MemReader& mem) {
    csh h = decoder(is64);
    cs_insn* insn = nullptr;
    if (!h || cs_disasm(h, code, len, ip, 1, &insn) != 1) return std::nullopt;
    const uint64_t mask = is64 ? ~0ull : 0xffffffffull;
    const unsigned ptr = is64 ? 8 : 4;
    std::vector<uint64_t> out = {ip, (ip + insn->size) & mask};
    bool ok = true;
    const cs_detail* d = insn->detail;
    auto in_group = [&](uint8_t g) { return std::count(d->groups, d->groups + d->groups_count, g) > 0; };
    if (in_group(CS_GRP_RET)) {  // ret, ret imm: the return address on the stack
        auto target = mem(reg(is64 ? X86_REG_RSP : X86_REG_ESP), ptr);
        if (target) out.push_back(*target & mask);
        else ok = false;
    } else if (in_group(CS_GRP_IRET) || insn->id == X86_INS_LJMP || insn->id == X86_INS_LCALL) {
        ok = false;  // far transfers: not from user code we step
    } else if (in_group(CS_GRP_JUMP) || in_group(CS_GRP_CALL)) {
        const cs_x86_op& op = d->x86.operands[0];
        if (d->x86.op_count < 1) ok = false;
        else if (op.type == X86_OP_IMM) out.push_back(static_cast<uint64_t>(op.imm) & mask);
        else if (op.type == X86_OP_REG) out.push_back(reg(op.reg) & mask);
        else if (op.type == X86_OP_MEM) {
            DecodedInsn di;
            di.ip = ip, di.size = static_cast<uint8_t>(insn->size);
            auto target = mem(effective_address(di, op.mem, reg, is64), op.size ? op.size : ptr);
            if (target) out.push_back(*target & mask);
            else ok = false;
        } else {
            ok = false;
        }
    }
    cs_free(insn, 1);
    if (!ok) return std::nullopt;
    return out;
}

std::string disassemble(const uint8_t* code, size_t len, uint64_t ip, bool is64) {
    csh h = decoder(is64);
    cs_insn* insn = nullptr;
    if (!h || cs_disasm(h, code, len, ip, 1, &insn) != 1) return "(bad)";
    std::string text = std::string(insn->mnemonic) + (insn->op_str[0] ? " " : "") + insn->op_str;
    cs_free(insn, 1);
    return text;
}

}  // namespace emu
