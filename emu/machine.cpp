#include "emu/machine.h"

#include "emu/host_signals.h"

#include <unicorn/unicorn.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "guestos/include/signal.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/mm/slab_object.h"

namespace emu {

namespace {
// Recycled engines kept for new address spaces (a shell pipeline's processes end together).
constexpr size_t MAX_POOLED_ENGINES = 4;

// Adds every counter of b to a (TlbStats is all uint64_t counters).
void add_stats(TlbStats& a, const TlbStats& b) {
    static_assert(sizeof(TlbStats) % sizeof(uint64_t) == 0);
    uint64_t va[sizeof(TlbStats) / 8], vb[sizeof(TlbStats) / 8];
    std::memcpy(va, &a, sizeof a);
    std::memcpy(vb, &b, sizeof b);
    for (size_t i = 0; i < std::size(va); ++i) va[i] += vb[i];
    std::memcpy(&a, va, sizeof a);
}
}  // namespace

Machine::Machine(guestos::Kernel& kernel, const CpuConfig& cfg)
    : kernel_(kernel), cfg_(cfg), timer_(std::make_shared<LapicTimer>([] {
          if (uc_engine* uc = Cpu::running.load()) uc_emu_stop(uc);
      })) {
    kernel_.set_clockevent(this);
}

Machine::~Machine() {
    kernel_.set_clockevent(nullptr);
    kernel_.set_exit_mm_hook(nullptr);
    timer_->program(std::nullopt);
}

void Machine::enable_check_mm() {
    check_mm_ = true;
    kernel_.set_exit_mm_hook([this](guestos::mm_struct& mm) {
        auto it = cpus_.find(&mm);
        std::vector<std::string> p = it != cpus_.end() ? it->second->check_consistency() : guestos::check_mm(mm);
        for (auto& s : p) problems_.push_back(std::move(s));
        if (observer_) observer_(mm);
    });
}

TlbStats Machine::tlb_stats() const {
    TlbStats t = closed_stats_;
    for (const auto& [mm, cpu] : cpus_) add_stats(t, cpu->tlb_stats());
    return t;
}

mmu::ErrorOr<Cpu*> Machine::cpu_for(guestos::task_struct& task, const guestos::ExecResult& start) {
    auto it = cpus_.find(task.mm.get());
    if (it != cpus_.end()) return it->second.get();
    std::unique_ptr<Cpu> cpu;
    auto pooled = std::find_if(pool_.begin(), pool_.end(), [&](const auto& c) { return c->fits(task); });
    if (pooled != pool_.end()) {
        cpu = std::move(*pooled);
        pool_.erase(pooled);
        cpu->reuse(task, start);
        ++engines_reused_;
    } else {
        cpu = TRY(Cpu::create(kernel_, task, start, cfg_, timer_));
        ++engines_created_;
    }
    Cpu* c = cpu.get();
    if (!breakpoints_.empty() || !watches_.empty()) apply_debug_state(*c);
    if (syscall_observer_) c->set_syscall_observer(syscall_observer_);
    if (syscall_entry_observer_) c->set_syscall_entry_observer(syscall_entry_observer_);
    cpus_[task.mm.get()] = std::move(cpu);
    return c;
}

// An engine whose address space has no user left goes (its mm was torn down by mmput); once
// the first program has exited no address space follows, so none is recycled for one.
void Machine::close_unused_engines() {
    const bool more_to_come = !kernel_.init_exit_status;
    for (auto it = cpus_.begin(); it != cpus_.end();) {
        if (it->first->mm_users > 0) {
            ++it;
            continue;
        }
        add_stats(closed_stats_, it->second->tlb_stats());
        if (more_to_come && pool_.size() < MAX_POOLED_ENGINES && it->second->recycle())
            pool_.push_back(std::move(it->second));
        it = cpus_.erase(it);
    }
}

// The first program is gone: what it left running dies with emu.
void Machine::kill_remaining_tasks() {
    for (guestos::task_struct* t : kernel_.all_tasks())
        if (!t->exited) guestos::do_exit(*t, guestos::SIGKILL_);
    close_unused_engines();
    for (auto& [mm, engine] : cpus_) engine->forget_exited_task();
    kernel_.reap_dead_tasks();
}

mmu::ErrorOr<void> Machine::run(guestos::task_struct& task, const guestos::ExecResult& start) {
    this->start(task, start);
    while (!finished_) TRY(run_until_stop());
    return {};
}

void Machine::start(guestos::task_struct& task, const guestos::ExecResult& start) {
    start_copy_ = start;
    first_ = current_ = &task;
    guestos::wake_up_new_task(task);
}

mmu::ErrorOr<Cpu::RunEnd> Machine::run_until_stop(uint64_t max_insns) {
    // The time since the last return (a debugger's stop, the UI's pause) was nobody's CPU time.
    guestos::account_skip();
    while (!finished_ && !kernel_.init_exit_status) {
        if (Cpu::take_interrupt()) return Cpu::RunEnd::Interrupted;
        deliver_host_signals(kernel_);
        guestos::task_struct* next = guestos::pick_next_task(kernel_);
        if (!next) {
            guestos::idle_wait(kernel_);
            continue;
        }
        auto cpu = TRY(cpu_for(*next, start_copy_));
        current_ = next;
        kernel_.tick_program_event();
        running_ = cpu;
        auto run = cpu->run(*next, max_insns);
        running_ = nullptr;
        const Cpu::RunEnd r = TRY(std::move(run));
        close_unused_engines();
        for (auto& [mm, engine] : cpus_) engine->forget_exited_task();
        kernel_.reap_dead_tasks();
        if (!is_live(current_)) current_ = first_;
        if (r != Cpu::RunEnd::Scheduled) {
            guestos::account_curr(kernel_);  // its run until this stop
            return r;
        }
    }
    if (!finished_) {
        finished_ = true;
        if (guestos::KernelCaches* caches = kernel_.caches(); caches && check_mm_)
            for (auto& p : caches->check_counts()) problems_.push_back(std::move(p));
        kill_remaining_tasks();
        timer_->program(std::nullopt);
        current_ = first_;
    }
    return Cpu::RunEnd::Scheduled;
}

bool Machine::is_live(const guestos::task_struct* t) const {
    if (t == first_) return true;
    for (guestos::task_struct* x : kernel_.all_tasks())
        if (x == t) return true;
    return false;
}

Cpu* Machine::cpu_of(const guestos::task_struct& task) const {
    auto it = cpus_.find(task.mm.get());
    return it == cpus_.end() ? nullptr : it->second.get();
}

void Machine::interrupt() {
    Cpu::interrupt();
    kernel_.idle_wake();  // every task may be asleep, the host waiting for a timer
}

void Machine::set_breakpoint(int tgid, uint64_t address, bool on) {
    if (on) breakpoints_[tgid].insert(address);
    else if (auto it = breakpoints_.find(tgid);
             it != breakpoints_.end() && it->second.erase(address) && it->second.empty())
        breakpoints_.erase(it);
    apply_debug_state();
}

void Machine::set_watchpoints(int tgid, const std::vector<Watchpoint>& watches) {
    if (watches.empty()) watches_.erase(tgid);
    else watches_[tgid] = watches;
    apply_debug_state();
}

void Machine::clear_debug_state(int tgid) {
    if (breakpoints_.erase(tgid) + watches_.erase(tgid)) apply_debug_state();
}

void Machine::apply_debug_state() {
    for (const auto& [mm, cpu] : cpus_) apply_debug_state(*cpu);
}

void Machine::apply_debug_state(Cpu& c) {
    std::set<int> tgids;
    for (guestos::task_struct* t : kernel_.all_tasks())
        if (!t->exited && t->mm.get() == c.mm()) tgids.insert(t->tgid);
    std::map<uint64_t, std::set<int>> owners;
    std::vector<Watchpoint> watches;
    for (int tgid : tgids) {
        if (auto b = breakpoints_.find(tgid); b != breakpoints_.end())
            for (uint64_t a : b->second) owners[a].insert(tgid);
        if (auto w = watches_.find(tgid); w != watches_.end())
            for (const Watchpoint& x : w->second)
                if (std::find(watches.begin(), watches.end(), x) == watches.end()) watches.push_back(x);
    }
    c.set_breakpoints(owners);
    c.set_watchpoints(watches);
}

void Machine::set_syscall_observer(std::function<void(uint64_t)> fn) {
    syscall_observer_ = std::move(fn);
    for (const auto& [mm, cpu] : cpus_) cpu->set_syscall_observer(syscall_observer_);
}

void Machine::set_syscall_entry_observer(std::function<bool(uint64_t)> fn) {
    syscall_entry_observer_ = std::move(fn);
    for (const auto& [mm, cpu] : cpus_) cpu->set_syscall_entry_observer(syscall_entry_observer_);
}

}  // namespace emu
