// Memory over time: MemFree, Cached, AnonPages, Slab, PageTables, swap used and swap cache
// (MiB) and faults, one sample
// per stop or refresh.
#include <imgui.h>

#include <algorithm>
#include <cfloat>

#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

void draw(const Snapshot& now, const Snapshot*, ViewState&) {
    const std::vector<Series> series = memory_series(now.history);
    const float w = (ImGui::GetContentRegionAvail().x - 8) / 2;
    const float rows = static_cast<float>((series.size() + 1) / 2);
    const float h = (ImGui::GetContentRegionAvail().y - rows * 22) / rows;
    for (size_t i = 0; i < series.size(); ++i) {
        const Series& s = series[i];
        if (i % 2) ImGui::SameLine();
        ImGui::BeginGroup();
        const float last = s.values.empty() ? 0 : s.values.back();
        ImGui::Text("%s", s.name);
        ImGui::SameLine();
        ImGui::TextColored(COLOUR_CHANGED, i + 1 == series.size() ? "%.0f" : "%.1f MiB", last);
        const float hi =
            s.values.empty() ? 1 : std::max(1e-3f, *std::max_element(s.values.begin(), s.values.end()) * 1.1f);
        ImGui::PlotLines(("##" + std::string(s.name)).c_str(), s.values.data(), static_cast<int>(s.values.size()), 0,
                         nullptr, 0, hi, ImVec2(w, h));
        ImGui::EndGroup();
    }
}

PanelRegistrar reg({"memory", "Memory over time", Slot::Bottom, 7, draw});

}  // namespace
}  // namespace ui
