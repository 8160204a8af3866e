// Panels: each is one file in ui/panels/ that registers itself here with the slot of the
// fixed layout it lives in; panels sharing a slot are tabs of one window.
#pragma once
#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ui/backend.h"
#include "ui/model.h"
#include "ui/session.h"
#include "ui/snapshot.h"

namespace ui {

// The windows of the layout (1280 x 800).
enum class Slot { Map, Control, Faults, Cpu, Bottom, Count };

// What the view keeps between frames: the selection, the requests panels make, the
// textures and the toggles.
struct ViewState {
    Selection sel;
    bool selection_changed = false;  // the snapshot must be rebuilt around the new selection
    std::deque<Command> commands;    // buttons pressed, for the machine to run
    bool pause_requested = false;
    bool running = false;  // a command is executing (window mode)
    unsigned fault_filter = emu::FAULT_TRUE;
    bool show_hidden = false;
    std::string front[static_cast<int>(Slot::Count)];  // a panel to bring to the front, by slot
    std::string selected_tab[static_cast<int>(Slot::Count)];
    // Frame map.
    std::unique_ptr<Texture> map_texture;
    uint64_t map_generation = 0;
    int map_cols = 0;
    float map_zoom = 1;
    float map_pan_x = 0, map_pan_y = 0;  // the texel at the top left when zoomed
    std::vector<uint32_t> map_pixels;
    std::optional<uint64_t> hovered_pfn;
    // Where things were drawn (the state dump tells tests where to click and probe).
    float step_fault_button[4] = {};  // x, y, w, h
    float map_rect[4] = {};
    Backend* backend = nullptr;
    // What drawing costs (bench/run-ui-bench reads it from the state dump): whole frames, and
    // painting and uploading the frame map when a new snapshot arrives, and (window mode)
    // taking the snapshots on the machine's thread.
    struct Cost {
        uint64_t n = 0;
        double ms_sum = 0, ms_max = 0;
        void add(double ms) { ++n, ms_sum += ms, ms_max = std::max(ms_max, ms); }
    } frame_cost, map_cost, snapshot_cost;
    std::string status;  // a line for the status bar ("running...", errors)

    void select_va(uint64_t va) {
        sel.va = va;
        selection_changed = true;
    }
    void select_pid(int pid) {
        sel.pid = pid;
        selection_changed = true;
    }
    void select_pfn(uint64_t pfn) {
        sel.pfn = pfn;
        selection_changed = true;
    }
    // Puts a panel in front of its slot; a detail panel's tables are gathered from then on.
    void bring_to_front(Slot slot, const std::string& name) {
        front[static_cast<int>(slot)] = name;
        if (slot == Slot::Bottom) shown_tab(name);
    }
    // The detail panel in front is `name` (drawn, or brought to the front).
    void shown_tab(const std::string& name) {
        if (sel.tab == name) return;
        sel.tab = name;
        selection_changed = true;
    }
};

struct Panel {
    const char* name;   // for `panel NAME` and --ui-panels
    const char* title;  // the tab's label
    Slot slot;
    int order;  // tab order in the slot
    void (*draw)(const Snapshot& now, const Snapshot* before, ViewState& view);
};

// Every registered panel, by slot and order.
std::vector<Panel>& panels();
struct PanelRegistrar {
    explicit PanelRegistrar(const Panel& p);
};

// Draws every slot's window with its panels as tabs.
void draw_panels(const Snapshot& now, const Snapshot* before, ViewState& view);
// A stop at a fault moves the selection to the fault's address and frame (once per stop).
void follow_stop(const Snapshot& now, ViewState& view);
// The names of the panels, for error messages.
std::string panel_names();

}  // namespace ui
