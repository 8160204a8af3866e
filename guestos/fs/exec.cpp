// execve and execveat (fs/exec.c): find the program in the guest's filesystems (or, without
// a disk, on the host as the first program is), run #! scripts through their interpreter
// (binfmt_script), then replace the task's program: other threads die, the old mm goes,
// close-on-exec descriptors close and handled signals return to their defaults.
#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "guestos/include/kernel.h"
#include "guestos/include/ptrace.h"
#include "guestos/include/mount.h"
#include "guestos/include/namei.h"
#include "guestos/include/signal.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/kernel/time/posix-timers.h"
#include "loader/elf.h"

namespace guestos {

namespace {

constexpr uint64_t MAX_ARG_STRLEN = 32 * 4096;  // one argument or variable
constexpr uint64_t MAX_ARG_STRINGS = 0x7fffffff;
constexpr size_t BINPRM_BUF_SIZE = 256;
constexpr int MAX_SCRIPT_DEPTH = 5;  // binfmt_script's recursion (ELOOP beyond)

// Reads a NULL-terminated array of user strings (copy_strings): 0, -EFAULT or -E2BIG.
long copy_strings(SysCtx& c, uint64_t uptr, std::vector<std::string>& out, uint64_t& total) {
    if (!uptr) return 0;
    for (uint64_t i = 0;; ++i) {
        uint64_t p = 0;
        if (!copy_from_user(c.mm, &p, VirtAddr(uptr + i * c.ptr_size()), c.ptr_size())) return -EFAULT;
        if (!p) return 0;
        if (i >= MAX_ARG_STRINGS) return -E2BIG;
        auto s = strncpy_from_user(c.mm, VirtAddr(p), MAX_ARG_STRLEN);
        if (!s) return strncpy_from_user(c.mm, VirtAddr(p), 1) ? -E2BIG : -EFAULT;
        total += s->size() + 1 + c.ptr_size();
        // The strings and pointers may fill a quarter of the stack limit (bprm_stack_limits).
        if (total > std::max<uint64_t>(c.task.signal->rlim[RLIMIT_STACK_].rlim_cur / 4, 128 * 1024)) return -E2BIG;
        out.push_back(std::move(*s));
    }
}

// The whole file behind f (kernel_read_file), read straight into out, which is sized for
// `size` bytes (the file's size from getattr) first.
long read_whole(file& f, std::vector<uint8_t>& out, uint64_t size) {
    constexpr uint64_t MAX_SIZE = 1ull << 31;
    out.reserve(std::min(size, MAX_SIZE) + 1);
    int64_t pos = 0;
    for (;;) {
        const size_t have = out.size(), chunk = std::max<size_t>(out.capacity() - have, 65536);
        out.resize(have + chunk);
        const long n = f.read(out.data() + have, chunk, &pos);
        out.resize(have + std::max(n, 0L));
        if (n <= 0) return n;
        if (out.size() > MAX_SIZE) return -EFBIG;
    }
}

// deny_write_access: whether some open file anywhere may write ino (Linux counts these in
// i_writecount; a program open for writing cannot be run).
bool open_for_write(Kernel& k, const inode* ino) {
    for (task_struct* t : k.all_tasks()) {
        if (!t->files) continue;
        for (const auto& f : t->files->fd)
            if (f && f->f_inode.get() == ino && (f->f_flags & O_ACCMODE_) != O_RDONLY_ && !(f->f_flags & O_PATH_))
                return true;
    }
    return false;
}

// Finds the program from dfd (flags are execveat's): the guest's filesystems first, then
// (without a disk, for a name not relative to an fd) the host.
long open_program(SysCtx& c, int dfd, const std::string& name, unsigned flags, binprm_file& bprm) {
    std::shared_ptr<file> f;
    std::string abs;
    long e = open_exec(c, dfd, name, flags, f, abs);
    if (e == 0) {
        struct stat st {};
        if (long ge = f->getattr(st)) return ge;
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) return -EACCES;
        if (f->f_path && (f->f_path.mnt->mnt_flags & MNT_NOEXEC)) return -EACCES;  // path_noexec
        if (f->f_inode && open_for_write(c.kernel, f->f_inode.get())) return -ETXTBSY;
        bprm.i_dev = st.st_dev;
        bprm.i_ino = st.st_ino;
        bprm.i_mode = st.st_mode;
        bprm.real_path = f->f_inode && !f->f_inode->path.empty() ? f->f_inode->path : abs;
        return read_whole(*f, bprm.contents, static_cast<uint64_t>(st.st_size));
    }
    if (e != -ENOENT || c.kernel.root_disk()) return e;
    if (name.empty() || (dfd != AT_FDCWD_ && name[0] != '/')) return e;
    const vfsmount* top = c.kernel.mnt_ns().root();
    if (c.task.fs->root.mnt != top || c.task.fs->root.dentry != top->mnt_root) return e;  // chrooted: no way out
    // No disk: programs run from the host's files, as the first program does.
    const std::string host = name[0] == '/' ? name : d_path(c.task.fs->pwd) + "/" + name;
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) return -errno;
    if (!S_ISREG(st.st_mode) || ::access(host.c_str(), X_OK) != 0) return -EACCES;
    bprm.i_dev = st.st_dev;
    bprm.i_ino = st.st_ino;
    bprm.i_mode = st.st_mode;
    char real[PATH_MAX];
    bprm.real_path = ::realpath(host.c_str(), real) ? real : host;
    auto parsed = loader::load_elf_file(host, bprm.contents);
    if (parsed.is_error() && bprm.contents.empty()) {  // not ELF: read it for a #! line
        FILE* fp = std::fopen(host.c_str(), "rb");
        if (!fp) return -EACCES;
        uint8_t buf[BINPRM_BUF_SIZE];
        const size_t n = std::fread(buf, 1, sizeof buf, fp);
        std::fclose(fp);
        bprm.contents.assign(buf, buf + n);
    }
    return 0;
}

// binfmt_script: "#!interpreter [one argument]" in the first 256 bytes; true when it is one,
// with the interpreter and its argument.
bool parse_shebang(const std::vector<uint8_t>& c, std::string& interp, std::string& arg) {
    if (c.size() < 2 || c[0] != '#' || c[1] != '!') return false;
    std::string line(c.begin() + 2, c.begin() + std::min(c.size(), BINPRM_BUF_SIZE));
    line = line.substr(0, line.find('\n'));
    auto ws = [](char ch) { return ch == ' ' || ch == '\t'; };
    size_t i = 0;
    while (i < line.size() && ws(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !ws(line[j])) ++j;
    interp = line.substr(i, j - i);
    while (j < line.size() && ws(line[j])) ++j;
    arg = line.substr(j);
    while (!arg.empty() && ws(arg.back())) arg.pop_back();
    return true;
}

// The new program's signal handlers: caught ones go back to SIG_DFL (flush_signal_handlers).
void flush_signal_handlers(task_struct& t) {
    if (t.sighand.use_count() > 1) t.sighand = std::make_shared<sighand_struct>(*t.sighand);  // unshare_sighand
    for (k_sigaction& ka : t.sighand->action) {
        if (ka.handler != 1) ka.handler = 0;
        ka.flags = 0;
        ka.mask = 0;
        ka.restorer = 0;
    }
}

// The other threads of the group die before the new program starts (de_thread).
void de_thread(task_struct& t) {
    for (task_struct* other : std::vector<task_struct*>(t.signal->thread_head))
        if (other != &t) {
            kernel_siginfo si;
            si.si_signo = SIGKILL_;
            send_signal(*other, si, true);
        }
}

// After the new mm is in place: what the old program leaves behind goes (begin_new_exec).
void begin_new_exec(SysCtx& c, const ExecResult& r) {
    task_struct& t = c.task;
    de_thread(t);
    exit_itimers(*t.signal);  // POSIX timers end with the program; setitimer's stay
    flush_itimer_signals(t);
    mm_release_vfork(t);
    if (t.files.use_count() > 1) t.files = std::make_shared<files_struct>(*t.files);  // unshare_files
    do_close_on_exec(*t.files);
    flush_signal_handlers(t);
    cap_bprm_creds_from_file(t.cred);
    t.signal->dumpable =
        t.cred.uid == t.cred.euid && t.cred.gid == t.cred.egid ? 1 : 0;  // SUID_DUMP_USER or suid_dumpable
    t.sas_ss_sp = t.sas_ss_size = 0;
    t.sas_ss_flags = SS_DISABLE;
    t.tls_array = {};
    t.robust_list = 0;
    t.clear_child_tid = 0;
    t.restart_block = {};
    t.cpu = nullptr;  // the engine of the old address space is no longer ours
    pt_regs regs;
    regs.ip = r.entry;
    regs.sp = r.stack_pointer;
    regs.flags = 0x202;
    // fpu__init: FCW 0x37f (exceptions masked), MXCSR 0x1f80, every x87 register empty.
    const uint16_t fcw = 0x37f;
    const uint32_t mxcsr = 0x1f80;
    std::memcpy(regs.fxsave, &fcw, 2);
    std::memcpy(regs.fxsave + 24, &mxcsr, 4);
    t.start_regs = regs;
}

// What follows the last '/' (kbasename).
std::string kbasename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The name the new program is known by (alloc_bprm): the path as given, or for a name
// relative to an fd "/dev/fd/N[/name]", which the program cannot reopen after exec when the
// fd is close-on-exec (BINPRM_FLAGS_PATH_INACCESSIBLE).
std::string bprm_filename(SysCtx& c, int dfd, const std::string& name, bool& inaccessible) {
    inaccessible = false;
    if (dfd == AT_FDCWD_ || (!name.empty() && name[0] == '/')) return name;
    const files_struct& files = *c.task.files;
    inaccessible = dfd >= 0 && static_cast<size_t>(dfd) < files.cloexec.size() && files.cloexec[dfd];
    return "/dev/fd/" + std::to_string(dfd) + (name.empty() ? "" : "/" + name);
}

long do_execveat(SysCtx& c, int dfd, uint64_t ufilename, uint64_t uargv, uint64_t uenvp, unsigned flags) {
    std::string name;
    if (long e = getname(c, ufilename, name, flags & AT_EMPTY_PATH_)) return e;
    linux_binprm bprm;
    // The program is opened before the arguments are read (do_execveat_common).
    if (long e = open_program(c, dfd, name, flags, bprm)) return e;
    bool inaccessible = false;
    bprm.filename = bprm_filename(c, dfd, name, inaccessible);
    uint64_t total = 0;
    if (long e = copy_strings(c, uargv, bprm.argv, total)) return e;
    if (long e = copy_strings(c, uenvp, bprm.envp, total)) return e;
    bprm.execfn = bprm.filename;
    for (int depth = 0;; ++depth) {
        if (depth > 0) {
            bprm.contents.clear();
            if (long e = open_program(c, AT_FDCWD_, bprm.filename, 0, bprm)) return e;
        }
        std::string interp, arg;
        if (!parse_shebang(bprm.contents, interp, arg)) break;
        // The interpreter could not open the script by that name (load_script).
        if (inaccessible) return -ENOENT;
        if (depth >= MAX_SCRIPT_DEPTH) return -ELOOP;
        if (interp.empty()) return -ENOEXEC;
        // argv[0] is replaced by the interpreter, its argument and the script's path.
        std::vector<std::string> argv{interp};
        if (!arg.empty()) argv.push_back(arg);
        argv.push_back(bprm.filename);
        for (size_t i = 1; i < bprm.argv.size(); ++i) argv.push_back(bprm.argv[i]);
        bprm.argv = std::move(argv);
        bprm.filename = interp;
    }
    // The task's name is the file's, from the dentry of the file that runs for an empty name
    // (comm_from_dentry).
    const std::string comm = name.empty() ? kbasename(bprm.real_path) : kbasename(bprm.execfn);
    auto elf = loader::parse_elf(bprm.contents);
    if (elf.is_error()) return -ENOEXEC;
    // A dynamically linked program's interpreter is opened as the program was (open_exec).
    if (!elf->interp.empty()) {
        if (long e = open_program(c, AT_FDCWD_, elf->interp, 0, bprm.interp)) return e;
        auto ie = loader::parse_interp(*elf, bprm.interp.contents);
        if (ie.is_error()) return -ie.error().errno_value;
    }
    auto r = c.kernel.load_elf_binary(c.task, bprm, elf.value());
    if (r.is_error()) {
        const int err = r.error().errno_value;
        return -(err == EINVAL || err == EIO || err == 0 ? ENOEXEC : err);
    }
    begin_new_exec(c, r.value());
    c.task.comm = comm.substr(0, 15);  // __set_task_comm
    if (c.kernel.tracer) c.kernel.tracer->exec_event(c.task);
    return 0;
}

}  // namespace

long sys_execve(SysCtx& c, const uint64_t* a) { return do_execveat(c, AT_FDCWD_, a[0], a[1], a[2], 0); }

// execveat(dirfd, path, argv, envp, flags): a path relative to dirfd, or with AT_EMPTY_PATH
// the file open at dirfd.
long sys_execveat(SysCtx& c, const uint64_t* a) {
    return do_execveat(c, static_cast<int>(a[0]), a[1], a[2], a[3], static_cast<unsigned>(a[4]));
}

}  // namespace guestos
