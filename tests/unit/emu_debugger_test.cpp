// The debugger's execution control (emu/debugger.h) and the read-only inspection interface
// (guestos/mm/inspect.h) on a real guest: the demand-paging lesson program run in-process.
// Every stop must say why it happened, and what inspection shows at a stop must agree with
// the fault that caused it and with the OS's own counters.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "emu/cpu.h"
#include "emu/debugger.h"
#include "emu/machine.h"
#include "guestos/include/kernel.h"
#include "guestos/include/fs.h"
#include "guestos/mm/filemap.h"
#include "guestos/mm/inspect.h"
#include "guestos/mm/slub.h"
#include "loader/elf.h"
#include "loader/elf_symbols.h"
#include "ui/lessons.h"

namespace {

namespace inspect = guestos::inspect;
using emu::StopReason;
using mmu::PhysAddr;
using mmu::VirtAddr;

// A machine stopped at the entry point of a lesson program, with a debugger on it.
struct Machine {
    std::unique_ptr<guestos::Kernel> kernel;
    guestos::task_struct task;
    std::unique_ptr<emu::Machine> machine;
    std::unique_ptr<emu::Debugger> dbg;
    uint64_t entry = 0;

    explicit Machine(const std::string& program, const std::string& build = "x86_64",
                     const guestos::KernelConfig& cfg = {}) {
        kernel = std::make_unique<guestos::Kernel>(cfg);
        EXPECT_FALSE(kernel->boot().is_error());
        kernel->init_task(task);
        const std::string path = std::string(EMU_BINARY_DIR "/guest/lesson_") + program + "." + build;
        auto ex = kernel->exec(task, path, {path}, {"LANG=C"});
        if (ex.is_error()) {
            ADD_FAILURE() << ex.error().message;
            return;
        }
        entry = ex.value().entry;
        machine = std::make_unique<emu::Machine>(*kernel, emu::CpuConfig{});
        machine->start(task, ex.value());
        std::vector<uint8_t> bytes;
        auto elf = loader::load_elf_file(path, bytes);
        EXPECT_FALSE(elf.is_error());
        dbg = std::make_unique<emu::Debugger>(*kernel, *machine, loader::ElfSymbols::parse(bytes));
    }
    ~Machine() {
        dbg.reset();
        if (machine && !machine->finished()) {  // let the program finish, so nothing is left behind
            while (!machine->finished()) (void)machine->run_until_stop();
        }
        machine.reset();
    }
    const guestos::BuddyAllocator& buddy() const { return *kernel->buddy(); }
};

TEST(Debugger, RunToEntryStopsBeforeTheFirstInstruction) {
    Machine m("demand_paging");
    const emu::Stop s = m.dbg->run_to(m.entry);
    EXPECT_EQ(s.reason, StopReason::Breakpoint);
    EXPECT_EQ(s.pc, m.entry);
    EXPECT_EQ(m.dbg->registers().gpr.back().second, m.entry);  // rip
    EXPECT_TRUE(m.dbg->breakpoints().empty());                 // run_to's breakpoint is gone
}

TEST(Debugger, StepRunsExactlyOneInstruction) {
    Machine m("demand_paging");
    m.dbg->run_to(m.entry);
    const auto lines = m.dbg->disassemble(m.entry, 0, 2);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].address, m.entry);
    const emu::Stop s = m.dbg->step_instruction();
    EXPECT_EQ(s.reason, StopReason::Step);
    EXPECT_EQ(s.pc, lines[1].address);  // the entry's first instruction is no jump (_start: xor ebp, ebp)
}

TEST(Debugger, DisassemblyNamesSymbolsAndDecodesBackwards) {
    Machine m("demand_paging");
    const uint64_t main_addr = m.dbg->symbols().address_of("main");
    ASSERT_NE(main_addr, 0u);
    EXPECT_EQ(m.dbg->run_to(main_addr).reason, StopReason::Breakpoint);
    const auto forward = m.dbg->disassemble(main_addr, 0, 4);
    ASSERT_EQ(forward.size(), 4u);
    const auto lines = m.dbg->disassemble(forward[3].address, 2, 3);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0].address, forward[1].address);  // found by decoding backwards
    EXPECT_EQ(lines[1].address, forward[2].address);
    uint64_t at = lines[0].address;
    for (const auto& l : lines) {  // consecutive instructions, ending where the next starts
        EXPECT_EQ(l.address, at);
        at += l.bytes.size() / 2;
    }
    EXPECT_EQ(m.dbg->disassemble(main_addr, 0, 1).at(0).symbol, "main");
}

TEST(Debugger, StepToSyscallReportsTheSyscall) {
    Machine m("demand_paging");
    m.dbg->run_to(m.entry);
    const emu::Stop s = m.dbg->step_to_syscall();
    EXPECT_EQ(s.reason, StopReason::Syscall);
    EXPECT_GT(m.dbg->syscalls(), 0u);
    EXPECT_LT(s.syscall_nr, 500u);
}

TEST(Debugger, StepToFaultAgreesWithThePageWalkStructPageAndRmap) {
    Machine m("demand_paging");
    m.dbg->run_to(m.dbg->symbols().address_of("main"));
    const emu::Stop s = m.dbg->step_to_fault(emu::FAULT_ANON);
    ASSERT_EQ(s.reason, StopReason::PageFault) << s.detail;
    ASSERT_TRUE(s.fault);
    EXPECT_EQ(guestos::fault_kind(*s.fault), guestos::FaultKind::Anon);
    const VirtAddr va = s.fault->address;
    const inspect::PageWalk w = inspect::page_walk(*m.task.mm, va);
    ASSERT_TRUE(w.phys) << w.stopped;
    ASSERT_EQ(w.levels.size(), 4u);  // PML4E, PDPTE, PDE, PTE
    EXPECT_STREQ(w.levels[0].name, "PML4E");
    EXPECT_TRUE(w.levels.back().leaf);
    EXPECT_EQ(w.levels.back().entry, s.fault->pte_after);
    // The frame the PTE maps: the zero page for a read, a new anonymous page for a write.
    const uint64_t pfn = w.phys->pfn();
    const inspect::PageInfo p = inspect::page_info(m.buddy(), m.kernel->zero_page(), pfn);
    if (pfn == m.kernel->zero_page().pfn()) {
        EXPECT_EQ(p.use, inspect::FrameUse::ZeroPage);
    } else {
        EXPECT_EQ(p.use, inspect::FrameUse::Anon);
        EXPECT_GE(p.refcount, 1);
        EXPECT_EQ(p.mapcount, 0);
        const auto refs = inspect::page_rmap(m.buddy(), pfn);
        ASSERT_EQ(refs.size(), 1u);
        EXPECT_EQ(refs[0].address, va.page_base());
        EXPECT_EQ(refs[0].mm, m.task.mm.get());
    }
    // The shadow TLB was filled for the access, with the same frame.
    const auto t = m.dbg->tlb_entry(va);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->pfn, pfn);
}

TEST(Debugger, FaultFiltersStopOnlyAtTheirKind) {
    Machine m("demand_paging");
    m.dbg->run_to(m.entry);
    for (int i = 0; i < 3; ++i) {
        const emu::Stop s = m.dbg->step_to_fault(emu::FAULT_FILE);
        ASSERT_EQ(s.reason, StopReason::PageFault);
        EXPECT_EQ(emu::fault_filter_of(*s.fault), emu::FAULT_FILE) << s.detail;
    }
    const uint64_t before = m.dbg->true_faults();
    const emu::Stop s = m.dbg->step_to_fault(emu::FAULT_COW);  // the write after the zero-page reads
    ASSERT_EQ(s.reason, StopReason::PageFault) << s.detail;
    EXPECT_EQ(guestos::fault_kind(*s.fault), guestos::FaultKind::Cow);
    EXPECT_GT(m.dbg->true_faults(), before);
    EXPECT_EQ(m.dbg->faults().back().seq, s.fault->seq);
}

TEST(Debugger, WatchedPageStopsAtItsNextAccess) {
    Machine m("demand_paging");
    m.dbg->run_to(m.dbg->symbols().address_of("main"));
    const uint64_t sp = m.dbg->registers().gpr[7].second;  // rsp
    m.dbg->watch_page(VirtAddr(sp));
    const emu::Stop s = m.dbg->cont();
    ASSERT_EQ(s.reason, StopReason::PageTouched) << s.detail;
    EXPECT_EQ(s.fault->address.page_base(), VirtAddr(sp).page_base());
    EXPECT_FALSE(m.dbg->watched_page());  // one-shot
}

TEST(Debugger, PauseFromAnotherThreadStopsARun) {
    Machine m("demand_paging");
    m.dbg->run_to(m.entry);
    m.dbg->pause();  // a pause while stopped makes the next run stop at once
    const emu::Stop s = m.dbg->cont();
    EXPECT_EQ(s.reason, StopReason::Paused);
    EXPECT_EQ(m.dbg->cont().reason, StopReason::Exited);
}

TEST(Debugger, ContinueRunsToTheExitAndReportsIt) {
    Machine m("demand_paging");
    const emu::Stop s = m.dbg->cont();
    EXPECT_EQ(s.reason, StopReason::Exited);
    EXPECT_EQ(s.detail, "exit status 0");
    EXPECT_TRUE(m.dbg->exited());
    EXPECT_EQ(m.dbg->cont().reason, StopReason::Exited);  // nothing left to run
}

TEST(Inspect, FrameMapBuddyAndCountersAddUp) {
    Machine m("demand_paging");
    m.dbg->run_to(m.dbg->symbols().address_of("main"));
    for (int i = 0; i < 20; ++i) m.dbg->step_to_fault();
    inspect::FrameMap map;
    inspect::frame_map(m.buddy(), m.kernel->zero_page(), map);
    EXPECT_EQ(map.use.size(), m.buddy().max_pfn());
    EXPECT_EQ(std::accumulate(map.count.begin(), map.count.end(), uint64_t{0}), map.use.size());
    const inspect::MemCounters c = inspect::mem_counters(*m.kernel);
    auto count = [&](inspect::FrameUse u) { return map.count[static_cast<unsigned>(u)]; };
    EXPECT_EQ(count(inspect::FrameUse::Anon), c.anon);
    EXPECT_EQ(count(inspect::FrameUse::PageTable), c.page_tables);
    EXPECT_EQ(count(inspect::FrameUse::Free) + count(inspect::FrameUse::FreePcp), c.free);
    EXPECT_EQ(count(inspect::FrameUse::ZeroPage), 1u);
    // free_area: the blocks on the lists hold exactly the zone's free pages.
    for (const inspect::BuddyZone& z : inspect::buddy_zones(m.buddy())) {
        uint64_t pages = 0;
        for (unsigned o = 0; o < guestos::NR_PAGE_ORDERS; ++o)
            for (unsigned mt = 0; mt < guestos::MIGRATE_TYPES; ++mt) pages += z.nr_free[o][mt] << o;
        EXPECT_EQ(pages, z.free_pages) << z.name;
    }
}

TEST(Inspect, VmasSlabAndPageCacheMatchTheMm) {
    Machine m("demand_paging");
    m.dbg->run_to(m.dbg->symbols().address_of("main"));
    for (int i = 0; i < 10; ++i) m.dbg->step_to_fault();
    const auto vmas = inspect::vmas(*m.task.mm);
    ASSERT_EQ(vmas.size(), m.task.mm->mm_rb.size());
    uint64_t resident = 0;
    for (size_t i = 0; i < vmas.size(); ++i) {
        resident += vmas[i].resident;
        EXPECT_LE(vmas[i].dirty, vmas[i].resident);
        if (i) {
            EXPECT_LE(vmas[i - 1].end, vmas[i].start);
        }
    }
    EXPECT_GE(resident, m.task.mm->rss());  // and the zero page where reads mapped it
    EXPECT_LE(resident, m.task.mm->rss() + m.task.mm->zero_page_maps);
    bool stack = false;
    for (const auto& v : vmas) stack |= v.name == "[stack]";
    EXPECT_TRUE(stack);
    // Every VMA is a vm_area_struct slab object.
    uint64_t vma_objs = 0;
    for (const inspect::SlabCache& c : inspect::slab_caches(*m.kernel->slab()))
        if (c.name == "vm_area_struct") vma_objs = c.active_objs;
    EXPECT_EQ(vma_objs, vmas.size());
    // The executable's pages are in the page cache.
    const auto files = inspect::page_cache(m.buddy());
    ASSERT_FALSE(files.empty());
    EXPECT_NE(files[0].path.find("lesson_demand_paging"), std::string::npos);
    EXPECT_GT(files[0].cached, 0u);
}

// The counters the allocator keeps as pages change use, and the page cache found from its
// mappings, agree with a count over the whole mem_map (what the view used to scan for).
TEST(Inspect, CountersKeptAsPagesChangeAgreeWithMemMap) {
    Machine m("file_mmap");
    m.dbg->run_to(m.dbg->symbols().address_of("main"));
    for (int i = 0; i < 30; ++i) m.dbg->step_to_fault();
    const guestos::BuddyAllocator& b = m.buddy();
    const guestos::page_use_stats u = b.count_page_uses();
    const inspect::MemCounters c = inspect::mem_counters(*m.kernel);
    using guestos::PageUse;
    EXPECT_EQ(c.anon, u[PageUse::Anon]);
    EXPECT_EQ(c.cached, u[PageUse::File]);
    EXPECT_EQ(c.slab, u[PageUse::Slab]);
    EXPECT_EQ(c.page_tables, u[PageUse::PageTable]);
    EXPECT_EQ(c.kernel_stack, u[PageUse::KernelStack]);
    EXPECT_EQ(c.vmalloc, u[PageUse::Vmalloc]);
    EXPECT_EQ(c.free, u[PageUse::Free]);
    EXPECT_EQ(c.shmem, u.shmem);
    EXPECT_EQ(c.dirty, u.dirty);
    EXPECT_EQ(c.swapcache, u.swapcache);
    EXPECT_GT(c.cached, 0u);
    // Per file, from mem_map: cached, dirty and mapped pages of each address_space.
    std::map<std::string, inspect::FileCache> scan;
    for (uint64_t pfn = 0; pfn < b.max_pfn(); ++pfn) {
        const guestos::page& p = b.pfn_page(pfn);
        if (p.use != PageUse::File || !p.mapping) continue;
        const auto* as = static_cast<const guestos::address_space*>(p.mapping);
        inspect::FileCache& f = scan[as->host ? as->host->path + "#" + std::to_string(as->host->i_ino) : ""];
        ++f.cached;
        f.dirty += (p.flags & guestos::PG_dirty) != 0;
        f.mapped += p._mapcount >= 0;
    }
    const auto files = inspect::page_cache(b);
    ASSERT_EQ(files.size(), scan.size());
    for (const inspect::FileCache& f : files) {
        const inspect::FileCache& s = scan[f.path + "#" + std::to_string(f.ino)];
        EXPECT_EQ(f.cached, s.cached) << f.path;
        EXPECT_EQ(f.dirty, s.dirty) << f.path;
        EXPECT_EQ(f.mapped, s.mapped) << f.path;
    }
    auto r = b.check_consistency();  // which compares every use counter with mem_map
    EXPECT_FALSE(r.is_error()) << r.error().message;
}

// The swap lesson: a program bigger than RAM. Stepping with the swap filter stops at a
// do_swap_page fault, and inspection shows the areas, the LRU lists, the swap events, the
// swapped pages of the VMA and the swap cache in the frame map.
TEST(Inspect, SwapFilterStopsAtDoSwapPageAndSwapIsShown) {
    std::string err;
    const std::string swapfile = ui::make_lesson_swapfile(64ull << 20, err);
    ASSERT_FALSE(swapfile.empty()) << err;
    {
        guestos::KernelConfig cfg;
        cfg.ram_bytes = 32ull << 20;
        cfg.swap_files = {swapfile};
        Machine m("swap", "x86_64", cfg);
        const emu::Stop stop = m.dbg->step_to_fault(emu::FAULT_SWAP);
        ASSERT_EQ(stop.reason, StopReason::PageFault) << stop.detail;
        ASSERT_TRUE(stop.fault);
        const auto& path = stop.fault->path;
        EXPECT_TRUE(std::any_of(path.begin(), path.end(), [](const guestos::FaultStep& f) {
            return f.fn == "do_swap_page";
        })) << stop.detail;
        const inspect::ReclaimInfo r = inspect::reclaim_info(m.buddy());
        ASSERT_EQ(r.areas.size(), 1u);
        EXPECT_EQ(r.areas[0].file, swapfile);
        EXPECT_GT(r.areas[0].inuse, 0u);
        EXPECT_GT(r.pswpout, 0u);
        EXPECT_GT(r.pgsteal_kswapd + r.pgsteal_direct, 0u);
        EXPECT_GT(r.lru[guestos::LRU_INACTIVE_ANON] + r.lru[guestos::LRU_ACTIVE_ANON], 0u);
        uint64_t swapped = 0;
        for (const inspect::VmaInfo& v : inspect::vmas(*m.task.mm)) swapped += v.swapped;
        EXPECT_GT(swapped, 0u);
        EXPECT_LE(swapped, r.areas[0].inuse);
        const inspect::MemCounters c = inspect::mem_counters(*m.kernel);
        EXPECT_EQ(c.swap_total - c.swap_free, r.areas[0].inuse);
        inspect::FrameMap map;
        inspect::frame_map(m.buddy(), m.kernel->zero_page(), map);
        EXPECT_EQ(map.count[static_cast<unsigned>(inspect::FrameUse::SwapCache)], c.swapcache);
        auto ok = m.buddy().check_consistency();
        EXPECT_FALSE(ok.is_error()) << ok.error().message;
    }
    ui::remove_lesson_swapfile(swapfile);
}

TEST(Inspect, PageWalkOfAnUnmappedAddressSaysWhereItStopped) {
    Machine m("demand_paging");
    m.dbg->run_to(m.entry);
    const inspect::PageWalk w = inspect::page_walk(*m.task.mm, VirtAddr(0x10000000000ull));
    EXPECT_FALSE(w.phys);
    ASSERT_FALSE(w.levels.empty());
    EXPECT_FALSE(w.levels.back().present);
    EXPECT_NE(w.stopped.find("not present"), std::string::npos);
    // Non-canonical addresses are refused without a walk.
    EXPECT_TRUE(inspect::page_walk(*m.task.mm, VirtAddr(0x0000900000000000ull)).levels.empty());
}

TEST(Inspect, EntryBitsNameEveryFlag) {
    const uint64_t e = mmu::_PAGE_PRESENT | mmu::_PAGE_RW | mmu::_PAGE_DIRTY | mmu::_PAGE_NX;
    std::set<std::string> set;
    for (const auto& b : inspect::entry_bits(mmu::PagingMode::LongMode4, 1, e))
        if (b.set) set.insert(b.name);
    EXPECT_EQ(set, (std::set<std::string>{"P", "RW", "D", "NX"}));
    const auto legacy = inspect::entry_bits(mmu::PagingMode::Legacy32, 2, mmu::_PAGE_PSE);
    EXPECT_EQ(legacy.size(), 9u);  // no NX in 2-level tables
    bool ps = false;
    for (const auto& b : legacy) ps |= std::string(b.name) == "PS" && b.set;
    EXPECT_TRUE(ps);
}

TEST(Inspect, I386HighmemFramesAreMarked) {
    guestos::KernelConfig cfg;
    cfg.ram_bytes = 64ull << 20;
    cfg.lowmem_bytes = 16ull << 20;
    guestos::Kernel k(cfg);
    ASSERT_FALSE(k.boot().is_error());
    guestos::task_struct t;
    k.init_task(t);
    const std::string path = EMU_BINARY_DIR "/guest/lesson_highmem.i386";
    ASSERT_FALSE(k.exec(t, path, {path}, {}).is_error());
    inspect::FrameMap map;
    inspect::frame_map(*k.buddy(), k.zero_page(), map);
    EXPECT_EQ(map.max_low_pfn, (16ull << 20) >> 12);
    bool high = false;
    for (const auto& z : map.zones) high |= std::string(z.name) == "HighMem";
    EXPECT_TRUE(high);
    EXPECT_TRUE(inspect::page_info(*k.buddy(), k.zero_page(), map.use.size() - 1).highmem);
}

}  // namespace
