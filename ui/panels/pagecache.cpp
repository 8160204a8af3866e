// The page cache per file: cached, dirty, under-writeback and mapped pages, the file's pages
// as a strip with each open file's read-ahead window drawn over it, and the newest
// read-ahead decision with its Linux path.
#include <imgui.h>

#include <algorithm>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

constexpr float STRIP_H = 14;

// The file's first pages, one cell each; with a previous stop (have_before; before: the file
// then, if it was cached), cells newly cached since get a white tick and changed windows the
// changed colour. The windows are outlined, their async part underlined.
void draw_strip(const inspect::FileCache& f, const inspect::FileCache* before, bool have_before) {
    const size_t n = f.strip.size();
    if (!n) return;
    const float w = ImGui::GetContentRegionAvail().x;
    const float cell = std::max(1.0f, std::min(8.0f, w / static_cast<float>(n)));
    const ImVec2 o = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float top = o.y + 7;
    for (size_t i = 0; i < n; ++i) {
        const float x = o.x + cell * static_cast<float>(i);
        if (x > o.x + w) break;
        dl->AddRectFilled(ImVec2(x, top), ImVec2(x + std::max(1.0f, cell - 1), top + STRIP_H),
                          im_colour(strip_colour(f.strip[i])));
        const bool was = before && i < before->strip.size() && before->strip[i] != inspect::StripPage::Absent;
        if (have_before && !was && f.strip[i] != inspect::StripPage::Absent)
            dl->AddRectFilled(ImVec2(x, top - 7), ImVec2(x + std::max(1.0f, cell - 1), top - 5), IM_COL32_WHITE);
    }
    const auto px = [&](uint64_t page) { return o.x + cell * static_cast<float>(std::min<uint64_t>(page, n)); };
    for (const inspect::RaWindow& r : f.ra) {
        if (!r.size || r.random || r.start >= n) continue;
        const ImU32 c = ImGui::GetColorU32(have_before && ra_changed(f, before) ? COLOUR_CHANGED : COLOUR_ACCENT);
        dl->AddRect(ImVec2(px(r.start) - 3, top - 3), ImVec2(px(r.start + r.size) + 2, top + STRIP_H + 2), c, 0, 0,
                    1.5f);
        dl->AddRectFilled(ImVec2(px(r.start + r.size - r.async_size), top + STRIP_H + 4),
                          ImVec2(px(r.start + r.size), top + STRIP_H + 7), c);
    }
    ImGui::Dummy(ImVec2(w, STRIP_H + 14));
}

void draw_file(const inspect::FileCache& f, const Snapshot* before_snap) {
    const inspect::FileCache* before = same_file(f, before_snap);
    const bool counts_changed = before_snap && (!before || before->cached != f.cached || before->dirty != f.dirty);
    const ImVec4 c = counts_changed ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1);
    ImGui::TextColored(c, "%s", f.path.empty() ? "(unnamed)" : f.path.c_str());
    ImGui::SameLine();
    ImGui::TextColored(COLOUR_DIM, "%s  cached %llu  dirty %llu  writeback %llu  mapped %llu",
                       human_size(f.size).c_str(), (unsigned long long)f.cached, (unsigned long long)f.dirty,
                       (unsigned long long)f.writeback, (unsigned long long)f.mapped);
    const bool ra_new = before_snap && ra_changed(f, before);
    for (const inspect::RaWindow& r : f.ra) {
        ImGui::TextColored(ra_new ? COLOUR_CHANGED : COLOUR_ACCENT, "  read-ahead, open file %llu: %s",
                           (unsigned long long)r.file_id, ra_window_text(r).c_str());
        if (r.size && !r.random && r.async_size) {
            ImGui::SameLine();
            ImGui::TextColored(COLOUR_DIM, "  PG_readahead page %llu",
                               (unsigned long long)(r.start + r.size - r.async_size));
        }
    }
    draw_strip(f, before, before_snap != nullptr);
    if (!f.last_ra.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ra_new ? COLOUR_CHANGED : COLOUR_DIM);
        ImGui::TextWrapped("  last: %s", f.last_ra.c_str());
        ImGui::PopStyleColor();
    }
    ImGui::Separator();
}

void draw(const Snapshot& now, const Snapshot* before, ViewState&) {
    if (now.files.empty()) {
        ImGui::TextColored(COLOUR_DIM, "no file has pages in the page cache");
        return;
    }
    ImGui::TextColored(COLOUR_DIM, "a cell a page (");
    for (auto [label, p] :
         {std::pair{"cached", inspect::StripPage::Cached}, std::pair{"dirty", inspect::StripPage::Dirty},
          std::pair{"PG_readahead", inspect::StripPage::Readahead}}) {
        ImGui::SameLine(0, 4);
        ImGui::TextColored(im_colour4(strip_colour(p)), "%s", label);
    }
    ImGui::SameLine(0, 4);
    ImGui::TextColored(COLOUR_DIM, "); box: read-ahead window, bar: its async part; tick: new");
    if (!ImGui::BeginChild("files")) {
        ImGui::EndChild();
        return;
    }
    for (const inspect::FileCache& f : now.files) draw_file(f, before);
    ImGui::EndChild();
}

PanelRegistrar reg({"pagecache", "Page cache", Slot::Bottom, 6, draw});

}  // namespace
}  // namespace ui
