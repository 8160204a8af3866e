// The processes: every task not yet reaped, as ps would list them (pid, thread group,
// parent, state, threads, sizes; groups and sessions on hover), the running one marked; new tasks and changed states since
// the last stop highlighted. Clicking a row shows that process's address space and page walk.
#include <imgui.h>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

const inspect::TaskInfo* old_task(const Snapshot* before, int pid) {
    if (!before) return nullptr;
    for (const inspect::TaskInfo& t : before->tasks)
        if (t.pid == pid) return &t;
    return nullptr;
}

void draw(const Snapshot& now, const Snapshot* before, ViewState& view) {
    ImGui::TextColored(COLOUR_DIM, "%zu tasks; pid %d runs; showing the address space of pid %d (click a row)",
                       now.tasks.size(), now.pid, now.shown_pid);
    if (!ImGui::BeginTable("tasks", 9, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerV,
                           ImVec2(0, ImGui::GetContentRegionAvail().y)))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    const float ch = ImGui::CalcTextSize("0").x, pad = ImGui::GetStyle().CellPadding.x * 2;
    auto fixed = [&](const char* h, float chars) {
        ImGui::TableSetupColumn(h, ImGuiTableColumnFlags_WidthFixed, chars * ch + pad);
    };
    ImGui::TableSetupColumn("comm", ImGuiTableColumnFlags_WidthStretch);
    for (const char* h : {"pid", "tgid", "ppid"}) fixed(h, 5);
    fixed("state", 14);
    fixed("threads", 7);
    fixed("VSZ", 9);
    fixed("RSS", 9);
    fixed("VMAs", 5);
    ImGui::TableHeadersRow();
    for (const inspect::TaskInfo& t : now.tasks) {
        const inspect::TaskInfo* o = old_task(before, t.pid);
        const bool changed = before && (!o || std::string(o->state) != t.state || o->rss_anon != t.rss_anon ||
                                        o->map_count != t.map_count);
        const ImVec4 c = changed ? COLOUR_CHANGED : t.state[0] == 'Z' ? COLOUR_DIM : ImVec4(1, 1, 1, 1);
        ImGui::TableNextRow();
        if (t.pid == now.shown_pid) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, 0x60a05a28);
        ImGui::TableNextColumn();
        const std::string label = (t.pid == now.pid ? "> " : "  ") + t.comm + " (" + t.abi + ")";
        if (ImGui::Selectable(label.c_str(), false, ImGuiSelectableFlags_SpanAllColumns) && t.mm_id)
            view.select_pid(t.pid);
        if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            ImGui::Text("%s: pid %d, thread group %d, parent %d", t.comm.c_str(), t.pid, t.tgid, t.ppid);
            ImGui::Text("process group %d, session %d, %s", t.pgrp, t.session, t.state);
            if (t.mm_id)
                ImGui::Text("anon %s, file %s, shmem %s; page tables %s", human_size(t.rss_anon << 12).c_str(),
                            human_size(t.rss_file << 12).c_str(), human_size(t.rss_shmem << 12).c_str(),
                            human_size(t.pgtables_bytes).c_str());
            else ImGui::Text("no address space (exit status 0x%x)", t.exit_code);
            ImGui::EndTooltip();
        }
        for (int v : {t.pid, t.tgid, t.ppid}) {
            ImGui::TableNextColumn();
            ImGui::TextColored(c, "%d", v);
        }
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%s", t.state);
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%d", t.threads);
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%s", t.mm_id ? human_size(t.vm_pages << 12).c_str() : "-");
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%s", t.mm_id ? human_size((t.rss_anon + t.rss_file + t.rss_shmem) << 12).c_str() : "-");
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%d", t.map_count);
    }
    ImGui::EndTable();
}

PanelRegistrar reg({"processes", "Processes", Slot::Bottom, 8, draw});

}  // namespace
}  // namespace ui
