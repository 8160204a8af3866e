// The GDB remote protocol over emu::Debugger (see stub.h and docs/gdb.md).
#include "gdbstub/stub.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "gdbstub/packet.h"
#include "gdbstub/registers.h"
#include "gdbstub/target_xml.h"
#include "guestos/fs/proc/base.h"
#include "guestos/include/kernel.h"
#include "guestos/include/namei.h"
#include "guestos/include/syscalls.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/sched.h"
#include "guestos/include/signal.h"
#include "guestos/mm/inspect.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/memory.h"

namespace gdbstub {

namespace {

constexpr int GDB_SIGTRAP = 5, GDB_SIGINT = 2;
constexpr uint64_t MAX_WATCH_LEN = 1 << 20;  // a watchpoint traps at most 256 pages

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// "ADDR,LEN" -> the two numbers.
std::optional<std::pair<uint64_t, uint64_t>> addr_len(std::string_view s) {
    const size_t comma = s.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    auto a = parse_hex(s.substr(0, comma)), n = parse_hex(s.substr(comma + 1));
    if (!a || !n) return std::nullopt;
    return std::pair{*a, *n};
}

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == '<') out += "&lt;";
        else if (ch == '>') out += "&gt;";
        else if (ch == '&') out += "&amp;";
        else if (ch == '"') out += "&quot;";
        else out += ch;
    }
    return out;
}

// A file page no PTE maps and the page cache lacks (a program that has just exec'd): read
// from its file through the page cache, as ptrace's forced read would fault it in; the page
// tables stay as they are.
bool read_file_page(const guestos::mm_struct& mm, uint64_t va, uint8_t* out, uint64_t n) {
    const guestos::vm_area_struct* vma = mm.mm_rb.find_vma(mmu::VirtAddr(va));
    if (!vma || vma->vm_start.value > va || !vma->vm_file || !vma->vm_file->f_inode ||
        !(vma->vm_flags & (guestos::VM_READ | guestos::VM_WRITE | guestos::VM_EXEC)))
        return false;
    const auto walk = guestos::inspect::page_walk(mm, mmu::VirtAddr(va));
    if (!walk.levels.empty() && walk.levels.back().entry) return false;  // swapped out, PROT_NONE: not the file's
    std::fill(out, out + n, 0);  // past the end of the file: zeros, as the page's tail
    const uint64_t pos = vma->vm_pgoff * mmu::PAGE_SIZE + (va - vma->vm_start.value);
    return guestos::filemap_read(*vma->vm_file->f_inode, out, n, static_cast<int64_t>(pos)) >= 0;
}

std::string hex2(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "%02x", v & 0xff);
    return b;
}

}  // namespace

GdbStub::GdbStub(guestos::Kernel& kernel, emu::Debugger& debugger, Connection& conn)
    : kernel_(kernel), dbg_(debugger), conn_(conn), monitor_(kernel, debugger) {
    dbg_.set_signal_stops(true);
    stop_tid_ = thread_id();
    // Where gdb finds the program (the entry point): a plain SIGTRAP stop, as after exec.
    last_reply_ = dbg_.exited() ? exit_reply() : "T05thread:" + thread_hex() + ";";
}

std::string GdbStub::thread_hex() const { return thread_hex(stopped_tid()); }

std::string GdbStub::thread_hex(int tid) const {
    char b[48];
    const int pid = dbg_.tgid_of(tid);
    if (multiprocess_) std::snprintf(b, sizeof b, "p%x.%x", pid ? pid : process_id(), tid);
    else std::snprintf(b, sizeof b, "%x", tid);
    return b;
}

std::optional<GdbStub::ThreadId> GdbStub::parse_thread(std::string_view id) const {
    ThreadId out;
    auto number = [](std::string_view n) -> std::optional<int> {
        auto v = parse_hex(n);
        if (!v || *v > 0x7fffffff) return std::nullopt;
        return static_cast<int>(*v);
    };
    if (!id.empty() && id[0] == 'p') {
        const size_t dot = id.find('.');
        const std::string_view pid = id.substr(1, dot == std::string_view::npos ? dot : dot - 1);
        if (pid != "-1") {
            auto n = number(pid);
            if (!n) return std::nullopt;
            out.pid = *n;
        }
        if (dot == std::string_view::npos) return out;
        id = id.substr(dot + 1);
    }
    if (id.empty() || id == "-1" || id == "0") return out;
    auto n = number(id);
    if (!n) return std::nullopt;
    out.tid = *n;
    return out;
}

bool GdbStub::names_live_thread(std::string_view id, ThreadId& out) const {
    auto t = parse_thread(id);
    if (!t) return false;
    out = *t;
    if (out.tid) {
        const int pid = dbg_.tgid_of(out.tid);
        return dbg_.traced(pid) && (!out.pid || out.pid == pid);
    }
    return !out.pid || dbg_.traced(out.pid);
}

std::string GdbStub::select_thread(std::string_view id) {
    ThreadId t;
    if (!names_live_thread(id, t)) return "E01";
    sel_ = t;
    return "OK";
}

int GdbStub::stopped_tid() const {
    if (dbg_.traced(dbg_.tgid_of(stop_tid_))) return stop_tid_;
    for (int pid : dbg_.processes())  // the stopped thread is gone (or not traced): another one
        for (int tid : dbg_.threads(pid)) return tid;
    return thread_id();
}

int GdbStub::selected_tid() const {
    if (sel_.tid) return sel_.tid;
    if (sel_.pid && sel_.pid != dbg_.tgid_of(stopped_tid()))
        for (int tid : dbg_.threads(sel_.pid)) return tid;
    return stopped_tid();
}

guestos::task_struct* GdbStub::selected_task() const {
    guestos::task_struct* t = kernel_.find_task_by_vpid(selected_tid());
    return t && !t->exited ? t : dbg_.task();
}

bool GdbStub::get_regs(guestos::pt_regs& r) const {
    if (exited_) return false;
    const int tid = selected_tid();
    return tid == thread_id() ? dbg_.get_regs(r) : dbg_.get_thread_regs(tid, r);
}

bool GdbStub::set_regs(const guestos::pt_regs& r) {
    if (exited_) return false;
    const int tid = selected_tid();
    return tid == thread_id() ? dbg_.set_regs(r) : dbg_.set_thread_regs(tid, r);
}

// qfThreadInfo's list: every live thread of the traced processes, the stopped one first.
std::string GdbStub::thread_list() const {
    const int first = stopped_tid();
    std::string s = "m" + thread_hex(first);
    for (int pid : dbg_.processes())
        for (int tid : dbg_.threads(pid))
            if (tid != first) s += "," + thread_hex(tid);
    return s;
}

int GdbStub::process_id() const {
    if (kernel_.init_tgid) return kernel_.init_tgid;
    guestos::task_struct* t = dbg_.task();
    return t ? t->tgid : 1;
}

int GdbStub::thread_id() const {
    guestos::task_struct* t = dbg_.task();
    return t ? t->pid : 1;
}

bool GdbStub::is64() const {
    guestos::task_struct* t = selected_task();
    return !t || t->abi == guestos::Abi::X86_64;
}

GdbStub::End GdbStub::serve() {
    while (!end_) {
        auto p = conn_.next_packet();
        if (!p) return exited_ ? End::Exited : End::Detached;  // gdb went away: the guest runs on
        auto reply = handle(*p);
        if (reply) conn_.send(*reply);
    }
    return *end_;
}

std::optional<std::string> GdbStub::handle(const std::string& p) {
    if (p.empty()) return "";
    switch (p[0]) {
    case '?': {  // the last stop, its thread named as now agreed (multiprocess or not)
        const size_t at = last_reply_.find("thread:");
        if (last_reply_[0] != 'T' || at == std::string::npos) return last_reply_;
        return last_reply_.substr(0, at) + "thread:" + thread_hex() + ";";
    }
    case 'q':
    case 'Q': return handle_query(p);
    case 'v': return handle_v(p);
    case 'H': {  // Hg: whose registers and memory; Hc: which thread s and c resume
        if (p.size() > 1 && p[1] == 'g') return select_thread(std::string_view(p).substr(2));
        ThreadId t;
        if (p.size() < 2 || p[1] != 'c' || !names_live_thread(std::string_view(p).substr(2), t)) return "E01";
        cont_tid_ = t.tid;
        return "OK";
    }
    case 'T': {  // is the thread alive
        ThreadId t;
        return names_live_thread(std::string_view(p).substr(1), t) && t.tid ? "OK" : "E01";
    }
    case 'g': {
        guestos::pt_regs r;
        if (!get_regs(r)) return "E01";
        const std::string image = encode_registers(r, is64());
        return to_hex(image);
    }
    case 'G': return write_registers(std::string_view(p).substr(1));
    case 'p': return read_register(std::string_view(p).substr(1));
    case 'P': return write_register(std::string_view(p).substr(1));
    case 'm': return read_memory(std::string_view(p).substr(1));
    case 'M': return write_memory(std::string_view(p).substr(1));
    case 'Z':
    case 'z': return breakpoint(p);
    case 'c':
    case 's': return resume(p[0] == 's' ? Resume::Step : Resume::Continue, 0, cont_tid_);
    case 'C':
    case 'S': {
        auto sig = parse_hex(
            std::string_view(p).substr(1, p.find(';') == std::string::npos ? std::string::npos : p.find(';') - 1));
        return resume(p[0] == 'S' ? Resume::Step : Resume::Continue,
                      sig ? linux_signal_from_gdb(static_cast<int>(*sig)) : 0, cont_tid_);
    }
    case 'k': end_ = exited_ ? End::Exited : End::Killed; return std::nullopt;  // k has no reply
    case 'D': return detach(std::string_view(p).substr(1));
    default: return "";  // unknown: the empty reply
    }
}

std::optional<std::string> GdbStub::handle_query(const std::string& p) {
    if (starts_with(p, "qSupported")) {
        auto offered = [&p](const char* f) { return p.find(f) != std::string::npos; };
        multiprocess_ = offered("multiprocess+");
        // Fork events name the child by pPID.TID: only with multiprocess ids.
        const bool fork = multiprocess_ && offered("fork-events+"), vfork = multiprocess_ && offered("vfork-events+"),
                   exec = multiprocess_ && offered("exec-events+");
        dbg_.set_events(fork, vfork, exec);
        return std::string("PacketSize=4000;") + (multiprocess_ ? "multiprocess+;" : "") +
               (fork ? "fork-events+;" : "") + (vfork ? "vfork-events+;" : "") + (exec ? "exec-events+;" : "") +
               "QStartNoAckMode+;qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:threads:read+;"
               "qXfer:siginfo:read+;QPassSignals+;QCatchSyscalls+;swbreak+;hwbreak+;vContSupported+";
    }
    if (p == "QStartNoAckMode") {
        conn_.set_no_ack();
        return "OK";
    }
    if (starts_with(p, "QPassSignals:")) return pass_signals(std::string_view(p).substr(13));
    if (starts_with(p, "QCatchSyscalls:")) return catch_syscalls(std::string_view(p).substr(15));
    if (p == "qAttached" || starts_with(p, "qAttached:")) return "0";  // emu made the process: kill on quit
    if (p == "qC") return "QC" + thread_hex();
    if (p == "qfThreadInfo") return exited_ ? "l" : thread_list();
    if (p == "qsThreadInfo") return "l";
    if (starts_with(p, "qSymbol")) return "OK";
    if (starts_with(p, "qRcmd,")) return monitor(std::string_view(p).substr(6));
    if (starts_with(p, "qXfer:")) {
        // qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH
        std::string_view rest = std::string_view(p).substr(6);
        const size_t c1 = rest.find(':');
        if (c1 == std::string_view::npos) return "";
        const std::string_view object = rest.substr(0, c1);
        rest = rest.substr(c1 + 1);
        if (!starts_with(rest, "read:")) return "";
        rest = rest.substr(5);
        const size_t c2 = rest.find(':');
        if (c2 == std::string_view::npos) return "E00";
        return xfer(object, rest.substr(0, c2), rest.substr(c2 + 1));
    }
    return "";
}

std::optional<std::string> GdbStub::handle_v(const std::string& p) {
    if (p == "vMustReplyEmpty") return "";
    if (starts_with(p, "vFile:")) return host_io(std::string_view(p).substr(6));
    if (p == "vCont?") return "vCont;c;C;s;S";
    if (starts_with(p, "vKill")) return kill(std::string_view(p).substr(5));
    if (starts_with(p, "vCont;")) return vcont(std::string_view(p).substr(6));
    return "";
}

std::string GdbStub::detach(std::string_view args) {
    if (args.empty()) {  // everything
        end_ = exited_ ? End::Exited : End::Detached;
        return "OK";
    }
    auto pid = args[0] == ';' ? parse_hex(args.substr(1)) : std::nullopt;
    if (!pid || !dbg_.traced(static_cast<int>(*pid))) return "E01";
    dbg_.detach(static_cast<int>(*pid));
    if (dbg_.processes().empty()) end_ = exited_ ? End::Exited : End::Detached;
    return "OK";
}

// vKill;PID: a fork child gdb follows dies alone; the first program ends emu.
std::string GdbStub::kill(std::string_view args) {
    auto pid = args.size() > 1 && args[0] == ';' ? parse_hex(args.substr(1)) : std::nullopt;
    if (pid && static_cast<int>(*pid) != process_id() && dbg_.traced(static_cast<int>(*pid)) && !exited_) {
        dbg_.kill(static_cast<int>(*pid));
        return "OK";
    }
    end_ = exited_ ? End::Exited : End::Killed;
    return "OK";
}

// vCont;ACTION[:THREAD]...: a step action steps its thread (the stopped one when it names
// any); otherwise the first continue action runs. Only the processes the actions name run
// (all when one names every thread): gdb resumes one inferior unless schedule-multiple.
std::string GdbStub::vcont(std::string_view rest) {
    struct Action {
        char kind;
        int signo;
        ThreadId id;
    };
    std::vector<Action> actions;
    while (!rest.empty()) {
        const size_t semi = rest.find(';');
        std::string_view action = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        std::string_view tid;
        if (const size_t colon = action.find(':'); colon != std::string_view::npos) {
            tid = action.substr(colon + 1);
            action = action.substr(0, colon);
        }
        auto id = parse_thread(tid);
        if (action.empty() || !id) return "E01";
        Action a{action[0], 0, *id};
        if (a.kind == 'C' || a.kind == 'S') {
            auto sig = parse_hex(action.substr(1));
            if (!sig) return "E01";
            a.signo = linux_signal_from_gdb(static_cast<int>(*sig));
        } else if (a.kind != 'c' && a.kind != 's') {
            return "E01";  // t, r: not supported (vCont? does not offer them)
        }
        actions.push_back(a);
    }
    int release = -1;  // the one process the actions name, 0 for several or all
    for (const Action& a : actions) {
        const int pid = a.id.pid ? a.id.pid : dbg_.tgid_of(a.id.tid);
        release = !pid || (release != -1 && release != pid) ? 0 : pid;
    }
    for (const Action& a : actions) {
        if (a.kind != 's' && a.kind != 'S') continue;
        int tid = a.id.tid;
        if (!tid && a.id.pid && a.id.pid != dbg_.tgid_of(stopped_tid()))
            for (int t : dbg_.threads(a.id.pid))
                if (!tid) tid = t;
        return resume(Resume::Step, a.signo, tid ? tid : stopped_tid(), std::max(release, 0));
    }
    if (actions.empty()) return "E01";
    return resume(Resume::Continue, actions.front().signo, 0, std::max(release, 0));
}

std::string GdbStub::xfer(std::string_view object, std::string_view annex, std::string_view range) {
    auto r = addr_len(range);
    if (!r) return "E00";
    std::string data;
    guestos::task_struct* t = selected_task();
    if (object == "features") {
        if (annex != "target.xml") return "E00";
        data = is64() ? AMD64_TARGET_XML : I386_TARGET_XML;
    } else if (object == "auxv") {  // mm->saved_auxv in the ABI's word size
        if (exited_ || !t || !t->mm) return "E01";
        for (uint64_t w : t->mm->saved_auxv) data.append(reinterpret_cast<const char*>(&w), is64() ? 8 : 4);
    } else if (object == "exec-file") {  // annex: the process's pid in hex, or empty
        auto pid = annex.empty() ? std::nullopt : parse_hex(annex);
        if (pid) t = *pid <= 0x7fffffff ? kernel_.find_task_by_vpid(static_cast<int>(*pid)) : nullptr;
        if (exited_ || !t || t->exited) return "E01";
        data = t->exe_path;
    } else if (object == "threads") {  // the live threads with their names (comm)
        data = "<threads>\n";
        for (int pid : exited_ ? std::vector<int>{} : dbg_.processes())
            for (int tid : dbg_.threads(pid)) {
                guestos::task_struct* th = kernel_.find_task_by_vpid(tid);
                data += "<thread id=\"" + thread_hex(tid) + "\" core=\"0\" name=\"" + xml_escape(th ? th->comm : "") +
                        "\"/>\n";
            }
        data += "</threads>\n";
    } else if (object == "siginfo") {  // the stopped signal's siginfo_t, as PTRACE_GETSIGINFO
        auto si = dbg_.stop_siginfo();
        if (exited_ || !si) return "E01";
        const auto bytes = guestos::siginfo_to_user(*si, !is64());
        data.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    } else {
        return "";
    }
    const uint64_t off = r->first, len = std::min<uint64_t>(r->second, MAX_PACKET / 2);
    if (off >= data.size()) return "l";
    const std::string chunk = data.substr(off, len);
    return (off + chunk.size() >= data.size() ? "l" : "m") + chunk;
}

namespace {
// gdb's File-I/O errno values (gdb's "Errno Values"), from Linux's.
int fileio_errno(long err) {
    switch (err) {
    case 1:
    case 2:
    case 4:
    case 9:
    case 13:
    case 14:
    case 16:
    case 17:
    case 19:
    case 20:
    case 21:
    case 22:
    case 23:
    case 24:
    case 27:
    case 28:
    case 29:
    case 30:
    case 36: return static_cast<int>(err);
    case 38: return 88;    // ENOSYS
    default: return 9999;  // EUNKNOWN
    }
}
std::string fileio_error(long neg) {
    char b[32];
    std::snprintf(b, sizeof b, "F-1,%x", fileio_errno(-neg));
    return b;
}
std::string fileio_ok(uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "F%llx", static_cast<unsigned long long>(v));
    return b;
}
// The comma-separated fields of a vFile request.
std::vector<std::string_view> fields(std::string_view s) {
    std::vector<std::string_view> out;
    while (true) {
        const size_t comma = s.find(',');
        out.push_back(s.substr(0, comma));
        if (comma == std::string_view::npos) return out;
        s = s.substr(comma + 1);
    }
}
}  // namespace

std::string GdbStub::host_io(std::string_view p) {
    const size_t colon = p.find(':');
    if (colon == std::string_view::npos) return "";
    const std::string_view op = p.substr(0, colon);
    const auto args = fields(p.substr(colon + 1));
    guestos::task_struct* t = selected_task();
    if (op == "setfs") return "F0";  // every path is seen from the debugged process
    if (op == "open" || op == "readlink") {
        auto name = from_hex(args[0]);
        if (!name || (op == "open" && args.size() != 3)) return fileio_error(-22);
        if (exited_ || !t) return fileio_error(-3);
        const std::string path(name->begin(), name->end());
        if (op == "readlink") {  // /proc links (exe, cwd) only
            int err = 22;
            auto target = guestos::is_proc_path(path) ? guestos::proc_readlink(*t, path, err) : std::nullopt;
            if (!target) return fileio_error(-err);
            return fileio_ok(target->size()) + ";" + *target;
        }
        auto flags = parse_hex(args[1]);
        if (!flags || (*flags & 3) != 0) return fileio_error(-13);  // read-only: EACCES
        std::shared_ptr<guestos::file> f;
        long r = 0;
        if (guestos::is_proc_path(path)) {
            r = guestos::proc_open(*t, path, guestos::O_RDONLY_, f);
        } else {
            guestos::SysCtx c{kernel_, *t, *t->mm, t->is_compat()};
            r = guestos::do_filp_open(c, guestos::AT_FDCWD_, path, guestos::O_RDONLY_, 0, f);
        }
        if (r < 0 || !f) return fileio_error(r < 0 ? r : -2);
        host_files_[next_host_fd_] = f;
        return fileio_ok(static_cast<uint64_t>(next_host_fd_++));
    }
    auto fd = parse_hex(args[0]);
    auto it = fd ? host_files_.find(static_cast<int>(*fd)) : host_files_.end();
    if (op == "close") {
        if (it == host_files_.end()) return fileio_error(-9);
        host_files_.erase(it);
        return "F0";
    }
    if (op == "pread") {
        if (it == host_files_.end()) return fileio_error(-9);
        auto count = args.size() == 3 ? parse_hex(args[1]) : std::nullopt;
        auto offset = args.size() == 3 ? parse_hex(args[2]) : std::nullopt;
        if (!count || !offset || *offset > INT64_MAX) return fileio_error(-22);
        // The reply's escapes may double the data: half a packet is always room enough.
        std::vector<uint8_t> buf(std::min<uint64_t>(*count, MAX_PACKET / 2 - 32));
        int64_t pos = static_cast<int64_t>(*offset);
        const long n = buf.empty() ? 0 : it->second->read(buf.data(), buf.size(), &pos);
        if (n < 0) return fileio_error(n);
        return fileio_ok(static_cast<uint64_t>(n)) + ";" + std::string(buf.begin(), buf.begin() + n);
    }
    return "";  // fstat, unlink, ...: not offered
}

// QPassSignals:SIG;SIG...: gdb's numbers of the signals to deliver without stopping.
std::string GdbStub::pass_signals(std::string_view list) {
    uint64_t mask = 0;
    while (!list.empty()) {
        const size_t semi = list.find(';');
        auto sig = parse_hex(list.substr(0, semi));
        if (!sig) return "E01";
        if (const int l = linux_signal_from_gdb(static_cast<int>(*sig))) mask |= 1ull << (l - 1);
        list = semi == std::string_view::npos ? std::string_view() : list.substr(semi + 1);
    }
    dbg_.set_pass_signals(mask);
    return "OK";
}

std::string GdbStub::read_memory(std::string_view args) {
    auto r = addr_len(args);
    if (!r) return "E01";
    guestos::task_struct* t = selected_task();
    if (exited_ || !t || !t->mm) return "E14";
    const uint64_t len = std::min<uint64_t>(r->second, MAX_PACKET / 2 - 16);
    std::vector<uint8_t> buf(len);
    // Page by page, so a read that runs into an unmapped page returns what it got.
    uint64_t done = 0;
    while (done < len) {
        const uint64_t va = r->first + done;
        const uint64_t n = std::min<uint64_t>(len - done, 4096 - (va & 4095));
        if (va + n < va) break;
        if (!guestos::inspect::read_user(*t->mm, mmu::VirtAddr(va), buf.data() + done, n) &&
            !read_file_page(*t->mm, va, buf.data() + done, n))
            break;
        done += n;
    }
    if (!done && len) return "E14";
    return to_hex(buf.data(), done);
}

std::string GdbStub::write_memory(std::string_view args) {
    const size_t colon = args.find(':');
    if (colon == std::string_view::npos) return "E01";
    auto r = addr_len(args.substr(0, colon));
    auto bytes = from_hex(args.substr(colon + 1));
    if (!r || !bytes || bytes->size() != r->second) return "E01";
    guestos::task_struct* t = selected_task();
    if (exited_ || !t || !t->mm) return "E14";
    if (bytes->empty()) return "OK";
    return guestos::access_remote_vm_write(*t->mm, mmu::VirtAddr(r->first), bytes->data(), bytes->size()) ? "OK"
                                                                                                          : "E14";
}

std::string GdbStub::read_register(std::string_view args) {
    auto n = parse_hex(args);
    guestos::pt_regs r;
    if (!n || *n > 1000) return "E01";
    auto slot = register_slot(static_cast<unsigned>(*n), is64());
    if (!slot) return "E01";
    if (!get_regs(r)) return "E01";
    const std::string image = encode_registers(r, is64());
    return to_hex(image.data() + slot->first, slot->second);
}

std::string GdbStub::write_register(std::string_view args) {
    const size_t eq = args.find('=');
    if (eq == std::string_view::npos) return "E01";
    auto n = parse_hex(args.substr(0, eq));
    auto bytes = from_hex(args.substr(eq + 1));
    if (!n || !bytes || *n > 1000) return "E01";
    auto slot = register_slot(static_cast<unsigned>(*n), is64());
    guestos::pt_regs r;
    if (!slot || bytes->size() != slot->second || !get_regs(r)) return "E01";
    std::string image = encode_registers(r, is64());
    std::memcpy(image.data() + slot->first, bytes->data(), slot->second);
    return decode_registers(image, is64(), r) && set_regs(r) ? "OK" : "E01";
}

std::string GdbStub::write_registers(std::string_view hex) {
    auto bytes = from_hex(hex);
    guestos::pt_regs r;
    if (!bytes || !get_regs(r)) return "E01";
    const std::string image(bytes->begin(), bytes->end());
    return decode_registers(image, is64(), r) && set_regs(r) ? "OK" : "E01";
}

// Z0-Z4 (insert) and z0-z4 (remove) ADDR,KIND: software and hardware breakpoints are both
// code hooks (nothing is written into guest memory; the stop names the kind gdb set);
// watchpoints trap their pages in the shadow TLB (emu::Debugger::add_watchpoint).
std::string GdbStub::breakpoint(const std::string& p) {
    if (p.size() < 3 || p[2] != ',') return "";
    const char type = p[1];
    auto r =
        addr_len(std::string_view(p).substr(3, p.find(';') == std::string::npos ? std::string::npos : p.find(';') - 3));
    if (!r) return "E01";
    const bool insert = p[0] == 'Z';
    // They belong to the process Hg selected (gdb sets it before inserting into a fork child).
    guestos::task_struct* t = selected_task();
    if (exited_ || !t) return "E01";
    const int pid = t->tgid;
    if (type == '2' || type == '3' || type == '4') {
        // Data watchpoints: gdb splits nothing, so bound the range (its pages trap).
        if (!r->second || r->second > MAX_WATCH_LEN || r->first + r->second < r->first) return "E01";
        const emu::WatchKind kind = type == '2'   ? emu::WatchKind::Write
                                    : type == '3' ? emu::WatchKind::Read
                                                  : emu::WatchKind::Access;
        const emu::Watchpoint w{r->first, r->second, kind};
        if (insert) dbg_.add_watchpoint(pid, w);
        else dbg_.remove_watchpoint(pid, w);
        return "OK";
    }
    if (type != '0' && type != '1') return "";
    if (insert) {
        dbg_.add_breakpoint(pid, r->first);
        hw_breaks_[r->first] = type == '1';
    } else {
        dbg_.remove_breakpoint(pid, r->first);
    }
    return "OK";
}

// QCatchSyscalls:1[;NR]... or QCatchSyscalls:0: stop at the entry and return of those
// syscalls (all when none is listed), with syscall_entry/syscall_return stop replies.
std::string GdbStub::catch_syscalls(std::string_view args) {
    if (args == "0") {
        dbg_.catch_syscalls(false);
        return "OK";
    }
    if (!starts_with(args, "1")) return "E01";
    args.remove_prefix(1);
    std::set<uint64_t> nrs;
    while (!args.empty()) {
        if (args[0] != ';') return "E01";
        args.remove_prefix(1);
        const size_t end = args.find(';');
        auto nr = parse_hex(args.substr(0, end));
        if (!nr || *nr > 0xffff) return "E01";
        nrs.insert(*nr);
        args = end == std::string_view::npos ? std::string_view() : args.substr(end);
    }
    dbg_.catch_syscalls(true, std::move(nrs));
    return "OK";
}

void GdbStub::console(const std::string& text) {
    for (size_t at = 0; at < text.size(); at += 1024) conn_.send("O" + to_hex(text.substr(at, 1024)));
}

// qRcmd,HEX: a monitor command; its output goes to gdb's console.
std::string GdbStub::monitor(std::string_view hex) {
    auto cmd = from_hex(hex);
    if (!cmd) return "E01";
    console(monitor_.run(std::string(cmd->begin(), cmd->end())));
    return "OK";
}

namespace {
// A major fault read its page in (filemap_fault's do_sync_mmap_readahead step).
bool is_major(const emu::Stop& s) {
    if (!s.fault) return false;
    for (const auto& step : s.fault->path)
        if (step.fn == "do_sync_mmap_readahead") return true;
    return false;
}
}  // namespace

std::string GdbStub::resume(Resume how, int signo, int step_tid, int release) {
    if (exited_) return exit_reply();
    for (int pid : dbg_.processes()) dbg_.hold(pid, release && pid != release);  // gdb resumes only those
    dbg_.resume_signal(signo);
    const uint64_t seen = dbg_.faults().empty() ? 0 : dbg_.faults().back().seq;
    conn_.while_running([this] { dbg_.pause(); });
    emu::Stop s;
    if (how == Resume::Step) {
        s = step_tid && step_tid != thread_id() ? dbg_.step_thread(step_tid) : dbg_.step_instruction();
    } else if (const unsigned filter = monitor_.fault_break()) {
        // fault-break: the next fault of the classes asked (major: a file fault that read).
        // A detached child's faults do not stop gdb's program.
        do s = dbg_.step_to_fault(filter);
        while (s.reason == emu::StopReason::PageFault &&
               ((monitor_.major_only() && !is_major(s)) || !dbg_.traced(dbg_.tgid_of(s.pid))));
    } else {
        s = dbg_.cont();
    }
    conn_.while_running(nullptr);
    if (monitor_.explain())
        for (const auto& e : dbg_.faults())
            if (e.seq > seen && !e.hidden) console(Monitor::describe_fault(e));
    if (s.reason == emu::StopReason::PageFault && s.fault)
        console("emu: fault-break: stopped after this fault was handled (the access runs on resume)\n" +
                Monitor::describe_fault(*s.fault));
    sel_ = {};  // gdb takes the stopped thread as its general thread (remote.c's record_currthread)
    last_reply_ = stop_reply(s);
    return last_reply_;
}

std::string GdbStub::exit_reply() const { return process_exit_reply(process_id(), dbg_.exit_status().value_or(0)); }

// W (exit code) or X (signal) of process pid, named when ids are multiprocess.
std::string GdbStub::process_exit_reply(int pid, int status) const {
    char process[32] = "";
    if (multiprocess_) std::snprintf(process, sizeof process, ";process:%x", pid);
    if (const int sig = status & 0x7f) return "X" + hex2(static_cast<unsigned>(gdb_signal_from_linux(sig))) + process;
    return "W" + hex2(static_cast<unsigned>((status >> 8) & 0xff)) + process;
}

std::string GdbStub::stop_reply(const emu::Stop& s) {
    if (s.reason == emu::StopReason::Exited || dbg_.exited()) {
        exited_ = true;
        return exit_reply();
    }
    if (s.reason == emu::StopReason::ProcessExited) return process_exit_reply(s.pid, s.status);
    stop_tid_ = s.pid ? s.pid : thread_id();
    int sig = GDB_SIGTRAP;
    std::string why;
    switch (s.reason) {
    case emu::StopReason::Paused: sig = GDB_SIGINT; break;
    case emu::StopReason::Signal: sig = gdb_signal_from_linux(s.signo); break;
    case emu::StopReason::Breakpoint: {
        auto it = hw_breaks_.find(s.pc);
        why = it != hw_breaks_.end() && it->second ? "hwbreak:;" : "swbreak:;";
        break;
    }
    case emu::StopReason::Watchpoint:
        if (s.watch) {
            const emu::WatchKind k = s.watch->watch.kind;
            char b[48];
            std::snprintf(b, sizeof b, "%s:%llx;",
                          k == emu::WatchKind::Write  ? "watch"
                          : k == emu::WatchKind::Read ? "rwatch"
                                                      : "awatch",
                          static_cast<unsigned long long>(s.watch->data_address));
            why = b;
        }
        break;
    case emu::StopReason::SyscallEntry:
    case emu::StopReason::SyscallReturn: {
        char b[48];
        std::snprintf(b, sizeof b, "%s:%llx;",
                      s.reason == emu::StopReason::SyscallEntry ? "syscall_entry" : "syscall_return",
                      static_cast<unsigned long long>(s.syscall_nr));
        why = b;
        break;
    }
    case emu::StopReason::Fork: why = "fork:" + thread_hex(s.child_pid) + ";"; break;
    case emu::StopReason::Vfork: why = "vfork:" + thread_hex(s.child_pid) + ";"; break;
    case emu::StopReason::VforkDone: why = "vforkdone:;"; break;
    case emu::StopReason::Exec:  // the new program's path
        if (guestos::task_struct* t = kernel_.find_task_by_vpid(s.pid)) why = "exec:" + to_hex(t->exe_path) + ";";
        break;
    case emu::StopReason::Error:
        std::fprintf(stderr, "emu: gdb: the guest stopped with an error: %s\n", s.detail.c_str());
        sig = 6;  // SIGABRT
        break;
    default: break;
    }
    return "T" + hex2(static_cast<unsigned>(sig)) + why + "thread:" + thread_hex() + ";";
}

}  // namespace gdbstub
