// Parsing the headless UI's script (see script.h).
#include "ui/script.h"

#include <cerrno>
#include <cstdlib>
#include <map>
#include <sstream>

#include "emu/debugger.h"

namespace ui {

namespace {

base::Error bad_line(int line, const std::string& text, const std::string& why) {
    return base::Error::from_errno(EINVAL, "script line " + std::to_string(line) + ": '" + text + "': " + why);
}

// A positive decimal count, or nothing when the word is not one.
bool parse_count(const std::string& w, uint64_t& out) {
    if (w.empty() || w[0] < '0' || w[0] > '9') return false;
    char* end = nullptr;
    errno = 0;
    out = std::strtoull(w.c_str(), &end, 10);
    return errno == 0 && *end == '\0' && out > 0;
}

}  // namespace

base::ErrorOr<std::vector<ScriptAction>> parse_script(const std::string& text) {
    static const std::map<std::string, ScriptAction::Kind> kinds = {{"step-to-fault", ScriptAction::StepToFault},
                                                                    {"step", ScriptAction::Step},
                                                                    {"step-to-syscall", ScriptAction::StepToSyscall},
                                                                    {"continue", ScriptAction::Continue},
                                                                    {"run-to", ScriptAction::RunTo},
                                                                    {"watch", ScriptAction::Watch},
                                                                    {"walk", ScriptAction::Walk},
                                                                    {"select-frame", ScriptAction::SelectFrame},
                                                                    {"select-fault", ScriptAction::SelectFault},
                                                                    {"select-process", ScriptAction::SelectProcess},
                                                                    {"panel", ScriptAction::Panel},
                                                                    {"hover", ScriptAction::Hover},
                                                                    {"screenshot", ScriptAction::Screenshot},
                                                                    {"dump", ScriptAction::Dump},
                                                                    {"quit", ScriptAction::Quit}};
    static const std::map<std::string, unsigned> filters = {{"anon", emu::FAULT_ANON},    {"file", emu::FAULT_FILE},
                                                            {"cow", emu::FAULT_COW},      {"swap", emu::FAULT_SWAP},
                                                            {"segv", emu::FAULT_SIGSEGV}, {"other", emu::FAULT_OTHER},
                                                            {"tlb", emu::FAULT_TLB_FILL}};
    std::vector<ScriptAction> out;
    std::istringstream in(text);
    std::string raw;
    for (int line = 1; std::getline(in, raw); ++line) {
        const std::string body = raw.substr(0, raw.find('#'));
        std::istringstream words(body);
        std::vector<std::string> w;
        for (std::string x; words >> x;) w.push_back(x);
        if (w.empty()) continue;
        auto k = kinds.find(w[0]);
        if (k == kinds.end()) return bad_line(line, raw, "unknown action (see emu --help)");
        ScriptAction a{};
        a.kind = k->second;
        a.line = line;
        switch (a.kind) {
        case ScriptAction::Step:
        case ScriptAction::StepToSyscall:
        case ScriptAction::SelectFault:
            if (w.size() > 2 || (w.size() == 2 && !parse_count(w[1], a.count)))
                return bad_line(line, raw, "expected an optional positive count");
            break;
        case ScriptAction::SelectProcess:
            if (w.size() != 2 || !parse_count(w[1], a.count)) return bad_line(line, raw, "expected a pid");
            break;
        case ScriptAction::StepToFault:
            for (size_t i = 1; i < w.size(); ++i) {
                if (i == 1 && parse_count(w[i], a.count)) continue;
                auto f = filters.find(w[i]);
                if (f == filters.end())
                    return bad_line(line, raw, "expected a count or anon, file, cow, swap, segv, other, tlb");
                a.filter |= f->second;
            }
            break;
        case ScriptAction::RunTo:
        case ScriptAction::Watch:
        case ScriptAction::Walk:
        case ScriptAction::SelectFrame:
        case ScriptAction::Panel:
        case ScriptAction::Screenshot:
        case ScriptAction::Dump:
            if (w.size() != 2) return bad_line(line, raw, "expected one argument");
            a.arg = w[1];
            break;
        case ScriptAction::Hover: {
            uint64_t x = 0, y = 0;
            if (w.size() != 3 || (!parse_count(w[1], x) && w[1] != "0") || (!parse_count(w[2], y) && w[2] != "0"))
                return bad_line(line, raw, "expected X Y");
            a.x = static_cast<int>(x), a.y = static_cast<int>(y);
            break;
        }
        case ScriptAction::Continue:
        case ScriptAction::Quit:
            if (w.size() != 1) return bad_line(line, raw, "takes no argument");
            break;
        }
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace ui
