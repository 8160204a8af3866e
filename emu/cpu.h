// One Unicorn engine per address space: the guest CPU at CPL 3 behind a GDT and an iret
// stub, with the shadow TLB, and dispatch of syscalls, faults and exceptions to guestos.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "emu/lapic_timer.h"
#include "emu/tlb.h"
#include "guestos/include/kernel.h"
#include "mmu/shadow.h"

namespace emu {

struct CpuConfig {
    uint64_t tlb_pages = 262144;  // user pages the shadow maps (1 GiB) before it starts over
};

class Cpu final : public guestos::CpuOps {
public:
    // Builds the engine for task's mm, ready to enter user mode at the exec result.
    static mmu::ErrorOr<std::unique_ptr<Cpu>> create(guestos::Kernel& kernel, guestos::task_struct& task,
                                                     const guestos::ExecResult& start, const CpuConfig& cfg);
    ~Cpu() override;
    Cpu(const Cpu&) = delete;
    Cpu& operator=(const Cpu&) = delete;

    // Runs the guest until it exits or dies; the task then holds the exit status or signal.
    mmu::ErrorOr<void> run();

    const TlbStats& tlb_stats() const { return tlb_->stats(); }
    // Debug check that the VMA tree, the guest page tables and the shadow TLB agree.
    std::vector<std::string> check_consistency();

    // guestos::CpuOps
    void set_fs_base(uint64_t base) override;
    void set_gs_base(uint64_t base) override;
    uint64_t fs_base() override;
    uint64_t gs_base() override;
    void write_gdt_entry(int index, uint64_t descriptor) override;
    void get_regs(guestos::pt_regs& regs) override;
    void set_regs(const guestos::pt_regs& regs) override;
    void set_next_event(std::optional<int64_t> expires) override;

private:
    Cpu(guestos::Kernel& kernel, guestos::task_struct& task, const CpuConfig& cfg);
    mmu::ErrorOr<void> init(const guestos::ExecResult& start);
    mmu::ErrorOr<void> map_kernel_area();
    void build_gdt();
    void enter_user_frame(const guestos::ExecResult& start);
    void fpu_init();
    mmu::ErrorOr<void> enable_nx();
    mmu::ErrorOr<void> calibrate_exception_state();
    void run_probe(uint64_t off);
    mmu::ErrorOr<void> verify_tlb_flush();
    void clear_exception_state();

    static void hook_intr(uc_engine* uc, uint32_t intno, void* self);
    static void hook_syscall(uc_engine* uc, void* self);
    static int hook_cpuid(uc_engine* uc, void* self);
    static bool hook_unmapped(uc_engine* uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void* self);
    void on_interrupt(uint32_t intno);
    void on_syscall64();
    void on_syscall32();
    void on_page_fault();
    // A fault becomes a forced signal with its siginfo and trap details (force_sig_fault).
    void deliver_fault_signal(int signo, int si_code, uint64_t addr, uint64_t trap_nr = 0, uint64_t error_code = 0);
    // After a syscall or fault in a hook: stop when the guest must leave its path; true
    // when it stops.
    bool stop_if_needed();
    void read_regs(guestos::pt_regs& regs);
    void write_regs(const guestos::pt_regs& regs);
    bool decode_write(uint64_t rip, uint64_t addr);
    size_t read_code(uint64_t rip, uint8_t (&code)[16]);
    std::string instruction_at(uint64_t rip);
    void trace_hidden_fault(uint64_t cr2, uint64_t rip, const TlbStats& before);
    uint64_t reg(int uc_reg);
    uint64_t pc();
    void set_reg(int uc_reg, uint64_t v);

    guestos::Kernel& kernel_;
    guestos::task_struct& task_;
    CpuConfig cfg_;
    bool is64_;
    uc_engine* uc_ = nullptr;
    void* cpu_state_ = nullptr;       // Unicorn's CPUState (qemu_get_cpu_x86_64)
    uint8_t* kernel_host_ = nullptr;  // GDT, stub, kernel stack, PAE root
    uint8_t* shadow_host_ = nullptr;  // the shadow page-table pool
    std::unique_ptr<mmu::ShadowPageTables> shadow_;
    std::unique_ptr<ShadowTlb> tlb_;
    uc_hook intr_hook_ = 0, syscall_hook_ = 0, unmapped_hook_ = 0, cpuid_hook_ = 0;
    uint64_t unmapped_addr_ = 0;  // an access Unicorn found outside every region
    uc_context* scratch_ctx_ = nullptr;
    long old_exception_offset_ = -1;  // where Unicorn keeps "exception in flight" in a context
    bool calibrating_ = false;
    uint32_t calibration_intno_ = 0;
    std::string fatal_error_;
    bool in_emulation_ = false;
    bool stop_requested_ = false;          // a hook wants emulation to stop once it returns
    std::optional<guestos::pt_regs> pending_regs_;  // set_regs from a hook, applied after the stop
    // pt_regs->orig_ax: the syscall number from a syscall hook that stops the engine until
    // the signals are handled, else -1 (a stop from the timer or a fault is no syscall's).
    uint64_t orig_ax_ = ~0ull;
    std::unique_ptr<LapicTimer> timer_;  // interrupts the guest when a timer is due
};

}  // namespace emu
