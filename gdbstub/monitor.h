// gdb's `monitor` commands (qRcmd): the memory manager seen through the same read-only
// interfaces the debugger view uses (guestos/mm/inspect.h for the OS, emu/debugger.h for the
// shadow TLB and the fault history), so gdb and the UI always agree. Text only; the stub
// hex-encodes it. `help` lists the commands.
#pragma once
#include <cstdint>
#include <string>

#include "emu/debugger.h"

namespace guestos {
class Kernel;
}

namespace gdbstub {

class Monitor {
public:
    Monitor(guestos::Kernel& kernel, emu::Debugger& debugger) : kernel_(kernel), dbg_(debugger) {}
    // Runs one command line and returns what it prints.
    std::string run(const std::string& line);
    // fault-break: the fault classes (emu::FaultFilter) a continue stops at, 0 for none.
    unsigned fault_break() const { return fault_break_; }
    // explain on: each fault of a run is printed to gdb's console with its Linux call path.
    bool explain() const { return explain_; }
    // fault-break major: only file faults that read their page in.
    bool major_only() const { return major_only_; }
    // One fault as `faults` and `explain` print it.
    static std::string describe_fault(const guestos::FaultEvent& e);

private:
    std::string pagewalk(uint64_t va);
    std::string pte(uint64_t va);
    std::string vmas();
    std::string phys(uint64_t pa, uint64_t len);
    std::string meminfo();
    std::string buddyinfo();
    std::string zoneinfo();
    std::string slabinfo();
    std::string tlb();
    std::string faults(uint64_t n);
    std::string set_fault_break(const std::string& kind);

    guestos::Kernel& kernel_;
    emu::Debugger& dbg_;
    unsigned fault_break_ = 0;
    bool explain_ = false;
    bool major_only_ = false;
};

}  // namespace gdbstub
