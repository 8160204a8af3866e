// The x86 page fault handler (arch/x86/mm/fault.c do_user_addr_fault): a user fault's VMA
// checks, stack growth, access_error, handle_mm_fault, the OOM and SIGBUS/SIGSEGV outcomes,
// and the vsyscall page above the user range. Kernel::do_page_fault (kernel/kernel.cpp)
// calls it with the fault accounting around it.
#include "guestos/arch/x86/entry/vsyscall/vsyscall_64.h"
#include "guestos/fs/proc/base.h"
#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/oom_kill.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/trace/fault_trace.h"

namespace guestos {

FaultOutcome Kernel::do_user_addr_fault(task_struct& task, VirtAddr address, uint32_t error_code) {
    ++stats.pgfault;
    if (buddy_) buddy_->count_vm_events(PGFAULT);
    mm_struct& mm = *task.mm;
    FaultEvent* ev = fault_tracer().current();
    if (ev) ev->pte_before = pte_val(get_pte(mm, address));
    trace_fault_step("do_page_fault",
                     [&](FaultStep& s) { s.args = hex(address.value) + ", " + describe_error_code(error_code); });
    auto bad_area = [&](int code) {
        trace_fault_step(code == SEGV_MAPERR ? "bad_area" : "bad_area_access_error", [&](FaultStep& s) {
            s.result = code == SEGV_MAPERR ? "SIGSEGV (SEGV_MAPERR)" : "SIGSEGV (SEGV_ACCERR)";
        });
        return FaultOutcome{SIGSEGV_, code, address.value};
    };
    if (address.value >= mm.task_size) {  // a kernel address: only the vsyscall page is a user's
        if (auto r = emulate_vsyscall(*this, task, address, error_code)) {
            trace_fault_step("emulate_vsyscall", [&](FaultStep& s) {
                s.result = r->emulated ? "the call ran, ret to the caller" : "a bad call: signal";
            });
            return *r;
        }
        return bad_area(SEGV_MAPERR);
    }
    vm_area_struct* vma = find_vma(mm, address);
    if (ev) ev->vma = vma ? show_map_vma(mm, *vma) : "none";
    trace_fault_step("find_vma", [&](FaultStep& s) { s.result = vma ? show_map_vma(mm, *vma) : std::string("none"); });
    if (!vma) return bad_area(SEGV_MAPERR);
    if (vma->vm_start > address) {
        if (!(vma->vm_flags & VM_GROWSDOWN) || !expand_stack(mm, *vma, address)) return bad_area(SEGV_MAPERR);
        trace_fault_step("expand_stack", [&](FaultStep& s) { s.result = "vm_start " + hex(vma->vm_start.value); });
    }
    // access_error(): does the VMA allow this kind of access at all?
    if (error_code & X86_PF_WRITE) {
        if (!(vma->vm_flags & VM_WRITE)) return bad_area(SEGV_ACCERR);
    } else if (error_code & X86_PF_INSTR) {
        if (!(vma->vm_flags & VM_EXEC)) return bad_area(SEGV_ACCERR);
    } else if (!(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) {
        return bad_area(SEGV_ACCERR);
    }
    unsigned flags = FAULT_FLAG_USER;
    if (error_code & X86_PF_WRITE) flags |= FAULT_FLAG_WRITE;
    if (error_code & X86_PF_INSTR) flags |= FAULT_FLAG_INSTRUCTION;
    vm_fault_t r = handle_mm_fault(mm, *vma, address, flags);
    // pagefault_out_of_memory -> out_of_memory: a victim is killed and reaped; if it was
    // another process, the fault runs again on the memory it left.
    for (bool killed = true; (r & VM_FAULT_OOM) && killed;) {
        trace_fault_step("pagefault_out_of_memory", [](FaultStep& s) {
            s.about = "VM_FAULT_OOM";
            s.result = "out_of_memory";
        });
        if (out_of_memory(*this, task, 0, killed) || !killed) break;
        r = handle_mm_fault(mm, *vma, address, flags);
    }
    if (ev) ev->pte_after = pte_val(get_pte(mm, address));
    if (r & VM_FAULT_MAJOR) {
        ++stats.pgmajfault;
        if (buddy_) buddy_->count_vm_events(PGMAJFAULT);
    }
    if (r & VM_FAULT_OOM) {
        trace_fault_step("oom_kill_process", [](FaultStep& s) {
            s.about = "this process";
            s.result = "SIGKILL";
        });
        return FaultOutcome{SIGKILL_, 0, address.value};
    }
    if (r & VM_FAULT_SIGBUS) {
        trace_fault_step("do_sigbus", [](FaultStep& s) {
            s.about = "VM_FAULT_SIGBUS";
            s.result = "SIGBUS (BUS_ADRERR)";
        });
        return FaultOutcome{SIGBUS_, BUS_ADRERR, address.value};
    }
    if (r & VM_FAULT_SIGSEGV) return bad_area(SEGV_ACCERR);
    return FaultOutcome{};
}

}  // namespace guestos
