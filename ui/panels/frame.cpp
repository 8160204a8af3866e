// One frame: its struct page, every PTE that maps it (rmap), and its bytes, with the bytes
// changed since the last stop highlighted.
#include <imgui.h>

#include "base/format.h"
#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

void struct_page(const Snapshot& now) {
    const inspect::PageInfo& p = *now.page;
    ImGui::TextColored(COLOUR_ACCENT, "struct page %s", base::hex(p.pfn).c_str());
    ImGui::Text("use       %s", inspect::frame_use_name(p.use));
    ImGui::Text("zone      %s%s", p.zone, p.highmem ? " (highmem)" : "");
    ImGui::Text("flags     %s", p.flag_names.empty() ? "-" : p.flag_names.c_str());
    ImGui::Text("_refcount %d", p.refcount);
    ImGui::Text("_mapcount %d", p.mapcount);
    ImGui::Text("mapping   %s", p.mapping.empty() ? "-" : p.mapping.c_str());
    ImGui::Text("index     %llu", (unsigned long long)p.index);
    if (p.use == inspect::FrameUse::Free || p.order) ImGui::Text("order     %u", p.order);
    if (!p.slab_cache.empty()) ImGui::Text("slab      %s", p.slab_cache.c_str());
    ImGui::Spacing();
    ImGui::TextColored(COLOUR_ACCENT, "mapped by (rmap)");
    if (now.rmap.empty()) ImGui::TextColored(COLOUR_DIM, "no PTE maps it");
    for (const inspect::RmapRef& r : now.rmap) {
        ImGui::Text("pid %d at %s", now.pid, base::hex(r.address.value).c_str());
        ImGui::TextColored(COLOUR_DIM, "  pte %s", base::hex(r.pte).c_str());
        ImGui::PushTextWrapPos(0);
        ImGui::TextColored(COLOUR_DIM, "  %s", r.vma.c_str());
        ImGui::PopTextWrapPos();
    }
}

void hexdump(const Snapshot& now) {
    static bool nonzero = true;
    ImGui::Checkbox("only rows with data", &nonzero);
    ImGui::SameLine();
    ImGui::TextColored(COLOUR_CHANGED, "changed since the last stop");
    const std::vector<HexRow> rows = hex_rows(now.frame_bytes, now.frame_bytes_prev, nonzero);
    ImGui::BeginChild("hex", ImVec2(0, 0));
    if (rows.empty()) ImGui::TextColored(COLOUR_DIM, "all %zu bytes are zero", now.frame_bytes.size());
    for (const HexRow& r : rows) {
        ImGui::TextColored(COLOUR_DIM, "%03llx", (unsigned long long)r.offset);
        for (int i = 0; i < 16; ++i) {
            ImGui::SameLine(0, i == 8 ? 9 : 5);
            const bool ch = r.changed & (1u << i);
            ImGui::TextColored(ch ? COLOUR_CHANGED : (r.bytes[i] ? ImVec4(1, 1, 1, 1) : COLOUR_DIM), "%02x",
                               r.bytes[i]);
        }
    }
    ImGui::EndChild();
}

void draw(const Snapshot& now, const Snapshot*, ViewState& view) {
    if (!now.page) {
        ImGui::TextColored(COLOUR_DIM,
                           "Click a frame in the map (or select a fault) to see its struct page, rmap and bytes.");
        return;
    }
    if (ImGui::BeginTable("frame", 2, ImGuiTableFlags_BordersInnerV)) {
        ImGui::TableSetupColumn("page", ImGuiTableColumnFlags_WidthFixed, 290);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        struct_page(now);
        ImGui::TableNextColumn();
        hexdump(now);
        ImGui::EndTable();
    }
}

PanelRegistrar reg({"frame", "Frame", Slot::Bottom, 1, draw});

}  // namespace
}  // namespace ui
