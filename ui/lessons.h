// Lessons for teaching: small guest programs (lessons/*.c, built by CMake), each with a short
// note of what to watch and where to step. `emu --ui --lesson NAME` starts one.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ui {

struct Lesson {
    const char* name;     // --lesson NAME
    const char* title;
    const char* program;  // lesson_<program>.<build> in the lesson folder
    const char* build;    // x86_64 or i386
    std::vector<std::string> args;
    uint64_t ram = 0, lowmem = 0;  // kernel settings the lesson needs (0: default)
    const char* note;     // shown on screen: what to watch, where to step
};

const std::vector<Lesson>& lessons();
const Lesson* find_lesson(const std::string& name);
// The lesson's program: $EMU_LESSON_DIR, else guest/ beside the emu executable.
std::string lesson_program_path(const Lesson& l);
// "name  title" lines for --lesson list.
std::string lesson_list();

}  // namespace ui
