// JSON lines of counters and faults (see record.h).
#include "ui/record.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>

#include "base/format.h"
#include "guestos/include/kernel.h"
#include "ui/model.h"
#include "ui/snapshot.h"

namespace ui {

std::unique_ptr<Recorder> Recorder::open(const std::string& path, std::string& error) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
        error = "--record " + path + ": " + std::strerror(errno);
        return nullptr;
    }
    return std::unique_ptr<Recorder>(new Recorder(f));
}

Recorder::~Recorder() {
    if (sink_) guestos::fault_tracer().unsubscribe(sink_);
    std::fclose(f_);
}

double Recorder::now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Recorder::follow(guestos::Kernel* kernel, unsigned counters_every) {
    kernel_ = kernel;
    every_ = counters_every ? counters_every : 1;
    sink_ = guestos::fault_tracer().subscribe([this](const guestos::FaultEvent& e) {
        if (e.hidden) return;
        fault(e);
        if (faults_ % every_ == 1 && kernel_) counters(guestos::inspect::mem_counters(*kernel_), faults_);
    });
}

void Recorder::fault(const guestos::FaultEvent& e) {
    ++faults_;
    nlohmann::json path = nlohmann::json::array();
    for (const guestos::FaultStep& step : e.path)
        path.push_back({{"fn", step.fn}, {"args", step.args}, {"about", step.about}, {"result", step.result}});
    nlohmann::json j = {{"t", now()},
                        {"type", "fault"},
                        {"seq", e.seq},
                        {"address", base::hex(e.address.value)},
                        {"ip", base::hex(e.ip)},
                        {"access", guestos::describe_error_code(e.error_code)},
                        {"kind", fault_class_name(e)},
                        {"outcome", e.outcome},
                        {"path", path}};
    std::fprintf(f_, "%s\n", j.dump().c_str());
}

void Recorder::counters(const guestos::inspect::MemCounters& c, uint64_t faults) {
    const uint64_t kb = 4;
    nlohmann::json j = {{"t", now()},
                        {"type", "counters"},
                        {"MemTotal", c.total * kb},
                        {"MemFree", c.free * kb},
                        {"Cached", c.cached * kb},
                        {"AnonPages", c.anon * kb},
                        {"Slab", c.slab * kb},
                        {"PageTables", c.page_tables * kb},
                        {"KernelStack", c.kernel_stack * kb},
                        {"VmallocUsed", c.vmalloc * kb},
                        {"Shmem", c.shmem * kb},
                        {"Dirty", c.dirty * kb},
                        {"HighTotal", c.high_total * kb},
                        {"HighFree", c.high_free * kb},
                        {"SwapTotal", c.swap_total * kb},
                        {"SwapFree", c.swap_free * kb},
                        {"SwapUsed", (c.swap_total - c.swap_free) * kb},
                        {"SwapCached", c.swapcache * kb},
                        {"pgfault", c.pgfault},
                        {"pgmajfault", c.pgmajfault},
                        {"faults", faults}};
    std::fprintf(f_, "%s\n", j.dump().c_str());
    std::fflush(f_);
}

void Recorder::sample(const Snapshot& s) { counters(s.mem, s.total_faults); }

void Recorder::finish() {
    if (kernel_) counters(guestos::inspect::mem_counters(*kernel_), faults_);
    std::fflush(f_);
}

}  // namespace ui
