// The address space: the VMAs on a bar from the top of user space down (height grows with
// size, holes as gaps), and a table with their rights, files, anon_vma and resident/dirty/swapped
// pages; VMAs new or changed since the last stop are highlighted.
#include <imgui.h>

#include <utility>

#include "base/format.h"
#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

uint32_t vma_colour(const inspect::VmaInfo& v) {
    if (v.name == "[stack]") return 0xff3c78f0;
    if (v.name == "[heap]") return 0xff50c8f0;
    if (!v.name.empty()) return frame_colour(inspect::FrameUse::FileClean, 0);
    if (v.perms[0] == '-' && v.perms[1] == '-') return 0xff606060;
    return frame_colour(inspect::FrameUse::Anon, 0);
}

// The VMA of `before` with the same start, if any.
const inspect::VmaInfo* old_vma(const Snapshot* before, const inspect::VmaInfo& v) {
    if (!before) return nullptr;
    for (const inspect::VmaInfo& o : before->vmas)
        if (o.start == v.start) return &o;
    return nullptr;
}

void bar(const Snapshot& now, ViewState& view, float height) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 o = ImGui::GetCursorScreenPos();
    const float w = 26;
    for (const SpaceBar& b : layout_address_space(now.vmas, height, 6)) {
        const ImVec2 a(o.x, o.y + b.y), z(o.x + w, o.y + b.y + b.h - 1);
        if (b.hole) {
            dl->AddLine(ImVec2(o.x + w / 2, a.y), ImVec2(o.x + w / 2, z.y), 0xff505050);
            continue;
        }
        const inspect::VmaInfo& v = now.vmas[b.vma];
        dl->AddRectFilled(a, z, vma_colour(v));
        // The resident share as a darker fill from the bottom.
        const float frac = v.end > v.start ? static_cast<float>(v.resident) / ((v.end - v.start) >> 12) : 0;
        dl->AddRectFilled(ImVec2(a.x + w - 6, z.y - (z.y - a.y) * frac), ImVec2(z.x, z.y), 0xffffffff);
        if (ImGui::IsMouseHoveringRect(a, z)) {
            ImGui::BeginTooltip();
            ImGui::Text("%s-%s %s %s", base::hex(v.start.value).c_str(), base::hex(v.end.value).c_str(),
                        v.perms.c_str(), v.name.c_str());
            ImGui::Text("%s, %llu pages resident", human_size(v.end - v.start).c_str(), (unsigned long long)v.resident);
            ImGui::EndTooltip();
            if (ImGui::IsMouseClicked(0)) view.select_va(v.start.value);
        }
    }
    ImGui::Dummy(ImVec2(w + 4, height));
}

void table(const Snapshot& now, const Snapshot* before, ViewState& view) {
    if (!ImGui::BeginTable("vmas", 8, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerV))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    // Fixed widths, so the table is laid out in its first frame.
    const float ch = ImGui::CalcTextSize("0").x, pad = ImGui::GetStyle().CellPadding.x * 2;
    for (auto [h, chars] : {std::pair{"start", 12},
                            {"end", 12},
                            {"rights", 6},
                            {"size", 9},
                            {"resident", 8},
                            {"dirty", 6},
                            {"swapped", 7}})
        ImGui::TableSetupColumn(h, ImGuiTableColumnFlags_WidthFixed, static_cast<float>(chars) * ch + pad);
    ImGui::TableSetupColumn("name / anon_vma", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    for (const inspect::VmaInfo& v : now.vmas) {
        const inspect::VmaInfo* o = old_vma(before, v);
        const bool changed = before && (!o || o->end != v.end || o->resident != v.resident || o->swapped != v.swapped ||
                                        o->perms != v.perms);
        const ImVec4 c = changed ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%012llx", (unsigned long long)v.start.value);
        if (ImGui::IsItemClicked()) view.select_va(v.start.value);
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%012llx", (unsigned long long)v.end.value);
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%s", v.perms.c_str());
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%s", human_size(v.end - v.start).c_str());
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%llu", (unsigned long long)v.resident);
        ImGui::TableNextColumn();
        ImGui::TextColored(c, "%llu", (unsigned long long)v.dirty);
        ImGui::TableNextColumn();
        ImGui::TextColored(v.swapped ? COLOUR_SWAP : c, "%llu", (unsigned long long)v.swapped);
        ImGui::TableNextColumn();
        if (!v.name.empty()) ImGui::TextColored(c, "%s", v.name.c_str());
        else if (v.anon_vma) ImGui::TextColored(COLOUR_DIM, "anon_vma #%llu", (unsigned long long)v.anon_vma);
    }
    ImGui::EndTable();
}

void draw(const Snapshot& now, const Snapshot* before, ViewState& view) {
    if (now.vmas.empty()) {
        ImGui::TextColored(COLOUR_DIM, "no address space");
        return;
    }
    const float h = ImGui::GetContentRegionAvail().y - 4;
    ImGui::BeginGroup();
    bar(now, view, h);
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginChild("table", ImVec2(0, 0));
    ImGui::TextColored(COLOUR_DIM, "pid %d: %zu VMAs; brk %s..%s; stack top %s", now.shown_pid, now.vmas.size(),
                       base::hex(now.start_brk).c_str(), base::hex(now.brk).c_str(),
                       base::hex(now.start_stack).c_str());
    table(now, before, view);
    ImGui::EndChild();
}

PanelRegistrar reg({"vmas", "Address space", Slot::Bottom, 2, draw});

}  // namespace
}  // namespace ui
