// The shadow TLB: its counters (changes since the last stop in brackets) and its entries,
// the translations the CPU uses now.
#include <imgui.h>

#include "base/format.h"
#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

void counter(const char* name, uint64_t now, uint64_t before, const char* what) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::Text("%s", name);
    ImGui::TableNextColumn();
    ImGui::TextColored(now != before ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1), "%llu", (unsigned long long)now);
    if (now != before) {
        ImGui::SameLine();
        ImGui::TextColored(COLOUR_DIM, "(+%llu)", (unsigned long long)(now - before));
    }
    ImGui::TableNextColumn();
    ImGui::TextColored(COLOUR_DIM, "%s", what);
}

void draw(const Snapshot& now, const Snapshot* before, ViewState& view) {
    const emu::TlbStats& t = now.tlb;
    const emu::TlbStats b = before ? before->tlb : t;
    if (ImGui::BeginTable("tlbstats", 3, ImGuiTableFlags_SizingFixedFit)) {
        counter("fills", t.fills, b.fills, "entries written from a guest walk");
        counter("hidden faults", t.hidden_faults, b.hidden_faults, "#PF resolved without the OS");
        counter("dirty upgrades", t.dirty_upgrades, b.dirty_upgrades, "first write to a clean page: D set");
        counter("true faults", t.true_faults, b.true_faults, "handed to do_page_fault");
        counter("invalidations", t.invalidations, b.invalidations, "flush_tlb_page / range");
        counter("full flushes", t.full_flushes, b.full_flushes, "flush_tlb_mm or capacity");
        ImGui::EndTable();
    }
    ImGui::SameLine();
    ImGui::BeginChild("entries", ImVec2(0, 0));
    ImGui::TextColored(COLOUR_DIM, "%llu entries present", (unsigned long long)now.tlb_present);
    if (ImGui::BeginTable("tlb", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit,
                          ImVec2(0, ImGui::GetContentRegionAvail().y))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        for (const char* h : {"virtual page", "frame", "rights"}) ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        ImGuiListClipper clip;
        clip.Begin(static_cast<int>(now.tlb_entries.size()));
        while (clip.Step())
            for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
                const emu::TlbEntry& e = now.tlb_entries[i];
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::Text("%s", base::hex(e.va.value).c_str());
                if (ImGui::IsItemClicked()) view.select_va(e.va.value);
                ImGui::TableNextColumn();
                ImGui::Text("%s", base::hex(e.pfn).c_str());
                ImGui::TableNextColumn();
                ImGui::Text("%s%s%s", e.writable ? "RW" : "RO", e.user ? " US" : " S", e.executable ? " X" : " NX");
            }
        ImGui::EndTable();
    }
    ImGui::EndChild();
}

PanelRegistrar reg({"tlb", "TLB", Slot::Bottom, 5, draw});

}  // namespace
}  // namespace ui
