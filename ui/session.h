// One debugging session: the emulated machine (kernel, task, CPU), its Debugger, and the
// snapshots the view draws. Single-threaded: every call but pause() must come from the
// thread that created it (the view's worker thread, or the headless script runner).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emu/cpu.h"
#include "emu/machine.h"
#include "emu/debugger.h"
#include "guestos/include/kernel.h"
#include "ui/snapshot.h"

namespace ui {

class Recorder;

struct SessionConfig {
    guestos::KernelConfig kernel;
    emu::CpuConfig cpu;
    std::vector<std::string> argv;  // argv[0] is the program's host path
    std::vector<std::string> envp;
    std::string lesson_note;
    Recorder* recorder = nullptr;  // --record: a sample at every snapshot (may be null)
};

// What the user asks the machine to do.
struct Command {
    enum Kind { Continue, Step, StepSyscall, StepFault, RunTo, WatchPage } kind = Continue;
    uint64_t count = 1;                 // Step: instructions; StepFault/StepSyscall: how many stops
    uint64_t address = 0;               // RunTo, WatchPage
    unsigned filter = emu::FAULT_TRUE;  // StepFault
};
// The words of a command for a status line ("step to the next fault").
std::string describe(const Command& c);

class Session {
public:
    // Boots the kernel, execs argv[0] and stops at its entry point (before its first
    // instruction). An error names what failed (boot, exec, the CPU).
    static mmu::ErrorOr<std::unique_ptr<Session>> create(const SessionConfig& cfg);
    ~Session();

    // Runs the command to its stop; a stopped machine that has exited stays as it is.
    emu::Stop execute(const Command& c);
    // Thread-safe: makes a running execute() return soon (StopReason::Paused).
    void pause() { dbg_->pause(); }
    bool exited() const { return dbg_->exited(); }
    const emu::Stop& last_stop() const { return dbg_->last_stop(); }

    // The view's data at this stop, around the selection, with what changed since the
    // previous snapshot marked. `running`: taken during a run (a periodic refresh).
    Snapshot snapshot(const Selection& sel, bool running);

    emu::Debugger& debugger() { return *dbg_; }
    guestos::Kernel& kernel() { return *kernel_; }
    // The task the machine ran last (the first program's before anything ran).
    guestos::task_struct& task() { return *dbg_->task(); }
    // The task the selection names if it still has an address space, else the running one.
    const guestos::task_struct& shown_task(const Selection& sel);
    const SessionConfig& config() const { return cfg_; }

private:
    explicit Session(const SessionConfig& cfg) : cfg_(cfg) {}
    void fill_cpu(Snapshot& s);
    void fill_memory(Snapshot& s);
    void fill_selection(Snapshot& s);

    SessionConfig cfg_;
    std::unique_ptr<guestos::Kernel> kernel_;
    std::unique_ptr<guestos::task_struct> task_;
    std::unique_ptr<emu::Machine> machine_;
    std::unique_ptr<emu::Debugger> dbg_;
    uint64_t generation_ = 0;
    inspect::FrameMap prev_frames_;
    std::vector<uint64_t> last_changed_;
    bool ran_ = false;  // the machine ran since the last snapshot
    uint64_t prev_bytes_pfn_ = ~0ull;
    std::vector<uint8_t> prev_bytes_;
    std::deque<CounterSample> history_;
};

}  // namespace ui
