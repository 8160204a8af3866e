// strace's output format: arguments by kind, strings quoted and cut at 32 bytes, errors named.
#include "guestos/arch/x86/entry/strace.h"

#include "guestos/trace/fault_trace.h"

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "guestos/include/errno.h"
#include "guestos/mm/mmap.h"

namespace guestos {

namespace {

constexpr size_t STRACE_STRLEN = 32;

// A quoted, escaped rendering of bytes, with "..." when cut (strace's print_quoted_string).
std::string quote(const std::string& s, bool cut) {
    std::string out = "\"";
    for (unsigned char ch : s) {
        switch (ch) {
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        case '\v': out += "\\v"; break;
        case '\f': out += "\\f"; break;
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        default:
            if (ch >= 0x20 && ch < 0x7f) {
                out += static_cast<char>(ch);
            } else {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\%o", ch);
                out += buf;
            }
        }
    }
    out += "\"";
    if (cut) out += "...";
    return out;
}

std::string user_bytes(SysCtx& c, uint64_t addr, uint64_t len) {
    if (!addr) return "NULL";
    std::string s(std::min<uint64_t>(len, STRACE_STRLEN), '\0');
    if (!copy_from_user(c.mm, s.data(), VirtAddr(addr), s.size())) return hex(addr);
    return quote(s, len > STRACE_STRLEN);
}

std::string user_string(SysCtx& c, uint64_t addr) {
    if (!addr) return "NULL";
    auto s = strncpy_from_user(c.mm, VirtAddr(addr), 4096);
    if (!s) return hex(addr);
    bool cut = s->size() > STRACE_STRLEN;
    if (cut) s->resize(STRACE_STRLEN);
    return quote(*s, cut);
}

std::string flags_str(uint64_t v, const std::pair<uint64_t, const char*>* names, size_t n, const char* zero) {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        if (names[i].first && (v & names[i].first) == names[i].first) {
            if (!out.empty()) out += "|";
            out += names[i].second;
            v &= ~names[i].first;
        }
    }
    if (v || out.empty()) {
        if (!out.empty()) out += "|";
        out += (v || !zero) ? hex(v) : zero;
    }
    return out;
}

std::string prot_str(uint64_t v) {
    static const std::pair<uint64_t, const char*> names[] = {{PROT_READ_, "PROT_READ"},
                                                             {PROT_WRITE_, "PROT_WRITE"},
                                                             {PROT_EXEC_, "PROT_EXEC"},
                                                             {PROT_GROWSDOWN_, "PROT_GROWSDOWN"},
                                                             {PROT_GROWSUP_, "PROT_GROWSUP"}};
    return flags_str(v, names, std::size(names), "PROT_NONE");
}

std::string map_str(uint64_t v) {
    static const std::pair<uint64_t, const char*> names[] = {{MAP_FIXED_, "MAP_FIXED"},
                                                             {MAP_ANONYMOUS_, "MAP_ANONYMOUS"},
                                                             {MAP_32BIT_, "MAP_32BIT"},
                                                             {MAP_GROWSDOWN_, "MAP_GROWSDOWN"},
                                                             {MAP_DENYWRITE_, "MAP_DENYWRITE"},
                                                             {MAP_EXECUTABLE_, "MAP_EXECUTABLE"},
                                                             {MAP_LOCKED_, "MAP_LOCKED"},
                                                             {MAP_NORESERVE_, "MAP_NORESERVE"},
                                                             {MAP_POPULATE_, "MAP_POPULATE"},
                                                             {MAP_NONBLOCK_, "MAP_NONBLOCK"},
                                                             {MAP_STACK_, "MAP_STACK"},
                                                             {MAP_HUGETLB_, "MAP_HUGETLB"},
                                                             {MAP_FIXED_NOREPLACE_, "MAP_FIXED_NOREPLACE"}};
    const uint64_t type = v & MAP_TYPE_;
    std::string out = type == MAP_SHARED_            ? "MAP_SHARED"
                      : type == MAP_PRIVATE_         ? "MAP_PRIVATE"
                      : type == MAP_SHARED_VALIDATE_ ? "MAP_SHARED_VALIDATE"
                                                     : hex(type);
    if (v & ~MAP_TYPE_) out += "|" + flags_str(v & ~MAP_TYPE_, names, std::size(names), nullptr);
    return out;
}

std::string signame(uint64_t sig) {
    const char* abbrev = sig < 65 ? sigabbrev_np(static_cast<int>(sig)) : nullptr;
    return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

// One argument rendered by its kind letter; `next` is the following argument, `ret` the result.
std::string format_arg(SysCtx& c, char kind, uint64_t v, uint64_t next, long ret) {
    const uint64_t mask = c.compat ? 0xffffffffull : ~0ull;
    v &= mask;
    switch (kind) {
    case 'd': return std::to_string(c.compat ? static_cast<int32_t>(v) : static_cast<int64_t>(v));
    case 'f': {
        long fd = c.compat ? static_cast<int32_t>(v) : static_cast<int32_t>(v);
        return fd == -100 ? "AT_FDCWD" : std::to_string(fd);
    }
    case 'u': return std::to_string(v);
    case 'o': {
        char buf[24];
        std::snprintf(buf, sizeof buf, "0%llo", static_cast<unsigned long long>(v));
        return v ? buf : "0";
    }
    case 's': return user_string(c, v);
    case 'b': return user_bytes(c, v, next & mask);
    case 'B': return ret < 0 ? hex(v) : user_bytes(c, v, static_cast<uint64_t>(ret));
    case 'P': return prot_str(v);
    case 'M': return map_str(v);
    case 'S': return signame(v);
    default: return v ? hex(v) : "NULL";
    }
}

// The kernel-internal restart codes, which strace shows by name.
const char* restart_name(long ret) {
    switch (ret) {
    case -ERESTARTSYS: return "ERESTARTSYS (To be restarted if SA_RESTART is set)";
    case -ERESTARTNOINTR: return "ERESTARTNOINTR (To be restarted)";
    case -ERESTARTNOHAND: return "ERESTARTNOHAND (To be restarted if no handler)";
    case -ERESTART_RESTARTBLOCK: return "ERESTART_RESTARTBLOCK (Interrupted by signal)";
    default: return nullptr;
    }
}

}  // namespace

void strace_syscall(FILE* out, SysCtx& c, const SyscallEntry* e, uint64_t nr, const uint64_t* args, long ret) {
    std::string line;
    const char* spec = e ? e->args : "xxxxxx";
    const char* colon = std::strchr(spec, ':');
    const size_t nargs = colon ? static_cast<size_t>(colon - spec) : std::strlen(spec);
    if (e) line = e->name;
    else line = "syscall_" + hex(nr);
    line += "(";
    for (size_t i = 0; i < nargs && i < 6; ++i) {
        if (i) line += ", ";
        line += format_arg(c, spec[i], args[i], i + 1 < 6 ? args[i + 1] : 0, ret);
    }
    line += ")";
    if (e && (e->sys == Sys::exit || e->sys == Sys::exit_group)) {
        line += " = ?";
    } else if (const char* restart = restart_name(ret)) {
        line += std::string(" = ? ") + restart;  // strace's form for a call about to be restarted
    } else if (ret < 0 && ret >= -4095) {
        const int err = static_cast<int>(-ret);
        const char* name = strerrorname_np(err);
        line += " = -1 " + std::string(name ? name : std::to_string(err)) + " (" + strerror(err) + ")";
    } else if (colon && colon[1] == 'x') {
        line += " = " + hex(static_cast<uint64_t>(ret) & (c.compat ? 0xffffffffull : ~0ull));
    } else {
        line += " = " + std::to_string(ret);
    }
    std::fprintf(out, "%s%s\n", strace_prefix(c.task).c_str(), line.c_str());
}

void strace_exit(FILE* out, const task_struct& task) {
    const std::string prefix = strace_prefix(task);
    if (task.term_signal())
        std::fprintf(out, "%s+++ killed by %s +++\n", prefix.c_str(),
                     signame(static_cast<uint64_t>(task.term_signal())).c_str());
    else std::fprintf(out, "%s+++ exited with %d +++\n", prefix.c_str(), (task.exit_code >> 8) & 0xff);
}

std::string strace_prefix(const task_struct& task) {
    if (!task.kernel || task.kernel->nr_tasks() < 2) return {};
    char buf[32];
    std::snprintf(buf, sizeof buf, "[pid %5d] ", task.pid);
    return buf;
}

}  // namespace guestos
