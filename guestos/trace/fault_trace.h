// The fault event stream: each page fault, the Linux call path it took, and what it did to
// the PTE. --trace-faults and --explain-faults print it; the debugger view subscribes to it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mmu/types.h"

namespace guestos {

// One step of a fault's path as data: the Linux function that ran, its arguments, what it
// worked on and what it returned or did. Printers choose what to show; text() is the line
// --explain-faults prints: "fn(args) (about) -> result", or "about -> result" for a step
// that is no function call (a remark such as the shadow TLB's work).
struct FaultStep {
    std::string fn;      // "do_anonymous_page", "alloc_page", ... ("" for a remark)
    std::string args;    // "GFP_HIGHUSER_MOVABLE"
    std::string about;   // "file page 3"
    std::string result;  // "pfn 0x1234"
    std::string text() const;
};

struct FaultEvent {
    uint64_t seq = 0;
    mmu::VirtAddr address;
    uint32_t error_code = 0;  // x86 #PF error code (user, write, fetch, protection)
    uint64_t ip = 0;
    std::string insn;             // the faulting instruction, disassembled
    bool hidden = false;          // resolved by the shadow TLB alone (a fill or a dirty upgrade)
    std::string vma;              // the VMA as /proc/PID/maps shows it, or "none"
    std::vector<FaultStep> path;  // Linux's functions, in call order, with their results
    std::string outcome;          // "mapped", "SIGSEGV (SEGV_MAPERR)", ...
    uint64_t pte_before = 0, pte_after = 0;
    int pid = 0;  // the faulting task, when more than one exists (printers prefix "[pid N] ")
};

// The words for an error code: "write, user, page not present".
std::string describe_error_code(uint32_t error_code);

class FaultTracer {
public:
    using Sink = std::function<void(const FaultEvent&)>;
    // Adds a sink; the returned id removes it again.
    uint64_t subscribe(Sink sink) {
        sinks_.emplace_back(++last_id_, std::move(sink));
        return last_id_;
    }
    void unsubscribe(uint64_t id) {
        std::erase_if(sinks_, [id](const auto& s) { return s.first == id; });
    }
    void unsubscribe_all() { sinks_.clear(); }
    bool active() const { return !sinks_.empty(); }
    // Starts an event; steps and the outcome go to it until end() publishes it.
    FaultEvent* begin(mmu::VirtAddr address, uint32_t error_code, uint64_t ip);
    FaultEvent* current() { return open_ ? &event_ : nullptr; }
    void step(FaultStep s) {
        if (open_) event_.path.push_back(std::move(s));
    }
    void end();

private:
    std::vector<std::pair<uint64_t, Sink>> sinks_;
    uint64_t last_id_ = 0;
    FaultEvent event_;
    bool open_ = false;
    uint64_t seq_ = 0;
};

// What a fault did, as a debugger filters faults: resolved by the shadow TLB alone, a new
// anonymous page (or the zero page), a file or shmem page, a copy-on-write break, a swap-in,
// a fault that ended in a signal, or none of these (read from the event's path).
enum class FaultKind { Hidden, Anon, File, Cow, Swap, Signal, Other };
FaultKind fault_kind(const FaultEvent& e);

// The tracer of this emulated machine (one, like Linux's tracepoints).
FaultTracer& fault_tracer();
// Appends a step of Linux function fn to the fault being traced, if any; describe(step)
// fills in its arguments and results only then (cheap when nobody listens).
template <class F>
void trace_fault_step(const char* fn, F describe) {
    FaultTracer& t = fault_tracer();
    if (!t.current()) return;
    FaultStep s{fn, {}, {}, {}};
    describe(s);
    t.step(std::move(s));
}
inline void trace_fault_step(const char* fn) {
    trace_fault_step(fn, [](FaultStep&) {});
}

// 0x-prefixed hex, "0" for zero, as strace and the fault trace print addresses and PTEs.
std::string hex(uint64_t v);

}  // namespace guestos
