// The GDB remote stub: serves one gdb connection over emu::Debugger (execution control,
// registers) and guestos/mm/inspect.h (memory, and the monitor commands' views), the same
// two interfaces the debugger view (ui/) uses. The guest runs only inside serve(), on the
// caller's thread, while gdb asked it to (continue, step); the connection's reader thread
// turns Ctrl-C into Debugger::pause. Design: docs/gdb.md.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "emu/debugger.h"
#include "gdbstub/monitor.h"
#include "gdbstub/transport.h"

namespace guestos {
class Kernel;
struct file;
}  // namespace guestos

namespace gdbstub {

class GdbStub {
public:
    // debugger: stopped at the program's first instruction (or wherever gdb should find it).
    GdbStub(guestos::Kernel& kernel, emu::Debugger& debugger, Connection& conn);

    // How the session ended: the guest exited (its wait status is Debugger::exit_status),
    // gdb detached or went away (the guest should run on without it), or gdb killed it.
    enum class End { Exited, Detached, Killed };
    End serve();

private:
    // One packet's answer; nullopt: no reply now (a resumption answers when it stops).
    std::optional<std::string> handle(const std::string& p);
    std::optional<std::string> handle_query(const std::string& p);
    std::optional<std::string> handle_v(const std::string& p);
    std::string read_memory(std::string_view args);
    std::string pass_signals(std::string_view list);
    std::string catch_syscalls(std::string_view args);
    std::string write_memory(std::string_view args);
    std::string read_register(std::string_view args);
    std::string write_register(std::string_view args);
    std::string write_registers(std::string_view hex);
    std::string breakpoint(const std::string& p);
    std::string xfer(std::string_view object, std::string_view annex, std::string_view range);
    // vFile: gdb's host I/O on the guest's files (setfs, open, pread, close, readlink): what
    // `info proc mappings` reads /proc/PID/maps with.
    std::string host_io(std::string_view p);
    // A thread id: "-1", "0", "TID", "pPID", "pPID.-1", "pPID.TID" -> (pid, tid), 0 for
    // "any"; nullopt when malformed.
    struct ThreadId {
        int pid = 0, tid = 0;
    };
    std::optional<ThreadId> parse_thread(std::string_view id) const;
    // Whether id names "any" or a live thread of a traced process (the thread in tid).
    bool names_live_thread(std::string_view id, ThreadId& out) const;
    // Hg: the thread (or process) whose registers and memory g/G/p/P/m/M and Z use.
    std::string select_thread(std::string_view id);
    // The thread Hg selected: its tid, the first thread of its process, or the stopped one.
    int selected_tid() const;
    guestos::task_struct* selected_task() const;
    bool get_regs(guestos::pt_regs& r) const;
    bool set_regs(const guestos::pt_regs& r);
    std::string thread_list() const;
    std::string thread_hex(int tid) const;
    // D, D;PID: detach one process (gdb's detach of a fork child) or all.
    std::string detach(std::string_view args);
    std::string kill(std::string_view args);
    std::string vcont(std::string_view actions);

    // Runs the guest (a step or a continue, after delivering signo, a Linux signal or 0)
    // and returns the stop reply.
    enum class Resume { Continue, Step };
    // step_tid: the thread to step (0: the stopped one); release: the one process that runs
    // (the other traced ones are held), 0 for all.
    std::string resume(Resume how, int signo, int step_tid = 0, int release = 0);
    std::string stop_reply(const emu::Stop& s);
    // Console output (O packets), as a monitor command or a running program prints it.
    void console(const std::string& text);
    std::string monitor(std::string_view hex);
    std::string exit_reply() const;
    std::string process_exit_reply(int pid, int status) const;
    // The thread the last stop names (another traced one when it is gone).
    int stopped_tid() const;
    int thread_id() const;
    int process_id() const;
    std::string thread_hex() const;
    bool is64() const;

    guestos::Kernel& kernel_;
    emu::Debugger& dbg_;
    Connection& conn_;
    std::string last_reply_;              // for ?
    std::map<uint64_t, bool> hw_breaks_;  // breakpoint address -> set by Z1 (hwbreak) rather than Z0
    bool exited_ = false;
    bool multiprocess_ = false;                                 // gdb offered multiprocess+: ids are pPID.TID
    ThreadId sel_;                                              // Hg's thread (0: the one that stopped)
    int stop_tid_ = 0;                                          // the thread the last stop names
    int cont_tid_ = 0;                                          // Hc's thread, for s and c packets
    std::map<int, std::shared_ptr<guestos::file>> host_files_;  // vFile's open files
    int next_host_fd_ = 0;
    std::optional<End> end_;
    Monitor monitor_;
};

}  // namespace gdbstub
