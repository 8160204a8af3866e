// What the debugger view shows, captured at one stop: plain data built from the debugger
// and the inspection interface while the guest is stopped, then drawn (possibly on another
// thread) while it runs on. No SDL or ImGui here, so panel models are tested without them.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "emu/debugger.h"
#include "guestos/mm/inspect.h"

namespace ui {

namespace inspect = guestos::inspect;

// What the user has selected; the snapshot is built around it.
struct Selection {
    std::optional<uint64_t> va;         // the address the page walk shows
    std::optional<uint64_t> pfn;        // the frame whose struct page, rmap and bytes are shown
    std::optional<uint64_t> fault_seq;  // the selected fault of the timeline
    std::optional<int> pid;             // the process whose address space and page walk are shown
                                        // (none, or gone: the one that runs)
    // The detail panel in front: only its tables are gathered while the guest is stopped
    // (empty: all of them).
    std::string tab;
    // This detail panel's data is wanted.
    bool wants(const char* panel) const { return tab.empty() || tab == panel; }
};

// One sample of the counters for the plots.
struct CounterSample {
    inspect::MemCounters mem;
    uint64_t faults = 0;  // true faults so far
};

struct Snapshot {
    uint64_t generation = 0;  // grows with every snapshot
    emu::Stop stop;           // why the guest stopped (or Paused while running)
    bool running = false;     // taken while the guest runs on (a periodic refresh)
    bool exited = false;
    std::string program;      // argv[0]
    std::string lesson_note;  // what to watch (lessons only)
    int pid = 0;

    emu::Registers regs;
    std::vector<emu::DisasmLine> disasm;

    std::vector<guestos::FaultEvent> faults;  // the newest faults (at most max_faults)
    uint64_t total_faults = 0;                // true faults so far (all of them)
    // The timeline lays out the tail of the log only; copying more (each event with its call
    // path) would cost the stopped guest time for nothing.
    static constexpr size_t max_faults = 300;

    std::vector<inspect::TaskInfo> tasks;  // every task not yet reaped, by pid
    int shown_pid = 0;                     // whose address space (vmas) and page walk these are

    std::vector<inspect::VmaInfo> vmas;
    uint64_t task_size = 0, mmap_base = 0, start_brk = 0, brk = 0, start_stack = 0;

    inspect::FrameMap frames;
    std::vector<uint64_t> changed_frames;  // whose use changed since the previous stop
    std::vector<inspect::BuddyZone> buddy;
    std::vector<inspect::SlabCache> slabs;
    std::vector<inspect::FileCache> files;
    inspect::MemCounters mem;
    inspect::ReclaimInfo reclaim;  // swap areas, swap cache, LRU lists, reclaim events
    emu::TlbStats tlb;
    std::vector<emu::TlbEntry> tlb_entries;
    uint64_t tlb_present = 0;
    static constexpr size_t max_tlb_entries = 4096;

    Selection sel;
    std::optional<inspect::PageWalk> walk;
    std::optional<emu::TlbEntry> walk_tlb;  // the shadow entry beside the guest's
    std::optional<inspect::PageInfo> page;
    std::vector<inspect::RmapRef> rmap;
    std::vector<uint8_t> frame_bytes;       // the selected frame (PAGE_SIZE bytes)
    std::vector<uint8_t> frame_bytes_prev;  // the same frame at the previous stop (same pfn), or empty

    std::deque<CounterSample> history;  // oldest first, at most max_history
    static constexpr size_t max_history = 600;
};

}  // namespace ui
