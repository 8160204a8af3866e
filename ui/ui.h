// The debugger view's entry point (emu --ui / --ui-headless).
#pragma once
#include <string>

#include "ui/session.h"

namespace ui {

struct UiOptions {
    bool headless = false;       // --ui-headless: no display, a script, PNGs
    std::string script;          // --ui-script FILE (headless: required; window: optional)
    std::string screenshot_dir;  // --screenshot-dir DIR
    std::string state_file;      // --ui-state FILE: the view's state as JSON after each change
    int width = 1280, height = 800;
};

// Runs the view over a session made from cfg; returns emu's exit status (0, 1 for errors,
// 2 for no display or a bad script).
int run_ui(const SessionConfig& cfg, const UiOptions& opts);

}  // namespace ui
