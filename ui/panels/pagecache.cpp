// The page cache per file: cached, dirty, under-writeback and mapped pages.
#include <imgui.h>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

void draw(const Snapshot& now, const Snapshot* before, ViewState&) {
    if (now.files.empty()) {
        ImGui::TextColored(COLOUR_DIM, "no file has pages in the page cache");
        return;
    }
    if (!ImGui::BeginTable("files", 6,
                           ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerV |
                               ImGuiTableFlags_SizingFixedFit,
                           ImVec2(0, ImGui::GetContentRegionAvail().y)))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    setup_columns({"file", "size", "cached", "dirty", "writeback", "mapped"});
    ImGui::TableHeadersRow();
    for (const inspect::FileCache& f : now.files) {
        uint64_t was = 0;
        if (before)
            for (const inspect::FileCache& o : before->files)
                if (o.ino == f.ino && o.path == f.path) was = o.cached;
        const ImVec4 c = before && was != f.cached ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%s", f.path.empty() ? "(unnamed)" : f.path.c_str());
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%s", human_size(f.size).c_str());
        for (uint64_t v : {f.cached, f.dirty, f.writeback, f.mapped}) {
            ImGui::TableNextColumn();
            ImGui::TextColored(c, "%llu", (unsigned long long)v);
        }
    }
    ImGui::EndTable();
}

PanelRegistrar reg({"pagecache", "Page cache", Slot::Bottom, 6, draw});

}  // namespace
}  // namespace ui
