// The machine behind the debugger view and the snapshots it draws.
#include "ui/session.h"

#include <algorithm>

#include "loader/elf.h"
#include "ui/record.h"

namespace ui {

using mmu::PhysAddr;
using mmu::VirtAddr;

std::string describe(const Command& c) {
    switch (c.kind) {
    case Command::Continue: return "continue";
    case Command::Step:
        return c.count == 1 ? "step one instruction" : "step " + std::to_string(c.count) + " instructions";
    case Command::StepSyscall: return "step to the next syscall";
    case Command::StepFault:
        return c.filter & emu::FAULT_TLB_FILL ? "step to the next fault or TLB fill" : "step to the next fault";
    case Command::RunTo: return "run to " + guestos::hex(c.address);
    case Command::WatchPage: return "run until page " + guestos::hex(c.address & ~0xfffull) + " is touched";
    }
    return "";
}

mmu::ErrorOr<std::unique_ptr<Session>> Session::create(const SessionConfig& cfg) {
    std::unique_ptr<Session> s(new Session(cfg));
    s->kernel_ = std::make_unique<guestos::Kernel>(cfg.kernel);
    TRY(s->kernel_->boot());
    s->task_ = std::make_unique<guestos::task_struct>();
    s->kernel_->init_task(*s->task_);
    auto exec = TRY(s->kernel_->exec(*s->task_, cfg.argv.at(0), cfg.argv, cfg.envp));
    s->machine_ = std::make_unique<emu::Machine>(*s->kernel_, cfg.cpu);
    s->machine_->start(*s->task_, exec);
    std::vector<uint8_t> contents;
    loader::ElfSymbols syms;
    if (auto elf = loader::load_elf_file(cfg.argv[0], contents); !elf.is_error())
        syms = loader::ElfSymbols::parse(contents);
    s->dbg_ = std::make_unique<emu::Debugger>(*s->kernel_, *s->machine_, std::move(syms));
    s->dbg_->run_to(exec.entry);  // the first stop: the entry point, nothing run yet
    return s;
}

Session::~Session() {
    dbg_.reset();  // unsubscribes before the machine and kernel go
    machine_.reset();
}

emu::Stop Session::execute(const Command& c) {
    if (dbg_->exited()) return dbg_->last_stop();
    ran_ = true;
    emu::Stop stop;
    switch (c.kind) {
    case Command::Continue: return dbg_->cont();
    case Command::RunTo: return dbg_->run_to(c.address);
    case Command::WatchPage: dbg_->watch_page(VirtAddr(c.address)); return dbg_->cont();
    case Command::Step:
        for (uint64_t i = 0; i < std::max<uint64_t>(c.count, 1); ++i)
            if ((stop = dbg_->step_instruction()).reason != emu::StopReason::Step) break;
        return stop;
    case Command::StepSyscall:
        for (uint64_t i = 0; i < std::max<uint64_t>(c.count, 1); ++i)
            if ((stop = dbg_->step_to_syscall()).reason != emu::StopReason::Syscall) break;
        return stop;
    case Command::StepFault:
        for (uint64_t i = 0; i < std::max<uint64_t>(c.count, 1); ++i) {
            stop = dbg_->step_to_fault(c.filter);
            if (stop.reason != emu::StopReason::PageFault && stop.reason != emu::StopReason::TlbFill) break;
        }
        return stop;
    }
    return stop;
}

void Session::fill_cpu(Snapshot& s) {
    s.regs = dbg_->registers();
    const uint64_t pc = s.stop.pc;
    if (!s.exited) s.disasm = dbg_->disassemble(pc, 3, 12);
    s.tlb = dbg_->tlb_stats();
    if (s.sel.wants("tlb")) s.tlb_entries = dbg_->tlb_entries(Snapshot::max_tlb_entries);
    s.tlb_present = s.tlb_entries.size();
    const auto& all = dbg_->faults();
    const size_t first = all.size() > Snapshot::max_faults ? all.size() - Snapshot::max_faults : 0;
    s.faults.assign(all.begin() + static_cast<long>(first), all.end());
    s.total_faults = dbg_->true_faults();
}

const guestos::task_struct& Session::shown_task(const Selection& sel) {
    if (sel.pid)
        if (const guestos::task_struct* t = kernel_->find_task_by_vpid(*sel.pid); t && t->mm) return *t;
    return task();
}

void Session::fill_memory(Snapshot& s) {
    const guestos::BuddyAllocator* buddy = kernel_->buddy();
    s.tasks = inspect::tasks(*kernel_);
    const guestos::task_struct& shown = shown_task(s.sel);
    s.shown_pid = shown.pid;
    if (const guestos::mm_struct* mm = shown.mm.get()) {
        if (s.sel.wants("vmas")) s.vmas = inspect::vmas(*mm);
        s.task_size = mm->task_size, s.mmap_base = mm->mmap_base, s.start_brk = mm->start_brk;
        s.brk = mm->brk, s.start_stack = mm->start_stack;
    }
    if (!buddy) return;
    inspect::frame_map(*buddy, kernel_->zero_page(), s.frames);
    // What changed since the previous stop: a snapshot taken again at the same stop (a new
    // selection) keeps the last difference.
    if (ran_ && prev_frames_.use.size() == s.frames.use.size())
        for (uint64_t pfn = 0; pfn < s.frames.use.size() && s.changed_frames.size() < 100000; ++pfn)
            if (prev_frames_.use[pfn] != s.frames.use[pfn]) s.changed_frames.push_back(pfn);
    if (ran_ || prev_frames_.use.empty()) {
        prev_frames_ = s.frames;
        last_changed_ = s.changed_frames;
    } else {
        s.changed_frames = last_changed_;
    }
    // The detail panels' tables, only the one in front's.
    if (s.sel.wants("buddy")) s.buddy = inspect::buddy_zones(*buddy);
    if (const guestos::SlabAllocator* slab = kernel_->slab(); slab && s.sel.wants("slab"))
        s.slabs = inspect::slab_caches(*slab);
    if (s.sel.wants("pagecache")) s.files = inspect::page_cache(*buddy);
    s.mem = inspect::mem_counters(*kernel_);
    s.reclaim = inspect::reclaim_info(*buddy);
    if (ran_ || history_.empty()) history_.push_back({s.mem, s.total_faults});
    while (history_.size() > Snapshot::max_history) history_.pop_front();
    s.history = history_;
}

void Session::fill_selection(Snapshot& s) {
    const guestos::BuddyAllocator* buddy = kernel_->buddy();
    const guestos::mm_struct* mm = shown_task(s.sel).mm.get();
    if (s.sel.va && mm) {
        s.walk = inspect::page_walk(*mm, VirtAddr(*s.sel.va));
        // The shadow TLB holds the running task's address space only.
        if (mm == task().mm.get()) s.walk_tlb = dbg_->tlb_entry(VirtAddr(*s.sel.va));
    }
    if (!s.sel.pfn || !buddy || *s.sel.pfn >= buddy->max_pfn()) return;
    const uint64_t pfn = *s.sel.pfn;
    s.page = inspect::page_info(*buddy, kernel_->zero_page(), pfn);
    s.rmap = inspect::page_rmap(*buddy, pfn);
    const uint8_t* bytes = kernel_->ram().host(PhysAddr::from_pfn(pfn), mmu::PAGE_SIZE);
    s.frame_bytes.assign(bytes, bytes + mmu::PAGE_SIZE);
    if (prev_bytes_pfn_ == pfn) s.frame_bytes_prev = prev_bytes_;
    prev_bytes_pfn_ = pfn;
    prev_bytes_ = s.frame_bytes;
}

Snapshot Session::snapshot(const Selection& sel, bool running) {
    Snapshot s;
    s.generation = ++generation_;
    s.stop = dbg_->last_stop();
    s.running = running;
    s.exited = dbg_->exited();
    s.program = cfg_.argv.empty() ? "" : cfg_.argv[0];
    s.lesson_note = cfg_.lesson_note;
    s.pid = task().pid;
    s.sel = sel;
    fill_cpu(s);
    fill_memory(s);
    fill_selection(s);
    if (cfg_.recorder && ran_) cfg_.recorder->sample(s);
    ran_ = false;
    return s;
}

}  // namespace ui
