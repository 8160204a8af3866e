// The debugger view's models without SDL: what each panel shows for a given state (frame
// colours and texels, the address-space bars, walk rows, the hex dump's changed bytes, the
// plots), the script parser, the lessons, and a Session's snapshots with what changed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <set>

#include "ui/lessons.h"
#include "ui/model.h"
#include "ui/script.h"
#include "ui/session.h"

namespace {

namespace inspect = guestos::inspect;
using inspect::FrameUse;
using mmu::PhysAddr;
using mmu::VirtAddr;

inspect::FrameMap map_of(std::vector<FrameUse> uses, uint64_t max_low_pfn = ~0ull) {
    inspect::FrameMap m;
    m.use = std::move(uses);
    m.free_order.assign(m.use.size(), 0);
    m.max_low_pfn = max_low_pfn;
    for (FrameUse u : m.use) ++m.count[static_cast<unsigned>(u)];
    return m;
}

TEST(UiFrameMap, EveryUseHasItsOwnColourAndFreeDarkensWithOrder) {
    std::set<uint32_t> colours;
    for (unsigned i = 0; i < inspect::NR_FRAME_USES; ++i) colours.insert(ui::frame_colour(static_cast<FrameUse>(i), 0));
    EXPECT_EQ(colours.size(), inspect::NR_FRAME_USES);
    EXPECT_NE(ui::frame_colour(FrameUse::Free, 0), ui::frame_colour(FrameUse::Free, 10));
}

TEST(UiFrameMap, TexelsAreFramesInRowsAndHighmemIsLighter) {
    EXPECT_EQ(ui::frame_map_columns(65536), 256);
    EXPECT_EQ(ui::frame_map_columns(262144), 512);
    EXPECT_EQ(ui::frame_map_columns(100), 16);
    auto m = map_of({FrameUse::Anon, FrameUse::Slab, FrameUse::Anon, FrameUse::Anon, FrameUse::Free}, 3);
    std::vector<uint32_t> px;
    ui::paint_frame_map(m, 2, px);
    ASSERT_EQ(px.size(), 6u);  // 3 rows of 2, the last texel padding
    EXPECT_EQ(px[0], ui::frame_colour(FrameUse::Anon, 0));
    EXPECT_EQ(px[1], ui::frame_colour(FrameUse::Slab, 0));
    EXPECT_NE(px[3], px[0]);  // frame 3 is highmem
    EXPECT_EQ(px[5], 0u);
    EXPECT_EQ(ui::frame_at(m, 2, 1, 1), 3u);
    EXPECT_FALSE(ui::frame_at(m, 2, 1, 2));  // padding
    EXPECT_FALSE(ui::frame_at(m, 2, 2, 0));  // outside
}

TEST(UiFrameMap, LegendCountsFramesAndListsTheMainUses) {
    auto m = map_of({FrameUse::Anon, FrameUse::Anon, FrameUse::Vmalloc});
    uint64_t anon = 0;
    bool vmalloc = false, swap = false;
    for (const auto& l : ui::frame_legend(m)) {
        if (l.colour == ui::frame_colour(FrameUse::Anon, 0)) anon = l.frames;
        vmalloc |= l.colour == ui::frame_colour(FrameUse::Vmalloc, 0);
        swap |= l.colour == ui::frame_colour(FrameUse::SwapCache, 0);
    }
    EXPECT_EQ(anon, 2u);
    EXPECT_TRUE(vmalloc);
    EXPECT_FALSE(swap);  // absent uses other than the main ones are left out
}

TEST(UiAddressSpace, BarsGoFromHighToLowWithHolesBetween) {
    std::vector<inspect::VmaInfo> v(3);
    v[0].start = VirtAddr(0x400000), v[0].end = VirtAddr(0x401000);
    v[1].start = VirtAddr(0x401000), v[1].end = VirtAddr(0x500000);
    v[2].start = VirtAddr(0x7ff000000000), v[2].end = VirtAddr(0x7ff000021000);
    const auto bars = ui::layout_address_space(v, 300);
    ASSERT_EQ(bars.size(), 4u);  // vma 2, hole, vma 1, vma 0 (no hole between 0 and 1)
    EXPECT_EQ(bars[0].vma, 2);
    EXPECT_TRUE(bars[1].hole);
    EXPECT_EQ(bars[2].vma, 1);
    EXPECT_EQ(bars[3].vma, 0);
    for (size_t i = 1; i < bars.size(); ++i) EXPECT_FLOAT_EQ(bars[i].y, bars[i - 1].y + bars[i - 1].h);
    EXPECT_GT(bars[2].h, bars[3].h);  // bigger VMAs are taller
    EXPECT_EQ(ui::human_size(4096), "4 KiB");
    EXPECT_EQ(ui::human_size(3ull << 19), "1.5 MiB");
}

TEST(UiPageWalk, RowsNameLevelsBitsAndWhereEachLeads) {
    inspect::PageWalk w;
    w.mode = mmu::PagingMode::PAE;
    inspect::WalkLevel pdpte{3, "PDPTE", PhysAddr(0x1000), 0, PhysAddr(0x1000), 0x2001, true, false, 2};
    inspect::WalkLevel pde{2, "PDE", PhysAddr(0x2000), 5, PhysAddr(0x2028), 0, false, false, 0};
    w.levels = {pdpte, pde};
    const auto rows = ui::walk_rows(w);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].level, "PDPTE");
    EXPECT_EQ(rows[0].entry, "0000000000002001");
    EXPECT_EQ(rows[0].next, "table pfn 0x2");
    EXPECT_TRUE(rows[0].bits[0].set);  // P
    EXPECT_EQ(rows[1].next, "not present");
    EXPECT_EQ(ui::tlb_entry_text(emu::TlbEntry{VirtAddr(0x1000), 0x42, true, true, false}), "pfn 0x42 RW US NX");
    EXPECT_NE(ui::tlb_entry_text(std::nullopt).find("not cached"), std::string::npos);
}

TEST(UiFrameContents, HexRowsMarkTheBytesThatChanged) {
    std::vector<uint8_t> now(4096, 0), before(4096, 0);
    now[17] = 5, before[17] = 4;
    now[100] = 1, before[100] = 1;
    const auto rows = ui::hex_rows(now, before, true);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].offset, 16u);
    EXPECT_EQ(rows[0].changed, 1u << 1);
    EXPECT_EQ(rows[1].offset, 96u);
    EXPECT_EQ(rows[1].changed, 0u);
    EXPECT_EQ(ui::hex_rows(now, {}, false).size(), 256u);  // no previous bytes: nothing marked
}

TEST(UiFaults, ClassesComeFromTheCallPath) {
    guestos::FaultEvent e;
    e.path = {{"do_page_fault", "0x1000, write", {}, {}},
              {"do_anonymous_page", {}, {}, {}},
              {"alloc_page", "GFP_HIGHUSER_MOVABLE|__GFP_ZERO", {}, "pfn 0xabc"}};
    e.outcome = "mapped";
    e.pte_after = 0x8000000000abc067ull;
    EXPECT_STREQ(ui::fault_class_name(e), "anon");
    EXPECT_EQ(ui::fault_pfn(e, mmu::PagingMode::LongMode4), 0xabcu);
    e.path = {{"do_wp_page", {}, {}, {}}, {"wp_page_copy", {}, {}, {}}};
    EXPECT_STREQ(ui::fault_class_name(e), "COW");
    e.path = {{"do_read_fault", {}, {}, {}}, {"filemap_fault", {}, "file page 3", {}}};
    EXPECT_STREQ(ui::fault_class_name(e), "file");
    e.outcome = "SIGSEGV";
    EXPECT_STREQ(ui::fault_class_name(e), "signal");
    e.hidden = true;
    EXPECT_STREQ(ui::fault_class_name(e), "TLB fill");
    e = {};
    EXPECT_FALSE(ui::fault_pfn(e, mmu::PagingMode::PAE));
}

TEST(UiPlots, SeriesAreMiBAndFaultsPerSample) {
    std::deque<ui::CounterSample> h(2);
    h[0].mem.free = 256, h[0].faults = 10;
    h[1].mem.free = 512, h[1].faults = 13;
    h[1].mem.swap_total = 1024, h[1].mem.swap_free = 768, h[1].mem.swapcache = 128;
    const auto s = ui::memory_series(h);
    ASSERT_EQ(s.size(), 8u);
    EXPECT_FLOAT_EQ(s[0].values[1], 2.0f);
    EXPECT_STREQ(s[5].name, "SwapUsed");
    EXPECT_FLOAT_EQ(s[5].values[0], 0.0f);
    EXPECT_FLOAT_EQ(s[5].values[1], 1.0f);
    EXPECT_FLOAT_EQ(s[6].values[1], 0.5f);
    EXPECT_FLOAT_EQ(s[7].values[1], 3.0f);
}

TEST(UiSwap, ReclaimRowsShowWhatGrewSinceTheLastStop) {
    guestos::inspect::ReclaimInfo before, now;
    before.pswpout = 10, before.oom_kill = 1;
    now.pswpout = 25, now.pswpin = 3, now.oom_kill = 1;
    const auto rows = ui::reclaim_rows(now, &before);
    auto row = [&](const std::string& label) {
        for (const ui::ReclaimRow& r : rows)
            if (label == r.label) return r;
        ADD_FAILURE() << "no row " << label;
        return ui::ReclaimRow{};
    };
    EXPECT_EQ(row("pswpout").value, 25u);
    EXPECT_EQ(row("pswpout").delta, 15u);
    EXPECT_EQ(row("pswpin").delta, 3u);
    EXPECT_EQ(row("oom_kill").delta, 0u);
    for (const char* l : {"pageoutrun", "pgscan_kswapd", "pgsteal_kswapd", "allocstall", "pgsteal_direct", "swap_ra"})
        EXPECT_EQ(row(l).value, 0u) << l;
    // Without a previous stop nothing is new.
    for (const ui::ReclaimRow& r : ui::reclaim_rows(now, nullptr)) EXPECT_EQ(r.delta, 0u) << r.label;
}

TEST(UiSwap, AreaUseAndLruShares) {
    guestos::inspect::SwapArea a;
    EXPECT_FLOAT_EQ(ui::swap_used_fraction(a), 0.0f);
    a.pages = 400, a.inuse = 100;
    EXPECT_FLOAT_EQ(ui::swap_used_fraction(a), 0.25f);
    guestos::inspect::ReclaimInfo r;
    for (float s : ui::lru_shares(r)) EXPECT_FLOAT_EQ(s, 0.0f);
    r.lru[guestos::LRU_INACTIVE_ANON] = 30, r.lru[guestos::LRU_ACTIVE_FILE] = 10;
    const auto sh = ui::lru_shares(r);
    EXPECT_FLOAT_EQ(sh[guestos::LRU_INACTIVE_ANON], 0.75f);
    EXPECT_FLOAT_EQ(sh[guestos::LRU_ACTIVE_FILE], 0.25f);
    EXPECT_FLOAT_EQ(sh[guestos::LRU_ACTIVE_ANON], 0.0f);
}

TEST(UiSelection, OnlyTheDetailPanelInFrontIsGathered) {
    ui::Selection sel;
    EXPECT_TRUE(sel.wants("buddy"));  // no panel known yet: everything
    sel.tab = "swap";
    EXPECT_TRUE(sel.wants("swap"));
    EXPECT_FALSE(sel.wants("buddy"));
    EXPECT_FALSE(sel.wants("pagecache"));
}

TEST(UiScript, ParsesEveryActionAndNamesABadLine) {
    auto r = ui::parse_script(
        "# a comment\n\nstep-to-fault\nstep-to-fault 3 anon cow\nstep 10\nrun-to main\nwalk 0x401000\n"
        "select-frame 0x1f00\npanel buddy\nscreenshot one\nhover 10 20\nquit\n");
    ASSERT_FALSE(r.is_error()) << r.error().message;
    const auto& a = r.value();
    ASSERT_EQ(a.size(), 10u);
    EXPECT_EQ(a[0].kind, ui::ScriptAction::StepToFault);
    EXPECT_EQ(a[1].count, 3u);
    EXPECT_EQ(a[1].filter, emu::FAULT_ANON | emu::FAULT_COW);
    EXPECT_EQ(a[2].count, 10u);
    EXPECT_EQ(a[3].arg, "main");
    EXPECT_EQ(a[3].line, 6);
    EXPECT_EQ(a[8].x, 10);
    auto bad = ui::parse_script("step\nfrobnicate 3\n");
    ASSERT_TRUE(bad.is_error());
    EXPECT_NE(bad.error().message.find("line 2"), std::string::npos);
    EXPECT_NE(bad.error().message.find("frobnicate 3"), std::string::npos);
    EXPECT_TRUE(ui::parse_script("step 0\n").is_error());
    EXPECT_TRUE(ui::parse_script("step-to-fault lots\n").is_error());
    EXPECT_TRUE(ui::parse_script("screenshot\n").is_error());
    auto proc = ui::parse_script("select-process 3\n");
    ASSERT_FALSE(proc.is_error());
    EXPECT_EQ(proc.value()[0].kind, ui::ScriptAction::SelectProcess);
    EXPECT_EQ(proc.value()[0].count, 3u);
    EXPECT_TRUE(ui::parse_script("select-process init\n").is_error());
}

TEST(UiModel, AddressesAreNumbersOrSymbols) {
    EXPECT_EQ(ui::parse_address("0x401000"), 0x401000u);
    EXPECT_EQ(ui::parse_address("4096"), 4096u);
    EXPECT_FALSE(ui::parse_address("main"));
    EXPECT_FALSE(ui::parse_address("-1"));
    EXPECT_FALSE(ui::parse_address(""));
}

TEST(UiLessons, EveryLessonHasItsProgramBuilt) {
    ASSERT_GE(ui::lessons().size(), 7u);
    setenv("EMU_LESSON_DIR", EMU_BINARY_DIR "/guest", 1);
    for (const ui::Lesson& l : ui::lessons()) {
        EXPECT_EQ(ui::find_lesson(l.name), &l);
        const std::string path = ui::lesson_program_path(l);
        EXPECT_EQ(access(path.c_str(), X_OK), 0) << path;
        EXPECT_NE(ui::lesson_list().find(l.name), std::string::npos);
    }
    EXPECT_EQ(ui::find_lesson("nope"), nullptr);
    EXPECT_NE(ui::lesson_list().find("readahead "), std::string::npos);  // read(2) and read-ahead
    unsetenv("EMU_LESSON_DIR");
}

TEST(UiSession, SnapshotsFollowStopsAndMarkWhatChanged) {
    ui::SessionConfig cfg;
    cfg.argv = {EMU_BINARY_DIR "/guest/lesson_demand_paging.x86_64"};
    auto s = ui::Session::create(cfg);
    ASSERT_FALSE(s.is_error()) << s.error().message;
    ui::Session& session = *s.value();
    EXPECT_EQ(session.last_stop().reason, emu::StopReason::Breakpoint);  // at the entry point
    ui::Selection sel;
    const ui::Snapshot first = session.snapshot(sel, false);
    EXPECT_TRUE(first.changed_frames.empty());
    ui::Command c;
    c.kind = ui::Command::StepFault;
    c.count = 5;
    const emu::Stop stop = session.execute(c);
    ASSERT_EQ(stop.reason, emu::StopReason::PageFault);
    sel.va = stop.fault->address.value;
    const ui::Snapshot second = session.snapshot(sel, false);
    EXPECT_GT(second.generation, first.generation);
    EXPECT_FALSE(second.changed_frames.empty());  // page tables and pages were taken
    EXPECT_EQ(second.total_faults, 5u + first.total_faults);
    ASSERT_TRUE(second.walk);
    EXPECT_TRUE(second.walk->phys);
    EXPECT_EQ(second.history.size(), 2u);
    EXPECT_FALSE(second.disasm.empty());
    EXPECT_EQ(second.disasm.size() > 0 && second.regs.gpr.back().second == stop.pc, true);
    // Selecting a frame gives its struct page and bytes, and the same frame at the next
    // snapshot its previous bytes for the diff.
    sel.pfn = second.walk->phys->pfn();
    const ui::Snapshot third = session.snapshot(sel, false);
    ASSERT_TRUE(third.page);
    EXPECT_EQ(third.frame_bytes.size(), 4096u);
    const ui::Snapshot fourth = session.snapshot(sel, false);
    EXPECT_EQ(fourth.frame_bytes_prev, third.frame_bytes);
    c.kind = ui::Command::Continue;
    EXPECT_EQ(session.execute(c).reason, emu::StopReason::Exited);
    EXPECT_TRUE(session.snapshot(sel, false).exited);
}

// The fork lesson stopped at the child's first COW fault: the processes panel lists parent
// and child with their family and states, and selecting the parent shows its address space
// (no shadow TLB entry beside its walks: the TLB holds the running child's only).
TEST(UiSession, ProcessesAreListedAndEachAddressSpaceCanBeShown) {
    ui::SessionConfig cfg;
    cfg.argv = {EMU_BINARY_DIR "/guest/lesson_fork_cow.x86_64"};
    auto s = ui::Session::create(cfg);
    ASSERT_FALSE(s.is_error()) << s.error().message;
    ui::Session& session = *s.value();
    ui::Command c;
    c.kind = ui::Command::StepFault;
    c.filter = emu::FAULT_COW;
    const int parent_pid = session.task().pid;
    emu::Stop stop;
    for (int i = 0; i < 1000 && session.task().pid == parent_pid; ++i) {  // the parent's own COW faults first
        stop = session.execute(c);
        ASSERT_EQ(stop.reason, emu::StopReason::PageFault);
    }
    ui::Selection sel;
    sel.va = stop.fault->address.value;
    const ui::Snapshot child = session.snapshot(sel, false);
    ASSERT_EQ(child.tasks.size(), 2u);
    const auto& parent_info = child.tasks[0];
    const auto& child_info = child.tasks[1];
    EXPECT_EQ(child.pid, child_info.pid);
    EXPECT_EQ(child.shown_pid, child_info.pid);
    EXPECT_EQ(child_info.ppid, parent_info.pid);
    EXPECT_EQ(parent_info.ppid, 1);
    // The parent is runnable or already asleep in wait4, as the time slices fell.
    EXPECT_TRUE(std::string(parent_info.state) == "R (running)" || std::string(parent_info.state) == "S (sleeping)")
        << parent_info.state;
    EXPECT_STREQ(child_info.state, "R (running)");
    EXPECT_NE(parent_info.mm_id, child_info.mm_id);
    EXPECT_EQ(parent_info.map_count, child_info.map_count);  // dup_mmap copied every VMA
    EXPECT_TRUE(child.walk_tlb.has_value());
    sel.pid = parent_info.pid;
    const ui::Snapshot parent = session.snapshot(sel, false);
    EXPECT_EQ(parent.shown_pid, parent_info.pid);
    EXPECT_EQ(parent.vmas.size(), child.vmas.size());
    ASSERT_TRUE(parent.walk && parent.walk->phys && child.walk && child.walk->phys);
    // The child broke COW at this address, so the two walks lead to different frames.
    EXPECT_NE(parent.walk->phys->pfn(), child.walk->phys->pfn());
    EXPECT_FALSE(parent.walk_tlb.has_value());
    sel.pid = 99;  // no such process: the running one is shown
    EXPECT_EQ(session.snapshot(sel, false).shown_pid, child_info.pid);
    c.kind = ui::Command::Continue;
    EXPECT_EQ(session.execute(c).reason, emu::StopReason::Exited);
}

TEST(UiPageCache, ReadaheadWindowInWords) {
    inspect::RaWindow w;
    w.ra_pages = 32;
    EXPECT_EQ(ui::ra_window_text(w), "no window yet (max 32)");
    w.start = 12, w.size = 16, w.async_size = 16;
    EXPECT_EQ(ui::ra_window_text(w), "pages 12-27 (16, 16 ahead), max 32");
    w.random = true;
    EXPECT_EQ(ui::ra_window_text(w), "FADV_RANDOM: no window");
}

TEST(UiPageCache, StripPagesHaveDistinctColoursAndTheMarkStandsOut) {
    using S = inspect::StripPage;
    const std::set<uint32_t> colours = {ui::strip_colour(S::Absent), ui::strip_colour(S::Cached),
                                        ui::strip_colour(S::Dirty), ui::strip_colour(S::Readahead)};
    EXPECT_EQ(colours.size(), 4u);
    EXPECT_EQ(ui::strip_colour(S::Cached), ui::frame_colour(inspect::FrameUse::FileClean, 0));
}

TEST(UiPageCache, ReadaheadChangesWithANewDecisionOrAnotherWindow) {
    inspect::FileCache before, now;
    before.ino = now.ino = 7, before.path = now.path = "/f";
    before.ra = now.ra = {inspect::RaWindow{1, 4, 8, 8, 32, 0, 4096, false}};
    before.last_ra_seq = now.last_ra_seq = 3;
    EXPECT_FALSE(ui::ra_changed(now, &before));
    now.ra[0].start = 12;
    EXPECT_TRUE(ui::ra_changed(now, &before));
    now.ra = before.ra;
    now.last_ra_seq = 4;
    EXPECT_TRUE(ui::ra_changed(now, &before));
    ui::Snapshot snap;
    snap.files = {before};
    EXPECT_EQ(ui::same_file(now, &snap), &snap.files[0]);
    now.ino = 8;
    EXPECT_EQ(ui::same_file(now, &snap), nullptr);
}

}  // namespace
