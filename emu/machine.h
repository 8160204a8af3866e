// The machine: one CPU running every guest task under guestos's scheduler. Each address
// space gets its Unicorn engine (a Cpu) when one of its tasks first runs; an engine whose
// address space lost its last user is closed between timeslices.
#pragma once
#include <functional>
#include <atomic>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "emu/cpu.h"
#include "emu/lapic_timer.h"

namespace emu {

class Machine final : public guestos::ClockEventDevice {
public:
    Machine(guestos::Kernel& kernel, const CpuConfig& cfg);
    ~Machine() override;

    // Runs the first program (exec'd into task, at start) and every task it starts, until
    // its process has exited (kernel.init_exit_status); the tasks left are then killed.
    mmu::ErrorOr<void> run(guestos::task_struct& task, const guestos::ExecResult& start);

    // --- Debugger support (emu/debugger.h): run() in pieces ---
    // Makes task runnable at start (wake_up_new_task), without running anything.
    void start(guestos::task_struct& task, const guestos::ExecResult& start);
    // Schedules and runs tasks until the first program's process has exited (then kills what
    // it left: Cpu::RunEnd::Scheduled is returned) or a run ends with a debugger's stop.
    // max_insns > 0: at most that many instructions of the next task.
    mmu::ErrorOr<Cpu::RunEnd> run_until_stop(uint64_t max_insns = 0);
    bool finished() const { return finished_; }
    // The task that ran last (the first task before anything ran); never a reaped one.
    guestos::task_struct* current() const { return current_; }
    // The engine of task's address space, if one exists.
    Cpu* cpu_of(const guestos::task_struct& task) const;
    // From any thread: the run in progress returns Interrupted soon.
    void interrupt();
    // Breakpoints and watchpoints belong to a process (tgid): an engine gets those of the
    // processes whose threads use its address space, engines made later too.
    void set_breakpoint(int tgid, uint64_t address, bool on);
    void set_watchpoints(int tgid, const std::vector<Watchpoint>& watches);
    // Drops tgid's breakpoints and watchpoints (its program was replaced, or it is detached).
    void clear_debug_state(int tgid);
    // The engine running now: an observer called from its hooks stops it. Null between runs.
    Cpu* running() const { return running_; }
    // The syscall observers apply to every engine, those made later too.
    void set_syscall_observer(std::function<void(uint64_t)> fn);
    void set_syscall_entry_observer(std::function<bool(uint64_t)> fn);

    // --check-mm: each address space is checked when it loses its last user (VMA tree, page
    // tables, shadow TLB), and the slab counts at the end.
    void enable_check_mm();
    const std::vector<std::string>& mm_problems() const { return problems_; }
    // Called with each address space as it loses its last user, before it is torn down.
    void set_mm_exit_observer(std::function<void(guestos::mm_struct&)> fn) { observer_ = std::move(fn); }
    // The TLB counters of every engine, closed ones included.
    TlbStats tlb_stats() const;
    // Engines created, and address spaces that got a recycled one (every address space
    // that ran got one or the other).
    uint64_t engines_created() const { return engines_created_; }
    uint64_t engines_reused() const { return engines_reused_; }

    void set_next_event(std::optional<int64_t> expires) override { timer_->program(expires); }

private:
    mmu::ErrorOr<Cpu*> cpu_for(guestos::task_struct& task, const guestos::ExecResult& start);
    void close_unused_engines();
    void kill_remaining_tasks();
    bool is_live(const guestos::task_struct* t) const;

    guestos::Kernel& kernel_;
    CpuConfig cfg_;
    std::shared_ptr<LapicTimer> timer_;
    std::map<const guestos::mm_struct*, std::unique_ptr<Cpu>> cpus_;
    // Engines of address spaces that lost their last user, recycled for the next ones: a new
    // engine costs about 1 ms (uc_open, the code buffer, the calibration), a reuse ~50 us.
    std::vector<std::unique_ptr<Cpu>> pool_;
    TlbStats closed_stats_;
    std::vector<std::string> problems_;
    uint64_t engines_created_ = 0, engines_reused_ = 0;
    bool check_mm_ = false;
    bool finished_ = false;
    guestos::task_struct* first_ = nullptr;
    guestos::task_struct* current_ = nullptr;
    guestos::ExecResult start_copy_;
    // Gives each engine (or c alone) the breakpoints and watchpoints of its processes.
    void apply_debug_state();
    void apply_debug_state(Cpu& c);
    std::map<int, std::set<uint64_t>> breakpoints_;   // by tgid
    std::map<int, std::vector<Watchpoint>> watches_;  // by tgid
    Cpu* running_ = nullptr;
    std::function<void(uint64_t)> syscall_observer_;
    std::function<bool(uint64_t)> syscall_entry_observer_;

    std::function<void(guestos::mm_struct&)> observer_;
};

}  // namespace emu
