// The panel registry and the fixed layout: one window per slot, its panels as tabs.
#include <imgui.h>

#include <algorithm>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {

std::vector<Panel>& panels() {
    static std::vector<Panel> all;
    return all;
}

PanelRegistrar::PanelRegistrar(const Panel& p) {
    auto& all = panels();
    all.push_back(p);
    std::stable_sort(all.begin(), all.end(), [](const Panel& a, const Panel& b) {
        return a.slot != b.slot ? a.slot < b.slot : a.order < b.order;
    });
}

std::string panel_names() {
    std::string s;
    for (const Panel& p : panels()) s += (s.empty() ? "" : ", ") + std::string(p.name);
    return s;
}

namespace {

struct SlotPlace {
    const char* title;
    float x, y, w, h;  // fractions of the display
};
// The layout: the frame map on the left, control and CPU in the middle, faults on the
// right, the detail panels below.
constexpr SlotPlace PLACES[] = {
    {"Physical memory", 0.0f, 0.0f, 0.425f, 1.0f},                // Map
    {"Run control", 0.425f, 0.0f, 0.2875f, 0.30f},                // Control
    {"Faults (Linux call path)", 0.7125f, 0.0f, 0.2875f, 0.64f},  // Faults
    {"CPU", 0.425f, 0.30f, 0.2875f, 0.34f},                       // Cpu
    {"Inspect", 0.425f, 0.64f, 0.575f, 0.36f},                    // Bottom
};

}  // namespace

void follow_stop(const Snapshot& now, ViewState& view) {
    static uint64_t followed = 0;
    if (now.generation == followed || now.running) return;
    followed = now.generation;
    if (!now.stop.fault) return;
    const guestos::FaultEvent& e = *now.stop.fault;
    if (view.sel.fault_seq == e.seq) return;
    view.sel.fault_seq = e.seq;
    view.select_va(e.address.value);
    const mmu::PagingMode mode =
        now.regs.is64 ? mmu::PagingMode::LongMode4 : (now.walk ? now.walk->mode : mmu::PagingMode::PAE);
    if (auto pfn = fault_pfn(e, mode)) view.select_pfn(*pfn);
}

void draw_panels(const Snapshot& now, const Snapshot* before, ViewState& view) {
    const ImVec2 display = ImGui::GetIO().DisplaySize;
    for (int slot = 0; slot < static_cast<int>(Slot::Count); ++slot) {
        const SlotPlace& p = PLACES[slot];
        ImGui::SetNextWindowPos(ImVec2(p.x * display.x, p.y * display.y), ImGuiCond_Always);
        ImGui::SetNextWindowSize(ImVec2(p.w * display.x, p.h * display.y), ImGuiCond_Always);
        ImGui::Begin(p.title, nullptr,
                     ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                         ImGuiWindowFlags_NoBringToFrontOnFocus);
        std::vector<const Panel*> here;
        for (const Panel& pn : panels())
            if (static_cast<int>(pn.slot) == slot) here.push_back(&pn);
        if (here.size() == 1) {
            here[0]->draw(now, before, view);
        } else if (ImGui::BeginTabBar("tabs", ImGuiTabBarFlags_FittingPolicyResizeDown)) {
            std::string& front = view.front[slot];
            for (const Panel* pn : here) {
                const ImGuiTabItemFlags flags = front == pn->name ? ImGuiTabItemFlags_SetSelected : 0;
                if (ImGui::BeginTabItem(pn->title, nullptr, flags)) {
                    view.selected_tab[slot] = pn->name;
                    if (slot == static_cast<int>(Slot::Bottom)) view.shown_tab(pn->name);
                    pn->draw(now, before, view);
                    ImGui::EndTabItem();
                }
            }
            front.clear();
            ImGui::EndTabBar();
        }
        ImGui::End();
    }
}

}  // namespace ui
