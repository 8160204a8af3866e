// The view's look: a readable monospace font and a dark, quiet style.
#include "ui/theme.h"

#include <algorithm>

#include <sys/stat.h>

namespace ui {

void apply_theme() {
    ImGuiIO& io = ImGui::GetIO();
    static constexpr const char* FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
    struct stat st;
    if (stat(FONT, &st) == 0) io.Fonts->AddFontFromFileTTF(FONT, 14.0f);
    else io.Fonts->AddFontDefault();
    ImGui::StyleColorsDark();
    ImGuiStyle& s = ImGui::GetStyle();
    s.WindowRounding = 0;
    s.FrameRounding = 2;
    s.WindowPadding = ImVec2(8, 6);
    s.ItemSpacing = ImVec2(6, 4);
    s.CellPadding = ImVec2(4, 1);
    s.WindowBorderSize = 1;
    s.Colors[ImGuiCol_WindowBg] = ImVec4(0.10f, 0.11f, 0.13f, 1.0f);
    s.Colors[ImGuiCol_TitleBg] = ImVec4(0.14f, 0.16f, 0.20f, 1.0f);
    s.Colors[ImGuiCol_TitleBgActive] = ImVec4(0.17f, 0.24f, 0.36f, 1.0f);
    s.Colors[ImGuiCol_Tab] = ImVec4(0.16f, 0.20f, 0.27f, 1.0f);
    s.Colors[ImGuiCol_TabActive] = ImVec4(0.24f, 0.38f, 0.60f, 1.0f);
    s.Colors[ImGuiCol_TabHovered] = ImVec4(0.30f, 0.46f, 0.70f, 1.0f);
    s.Colors[ImGuiCol_Button] = ImVec4(0.20f, 0.32f, 0.50f, 1.0f);
    s.Colors[ImGuiCol_ButtonHovered] = ImVec4(0.28f, 0.44f, 0.68f, 1.0f);
    s.Colors[ImGuiCol_Header] = ImVec4(0.20f, 0.30f, 0.45f, 0.8f);
    s.Colors[ImGuiCol_TableRowBgAlt] = ImVec4(1, 1, 1, 0.03f);
}

void setup_columns(std::initializer_list<const char*> headers, int digits) {
    const float pad = ImGui::GetStyle().CellPadding.x * 2;
    const float number = ImGui::CalcTextSize("0").x * static_cast<float>(digits);
    bool first = true;
    for (const char* h : headers) {
        if (first) ImGui::TableSetupColumn(h, ImGuiTableColumnFlags_WidthStretch);
        else
            ImGui::TableSetupColumn(h, ImGuiTableColumnFlags_WidthFixed,
                                    std::max(ImGui::CalcTextSize(h).x, number) + pad);
        first = false;
    }
}

}  // namespace ui
