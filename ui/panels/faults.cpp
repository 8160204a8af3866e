// The fault timeline: every fault, newest at the bottom, each opening to the Linux call path
// it took; selecting one moves the page walk and the frame panels to it.
#include <imgui.h>

#include "base/format.h"
#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

ImVec4 kind_colour(const guestos::FaultEvent& e) {
    switch (guestos::fault_kind(e)) {
    case guestos::FaultKind::Anon: return im_colour4(frame_colour(inspect::FrameUse::Anon, 0));
    case guestos::FaultKind::File: return im_colour4(frame_colour(inspect::FrameUse::FileClean, 0));
    case guestos::FaultKind::Cow: return COLOUR_CHANGED;
    case guestos::FaultKind::Signal: return COLOUR_BAD;
    default: return COLOUR_DIM;
    }
}

void select(const guestos::FaultEvent& e, const Snapshot& now, ViewState& view) {
    view.sel.fault_seq = e.seq;
    view.select_va(e.address.value);
    const mmu::PagingMode mode =
        now.walk ? now.walk->mode : (now.regs.is64 ? mmu::PagingMode::LongMode4 : mmu::PagingMode::PAE);
    if (auto pfn = fault_pfn(e, mode)) view.select_pfn(*pfn);
}

void draw(const Snapshot& now, const Snapshot* before, ViewState& view) {
    const uint64_t seen = before && !before->faults.empty() ? before->faults.back().seq : 0;
    ImGui::TextColored(COLOUR_DIM, "%llu true faults; %zu listed", (unsigned long long)now.total_faults,
                       now.faults.size());
    ImGui::BeginChild("timeline", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar);
    // The snapshot holds only the newest few hundred: the list is a log, its tail is what matters.
    for (size_t i = 0; i < now.faults.size(); ++i) {
        const guestos::FaultEvent& e = now.faults[i];
        const bool selected = view.sel.fault_seq == e.seq;
        const bool fresh = e.seq > seen;
        ImGui::PushID(static_cast<int>(e.seq));
        ImGui::PushStyleColor(ImGuiCol_Text, fresh ? COLOUR_CHANGED : ImGui::GetStyleColorVec4(ImGuiCol_Text));
        ImGuiTreeNodeFlags flags = ImGuiTreeNodeFlags_SpanAvailWidth | ImGuiTreeNodeFlags_OpenOnArrow;
        if (selected) flags |= ImGuiTreeNodeFlags_Selected;
        if (selected || (i + 1 == now.faults.size() && now.stop.fault)) ImGui::SetNextItemOpen(true, ImGuiCond_Always);
        const bool open =
            ImGui::TreeNodeEx("fault", flags, "#%llu %s %s", (unsigned long long)e.seq,
                              base::hex(e.address.value).c_str(), guestos::describe_error_code(e.error_code).c_str());
        ImGui::PopStyleColor();
        if (ImGui::IsItemClicked() && !ImGui::IsItemToggledOpen()) select(e, now, view);
        ImGui::SameLine();
        ImGui::TextColored(kind_colour(e), "%s", fault_class_name(e));
        if (open) {
            ImGui::TextColored(COLOUR_DIM, "%s  %s", base::hex(e.ip).c_str(), e.insn.c_str());
            ImGui::TextColored(COLOUR_DIM, "vma %s", e.vma.c_str());
            int depth = 0;
            for (const guestos::FaultStep& step : e.path) {
                ImGui::Indent(8);
                ++depth;
                ImGui::TextUnformatted(step.text().c_str());
            }
            ImGui::Unindent(8.0f * depth);
            ImGui::TextColored(e.outcome.rfind("SIG", 0) == 0 ? COLOUR_BAD : COLOUR_GOOD, "=> %s   pte %s -> %s",
                               e.outcome.c_str(), base::hex(e.pte_before).c_str(), base::hex(e.pte_after).c_str());
            ImGui::TreePop();
        }
        ImGui::PopID();
    }
    if (before && now.generation != before->generation && !now.faults.empty() && now.stop.fault)
        ImGui::SetScrollHereY(1.0f);
    ImGui::EndChild();
}

PanelRegistrar reg({"faults", "Faults", Slot::Faults, 0, draw});

}  // namespace
}  // namespace ui
