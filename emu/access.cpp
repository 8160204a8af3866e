#include "emu/access.h"

#include <capstone/capstone.h>

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

bool is_implicit_push(unsigned id) {
    switch (id) {
    case X86_INS_PUSH: case X86_INS_PUSHAL: case X86_INS_PUSHAW: case X86_INS_PUSHF:
    case X86_INS_PUSHFD: case X86_INS_PUSHFQ: case X86_INS_CALL: case X86_INS_ENTER:
        return true;
    default:
        return false;
    }
}

// base + index*scale + disp (+ the FS/GS base), as the CPU computes it.
uint64_t effective_address(const cs_insn& insn, const cs_x86_op& op, const RegReader& reg, bool is64) {
    const x86_op_mem& m = op.mem;
    uint64_t ea = static_cast<uint64_t>(m.disp);
    if (m.base == X86_REG_RIP) ea += insn.address + insn.size;
    else if (m.base != X86_REG_INVALID) ea += reg(m.base);
    if (m.index != X86_REG_INVALID) ea += reg(m.index) * static_cast<uint64_t>(m.scale);
    if (m.segment == X86_REG_FS || m.segment == X86_REG_GS) ea += reg(m.segment);
    return is64 ? ea : (ea & 0xffffffffu);
}

}  // namespace

bool instruction_writes(const uint8_t* code, size_t len, uint64_t ip, bool is64, uint64_t addr,
                        const RegReader& reg) {
    csh h = decoder(is64);
    if (!h) return false;
    cs_insn* insn = nullptr;
    if (cs_disasm(h, code, len, ip, 1, &insn) != 1) return false;
    bool matched = false, writes = false;
    const cs_x86& x = insn->detail->x86;
    for (int i = 0; i < x.op_count; ++i) {
        const cs_x86_op& op = x.operands[i];
        if (op.type != X86_OP_MEM) continue;
        const uint64_t ea = effective_address(*insn, op, reg, is64);
        const uint64_t last = ea + (op.size ? op.size : 1) - 1;
        if ((ea >> 12) != (addr >> 12) && (last >> 12) != (addr >> 12)) continue;
        matched = true;
        writes = writes || (op.access & CS_AC_WRITE);
    }
    if (!matched) writes = is_implicit_push(insn->id);
    cs_free(insn, 1);
    return writes;
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
