// One Unicorn engine per address space: the guest CPU at CPL 3 behind a GDT and an iret
// stub, with the shadow TLB, and dispatch of syscalls, faults and exceptions to guestos.
// The threads of the address space share the engine and switch by register context.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "emu/access.h"
#include "emu/lapic_timer.h"
#include "emu/tlb.h"
#include "guestos/include/kernel.h"
#include "mmu/shadow.h"

namespace emu {

struct CpuHooks;  // Unicorn's callbacks into a Cpu (emu/cpu.cpp)

struct CpuConfig {
    uint64_t tlb_pages = 262144;  // user pages the shadow maps (1 GiB) before it starts over
};

class Cpu final : public guestos::CpuOps {
public:
    // Builds the engine for task's mm, ready to enter user mode at the exec result (or at
    // task.start_regs when set: a fork child). `timer` is the machine's timer (null: its own).
    static mmu::ErrorOr<std::unique_ptr<Cpu>> create(guestos::Kernel& kernel, guestos::task_struct& task,
                                                     const guestos::ExecResult& start, const CpuConfig& cfg,
                                                     std::shared_ptr<LapicTimer> timer = nullptr);
    ~Cpu() override;
    Cpu(const Cpu&) = delete;

    // --- Engine reuse (Machine's pool; docs/design.md, note 13) ---
    // Detaches the engine from its address space, which has lost its last user, so that
    // another can take it: the registers go back to a new engine's, and no shadow entry, TLB
    // entry or translated block of the old address space survives. False when the engine
    // must not be reused (a debugger's breakpoints or watchpoints, or its reuses ran out).
    bool recycle();
    // Whether a recycled engine can serve task's address space (same mode and user range).
    bool fits(const guestos::task_struct& task) const;
    // Binds a recycled engine to task's mm, ready as create() leaves a new one.
    void reuse(guestos::task_struct& task, const guestos::ExecResult& start);
    Cpu& operator=(const Cpu&) = delete;

    // How run() ended: the scheduler's business (the task sleeps, exited, was preempted or
    // left the mm), or a debugger's stop (emu/debugger.h), each at a safe point (between
    // instructions, signals delivered).
    // Watchpoint: an instruction retired that triggered a watchpoint (take_watch_hit).
    // Trapped is internal to run(): an instruction faulted on a watched page, not yet run.
    enum class RunEnd { Scheduled, Requested, Interrupted, Breakpoint, Counted, Watchpoint, Trapped };
    // Runs task (a thread of this engine's mm) until it sleeps, exits, is preempted, or
    // leaves the mm (execve); or until a hook asked (request_stop), interrupt() was called,
    // a breakpoint is reached (before its instruction) or max_insns (> 0) instructions ran.
    mmu::ErrorOr<RunEnd> run(guestos::task_struct& task, uint64_t max_insns = 0);

    // --- Debugger support (emu/debugger.h drives these through Machine) ---
    // From an observer inside a hook (the fault stream, the syscall observer): end the run at
    // the next safe point.
    void request_stop() { debug_stop_ = stop_requested_ = true; }
    // From any thread: the run in progress (on whichever engine) returns Interrupted soon,
    // or the next one does at once.
    static void interrupt();
    // Takes back an interrupt nobody consumed (true if there was one).
    static bool take_interrupt() { return interrupted_.exchange(false); }
    // The breakpoints on this engine: address -> the processes (tgids) they stop; a thread
    // of another process sharing the engine (a vfork child) runs through them.
    void set_breakpoints(const std::map<uint64_t, std::set<int>>& owners);
    // The next run ignores the breakpoint at address once (resuming from it).
    void skip_breakpoint_once(uint64_t address) { skip_breakpoint_ = address; }
    // Data watchpoints: their pages trap in the shadow TLB (ShadowTlb::set_trap), every other
    // page runs at full speed. An instruction that faults on a trapped page is run alone with
    // the page open (traps suspended), the traps are restored, and run() returns Watchpoint
    // once it retired when its accesses hit a watchpoint; otherwise the run goes on.
    void set_watchpoints(const std::vector<Watchpoint>& watches);
    std::optional<WatchHit> take_watch_hit() { return std::exchange(watch_hit_, std::nullopt); }
    // Called after every syscall with its number (exit included), a syscall that slept
    // when it has finished.
    void set_syscall_observer(std::function<void(uint64_t nr)> fn) { syscall_observer_ = std::move(fn); }
    // Asked before each syscall runs (PTRACE_SYSCALL's entry stop): true stops the run with
    // the task before its syscall instruction, which runs the syscall, once, when it resumes.
    void set_syscall_entry_observer(std::function<bool(uint64_t nr)> fn) { syscall_entry_observer_ = std::move(fn); }
    ShadowTlb& tlb() { return *tlb_; }
    mmu::ShadowPageTables& shadow() { return *shadow_; }
    bool is64() const { return is64_; }
    // Where the engine's current task resumes.
    uint64_t pc();
    const guestos::mm_struct* mm() const { return mm_.get(); }

    const TlbStats& tlb_stats() const { return tlb_->stats(); }
    // Debug check that the VMA tree, the guest page tables and the shadow TLB agree.
    std::vector<std::string> check_consistency();
    // The engine running now, for the timer's interrupt (uc_emu_stop from its thread).
    static std::atomic<uc_struct*> running;

    // guestos::CpuOps
    void set_fs_base(uint64_t base) override;
    void set_gs_base(uint64_t base) override;
    uint64_t fs_base() override;
    uint64_t gs_base() override;
    void write_gdt_entry(int index, uint64_t descriptor) override;
    void load_mm_ldt(const uint64_t* entries, unsigned nr) override;
    void get_regs(guestos::pt_regs& regs) override;
    void set_regs(const guestos::pt_regs& regs) override;
    // Any thread of this engine's mm, for debuggers while stopped: the loaded thread's
    // registers are live, a new thread's are its start registers, another's are in its
    // saved context. False when t has none of these.
    bool get_task_regs(const guestos::task_struct& t, guestos::pt_regs& regs);
    bool set_task_regs(guestos::task_struct& t, const guestos::pt_regs& regs);
    void set_next_event(std::optional<int64_t> expires) override;

    // Forgets the loaded task once it has exited: its registers are never saved again and
    // its task_struct is freed at the next reap (release_task), so nothing may read it.
    void forget_exited_task() {
        if (loaded_ && loaded_->exited) loaded_ = nullptr;
    }

private:
    Cpu(guestos::Kernel& kernel, guestos::task_struct& task, const CpuConfig& cfg);
    mmu::ErrorOr<void> init(const guestos::ExecResult& start);
    // The first task's registers and the TLB's address space (the end of init and reuse).
    void attach(const guestos::ExecResult& start);
    uint64_t user_limit_of(const guestos::task_struct& task) const;
    // Loads task's registers if another thread's are in the engine (switch_to).
    void switch_to(guestos::task_struct& task);
    void load_start_regs(guestos::task_struct& task);
    void write_tls_entries(const guestos::task_struct& task);
    // Runs fn with t's saved context in the engine, then puts the loaded thread's back
    // (save: keep what fn changed in t's context).
    void with_context(const guestos::task_struct& t, bool save, const std::function<void()>& fn);
    // A syscall that slept finished: its result goes to the registers.
    void finish_syscall(long ret);
    bool keeps_running(const guestos::task_struct& task) const;
    // Whether the return to user mode has work for do_signal (exit_to_user_mode_loop's
    // test): a signal to take, a temporary sigmask to restore, or the restart code of a
    // syscall that stopped the engine. Reading every register for nothing cost 12% of a
    // pipe ping-pong.
    bool signal_work(const guestos::task_struct& task);
    mmu::ErrorOr<void> map_kernel_area();
    void build_gdt();
    void enter_user_frame(uint64_t ip, uint64_t sp, uint64_t flags);
    void fpu_init();
    mmu::ErrorOr<void> enable_nx();
    mmu::ErrorOr<void> calibrate_exception_state();
    void run_probe(uint64_t off);
    mmu::ErrorOr<void> verify_tlb_flush();
    void clear_exception_state();

    friend struct CpuHooks;
    void on_interrupt(uint32_t intno);
    void on_syscall64();
    void on_syscall32();
    // The syscall-entry stop of nr at the syscall instruction insn, if the observer wants it:
    // the syscall does not run now (true), the task resumes at insn.
    bool syscall_entry_stop(uint64_t nr, uint64_t insn);
    void on_page_fault();
    // A fault becomes a forced signal with its siginfo and trap details (force_sig_fault).
    void deliver_fault_signal(int signo, int si_code, uint64_t addr, uint64_t trap_nr = 0, uint64_t error_code = 0);
    // After a syscall or fault in a hook: stop when the guest must leave its path; true
    // when it stops.
    bool stop_if_needed();
    void read_regs(guestos::pt_regs& regs);
    void write_regs(const guestos::pt_regs& regs);
    bool decode_write(uint64_t rip, uint64_t addr);
    uint64_t capstone_reg(int cs);
    size_t read_code(uint64_t rip, uint8_t (&code)[16]);
    std::string instruction_at(uint64_t rip);
    void trace_hidden_fault(uint64_t cr2, uint64_t rip, const TlbStats& before);
    uint64_t reg(int uc_reg);
    // hook_self: also on ip itself (a fault or a rep iteration ends the step there).
    bool arm_step(uint64_t ip, bool hook_self = true);
    void disarm_step();
    mmu::ErrorOr<RunEnd> run_engine(guestos::task_struct& task, uint64_t max_insns, bool step_by_hooks);
    // Runs the trapped instruction alone with the traps suspended; Watchpoint when it retired
    // and hit one, Counted when it retired without, else why it stopped.
    mmu::ErrorOr<RunEnd> run_trapped(guestos::task_struct& task);
    // The instruction at rip's data accesses, with the registers as they are now.
    std::vector<MemAccess> accesses_at(uint64_t rip);
    void set_reg(int uc_reg, uint64_t v);

    guestos::Kernel& kernel_;
    guestos::task_struct* cur_;               // the task running (or last run) on the engine
    guestos::task_struct* loaded_;            // whose registers the engine holds
    std::shared_ptr<guestos::mm_struct> mm_;  // its address space, alive while the engine is
    bool at_stub_ = true;                     // the next start enters user mode through the iret stub
    bool syscall_slept_ = false;              // the hook's syscall went to sleep: no result to write
    CpuConfig cfg_;
    bool is64_;
    uc_struct* uc_ = nullptr;         // the engine (uc_engine)
    void* cpu_state_ = nullptr;       // Unicorn's CPUState (qemu_get_cpu_x86_64)
    uint8_t* kernel_host_ = nullptr;  // GDT, stub, kernel stack, PAE root
    uint64_t ldt_bytes_ = 0;          // the mm's LDT bytes in the kernel area (load_mm_ldt)
    uint8_t* shadow_host_ = nullptr;  // the shadow page-table pool
    std::unique_ptr<mmu::ShadowPageTables> shadow_;
    std::unique_ptr<ShadowTlb> tlb_;
    uc_hook_t intr_hook_ = 0, syscall_hook_ = 0, unmapped_hook_ = 0, cpuid_hook_ = 0;
    uint64_t unmapped_addr_ = 0;  // an access Unicorn found outside every region
    uc_context* scratch_ctx_ = nullptr;
    uc_context* clean_ctx_ = nullptr;  // the registers of a new engine, before its first task
    unsigned reuses_ = 0;              // times recycle() handed the engine on
    long old_exception_offset_ = -1;   // where Unicorn keeps "exception in flight" in a context
    bool calibrating_ = false;
    uint32_t calibration_intno_ = 0;
    std::string fatal_error_;
    bool in_emulation_ = false;
    bool in_syscall64_ = false;                     // inside the syscall instruction's hook
    bool stop_requested_ = false;                   // a hook wants emulation to stop once it returns
    std::optional<guestos::pt_regs> pending_regs_;  // set_regs from a hook, applied after the stop
    // pt_regs->orig_ax: the syscall number from a syscall hook that stops the engine until
    // the signals are handled, else -1 (a stop from the timer or a fault is no syscall's).
    uint64_t orig_ax_ = ~0ull;
    std::shared_ptr<LapicTimer> timer_;  // interrupts the guest when a timer is due
    // Debugger support.
    bool debug_stop_ = false;                             // an observer asked run() to return
    static inline std::atomic<bool> interrupted_{false};  // interrupt() was called
    bool breakpoint_hit_ = false;
    uint64_t skip_breakpoint_ = ~0ull;
    bool counted_ = false;  // a count-limited run left Unicorn's counting hook
    struct Breakpoint {
        uc_hook_t hook = 0;
        std::set<int> owners;  // the tgids it stops
    };
    std::map<uint64_t, Breakpoint> breakpoints_;
    std::vector<uc_hook_t> step_hooks_;  // a step's hooks on the next instructions
    uint64_t step_origin_ = 0;
    bool step_origin_seen_ = false, step_hit_ = false;
    std::function<void(uint64_t)> syscall_observer_;
    std::function<bool(uint64_t)> syscall_entry_observer_;
    // The syscall instruction (and task) an entry stop was taken at: resuming there runs it.
    uint64_t entry_stop_insn_ = ~0ull;
    const guestos::task_struct* entry_stop_task_ = nullptr;
    std::vector<Watchpoint> watches_;
    std::set<uint64_t> trap_vpns_;  // the pages watches_ trap
    struct Trapped {
        uint64_t rip = 0;
        std::vector<MemAccess> accesses;  // decoded before it ran
    };
    std::optional<Trapped> trapped_;  // the fault on a trapped page on_page_fault saw
    std::optional<WatchHit> watch_hit_;
};

}  // namespace emu
