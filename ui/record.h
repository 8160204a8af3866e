// --record FILE: the memory counters and the fault events over time, as JSON lines
// (scripts/plot-recording turns them into PNG plots). One object a line:
//   {"t":0.012,"type":"counters","MemTotal":..,"MemFree":..,"Cached":..,"AnonPages":..,"Slab":..,
//    "PageTables":.., ... (kB, as /proc/meminfo), "pgfault":..,"pgmajfault":..,"faults":..}
//   {"t":0.013,"type":"fault","seq":12,"address":"0x7f..","access":"write, user, page not
//    present","kind":"anon","outcome":"mapped","path":["do_user_addr_fault", ...]}
// "t" is seconds since the recording started.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "guestos/mm/inspect.h"
#include "guestos/trace/fault_trace.h"

namespace guestos {
class Kernel;
}

namespace ui {

struct Snapshot;

class Recorder {
public:
    // Opens (truncates) path; null and a message on failure.
    static std::unique_ptr<Recorder> open(const std::string& path, std::string& error);
    ~Recorder();
    // Subscribes to the fault stream: every true fault becomes a line, and every
    // `counters_every` faults a counters line is taken from kernel (if not null).
    void follow(guestos::Kernel* kernel, unsigned counters_every = 64);
    void fault(const guestos::FaultEvent& e);
    void counters(const guestos::inspect::MemCounters& c, uint64_t faults);
    // A counters line from a snapshot of the view.
    void sample(const Snapshot& s);
    // A final counters line (at exit).
    void finish();

private:
    explicit Recorder(FILE* f) : f_(f), start_(std::chrono::steady_clock::now()) {}
    double now() const;
    FILE* f_;
    std::chrono::steady_clock::time_point start_;
    guestos::Kernel* kernel_ = nullptr;
    uint64_t sink_ = 0;
    uint64_t faults_ = 0;
    unsigned every_ = 64;
};

}  // namespace ui
