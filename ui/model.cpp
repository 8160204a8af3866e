// Panel models: what each panel shows, independent of how it is drawn.
#include "ui/model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ui {

namespace {

constexpr uint32_t rgb(uint8_t r, uint8_t g, uint8_t b) {
    return 0xff000000u | (static_cast<uint32_t>(b) << 16) | (static_cast<uint32_t>(g) << 8) | r;
}

// Lightens a colour towards white by f (0..1).
uint32_t lighten(uint32_t c, float f) {
    auto ch = [&](int shift) {
        const float v = static_cast<float>((c >> shift) & 0xff);
        return static_cast<uint32_t>(v + (255 - v) * f) << shift;
    };
    return 0xff000000u | ch(0) | ch(8) | ch(16);
}

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

}  // namespace

uint32_t frame_colour(inspect::FrameUse use, unsigned free_order) {
    using U = inspect::FrameUse;
    switch (use) {
    case U::Free: {  // dark blue-grey, darker for larger blocks: fragmentation shows as light specks
        const uint8_t v = static_cast<uint8_t>(62 - std::min(free_order, 10u) * 3);
        return rgb(v - 6, v, static_cast<uint8_t>(v + 12));
    }
    case U::FreePcp: return rgb(70, 90, 110);
    case U::Reserved: return rgb(95, 95, 100);
    case U::Kernel: return rgb(150, 150, 160);
    case U::PageTable: return rgb(230, 70, 70);
    case U::Slab: return rgb(175, 95, 230);
    case U::Anon: return rgb(60, 200, 90);
    case U::FileClean: return rgb(60, 120, 235);
    case U::FileDirty: return rgb(130, 200, 255);
    case U::Shmem: return rgb(40, 200, 200);
    case U::Vmalloc: return rgb(240, 150, 40);
    case U::ZeroPage: return rgb(255, 255, 255);
    case U::SwapCache: return rgb(250, 110, 190);
    case U::Count: break;
    }
    return rgb(255, 0, 255);
}

std::string ra_window_text(const inspect::RaWindow& w) {
    if (w.random) return "FADV_RANDOM: no window";
    if (!w.size) return "no window yet (max " + std::to_string(w.ra_pages) + ")";
    return "pages " + std::to_string(w.start) + "-" + std::to_string(w.start + w.size - 1) + " (" +
           std::to_string(w.size) + ", " + std::to_string(w.async_size) + " ahead), max " + std::to_string(w.ra_pages);
}

uint32_t strip_colour(inspect::StripPage p) {
    using S = inspect::StripPage;
    switch (p) {
    case S::Absent: return rgb(45, 48, 56);
    case S::Cached: return frame_colour(inspect::FrameUse::FileClean, 0);
    case S::Dirty: return frame_colour(inspect::FrameUse::FileDirty, 0);
    case S::Readahead: return rgb(255, 95, 60);
    }
    return rgb(255, 0, 255);
}

const inspect::FileCache* same_file(const inspect::FileCache& f, const Snapshot* before) {
    if (!before) return nullptr;
    for (const inspect::FileCache& o : before->files)
        if (o.ino == f.ino && o.path == f.path) return &o;
    return nullptr;
}

bool ra_changed(const inspect::FileCache& f, const inspect::FileCache* before) {
    if (!before) return f.last_ra_seq != 0;
    return f.last_ra_seq != before->last_ra_seq || f.ra != before->ra;
}

std::vector<LegendItem> frame_legend(const inspect::FrameMap& map) {
    using U = inspect::FrameUse;
    std::vector<LegendItem> out;
    for (unsigned i = 0; i < inspect::NR_FRAME_USES; ++i) {
        const U u = static_cast<U>(i);
        const bool always = u == U::Free || u == U::Anon || u == U::FileClean || u == U::Slab || u == U::PageTable;
        if (map.count[i] || always) out.push_back({inspect::frame_use_name(u), frame_colour(u, 0), map.count[i]});
    }
    return out;
}

int frame_map_columns(uint64_t frames) {
    int cols = 16;
    while (static_cast<uint64_t>(cols) * cols < frames) cols *= 2;
    return cols;
}

void paint_frame_map(const inspect::FrameMap& map, int cols, std::vector<uint32_t>& rgba) {
    const uint64_t n = map.use.size();
    const uint64_t rows = (n + cols - 1) / cols;
    rgba.assign(rows * cols, 0);
    for (uint64_t pfn = 0; pfn < n; ++pfn) {
        uint32_t c = frame_colour(map.use[pfn], map.free_order[pfn]);
        if (pfn >= map.max_low_pfn) c = lighten(c, 0.18f);
        rgba[pfn] = c;
    }
}

std::optional<uint64_t> frame_at(const inspect::FrameMap& map, int cols, int x, int y) {
    if (x < 0 || y < 0 || x >= cols) return std::nullopt;
    const uint64_t pfn = static_cast<uint64_t>(y) * cols + x;
    if (pfn >= map.use.size()) return std::nullopt;
    return pfn;
}

std::string human_size(uint64_t bytes) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 5) v /= 1024, ++u;
    char b[32];
    if (v == std::floor(v)) std::snprintf(b, sizeof b, "%.0f %s", v, units[u]);
    else std::snprintf(b, sizeof b, "%.1f %s", v, units[u]);
    return b;
}

std::vector<SpaceBar> layout_address_space(const std::vector<inspect::VmaInfo>& vmas, float height, float min_h) {
    std::vector<SpaceBar> bars;
    const float hole_h = 10;
    // Highest address first.
    for (int i = static_cast<int>(vmas.size()) - 1; i >= 0; --i) {
        const inspect::VmaInfo& v = vmas[i];
        if (!bars.empty() && bars.back().start > v.end.value)
            bars.push_back({v.end.value, bars.back().start, true, -1, 0, hole_h});
        SpaceBar b{v.start.value, v.end.value, false, i, 0, 0};
        b.h = min_h + 3.0f * std::log2(static_cast<float>(std::max<uint64_t>(1, (v.end - v.start) >> 12)));
        bars.push_back(b);
    }
    float total = 0;
    for (const SpaceBar& b : bars) total += b.h;
    // Scale the VMAs (not the holes) to fill the height, never below min_h.
    float holes = 0;
    for (const SpaceBar& b : bars) holes += b.hole ? b.h : 0;
    const float k = total > holes ? std::max(0.2f, (height - holes) / (total - holes)) : 1;
    float y = 0;
    for (SpaceBar& b : bars) {
        if (!b.hole) b.h = std::max(min_h, b.h * k);
        b.y = y;
        y += b.h;
    }
    return bars;
}

std::vector<WalkRow> walk_rows(const inspect::PageWalk& w) {
    std::vector<WalkRow> rows;
    for (const inspect::WalkLevel& l : w.levels) {
        WalkRow r;
        r.level = l.name;
        r.index = std::to_string(l.index);
        char e[24];
        std::snprintf(e, sizeof e, w.mode == mmu::PagingMode::Legacy32 ? "%08llx" : "%016llx",
                      static_cast<unsigned long long>(l.entry));
        r.entry = e;
        r.bits = inspect::entry_bits(w.mode, l.level, l.entry);
        if (!l.present) r.next = l.entry ? "not present (swap entry?)" : "not present";
        else if (l.leaf) r.next = "frame pfn " + hex(l.next_pfn);
        else r.next = "table pfn " + hex(l.next_pfn);
        rows.push_back(std::move(r));
    }
    return rows;
}

std::string tlb_entry_text(const std::optional<emu::TlbEntry>& e) {
    if (!e) return "not cached (the next access misses and refills from the guest tables)";
    std::string s = "pfn " + hex(e->pfn);
    s += e->writable ? " RW" : " RO";
    s += e->user ? " US" : " S";
    s += e->executable ? " X" : " NX";
    return s;
}

const char* fault_class_name(const guestos::FaultEvent& e) {
    switch (guestos::fault_kind(e)) {
    case guestos::FaultKind::Hidden: return "TLB fill";
    case guestos::FaultKind::Anon: return "anon";
    case guestos::FaultKind::File: return "file";
    case guestos::FaultKind::Cow: return "COW";
    case guestos::FaultKind::Swap: return "swap";
    case guestos::FaultKind::Signal: return "signal";
    case guestos::FaultKind::Other: return "other";
    }
    return "?";
}

std::optional<uint64_t> fault_pfn(const guestos::FaultEvent& e, mmu::PagingMode mode) {
    if (!(e.pte_after & mmu::_PAGE_PRESENT)) return std::nullopt;
    return mmu::pte_frame(mode, e.pte_after).pfn();
}

std::string fault_title(const guestos::FaultEvent& e) {
    std::string s = "#" + std::to_string(e.seq) + " " + hex(e.address.value) + " ";
    s += e.hidden ? "(hidden)" : guestos::describe_error_code(e.error_code);
    s += std::string(" -> ") + fault_class_name(e);
    return s;
}

std::vector<HexRow> hex_rows(const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& prev, bool nonzero_only) {
    std::vector<HexRow> rows;
    const bool diff = prev.size() == bytes.size();
    for (size_t off = 0; off + 16 <= bytes.size(); off += 16) {
        HexRow r;
        r.offset = off;
        bool nonzero = false;
        for (int i = 0; i < 16; ++i) {
            r.bytes[i] = bytes[off + i];
            nonzero |= r.bytes[i] != 0;
            if (diff && prev[off + i] != bytes[off + i]) r.changed |= static_cast<uint16_t>(1u << i);
        }
        if (!nonzero_only || nonzero || r.changed) rows.push_back(r);
    }
    return rows;
}

std::vector<ReclaimRow> reclaim_rows(const inspect::ReclaimInfo& now, const inspect::ReclaimInfo* before) {
    using R = inspect::ReclaimInfo;
    static constexpr struct {
        const char* label;
        const char* what;
        uint64_t R::*field;
    } ROWS[] = {
        {"pswpout", "written to swap", &R::pswpout},
        {"pswpin", "read back from swap", &R::pswpin},
        {"swap_ra", "read ahead around faults", &R::swap_ra},
        {"swap_ra_hit", "readahead pages used", &R::swap_ra_hit},
        {"pageoutrun", "kswapd passes", &R::kswapd_runs},
        {"pgscan_kswapd", "scanned by kswapd", &R::pgscan_kswapd},
        {"pgsteal_kswapd", "reclaimed by kswapd", &R::pgsteal_kswapd},
        {"allocstall", "direct reclaim stalls", &R::allocstall},
        {"pgscan_direct", "scanned, direct reclaim", &R::pgscan_direct},
        {"pgsteal_direct", "reclaimed directly", &R::pgsteal_direct},
        {"oom_kill", "killed by the OOM killer", &R::oom_kill},
    };
    std::vector<ReclaimRow> out;
    for (const auto& r : ROWS) {
        const uint64_t v = now.*r.field, was = before ? before->*r.field : v;
        out.push_back({r.label, r.what, v, v > was ? v - was : 0});
    }
    return out;
}

float swap_used_fraction(const inspect::SwapArea& a) {
    return a.pages ? std::min(1.0f, static_cast<float>(a.inuse) / static_cast<float>(a.pages)) : 0.0f;
}

std::array<float, guestos::NR_LRU_LISTS> lru_shares(const inspect::ReclaimInfo& r) {
    std::array<float, guestos::NR_LRU_LISTS> out{};
    uint64_t total = 0;
    for (uint64_t n : r.lru) total += n;
    for (unsigned i = 0; i < guestos::NR_LRU_LISTS && total; ++i) out[i] = static_cast<float>(r.lru[i]) / total;
    return out;
}

std::vector<Series> memory_series(const std::deque<CounterSample>& history) {
    std::vector<Series> s = {{"MemFree", {}},    {"Cached", {}},   {"AnonPages", {}},  {"Slab", {}},
                             {"PageTables", {}}, {"SwapUsed", {}}, {"SwapCached", {}}, {"faults per sample", {}}};
    const float mib = 4096.0f / (1 << 20);
    uint64_t prev_faults = history.empty() ? 0 : history.front().faults;
    for (const CounterSample& c : history) {
        s[0].values.push_back(c.mem.free * mib);
        s[1].values.push_back(c.mem.cached * mib);
        s[2].values.push_back(c.mem.anon * mib);
        s[3].values.push_back(c.mem.slab * mib);
        s[4].values.push_back(c.mem.page_tables * mib);
        s[5].values.push_back((c.mem.swap_total - c.mem.swap_free) * mib);
        s[6].values.push_back(c.mem.swapcache * mib);
        s[7].values.push_back(static_cast<float>(c.faults - prev_faults));
        prev_faults = c.faults;
    }
    return s;
}

std::optional<uint64_t> parse_address(const std::string& text, const loader::ElfSymbols* symbols) {
    if (text.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 0);
    if (errno == 0 && end && *end == '\0' && text[0] != '-') return v;
    if (symbols)
        if (uint64_t a = symbols->address_of(text)) return a;
    return std::nullopt;
}

}  // namespace ui
