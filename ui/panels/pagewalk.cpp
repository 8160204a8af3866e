// The page walk of any address: CR3, each level's entry with its bits named, the frame it
// leads to, and the shadow TLB entry the CPU really uses beside the guest's PTE.
#include <imgui.h>

#include <cstring>

#include "base/format.h"
#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

const char* mode_name(mmu::PagingMode m) {
    return m == mmu::PagingMode::LongMode4 ? "4-level" : m == mmu::PagingMode::PAE ? "PAE" : "2-level";
}

void draw(const Snapshot& now, const Snapshot* before, ViewState& view) {
    static char text[64] = "";
    ImGui::SetNextItemWidth(220);
    const bool go =
        ImGui::InputTextWithHint("##va", "virtual address", text, sizeof text, ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if ((ImGui::Button("Walk") || go))
        if (auto a = parse_address(text)) view.select_va(*a);
    if (!now.walk) {
        ImGui::TextColored(COLOUR_DIM, "Type an address, or select a fault or a disassembly line.");
        return;
    }
    const inspect::PageWalk& w = *now.walk;
    ImGui::SameLine();
    ImGui::Text("  VA %s   CR3 (pgd) %s   %s paging", base::hex(w.va.value).c_str(), base::hex(w.root.value).c_str(),
                mode_name(w.mode));
    const std::vector<WalkRow> rows = walk_rows(w);
    const std::vector<WalkRow> old =
        before && before->walk && before->walk->va == w.va ? walk_rows(*before->walk) : std::vector<WalkRow>{};
    const int nbits = rows.empty() ? 10 : static_cast<int>(rows[0].bits.size());
    if (ImGui::BeginTable("walk", 4 + nbits,
                          ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit)) {
        ImGui::TableSetupColumn("level");
        ImGui::TableSetupColumn("index");
        ImGui::TableSetupColumn("entry");
        for (int b = 0; b < nbits; ++b) ImGui::TableSetupColumn(rows.empty() ? "" : rows[0].bits[b].name);
        ImGui::TableSetupColumn("leads to");
        ImGui::TableHeadersRow();
        for (size_t i = 0; i < rows.size(); ++i) {
            const WalkRow& r = rows[i];
            const bool changed = i < old.size() && old[i].entry != r.entry;
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::Text("%s", r.level.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%s", r.index.c_str());
            ImGui::TableNextColumn();
            ImGui::TextColored(changed ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1), "%s", r.entry.c_str());
            for (const inspect::EntryBit& b : r.bits) {
                ImGui::TableNextColumn();
                ImGui::TextColored(b.set ? COLOUR_GOOD : COLOUR_DIM, "%d", b.set ? 1 : 0);
            }
            ImGui::TableNextColumn();
            ImGui::Text("%s", r.next.c_str());
        }
        ImGui::EndTable();
    }
    if (w.phys)
        ImGui::Text("=> physical %s (pfn %s)", base::hex(w.phys->value).c_str(), base::hex(w.phys->pfn()).c_str());
    else ImGui::TextColored(COLOUR_BAD, "=> %s: an access faults", w.stopped.c_str());
    ImGui::TextColored(COLOUR_ACCENT, "shadow TLB (what the CPU walks):");
    ImGui::SameLine();
    ImGui::Text("%s", tlb_entry_text(now.walk_tlb).c_str());
    if (w.phys && now.walk_tlb && now.walk_tlb->pfn != w.phys->pfn())
        ImGui::TextColored(COLOUR_BAD, "the shadow entry maps another frame than the guest PTE!");
    if (w.phys && ImGui::Button("Show this frame"))
        view.select_pfn(w.phys->pfn()), view.bring_to_front(Slot::Bottom, "frame");
}

PanelRegistrar reg({"walk", "Page walk", Slot::Bottom, 0, draw});

}  // namespace
}  // namespace ui
