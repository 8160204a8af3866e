// Swap and reclaim: the swap areas with their used slots and swap cache, the LRU lists
// reclaim takes pages from, and the swap and reclaim events (what grew since the last stop
// highlighted).
#include <imgui.h>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

void areas(const inspect::ReclaimInfo& r) {
    if (r.areas.empty()) {
        ImGui::TextColored(COLOUR_DIM, "no swap area (start emu with --swap FILE, a file made by mkswap)");
        return;
    }
    for (const inspect::SwapArea& a : r.areas) {
        ImGui::TextColored(COLOUR_ACCENT, "swap area %u", a.type);
        ImGui::SameLine();
        ImGui::TextColored(COLOUR_DIM, "%s  prio %d", a.file.substr(a.file.rfind('/') + 1).c_str(), a.prio);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", a.file.c_str());
        const std::string label = std::to_string(a.inuse) + " / " + std::to_string(a.pages) + " slots used (" +
                                  human_size(a.inuse << 12) + ")";
        ImGui::PushStyleColor(ImGuiCol_PlotHistogram, COLOUR_SWAP);
        ImGui::ProgressBar(swap_used_fraction(a), ImVec2(-1, 0), label.c_str());
        ImGui::PopStyleColor();
        ImGui::TextColored(COLOUR_DIM, "%llu of its slots cached in RAM", (unsigned long long)a.cached);
    }
    ImGui::Text("swap cache: %llu pages (%s)", (unsigned long long)r.swapcache, human_size(r.swapcache << 12).c_str());
}

void lru_lists(const inspect::ReclaimInfo& r, const inspect::ReclaimInfo* o) {
    ImGui::Spacing();
    ImGui::TextColored(COLOUR_ACCENT, "LRU lists");
    ImGui::SameLine();
    ImGui::TextColored(COLOUR_DIM, "(reclaim takes inactive tails)");
    const auto shares = lru_shares(r);
    for (unsigned l = 0; l < guestos::NR_LRU_LISTS; ++l) {
        const bool changed = o && o->lru[l] != r.lru[l];
        ImGui::TextColored(changed ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1), "%-14s %8llu", inspect::lru_list_names[l],
                           (unsigned long long)r.lru[l]);
        ImGui::SameLine();
        const bool anon = l == guestos::LRU_INACTIVE_ANON || l == guestos::LRU_ACTIVE_ANON;
        ImGui::PushStyleColor(ImGuiCol_PlotHistogram,
                              anon ? ImVec4(0.24f, 0.78f, 0.35f, 1) : ImVec4(0.24f, 0.47f, 0.92f, 1));
        ImGui::ProgressBar(shares[l], ImVec2(-1, 0), "");
        ImGui::PopStyleColor();
    }
}

void events(const inspect::ReclaimInfo& r, const inspect::ReclaimInfo* o) {
    if (!ImGui::BeginTable("events", 4,
                           ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit))
        return;
    const float ch = ImGui::CalcTextSize("0").x, pad = ImGui::GetStyle().CellPadding.x * 2;
    ImGui::TableSetupColumn("event", ImGuiTableColumnFlags_WidthFixed, 14 * ch + pad);
    ImGui::TableSetupColumn("count", ImGuiTableColumnFlags_WidthFixed, 6 * ch + pad);
    ImGui::TableSetupColumn("new", ImGuiTableColumnFlags_WidthFixed, 5 * ch + pad);
    ImGui::TableSetupColumn("what", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    for (const ReclaimRow& row : reclaim_rows(r, o)) {
        const ImVec4 c = row.delta ? COLOUR_CHANGED : (row.value ? ImVec4(1, 1, 1, 1) : COLOUR_DIM);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%s", row.label);
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%llu", (unsigned long long)row.value);
        ImGui::TableNextColumn();
        if (row.delta) ImGui::TextColored(c, "+%llu", (unsigned long long)row.delta);
        ImGui::TableNextColumn();
        ImGui::TextColored(COLOUR_DIM, "%s", row.what);
    }
    ImGui::EndTable();
}

void draw(const Snapshot& now, const Snapshot* before, ViewState&) {
    const inspect::ReclaimInfo* o = before ? &before->reclaim : nullptr;
    const float w = ImGui::GetContentRegionAvail().x;
    ImGui::BeginChild("swap", ImVec2(w * 0.38f, 0));
    areas(now.reclaim);
    lru_lists(now.reclaim, o);
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("events", ImVec2(0, 0));
    events(now.reclaim, o);
    ImGui::EndChild();
}

PanelRegistrar reg({"swap", "Swap/LRU", Slot::Bottom, 9, draw});

}  // namespace
}  // namespace ui
