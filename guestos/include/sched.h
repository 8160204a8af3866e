// Tasks: task_struct per thread, and what threads and processes share, refcounted:
// mm_struct (mm_users), files_struct, fs_struct, sighand_struct and signal_struct.
#pragma once
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "guestos/include/cred.h"
#include "guestos/include/fs.h"
#include "guestos/include/mm_types.h"
#include "guestos/include/uapi/resource.h"
#include "guestos/arch/x86/include/asm/ptrace.h"
#include "guestos/include/wait.h"

namespace guestos {

enum class Abi { I386, X86_64 };

// A kernel sigaction as rt_sigaction stores it (the handler is a guest address).
struct k_sigaction {
    uint64_t handler = 0;  // SIG_DFL 0, SIG_IGN 1
    uint64_t flags = 0;
    uint64_t restorer = 0;
    uint64_t mask = 0;
};

// One i386 GDT TLS slot as set_thread_area describes it (struct user_desc).
struct user_desc {
    uint32_t entry_number = 0;
    uint32_t base_addr = 0;
    uint32_t limit = 0;
    uint32_t flags = 0;  // seg_32bit, contents, read_exec_only, limit_in_pages, seg_not_present, useable
    bool empty = true;
};

inline constexpr int GDT_ENTRY_TLS_MIN_I386 = 6;
inline constexpr int GDT_ENTRY_TLS_ENTRIES = 3;
inline constexpr int KERNEL_NSIG = 64;

// What the OS may ask of the CPU the task runs on (implemented by emu/, no Unicorn here).
class CpuOps {
public:
    virtual ~CpuOps() = default;
    virtual void set_fs_base(uint64_t base) = 0;
    virtual void set_gs_base(uint64_t base) = 0;
    virtual uint64_t fs_base() = 0;
    virtual uint64_t gs_base() = 0;
    // Writes the 8-byte descriptor of GDT entry `index` (i386 TLS).
    virtual void write_gdt_entry(int index, uint64_t descriptor) = 0;
    // Installs the mm's LDT of nr descriptors (install_ldt/load_mm_ldt; nr 0: none).
    virtual void load_mm_ldt(const uint64_t* entries, unsigned nr) = 0;
    // The user registers as they are now, and replacing them (signal frames, sigreturn).
    virtual void get_regs(pt_regs& regs) = 0;
    virtual void set_regs(const pt_regs& regs) = 0;
    // Programs the CPU's timer (clockevents_program_event): interrupt the guest at `expires`
    // (CLOCK_MONOTONIC ns), or never; the interrupt reaches hrtimer_interrupt.
    virtual void set_next_event(std::optional<int64_t> expires) = 0;
};

// A signal's siginfo (the fields the emulated sources fill).
struct kernel_siginfo {
    int si_signo = 0;
    int si_errno = 0;
    int si_code = 0;
    uint64_t addr = 0;  // si_addr, for faults
    int pid = 0;        // si_pid and si_uid, for kill and sigqueue
    uint32_t uid = 0;
    uint64_t value = 0;  // si_value, for sigqueue and timers
    // A POSIX timer's signal (SI_TIMER): its id, the overruns, and which arming sent it
    // (si_sys_private: dequeue rearms the timer only for the current one).
    int tid = 0, overrun = 0, sys_private = 0;
    // A SIGIO-style signal (POLL_* codes: send_sigio with F_SETSIG's signal): si_band is in
    // addr, and si_fd here.
    int fd = 0;
};

// The fd table (files_struct); close-on-exec is per descriptor. Shared by CLONE_FILES.
struct files_struct {
    files_struct() = default;
    files_struct(const files_struct&) = default;  // fork's dup_fd
    ~files_struct();                              // put_files_struct: closing each fd drops this table's POSIX locks
    std::vector<std::shared_ptr<file>> fd;
    std::vector<bool> cloexec;
    std::shared_ptr<file> get(long n) const { return (n >= 0 && static_cast<size_t>(n) < fd.size()) ? fd[n] : nullptr; }
};

// The working directory, root and umask (fs_struct); shared by CLONE_FS.
struct fs_struct {
    struct path root, pwd;  // where "/" and relative lookups start (set_fs_root, set_fs_pwd)
    unsigned umask = 022;
};

struct rlimit64 {
    uint64_t rlim_cur = ~0ull;
    uint64_t rlim_max = ~0ull;
};

class Kernel;
struct SysCtx;

// What restart_syscall resumes after a -ERESTART_RESTARTBLOCK (struct restart_block): the
// function, and for nanosleep the clock, the absolute expiry and where the time left goes,
// for a futex wait the word, its expected value and the absolute timeout, for poll its
// array and end time.
struct restart_block {
    long (*fn)(SysCtx&) = nullptr;  // null: do_no_restart_syscall (-EINTR)
    struct {
        int clockid = 0;
        int64_t expires = 0;  // ns on clockid
        uint64_t rmtp = 0;
        int type = 0;  // TT_NONE, TT_NATIVE (64-bit timespec) or TT_COMPAT (i386's)
    } nanosleep;
    struct {
        uint64_t uaddr = 0;
        uint32_t val = 0;
        int clockid = 0;
        int64_t expires = 0;  // ns on clockid; 0: no timeout
        uint32_t bitset = 0xffffffffu;
        bool priv = false;
    } futex;
    struct {
        uint64_t ufds = 0;
        uint32_t nfds = 0;
        bool has_timeout = false;
        int64_t end_time = 0;  // CLOCK_MONOTONIC ns; 0: no wait at all
    } poll;
};

// An interval timer (signal_struct's real_timer with it_real_incr, or a cpu_itimer): the
// expiry in ns on the timer's clock (0: disarmed) and the reload interval (0: one-shot).
struct itimer {
    int64_t expires = 0;
    int64_t incr = 0;
};

// A kernel sigaction per signal (sighand_struct); shared by CLONE_SIGHAND.
struct sighand_struct {
    sighand_struct() = default;
    // A copy (fork without CLONE_SIGHAND, exec's unshare) takes the actions only.
    sighand_struct(const sighand_struct& o) : action(o.action) {}
    std::array<k_sigaction, KERNEL_NSIG> action{};
    wait_queue_head signalfd_wqh;  // signalfd readers and pollers: woken at each signal sent
};

struct task_struct;
struct tty_struct;
struct k_itimer;  // a POSIX timer (guestos/kernel/time/posix-timers.h)

// What the threads of a process share (signal_struct): the thread list, limits, interval
// timers, job control, the process group and session, and the children's exit waits.
// I/O a task did (include/linux/task_io_accounting.h): bytes through read and write
// syscalls and their counts, and bytes that went to or from storage.
struct task_io_accounting {
    uint64_t rchar = 0, wchar = 0;       // bytes read and written by syscalls (from any file)
    uint64_t syscr = 0, syscw = 0;       // read and write syscalls
    uint64_t read_bytes = 0;             // bytes read from a backing store into the page cache
    uint64_t write_bytes = 0;            // bytes dirtied in a page cache that writes back
    uint64_t cancelled_write_bytes = 0;  // dirty bytes truncated before they were written
    void add(const task_io_accounting& o) {
        rchar += o.rchar, wchar += o.wchar, syscr += o.syscr, syscw += o.syscw;
        read_bytes += o.read_bytes, write_bytes += o.write_bytes, cancelled_write_bytes += o.cancelled_write_bytes;
    }
};

struct signal_struct {
    std::vector<task_struct*> thread_head;  // live threads, the leader first
    int nr_threads = 0;
    // ITIMER_REAL (CLOCK_MONOTONIC), ITIMER_VIRTUAL and ITIMER_PROF (CPU time), by `which`.
    std::array<itimer, 3> itimers{};
    // POSIX timers by id (posix_timers), and the id the next timer_create tries first.
    std::map<int, std::shared_ptr<k_itimer>> posix_timers;
    int next_posix_timer_id = 0;
    std::array<rlimit64, RLIM_NLIMITS> rlim{};
    int pgrp = 0, session = 0;
    tty_struct* tty = nullptr;  // the controlling terminal (the console's), if the session has it
    // SIGNAL_GROUP_EXIT: the group is dying with group_exit_code (a wait status).
    bool group_exit = false;
    int group_exit_code = 0;
    // Job control: stopped by a stop signal (group_stop), or continued since the last wait.
    bool stopped = false;
    int stop_signal = 0;
    bool stop_reported = true, continued = false;
    // A debugger keeps the process off the CPU while it resumes others (gdb's all-stop
    // with schedule-multiple off): its runnable threads wait in the run queue.
    bool ptrace_held = false;
    // Children's CPU time, reaped (cutime/cstime) and the rusage wait4 adds up.
    int64_t cutime_ns = 0, cstime_ns = 0;
    uint64_t cmin_flt = 0, cmaj_flt = 0, cnvcsw = 0, cnivcsw = 0, cmaxrss = 0;
    // What the group's exited threads used (__exit_signal adds them here).
    int64_t utime_ns = 0, stime_ns = 0;
    uint64_t min_flt = 0, maj_flt = 0, nvcsw = 0, nivcsw = 0, maxrss = 0;
    // prctl: PR_SET_CHILD_SUBREAPER, and whether an ancestor is one; PR_SET_DUMPABLE.
    bool is_child_subreaper = false, has_child_subreaper = false;
    int dumpable = 1;
    wait_queue_head wait_chldexit;  // the parent sleeps here in wait4
    // How the OOM killer weighs the process, -1000 (never) to 1000 (/proc/PID/oom_score_adj).
    short oom_score_adj = 0;
    short oom_score_adj_min = 0;  // the least an unprivileged write may set (CAP_SYS_RESOURCE's last value)
    // The I/O of its dead threads and of the reaped children (task_io_accounting_add at
    // __exit_signal and wait_task_zombie).
    task_io_accounting ioac;
};

// Task states (include/linux/sched.h).
enum : unsigned {
    TASK_RUNNING = 0x0,
    TASK_INTERRUPTIBLE = 0x1,
    TASK_UNINTERRUPTIBLE = 0x2,
    TASK_STOPPED = 0x4,
    EXIT_DEAD = 0x10,
    EXIT_ZOMBIE = 0x20,
    TASK_DEAD = 0x80,
};

// The task whose syscall runs now (current), or null outside any syscall (boot, unit tests'
// direct calls of kernel functions).
task_struct* get_current();
// Makes t current until the guard ends (syscall entry, a kernel stack's resume).
class CurrentTask {
public:
    explicit CurrentTask(task_struct* t);
    ~CurrentTask();
    CurrentTask(const CurrentTask&) = delete;
    CurrentTask& operator=(const CurrentTask&) = delete;

private:
    task_struct* prev_;
};

// Per-task flags (include/linux/sched.h PF_*), as /proc/PID/stat shows them.
enum : unsigned {
    PF_EXITING = 0x4,
    PF_FORKNOEXEC = 0x40,
    PF_SUPERPRIV = 0x100,
};

struct pid_ref;       // the task's pid as pidfds hold it (guestos/include/pid.h)
struct kernel_stack;  // the task's kernel stack while a syscall sleeps (kernel/sched/kstack.h)
struct task_struct;
// The task's state as /proc shows it: "R (running)", "S (sleeping)", "D (disk sleep)",
// "T (stopped)", "X (dead)" or "Z (zombie)" (fs/proc/array.c get_task_state).
const char* get_task_state(const task_struct& t);

struct task_struct {
    task_struct();
    ~task_struct();
    task_struct(const task_struct&) = delete;
    task_struct& operator=(const task_struct&) = delete;

    Kernel* kernel = nullptr;             // the machine the task runs on (for /proc's global files)
    task_io_accounting ioac;              // its own I/O (/proc/PID/task/TID/io)
    int pid = 1;                          // the thread id
    int tgid = 1;                         // the process id (the leader's pid)
    std::shared_ptr<pid_ref> thread_pid;  // made when a pidfd first names the task
    Abi abi = Abi::X86_64;
    // The address space, shared by CLONE_VM threads; mm->mm_users counts the tasks holding it.
    std::shared_ptr<mm_struct> mm;
    CpuOps* cpu = nullptr;
    std::string comm;                  // executable basename, 15 chars at most
    std::string exe_path;              // what readlink("/proc/self/exe") returns
    std::shared_ptr<inode> exe_inode;  // the executable (open/stat of its path, /proc/self/exe)

    // Family: the parent that gets SIGCHLD and waits (real_parent), the children, the leader.
    task_struct* real_parent = nullptr;
    std::vector<task_struct*> children;
    task_struct* group_leader = this;
    int exit_signal = 17;  // sent to the parent at exit: SIGCHLD, or -1 for a thread

    unsigned state = TASK_RUNNING;
    unsigned exit_state = 0;  // EXIT_ZOMBIE, EXIT_DEAD
    unsigned flags = 0;       // PF_*: forked and not yet exec'd, exiting
    bool on_rq = false;
    bool need_resched = false;
    std::unique_ptr<kernel_stack> kstack;  // held while a syscall sleeps
    int64_t sleep_until = 0;               // a sleep's timeout (CLOCK_MONOTONIC ns), 0: none
    const char* sleep_what = nullptr;      // what it sleeps in (for the deadlock note, /proc wchan)
    int64_t slice_end = 0;                 // when the timeslice ends
    uint64_t nvcsw = 0, nivcsw = 0;        // voluntary and involuntary context switches
    // CPU time (se.sum_exec_runtime: the monotonic time charged while the task held the CPU;
    // stime the part spent in its syscalls and faults) and page faults (min_flt, maj_flt).
    int64_t sum_exec_runtime = 0, stime_ns = 0;
    int64_t stime_charged = 0;  // how much of stime_ns the CPU's system time has had
    uint64_t min_flt = 0, maj_flt = 0;
    struct cred cred = init_cred();  // copied at fork (copy_creds), changed by set*id/capset/exec
    // Scheduling attributes (sched_setattr, setpriority): shown and inherited as Linux does;
    // emu's round-robin scheduler does not weigh them.
    int nice = 0;              // -20 .. 19
    unsigned policy = 0;       // SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE
    unsigned rt_priority = 0;  // 1 .. 99 for SCHED_FIFO and SCHED_RR
    bool sched_reset_on_fork = false;
    uint64_t dl_runtime = 0, dl_deadline = 0, dl_period = 0;  // SCHED_DEADLINE, ns
    int ioprio = -1;                                          // the io_context's ioprio; -1: the task has no io_context
    unsigned personality = 0;                                 // personality(2): PER_LINUX and its flags
    int pdeath_signal = 0;                                    // prctl(PR_SET_PDEATHSIG): sent when the parent exits
    bool no_new_privs = false;                                // prctl(PR_SET_NO_NEW_PRIVS)
    uint64_t cpus_mask = 0;                                   // sched_setaffinity's CPUs; 0: every CPU of the host
    int64_t start_time = 0;                                   // CLOCK_MONOTONIC at fork
    // The registers a new task starts with (a fork or clone child, or after execve); consumed
    // by the CPU when it first runs the task.
    std::optional<pt_regs> start_regs;
    wait_queue_head* vfork_done = nullptr;  // the vfork parent waits here until exec or exit
    bool vfork_released = true;
    // The engine context of the thread while another thread of its mm runs (emu/ owns it).
    std::shared_ptr<void> cpu_context;

    uint64_t set_child_tid = 0, clear_child_tid = 0;
    uint64_t robust_list = 0, robust_list_len = 0;
    uint64_t blocked = 0;                                            // signal mask
    uint64_t pending = 0;                                            // signals sent and not yet delivered
    std::array<std::deque<kernel_siginfo>, KERNEL_NSIG> sigqueue{};  // their siginfo, oldest first
    std::optional<uint64_t> saved_sigmask;  // rt_sigsuspend's mask to restore (set_restore_sigmask)
    // ptrace: the signal the task stopped for its tracer with (last_siginfo), and the one the
    // tracer resumes it with, delivered before the task runs on (ptrace_signal's answer).
    std::optional<kernel_siginfo> last_siginfo;
    std::optional<kernel_siginfo> ptrace_resume_signal;
    struct restart_block restart_block;
    trap_info thread;
    std::shared_ptr<sighand_struct> sighand;
    std::shared_ptr<signal_struct> signal;
    std::shared_ptr<files_struct> files;
    std::shared_ptr<fs_struct> fs;
    std::array<user_desc, GDT_ENTRY_TLS_ENTRIES> tls_array{};
    uint64_t sas_ss_sp = 0, sas_ss_size = 0;
    int sas_ss_flags = 2;  // SS_DISABLE

    // The task has run do_exit (it runs no more user code).
    bool exited = false;
    // The wait status (exit code << 8, or the terminating signal, | 0x80 for a core).
    int exit_code = 0;

    // Its task_struct in the task_struct cache: taken when memory is set up (the first task
    // predates the slab). Its fields change in too many places (the scheduler's state, exit,
    // exec, wait) to mark, so the return to user mode compares the image's values with what
    // it last wrote and writes those that differ (guestos/mm/slab_image.cpp).
    SlabObject slab;
    struct SlabWritten {
        PhysAddr object;  // the slab object written (another one: write it whole)
        std::array<uint64_t, 9> values{};
        std::string comm;
    };
    mutable SlabWritten slab_written;

    bool is_compat() const { return abi == Abi::I386; }
    bool thread_group_leader() const { return group_leader == this; }
    // The signal that ended the task, 0 if it exited (WTERMSIG of exit_code).
    int term_signal() const { return exit_code & 0x7f; }
    // Writes those of state, mm, active_mm, exit_state, exit_code, exit_signal, pid, tgid
    // and comm that changed since the last write.
    void sync_slab() const;
};

// What fork, vfork, clone and clone3 ask for (struct kernel_clone_args).
struct kernel_clone_args {
    uint64_t flags = 0;
    uint64_t exit_signal = 0;
    uint64_t stack = 0;  // the child's stack pointer, 0: the parent's
    uint64_t tls = 0;
    uint64_t parent_tid = 0, child_tid = 0;
    uint64_t pidfd = 0;  // CLONE_PIDFD: where the parent gets the child's pidfd (an int)
};
// What struct rusage reports of a thread, a process or its reaped children (getrusage).
struct task_rusage {
    int64_t utime_ns = 0, stime_ns = 0;
    uint64_t maxrss_kb = 0, min_flt = 0, maj_flt = 0, nvcsw = 0, nivcsw = 0;
};
enum class RusageWho { Self, Children, Thread, Both };
task_rusage k_getrusage(task_struct& t, RusageWho who);
// Writes a struct rusage (or i386's compat_rusage) at ru; true if ru is 0.
bool put_rusage(SysCtx& c, uint64_t ru, const task_rusage& r);
// An exiting thread's usage goes to its process (__exit_signal); a reaped child's to its
// parent's children totals (wait_task_zombie).
void account_exited_thread(task_struct& t);
void account_reaped_child(task_struct& parent, task_struct& child);

// Creates a task (copy_process + wake_up_new_task) and, for CLONE_VFORK, waits until it execs
// or exits: the child's pid or -errno.
long kernel_clone(SysCtx& c, const kernel_clone_args& args);
// A vfork child execs or exits: its parent goes on (mm_release's complete_vfork_done).
void mm_release_vfork(task_struct& t);
// Takes and drops a user of an address space; the last mmput tears it down (exit_mmap).
void mmget(mm_struct& mm);
void mmput(Kernel* k, mm_struct& mm);
// The task ends (do_exit): its mm, files and fs are dropped, children reparented, the
// parent notified; code is the wait status.
void do_exit(task_struct& t, int code);
// The whole thread group ends with wait status code (do_group_exit): the other threads get
// SIGKILL, then t exits.
void do_group_exit(task_struct& t, int code);

// exit_to_user_mode's part here (after a syscall or a page fault): rewrites the mm's slab
// image when it is marked dirty, and what changed in the task's and its open files' images
// (guestos/mm/slab_image.cpp).
void sync_task_slab_images(const task_struct& task);
// Checks the kernel objects of the task against their slab objects: the task, its mm, every
// VMA and open file hold one when the mm has caches; every VMA's, the mm's, the task's and
// each open file's image matches the object; each cache counts as many live objects as
// slabinfo shows active. Returns the problems found.
std::vector<std::string> check_slab_images(const task_struct& task);

}  // namespace guestos
