// The headless UI's script (--ui-script FILE): one action a line, '#' starts a comment.
//   step-to-fault [N] [anon|file|cow|swap|segv|tlb ...]   step to the next (Nth) fault
//   step [N]                    N instructions (default 1)
//   step-to-syscall [N]
//   continue                    run until a breakpoint, a watch or the end
//   run-to ADDR|SYMBOL          run until execution reaches it
//   watch ADDR                  run until ADDR's page is touched
//   walk ADDR|SYMBOL            show the page walk of an address
//   select-frame PFN            show a frame (struct page, rmap, contents)
//   select-fault N              select the Nth fault of the timeline (1 = the first)
//   select-process PID          show that process's address space and page walks
//   panel NAME                  bring a panel to the front (see --ui-panels)
//   hover X Y                   put the mouse at window pixel (X, Y)
//   screenshot NAME             write DIR/NAME.png
//   dump FILE                   write the view's state as JSON
//   quit                        end the script (and the window)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace ui {

struct ScriptAction {
    enum Kind {
        StepToFault,
        Step,
        StepToSyscall,
        Continue,
        RunTo,
        Watch,
        Walk,
        SelectFrame,
        SelectFault,
        SelectProcess,
        Panel,
        Hover,
        Screenshot,
        Dump,
        Quit
    } kind;
    uint64_t count = 1;   // Step, StepToFault, StepToSyscall, SelectFault, SelectProcess
    unsigned filter = 0;  // StepToFault (0: every true fault)
    std::string arg;      // an address/symbol, a panel, a file name
    int x = 0, y = 0;     // Hover
    int line = 0;         // 1-based line in the script
};

// Parses a script; the error names the first line that is not understood.
base::ErrorOr<std::vector<ScriptAction>> parse_script(const std::string& text);

}  // namespace ui
