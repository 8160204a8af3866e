#include "guestos/trace/fault_trace.h"

#include <algorithm>
#include <cstdio>

#include "base/format.h"

namespace guestos {

std::string hex(uint64_t v) { return base::hex_alt(v); }

std::string describe_error_code(uint32_t ec) {
    std::string s = (ec & 0x10) ? "fetch" : (ec & 0x2) ? "write" : "read";
    s += (ec & 0x4) ? ", user" : ", kernel";
    s += (ec & 0x1) ? ", protection" : ", page not present";
    if (ec & 0x8) s += ", reserved bit";
    return s;
}

std::string FaultStep::text() const {
    std::string s = fn;
    if (!args.empty()) s += "(" + args + ")";
    if (!about.empty()) s += fn.empty() ? about : " (" + about + ")";
    if (!result.empty()) s += (s.empty() ? "" : " -> ") + result;
    return s;
}

FaultEvent* FaultTracer::begin(mmu::VirtAddr address, uint32_t error_code, uint64_t ip) {
    if (sinks_.empty()) return nullptr;
    event_ = FaultEvent{};
    event_.seq = ++seq_;
    event_.address = address;
    event_.error_code = error_code;
    event_.ip = ip;
    open_ = true;
    return &event_;
}

void FaultTracer::end() {
    if (!open_) return;
    open_ = false;
    for (auto& s : sinks_) s.second(event_);
}

FaultKind fault_kind(const FaultEvent& e) {
    if (e.hidden) return FaultKind::Hidden;
    if (e.outcome.rfind("SIG", 0) == 0) return FaultKind::Signal;
    // The handler that did the work, by its Linux name (memory.cpp's steps).
    auto took = [&](const char* fn) {
        return std::any_of(e.path.begin(), e.path.end(), [fn](const FaultStep& s) { return s.fn == fn; });
    };
    if (took("do_swap_page")) return FaultKind::Swap;
    if (took("do_wp_page")) return FaultKind::Cow;
    if (took("do_anonymous_page")) return FaultKind::Anon;
    if (took("do_read_fault") || took("do_cow_fault") || took("do_shared_fault") || took("filemap_fault") ||
        took("shmem_fault"))
        return FaultKind::File;
    return FaultKind::Other;
}

FaultTracer& fault_tracer() {
    static FaultTracer tracer;
    return tracer;
}

}  // namespace guestos
