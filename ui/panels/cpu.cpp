// The CPU: registers (changed ones highlighted), flags, segment bases, and the code around
// the instruction pointer with the executable's symbols.
#include <imgui.h>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

uint64_t previous(const Snapshot* before, const char* name, uint64_t fallback) {
    if (!before) return fallback;
    for (auto& [n, v] : before->regs.gpr)
        if (std::string(n) == name) return v;
    return fallback;
}

void registers(const Snapshot& now, const Snapshot* before) {
    const int cols = now.regs.is64 ? 2 : 3;
    if (!ImGui::BeginTable("regs", cols, ImGuiTableFlags_SizingStretchSame)) return;
    int i = 0;
    for (auto& [name, value] : now.regs.gpr) {
        if (i++ % cols == 0) ImGui::TableNextRow();
        ImGui::TableNextColumn();
        const bool changed = previous(before, name, value) != value;
        ImGui::TextColored(COLOUR_DIM, "%-3s", name);
        ImGui::SameLine();
        if (now.regs.is64)
            ImGui::TextColored(changed ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1), "%016llx", (unsigned long long)value);
        else ImGui::TextColored(changed ? COLOUR_CHANGED : ImVec4(1, 1, 1, 1), "%08llx", (unsigned long long)value);
    }
    ImGui::EndTable();
    ImGui::TextColored(COLOUR_DIM, "flags");
    ImGui::SameLine();
    ImGui::Text("%08llx [%s]", (unsigned long long)now.regs.flags, now.regs.flag_names.c_str());
    ImGui::TextColored(COLOUR_DIM, "fs_base");
    ImGui::SameLine();
    ImGui::Text("%llx", (unsigned long long)now.regs.fs_base);
    ImGui::SameLine();
    ImGui::TextColored(COLOUR_DIM, " gs_base");
    ImGui::SameLine();
    ImGui::Text("%llx", (unsigned long long)now.regs.gs_base);
    ImGui::SameLine();
    ImGui::TextColored(COLOUR_DIM, " cs %x ss %x", now.regs.cs, now.regs.ss);
}

void disassembly(const Snapshot& now, ViewState& view) {
    ImGui::BeginChild("disasm", ImVec2(0, 0));
    for (const emu::DisasmLine& l : now.disasm) {
        if (!l.symbol.empty()) ImGui::TextColored(COLOUR_ACCENT, "<%s>:", l.symbol.c_str());
        const bool here = l.address == now.stop.pc && !now.exited;
        ImGui::TextColored(here ? COLOUR_CHANGED : ImGui::GetStyleColorVec4(ImGuiCol_Text), "%s %08llx  %s",
                           here ? "=>" : "  ", (unsigned long long)l.address, l.text.c_str());
        if (ImGui::IsItemClicked()) view.select_va(l.address);
    }
    if (now.disasm.empty())
        ImGui::TextColored(COLOUR_DIM, now.exited ? "(the program has ended)" : "(code not mapped yet)");
    ImGui::EndChild();
}

void draw(const Snapshot& now, const Snapshot* before, ViewState& view) {
    registers(now, before);
    ImGui::Separator();
    disassembly(now, view);
}

PanelRegistrar reg({"cpu", "CPU", Slot::Cpu, 0, draw});

}  // namespace
}  // namespace ui
