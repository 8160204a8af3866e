// The buddy allocator: per zone, free blocks per order and migrate type (free_area), the
// watermarks, and a bar of blocks per order; counts changed since the last stop highlighted.
#include <imgui.h>

#include <cfloat>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

const inspect::BuddyZone* old_zone(const Snapshot* before, const inspect::BuddyZone& z) {
    if (!before) return nullptr;
    for (const inspect::BuddyZone& o : before->buddy)
        if (std::string(o.name) == z.name) return &o;
    return nullptr;
}

void zone(const inspect::BuddyZone& z, const inspect::BuddyZone* o) {
    ImGui::TextColored(COLOUR_ACCENT, "Zone %s", z.name);
    ImGui::SameLine();
    ImGui::TextColored(
        COLOUR_DIM, "pfn %llx+%llu  managed %llu  free %llu (+%llu per-cpu)  wmark min/low/high %llu/%llu/%llu",
        (unsigned long long)z.start_pfn, (unsigned long long)z.spanned, (unsigned long long)z.managed,
        (unsigned long long)z.free_pages, (unsigned long long)z.pcp_pages, (unsigned long long)z.wmark_min,
        (unsigned long long)z.wmark_low, (unsigned long long)z.wmark_high);
    if (!ImGui::BeginTable(z.name, 1 + guestos::NR_PAGE_ORDERS,
                           ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchSame))
        return;
    ImGui::TableSetupColumn("order", ImGuiTableColumnFlags_WidthFixed, 90);
    for (unsigned ord = 0; ord < guestos::NR_PAGE_ORDERS; ++ord) ImGui::TableSetupColumn(std::to_string(ord).c_str());
    ImGui::TableHeadersRow();
    for (unsigned mt = 0; mt < guestos::MIGRATE_TYPES; ++mt) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::Text("%s", inspect::migratetype_names[mt]);
        for (unsigned ord = 0; ord < guestos::NR_PAGE_ORDERS; ++ord) {
            ImGui::TableNextColumn();
            const uint64_t n = z.nr_free[ord][mt];
            const bool changed = o && o->nr_free[ord][mt] != n;
            ImGui::TextColored(changed ? COLOUR_CHANGED : (n ? ImVec4(1, 1, 1, 1) : COLOUR_DIM), "%llu",
                               (unsigned long long)n);
        }
    }
    ImGui::EndTable();
}

void draw(const Snapshot& now, const Snapshot* before, ViewState&) {
    ImGui::BeginChild("zones");
    for (const inspect::BuddyZone& z : now.buddy) {
        zone(z, old_zone(before, z));
        // Free pages held at each order, as a bar chart.
        float pages[guestos::NR_PAGE_ORDERS] = {};
        for (unsigned ord = 0; ord < guestos::NR_PAGE_ORDERS; ++ord)
            for (unsigned mt = 0; mt < guestos::MIGRATE_TYPES; ++mt)
                pages[ord] += static_cast<float>(z.nr_free[ord][mt] << ord);
        ImGui::PlotHistogram("##pages", pages, guestos::NR_PAGE_ORDERS, 0, "free pages held at each order 0..10", 0,
                             FLT_MAX, ImVec2(0, 42));
        ImGui::Spacing();
    }
    ImGui::EndChild();
}

PanelRegistrar reg({"buddy", "Buddy", Slot::Bottom, 3, draw});

}  // namespace
}  // namespace ui
