// The lesson table: what each program shows and what to look at.
#include "ui/lessons.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ui {

// 256 MiB: the frame map shows every frame of it at once (emu's default is 1 GiB).
constexpr uint64_t LESSON_RAM = 256ull << 20;

const std::vector<Lesson>& lessons() {
    static const std::vector<Lesson> all = {
        {"demand-paging",
         "Demand paging of a large array",
         "demand_paging",
         "x86_64",
         {},
         LESSON_RAM,
         0,
         "A 16 MiB array is mapped but no frame is used yet. Press 'Step to next fault': each first write to a page "
         "is a true fault; do_anonymous_page takes a frame from the buddy allocator (a green cell appears in the frame "
         "map, the Anon plot rises, the order-0 free lists shrink). The first pass only reads: those faults map the "
         "shared zero page (white) read-only, and the later write to the same page is a COW break."},
        {"file-mmap",
         "mmap of a file and the page cache",
         "file_mmap",
         "x86_64",
         {},
         LESSON_RAM,
         0,
         "The program maps its own executable and reads one byte every 8 pages. The first fault reads the file into "
         "the page cache with read-around (do_sync_mmap_readahead: 32 pages centred on the fault, blue cells appear "
         "several at once; the Page cache panel boxes the window and marks its last quarter's first page "
         "PG_readahead, red) and fault-around maps neighbours that are already cached, so later touches need no "
         "fault at all. A fault on the marked page reads the next window ahead (do_async_mmap_readahead)."},
        {"readahead",
         "read(2) and the page cache's read-ahead",
         "readahead",
         "x86_64",
         {},
         LESSON_RAM,
         0,
         "The program reads a file nobody has read yet (the lesson's i386 build) 4 KiB at a time: the first half in "
         "order, then 16 random pages of the last quarter. "
         "Step to next syscall and watch the Page cache panel: the first read(2) misses and reads 4 pages "
         "(page_cache_sync_ra -> ondemand_readahead: the initial window), page 1 marked PG_readahead (red). Reading "
         "the marked page reads the next window ahead (page_cache_async_ra): 8, 16, then 32 pages, each marked on its "
         "first page, so the reader never waits. The random preads read their page alone: no window, the box stays "
         "where the sequential reader left it."},
        {"stack-growth",
         "Stack growth",
         "stack_growth",
         "x86_64",
         {},
         LESSON_RAM,
         0,
         "A recursive function with 8 KiB frames walks down the stack. Watch the [stack] VMA in the Address space "
         "panel: a fault just below it goes through expand_stack, the VMA grows, and do_anonymous_page fills the new "
         "page."},
        {"malloc",
         "malloc: brk and mmap",
         "malloc_paths",
         "x86_64",
         {},
         LESSON_RAM,
         0,
         "Small malloc()s come from the heap: brk() moves the end of the [heap] VMA (step to syscall to see each "
         "brk). A 1 MiB malloc() is above glibc's mmap threshold: a new anonymous VMA appears instead, and free() "
         "unmaps it again (the frames return to the buddy allocator)."},
        {"segv-mprotect",
         "A SIGSEGV handler that mprotects",
         "segv_mprotect",
         "x86_64",
         {},
         LESSON_RAM,
         0,
         "Pages are mapped PROT_NONE. Each access faults with SEGV_ACCERR (filter: segv); the handler mprotect()s "
         "the page read-write and returns, the instruction is restarted and faults again, now as an ordinary anonymous "
         "fault. The VMA splits into pieces with different rights (Address space panel)."},
        {"highmem",
         "Highmem and kmap on i386",
         "highmem",
         "i386",
         {},
         64ull << 20,
         16ull << 20,
         "An i386 machine with 64 MiB of RAM of which only 16 MiB is lowmem: user pages come from ZONE_HIGHMEM (the "
         "lighter part of the frame map, below the zone line). The kernel has no permanent mapping of them: clearing "
         "each new page goes through kmap_atomic. Compare the HighMem and Normal zones in the Buddy panel."},
        {"fork-cow",
         "fork and copy-on-write",
         "fork_cow",
         "x86_64",
         {},
         LESSON_RAM,
         0,
         "The parent fills 1 MiB (256 anonymous faults), then forks: copy_page_range makes every writable page "
         "read-only in both processes, which now share each frame (click one: _mapcount 1 means two mappers, and "
         "rmap lists both pids). The child writes every fourth page: each write is a COW fault (filter: cow) where "
         "wp_page_copy takes a new frame and copies. After the child exits, the parent's writes find each page "
         "mapped once and wp_page_reuse just makes it writable again: no copy, no new frame."},
        {"slab-growth",
         "Slab growth",
         "slab_growth",
         "x86_64",
         {},
         LESSON_RAM,
         0,
         "The program creates 3000 small mappings with alternating rights, so none can merge: each is a "
         "vm_area_struct from the slab. Watch the vm_area_struct cache grow in the Slab panel (new slabs are purple "
         "cells in the frame map), then shrink as they are unmapped."},
        {"swap",
         "Swap: a program bigger than RAM",
         "swap",
         "x86_64",
         {},
         32ull << 20,
         0,
         "32 MiB of RAM and a 64 MiB swap area; the program writes a 40 MiB array, then reads its first quarter "
         "again. Step to fault with the anon filter: green cells fill the frame map until free memory reaches the "
         "watermarks; then kswapd (and direct reclaim) take pages from the tail of the inactive anon list, give them "
         "swap slots (yellow: swap cache) and write them out (Swap/LRU panel: pswpout, slots used; Address space: "
         "the array's swapped column). Then step with the swap filter: each read of a page that went out is a "
         "do_swap_page fault that reads it back (pswpin) with swap readahead around it.",
         64ull << 20},
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

namespace {

// The mkswap header (union swap_header's info and magic) of an area of `pages` pages.
std::vector<uint8_t> swap_header(uint64_t pages) {
    std::vector<uint8_t> h(4096, 0);
    const uint32_t version = 1, last_page = static_cast<uint32_t>(pages - 1);
    std::memcpy(&h[1024], &version, 4);    // info.version
    std::memcpy(&h[1028], &last_page, 4);  // info.last_page; nr_badpages stays 0
    std::memcpy(&h[4096 - 10], "SWAPSPACE2", 10);
    return h;
}

}  // namespace

std::string make_lesson_swapfile(uint64_t bytes, std::string& err) {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/emu-lesson.XXXXXX";
    if (!mkdtemp(dir.data())) {
        err = "cannot make a folder for the lesson's swap area: " + std::string(std::strerror(errno));
        return "";
    }
    const std::string path = dir + "/lesson.swap";
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const std::vector<uint8_t> h = swap_header(bytes / 4096);
    const bool ok = fd >= 0 && write(fd, h.data(), h.size()) == static_cast<ssize_t>(h.size()) &&
                    ftruncate(fd, static_cast<off_t>(bytes)) == 0;
    if (fd >= 0) close(fd);
    if (!ok) {
        err = "cannot write the lesson's swap area " + path + ": " + std::strerror(errno);
        remove_lesson_swapfile(path);
        return "";
    }
    return path;
}

void remove_lesson_swapfile(const std::string& path) {
    if (path.empty()) return;
    unlink(path.c_str());
    rmdir(path.substr(0, path.rfind('/')).c_str());
}

}  // namespace ui
