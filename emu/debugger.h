// The debugger's engine: execution control over the guest CPU and the CPU-side state
// (registers, disassembly, the shadow TLB) for any front end: the debugger view (ui/) and
// the GDB stub (gdbstub/, issue 16). The OS-side state is read through
// guestos/mm/inspect.h with the task's mm, at the same stops.
//
// Model. The guest runs only inside one of the execution calls below, on the caller's thread,
// and each returns a Stop: why it stopped, where, and what happened (the fault or syscall).
// Between calls the machine is at a safe point: between two guest instructions, no syscall
// or fault half done, signals delivered. Every read-only query (here and in inspect.h) is
// valid there and only there. pause() is the one call allowed from another thread (and from
// a signal handler's helper thread): the running call then returns StopReason::Paused soon.
//
// The task. The guest runs under emu::Machine's scheduler (one engine per address space);
// all calls act on "the current task", the one the machine ran last, and a stop reports the
// task it happened in.
//
// Processes. The debugger traces the first program's process and, once fork events are on
// (set_events, ptrace's PTRACE_O_TRACEFORK/VFORK/EXEC), each process a traced one forks:
// the child is held (it does not run) until a resumption names it or it is detached.
// Breakpoints, watchpoints, signal and syscall stops belong to traced processes only, so a
// detached child runs through its parent's breakpoints; exec drops its process's breakpoints.
//
// Breakpoints are Unicorn code hooks bounded to one address (free elsewhere); resuming at
// one skips it once. A single step is a count-limited run; the next unlimited run first
// does an empty run, because Unicorn keeps a per-instruction counting hook after counted runs
// (GDB.md fact 2). "Page touched" works through the shadow TLB: the page's shadow entry is
// dropped, so the next access to it misses and is seen as a hidden fault.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "emu/access.h"
#include "emu/tlb.h"
#include "guestos/arch/x86/include/asm/ptrace.h"
#include "guestos/include/ptrace.h"
#include "guestos/trace/fault_trace.h"
#include "loader/elf_symbols.h"

namespace guestos {
class Kernel;
struct task_struct;
}  // namespace guestos

namespace emu {

class Cpu;
class Machine;

enum class StopReason {
    None,
    Exited,         // the task exited (Stop::detail: "exit status 0") or was killed ("killed by SIGSEGV")
    Paused,         // pause() was called
    Step,           // one instruction ran
    Syscall,        // a syscall completed (Stop::syscall_nr)
    SyscallEntry,   // a caught syscall is about to run (Stop::syscall_nr; see catch_syscalls)
    SyscallReturn,  // a caught syscall returned (Stop::syscall_nr)
    PageFault,      // a true page fault matching the filter was handled (Stop::fault)
    TlbFill,        // the shadow TLB resolved a miss alone (only with FAULT_TLB_FILL)
    Breakpoint,     // execution reached a breakpoint or the run_to address
    Signal,         // a signal is about to be delivered (only with signal stops; Stop::signo)
    PageTouched,    // the watched page was accessed (Stop::fault is the access)
    Watchpoint,     // an instruction that hit a data watchpoint retired (Stop::watch)
    Fork,           // a traced process forked (Stop::child_pid, held), with fork events on
    Vfork,          // a traced process vforked (Stop::child_pid, held); it waits for the child
    VforkDone,      // the vfork child exec'd or exited: the parent goes on
    Exec,           // a traced process runs a new program (at its first instruction), with exec events on
    ProcessExited,  // a traced process other than the first exited (Stop::pid its tgid, Stop::status)
    Error,          // the engine failed (Stop::detail)
};
const char* stop_reason_name(StopReason r);

// Which faults step_to_fault stops at (guestos::fault_kind's classes).
enum FaultFilter : unsigned {
    FAULT_ANON = 1u << 0,     // do_anonymous_page (zero page or a new page)
    FAULT_FILE = 1u << 1,     // a file or shmem page (do_read_fault, do_cow_fault, do_shared_fault)
    FAULT_COW = 1u << 2,      // do_wp_page
    FAULT_SWAP = 1u << 3,     // do_swap_page
    FAULT_SIGSEGV = 1u << 4,  // the fault ended in a signal (SIGSEGV, SIGBUS)
    FAULT_OTHER = 1u << 5,    // a true fault of no class above (stack growth alone, ...)
    FAULT_TRUE = FAULT_ANON | FAULT_FILE | FAULT_COW | FAULT_SWAP | FAULT_SIGSEGV | FAULT_OTHER,
    FAULT_TLB_FILL = 1u << 6,  // also the faults the shadow TLB resolves alone
};
// The filter bit of a fault event.
unsigned fault_filter_of(const guestos::FaultEvent& e);

struct Stop {
    StopReason reason = StopReason::None;
    int pid = 0;                               // the task it happened in
    uint64_t pc = 0;                           // where the task will resume
    std::string detail;                        // one line for a status bar
    std::optional<guestos::FaultEvent> fault;  // PageFault, TlbFill, PageTouched
    uint64_t syscall_nr = 0;                   // Syscall
    int signo = 0;                             // Signal: the signal, held until resume_signal
    std::optional<WatchHit> watch;             // Watchpoint
    int child_pid = 0;                         // Fork, Vfork
    int status = 0;                            // ProcessExited: its wait status
};

// The user registers in display order, with the flags decoded.
struct Registers {
    bool is64 = true;
    std::vector<std::pair<const char*, uint64_t>> gpr;  // rax.. r15, rip (eax.. eip on i386)
    uint64_t flags = 0;
    std::string flag_names;  // "IF ZF" (set flags only)
    uint64_t fs_base = 0, gs_base = 0;
    uint16_t cs = 0, ss = 0, ds = 0, es = 0, fs = 0, gs = 0;
};

struct DisasmLine {
    uint64_t address = 0;
    std::string bytes;   // hex
    std::string text;    // "mov rax, qword ptr [rbp - 8]"
    std::string symbol;  // "main+0x1c" at a symbol's start or when it changes, else ""
};

struct TlbEntry {
    VirtAddr va;
    uint64_t pfn = 0;
    bool writable = false, user = false, executable = false;
};

class Debugger final : private guestos::Tracer {
public:
    // Drives machine (started, not yet run: Machine::start) and follows the task it ran
    // last. Subscribes to the fault stream until destroyed. symbols: the executable's, for
    // disassembly (may be empty).
    Debugger(guestos::Kernel& kernel, Machine& machine, loader::ElfSymbols symbols = {});
    ~Debugger() override;
    Debugger(const Debugger&) = delete;
    Debugger& operator=(const Debugger&) = delete;

    // --- Execution control: each runs the guest and returns why it stopped ---
    Stop cont();              // until a breakpoint, a watch, pause() or exit
    Stop step_instruction();  // exactly one instruction (or the fault it took)
    // One instruction of thread tid (of a traced process): it goes on the CPU first. A thread
    // asleep in a syscall steps once that syscall has returned, as under ptrace.
    Stop step_thread(int tid);
    Stop step_to_syscall();                            // until a syscall has completed
    Stop step_to_fault(unsigned filter = FAULT_TRUE);  // until a fault of the filter's classes
    Stop run_to(uint64_t address);                     // until execution reaches address
    // Thread-safe: a running call returns Paused soon; no effect while stopped.
    void pause();

    // Breakpoints of process tgid (without: the current task's process).
    void add_breakpoint(uint64_t address) { add_breakpoint(current_tgid(), address); }
    void remove_breakpoint(uint64_t address) { remove_breakpoint(current_tgid(), address); }
    void add_breakpoint(int tgid, uint64_t address);
    void remove_breakpoint(int tgid, uint64_t address);
    const std::set<uint64_t>& breakpoints() const { return breakpoints(current_tgid()); }
    const std::set<uint64_t>& breakpoints(int tgid) const;
    // Data watchpoints (precise: the stop comes once the instruction that accessed retired,
    // and it ran once). Only the watched pages trap, in the shadow TLB (Cpu::set_watchpoints).
    void add_watchpoint(const Watchpoint& w) { add_watchpoint(current_tgid(), w); }
    void remove_watchpoint(const Watchpoint& w) { remove_watchpoint(current_tgid(), w); }
    void add_watchpoint(int tgid, const Watchpoint& w);
    void remove_watchpoint(int tgid, const Watchpoint& w);
    const std::vector<Watchpoint>& watchpoints() const { return watchpoints(current_tgid()); }
    const std::vector<Watchpoint>& watchpoints(int tgid) const;

    // --- Processes ---
    // Which events stop a run: fork and vfork (the child is traced and held), exec. Off
    // until asked for, as ptrace's options: a child then runs untraced.
    void set_events(bool fork, bool vfork, bool exec);
    bool traced(int tgid) const { return traced_.count(tgid) != 0; }
    // The traced processes, the first program's first.
    std::vector<int> processes() const;
    // A held process stays off the CPU while others run (signal->ptrace_held): a fork child
    // until a resumption names it, a process gdb does not resume (schedule-multiple off).
    bool held(int tgid) const;
    void hold(int tgid, bool on);
    void release(int tgid) { hold(tgid, false); }
    // Stops tracing tgid: its breakpoints and watchpoints go, a held child is released.
    void detach(int tgid);
    void detach_all();
    // Kills process tgid (SIGKILL), which stops being traced.
    void kill(int tgid);
    // The process of thread tid (0 when there is none).
    int tgid_of(int tid) const;
    // Stop at the next access to va's page (one-shot: cleared when it fires); nullopt clears.
    void watch_page(std::optional<VirtAddr> va);
    std::optional<VirtAddr> watched_page() const { return watch_; }
    // Signal stops (ptrace's): each signal about to be delivered ends the run with
    // StopReason::Signal instead, and waits; the next execution call delivers what
    // resume_signal chose (by default nothing: the signal is discarded, as PTRACE_CONT 0).
    void set_signal_stops(bool on);
    // Signals (a mask of Linux numbers, bit sig-1) delivered without a stop (QPassSignals).
    void set_pass_signals(uint64_t mask) { pass_signals_ = mask; }
    // The signal the current task takes when it next runs: the stopped signal with its
    // siginfo when signo is that one, another with SI_USER, 0 for none.
    void resume_signal(int signo);
    // Syscall stops (gdb's catch syscall, PTRACE_SYSCALL): a run stops before each syscall
    // whose number is in nrs (every one when nrs is empty) runs and again once it returned.
    // At an entry stop the registers read as Linux shows them (ip after the instruction, ax
    // -ENOSYS, orig_ax the number; writing orig_ax changes the syscall that runs).
    void catch_syscalls(bool on, std::set<uint64_t> nrs = {});
    // The siginfo of the signal the current task stopped for (ptrace's PTRACE_GETSIGINFO).
    std::optional<guestos::kernel_siginfo> stop_siginfo() const;

    // --- State at a stop (CPU side) ---
    guestos::task_struct* task() const;
    bool exited() const;
    const Stop& last_stop() const { return last_; }
    Registers registers() const;
    // The current task's full user registers (pt_regs with the FPU state), and replacing
    // them (ptrace's GETREGS/SETREGS); false when no task runs.
    bool get_regs(guestos::pt_regs& regs) const;
    bool set_regs(const guestos::pt_regs& regs);
    // Any live thread's registers by its tid (gdb's Hg): the current task's as above, the
    // others' as saved when they last left the CPU. False for no such thread.
    bool get_thread_regs(int tid, guestos::pt_regs& regs) const;
    bool set_thread_regs(int tid, const guestos::pt_regs& regs);
    // The live threads of the current task's process (or of process tgid), by tid.
    std::vector<int> threads() const { return threads(current_tgid()); }
    std::vector<int> threads(int tgid) const;
    // The first program's wait status once it has exited.
    std::optional<int> exit_status() const;
    // Instructions around address: up to `before` decoded ones that end exactly at it (found
    // by decoding forward from earlier starts) and `after` from it on.
    std::vector<DisasmLine> disassemble(uint64_t address, int before, int after) const;
    const loader::ElfSymbols& symbols() const { return symbols_; }
    // The shadow TLB entry for va (what the CPU uses), if any.
    std::optional<TlbEntry> tlb_entry(VirtAddr va) const;
    // Up to max present shadow entries, by address.
    std::vector<TlbEntry> tlb_entries(size_t max) const;
    TlbStats tlb_stats() const;
    // Every true fault since the debugger started (and the hidden ones when record_hidden),
    // oldest first, at most history_limit of them (older ones are dropped).
    const std::vector<guestos::FaultEvent>& faults() const { return faults_; }
    void set_record_hidden(bool on) { record_hidden_ = on; }
    static constexpr size_t history_limit = 100000;
    uint64_t syscalls() const { return syscalls_; }
    uint64_t true_faults() const { return true_faults_; }

private:
    Cpu* cpu() const;
    // A live thread by tid and its engine; nulls when there is none.
    std::pair<guestos::task_struct*, Cpu*> live_thread(int tid) const;
    // Runs until the Cpu stops for any reason and turns that into a Stop; want decides
    // whether an observed event (a fault or syscall) ends the run.
    Stop run(uint64_t max_insns);
    void on_fault(const guestos::FaultEvent& e);
    void on_syscall(uint64_t nr);
    bool on_syscall_entry(uint64_t nr);
    bool catches(uint64_t nr) const { return catch_syscalls_ && (catch_nrs_.empty() || catch_nrs_.count(nr)); }
    bool signal_stop(guestos::task_struct& task, const guestos::kernel_siginfo& info) override;
    void fork_event(guestos::task_struct& parent, guestos::task_struct& child, bool vfork) override;
    void vfork_done(guestos::task_struct& parent, int child_pid) override;
    void exec_event(guestos::task_struct& task) override;
    void exit_event(int tgid, int status) override;
    // An event of the kernel ends the run: the first of a run is its stop, later ones wait
    // for the next execution call, which returns them without running.
    void post(Stop s);
    int current_tgid() const;
    bool current_traced() const;
    Stop step_from(guestos::task_struct* t);
    Stop make_stop(StopReason r, std::string detail = {});

    guestos::Kernel& kernel_;
    Machine& machine_;
    loader::ElfSymbols symbols_;
    uint64_t fault_sink_ = 0;
    std::map<int, std::set<uint64_t>> breakpoints_;   // by tgid
    std::map<int, std::vector<Watchpoint>> watches_;  // by tgid
    std::set<int> traced_;
    bool fork_events_ = false, vfork_events_ = false, exec_events_ = false;
    std::deque<Stop> deferred_;  // events after a run's first
    int step_tid_ = 0;           // step_thread of a sleeping thread: stop once its syscall returned
    std::optional<VirtAddr> watch_;
    std::vector<guestos::FaultEvent> faults_;
    bool record_hidden_ = false;
    uint64_t syscalls_ = 0;
    uint64_t true_faults_ = 0;
    // What the current run stops at (set by the execution calls, read by the observers).
    unsigned stop_faults_ = 0;
    bool stop_syscall_ = false;
    bool catch_syscalls_ = false;
    std::set<uint64_t> catch_nrs_;
    std::optional<Stop> pending_;  // the event that asked the Cpu to stop
    std::atomic<bool> pause_{false};
    bool signal_stops_ = false;
    uint64_t pass_signals_ = 0;
    Stop last_;
};

}  // namespace emu
