// The local descriptor table (arch/x86/kernel/ldt.c): modify_ldt reads and writes the mm's
// LDT (mm->context.ldt), whose descriptors the CPU loads for a selector with TI set. Each
// mm's engine holds its LDT in the kernel area with LDTR pointing at it (emu/cpu.cpp,
// load_mm_ldt): written here on every change, and when the engine takes on the mm (a fork's
// child has the copy ldt_dup_context made; exec's new mm has none).
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "guestos/arch/x86/kernel/tls.h"
#include "guestos/include/syscalls.h"
#include "guestos/mm/memory.h"

namespace guestos {

namespace {

constexpr unsigned LDT_ENTRIES = 8192, LDT_ENTRY_SIZE = 8;

// The user_desc bit fields after entry_number, base_addr and limit.
struct user_desc_bits {
    uint32_t base_addr, limit;
    unsigned seg_32bit, contents, read_exec_only, limit_in_pages, seg_not_present, useable;
};

user_desc_bits unpack(const uint32_t raw[4]) {
    const uint32_t f = raw[3];
    return {raw[1], raw[2], f & 1, (f >> 1) & 3, (f >> 3) & 1, (f >> 4) & 1, (f >> 5) & 1, (f >> 6) & 1};
}

// LDT_empty (asm/desc.h): lm is not looked at (fill_ldt never sets the L bit either).
bool LDT_empty(const user_desc_bits& i) {
    return i.base_addr == 0 && i.limit == 0 && i.contents == 0 && i.read_exec_only == 1 && i.seg_32bit == 0 &&
           i.limit_in_pages == 0 && i.seg_not_present == 1 && i.useable == 0;
}

// Bytes of the LDT up to bytecount, the rest zero-filled; returns bytecount (or 0 without an LDT).
long read_ldt(SysCtx& c, uint64_t ptr, uint64_t bytecount) {
    const std::vector<uint64_t>& ldt = c.mm.context_ldt;
    if (ldt.empty()) return 0;
    bytecount = std::min<uint64_t>(bytecount, LDT_ENTRY_SIZE * LDT_ENTRIES);
    const uint64_t entries_size = std::min<uint64_t>(ldt.size() * LDT_ENTRY_SIZE, bytecount);
    if (!copy_to_user(c.mm, VirtAddr(ptr), ldt.data(), entries_size)) return -EFAULT;
    if (entries_size != bytecount) {  // zero-fill the rest and pretend we read bytecount bytes
        std::vector<uint8_t> zero(bytecount - entries_size);
        if (!copy_to_user(c.mm, VirtAddr(ptr + entries_size), zero.data(), zero.size())) return -EFAULT;
    }
    return static_cast<long>(bytecount);
}

// The "default LDT": zeros, 128 bytes on a 64-bit kernel.
long read_default_ldt(SysCtx& c, uint64_t ptr, uint64_t bytecount) {
    bytecount = std::min<uint64_t>(bytecount, 128);
    std::vector<uint8_t> zero(bytecount);
    if (!copy_to_user(c.mm, VirtAddr(ptr), zero.data(), zero.size())) return -EFAULT;
    return static_cast<long>(bytecount);
}

long write_ldt(SysCtx& c, uint64_t ptr, uint64_t bytecount, bool oldmode) {
    uint32_t raw[4];
    if (bytecount != sizeof raw) return -EINVAL;
    if (!copy_from_user(c.mm, raw, VirtAddr(ptr), sizeof raw)) return -EFAULT;
    const uint32_t entry_number = raw[0];
    const user_desc_bits info = unpack(raw);
    if (entry_number >= LDT_ENTRIES) return -EINVAL;
    if (info.contents == 3) {  // a non-conforming code segment must be marked not present
        if (oldmode) return -EINVAL;
        if (info.seg_not_present == 0) return -EINVAL;
    }
    uint64_t desc = 0;  // the user wants to clear the entry
    if (!((oldmode && !info.base_addr && !info.limit) || LDT_empty(info))) {
        // 16-bit segments are allowed (CONFIG_X86_16BIT); the lm bit is never set (fill_ldt).
        desc = fill_ldt(user_desc{entry_number, raw[1], raw[2], raw[3], false});
        if (oldmode) desc &= ~(1ull << 52);  // avl
    }
    std::vector<uint64_t>& ldt = c.mm.context_ldt;
    if (entry_number >= ldt.size()) ldt.resize(entry_number + 1);
    ldt[entry_number] = desc;
    if (c.task.cpu) c.task.cpu->load_mm_ldt(ldt.data(), static_cast<unsigned>(ldt.size()));  // install_ldt
    return 0;
}

}  // namespace

long sys_modify_ldt(SysCtx& c, const uint64_t* a) {
    const int func = static_cast<int>(a[0]);
    long ret = -ENOSYS;
    switch (func) {
    case 0: ret = read_ldt(c, a[1], a[2]); break;
    case 1: ret = write_ldt(c, a[1], a[2], true); break;
    case 2: ret = read_default_ldt(c, a[1], a[2]); break;
    case 0x11: ret = write_ldt(c, a[1], a[2], false); break;
    }
    // The ABI's return is an int: the kernel returns (unsigned int)ret, so a 64-bit caller sees
    // an error as a 32-bit negative number in a zero-extended rax.
    return static_cast<long>(static_cast<uint32_t>(ret));
}

}  // namespace guestos
