#include "guestos/procfs.h"

#include <fcntl.h>
#include <sys/sysmacros.h>

#include <cinttypes>
#include <cstdio>

#include "guestos/memory.h"

namespace guestos {

namespace {

// A /proc/PID path split into the task it names and the entry below it.
struct ProcPath {
    bool per_task = false;  // /proc/self/..., /proc/<pid>/...
    bool task_dir = false;  // the directory itself
    std::string entry;      // "maps", "exe", ... or a global entry
};

// Resolves /proc/self, /proc/thread-self and /proc/<our pid>; other pids do not exist.
std::optional<ProcPath> parse_proc_path(const task_struct& task, const std::string& path) {
    std::string rest = path.substr(5);  // after "/proc"
    while (!rest.empty() && rest[0] == '/') rest.erase(0, 1);
    ProcPath p;
    if (rest.empty()) return p;
    auto slash = rest.find('/');
    std::string first = rest.substr(0, slash);
    std::string after = slash == std::string::npos ? "" : rest.substr(slash + 1);
    while (!after.empty() && after.back() == '/') after.pop_back();
    const bool digits = !first.empty() && first.find_first_not_of("0123456789") == std::string::npos;
    if (first == "self" || first == "thread-self" || (digits && std::stol(first) == task.tgid)) {
        p.per_task = true;
        p.task_dir = after.empty();
        p.entry = after;
        return p;
    }
    if (digits) return std::nullopt;  // no such process
    p.entry = rest;
    return p;
}

// The bytes of a user range ([arg_start, arg_end) and the like), empty if unreadable.
std::string user_range(task_struct& task, uint64_t start, uint64_t end) {
    if (!task.mm || end <= start) return {};
    std::string s(end - start, '\0');
    if (!copy_from_user(*task.mm, s.data(), VirtAddr(start), s.size())) return {};
    return s;
}

// The name column of a maps line: the file, [heap] (vma_is_initial_heap) or [stack]
// (vma_is_initial_stack), as show_map_vma names them.
std::string vma_name(const mm_struct& mm, const vm_area_struct& v) {
    if (v.vm_file && v.vm_file->f_inode) return v.vm_file->f_inode->path;
    if (v.vm_start.value < mm.brk && v.vm_end.value > mm.start_brk) return "[heap]";
    if (v.vm_start.value <= mm.start_stack && v.vm_end.value >= mm.start_stack) return "[stack]";
    return {};
}

}  // namespace

bool is_proc_path(const std::string& path) { return path == "/proc" || path.rfind("/proc/", 0) == 0; }

std::string show_map_vma(const mm_struct& mm, const vm_area_struct& v) {
    const size_t width = 25 + 8 * 6 - 1;  // seq_setwidth(m, 25 + sizeof(void *) * 6 - 1), 64-bit kernel
    uint64_t pgoff = 0, ino = 0;
    unsigned maj = 0, min = 0;
    if (v.vm_file && v.vm_file->f_inode) {
        const inode& i = *v.vm_file->f_inode;
        pgoff = v.vm_pgoff << PAGE_SHIFT;
        ino = i.i_ino;
        maj = major(i.i_dev);
        min = minor(i.i_dev);
    }
    char line[160];
    int n = std::snprintf(line, sizeof line, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
                          v.vm_start.value, v.vm_end.value, v.vm_flags & VM_READ ? 'r' : '-',
                          v.vm_flags & VM_WRITE ? 'w' : '-', v.vm_flags & VM_EXEC ? 'x' : '-',
                          v.vm_flags & VM_MAYSHARE ? 's' : 'p', pgoff, maj, min, ino);
    std::string l(line, static_cast<size_t>(n));
    std::string name = vma_name(mm, v);
    if (!name.empty()) {  // seq_pad(m, ' '): pad to the width, then one more space
        if (l.size() < width) l.append(width - l.size(), ' ');
        l += ' ' + name;
    }
    return l;
}

std::string proc_pid_maps(task_struct& task) {
    std::string out;
    if (!task.mm) return out;
    for (const vm_area_struct& v : task.mm->mm_rb) out += show_map_vma(*task.mm, v) + "\n";
    return out;
}

long proc_open(task_struct& task, const std::string& path, unsigned flags, std::shared_ptr<file>& out) {
    auto p = parse_proc_path(task, path);
    if (!p) return -ENOENT;
    if (p->entry.empty() || p->task_dir) return (flags & O_ACCMODE) != O_RDONLY ? -EISDIR : -EACCES;
    if ((flags & O_ACCMODE) != O_RDONLY) return -EACCES;
    std::string text;
    if (p->per_task && p->entry == "maps") text = proc_pid_maps(task);
    else if (p->per_task && p->entry == "cmdline") text = user_range(task, task.mm->arg_start, task.mm->arg_end);
    else if (p->per_task && p->entry == "environ") text = user_range(task, task.mm->env_start, task.mm->env_end);
    else if (p->per_task && p->entry == "comm") text = task.comm + "\n";
    else return -ENOENT;
    auto f = std::make_shared<seq_file>(std::move(text));
    f->f_flags = flags;
    out = std::move(f);
    return 0;
}

std::optional<std::string> proc_readlink(task_struct& task, const std::string& path, int& err) {
    auto p = parse_proc_path(task, path);
    err = ENOENT;
    if (!p) return std::nullopt;
    if (p->per_task && p->entry == "exe") return task.exe_path;
    if (!p->per_task && p->entry == "self") return std::to_string(task.tgid);
    if (!p->per_task && p->entry == "thread-self") return std::to_string(task.tgid) + "/task/" + std::to_string(task.pid);
    if (p->per_task && (p->entry == "maps" || p->entry == "cmdline" || p->entry == "environ" || p->entry == "comm"))
        err = EINVAL;
    return std::nullopt;
}

}  // namespace guestos
