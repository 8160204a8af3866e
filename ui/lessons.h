// Lessons for teaching: small guest programs (lessons/*.c, built by CMake), each with a short
// note of what to watch and where to step. `emu --ui --lesson NAME` starts one.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ui {

struct Lesson {
    const char* name;  // --lesson NAME
    const char* title;
    const char* program;  // lesson_<program>.<build> in the lesson folder
    const char* build;    // x86_64 or i386
    std::vector<std::string> args;
    uint64_t ram = 0, lowmem = 0;  // kernel settings the lesson needs (0: default)
    const char* note;              // shown on screen: what to watch, where to step
    uint64_t swap = 0;             // bytes of a swap area made for the lesson (unless --swap gives one)
};

const std::vector<Lesson>& lessons();
const Lesson* find_lesson(const std::string& name);
// The lesson's program: $EMU_LESSON_DIR, else guest/ beside the emu executable.
std::string lesson_program_path(const Lesson& l);
// "name  title" lines for --lesson list.
std::string lesson_list();
// Makes a fresh swap area of `bytes` (a mkswap header on a sparse file, mode 0600) in a new
// folder under $TMPDIR; its path, or "" with err set.
std::string make_lesson_swapfile(uint64_t bytes, std::string& err);
// Removes the file make_lesson_swapfile made and its folder.
void remove_lesson_swapfile(const std::string& path);

}  // namespace ui
