#include "guestos/trace/fault_trace.h"

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
    for (auto& s : sinks_) s(event_);
}

FaultTracer& fault_tracer() {
    static FaultTracer tracer;
    return tracer;
}

}  // namespace guestos
