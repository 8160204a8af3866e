// emu [options] PROGRAM [ARGS...]: runs a static x86 ELF program on the emulated machine.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "emu/debugger.h"
#include "emu/host_signals.h"
#include "emu/machine.h"
#include "gdbstub/stub.h"
#include "gdbstub/transport.h"
#include "guestos/mm/vmscan.h"
#include "guestos/trace/fault_trace.h"
#include "guestos/include/kernel.h"
#include "ui/lessons.h"
#include "ui/record.h"
#include "ui/ui.h"

extern char** environ;

namespace {

const char* const USAGE =
    "usage: emu [options] PROGRAM [ARGS...]\n"
    "Runs a static i386 or x86-64 Linux ELF program on an emulated x86 machine with a\n"
    "software MMU; the architecture comes from the ELF file.\n"
    "\n"
    "options:\n"
    "  --ram SIZE         emulated physical RAM (default 1G; suffixes K, M, G)\n"
    "  --paging MODE      i386 guest page tables: pae (default) or 2level\n"
    "  --lowmem SIZE      i386: RAM above this is ZONE_HIGHMEM (default 896M; a smaller value\n"
    "                     shows highmem in a small RAM)\n"
    "  --disk IMAGE[:ro]  mount the ext2 image IMAGE as the guest's root (/), read-write\n"
    "                     (:ro read-only); written back at sync, fsync and exit;\n"
    "                     without it the guest's / is the host's (with emu's own /proc,\n"
    "                     /dev and tmpfs at /tmp and /dev/shm)\n"
    "  --host-ro          without --disk: the host's files are read-only to the guest\n"
    "  --mount HOSTDIR:GUESTDIR[:ro]  mount a host directory in the guest (repeatable)\n"
    "  --swap FILE        swap on FILE, a swap area made by mkswap (repeatable)\n"
    "  --tlb-pages N      user pages the shadow TLB maps before it starts over\n"
    "                     (default 262144, i.e. 1 GiB; at least 16)\n"
    "  --strace           print each syscall to stderr in strace's format\n"
    "  --trace-faults[=all]  print one line per page fault to stderr: address, access,\n"
    "                     instruction, VMA, the path taken, PTE before and after (=all adds\n"
    "                     the faults the shadow TLB resolves alone)\n"
    "  --explain-faults   print each page fault as the Linux call path it took\n"
    "  --trace-reclaim    print each reclaim pass to stderr as its Linux call path with the\n"
    "                     pages it scanned, reclaimed and wrote to swap\n"
    "  --stats            print MMU, TLB and fault counters to stderr at exit\n"
    "  --check-mm         at exit, check that the VMA tree, the guest page tables and the\n"
    "                     shadow TLB agree, and that every swap slot's count equals its swap\n"
    "                     PTEs and swap-cache reference; report any disagreement and exit\n"
    "                     with status 70\n"
    "  --record FILE      write memory counters and fault events over time to FILE as JSON\n"
    "                     lines (scripts/plot-recording turns them into PNG plots)\n"
    "  --gdb PORT|PATH    wait for gdb on 127.0.0.1:PORT (0: any free port, printed) or on the\n"
    "                     Unix socket PATH, with the program stopped at its first instruction\n"
    "                     (gdb: target remote :PORT, or target remote PATH; docs/gdb.md)\n"
    "  --help             show this text\n"
    "\n"
    "debugger view (docs/ui.md):\n"
    "  --ui               open the debugger view in a window: step to the next fault, see\n"
    "                     the page walk, the frames, the buddy lists, slabs and the TLB\n"
    "  --ui-headless      the same with no display: run --ui-script and write PNGs\n"
    "  --ui-script FILE   UI actions, one a line: step-to-fault [N] [anon|file|cow|swap|segv|tlb],\n"
    "                     step [N], step-to-syscall [N], continue, run-to ADDR, watch ADDR,\n"
    "                     walk ADDR, select-frame PFN, select-fault N, select-process PID,\n"
    "                     panel NAME, hover X Y, screenshot NAME, dump FILE, quit\n"
    "  --screenshot-dir DIR  where screenshot NAME writes NAME.png (default .)\n"
    "  --ui-state FILE    write the view's state as JSON whenever it changes (for tests)\n"
    "  --lesson NAME      open a lesson (a guest program and a note of what to watch) in the\n"
    "                     view instead of PROGRAM; --lesson list lists them\n"
    "\n"
    "The guest's exit status becomes emu's; a guest killed by a signal kills emu with it.\n";

struct Options {
    guestos::KernelConfig kernel;
    emu::CpuConfig cpu;
    bool stats = false;
    bool check_mm = false;
    int trace_faults = 0;  // 1: true faults, 2: also hidden ones
    bool explain_faults = false;
    bool trace_reclaim = false;
    std::vector<std::string> argv;
    bool ui = false;
    ui::UiOptions ui_opts;
    std::string lesson;
    std::string record;
    std::string gdb;  // --gdb PORT|PATH
};

[[noreturn]] void die(const std::string& msg, int status = 127) {
    std::fprintf(stderr, "emu: %s\n", msg.c_str());
    std::exit(status);
}

// "256M", "1G", "65536K" or bytes; 0 when malformed.
uint64_t parse_size(const std::string& s) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (errno || end == s.c_str() || s[0] == '-') return 0;
    std::string suffix(end);
    uint64_t mul = 1;
    if (suffix == "K" || suffix == "k") mul = 1ull << 10;
    else if (suffix == "M" || suffix == "m") mul = 1ull << 20;
    else if (suffix == "G" || suffix == "g") mul = 1ull << 30;
    else if (!suffix.empty()) return 0;
    if (v > (1ull << 46) / mul) return 0;
    return v * mul;
}

Options parse_args(int argc, char** argv) {
    Options o;
    int i = 1;
    auto value = [&](const std::string& opt) -> std::string {
        if (i + 1 >= argc) die("option " + opt + " needs a value", 2);
        return argv[++i];
    };
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.rfind("--", 0) != 0) break;
        std::string opt = a, val;
        bool has_eq = false;
        if (auto eq = a.find('='); eq != std::string::npos) {
            opt = a.substr(0, eq);
            val = a.substr(eq + 1);
            has_eq = true;
        }
        auto arg = [&] { return has_eq ? val : value(opt); };
        if (opt == "--help") {
            std::fputs(USAGE, stdout);
            std::exit(0);
        } else if (opt == "--strace") {
            o.kernel.strace = true;
        } else if (opt == "--stats") {
            o.stats = true;
        } else if (opt == "--check-mm") {
            o.check_mm = true;
        } else if (opt == "--trace-faults") {
            if (has_eq && val != "all")
                die("--trace-faults=" + val + ": expected --trace-faults or --trace-faults=all", 2);
            o.trace_faults = has_eq ? 2 : 1;
        } else if (opt == "--trace-reclaim") {
            o.trace_reclaim = true;
        } else if (opt == "--explain-faults") {
            o.explain_faults = true;
        } else if (opt == "--ram") {
            std::string v = arg();
            o.kernel.ram_bytes = parse_size(v);
            if (!o.kernel.ram_bytes || (o.kernel.ram_bytes & 4095))
                die("--ram " + v + ": expected a size such as 256M or 1G", 2);
        } else if (opt == "--lowmem") {
            std::string v = arg();
            o.kernel.lowmem_bytes = parse_size(v);
            if (o.kernel.lowmem_bytes < (4ull << 20)) die("--lowmem " + v + ": expected a size of at least 4M", 2);
        } else if (opt == "--paging") {
            std::string v = arg();
            if (v == "pae") o.kernel.i386_paging = mmu::PagingMode::PAE;
            else if (v == "2level") o.kernel.i386_paging = mmu::PagingMode::Legacy32;
            else die("--paging " + v + ": expected pae or 2level", 2);
        } else if (opt == "--swap") {
            o.kernel.swap_files.push_back(arg());
        } else if (opt == "--disk") {
            std::string v = arg();
            o.kernel.root_read_only = false;
            for (const char* suffix : {":ro", ":rw"})
                if (v.size() > 3 && v.compare(v.size() - 3, 3, suffix) == 0) {
                    o.kernel.root_read_only = suffix[1] == 'r' && suffix[2] == 'o';
                    v.resize(v.size() - 3);
                }
            o.kernel.root_image = v;
        } else if (opt == "--host-ro") {
            o.kernel.host_ro = true;
        } else if (opt == "--mount") {
            const std::string v = arg();
            guestos::KernelConfig::HostMount m;
            const size_t c1 = v.find(':');
            const size_t c2 = c1 == std::string::npos ? c1 : v.find(':', c1 + 1);
            m.host = v.substr(0, c1);
            m.guest = c1 == std::string::npos ? "" : v.substr(c1 + 1, c2 == std::string::npos ? c2 : c2 - c1 - 1);
            const std::string mode = c2 == std::string::npos ? "" : v.substr(c2 + 1);
            if (m.host.empty() || m.guest.empty() || m.guest[0] != '/' ||
                (!mode.empty() && mode != "ro" && mode != "rw"))
                die("--mount " + v + ": expected HOSTDIR:GUESTDIR[:ro] with an absolute GUESTDIR", 2);
            m.read_only = mode == "ro";
            o.kernel.host_mounts.push_back(m);
        } else if (opt == "--tlb-pages") {
            std::string v = arg();
            o.cpu.tlb_pages = parse_size(v);
            if (o.cpu.tlb_pages < 16) die("--tlb-pages " + v + ": expected a number of at least 16", 2);
        } else if (opt == "--ui") {
            o.ui = true;
        } else if (opt == "--ui-headless") {
            o.ui = o.ui_opts.headless = true;
        } else if (opt == "--ui-script") {
            o.ui_opts.script = arg();
        } else if (opt == "--screenshot-dir") {
            o.ui_opts.screenshot_dir = arg();
        } else if (opt == "--ui-state") {
            o.ui_opts.state_file = arg();
        } else if (opt == "--lesson") {
            o.lesson = arg();
        } else if (opt == "--record") {
            o.record = arg();
        } else if (opt == "--gdb") {
            o.gdb = arg();
            if (o.gdb.empty()) die("--gdb: expected a port or a socket path", 2);
        } else {
            die("unknown option " + a + " (see emu --help)", 2);
        }
    }
    if (o.lesson == "list") {
        std::fputs(ui::lesson_list().c_str(), stdout);
        std::exit(0);
    }
    if (!o.lesson.empty()) {
        const ui::Lesson* l = ui::find_lesson(o.lesson);
        if (!l) die("--lesson " + o.lesson + ": no such lesson (emu --lesson list)", 2);
        o.ui = true;
        o.argv = {ui::lesson_program_path(*l)};
        o.argv.insert(o.argv.end(), l->args.begin(), l->args.end());
        if (l->ram && o.kernel.ram_bytes == guestos::KernelConfig{}.ram_bytes) o.kernel.ram_bytes = l->ram;
        if (l->lowmem && o.kernel.lowmem_bytes == guestos::KernelConfig{}.lowmem_bytes)
            o.kernel.lowmem_bytes = l->lowmem;
        return o;
    }
    if (i >= argc) {
        std::fputs(USAGE, stderr);
        std::exit(2);
    }
    for (; i < argc; ++i) o.argv.push_back(argv[i]);
    return o;
}

void print_stats(guestos::Kernel& k, const emu::TlbStats& t, const guestos::task_struct& task) {
    (void)task;
    auto& ram = k.page_alloc();
    std::fprintf(stderr,
                 "emu: stats\n"
                 "syscalls %llu\n"
                 "pgfault %llu\n"
                 "pgmajfault %llu\n"
                 "cow_breaks %llu\n"
                 "zero_page_maps %llu\n"
                 "tlb_fills %llu\n"
                 "tlb_hidden_faults %llu\n"
                 "tlb_dirty_upgrades %llu\n"
                 "tlb_wx_switches %llu\n"
                 "tlb_true_faults %llu\n"
                 "tlb_invalidations %llu\n"
                 "tlb_full_flushes %llu\n"
                 "tlb_cpu_flushes %llu\n"
                 "tlb_cpu_page_flushes %llu\n"
                 "tlb_cpu_full_flushes %llu\n"
                 "tlb_cpu_fills %llu\n"
                 "nr_free_pages %llu\n"
                 "totalram_pages %llu\n",
                 (unsigned long long)k.stats.syscalls, (unsigned long long)k.stats.pgfault,
                 (unsigned long long)k.stats.pgmajfault, (unsigned long long)k.stats.cow_breaks,
                 (unsigned long long)k.stats.zero_page_maps, (unsigned long long)t.fills,
                 (unsigned long long)t.hidden_faults, (unsigned long long)t.dirty_upgrades,
                 (unsigned long long)t.wx_switches, (unsigned long long)t.true_faults,
                 (unsigned long long)t.invalidations, (unsigned long long)t.full_flushes,
                 (unsigned long long)t.cpu_tlb_flushes, (unsigned long long)t.cpu_tlb_page_flushes,
                 (unsigned long long)t.cpu_tlb_full_flushes, (unsigned long long)t.cpu_tlb_fills,
                 (unsigned long long)ram.nr_free_pages(), (unsigned long long)ram.totalram_pages());
    std::fputs(k.allocator_stats().c_str(), stderr);
}

// One line per fault (--trace-faults): what faulted, where, and what the kernel did.
// strace -f's "[pid N] " when more than one task exists.
std::string pid_prefix(const guestos::FaultEvent& e) {
    if (!e.pid) return {};
    char buf[32];
    std::snprintf(buf, sizeof buf, "[pid %5d] ", e.pid);
    return buf;
}

void print_fault_line(const guestos::FaultEvent& e) {
    std::string path;
    for (const guestos::FaultStep& step : e.path) {
        const std::string& fn = step.fn;  // remarks (no function) and the common frame are left out
        if (fn.empty() || fn == "set_pte_at" || fn == "find_vma" || fn == "handle_mm_fault" || fn == "do_page_fault")
            continue;
        path += (path.empty() ? "" : " > ") + fn;
    }
    std::fprintf(stderr, "%sfault %llu: %s %s at %s \"%s\"%s%s%s: %s pte %s -> %s\n", pid_prefix(e).c_str(),
                 (unsigned long long)e.seq, guestos::hex(e.address.value).c_str(),
                 e.hidden ? "(hidden)" : guestos::describe_error_code(e.error_code).c_str(), guestos::hex(e.ip).c_str(),
                 e.insn.c_str(), e.vma.empty() ? "" : " in [", e.vma.c_str(), e.vma.empty() ? "" : "]",
                 path.empty() ? e.outcome.c_str() : (path + ", " + e.outcome).c_str(),
                 guestos::hex(e.pte_before).c_str(), guestos::hex(e.pte_after).c_str());
}

// The Linux call path of a fault (--explain-faults).
void print_fault_explanation(const guestos::FaultEvent& e) {
    const std::string prefix = pid_prefix(e);
    std::fprintf(stderr, "%spage fault %llu at %s (%s) by \"%s\" at %s\n", prefix.c_str(), (unsigned long long)e.seq,
                 guestos::hex(e.address.value).c_str(),
                 e.hidden ? "hidden" : guestos::describe_error_code(e.error_code).c_str(), e.insn.c_str(),
                 guestos::hex(e.ip).c_str());
    for (const auto& step : e.path) std::fprintf(stderr, "%s  %s\n", prefix.c_str(), step.text().c_str());
    std::fprintf(stderr, "%s  => %s\n", prefix.c_str(), e.outcome.c_str());
}

// Ends emu the way the guest ended: its exit status, or death by the same signal.
[[noreturn]] void exit_like(int status) {
    std::fflush(nullptr);
#if defined(__SANITIZE_ADDRESS__)
    // _Exit and raise skip the atexit hook LeakSanitizer checks from: check here (a leak
    // report ends emu with LSan's exit code).
    __lsan_do_leak_check();
#endif
    if (const int sig = status & 0x7f) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);  // emu's own core is of no use to the guest
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, nullptr);
        raise(sig);
        std::_Exit(128 + sig);
    }
    std::_Exit((status >> 8) & 0xff);
}

}  // namespace

#ifdef EMU_WITH_UI
// The debugger view (--ui, --ui-headless, --lesson) over the program.
int run_ui(const Options& opt, const std::vector<std::string>& envp, ui::Recorder* recorder) {
    ui::SessionConfig cfg;
    cfg.kernel = opt.kernel;
    cfg.cpu = opt.cpu;
    cfg.argv = opt.argv;
    cfg.envp = envp;
    cfg.recorder = recorder;
    std::string swapfile;  // a lesson's own swap area, for this run only
    if (const ui::Lesson* l = ui::find_lesson(opt.lesson)) {
        cfg.lesson_note = std::string(l->title) + ". " + l->note;
        if (l->swap && cfg.kernel.swap_files.empty()) {
            std::string err;
            swapfile = ui::make_lesson_swapfile(l->swap, err);
            if (swapfile.empty()) die(err, 1);
            cfg.kernel.swap_files.push_back(swapfile);
        }
    }
    const int rc = ui::run_ui(cfg, opt.ui_opts);
    ui::remove_lesson_swapfile(swapfile);
    return rc;
}
#else
// The debugger view lives in emu-ui beside this binary, so that a plain run does not load
// SDL2 and its forty-odd libraries: --ui, --ui-headless and --lesson run it with the same
// arguments.
[[noreturn]] void exec_ui(char** argv) {
    std::string self(4096, '\0');
    const ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
    self.resize(n > 0 ? static_cast<size_t>(n) : 0);
    const std::string ui_binary = self.substr(0, self.rfind('/') + 1) + "emu-ui";
    ::execv(ui_binary.c_str(), argv);
    die("cannot start the debugger view " + ui_binary + ": " + std::strerror(errno), 2);
}
#endif

// The program under gdb (--gdb): stopped at its entry point until gdb connects and runs it.
[[noreturn]] void run_gdb(const Options& opt, const std::vector<std::string>& envp) {
    std::string err;
    auto listener = gdbstub::Listener::open(opt.gdb, err);
    if (!listener) die(err, 2);
    guestos::Kernel kernel(opt.kernel);
    if (auto r = kernel.boot(); r.is_error()) die(r.error().message, 1);
    guestos::task_struct task;
    kernel.init_task(task);
    auto exec = kernel.exec(task, opt.argv[0], opt.argv, envp);
    if (exec.is_error()) die(exec.error().message, exec.error().errno_value == ENOENT ? 127 : 126);
    emu::Machine machine(kernel, opt.cpu);
    machine.start(task, exec.value());
    emu::Debugger dbg(kernel, machine);
    const emu::Stop at_entry = dbg.run_to(exec.value().entry);  // as qemu-user -g: no user instruction ran
    if (at_entry.reason == emu::StopReason::Error) die(at_entry.detail, 1);
    std::fprintf(stderr, "emu: gdb: listening on %s\n", listener->address().c_str());
    std::fflush(stderr);
    auto conn = listener->accept(err);
    if (!conn) die(err, 1);
    gdbstub::GdbStub stub(kernel, dbg, *conn);
    const gdbstub::GdbStub::End end = stub.serve();
    conn.reset();
    if (end == gdbstub::GdbStub::End::Killed) {
        kernel.umount_all();
        exit_like(SIGKILL);
    }
    // Detached (or gdb went away): the program runs on alone, a held fork child too.
    dbg.detach_all();
    while (!dbg.exited())
        if (emu::Stop s = dbg.cont(); s.reason == emu::StopReason::Error) die(s.detail, 1);
    if (opt.stats) print_stats(kernel, machine.tlb_stats(), task);
    kernel.umount_all();
    exit_like(kernel.init_exit_status.value_or(0));
}

int main(int argc, char** argv) {
    Options opt = parse_args(argc, argv);
#ifndef EMU_WITH_UI
    if (opt.ui) exec_ui(argv);
#endif
    static guestos::ReclaimTracer reclaim_printer{
        [](const std::string& step) { std::fprintf(stderr, "reclaim: %s\n", step.c_str()); }, {}};
    if (opt.trace_reclaim) guestos::reclaim_tracer() = &reclaim_printer;
    std::vector<std::string> envp;
    for (char** e = environ; *e; ++e) envp.emplace_back(*e);
    std::unique_ptr<ui::Recorder> recorder;
    if (!opt.record.empty()) {
        std::string err;
        if (!(recorder = ui::Recorder::open(opt.record, err))) die(err, 2);
    }
    if (!opt.gdb.empty()) run_gdb(opt, envp);
#ifdef EMU_WITH_UI
    if (opt.ui) {
        if (recorder) recorder->follow(nullptr);
        const int status = run_ui(opt, envp, recorder.get());
        if (recorder) recorder->finish();
        return status;
    }
#endif
    if (opt.trace_faults || opt.explain_faults) {
        const int level = opt.trace_faults;
        const bool explain = opt.explain_faults;
        guestos::fault_tracer().subscribe([level, explain](const guestos::FaultEvent& e) {
            if (e.hidden && level < 2) return;
            if (level) print_fault_line(e);
            if (explain && !e.hidden) print_fault_explanation(e);
        });
    }
    guestos::Kernel kernel(opt.kernel);
    if (auto r = kernel.boot(); r.is_error()) die(r.error().message, 1);
    if (recorder) recorder->follow(&kernel);

    guestos::task_struct task;
    kernel.init_task(task);
    auto exec = kernel.exec(task, opt.argv[0], opt.argv, envp);
    if (exec.is_error()) die(exec.error().message, exec.error().errno_value == ENOENT ? 127 : 126);

    emu::Machine machine(kernel, opt.cpu);
    if (opt.check_mm) machine.enable_check_mm();
    emu::HostSignals host_signals(kernel);  // Ctrl-C and kill(1) of emu reach the guest
    auto r = machine.run(task, exec.value());
    if (recorder) recorder->finish();
    if (opt.stats) print_stats(kernel, machine.tlb_stats(), task);
    if (r.is_error()) die(r.error().message, 1);
    if (opt.check_mm) {
        std::vector<std::string> problems = machine.mm_problems();
        // Every address space is gone: each commitment must have been given back, but for
        // what the shmem files that outlive them (tmpfs files, SysV segments) still hold.
        const guestos::vm_overcommit& o = kernel.page_alloc().overcommit;
        if (o.vm_committed_as != o.shmem_committed)
            problems.push_back("Committed_AS is " + std::to_string(o.vm_committed_as) + " pages, shmem holds " +
                               std::to_string(o.shmem_committed) + ", after every address space was torn down");
        for (const auto& p : problems) std::fprintf(stderr, "emu: mm check: %s\n", p.c_str());
        if (!problems.empty())
            die(std::to_string(problems.size()) + " disagreements between the VMAs, page tables and shadow TLB", 70);
    }
    kernel.umount_all();
    exit_like(kernel.init_exit_status.value_or(0));
}