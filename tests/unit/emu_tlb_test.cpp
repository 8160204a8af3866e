// The shadow TLB seen from outside: the real machine (Kernel + Cpu on Unicorn) runs the guest
// program tests/guest/touch.c in-process, and the TLB counters must show the fills, dirty
// upgrades, invalidations and capacity flushes its access pattern implies. Also: emulated RAM
// running out kills the guest with SIGKILL instead of crashing emu, and boot refuses tiny RAM.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "emu/machine.h"
#include "guestos/trace/fault_trace.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/rmap.h"
#include "guestos/include/kernel.h"
#include "guestos/fs/proc/meminfo.h"

namespace {

// Host file descriptor `fd` redirected into a memfd for the lifetime of the object.
class CaptureFd {
public:
    explicit CaptureFd(int fd) : fd_(fd) {
        std::fflush(nullptr);
        mem_ = memfd_create("emu_tlb_test_capture", 0);
        saved_ = dup(fd_);
        if (mem_ >= 0 && saved_ >= 0) dup2(mem_, fd_);
    }
    ~CaptureFd() { restore(); }
    // Restores the descriptor and returns everything written to it.
    std::string restore() {
        if (saved_ >= 0) {
            std::fflush(nullptr);
            dup2(saved_, fd_);
            close(saved_);
            saved_ = -1;
            char buf[4096];
            off_t off = 0;
            for (ssize_t n; (n = pread(mem_, buf, sizeof buf, off)) > 0; off += n) text_.append(buf, n);
            close(mem_);
        }
        return text_;
    }

private:
    int fd_, mem_ = -1, saved_ = -1;
    std::string text_;
};

// active_objs of cache `name` in the kernel's /proc/slabinfo (0 when it has no such line).
uint64_t slabinfo_active(const guestos::Kernel& k, const std::string& name) {
    const std::string text = k.proc_global("slabinfo").value_or("");
    for (size_t at = 0; (at = text.find(name + " ", at)) != std::string::npos; ++at)
        if (at == 0 || text[at - 1] == '\n') return std::stoull(text.substr(at + name.size()));
    return 0;
}

struct GuestRun {
    std::string error;  // a failure of boot, exec, Cpu::create or Cpu::run
    emu::TlbStats tlb;
    bool exited = false;
    int exit_code = -1, exit_signal = -1;
    std::string out, err;
    bool meminfo_balanced = false;  // MemTotal and RAM add up to the page at the end
    uint64_t vma_slab_objects = 0;  // vm_area_struct active_objs in /proc/slabinfo at the end
    uint64_t anon_vma_objects = 0, anon_vma_chain_objects = 0;  // likewise for the rmap objects
    uint64_t anon_vmas_linked = 0, chains_linked = 0;           // what the VMAs link to, counted from the mm
    int map_count = -1;
    std::vector<std::string> mm_problems;  // VMA tree / page tables / shadow disagreements
    uint64_t pgmajfault = 0, cow_breaks = 0, zero_page_maps = 0;
};

struct Machine {
    const char* name;   // test-name suffix
    const char* build;  // touch.<build>
    mmu::PagingMode i386_paging;
};

// gtest prints the parameter of a failing test with this.
void PrintTo(const Machine& m, std::ostream* os) { *os << m.name; }

std::string guest_path(const char* build, const std::string& prog = "touch") {
    return std::string(EMU_BINARY_DIR "/guest/") + prog + "." + build;
}

// Boots a kernel, execs guest program PROG ARGS... and runs it to the end, with fds 1 and 2
// captured.
GuestRun run_guest(const Machine& m, const std::string& prog, const std::vector<std::string>& args,
                   guestos::KernelConfig kcfg = {}, emu::CpuConfig ccfg = {}) {
    GuestRun r;
    kcfg.i386_paging = m.i386_paging;
    guestos::Kernel k(kcfg);
    if (auto b = k.boot(); b.is_error()) {
        r.error = "boot: " + b.error().message;
        return r;
    }
    guestos::task_struct t;
    k.init_task(t);
    const std::string path = guest_path(m.build, prog);
    std::vector<std::string> argv = {path};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::vector<std::string> envp = {"PATH=/usr/bin:/bin", "LANG=C"};
    auto ex = k.exec(t, path, argv, envp);
    if (ex.is_error()) {
        r.error = "exec " + path + ": " + ex.error().message;
        return r;
    }
    emu::Machine machine(k, ccfg);
    machine.enable_check_mm();
    // The mm is torn down when the program exits: its figures are taken just before.
    machine.set_mm_exit_observer([&](guestos::mm_struct& mm) {
        r.tlb = machine.tlb_stats();  // the program's, without the teardown's invalidations
        r.cow_breaks = mm.cow_breaks;
        r.zero_page_maps = mm.zero_page_maps;
        r.vma_slab_objects = slabinfo_active(k, "vm_area_struct");
        r.map_count = mm.map_count;
        r.anon_vma_objects = slabinfo_active(k, "anon_vma");
        r.anon_vma_chain_objects = slabinfo_active(k, "anon_vma_chain");
        std::set<const guestos::anon_vma*> avs;
        for (const guestos::vm_area_struct& v : mm.mm_rb) {
            r.chains_linked += v.anon_vma_chain.size();
            for (const guestos::anon_vma_chain* avc : v.anon_vma_chain) avs.insert(avc->av);
        }
        r.anon_vmas_linked = avs.size();
    });
    {
        CaptureFd out(1), err(2);
        auto run = machine.run(t, ex.value());
        r.err = err.restore();
        r.out = out.restore();
        if (run.is_error()) r.error = "run: " + run.error().message;
    }
    r.mm_problems = machine.mm_problems();
    r.pgmajfault = k.stats.pgmajfault;
    if (const guestos::BuddyAllocator* buddy = k.buddy())
        r.meminfo_balanced = guestos::meminfo_accounts(*buddy).balanced();
    r.exited = t.exited;
    r.exit_code = (t.exit_code >> 8) & 0xff;
    r.exit_signal = t.term_signal();
    return r;
}

// Runs touch N MODE (tests/guest/touch.c).
GuestRun run_touch(const Machine& m, unsigned long pages, const std::string& mode, guestos::KernelConfig kcfg = {},
                   emu::CpuConfig ccfg = {}) {
    return run_guest(m, "touch", {std::to_string(pages), mode}, kcfg, ccfg);
}

// What touch.c prints for N pages (the same formula: page i holds (7i+1)|1, its neighbour 0).
std::string expected_output(unsigned long pages, const std::string& mode) {
    uint64_t sum = 0;
    for (unsigned long i = 0; i < pages; ++i) sum = sum * 31 + static_cast<unsigned char>((i * 7 + 1) | 1);
    return "touch " + std::to_string(pages) + " " + mode + " checksum " + std::to_string(sum) + "\n";
}

std::string describe(const GuestRun& r) {
    const auto& s = r.tlb;
    return "error='" + r.error + "' exit_code=" + std::to_string(r.exit_code) +
           " exit_signal=" + std::to_string(r.exit_signal) + " fills=" + std::to_string(s.fills) +
           " hidden_faults=" + std::to_string(s.hidden_faults) + " dirty_upgrades=" + std::to_string(s.dirty_upgrades) +
           " true_faults=" + std::to_string(s.true_faults) + " invalidations=" + std::to_string(s.invalidations) +
           " full_flushes=" + std::to_string(s.full_flushes) + " cpu_tlb_flushes=" + std::to_string(s.cpu_tlb_flushes) +
           " cpu_tlb_fills=" + std::to_string(s.cpu_tlb_fills) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// The run ended by exit(0) with touch's correct output.
void expect_success(const GuestRun& r, unsigned long pages, const std::string& mode) {
    ASSERT_EQ(r.error, "") << describe(r);
    EXPECT_TRUE(r.exited) << describe(r);
    EXPECT_EQ(r.exit_signal, 0) << describe(r);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, expected_output(pages, mode)) << describe(r);
    EXPECT_TRUE(r.mm_problems.empty()) << r.mm_problems.front();
}

class EmuTlbTest : public ::testing::TestWithParam<Machine> {
protected:
    void SetUp() override {
        if (access(guest_path(GetParam().build).c_str(), X_OK) != 0)
            GTEST_SKIP() << guest_path(GetParam().build) << " is not built (target guest_programs)";
    }
    const Machine& machine() const { return GetParam(); }
};

TEST_P(EmuTlbTest, FirstWriteToEachFreshPageIsATrueFaultAndAFill) {
    auto r = run_touch(machine(), 256, "write");
    expect_success(r, 256, "write");
    EXPECT_GE(r.tlb.true_faults, 256u) << describe(r);
    EXPECT_GE(r.tlb.fills, 256u) << describe(r);
    // Unicorn's TLB reaches every page through its frame (tlb_fill_paddr), at least once.
    EXPECT_GE(r.tlb.cpu_tlb_fills, 256u) << describe(r);
}

TEST_P(EmuTlbTest, ReadThenWriteMapsTheZeroPageThenCopiesOnWrite) {
    // A read of fresh anonymous memory maps the shared zero page read-only; the first write
    // is a second true fault that copies it (do_wp_page), not a dirty upgrade.
    auto rw = run_touch(machine(), 256, "readwrite");
    expect_success(rw, 256, "readwrite");
    auto w = run_touch(machine(), 256, "write");
    expect_success(w, 256, "write");
    // About one more true fault per page (start-up faults differ by a few between runs;
    // TraceShowsZeroPageOnReadThenCopyOnWrite checks every page exactly).
    EXPECT_GE(rw.tlb.true_faults, w.tlb.true_faults + 256 - 16) << describe(rw) << describe(w);
    EXPECT_LT(rw.tlb.dirty_upgrades, 256u / 4) << describe(rw);
}

TEST_P(EmuTlbTest, WriteFaultMapsThePageDirtyAtOnce) {
    auto w = run_touch(machine(), 256, "write");
    expect_success(w, 256, "write");
    EXPECT_LT(w.tlb.dirty_upgrades, 256u / 4) << describe(w);
}

TEST_P(EmuTlbTest, MunmapInvalidatesEveryTouchedPage) {
    auto u = run_touch(machine(), 64, "unmap");
    expect_success(u, 64, "unmap");
    EXPECT_GE(u.tlb.invalidations, 64u) << describe(u);
    EXPECT_GE(u.tlb.cpu_tlb_flushes, 1u) << describe(u);

    // The same touches without munmap: the 64 invalidations came from munmap.
    auto w = run_touch(machine(), 64, "write");
    expect_success(w, 64, "write");
    EXPECT_LT(w.tlb.invalidations, 64u / 4) << describe(w);
    EXPECT_GE(u.tlb.invalidations, w.tlb.invalidations + 64) << "unmap: " << describe(u) << "\nwrite: " << describe(w);
    EXPECT_GT(u.tlb.cpu_tlb_flushes, w.tlb.cpu_tlb_flushes) << "unmap: " << describe(u) << "\nwrite: " << describe(w);
}

TEST_P(EmuTlbTest, SmallTlbCapacityStartsOverAndStaysCorrect) {
    emu::CpuConfig ccfg;
    ccfg.tlb_pages = 64;
    auto r = run_touch(machine(), 1024, "write", {}, ccfg);
    expect_success(r, 1024, "write");
    EXPECT_GE(r.tlb.full_flushes, 1024u / 64 - 1) << describe(r);
    EXPECT_GE(r.tlb.cpu_tlb_fills, 1024u) << describe(r);

    // With the default capacity the same run never needs to start over.
    auto d = run_touch(machine(), 1024, "write");
    expect_success(d, 1024, "write");
    EXPECT_EQ(d.tlb.full_flushes, 0u) << describe(d);
}

TEST_P(EmuTlbTest, OutOfEmulatedRamKillsTheGuestWithSigkill) {
    guestos::KernelConfig kcfg;
    kcfg.ram_bytes = 8ull << 20;
    // 32 MiB in 8 MiB of RAM and no swap: overcommit's heuristic refuses the mapping...
    auto refused = run_touch(machine(), 8192, "write", kcfg);
    ASSERT_EQ(refused.error, "") << describe(refused);
    EXPECT_EQ(refused.exit_code, 2) << describe(refused);
    EXPECT_NE(refused.err.find("Cannot allocate memory"), std::string::npos) << describe(refused);
    // ...and MAP_NORESERVE gets it, until the touches run out of RAM.
    auto r = run_touch(machine(), 8192, "noreserve", kcfg);
    ASSERT_EQ(r.error, "") << describe(r);
    EXPECT_TRUE(r.exited) << describe(r);
    EXPECT_EQ(r.exit_signal, 9) << describe(r);
    EXPECT_EQ(r.out, "") << describe(r);  // killed before printing
    EXPECT_NE(r.err.find("Out of memory: Killed process "), std::string::npos) << describe(r);

    // The same program fits in the default RAM.
    auto ok = run_touch(machine(), 8192, "write");
    expect_success(ok, 8192, "write");
}

// tests/guest/tlb_stale.c CASE N: the guest changes N touched pages with one syscall and
// checks at once that no old translation answers (it prints "CASE N: ok").
GuestRun run_stale(const Machine& m, const std::string& c, unsigned long n) {
    return run_guest(m, "tlb_stale", {c, std::to_string(n)});
}

TEST_P(EmuTlbTest, NoStaleTranslationSurvivesAnyChangeOfThePageTables) {
    for (const char* c : {"munmap", "remap", "fixed", "prot_none", "prot_read", "dontneed", "mremap", "cow"}) {
        for (unsigned long n : {1ul, 16ul, 64ul}) {
            auto r = run_stale(machine(), c, n);
            ASSERT_EQ(r.error, "") << describe(r);
            EXPECT_EQ(r.exit_code, 0) << c << " " << n << ": " << describe(r);
            EXPECT_EQ(r.out, std::string(c) + " " + std::to_string(n) + ": ok\n") << describe(r);
            EXPECT_TRUE(r.mm_problems.empty()) << c << " " << n << ": " << r.mm_problems.front();
        }
    }
}

TEST_P(EmuTlbTest, MunmapFlushesUnicornsTlbOnceAPageAtATimeUpToTheCeiling) {
    // The same run without the munmap is the baseline: the munmap alone adds one batch of
    // exactly its pages, flushed one by one up to 33 pages and as one full flush past that.
    for (unsigned long n : {1ul, 16ul, 33ul, 34ul, 64ul}) {
        auto base = run_stale(machine(), "none", n);
        auto u = run_stale(machine(), "munmap", n);
        ASSERT_EQ(u.out, "munmap " + std::to_string(n) + ": ok\n") << describe(u);
        ASSERT_EQ(base.out, "none " + std::to_string(n) + ": ok\n") << describe(base);
        const bool single = n <= emu::TLB_SINGLE_PAGE_FLUSH_CEILING;
        EXPECT_EQ(u.tlb.invalidations - base.tlb.invalidations, n) << describe(u) << describe(base);
        EXPECT_EQ(u.tlb.cpu_tlb_flushes - base.tlb.cpu_tlb_flushes, 1u) << n << " pages: " << describe(u);
        EXPECT_EQ(u.tlb.cpu_tlb_page_flushes - base.tlb.cpu_tlb_page_flushes, single ? n : 0) << describe(u);
        EXPECT_EQ(u.tlb.cpu_tlb_full_flushes - base.tlb.cpu_tlb_full_flushes, single ? 0u : 1u) << describe(u);
    }
}

const Machine kMachines[] = {
    {"x86_64", "x86_64", mmu::PagingMode::PAE},
    {"i386_pae", "i386", mmu::PagingMode::PAE},
    {"i386_2level", "i386", mmu::PagingMode::Legacy32},
};

INSTANTIATE_TEST_SUITE_P(Guests, EmuTlbTest, ::testing::ValuesIn(kMachines),
                         [](const ::testing::TestParamInfo<Machine>& i) { return std::string(i.param.name); });

// Boot checks the RAM size before anything else: below 4 MiB is refused with a reason.
TEST(EmuTlbBootTest, RamBelowFourMebibytesIsRefused) {
    for (uint64_t bytes : {0ull, 1ull << 20, (4ull << 20) - 4096}) {
        guestos::KernelConfig cfg;
        cfg.ram_bytes = bytes;
        guestos::Kernel k(cfg);
        auto r = k.boot();
        ASSERT_TRUE(r.is_error()) << bytes << " bytes";
        EXPECT_NE(r.error().message.find("4M"), std::string::npos) << r.error().message;
    }
    guestos::KernelConfig cfg;
    cfg.ram_bytes = 4ull << 20;
    guestos::Kernel k(cfg);
    EXPECT_FALSE(k.boot().is_error()) << "exactly 4 MiB is enough";
}

}  // namespace

namespace {

// Records every fault event of one run (the explainer's stream).
struct TraceRecorder {
    std::vector<guestos::FaultEvent> events;
    TraceRecorder() {
        guestos::fault_tracer().subscribe([this](const guestos::FaultEvent& e) { events.push_back(e); });
    }
    ~TraceRecorder() { guestos::fault_tracer().unsubscribe_all(); }
};

bool path_has(const guestos::FaultEvent& e, const std::string& step) {
    for (const auto& s : e.path)
        if (s.text().rfind(step, 0) == 0) return true;
    return false;
}

}  // namespace

TEST_P(EmuTlbTest, TraceShowsZeroPageOnReadThenCopyOnWrite) {
    TraceRecorder rec;
    auto r = run_touch(machine(), 16, "readwrite");
    expect_success(r, 16, "readwrite");
    // Pages that first got the zero page, then a copy on the write to the same page.
    std::vector<uint64_t> zero_pages;
    int zero_then_cow = 0;
    for (const auto& e : rec.events) {
        const uint64_t page = e.address.page_base().value;
        if (path_has(e, "do_anonymous_page") && path_has(e, "my_zero_pfn")) zero_pages.push_back(page);
        if (path_has(e, "do_wp_page") && path_has(e, "wp_page_copy") &&
            std::count(zero_pages.begin(), zero_pages.end(), page))
            ++zero_then_cow;
    }
    EXPECT_GE(zero_pages.size(), 16u);
    EXPECT_GE(zero_then_cow, 16);
}

TEST_P(EmuTlbTest, TraceShowsTheWriteFaultSetsDirtyExactlyOnce) {
    TraceRecorder rec;
    auto r = run_touch(machine(), 16, "write");
    expect_success(r, 16, "write");
    const uint64_t dirty = mmu::_PAGE_DIRTY;
    int fresh = 0;
    for (size_t i = 0; i < rec.events.size(); ++i) {
        const auto& e = rec.events[i];
        if (!path_has(e, "alloc_page(GFP_HIGHUSER_MOVABLE|__GFP_ZERO)")) continue;
        ++fresh;
        EXPECT_EQ(e.pte_before, 0u);
        EXPECT_TRUE(e.pte_after & dirty) << guestos::hex(e.pte_after);
        // No later fault of any kind on this page: D was set once, by the fault itself.
        for (size_t j = i + 1; j < rec.events.size(); ++j)
            EXPECT_NE(rec.events[j].address.page_base(), e.address.page_base()) << "fault " << rec.events[j].seq;
    }
    EXPECT_GE(fresh, 16);
}

// Sums what the fault-around steps of a run mapped, and counts them.
struct FaultAround {
    int faults = 0;
    unsigned long mapped = 0;
    unsigned long largest = 0;
};
FaultAround fault_around_of(const std::vector<guestos::FaultEvent>& events) {
    FaultAround fa;
    const std::string mapped = "filemap_map_pages mapped ";
    for (const auto& e : events)
        for (const auto& s : e.path)
            if (s.fn == "do_fault_around" && e.vma.find("/dev/shm/emu-touch-") != std::string::npos) {
                const unsigned long n = std::stoul(s.result.substr(mapped.size()));
                ++fa.faults;
                fa.mapped += n;
                fa.largest = std::max(fa.largest, n);
            }
    return fa;
}

TEST_P(EmuTlbTest, TraceShowsFaultAroundMappingCachedFilePages) {
    // 64 pages written into a tmpfs file are all in its page cache; reading them through a
    // shared mapping faults once per 64 KiB window, and each fault maps the window's pages
    // (do_fault_around), so about 64 / 16 faults map all 64 pages.
    {
        TraceRecorder rec;
        auto r = run_touch(machine(), 64, "file");
        expect_success(r, 64, "file");
        const FaultAround fa = fault_around_of(rec.events);
        EXPECT_EQ(fa.mapped, 64u);
        EXPECT_LE(fa.largest, 16u);
        EXPECT_GE(fa.faults, 4);
        EXPECT_LE(fa.faults, 5);  // the mapping need not start on a 64 KiB boundary
    }
    {  // Fault-around off (fault_around_bytes = one page): one fault per page.
        const unsigned long saved = guestos::fault_around_bytes;
        guestos::fault_around_bytes = 4096;
        TraceRecorder rec;
        auto r = run_touch(machine(), 64, "file");
        guestos::fault_around_bytes = saved;
        expect_success(r, 64, "file");
        EXPECT_EQ(fault_around_of(rec.events).faults, 0);
        int file_faults = 0;
        for (const auto& e : rec.events)
            if (!e.hidden && e.vma.find("/dev/shm/emu-touch-") != std::string::npos) ++file_faults;
        EXPECT_EQ(file_faults, 64);
    }
}

TEST_P(EmuTlbTest, MemoryAccountingAddsUpAfterProgramsOfEverySize) {
    // The accounting identity of /proc/meminfo holds to the page however much was touched.
    for (unsigned long pages : {1ul, 64ul, 1024ul, 8192ul}) {
        for (const char* mode : {"write", "readwrite", "unmap", "file"}) {
            auto r = run_touch(machine(), pages, mode);
            expect_success(r, pages, mode);
            EXPECT_TRUE(r.meminfo_balanced) << pages << " pages, " << mode;
            // Every VMA is one vm_area_struct slab object, and nothing else is.
            EXPECT_EQ(r.vma_slab_objects, static_cast<uint64_t>(r.map_count)) << pages << " pages, " << mode;
            // Every anon_vma and anon_vma_chain the VMAs link to is a slab object, and no more.
            EXPECT_GT(r.anon_vmas_linked, 0u);
            EXPECT_EQ(r.anon_vma_objects, r.anon_vmas_linked) << pages << " pages, " << mode;
            EXPECT_EQ(r.anon_vma_chain_objects, r.chains_linked) << pages << " pages, " << mode;
        }
    }
}

TEST_P(EmuTlbTest, CountersShowZeroPageMapsCowBreaksAndMajorFaults) {
    auto rw = run_touch(machine(), 128, "readwrite");
    expect_success(rw, 128, "readwrite");
    EXPECT_GE(rw.zero_page_maps, 128u);
    EXPECT_GE(rw.cow_breaks, 128u);
    EXPECT_GT(rw.pgmajfault, 0u);  // the program's own pages are read from its file
    auto w = run_touch(machine(), 128, "write");
    expect_success(w, 128, "write");
    EXPECT_LT(w.zero_page_maps, 128u / 4);
    EXPECT_LT(w.cow_breaks, 128u / 4);
}
