// What each panel shows for a snapshot, computed without SDL or ImGui (so it is unit
// tested): the frame map's texels and legend, the address-space bars, the page-walk rows,
// the fault timeline's lines, the hex dump with its changed bytes, the plot series.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ui/snapshot.h"

namespace ui {

// --- Physical memory ----------------------------------------------------------------------

// The colour of a frame (0xAABBGGRR); free frames get darker the larger their block.
uint32_t frame_colour(inspect::FrameUse use, unsigned free_order);
struct LegendItem {
    const char* label;
    uint32_t colour;
    uint64_t frames;  // how many frames of the snapshot have it
};
// One entry per use present in the map (and always free/anon/page cache/slab/page table).
std::vector<LegendItem> frame_legend(const inspect::FrameMap& map);
// Columns of the frame map: a power of two giving a roughly square picture.
int frame_map_columns(uint64_t frames);
// The texture: one texel per frame, row-major, `cols` wide, padding texels transparent;
// highmem frames are drawn a little lighter.
void paint_frame_map(const inspect::FrameMap& map, int cols, std::vector<uint32_t>& rgba);
// The frame under texel (x, y), if that texel is a frame.
std::optional<uint64_t> frame_at(const inspect::FrameMap& map, int cols, int x, int y);

// --- Address space ------------------------------------------------------------------------

// A VMA or a hole, with its place on a vertical bar from the top (high addresses) down.
struct SpaceBar {
    uint64_t start = 0, end = 0;
    bool hole = false;
    int vma = -1;        // index in Snapshot::vmas
    float y = 0, h = 0;  // in pixels
};
// VMAs drawn with heights growing with their size (log scale, at least min_h) and holes as
// short gaps, highest address at the top, filling `height`.
std::vector<SpaceBar> layout_address_space(const std::vector<inspect::VmaInfo>& vmas, float height, float min_h = 14);
// "4 KiB", "1.5 MiB", "128 TiB".
std::string human_size(uint64_t bytes);

// --- Page walk ------------------------------------------------------------------------------

struct WalkRow {
    std::string level;  // "PML4E"
    std::string index;  // "255"
    std::string entry;  // "0x000000001a3e067"
    std::vector<inspect::EntryBit> bits;
    std::string next;  // "table pfn 0x1a3e", "frame pfn 0x1f00", "not present"
};
std::vector<WalkRow> walk_rows(const inspect::PageWalk& w);
// The shadow TLB entry beside the guest PTE, in words ("pfn 0x1f00 RW US NX", "not cached").
std::string tlb_entry_text(const std::optional<emu::TlbEntry>& e);

// --- Page cache ------------------------------------------------------------------------------

// An open file's read-ahead window in words: "pages 12-27 (16, 16 ahead), max 32",
// "no window yet", "FADV_RANDOM: no window".
std::string ra_window_text(const inspect::RaWindow& w);
// The colour of a page of a file's strip (page cache colours; the PG_readahead page stands out).
uint32_t strip_colour(inspect::StripPage p);
// The same file in the previous snapshot (same inode and path), or null.
const inspect::FileCache* same_file(const inspect::FileCache& f, const Snapshot* before);
// Whether a file's read-ahead changed since the previous stop: a new decision or other windows.
bool ra_changed(const inspect::FileCache& f, const inspect::FileCache* before);

// --- Faults -----------------------------------------------------------------------------------

// "#12 0x7f..000 write not-present -> anon pfn 0x1f00".
std::string fault_title(const guestos::FaultEvent& e);
// The frame a fault mapped (from the PTE it set), if any.
std::optional<uint64_t> fault_pfn(const guestos::FaultEvent& e, mmu::PagingMode mode);
// Which filter class a fault belongs to, as a word ("anon", "file", "COW", ...).
const char* fault_class_name(const guestos::FaultEvent& e);

// --- Frame contents ----------------------------------------------------------------------------

struct HexRow {
    uint64_t offset = 0;
    uint8_t bytes[16] = {};
    uint16_t changed = 0;  // bit i: byte i differs from the previous stop
};
// The rows of a frame; with `nonzero_only` only rows holding a non-zero or changed byte.
std::vector<HexRow> hex_rows(const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& prev, bool nonzero_only);

// --- Swap and reclaim ----------------------------------------------------------------------------

struct ReclaimRow {
    const char* label;  // "pswpout"
    const char* what;   // "pages written to swap"
    uint64_t value = 0;
    uint64_t delta = 0;  // grown since the previous stop
};
// The swap and reclaim event counters, with what each grew by since `before` (if any).
std::vector<ReclaimRow> reclaim_rows(const inspect::ReclaimInfo& now, const inspect::ReclaimInfo* before);
// The share of an area's slots in use, 0..1.
float swap_used_fraction(const inspect::SwapArea& a);
// The share of the LRU pages on each list, 0..1 (zeros when the lists are empty).
std::array<float, guestos::NR_LRU_LISTS> lru_shares(const inspect::ReclaimInfo& r);

// --- Over time ----------------------------------------------------------------------------------

struct Series {
    const char* name;
    std::vector<float> values;  // MiB, or faults per sample
};
std::vector<Series> memory_series(const std::deque<CounterSample>& history);

// Parses "0x401000", "4198400" or a symbol of the executable; nullopt when it is neither.
std::optional<uint64_t> parse_address(const std::string& text, const loader::ElfSymbols* symbols = nullptr);

}  // namespace ui
