// Run control: the execution buttons, fault filters, run-to and watch, the stop reason and
// the lesson's note.
#include <imgui.h>

#include <cstdio>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

void push(ViewState& view, Command::Kind k, uint64_t address = 0) {
    Command c;
    c.kind = k;
    c.address = address;
    c.filter = view.fault_filter | (view.show_hidden ? unsigned{emu::FAULT_TLB_FILL} : 0u);
    view.commands.push_back(c);
}

// Stays on this line when `width` more pixels fit.
void same_line_if_fits(float width) {
    ImGui::SameLine();
    if (ImGui::GetContentRegionAvail().x < width) ImGui::NewLine();
}

void filters(ViewState& view) {
    static constexpr std::pair<unsigned, const char*> items[] = {{emu::FAULT_ANON, "anon"},
                                                                 {emu::FAULT_FILE, "file"},
                                                                 {emu::FAULT_COW, "COW"},
                                                                 {emu::FAULT_SWAP, "swap"},
                                                                 {emu::FAULT_SIGSEGV, "SIGSEGV"}};
    ImGui::TextColored(COLOUR_DIM, "stop at:");
    for (auto [bit, name] : items) {
        same_line_if_fits(ImGui::CalcTextSize(name).x + 40);
        bool on = view.fault_filter & bit;
        if (ImGui::Checkbox(name, &on)) view.fault_filter = on ? view.fault_filter | bit : view.fault_filter & ~bit;
    }
    same_line_if_fits(ImGui::CalcTextSize("TLB fills").x + 40);
    ImGui::Checkbox("TLB fills", &view.show_hidden);
}

void draw(const Snapshot& now, const Snapshot*, ViewState& view) {
    const bool idle = !view.running && !now.exited;
    ImGui::BeginDisabled(!idle);
    const ImVec2 at = ImGui::GetCursorScreenPos();
    if (ImGui::Button("Step to next fault", ImVec2(160, 32))) push(view, Command::StepFault);
    view.step_fault_button[0] = at.x, view.step_fault_button[1] = at.y;
    view.step_fault_button[2] = 160, view.step_fault_button[3] = 32;
    ImGui::SameLine();
    if (ImGui::Button("Step", ImVec2(48, 32))) push(view, Command::Step);
    ImGui::SameLine();
    if (ImGui::Button("Syscall", ImVec2(68, 32))) push(view, Command::StepSyscall);
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (view.running) {
        if (ImGui::Button("Pause", ImVec2(52, 32))) view.pause_requested = true;
    } else {
        ImGui::BeginDisabled(!idle);
        if (ImGui::Button("Run", ImVec2(52, 32))) push(view, Command::Continue);
        ImGui::EndDisabled();
    }
    filters(view);
    static char addr[64] = "";
    ImGui::BeginDisabled(!idle);
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - 150);
    ImGui::InputTextWithHint("##addr", "address or symbol", addr, sizeof addr);
    ImGui::SameLine();
    if (ImGui::Button("Run to"))
        if (auto a = parse_address(addr)) push(view, Command::RunTo, *a);
    ImGui::SameLine();
    if (ImGui::Button("Watch page"))
        if (auto a = parse_address(addr)) push(view, Command::WatchPage, *a);
    ImGui::EndDisabled();
    ImGui::Separator();
    // Why the machine stands where it does.
    if (view.running) {
        ImGui::TextColored(COLOUR_ACCENT, "running...  %llu faults so far", (unsigned long long)now.total_faults);
    } else {
        const ImVec4 c = now.exited ? COLOUR_BAD : COLOUR_GOOD;
        ImGui::TextColored(c, "%s", now.exited ? "exited" : "stopped");
        ImGui::SameLine();
        ImGui::Text("%s%s%s", emu::stop_reason_name(now.stop.reason), now.stop.detail.empty() ? "" : ": ",
                    now.stop.detail.c_str());
    }
    ImGui::TextColored(COLOUR_DIM, "pid %d  %s  pc 0x%llx  faults %llu", now.pid,
                       now.program.substr(now.program.rfind('/') + 1).c_str(), (unsigned long long)now.stop.pc,
                       (unsigned long long)now.total_faults);
    if (!now.lesson_note.empty()) {
        ImGui::Separator();
        ImGui::BeginChild("note");
        ImGui::PushTextWrapPos(0);
        ImGui::TextColored(COLOUR_CHANGED, "Lesson:");
        ImGui::SameLine();
        ImGui::TextUnformatted(now.lesson_note.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndChild();
    }
}

PanelRegistrar reg({"control", "Run control", Slot::Control, 0, draw});

}  // namespace
}  // namespace ui
