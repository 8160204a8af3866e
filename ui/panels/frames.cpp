// Physical memory: one cell per frame of the whole RAM as one streaming texture (UI.md:
// rectangles cost 33-147 ms a frame at 65,536 cells), coloured by use, zones marked on the
// left, frames changed since the last stop outlined; hover for the frame, click to select.
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "base/format.h"
#include "ui/panel.h"
#include "ui/theme.h"

namespace ui {
namespace {

constexpr size_t MAX_OUTLINED = 3000;
constexpr uint32_t ZONE_COLOURS[] = {0xff3cc8f0, 0xff46a0ff, 0xffb45ae6, 0xff5ad2a0, 0xffc8c8c8, 0xff8080ff};

// Updates the texture when a new snapshot arrived.
void refresh_texture(const Snapshot& now, ViewState& view) {
    if (view.map_generation == now.generation && view.map_texture) return;
    const auto start = std::chrono::steady_clock::now();
    const int cols = frame_map_columns(now.frames.use.size());
    const int rows = static_cast<int>((now.frames.use.size() + cols - 1) / cols);
    if (!view.map_texture || view.map_texture->width() != cols || view.map_texture->height() != rows)
        view.map_texture = view.backend->make_texture(cols, rows);
    paint_frame_map(now.frames, cols, view.map_pixels);
    view.map_texture->update(view.map_pixels);
    view.map_cols = cols;
    view.map_generation = now.generation;
    view.map_cost.add(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

void legend(const Snapshot& now) {
    for (const LegendItem& l : frame_legend(now.frames)) {
        const float w = ImGui::CalcTextSize(l.label).x + 80;
        ImGui::SameLine();
        if (ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
        const ImVec2 p = ImGui::GetCursorScreenPos();
        ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + 3), ImVec2(p.x + 10, p.y + 13),
                                                  im_colour(l.colour));
        ImGui::Dummy(ImVec2(12, 14));
        ImGui::SameLine(0, 3);
        ImGui::Text("%s", l.label);
        ImGui::SameLine(0, 4);
        ImGui::TextColored(COLOUR_DIM, "%llu", (unsigned long long)l.frames);
    }
    ImGui::NewLine();
}

void frame_tooltip(const Snapshot& now, uint64_t pfn) {
    ImGui::BeginTooltip();
    ImGui::Text("pfn %s  phys %s", base::hex(pfn).c_str(), base::hex(pfn << 12).c_str());
    const char* zone = "none";
    for (const inspect::ZoneSpan& z : now.frames.zones)
        if (pfn >= z.start_pfn && pfn < z.end_pfn) zone = z.name;
    const inspect::FrameUse u = now.frames.use[pfn];
    ImGui::Text("zone %s%s, %s", zone, pfn >= now.frames.max_low_pfn ? " (highmem)" : "", inspect::frame_use_name(u));
    if (u == inspect::FrameUse::Free) ImGui::Text("in a free block of order %u", now.frames.free_order[pfn]);
    ImGui::TextColored(COLOUR_DIM, "click: struct page, rmap and contents");
    ImGui::EndTooltip();
}

void draw(const Snapshot& now, const Snapshot*, ViewState& view) {
    const uint64_t n = now.frames.use.size();
    if (!n) {
        ImGui::Text("memory is not set up yet");
        return;
    }
    refresh_texture(now, view);
    ImGui::Text("%llu frames (%s)", (unsigned long long)n, human_size(n << 12).c_str());
    ImGui::SameLine();
    ImGui::TextColored(COLOUR_DIM, " zoom x%g (wheel), %zu changed%s", view.map_zoom, now.changed_frames.size(),
                       now.changed_frames.size() > MAX_OUTLINED ? " (too many to outline)" : "");
    // Integer cell sizes keep every frame the same size on screen.
    const int cols = view.map_cols, rows = view.map_texture->height();
    const float avail = ImGui::GetContentRegionAvail().x - 10;
    const float cell = std::max(1.0f, std::floor(avail / cols));
    const ImVec2 size(cell * cols, cell * rows);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const ImVec2 map0(origin.x + 10, origin.y);
    // Zones: a strip on the left, one colour each, spanning their rows.
    int zi = 0;
    const float z = view.map_zoom;
    const float vis_rows = rows / z, vis_cols = cols / z;
    auto y_of = [&](double row) { return map0.y + static_cast<float>((row - view.map_pan_y) * cell * z); };
    for (const inspect::ZoneSpan& zs : now.frames.zones) {
        const float y0 = std::max(map0.y, y_of(static_cast<double>(zs.start_pfn) / cols));
        const float y1 = std::min(map0.y + size.y, y_of(static_cast<double>(zs.end_pfn) / cols));
        if (y1 > y0) dl->AddRectFilled(ImVec2(origin.x, y0), ImVec2(origin.x + 6, y1), ZONE_COLOURS[zi % 6]);
        ++zi;
    }
    const ImVec2 uv0(view.map_pan_x / cols, view.map_pan_y / rows);
    const ImVec2 uv1((view.map_pan_x + vis_cols) / cols, (view.map_pan_y + vis_rows) / rows);
    ImGui::SetCursorScreenPos(map0);
    ImGui::Image(view.map_texture->id(), size, uv0, uv1);
    view.map_rect[0] = map0.x, view.map_rect[1] = map0.y, view.map_rect[2] = size.x, view.map_rect[3] = size.y;
    const float cz = cell * z;  // on-screen size of one frame
    auto cell_pos = [&](uint64_t pfn) {
        return ImVec2(map0.x + (static_cast<float>(pfn % cols) - view.map_pan_x) * cz,
                      map0.y + (static_cast<float>(pfn / cols) - view.map_pan_y) * cz);
    };
    dl->PushClipRect(map0, ImVec2(map0.x + size.x, map0.y + size.y), true);
    // What changed since the last stop, outlined (a few thousand at most: rectangles are dear,
    // and more would hide the colours).
    const size_t outlined = now.changed_frames.size() <= MAX_OUTLINED ? now.changed_frames.size() : 0;
    for (size_t i = 0; i < outlined; ++i) {
        const ImVec2 p = cell_pos(now.changed_frames[i]);
        dl->AddRect(ImVec2(p.x - 1, p.y - 1), ImVec2(p.x + cz + 1, p.y + cz + 1), 0xc040e0ff);
    }
    if (view.sel.pfn && *view.sel.pfn < n) {
        const ImVec2 p = cell_pos(*view.sel.pfn);
        dl->AddRect(ImVec2(p.x - 2, p.y - 2), ImVec2(p.x + cz + 2, p.y + cz + 2), 0xffffffff, 0, 0, 2);
    }
    dl->PopClipRect();
    // Hover, click, zoom.
    if (ImGui::IsItemHovered()) {
        const ImVec2 m = ImGui::GetIO().MousePos;
        const float fx = view.map_pan_x + (m.x - map0.x) / cz, fy = view.map_pan_y + (m.y - map0.y) / cz;
        if (auto pfn = frame_at(now.frames, cols, static_cast<int>(fx), static_cast<int>(fy))) {
            view.hovered_pfn = pfn;
            frame_tooltip(now, *pfn);
            if (ImGui::IsMouseClicked(0)) view.select_pfn(*pfn);
        }
        const float wheel = ImGui::GetIO().MouseWheel;
        if (wheel != 0) {
            const float nz = std::clamp(view.map_zoom * (wheel > 0 ? 2.0f : 0.5f), 1.0f, 32.0f);
            // Keep the frame under the mouse where it is.
            view.map_pan_x = std::clamp(fx - (fx - view.map_pan_x) * view.map_zoom / nz, 0.0f, cols - cols / nz);
            view.map_pan_y = std::clamp(fy - (fy - view.map_pan_y) * view.map_zoom / nz, 0.0f, rows - rows / nz);
            view.map_zoom = nz;
        }
    }
    ImGui::Dummy(ImVec2(0, 2));
    legend(now);
    // The selected frame in a line (the Frame tab has the rest).
    if (now.page) {
        const inspect::PageInfo& p = *now.page;
        ImGui::Separator();
        ImGui::Text("pfn %s: %s, zone %s", base::hex(p.pfn).c_str(), inspect::frame_use_name(p.use), p.zone);
        ImGui::TextColored(COLOUR_DIM, "flags %s  _refcount %d  _mapcount %d",
                           p.flag_names.empty() ? "-" : p.flag_names.c_str(), p.refcount, p.mapcount);
        if (!p.mapping.empty())
            ImGui::TextColored(COLOUR_DIM, "mapping %s  index %llu", p.mapping.c_str(), (unsigned long long)p.index);
        for (const inspect::RmapRef& r : now.rmap)
            ImGui::TextColored(COLOUR_ACCENT, "mapped by pid %d at %s", now.pid, base::hex(r.address.value).c_str());
    }
}

PanelRegistrar reg({"frames", "Physical memory", Slot::Map, 0, draw});

}  // namespace
}  // namespace ui
