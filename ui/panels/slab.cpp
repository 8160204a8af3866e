// The slab caches as /proc/slabinfo shows them; caches that grew or shrank since the last
// stop highlighted.
#include <imgui.h>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

const inspect::SlabCache* old_cache(const Snapshot* before, const inspect::SlabCache& c) {
    if (!before) return nullptr;
    for (const inspect::SlabCache& o : before->slabs)
        if (o.name == c.name) return &o;
    return nullptr;
}

void draw(const Snapshot& now, const Snapshot* before, ViewState&) {
    static bool used_only = true;
    ImGui::Checkbox("caches in use only", &used_only);
    if (!ImGui::BeginTable("slabinfo", 7,
                           ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerV |
                               ImGuiTableFlags_SizingFixedFit,
                           ImVec2(0, ImGui::GetContentRegionAvail().y)))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    setup_columns({"name", "active_objs", "num_objs", "objsize", "objperslab", "pagesperslab", "slabs"});
    ImGui::TableHeadersRow();
    for (const inspect::SlabCache& c : now.slabs) {
        if (used_only && !c.num_objs) continue;
        const inspect::SlabCache* o = old_cache(before, c);
        const bool changed = o && (o->active_objs != c.active_objs || o->num_slabs != c.num_slabs);
        const ImVec4 col = changed ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextColored(col, "%s", c.name.c_str());
        for (uint64_t v : {c.active_objs, c.num_objs, uint64_t(c.object_size), uint64_t(c.objects_per_slab),
                           uint64_t(c.pages_per_slab), c.num_slabs}) {
            ImGui::TableNextColumn();
            ImGui::TextColored(col, "%llu", (unsigned long long)v);
        }
    }
    ImGui::EndTable();
}

PanelRegistrar reg({"slab", "Slab", Slot::Bottom, 4, draw});

}  // namespace
}  // namespace ui
