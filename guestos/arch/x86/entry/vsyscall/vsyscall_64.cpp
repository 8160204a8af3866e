// vsyscall=xonly emulation (arch/x86/entry/vsyscall/vsyscall_64.c).
#include "guestos/arch/x86/entry/vsyscall/vsyscall_64.h"

#include <asm/unistd_64.h>

#include "guestos/arch/x86/include/asm/ptrace.h"
#include "guestos/include/sched.h"
#include "guestos/include/signal.h"
#include "guestos/mm/memory.h"

namespace guestos {

namespace {

bool is_64bit_mm(const mm_struct& mm) { return mm.paging_mode == mmu::PagingMode::LongMode4; }

// The entry at address: 0 gettimeofday, 1 time, 2 getcpu, -1 none (addr_to_vsyscall_nr).
int addr_to_vsyscall_nr(uint64_t addr) {
    if ((addr & ~0xC00ull) != VSYSCALL_ADDR) return -1;
    const int nr = static_cast<int>((addr & 0xC00) >> 10);
    return nr >= 3 ? -1 : nr;
}

// The pointer a call writes to must be a user address (write_ok_or_segv): else SIGSEGV for it.
bool write_ok(const mm_struct& mm, uint64_t ptr, uint64_t size) {
    return !ptr || (ptr + size >= ptr && ptr + size <= mm.task_size);
}

}  // namespace

const vm_area_struct* get_gate_vma(const mm_struct& mm) {
    static const vm_special_mapping gate_mapping{"[vsyscall]", nullptr, nullptr, nullptr};
    static const vm_area_struct* gate = [] {
        auto* v = new vm_area_struct();  // lives as long as emu: the kernel's gate_vma
        v->vm_start = VirtAddr(VSYSCALL_ADDR);
        v->vm_end = VirtAddr(VSYSCALL_ADDR + PAGE_SIZE);
        v->vm_flags = VM_EXEC;  // xonly
        v->vm_special = &gate_mapping;
        return v;
    }();
    return is_64bit_mm(mm) ? gate : nullptr;
}

std::optional<FaultOutcome> emulate_vsyscall(Kernel& k, task_struct& task, VirtAddr address, uint32_t error_code) {
    mm_struct& mm = *task.mm;
    if (!is_64bit_mm(mm) || !(error_code & X86_PF_INSTR) || (address.value & mmu::PAGE_MASK) != VSYSCALL_ADDR)
        return std::nullopt;
    pt_regs regs{};
    task.cpu->get_regs(regs);
    const int nr = addr_to_vsyscall_nr(address.value);
    if (nr < 0 || regs.ip != address.value) return FaultOutcome{SIGSEGV_, SI_KERNEL, 0};  // misaligned: force_sig
    uint64_t caller = 0;
    if (!copy_from_user(mm, &caller, VirtAddr(regs.sp), sizeof caller)) return FaultOutcome{SIGSEGV_, SI_KERNEL, 0};
    static constexpr long numbers[] = {__NR_gettimeofday, __NR_time, __NR_getcpu};
    static constexpr uint64_t sizes[][2] = {{16, 8}, {8, 0}, {4, 4}};  // timeval+timezone, time_t, cpu+node
    if (!write_ok(mm, regs.di, sizes[nr][0])) return FaultOutcome{SIGSEGV_, SEGV_MAPERR, regs.di};
    if (!write_ok(mm, regs.si, sizes[nr][1])) return FaultOutcome{SIGSEGV_, SEGV_MAPERR, regs.si};
    const uint64_t args[6] = {regs.di, regs.si, 0, 0, 0, 0};
    const long ret = k.syscall(task, static_cast<uint64_t>(numbers[nr]), args);
    if (ret == -EFAULT) return FaultOutcome{SIGSEGV_, SI_KERNEL, 0};  // a bad pointer: Linux signals
    // The call returns as a `ret` would (do_ret).
    task.cpu->get_regs(regs);
    regs.ax = static_cast<uint64_t>(ret);
    regs.ip = caller;
    regs.sp += 8;
    task.cpu->set_regs(regs);
    FaultOutcome done;
    done.emulated = true;
    return done;
}

}  // namespace guestos
