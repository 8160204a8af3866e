// The lesson table: what each program shows and what to look at.
#include "ui/lessons.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace ui {

// 256 MiB: the frame map shows every frame of it at once (emu's default is 1 GiB).
constexpr uint64_t LESSON_RAM = 256ull << 20;

const std::vector<Lesson>& lessons() {
    static const std::vector<Lesson> all = {
        {"demand-paging", "Demand paging of a large array", "demand_paging", "x86_64", {}, LESSON_RAM, 0,
         "A 16 MiB array is mapped but no frame is used yet. Press 'Step to next fault': each first write to a page "
         "is a true fault; do_anonymous_page takes a frame from the buddy allocator (a green cell appears in the frame "
         "map, the Anon plot rises, the order-0 free lists shrink). The first pass only reads: those faults map the "
         "shared zero page (white) read-only, and the later write to the same page is a COW break."},
        {"file-mmap", "mmap of a file and the page cache", "file_mmap", "x86_64", {}, LESSON_RAM, 0,
         "The program maps its own executable and reads one byte every 8 pages. The first fault reads the file into "
         "the page cache with read-around (blue cells appear, several at once: see the Page cache panel) and "
         "fault-around maps neighbours that are already cached, so later touches need no fault at all."},
        {"stack-growth", "Stack growth", "stack_growth", "x86_64", {}, LESSON_RAM, 0,
         "A recursive function with 8 KiB frames walks down the stack. Watch the [stack] VMA in the Address space "
         "panel: a fault just below it goes through expand_stack, the VMA grows, and do_anonymous_page fills the new "
         "page."},
        {"malloc", "malloc: brk and mmap", "malloc_paths", "x86_64", {}, LESSON_RAM, 0,
         "Small malloc()s come from the heap: brk() moves the end of the [heap] VMA (step to syscall to see each "
         "brk). A 1 MiB malloc() is above glibc's mmap threshold: a new anonymous VMA appears instead, and free() "
         "unmaps it again (the frames return to the buddy allocator)."},
        {"segv-mprotect", "A SIGSEGV handler that mprotects", "segv_mprotect", "x86_64", {}, LESSON_RAM, 0,
         "Pages are mapped PROT_NONE. Each access faults with SEGV_ACCERR (filter: segv); the handler mprotect()s "
         "the page read-write and returns, the instruction is restarted and faults again, now as an ordinary anonymous "
         "fault. The VMA splits into pieces with different rights (Address space panel)."},
        {"highmem", "Highmem and kmap on i386", "highmem", "i386", {}, 64ull << 20, 16ull << 20,
         "An i386 machine with 64 MiB of RAM of which only 16 MiB is lowmem: user pages come from ZONE_HIGHMEM (the "
         "lighter part of the frame map, below the zone line). The kernel has no permanent mapping of them: clearing "
         "each new page goes through kmap_atomic. Compare the HighMem and Normal zones in the Buddy panel."},
        {"fork-cow", "fork and copy-on-write", "fork_cow", "x86_64", {}, LESSON_RAM, 0,
         "The parent fills 1 MiB (256 anonymous faults), then forks: copy_page_range makes every writable page "
         "read-only in both processes, which now share each frame (click one: _mapcount 1 means two mappers, and "
         "rmap lists both pids). The child writes every fourth page: each write is a COW fault (filter: cow) where "
         "wp_page_copy takes a new frame and copies. After the child exits, the parent's writes find each page "
         "mapped once and wp_page_reuse just makes it writable again: no copy, no new frame."},
        {"slab-growth", "Slab growth", "slab_growth", "x86_64", {}, LESSON_RAM, 0,
         "The program creates 3000 small mappings with alternating rights, so none can merge: each is a "
         "vm_area_struct from the slab. Watch the vm_area_struct cache grow in the Slab panel (new slabs are purple "
         "cells in the frame map), then shrink as they are unmapped."},
    };
    return all;
}

const Lesson* find_lesson(const std::string& name) {
    for (const Lesson& l : lessons())
        if (name == l.name) return &l;
    return nullptr;
}

std::string lesson_program_path(const Lesson& l) {
    std::string dir;
    if (const char* env = std::getenv("EMU_LESSON_DIR")) {
        dir = env;
    } else {
        char self[PATH_MAX];
        const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        std::string exe = n > 0 ? std::string(self, static_cast<size_t>(n)) : ".";
        dir = exe.substr(0, exe.rfind('/')) + "/guest";
    }
    return dir + "/lesson_" + l.program + "." + l.build;
}

std::string lesson_list() {
    std::string s;
    for (const Lesson& l : lessons()) {
        s += l.name;
        s.append(l.name[0] && std::string(l.name).size() < 16 ? 16 - std::string(l.name).size() : 1, ' ');
        s += std::string(l.title) + "\n";
    }
    return s;
}

}  // namespace ui
