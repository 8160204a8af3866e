#include "guestos/include/uapi/fcntl.h"
#include "guestos/fs/proc/base.h"

#include <fcntl.h>
#include <sys/sysmacros.h>

#include <cinttypes>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string_view>
#include <functional>
#include <cstdio>
#include <dirent.h>
#include <vector>

#include "guestos/arch/x86/entry/vsyscall/vsyscall_64.h"
#include "guestos/drivers/tty/tty.h"
#include "guestos/include/kernel.h"
#include "guestos/include/mount.h"
#include "guestos/mm/memory.h"
#include "guestos/lib/kstrtox.h"
#include "guestos/mm/oom_kill.h"
#include "guestos/fs/proc/proc_sysctl.h"
#include "guestos/fs/proc_namespace.h"
#include "guestos/net/unix/af_unix.h"

namespace guestos {

namespace {

// A /proc/PID path split into the task it names and the entry below it.
struct ProcPath {
    bool per_task = false;          // /proc/self/..., /proc/<pid>/...
    bool task_dir = false;          // the directory itself
    bool thread = false;            // /proc/PID/task/TID/...: the thread's files (tid_base_stuff)
    std::string entry;              // "maps", "exe", ... or a global entry
    task_struct* target = nullptr;  // the task a per-task path names
};

// Resolves /proc/self, /proc/thread-self and /proc/<pid> of a live task (proc_pid_lookup).
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
    task_struct* other =
        digits && first.size() < 9 && task.kernel ? task.kernel->find_task_by_vpid(std::stoi(first)) : nullptr;
    // The caller's own process: its directory is the thread group leader's (proc_pid_lookup
    // finds the task whose pid is the tgid), not the calling thread's.
    if (digits && std::stol(first) == task.tgid)
        other = const_cast<task_struct*>(task.group_leader ? task.group_leader : &task);
    if (other && other->exit_state == EXIT_DEAD) other = nullptr;  // a zombie shows until it is reaped
    if (first == "self" || first == "thread-self" || other) {
        p.per_task = true;
        p.target = other             ? other
                   : first == "self" ? const_cast<task_struct*>(task.group_leader ? task.group_leader : &task)
                                     : const_cast<task_struct*>(&task);
        p.thread = first == "thread-self";   // /proc/TGID/task/TID of the caller
        if (after.rfind("task/", 0) == 0) {  // /proc/PID/task/TID: a thread of the process (proc_task_lookup)
            const std::string tid =
                after.substr(5, after.find('/', 5) == std::string::npos ? std::string::npos : after.find('/', 5) - 5);
            task_struct* t = !tid.empty() && tid.size() < 9 &&
                                     tid.find_first_not_of("0123456789") == std::string::npos && task.kernel
                                 ? task.kernel->find_task_by_vpid(std::stoi(tid))
                                 : nullptr;
            if (!tid.empty() && std::to_string(task.pid) == tid) t = const_cast<task_struct*>(&task);
            if (!t || t->tgid != p.target->tgid) return std::nullopt;
            p.target = t;
            p.thread = true;
            after = after.size() > 5 + tid.size() ? after.substr(6 + tid.size()) : "";
        }
        p.task_dir = after.empty();
        p.entry = after;
        return p;
    }
    if (digits) return std::nullopt;  // no such process
    p.entry = rest;
    return p;
}

// The symbolic links of a process's directory (LNK in tgid_base_stuff).
bool is_pid_link(const std::string& entry) { return entry == "exe" || entry == "cwd" || entry == "root"; }

// The file at fd in task's table; null if none or if the task has exited (exit_files).
std::shared_ptr<file> fd_file(const task_struct& task, long fd) { return task.files ? task.files->get(fd) : nullptr; }

// The bytes of a user range ([arg_start, arg_end) and the like), empty if unreadable.
std::string user_range(task_struct& task, uint64_t start, uint64_t end) {
    if (!task.mm || end <= start) return {};
    std::string s(end - start, '\0');
    if (!copy_from_user(*task.mm, s.data(), VirtAddr(start), s.size())) return {};
    return s;
}

}  // namespace

// The name column of a maps line: the file, [heap] (vma_is_initial_heap) or [stack]
// (vma_is_initial_stack), as show_map_vma names them.
std::string vma_name(const mm_struct& mm, const vm_area_struct& v) {
    if (v.vm_special) return v.vm_special->name;
    if (v.vm_file && v.vm_file->f_path) return guestos::d_path(v.vm_file->f_path);
    if (v.vm_file && v.vm_file->f_inode) return v.vm_file->f_inode->path;
    if (v.vm_start.value < mm.brk && v.vm_end.value > mm.start_brk) return "[heap]";
    if (v.vm_start.value <= mm.start_stack && v.vm_end.value >= mm.start_stack) return "[stack]";
    return {};
}

namespace {

// The task a per-process file shows, looked up at each read (null once it has exited).
std::function<task_struct*()> task_ref(task_struct& t) {
    Kernel* k = t.kernel;
    task_struct* self = &t;
    const int pid = t.pid;
    return [k, self, pid] { return k ? k->find_task_by_vpid(pid) : self; };
}

// single_open over a per-process text, made at read time; empty once the task is gone.
seq_file::show_fn task_text(std::function<task_struct*()> ref, std::function<std::string(task_struct&)> text) {
    return seq_file::single([ref = std::move(ref), text = std::move(text)] {
        task_struct* t = ref();
        return t ? text(*t) : std::string();
    });
}

// comm_write: the first 15 bytes (up to a NUL) name a thread of the writer's own process;
// another process's is EINVAL.
long comm_write(task_struct& p, const uint8_t* buf, uint64_t count) {
    constexpr size_t TASK_COMM_LEN = 16;
    std::string comm(reinterpret_cast<const char*>(buf), std::min<uint64_t>(count, TASK_COMM_LEN - 1));
    const task_struct* cur = get_current();
    if (!cur || cur->tgid != p.tgid) return -EINVAL;  // same_thread_group
    p.comm = comm.substr(0, comm.find('\0'));         // set_task_comm
    return static_cast<long>(count);
}

constexpr size_t PROC_NUMBUF = 13;
constexpr int OOM_SCORE_ADJ_MIN = -1000, OOM_SCORE_ADJ_MAX = 1000;
// The legacy oom_adj's range (uapi/linux/oom.h): -17 disables the OOM killer for the task.
constexpr int OOM_DISABLE = -17, OOM_ADJUST_MIN = -16, OOM_ADJUST_MAX = 15;

// Which file a write came through: oom_score_adj, or the legacy oom_adj.
enum class OomAdjFile : uint8_t { ScoreAdj, Legacy };

// __set_oom_adj: a value below oom_score_adj_min (through oom_adj: below the current value)
// needs CAP_SYS_RESOURCE, and an oom_score_adj writer with it sets the minimum too; every
// process sharing the mm (but a vfork child) follows.
long set_oom_adj(task_struct& task, int oom_adj, OomAdjFile via) {
    signal_struct& sig = *task.signal;
    const short floor = via == OomAdjFile::Legacy ? sig.oom_score_adj : sig.oom_score_adj_min;
    if (oom_adj < floor && !capable(CAP_SYS_RESOURCE_)) return -EACCES;
    const bool cap = via == OomAdjFile::ScoreAdj && capable(CAP_SYS_RESOURCE_);
    const auto set = [&](signal_struct& s) {
        s.oom_score_adj = static_cast<short>(oom_adj);
        if (cap) s.oom_score_adj_min = static_cast<short>(oom_adj);
    };
    set(sig);
    if (task.mm && task.kernel && !task.vfork_done)
        for (task_struct* p : task.kernel->all_tasks())
            if (p->mm == task.mm && p->signal != task.signal && !p->vfork_done) set(*p->signal);
    return 0;
}

// oom_score_adj_write: at most 12 bytes, stripped, a base-0 int in [-1000, 1000].
// The int a /proc write of at most PROC_NUMBUF - 1 bytes spells, stripped, in base 0.
int parse_proc_int(const uint8_t* buf, uint64_t count, int* value) {
    std::string text(reinterpret_cast<const char*>(buf), std::min<uint64_t>(count, PROC_NUMBUF - 1));
    text.resize(std::strlen(text.c_str()));
    return kstrtoint(strstrip(text), 0, value);
}

long oom_score_adj_write(task_struct& task, const uint8_t* buf, uint64_t count) {
    int adj = 0;
    if (int e = parse_proc_int(buf, count, &adj)) return e;
    if (adj < OOM_SCORE_ADJ_MIN || adj > OOM_SCORE_ADJ_MAX) return -EINVAL;
    if (long e = set_oom_adj(task, adj, OomAdjFile::ScoreAdj)) return e;
    return static_cast<long>(std::min<uint64_t>(count, PROC_NUMBUF - 1));
}

// oom_adj_write: [-16, 15] or OOM_DISABLE, scaled to oom_score_adj so that 15 reaches 1000.
long oom_adj_write(task_struct& task, const uint8_t* buf, uint64_t count) {
    int oom_adj = 0;
    if (int e = parse_proc_int(buf, count, &oom_adj)) return e;
    if ((oom_adj < OOM_ADJUST_MIN || oom_adj > OOM_ADJUST_MAX) && oom_adj != OOM_DISABLE) return -EINVAL;
    oom_adj = oom_adj == OOM_ADJUST_MAX ? OOM_SCORE_ADJ_MAX : oom_adj * OOM_SCORE_ADJ_MAX / -OOM_DISABLE;
    if (long e = set_oom_adj(task, oom_adj, OomAdjFile::Legacy)) return e;
    return static_cast<long>(std::min<uint64_t>(count, PROC_NUMBUF - 1));
}

// oom_adj_read: oom_score_adj scaled back to the legacy range, at most OOM_ADJUST_MAX.
std::string oom_adj_read(const task_struct& t) {
    const int adj = t.signal->oom_score_adj;
    const int oom_adj = adj == OOM_SCORE_ADJ_MAX ? OOM_ADJUST_MAX : adj * -OOM_DISABLE / OOM_SCORE_ADJ_MAX;
    return std::to_string(std::min(oom_adj, OOM_ADJUST_MAX)) + "\n";
}

// The write of a writable /proc/PID file (those of mode 0644), or null for the others.
seq_file::write_fn pid_entry_writer(const std::string& entry, std::function<task_struct*()> ref) {
    long (*w)(task_struct&, const uint8_t*, uint64_t) = entry == "comm"            ? comm_write
                                                        : entry == "oom_score_adj" ? oom_score_adj_write
                                                        : entry == "oom_adj"       ? oom_adj_write
                                                                                   : nullptr;
    if (!w) return nullptr;
    return [w, ref = std::move(ref)](const uint8_t* buf, uint64_t n) -> long {
        task_struct* t = ref();
        return t ? w(*t, buf, n) : -ESRCH;
    };
}

// maps and smaps: one record per VMA, the position being the address where the last shown
// one ended (m_start/m_next), so a mapping made between reads shows if it lies above.
seq_file::show_fn vma_records(std::function<task_struct*()> ref, bool smaps) {
    return [ref = std::move(ref), smaps](int64_t& index) -> std::optional<std::string> {
        task_struct* t = ref();
        if (!t || !t->mm || index < 0) return std::nullopt;
        mm_struct& mm = *t->mm;
        const vm_area_struct* v = mm.mm_rb.find_vma(VirtAddr(static_cast<uint64_t>(index)));
        if (!v) {  // after the last VMA, x86-64's [vsyscall] page (m_next -> get_gate_vma)
            const vm_area_struct* gate = get_gate_vma(mm);
            index = -1;
            if (!gate) return std::nullopt;
            return smaps ? show_smap(mm, *gate) : show_map_vma(mm, *gate) + "\n";
        }
        index = static_cast<int64_t>(v->vm_end.value);
        return smaps ? show_smap(mm, *v) : show_map_vma(mm, *v) + "\n";
    };
}

}  // namespace

bool is_proc_path(const std::string& path) { return path == "/proc" || path.rfind("/proc/", 0) == 0; }

namespace {

// One name in a /proc directory and the kind of file it is (a pid_entry, a proc_dir_entry).
struct proc_entry {
    const char* name;
    uint32_t mode;
};

// The /proc/PID entries emu has, in tgid_base_stuff's order (the order readdir gives); a
// thread's directory has the same but "task" (tid_base_stuff).
constexpr proc_entry tgid_base_stuff[] = {
    {"task", S_IFDIR | 0555},          {"fd", S_IFDIR | 0500},
    {"net", S_IFDIR | 0555},           {"environ", S_IFREG | 0400},
    {"auxv", S_IFREG | 0400},          {"status", S_IFREG | 0444},
    {"limits", S_IFREG | 0444},        {"comm", S_IFREG | 0644},
    {"cmdline", S_IFREG | 0444},       {"stat", S_IFREG | 0444},
    {"statm", S_IFREG | 0444},         {"maps", S_IFREG | 0444},
    {"cwd", S_IFLNK | 0777},           {"root", S_IFLNK | 0777},
    {"exe", S_IFLNK | 0777},           {"mounts", S_IFREG | 0444},
    {"mountinfo", S_IFREG | 0444},     {"smaps", S_IFREG | 0444},
    {"smaps_rollup", S_IFREG | 0444},  {"wchan", S_IFREG | 0444},
    {"oom_score", S_IFREG | 0444},     {"oom_adj", S_IFREG | 0644},
    {"oom_score_adj", S_IFREG | 0644}, {"io", S_IFREG | 0400},
};
// The global files, in proc_root's order (pde_subdir_insert sorts by length, then name).
constexpr proc_entry proc_root_entries[] = {
    {"net", S_IFLNK | 0777},       {"sys", S_IFDIR | 0555},       {"stat", S_IFREG | 0444},
    {"locks", S_IFREG | 0444},     {"swaps", S_IFREG | 0444},     {"mounts", S_IFLNK | 0777},
    {"uptime", S_IFREG | 0444},    {"vmstat", S_IFREG | 0444},    {"cpuinfo", S_IFREG | 0444},
    {"loadavg", S_IFREG | 0444},   {"meminfo", S_IFREG | 0444},   {"sysvipc", S_IFDIR | 0555},
    {"version", S_IFREG | 0444},   {"slabinfo", S_IFREG | 0400},  {"zoneinfo", S_IFREG | 0444},
    {"buddyinfo", S_IFREG | 0444}, {"config.gz", S_IFREG | 0444}, {"diskstats", S_IFREG | 0444},
};

// /proc's anonymous device number (get_anon_bdev gives each mount one).
const uint64_t PROC_DEV = makedev(0, 0x15);

// A /proc directory: the root or a process's (proc_root_readdir, proc_pident_readdir).
// Its entries are listed as they are when it is opened.
class proc_dir_file final : public simple_dir_file {
public:
    proc_dir_file(uint64_t ino, uint32_t nlink, const timespec& time, std::vector<dir_entry> entries)
        : simple_dir_file(std::move(entries)), ino_(ino), nlink_(nlink), time_(time) {}
    long getattr(struct stat& st) override {
        st = {};
        st.st_dev = PROC_DEV;
        st.st_ino = ino_;
        st.st_mode = S_IFDIR | 0555;
        st.st_nlink = nlink_;
        st.st_blksize = 1024;
        st.st_atim = st.st_mtim = st.st_ctim = time_;
        return 0;
    }

private:
    uint64_t ino_;
    uint32_t nlink_;
    timespec time_;
};

unsigned char dtype_of(uint32_t mode) { return S_ISDIR(mode) ? DT_DIR : S_ISLNK(mode) ? DT_LNK : DT_REG; }

// The inode number of a process's directory and its entries (proc_pid_make_inode gives
// fresh ones; these only have to be distinct and stable).
uint64_t pid_ino(int tgid, size_t entry) { return (static_cast<uint64_t>(tgid) << 8) + 2 + entry; }

// The inode number of a process's entry (its place in tgid_base_stuff).
uint64_t pid_entry_ino(int tgid, std::string_view name) {
    size_t i = 0;
    while (i < std::size(tgid_base_stuff) && name != tgid_base_stuff[i].name) ++i;
    return pid_ino(tgid, 1 + i);
}

// ".", ".." and the process's entries (proc_tgid_base_readdir), or a thread's, which has
// no "task" (proc_tid_base_readdir).
std::shared_ptr<file> proc_pid_dir(const task_struct& task, bool thread) {
    const uint64_t ino = pid_ino(task.tgid, 0);
    std::vector<dir_entry> e = {{ino, 1, DT_DIR, "."}, {1, 2, DT_DIR, ".."}};
    for (const proc_entry& p : tgid_base_stuff)
        if (!thread || std::string_view(p.name) != "task")
            e.push_back(
                {pid_entry_ino(task.tgid, p.name), static_cast<int64_t>(e.size() + 1), dtype_of(p.mode), p.name});
    return std::make_shared<proc_dir_file>(ino, 3, task.kernel ? task.kernel->mount_time() : timespec{}, std::move(e));
}

// The fd number of an "fd/N" entry, or -1.
long fd_entry(const ProcPath& p) {
    if (!p.per_task || p.entry.rfind("fd/", 0) != 0) return -1;
    const std::string n = p.entry.substr(3);
    if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stol(n);
}

// /proc/PID/fd: a link per open descriptor (proc_readfd_common).
std::shared_ptr<file> proc_fd_dir(const task_struct& task) {
    const uint64_t ino = pid_entry_ino(task.tgid, "fd");
    std::vector<dir_entry> e = {{ino, 1, DT_DIR, "."}, {pid_ino(task.tgid, 0), 2, DT_DIR, ".."}};
    for (size_t fd = 0; task.files && fd < task.files->fd.size(); ++fd)  // a zombie's: empty
        if (task.files->fd[fd])
            e.push_back(
                {pid_ino(task.tgid, 0) + 0x80000000ull + fd, static_cast<int64_t>(fd + 3), DT_LNK, std::to_string(fd)});
    return std::make_shared<proc_dir_file>(ino, 2, task.kernel ? task.kernel->mount_time() : timespec{}, std::move(e));
}

// /proc/PID/task: a directory per thread of the process (proc_task_readdir).
std::shared_ptr<file> proc_task_dir(const task_struct& task) {
    const uint64_t ino = pid_entry_ino(task.tgid, "task");
    std::vector<dir_entry> e = {{ino, 1, DT_DIR, "."}, {pid_ino(task.tgid, 0), 2, DT_DIR, ".."}};
    for (const task_struct* t : task.signal->thread_head)
        e.push_back({pid_ino(t->pid, 0), static_cast<int64_t>(e.size() + 1), DT_DIR, std::to_string(t->pid)});
    return std::make_shared<proc_dir_file>(ino, 3, task.kernel ? task.kernel->mount_time() : timespec{}, std::move(e));
}

// The name a file is shown by (d_path and the dentry names of pipes and anonymous files).
std::string d_path(const file& f) {
    if (f.f_path) return guestos::d_path(f.f_path);
    if (f.f_inode && !f.f_inode->path.empty()) return f.f_inode->path;
    if (const auto* con = dynamic_cast<const console_file*>(&f)) {
        char target[4096];
        const std::string link = "/proc/self/fd/" + std::to_string(con->host_fd());
        const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
        return n > 0 ? std::string(target, static_cast<size_t>(n)) : "/dev/console";
    }
    struct stat st {};
    if (const_cast<file&>(f).getattr(st) == 0 && S_ISFIFO(st.st_mode))
        return "pipe:[" + std::to_string(st.st_ino) + "]";
    if (S_ISSOCK(st.st_mode)) return "socket:[" + std::to_string(st.st_ino) + "]";  // sockfs_dname
    return "anon_inode:[unknown]";
}

// ".", "..", the global files, then self, thread-self and each process (proc_root_readdir).
std::shared_ptr<file> proc_root_dir(const task_struct& task) {
    std::vector<dir_entry> e = {{1, 1, DT_DIR, "."}, {1, 2, DT_DIR, ".."}};
    for (const proc_entry& p : proc_root_entries)
        e.push_back({0xf0000000ull + e.size(), static_cast<int64_t>(e.size() + 1), dtype_of(p.mode), p.name});

    e.push_back({0xf0000000ull + e.size(), static_cast<int64_t>(e.size() + 1), DT_LNK, "self"});
    e.push_back({0xf0000000ull + e.size(), static_cast<int64_t>(e.size() + 1), DT_LNK, "thread-self"});
    // Each process, live or zombie, by its leader (next_tgid)
    std::vector<const task_struct*> leaders;
    if (task.kernel)
        for (const task_struct* t : task.kernel->all_tasks())
            if (t->thread_group_leader() && t->exit_state != EXIT_DEAD) leaders.push_back(t);
    if (leaders.empty()) leaders.push_back(&task);
    for (const task_struct* t : leaders)
        e.push_back({pid_ino(t->tgid, 0), static_cast<int64_t>(e.size() + 1), DT_DIR, std::to_string(t->tgid)});
    return std::make_shared<proc_dir_file>(1, 3, task.kernel ? task.kernel->mount_time() : timespec{}, std::move(e));
}

// /proc/sysvipc: msg, sem and shm (ipc_init_proc_interface's files, in proc's order).
std::shared_ptr<file> proc_sysvipc_dir(const task_struct& task) {
    constexpr uint64_t ino = 0xf0001000ull;
    std::vector<dir_entry> e = {{ino, 1, DT_DIR, "."}, {1, 2, DT_DIR, ".."}};
    for (const char* name : {"msg", "sem", "shm"})
        e.push_back({ino + e.size() - 1, static_cast<int64_t>(e.size() + 1), DT_REG, name});
    return std::make_shared<proc_dir_file>(ino, 2, task.kernel ? task.kernel->mount_time() : timespec{}, std::move(e));
}

bool is_sysvipc_dir(const ProcPath& p) { return !p.per_task && (p.entry == "sysvipc" || p.entry == "sysvipc/"); }

// /proc/PID/net: the network namespace's files emu has (unix only).
std::shared_ptr<file> proc_net_dir(const task_struct& task) {
    const uint64_t ino = pid_entry_ino(task.tgid, "net");
    std::vector<dir_entry> e = {{ino, 1, DT_DIR, "."}, {pid_ino(task.tgid, 0), 2, DT_DIR, ".."}};
    e.push_back({0xf0002000ull, 3, DT_REG, "unix"});
    return std::make_shared<proc_dir_file>(ino, 2, task.kernel ? task.kernel->mount_time() : timespec{}, std::move(e));
}

}  // namespace

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
    int n = std::snprintf(line, sizeof line,
                          "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ", v.vm_start.value,
                          v.vm_end.value, v.vm_flags & VM_READ ? 'r' : '-', v.vm_flags & VM_WRITE ? 'w' : '-',
                          v.vm_flags & VM_EXEC ? 'x' : '-', v.vm_flags & VM_MAYSHARE ? 's' : 'p', pgoff, maj, min, ino);
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
    if (const vm_area_struct* gate = get_gate_vma(*task.mm)) out += show_map_vma(*task.mm, *gate) + "\n";
    return out;
}

namespace {

std::string kb_line(const char* name, uint64_t kb) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s\t%8" PRIu64 " kB\n", name, kb);
    return buf;
}

std::string sigset_hex(uint64_t set) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, set);
    return buf;
}

}  // namespace

const char* get_task_state(const task_struct& t) {
    if (t.exit_state == EXIT_ZOMBIE) return "Z (zombie)";
    if (t.exit_state == EXIT_DEAD) return "X (dead)";
    if (t.state == TASK_STOPPED) return "T (stopped)";
    if (t.state == TASK_UNINTERRUPTIBLE) return "D (disk sleep)";
    if (t.state == TASK_INTERRUPTIBLE) return "S (sleeping)";
    return "R (running)";
}

void collect_sigign_sigcatch(const task_struct& task, uint64_t& ign, uint64_t& catch_) {
    ign = catch_ = 0;
    for (int i = 0; i < KERNEL_NSIG; ++i) {
        if (task.sighand->action[i].handler == 1) ign |= 1ull << i;
        else if (task.sighand->action[i].handler > 1) catch_ |= 1ull << i;
    }
}

// A zombie has no mm, files or fs any more: its status has no Umask or Vm lines and FDSize 0,
// as task_state and task_mem leave them out.
std::string proc_pid_status(task_struct& task) {
    const uint64_t pk = PAGE_SIZE >> 10;
    uint64_t ignored = 0, caught = 0;
    collect_sigign_sigcatch(task, ignored, caught);
    char umask[32] = "";
    if (task.fs) std::snprintf(umask, sizeof umask, "Umask:\t%04o\n", task.fs->umask);
    const struct cred& cr = task.cred;
    char head[512];
    std::snprintf(head, sizeof head,
                  "Name:\t%s\n%sState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n"
                  "TracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t%zu\n",
                  task.comm.c_str(), umask, get_task_state(task), task.tgid, task.pid,
                  task.group_leader->real_parent ? task.group_leader->real_parent->tgid : 1, cr.uid, cr.euid, cr.suid,
                  cr.fsuid, cr.gid, cr.egid, cr.sgid, cr.fsgid,
                  task.files ? std::max<size_t>(64, task.files->fd.size()) : 0);
    std::string out = head;
    out += "Groups:\t";  // each group, then the trailing space Linux keeps
    for (size_t g = 0; g < cr.group_info->size(); ++g) out += (g ? " " : "") + std::to_string((*cr.group_info)[g]);
    out += " \n";
    if (const mm_struct* m = task.mm.get()) {
        const mm_struct& mm = *m;
        const uint64_t text = (mmu::page_align_up(mm.end_code) - (mm.start_code & mmu::PAGE_MASK)) >> 10;
        const uint64_t rss = mm.rss();
        out += kb_line("VmPeak:", std::max(mm.hiwater_vm, mm.total_vm) * pk) + kb_line("VmSize:", mm.total_vm * pk);
        out += kb_line("VmLck:", mm.locked_vm * pk) + kb_line("VmPin:", 0);
        out += kb_line("VmHWM:", std::max(mm.hiwater_rss, rss) * pk) + kb_line("VmRSS:", rss * pk);
        out += kb_line("RssAnon:", mm.rss_anon * pk) + kb_line("RssFile:", mm.rss_file * pk) +
               kb_line("RssShmem:", mm.rss_shmem * pk);
        out += kb_line("VmData:", mm.data_vm * pk) + kb_line("VmStk:", mm.stack_vm * pk) + kb_line("VmExe:", text);
        out += kb_line("VmLib:", mm.exec_vm * pk > text ? mm.exec_vm * pk - text : 0);
        out += kb_line("VmPTE:", mm.pgtables_bytes >> 10) + kb_line("VmSwap:", mm.swapents * pk);
    }
    uint64_t queued = 0;
    for (const auto& q : task.sigqueue) queued += q.size();
    out += "Threads:\t" + std::to_string(task.signal->nr_threads) + "\nSigQ:\t" + std::to_string(queued) + "/" +
           std::to_string(task.signal->rlim[RLIMIT_SIGPENDING_].rlim_cur) + "\nSigPnd:\t" + sigset_hex(task.pending) +
           "\nShdPnd:\t" + sigset_hex(0) + "\nSigBlk:\t" + sigset_hex(task.blocked) + "\nSigIgn:\t" +
           sigset_hex(ignored) + "\nSigCgt:\t" + sigset_hex(caught) + "\n";
    char caps[256];  // task_cap
    std::snprintf(
        caps, sizeof caps,
        "CapInh:\t%016llx\nCapPrm:\t%016llx\nCapEff:\t%016llx\nCapBnd:\t%016llx\nCapAmb:\t%016llx\nNoNewPrivs:\t%d\n",
        (unsigned long long)cr.cap_inheritable, (unsigned long long)cr.cap_permitted,
        (unsigned long long)cr.cap_effective, (unsigned long long)cr.cap_bset, (unsigned long long)cr.cap_ambient,
        task.no_new_privs ? 1 : 0);
    return out + caps;
}

std::string proc_pid_io_accounting(const task_struct& task, bool whole) {
    task_io_accounting acct = task.ioac;
    if (whole) {
        acct = task.signal->ioac;
        for (const task_struct* t : task.signal->thread_head) acct.add(t->ioac);
    }
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "rchar: %" PRIu64 "\nwchar: %" PRIu64 "\nsyscr: %" PRIu64 "\nsyscw: %" PRIu64 "\nread_bytes: %" PRIu64
                  "\nwrite_bytes: %" PRIu64 "\ncancelled_write_bytes: %" PRIu64 "\n",
                  acct.rchar, acct.wchar, acct.syscr, acct.syscw, acct.read_bytes, acct.write_bytes,
                  acct.cancelled_write_bytes);
    return buf;
}

// The name and unit of each resource limit, by RLIMIT_* (lnames).
struct limit_names {
    const char* name;
    const char* unit;
};
constexpr limit_names lnames[RLIM_NLIMITS] = {
    {"Max cpu time", "seconds"},    {"Max file size", "bytes"},      {"Max data size", "bytes"},
    {"Max stack size", "bytes"},    {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
    {"Max processes", "processes"}, {"Max open files", "files"},     {"Max locked memory", "bytes"},
    {"Max address space", "bytes"}, {"Max file locks", "locks"},     {"Max pending signals", "signals"},
    {"Max msgqueue size", "bytes"}, {"Max nice priority", nullptr},  {"Max realtime priority", nullptr},
    {"Max realtime timeout", "us"},
};

std::string proc_pid_limits(const task_struct& task) {
    char line[128];
    std::snprintf(line, sizeof line, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    std::string out = line;
    auto value = [](uint64_t v) { return v == RLIM_INFINITY_ ? std::string("unlimited") : std::to_string(v); };
    for (int i = 0; i < RLIM_NLIMITS; ++i) {
        const rlimit64& r = task.signal->rlim[i];
        std::snprintf(line, sizeof line, "%-25s %-20s %-20s ", lnames[i].name, value(r.rlim_cur).c_str(),
                      value(r.rlim_max).c_str());
        out += line;
        if (lnames[i].unit) {
            std::snprintf(line, sizeof line, "%-10s\n", lnames[i].unit);
            out += line;
        } else {
            out += "\n";
        }
    }
    return out;
}

// A 64-bit kernel keeps saved_auxv as longs and auxv_read returns whole long pairs up to the
// first pair whose type word is AT_NULL; a 32-bit process's entries are packed as two u32
// per long there, so its read ends with one or two pairs of zeros past its AT_NULL.
std::string proc_pid_auxv(const task_struct& task) {
    if (!task.mm) return {};
    const std::vector<uint64_t>& aux = task.mm->saved_auxv;
    const size_t word = task.is_compat() ? 4 : 8;
    std::string bytes(aux.size() * word + 32, '\0');  // the zeros after, as in the unused saved_auxv
    for (size_t i = 0; i < aux.size(); ++i) std::memcpy(bytes.data() + i * word, &aux[i], word);
    size_t nwords = 0;  // in longs (8 bytes), as auxv_read counts
    do {
        nwords += 2;
    } while (nwords * 8 <= bytes.size() && [&] {
        uint64_t v = 0;
        std::memcpy(&v, bytes.data() + (nwords - 2) * 8, 8);
        return v != 0;
    }());
    return bytes.substr(0, std::min(bytes.size(), nwords * 8));
}

long proc_open(task_struct& caller, const std::string& path, unsigned flags, std::shared_ptr<file>& out) {
    if (is_proc_sys_path(path) && caller.kernel)
        return proc_sys_open(caller.kernel->sysctl(), path, flags, caller.kernel->mount_time(), out);
    auto p = parse_proc_path(caller, path);
    if (!p) return -ENOENT;
    task_struct& task = p->target ? *p->target : caller;
    if (p->thread && p->entry == "task") return -ENOENT;  // a thread's directory has no task/
    if (p->entry.empty() || p->task_dir ||
        (p->per_task && (p->entry == "fd" || p->entry == "task" || p->entry == "net")) || is_sysvipc_dir(*p)) {
        if ((flags & O_ACCMODE_) != O_RDONLY_) return -EISDIR;
        out = p->entry == "fd"     ? proc_fd_dir(task)
              : p->entry == "task" ? proc_task_dir(task)
              : p->entry == "net"  ? proc_net_dir(task)
              : p->task_dir        ? proc_pid_dir(task, p->thread)
              : is_sysvipc_dir(*p) ? proc_sysvipc_dir(task)
                                   : proc_root_dir(task);
        out->f_flags = flags;
        return 0;
    }
    if (const long fd = fd_entry(*p); fd >= 0) {  // filp_open reopens what proc_fd_file gives
        if (!fd_file(task, fd)) return -ENOENT;
        out = fd_file(task, fd);
        return 0;
    }
    seq_file::show_fn show;
    const auto ref = task_ref(task);
    uint32_t mode = S_IFREG | 0444;  // the entry's, from tgid_base_stuff
    for (const proc_entry& e : tgid_base_stuff)
        if (p->per_task && p->entry == e.name) mode = e.mode;
    seq_file::write_fn writer;
    if ((flags & O_ACCMODE_) != O_RDONLY_) {
        // generic_permission on the entry's mode, owned by the task's euid (task_dump_owner)
        // or root: CAP_DAC_OVERRIDE opens any of them, and a write where no write operation
        // exists is then EINVAL.
        const uint32_t owner = p->per_task && task.signal->dumpable ? task.cred.euid : 0;
        const uint32_t granted = current_cred().fsuid == owner ? mode >> 6 : mode;
        if (!(granted & 2) && !capable(CAP_DAC_OVERRIDE_)) return -EACCES;
        if (p->per_task) writer = pid_entry_writer(p->entry, ref);
    }
    if (p->per_task && (p->entry == "maps" || p->entry == "smaps")) show = vma_records(ref, p->entry == "smaps");
    else if (p->per_task && p->entry == "smaps_rollup")
        show = task_text(ref, [](task_struct& t) { return show_smaps_rollup(t); });
    else if (p->per_task && p->entry == "cmdline")
        show = task_text(
            ref, [](task_struct& t) { return t.mm ? user_range(t, t.mm->arg_start, t.mm->arg_end) : std::string(); });
    else if (p->per_task && p->entry == "environ")
        show = task_text(
            ref, [](task_struct& t) { return t.mm ? user_range(t, t.mm->env_start, t.mm->env_end) : std::string(); });
    else if (p->per_task && p->entry == "comm") show = task_text(ref, [](task_struct& t) { return t.comm + "\n"; });
    else if (p->per_task && p->entry == "status")
        show = task_text(ref, [](task_struct& t) { return proc_pid_status(t); });
    else if (p->per_task && p->entry == "oom_score")
        show = task_text(ref, [](task_struct& t) {
            return t.kernel ? std::to_string(proc_oom_score(*t.kernel, t)) + "\n" : std::string("0\n");
        });
    else if (p->per_task && p->entry == "stat")
        show = task_text(ref, [whole = !p->thread](task_struct& t) { return do_task_stat(t, whole); });
    else if (p->per_task && p->entry == "statm")
        show = task_text(ref, [](task_struct& t) { return proc_pid_statm(t); });
    else if (p->per_task && p->entry == "limits")
        show = task_text(ref, [](task_struct& t) { return proc_pid_limits(t); });
    else if (p->per_task && p->entry == "auxv") show = task_text(ref, [](task_struct& t) { return proc_pid_auxv(t); });
    else if (p->per_task && (p->entry == "mounts" || p->entry == "mountinfo"))
        show = task_text(ref, [info = p->entry == "mountinfo"](task_struct& t) {
            if (!t.kernel || !t.fs) return std::string();  // a zombie has no fs (no namespace to show)
            return info ? proc_mountinfo(t.kernel->mnt_ns()) : proc_mounts(t.kernel->mnt_ns());
        });
    else if (p->per_task && p->entry == "io")
        show = task_text(ref, [whole = !p->thread](task_struct& t) { return proc_pid_io_accounting(t, whole); });
    else if (p->per_task && p->entry == "net/unix" && task.kernel)
        show = seq_file::single([k = task.kernel] { return proc_net_unix(*k); });
    else if (p->per_task && p->entry == "wchan") show = task_text(ref, [](task_struct&) { return std::string("0"); });
    else if (p->per_task && p->entry == "oom_score_adj")
        show = task_text(ref, [](task_struct& t) { return std::to_string(t.signal->oom_score_adj) + "\n"; });
    else if (p->per_task && p->entry == "oom_adj")
        show = task_text(ref, [](task_struct& t) { return oom_adj_read(t); });
    else if (!p->per_task && p->entry == "slabinfo" && current_cred().fsuid != 0 && !capable(CAP_DAC_OVERRIDE_))
        return -EACCES;  // mode 0400, root's
    else if (Kernel* k = task.kernel; !p->per_task && k && k->proc_global(p->entry))
        show = seq_file::single([k, entry = p->entry] { return k->proc_global(entry).value_or(""); });
    else return -ENOENT;
    auto f = std::make_shared<seq_file>(std::move(show), mode, task.kernel ? task.kernel->mount_time() : timespec{});
    f->f_flags = flags;
    if (writer) f->set_write(std::move(writer));
    out = std::move(f);
    return 0;
}

std::shared_ptr<file> proc_fd_file(task_struct& caller, const std::string& path) {
    auto p = parse_proc_path(caller, path);
    const long fd = p ? fd_entry(*p) : -1;
    task_struct& task = p && p->target ? *p->target : caller;
    return fd >= 0 ? fd_file(task, fd) : nullptr;
}

long proc_lstat(task_struct& caller, const std::string& path, struct stat& st) {
    if (is_proc_sys_path(path) && caller.kernel)  // no open: a 0200 entry stats fine
        return proc_sys_getattr(caller.kernel->sysctl(), path, caller.kernel->mount_time(), st);
    auto p = parse_proc_path(caller, path);
    if (!p) return -ENOENT;
    task_struct& task = p->target ? *p->target : caller;
    const bool self =
        path == "/proc/self" || path == "/proc/thread-self" || path == "/proc/mounts" || path == "/proc/net";
    const long fd = fd_entry(*p);
    if (!self && fd < 0 && !(p->per_task && is_pid_link(p->entry))) return 1;
    if (fd >= 0 && !fd_file(task, fd)) return -ENOENT;
    st = {};
    st.st_dev = PROC_DEV;
    st.st_ino = path == "/proc/mounts" ? 0xf0000003ull
                : path == "/proc/net"  ? 0xf0000004ull
                : self                 ? 0xf0000000ull
                                       : pid_entry_ino(task.tgid, p->entry);
    st.st_nlink = 1;
    st.st_blksize = 1024;
    st.st_mode = S_IFLNK | 0777;
    if (fd >= 0) {  // proc_fd_link's inode: the access it was opened with, for its owner
        const unsigned acc = fd_file(task, fd)->f_flags & O_ACCMODE_;
        st.st_mode = S_IFLNK | (acc != O_WRONLY_ ? 0500 : 0) | (acc != O_RDONLY_ ? 0300 : 0);
    }
    // task_dump_owner: the task's effective ids, or root's once it is not dumpable
    st.st_uid = self || !task.signal->dumpable ? 0 : task.cred.euid;
    st.st_gid = self || !task.signal->dumpable ? 0 : task.cred.egid;
    st.st_atim = st.st_mtim = st.st_ctim = task.kernel ? task.kernel->mount_time() : timespec{};
    return 0;
}

std::optional<std::string> proc_readlink(task_struct& caller, const std::string& path, int& err) {
    if (path == "/proc/self") return std::to_string(caller.tgid);  // proc_self_get_link
    if (path == "/proc/mounts") return "self/mounts";              // proc_symlink("mounts", NULL, "self/mounts")
    if (path == "/proc/net") return "self/net";                    // proc_symlink("net", NULL, "self/net")
    if (path == "/proc/thread-self") return std::to_string(caller.tgid) + "/task/" + std::to_string(caller.pid);
    auto p = parse_proc_path(caller, path);
    err = ENOENT;
    if (!p) return std::nullopt;
    task_struct& task = (p->per_task && p->target) ? *p->target : caller;
    if (p->per_task && p->entry == "exe") {  // a zombie has no mm, so no exe_file
        if (!task.mm) return std::nullopt;
        return task.exe_path;
    }
    if (p->per_task && (p->entry == "cwd" || p->entry == "root")) {  // proc_cwd_link, proc_root_link
        if (!task.fs) return std::nullopt;
        return guestos::d_path(p->entry == "cwd" ? task.fs->pwd : task.fs->root);
    }
    if (const long fd = fd_entry(*p); fd >= 0) {
        if (auto f = fd_file(task, fd)) return d_path(*f);
        return std::nullopt;
    }
    if (!p->per_task && p->entry == "self") return std::to_string(task.tgid);
    if (!p->per_task && p->entry == "thread-self")
        return std::to_string(task.tgid) + "/task/" + std::to_string(task.pid);
    if (p->per_task && std::any_of(std::begin(tgid_base_stuff), std::end(tgid_base_stuff),
                                   [&](const proc_entry& e) { return p->entry == e.name; }))
        err = EINVAL;  // an entry that is no link
    return std::nullopt;
}

}  // namespace guestos
