// Execution control and CPU-side state for debugger front ends (see debugger.h).
#include "emu/debugger.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "emu/cpu.h"
#include "emu/machine.h"
#include "guestos/include/kernel.h"
#include "guestos/include/signal.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/mm/inspect.h"

namespace emu {

const char* stop_reason_name(StopReason r) {
    switch (r) {
    case StopReason::None: return "none";
    case StopReason::Exited: return "exited";
    case StopReason::Paused: return "paused";
    case StopReason::Step: return "step";
    case StopReason::Syscall: return "syscall";
    case StopReason::SyscallEntry: return "syscall entry";
    case StopReason::SyscallReturn: return "syscall return";
    case StopReason::PageFault: return "page fault";
    case StopReason::TlbFill: return "TLB fill";
    case StopReason::Breakpoint: return "breakpoint";
    case StopReason::Signal: return "signal";
    case StopReason::PageTouched: return "page touched";
    case StopReason::Watchpoint: return "watchpoint";
    case StopReason::Fork: return "fork";
    case StopReason::Vfork: return "vfork";
    case StopReason::VforkDone: return "vfork done";
    case StopReason::Exec: return "exec";
    case StopReason::ProcessExited: return "process exited";
    case StopReason::Error: return "error";
    }
    return "?";
}

unsigned fault_filter_of(const guestos::FaultEvent& e) {
    switch (guestos::fault_kind(e)) {
    case guestos::FaultKind::Hidden: return FAULT_TLB_FILL;
    case guestos::FaultKind::Anon: return FAULT_ANON;
    case guestos::FaultKind::File: return FAULT_FILE;
    case guestos::FaultKind::Cow: return FAULT_COW;
    case guestos::FaultKind::Swap: return FAULT_SWAP;
    case guestos::FaultKind::Signal: return FAULT_SIGSEGV;
    case guestos::FaultKind::Other: return FAULT_OTHER;
    }
    return FAULT_OTHER;
}

Debugger::Debugger(guestos::Kernel& kernel, Machine& machine, loader::ElfSymbols symbols)
    : kernel_(kernel), machine_(machine), symbols_(std::move(symbols)) {
    fault_sink_ = guestos::fault_tracer().subscribe([this](const guestos::FaultEvent& e) { on_fault(e); });
    machine_.set_syscall_observer([this](uint64_t nr) { on_syscall(nr); });
    if (guestos::task_struct* t = task()) traced_.insert(t->tgid);
}

Debugger::~Debugger() {
    if (kernel_.tracer == this) kernel_.tracer = nullptr;
    guestos::fault_tracer().unsubscribe(fault_sink_);
    machine_.set_syscall_observer({});
    machine_.set_syscall_entry_observer({});
    detach_all();
}

guestos::task_struct* Debugger::task() const { return machine_.current(); }

Cpu* Debugger::cpu() const {
    guestos::task_struct* t = task();
    return t && !machine_.finished() ? machine_.cpu_of(*t) : nullptr;
}

bool Debugger::exited() const { return machine_.finished() || kernel_.init_exit_status.has_value(); }

void Debugger::pause() {
    pause_ = true;
    machine_.interrupt();
}

int Debugger::current_tgid() const {
    guestos::task_struct* t = task();
    return t ? t->tgid : 0;
}

bool Debugger::current_traced() const { return traced(current_tgid()); }

void Debugger::add_breakpoint(int tgid, uint64_t address) {
    if (breakpoints_[tgid].insert(address).second) machine_.set_breakpoint(tgid, address, true);
}

void Debugger::remove_breakpoint(int tgid, uint64_t address) {
    auto it = breakpoints_.find(tgid);
    if (it == breakpoints_.end() || !it->second.erase(address)) return;
    if (it->second.empty()) breakpoints_.erase(it);
    machine_.set_breakpoint(tgid, address, false);
}

const std::set<uint64_t>& Debugger::breakpoints(int tgid) const {
    static const std::set<uint64_t> none;
    auto it = breakpoints_.find(tgid);
    return it == breakpoints_.end() ? none : it->second;
}

void Debugger::add_watchpoint(int tgid, const Watchpoint& w) {
    auto& ws = watches_[tgid];
    if (std::find(ws.begin(), ws.end(), w) != ws.end()) return;
    ws.push_back(w);
    machine_.set_watchpoints(tgid, ws);
}

void Debugger::remove_watchpoint(int tgid, const Watchpoint& w) {
    auto& ws = watches_[tgid];
    auto it = std::find(ws.begin(), ws.end(), w);
    if (it == ws.end()) return;
    ws.erase(it);
    machine_.set_watchpoints(tgid, ws);
}

const std::vector<Watchpoint>& Debugger::watchpoints(int tgid) const {
    static const std::vector<Watchpoint> none;
    auto it = watches_.find(tgid);
    return it == watches_.end() ? none : it->second;
}

void Debugger::set_events(bool fork, bool vfork, bool exec) {
    fork_events_ = fork;
    vfork_events_ = vfork;
    exec_events_ = exec;
}

std::vector<int> Debugger::processes() const {
    std::vector<int> out(traced_.begin(), traced_.end());
    auto first = std::find(out.begin(), out.end(), kernel_.init_tgid);
    if (first != out.end()) std::rotate(out.begin(), first, first + 1);
    return out;
}

int Debugger::tgid_of(int tid) const {
    guestos::task_struct* t = kernel_.find_task_by_vpid(tid);
    return t && !t->exited ? t->tgid : 0;
}

bool Debugger::held(int tgid) const {
    guestos::task_struct* t = kernel_.find_task_by_vpid(tgid);
    return t && t->signal && t->signal->ptrace_held;
}

void Debugger::hold(int tgid, bool on) {
    if (guestos::task_struct* t = kernel_.find_task_by_vpid(tgid); t && t->signal) t->signal->ptrace_held = on;
}

void Debugger::detach(int tgid) {
    breakpoints_.erase(tgid);
    watches_.erase(tgid);
    machine_.clear_debug_state(tgid);
    release(tgid);
    traced_.erase(tgid);
}

void Debugger::detach_all() {
    for (int tgid : std::set<int>(traced_)) detach(tgid);
    set_signal_stops(false);
    catch_syscalls(false);
}

void Debugger::kill(int tgid) {
    detach(tgid);
    if (guestos::task_struct* t = kernel_.find_task_by_vpid(tgid); t && !t->exited) {
        guestos::kernel_siginfo si{guestos::SIGKILL_, 0, guestos::SI_KERNEL};
        guestos::send_signal_group(*t, si, false);
    }
}

// A traced process forked (ptrace's fork event): the child is traced, held, and inherits
// the parent's breakpoints and watchpoints as it inherits its memory (gdb removes them
// before detaching it).
void Debugger::fork_event(guestos::task_struct& parent, guestos::task_struct& child, bool vfork) {
    if (!traced(parent.tgid) || !(vfork ? vfork_events_ : fork_events_)) return;
    traced_.insert(child.tgid);
    child.signal->ptrace_held = true;
    for (uint64_t a : std::set<uint64_t>(breakpoints(parent.tgid))) add_breakpoint(child.tgid, a);
    for (const Watchpoint& w : std::vector<Watchpoint>(watchpoints(parent.tgid))) add_watchpoint(child.tgid, w);
    Stop s = make_stop(vfork ? StopReason::Vfork : StopReason::Fork,
                       (vfork ? "vfork: child " : "fork: child ") + std::to_string(child.pid));
    s.pid = parent.pid;
    s.child_pid = child.pid;
    post(s);
}

void Debugger::vfork_done(guestos::task_struct& parent, int child_pid) {
    if (!traced(parent.tgid) || !vfork_events_) return;
    Stop s = make_stop(StopReason::VforkDone, "vfork done: child " + std::to_string(child_pid));
    s.pid = parent.pid;
    post(s);
}

// A traced process runs a new program: the old program's breakpoints mean nothing there.
void Debugger::exec_event(guestos::task_struct& task) {
    if (!traced(task.tgid)) return;
    breakpoints_.erase(task.tgid);
    watches_.erase(task.tgid);
    machine_.clear_debug_state(task.tgid);
    if (!exec_events_) return;
    Stop s = make_stop(StopReason::Exec, "exec " + task.exe_path);
    s.pid = task.pid;
    if (task.start_regs) s.pc = task.start_regs->ip;
    post(s);
}

void Debugger::exit_event(int tgid, int status) {
    if (!traced(tgid) || tgid == kernel_.init_tgid || !machine_.running()) return;
    detach(tgid);
    Stop s = make_stop(StopReason::ProcessExited, "process " + std::to_string(tgid) + " exited");
    s.pid = tgid;
    s.status = status;
    post(s);
}

void Debugger::post(Stop s) {
    if (pending_) {
        deferred_.push_back(std::move(s));
        return;
    }
    pending_ = std::move(s);
    if (Cpu* c = machine_.running()) c->request_stop();
}

void Debugger::watch_page(std::optional<VirtAddr> va) {
    watch_ = va ? std::optional(va->page_base()) : std::nullopt;
    Cpu* c = cpu();
    // Dropping the shadow entry makes the next access miss: a hidden fault the sink sees.
    if (watch_ && c) c->tlb().flush_tlb_page(*watch_);
}

// A fault from the stream: record it, and ask the CPU to stop when the run wants it.
void Debugger::on_fault(const guestos::FaultEvent& e) {
    const unsigned cls = fault_filter_of(e);
    if (cls != FAULT_TLB_FILL) ++true_faults_;
    if (cls != FAULT_TLB_FILL || record_hidden_) {
        if (faults_.size() >= history_limit) faults_.erase(faults_.begin(), faults_.begin() + history_limit / 10);
        faults_.push_back(e);
    }
    if (pending_) return;  // the first event of a run decides
    Cpu* c = cpu();
    if (!c) return;
    if (watch_ && e.address.page_base() == *watch_) {
        pending_ = make_stop(StopReason::PageTouched,
                             "page " + guestos::hex(watch_->value) + " touched at " + guestos::hex(e.address.value));
        pending_->fault = e;
        watch_.reset();
    } else if (cls & stop_faults_) {
        pending_ = make_stop(cls == FAULT_TLB_FILL ? StopReason::TlbFill : StopReason::PageFault,
                             "fault at " + guestos::hex(e.address.value) + ": " + e.outcome);
        pending_->fault = e;
    } else {
        return;
    }
    c->request_stop();
}

void Debugger::set_signal_stops(bool on) {
    signal_stops_ = on;
    kernel_.tracer = on ? this : nullptr;
}

// ptrace_signal: the run ends here, the signal waits in task.last_siginfo.
bool Debugger::signal_stop(guestos::task_struct& task, const guestos::kernel_siginfo& info) {
    if (!signal_stops_ || !traced(task.tgid) || (pass_signals_ >> (info.si_signo - 1) & 1)) return false;
    if (!pending_) {
        pending_ = make_stop(StopReason::Signal, std::string("signal SIG") + sigabbrev_np(info.si_signo));
        pending_->signo = info.si_signo;
        pending_->pid = task.pid;
    }
    if (Cpu* c = machine_.cpu_of(task)) c->request_stop();
    return true;
}

void Debugger::resume_signal(int signo) {
    guestos::task_struct* t = task();
    if (!t || t->exited) return;
    t->ptrace_resume_signal.reset();
    if (signo <= 0 || signo > guestos::KERNEL_NSIG) return;
    guestos::kernel_siginfo si{signo, 0, guestos::SI_USER};
    if (t->last_siginfo && t->last_siginfo->si_signo == signo) si = *t->last_siginfo;
    t->ptrace_resume_signal = si;
}

std::optional<guestos::kernel_siginfo> Debugger::stop_siginfo() const {
    guestos::task_struct* t = task();
    if (!t || last_.reason != StopReason::Signal) return std::nullopt;
    return t->last_siginfo;
}

// At a syscall-entry stop the task waits before its syscall instruction; it reads as
// Linux's entry stop does: ip past the instruction, ax -ENOSYS, orig_ax the number.
bool Debugger::get_regs(guestos::pt_regs& regs) const {
    guestos::task_struct* t = task();
    if (t && !t->exited && t->start_regs) {  // not yet run: a fork child, or just exec'd
        regs = *t->start_regs;
        return true;
    }
    Cpu* c = cpu();
    if (!c) return false;
    c->get_regs(regs);
    if (last_.reason == StopReason::SyscallEntry) {
        const bool is64 = c->is64();
        regs.ip += 2;
        regs.orig_ax = regs.ax;
        regs.ax = is64 ? static_cast<uint64_t>(-ENOSYS) : static_cast<uint32_t>(-ENOSYS);
    }
    return true;
}

bool Debugger::set_regs(const guestos::pt_regs& regs) {
    guestos::task_struct* t = task();
    if (t && !t->exited && t->start_regs) {
        *t->start_regs = regs;
        return true;
    }
    Cpu* c = cpu();
    if (!c) return false;
    guestos::pt_regs r = regs;
    if (last_.reason == StopReason::SyscallEntry) {
        r.ip -= 2;  // back on the instruction, which runs the syscall orig_ax names
        r.ax = r.orig_ax;
    }
    c->set_regs(r);
    return true;
}

std::pair<guestos::task_struct*, Cpu*> Debugger::live_thread(int tid) const {
    guestos::task_struct* t = kernel_.find_task_by_vpid(tid);
    Cpu* c = t && !t->exited && !machine_.finished() ? machine_.cpu_of(*t) : nullptr;
    return {c ? t : nullptr, c};
}

bool Debugger::get_thread_regs(int tid, guestos::pt_regs& regs) const {
    if (guestos::task_struct* cur = task(); cur && cur->pid == tid) return get_regs(regs);
    guestos::task_struct* t = kernel_.find_task_by_vpid(tid);
    if (t && !t->exited && !machine_.finished() && t->start_regs) {
        regs = *t->start_regs;
        return true;
    }
    auto [lt, c] = live_thread(tid);
    return c && c->get_task_regs(*lt, regs);
}

bool Debugger::set_thread_regs(int tid, const guestos::pt_regs& regs) {
    if (guestos::task_struct* cur = task(); cur && cur->pid == tid) return set_regs(regs);
    guestos::task_struct* t = kernel_.find_task_by_vpid(tid);
    if (t && !t->exited && !machine_.finished() && t->start_regs) {
        *t->start_regs = regs;
        return true;
    }
    auto [lt, c] = live_thread(tid);
    return c && c->set_task_regs(*lt, regs);
}

std::vector<int> Debugger::threads(int tgid) const {
    std::vector<int> tids;
    if (!tgid || exited()) return tids;
    for (guestos::task_struct* t : kernel_.all_tasks())
        if (t->tgid == tgid && !t->exited) tids.push_back(t->pid);
    std::sort(tids.begin(), tids.end());
    return tids;
}

std::optional<int> Debugger::exit_status() const { return kernel_.init_exit_status; }

void Debugger::on_syscall(uint64_t nr) {
    ++syscalls_;
    if (step_tid_ && !pending_ && task() && task()->pid == step_tid_) {  // step_thread's sleeper returned
        pending_ = make_stop(StopReason::Step);
        if (Cpu* c = cpu()) c->request_stop();
        return;
    }
    if (pending_ || !(stop_syscall_ || (catches(nr) && current_traced()))) return;
    pending_ =
        make_stop(stop_syscall_ ? StopReason::Syscall : StopReason::SyscallReturn, "syscall " + std::to_string(nr));
    pending_->syscall_nr = nr;
    if (Cpu* c = cpu()) c->request_stop();
}

// Before a syscall runs: the Cpu stops with the task at its instruction when this is true.
bool Debugger::on_syscall_entry(uint64_t nr) {
    if (pending_ || !catches(nr) || !current_traced()) return false;
    pending_ = make_stop(StopReason::SyscallEntry, "syscall " + std::to_string(nr) + " entry");
    pending_->syscall_nr = nr;
    return true;
}

void Debugger::catch_syscalls(bool on, std::set<uint64_t> nrs) {
    catch_syscalls_ = on;
    catch_nrs_ = std::move(nrs);
    if (on) machine_.set_syscall_entry_observer([this](uint64_t nr) { return on_syscall_entry(nr); });
    else machine_.set_syscall_entry_observer({});
}

Stop Debugger::make_stop(StopReason r, std::string detail) {
    Stop s;
    s.reason = r;
    s.detail = std::move(detail);
    if (guestos::task_struct* t = task()) s.pid = t->pid;
    return s;
}

namespace {

// How the first program ended, from its wait status.
std::string exit_detail(int status) {
    if (const int sig = status & 0x7f) return std::string("killed by SIG") + sigabbrev_np(sig);
    return "exit status " + std::to_string((status >> 8) & 0xff);
}

}  // namespace

Stop Debugger::run(uint64_t max_insns) {
    pending_.reset();
    Stop stop;
    if (!deferred_.empty() && !exited()) {  // an event of the last run, not yet reported
        stop = deferred_.front();
        deferred_.pop_front();
    } else if (exited()) {
        stop = last_.reason == StopReason::Exited
                   ? last_
                   : make_stop(StopReason::Exited, exit_detail(kernel_.init_exit_status.value_or(0)));
    } else {
        auto r = machine_.run_until_stop(max_insns);
        if (r.is_error()) {
            stop = make_stop(StopReason::Error, r.error().message);
        } else if (exited()) {
            stop = make_stop(StopReason::Exited, exit_detail(kernel_.init_exit_status.value_or(0)));
        } else if (pending_) {
            stop = *pending_;
        } else if (r.value() == Cpu::RunEnd::Breakpoint) {
            stop = make_stop(StopReason::Breakpoint);
        } else if (Cpu* c = cpu(); r.value() == Cpu::RunEnd::Watchpoint && c) {
            stop = make_stop(StopReason::Watchpoint);
            stop.watch = c->take_watch_hit();
            if (stop.watch) stop.detail = "watchpoint: " + guestos::hex(stop.watch->data_address);
        } else if (r.value() == Cpu::RunEnd::Counted) {
            stop = make_stop(StopReason::Step);
        } else {
            stop = make_stop(StopReason::Paused, "paused");
        }
        if (stop.reason == StopReason::Exec || stop.reason == StopReason::ProcessExited) {
        } else if (Cpu* c = cpu()) {
            stop.pc = c->pc();
        }
        if (stop.reason == StopReason::Breakpoint) stop.detail = "breakpoint at " + guestos::hex(stop.pc);
    }
    pending_.reset();
    stop_faults_ = 0;
    stop_syscall_ = false;
    pause_ = false;
    last_ = stop;
    return stop;
}

Stop Debugger::cont() {
    // Resuming at a breakpoint: run its instruction first, or it would stop at once.
    if (Cpu* c = cpu(); c && !exited() && breakpoints().count(c->pc())) {
        Stop s = step_instruction();
        if (s.reason != StopReason::Step) return s;
    }
    stop_faults_ = 0;
    return run(0);
}

Stop Debugger::step_instruction() {
    if (exited()) return run(0);
    return step_from(task());
}

// Steps t, the task that runs next.
Stop Debugger::step_from(guestos::task_struct* t) {
    // t runs next with a fresh slice: a timeslice that ended while gdb looked must not hand
    // the one instruction to another thread (gdb asserts on a step reported by another).
    if (t) (void)guestos::sched_run_next(kernel_, *t);
    guestos::pt_regs r{};
    uint64_t from = 0;
    if (Cpu* c = cpu(); t && t == task() && c && !t->start_regs) from = c->pc();  // not as an entry stop reads
    else if (t && get_thread_regs(t->pid, r)) from = r.ip;
    if (Cpu* c = t ? machine_.cpu_of(*t) : nullptr) c->skip_breakpoint_once(from);
    Stop s;
    // A step that only took a fault re-runs the instruction (a few tries: a fault on the fetch
    // and one on the data access).
    for (int tries = 0; tries < 4; ++tries) {
        s = run(1);
        if (s.reason != StopReason::Step || s.pc != from) break;
    }
    return s;
}

Stop Debugger::step_thread(int tid) {
    guestos::task_struct* t = kernel_.find_task_by_vpid(tid);
    if (exited() || !t || t->exited || t == task() || !traced(t->tgid)) return step_instruction();
    release(t->tgid);
    if (guestos::sched_run_next(kernel_, *t)) return step_from(t);
    // It sleeps in a syscall: the step ends when that syscall has returned.
    step_tid_ = tid;
    Stop s = cont();
    step_tid_ = 0;
    return s;
}

Stop Debugger::step_to_syscall() {
    stop_syscall_ = true;
    return cont();
}

Stop Debugger::step_to_fault(unsigned filter) {
    if (Cpu* c = cpu(); c && !exited() && breakpoints().count(c->pc())) {
        stop_faults_ = filter;
        Stop s = step_instruction();
        if (s.reason != StopReason::Step) return s;
    }
    stop_faults_ = filter;
    return run(0);
}

Stop Debugger::run_to(uint64_t address) {
    const bool had = breakpoints().count(address);
    add_breakpoint(address);
    Stop s = cont();
    if (!had) remove_breakpoint(address);
    return s;
}

Registers Debugger::registers() const {
    Registers r;
    guestos::task_struct* t = task();
    Cpu* c = cpu();
    if (!t || !c) return r;
    guestos::pt_regs p{};
    c->get_regs(p);
    r.is64 = c->is64();
    if (r.is64) {
        r.gpr = {{"rax", p.ax},  {"rbx", p.bx},  {"rcx", p.cx},  {"rdx", p.dx},  {"rsi", p.si},  {"rdi", p.di},
                 {"rbp", p.bp},  {"rsp", p.sp},  {"r8", p.r8},   {"r9", p.r9},   {"r10", p.r10}, {"r11", p.r11},
                 {"r12", p.r12}, {"r13", p.r13}, {"r14", p.r14}, {"r15", p.r15}, {"rip", p.ip}};
    } else {
        r.gpr = {{"eax", p.ax}, {"ebx", p.bx}, {"ecx", p.cx}, {"edx", p.dx}, {"esi", p.si},
                 {"edi", p.di}, {"ebp", p.bp}, {"esp", p.sp}, {"eip", p.ip}};
    }
    r.flags = p.flags;
    static constexpr std::pair<unsigned, const char*> names[] = {{0, "CF"}, {2, "PF"}, {4, "AF"},  {6, "ZF"}, {7, "SF"},
                                                                 {8, "TF"}, {9, "IF"}, {10, "DF"}, {11, "OF"}};
    for (auto [bit, name] : names)
        if (p.flags & (1ull << bit)) r.flag_names += (r.flag_names.empty() ? "" : " ") + std::string(name);
    r.fs_base = p.fs_base, r.gs_base = p.gs_base;
    r.cs = p.cs, r.ss = p.ss, r.ds = p.ds, r.es = p.es, r.fs = p.fs, r.gs = p.gs;
    return r;
}

namespace {

// Decodes instructions from code (read at base) and returns them while they fit.
std::vector<cs_insn> decode(const std::vector<uint8_t>& code, uint64_t base, bool is64) {
    std::vector<cs_insn> out;
    csh h;
    if (cs_open(CS_ARCH_X86, is64 ? CS_MODE_64 : CS_MODE_32, &h) != CS_ERR_OK) return out;
    cs_insn* insn = nullptr;
    const size_t n = cs_disasm(h, code.data(), code.size(), base, 0, &insn);
    out.assign(insn, insn + n);
    cs_free(insn, n);
    cs_close(&h);
    return out;
}

// Reads up to n bytes of code at va, stopping at the first unmapped page.
std::vector<uint8_t> read_code(const guestos::mm_struct& mm, uint64_t va, uint64_t n) {
    std::vector<uint8_t> code;
    for (uint64_t at = va; at < va + n;) {
        const uint64_t chunk = std::min<uint64_t>(va + n - at, mmu::PAGE_SIZE - (at & (mmu::PAGE_SIZE - 1)));
        const size_t old = code.size();
        code.resize(old + chunk);
        if (!guestos::inspect::read_virtual(mm, VirtAddr(at), code.data() + old, chunk)) {
            code.resize(old);
            break;
        }
        at += chunk;
    }
    return code;
}

}  // namespace

std::vector<DisasmLine> Debugger::disassemble(uint64_t address, int before, int after) const {
    std::vector<DisasmLine> out;
    guestos::task_struct* t = task();
    Cpu* c = cpu();
    if (!t || !t->mm || !c) return out;
    const bool is64 = c->is64();
    // Decode forward from a few starts before address; take the first whose instructions
    // land exactly on it (x86 has no way to decode backwards).
    std::vector<cs_insn> prefix;
    for (uint64_t back = 15ull * before; back >= 1 && before > 0; --back) {
        if (back > address) continue;
        auto code = read_code(*t->mm, address - back, back);
        if (code.size() != back) continue;
        auto insns = decode(code, address - back, is64);
        uint64_t end = insns.empty() ? 0 : insns.back().address + insns.back().size;
        if (end == address && static_cast<int>(insns.size()) >= before) {
            prefix.assign(insns.end() - before, insns.end());
            break;
        }
    }
    auto code = read_code(*t->mm, address, 15ull * after);
    auto rest = decode(code, address, is64);
    if (static_cast<int>(rest.size()) > after) rest.resize(after);
    prefix.insert(prefix.end(), rest.begin(), rest.end());
    std::string last_sym;
    for (const cs_insn& i : prefix) {
        DisasmLine l;
        l.address = i.address;
        char hexb[4];
        for (unsigned k = 0; k < i.size; ++k) {
            std::snprintf(hexb, sizeof hexb, "%02x", i.bytes[k]);
            l.bytes += hexb;
        }
        l.text = std::string(i.mnemonic) + (i.op_str[0] ? " " : "") + i.op_str;
        std::string sym = symbols_.describe(i.address);
        const std::string base = sym.substr(0, sym.find('+'));
        if (base != last_sym || sym.find('+') == std::string::npos) l.symbol = sym;
        last_sym = base;
        out.push_back(std::move(l));
    }
    return out;
}

std::optional<TlbEntry> Debugger::tlb_entry(VirtAddr va) const {
    Cpu* c = cpu();
    if (!c) return std::nullopt;
    auto e = c->shadow().lookup(va.page_base());
    if (!e) return std::nullopt;
    return TlbEntry{va.page_base(), e->frame.pfn(), e->perm.writable, e->perm.user, e->perm.executable};
}

std::vector<TlbEntry> Debugger::tlb_entries(size_t max) const {
    std::vector<TlbEntry> out;
    Cpu* c = cpu();
    if (!c) return out;
    guestos::task_struct* t = task();
    const uint64_t user_top = c->is64() ? (1ull << 47) : (t && t->mm ? t->mm->task_size : 0xc0000000ull);
    c->shadow().for_each_present(
        VirtAddr(0), VirtAddr(user_top), [&](VirtAddr va, const mmu::ShadowPageTables::Entry& e) {
            if (out.size() < max) out.push_back({va, e.frame.pfn(), e.perm.writable, e.perm.user, e.perm.executable});
        });
    return out;
}

TlbStats Debugger::tlb_stats() const {
    Cpu* c = cpu();
    return c ? c->tlb_stats() : TlbStats{};
}

}  // namespace emu
