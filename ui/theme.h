// Fonts, colours and the fixed window layout of the debugger view (ImGui side).
#pragma once
#include <imgui.h>

#include <cstdint>
#include <initializer_list>

namespace ui {

// Loads DejaVu Sans Mono when present (else ImGui's built-in font) and sets the style.
void apply_theme();

// Text colours with a meaning.
inline const ImVec4 COLOUR_CHANGED{1.0f, 0.85f, 0.25f, 1.0f};  // changed since the last stop
inline const ImVec4 COLOUR_DIM{0.55f, 0.57f, 0.62f, 1.0f};
inline const ImVec4 COLOUR_GOOD{0.45f, 0.85f, 0.45f, 1.0f};
inline const ImVec4 COLOUR_BAD{1.0f, 0.45f, 0.40f, 1.0f};
inline const ImVec4 COLOUR_ACCENT{0.45f, 0.70f, 1.0f, 1.0f};
inline const ImVec4 COLOUR_SWAP{0.98f, 0.43f, 0.75f, 1.0f};  // swap: the swap-cache colour of the frame map

// 0xAABBGGRR (the model's colours) as ImGui's.
inline ImU32 im_colour(uint32_t abgr) { return static_cast<ImU32>(abgr); }
inline ImVec4 im_colour4(uint32_t abgr) { return ImGui::ColorConvertU32ToFloat4(abgr); }

// Sets up a table's columns from their headers: the first (a name) stretches, the others are
// fixed, as wide as their header or `digits` digits, so a table is laid out in its first frame.
void setup_columns(std::initializer_list<const char*> headers, int digits = 8);

}  // namespace ui
