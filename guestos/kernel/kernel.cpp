// The OS layer's entry points: boot, task set-up, syscall dispatch and the page fault's entry
// (do_page_fault; the x86 handler itself is arch/x86/mm/fault.cpp).
#include "guestos/ipc/util.h"
#include "guestos/include/filelock.h"
#include "guestos/include/fsnotify.h"
#include "guestos/include/blkdev.h"
#include "guestos/include/kernel.h"
#include "guestos/include/writeback.h"
#include "guestos/arch/x86/entry/vdso/vma.h"

#include "guestos/mm/page_io.h"
#include "guestos/mm/swapfile.h"

#include <sys/personality.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>

#include "guestos/arch/x86/kernel/cpu/proc.h"
#include "guestos/drivers/base/devtmpfs.h"
#include "guestos/fs/ext2/ext2_fs.h"
#include "guestos/fs/hostfs/hostfs.h"
#include "guestos/fs/pathfs.h"
#include "guestos/fs/pipe.h"
#include "guestos/kernel/configs.h"
#include "guestos/include/mount.h"
#include "guestos/include/namei.h"
#include "guestos/trace/fault_trace.h"
#include "guestos/mm/vmscan.h"
#include "guestos/mm/filemap.h"
#include "guestos/drivers/char/mem.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/highmem.h"
#include "guestos/kernel/time/itimer.h"
#include "guestos/kernel/sched/kstack.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/fs/proc/meminfo.h"
#include "guestos/fs/proc/stat.h"
#include "guestos/include/dcache.h"
#include "guestos/mm/slab_object.h"
#include "guestos/mm/slub.h"
#include "guestos/mm/vmalloc.h"
#include "guestos/fs/proc/base.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/util.h"
#include "guestos/mm/page-writeback.h"
#include "guestos/fs/drop_caches.h"
#include "guestos/include/signal.h"
#include "guestos/arch/x86/entry/strace.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {
// Frames below this stay reserved, as the BIOS area is on a PC.
constexpr uint64_t RESERVED_LOW_FRAMES = 16;
}  // namespace

Kernel::Kernel(const KernelConfig& cfg) : cfg_(cfg) {
    clock_gettime(CLOCK_REALTIME, &mount_time_);
    idle_wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    wb_init(ktime_get());  // the flusher's periodic write counts from boot
}

void Kernel::idle_wake() {
    const uint64_t one = 1;
    if (idle_wake_fd_ >= 0 && ::write(idle_wake_fd_, &one, sizeof one) < 0) {
        // The counter is saturated: a wake-up is pending anyway.
    }
}

Kernel::~Kernel() {  // in reverse order of setup_memory
    if (idle_wake_fd_ >= 0) ::close(idle_wake_fd_);
    if (ns_) ns_->clear();  // what the guest wrote reaches the host's files and the disk
    blk_mq_wait_all();      // and every request in flight completes while the pages exist
    swap_reset_all();
    swap_kernel_mem() = {};
    release_all_page_caches();
    if (buddy_) buddy_->set_highmem(nullptr);
    highmem_.reset();
    vmalloc_.reset();
    kpt_.reset();
    caches_.reset();
    slab_.reset();
    if (vdso_) release_vdso(*vdso_);
    buddy_.reset();
}

void Kernel::umount_all() {
    if (ns_) ns_->umount_all();
    blk_mq_wait_all();  // nothing stays in flight past the last unmount
}

mmu::ErrorOr<void> Kernel::boot() {
    if (cfg_.ram_bytes < (4ull << 20)) return mmu::Error::from_errno(EINVAL, "--ram must be at least 4M");
    ram_ = TRY(mmu::PhysMemory::create(cfg_.ram_bytes));
    if (!cfg_.root_image.empty()) {
        auto root = ext2_mount(cfg_.root_image, cfg_.root_read_only, [this] { return kmem(); });
        if (root.is_error()) return mmu::Error::from_errno(root.error().errno_value, "--disk " + root.error().message);
        root_ = root.release_value();
    }
    for (const std::string& f : cfg_.swap_files) {  // sys_swapon of each --swap file
        auto type = swapon_file(f, cfg_.i386_paging);
        if (type.is_error()) return mmu::Error::from_errno(type.error().errno_value, "--swap " + type.error().message);
    }
    for (const auto& m : cfg_.host_mounts) {
        struct stat st;
        if (::stat(m.host.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return mmu::Error::from_errno(ENOTDIR, "--mount " + m.host + ": not a directory");
        if (m.guest.empty() || m.guest[0] != '/')
            return mmu::Error::from_errno(EINVAL,
                                          "--mount " + m.host + ":" + m.guest + ": the guest path must be absolute");
    }
    return {};
}

namespace {

// The directory abs names from the namespace's root, made in the dcache when missing
// (a mount point emu adds, as a container runtime does): the place to mount on.
path kern_mountpoint(mnt_namespace& ns, task_struct& task, const std::string& abs, bool create = true) {
    static const inode_operations placeholder_iops;
    path p{ns.root(), ns.root()->mnt_root};
    size_t i = 0;
    while (i < abs.size()) {
        size_t j = abs.find('/', i);
        if (j == std::string::npos) j = abs.size();
        const std::string name = abs.substr(i, j - i);
        i = j + 1;
        if (name.empty() || name == ".") continue;
        while (vfsmount* m = ns.lookup_mnt(p)) p = {m, m->mnt_root};
        dentry& dir = *p.dentry;
        std::shared_ptr<dentry> d = d_lookup(dir, name);
        if (!d) {
            d = d_alloc(dir, name);
            if (dir.d_inode->i_op->lookup(*dir.d_inode, *d, task) != 0) d->d_inode.reset();
        }
        if (!d->d_inode || !S_ISDIR(d->d_inode->i_mode)) {
            if (!create) return {ns.root(), ns.root()->mnt_root};
            auto ino = std::make_shared<inode>();
            ino->i_mode = S_IFDIR | 0755;
            ino->i_nlink = 2;
            ino->i_dev = dir.d_inode->i_dev;
            ino->i_sb = dir.d_inode->i_sb;
            ino->i_op = &placeholder_iops;
            ino->i_ctime = ino->i_mtime = ino->i_atime = dir.d_inode->i_mtime;
            d->d_inode = ino;
        }
        p.dentry = d;
    }
    while (vfsmount* m = ns.lookup_mnt(p)) p = {m, m->mnt_root};
    return p;
}

}  // namespace

void Kernel::init_mount_tree(task_struct& task) {
    ns_ = std::make_unique<mnt_namespace>();
    auto km = [this] { return kmem(); };
    if (root_) {
        ns_->mount_root(root_, MNT_RELATIME, "/dev/root");
    } else {
        std::shared_ptr<super_block> host;
        if (hostfs_fill_super("/", cfg_.host_ro, km, host) == 0) {
            ns_->mount_root(host, MNT_RELATIME, "/");
        } else {  // no host root to show: an empty tmpfs
            ns_->mount_root(shmem_fill_super(km, makedev(0, 2), {0, 0, 0755}), MNT_RELATIME, "rootfs");
        }
    }
    ns_->do_add_mount(pathfs_fill_super(proc_path_ops(), "proc", 0x9fa0, makedev(0, 0x15), true, false, &task),
                      kern_mountpoint(*ns_, task, "/proc"), MNT_RELATIME, "proc");
    if (!devtmpfs_) devtmpfs_ = std::make_unique<Devtmpfs>(km);
    ns_->do_add_mount(devtmpfs_->sb(), kern_mountpoint(*ns_, task, "/dev"), MNT_RELATIME, "devtmpfs");
    // The tmpfs mounts a Debian system has (each with an anonymous device number; /tmp
    // without nodev, as a /tmp on the root filesystem has it, so device nodes made there open), except
    // over the host directory emu was started in (no disk): the guest must see where it
    // starts, as under qemu-user, so a working directory inside /tmp keeps the host's /tmp.
    char cwd[4096];
    const bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
    auto cwd_under = [&](const std::string& dir) {
        const std::string c = have_cwd ? cwd : "";
        return !root_ && c.compare(0, dir.size(), dir) == 0 && (c.size() == dir.size() || c[dir.size()] == '/');
    };
    if (!cwd_under("/dev/shm"))
        ns_->do_add_mount(shmem_fill_super(km, makedev(0, 0x19), {}), kern_mountpoint(*ns_, task, "/dev/shm"),
                          MNT_NOSUID | MNT_NODEV | MNT_RELATIME, "tmpfs");
    if (!cwd_under("/tmp"))
        ns_->do_add_mount(shmem_fill_super(km, makedev(0, 0x1a), {}), kern_mountpoint(*ns_, task, "/tmp"),
                          MNT_NOSUID | MNT_RELATIME, "tmpfs");
    for (const auto& m : cfg_.host_mounts) {
        std::shared_ptr<super_block> sb;
        if (hostfs_fill_super(m.host, m.read_only, km, sb) == 0)
            ns_->do_add_mount(sb, kern_mountpoint(*ns_, task, m.guest), MNT_RELATIME, m.host);
    }
    // The guest starts at the root of its disk; without one, where emu was started.
    task.fs->root = {ns_->root(), ns_->root()->mnt_root};
    task.fs->pwd = task.fs->root;
    if (!root_ && have_cwd) {
        task.fs->pwd = kern_mountpoint(*ns_, task, cwd, false);
        if (task.fs->pwd == task.fs->root && std::string(cwd) != "/")
            std::fprintf(stderr,
                         "emu: the working directory %s is hidden by the guest's own mounts (/tmp, "
                         "/dev/shm, /proc, /dev); the guest starts at /\n",
                         cwd);
    }
}

mmu::ErrorOr<void> Kernel::setup_memory(Abi abi) {
    BuddyConfig bc;
    bc.arch = abi == Abi::X86_64 ? KernelArch::X86_64 : KernelArch::I386;
    bc.lowmem_limit_bytes = cfg_.lowmem_bytes;
    bc.reserved_low_frames = RESERVED_LOW_FRAMES;
    buddy_ = std::make_unique<BuddyAllocator>(*ram_, bc);
    page_alloc_ = buddy_.get();
    // The shared zero page (ZERO_PAGE): reserved, so no mapping ever frees or writes it.
    auto zero = buddy_->alloc_page(GFP_KERNEL | __GFP_ZERO);
    if (!zero) return mmu::Error::from_errno(ENOMEM, "no RAM for the zero page (--ram too small)");
    buddy_->mark_page_reserved(*zero);
    init_overcommit_reserves(*buddy_);
    zero_page_ = *zero;
    vdso_ = std::make_unique<vdso_pages>();  // init_vdso: the images' text and the [vvar] page
    TRY(init_vdso(*buddy_, *ram_, abi == Abi::X86_64, zero_page_, *vdso_));
    slab_ = std::make_unique<SlabAllocator>(*buddy_);
    caches_ = TRY(KernelCaches::create(*slab_));
    set_vfs_caches(caches_.get());  // dentries and inodes take objects from now on
    vfs_caches_bootstrap();         // and those of the boot mounts take theirs
    auto kpt = KernelPageTable::create(*buddy_, cfg_.i386_paging);
    if (kpt.is_error())
        return mmu::Error::from_errno(ENOMEM, "no RAM for the kernel page tables: " + kpt.error().message);
    kpt_ = kpt.release_value();
    vmalloc_ = std::make_unique<Vmalloc>(*kpt_, *buddy_);
    highmem_ = std::make_unique<Highmem>(*kpt_, *buddy_);
    buddy_->set_highmem(highmem_.get());  // __GFP_ZERO now clears through kernel mappings
    setup_reclaim(*buddy_);               // kswapd wake-ups and direct reclaim
    swap_kernel_mem() = kmem();           // swap I/O reaches frames as the kernel does
    sysctl_init();
    return {};
}

void Kernel::sysctl_init() {
    vm_sysctl_init(sysctl_, *buddy_);
    uts_sysctl_init(sysctl_, utsname());
    kernel_sysctl_init(sysctl_, pid_max_, buddy_->totalram_pages());
    util_sysctl_init(sysctl_, *buddy_);
    page_writeback_sysctl_init(sysctl_);
    drop_caches_sysctl_init(sysctl_, *slab_);
    dcache_sysctl_init(sysctl_);
    inotify_sysctl_init(sysctl_, buddy_->totalram_pages());
    mq_sysctl_init(sysctl_, ipc_ns());
    ipc_sysctl_init(sysctl_, ipc_ns());
    pipe_sysctl_init(sysctl_);
    locks_sysctl_init(sysctl_);
    random_sysctl_init(sysctl_);
}

mmu::ErrorOr<void> Kernel::slab_bootstrap(task_struct& task) {
    if (!task.slab.backed() && !task.slab.alloc(caches_->task_struct_cachep))
        return mmu::Error::from_errno(ENOMEM, "out of emulated RAM for the task_struct");
    for (const auto& f : task.files->fd)
        if (f && !f->slab.backed() && !f->slab.alloc(caches_->filp_cachep))
            return mmu::Error::from_errno(ENOMEM, "out of emulated RAM for open files");
    return {};
}

kernel_mem Kernel::kmem() const { return kernel_mem{ram_.get(), page_alloc_, kpt_.get(), highmem_.get()}; }

namespace {
// /proc/version (version_proc_show): linux_proc_banner with the names uname reports.
std::string proc_version(const new_utsname& u) {
    return std::string(u.sysname) + " version " + u.release + " (emu@emu) (emu) " + u.version + "\n";
}
}  // namespace

std::optional<std::string> Kernel::proc_global(const std::string& entry) const {
    if (!buddy_) return std::nullopt;
    ProcSources src{*buddy_, slab_.get(), kpt_.get(), vmalloc_.get()};
    src.swap_total_pages = total_swap_pages();
    src.swap_free_pages = get_nr_swap_pages();
    if (entry == "cpuinfo") return show_cpuinfo();
    if (entry == "swaps") return proc_swaps();
    if (entry == "meminfo") return proc_meminfo(src);
    if (entry == "buddyinfo") return proc_buddyinfo(*buddy_);
    if (entry == "zoneinfo") return proc_zoneinfo(src);
    if (entry == "slabinfo") return proc_slabinfo(*slab_);
    if (entry == "vmstat") return proc_vmstat(src);
    if (entry == "loadavg") return proc_loadavg();
    if (entry == "diskstats") return diskstats_show();
    if (entry == "locks") return locks_show();
    if (entry == "config.gz") return ikconfig_gz(const_cast<Kernel&>(*this).utsname().release);
    Kernel& k = const_cast<Kernel&>(*this);  // reading the IPC objects changes none of them
    if (entry == "sysvipc/shm") return sysvipc_shm_proc_show(k.ipc_ns());
    if (entry == "sysvipc/msg") return sysvipc_msg_proc_show(k.ipc_ns());
    if (entry == "sysvipc/sem") return sysvipc_sem_proc_show(k.ipc_ns());
    if (entry == "stat") return show_stat(const_cast<Kernel&>(*this));
    if (entry == "uptime") return uptime_proc_show(const_cast<Kernel&>(*this));
    if (entry == "version") return proc_version(k.utsname());
    return std::nullopt;
}

// /proc/loadavg (loadavg_proc_show): the three averages, running/all tasks, the last pid.
std::string Kernel::proc_loadavg() const {
    Kernel& k = const_cast<Kernel&>(*this);  // bringing avenrun up to date changes nothing shown elsewhere
    uint64_t a[3];
    get_avenrun(k, a, (1u << FSHIFT) / 200, 0);
    unsigned running = 0, threads = 0;
    for (task_struct* t : k.all_tasks()) {
        if (t->exited) continue;
        ++threads;
        if (t->state == TASK_RUNNING) ++running;
    }
    char buf[128];
    auto frac = [](uint64_t x) { return ((x & ((1u << FSHIFT) - 1)) * 100) >> FSHIFT; };
    std::snprintf(buf, sizeof buf, "%lu.%02lu %lu.%02lu %lu.%02lu %u/%u %d\n", (unsigned long)(a[0] >> FSHIFT),
                  (unsigned long)frac(a[0]), (unsigned long)(a[1] >> FSHIFT), (unsigned long)frac(a[1]),
                  (unsigned long)(a[2] >> FSHIFT), (unsigned long)frac(a[2]), running, threads, last_pid_);
    return buf;
}

std::string Kernel::allocator_stats() const {
    if (!buddy_) return {};
    ProcSources src{*buddy_, slab_.get(), kpt_.get(), vmalloc_.get()};
    src.highmem = highmem_.get();
    return guestos::allocator_stats(src);
}

// The first task's nice, policy and personality are emu's own, as a native run inherits
// them from the shell (nice -n 5 ctest: nice 5).
static void init_task_sched(task_struct& task) {
    errno = 0;
    const int nice = ::getpriority(PRIO_PROCESS, 0);
    if (!errno) task.nice = nice;
    const int policy = ::sched_getscheduler(0);
    if (policy >= 0) {
        task.policy = static_cast<unsigned>(policy) & ~0x40000000u;  // SCHED_RESET_ON_FORK
        task.sched_reset_on_fork = policy & 0x40000000;
        struct sched_param sp {};
        if (::sched_getparam(0, &sp) == 0) task.rt_priority = static_cast<unsigned>(sp.sched_priority);
    }
    const int persona = ::personality(0xffffffff);
    if (persona >= 0) task.personality = static_cast<unsigned>(persona);
}

namespace {

// The host's /proc/self/oom_score_adj, if it reads as a number.
std::optional<short> read_host_oom_score_adj() {
    std::FILE* f = std::fopen("/proc/self/oom_score_adj", "r");
    int v = 0;
    const bool ok = f && std::fscanf(f, "%d", &v) == 1 && v >= -1000 && v <= 1000;
    if (f) std::fclose(f);
    return ok ? std::optional<short>(static_cast<short>(v)) : std::nullopt;
}

}  // namespace

void Kernel::init_task(task_struct& task) {
    task.kernel = this;
    task.pid = task.tgid = alloc_pid();  // 2: emu's init is pid 1
    init_tgid = task.tgid;
    // The group and session emu itself has, seen from the guest's pid namespace: its own if
    // emu leads them, else those of emu's init (1), or none (0) when the host's session leader
    // is outside emu's pid namespace; so getpgrp, getsid and setsid answer as natively.
    const pid_t host_pid = ::getpid(), host_sid = ::getsid(0);
    task.signal->pgrp = ::getpgrp() == host_pid ? task.tgid : 1;
    task.signal->session = host_sid == host_pid ? task.tgid : host_sid > 0 ? 1 : 0;
    if (!ns_) init_mount_tree(task);
    init_console_files(task);
    // emu's controlling terminal (the host's tty_nr) is the first program's, its group in
    // the foreground.
    if (const uint64_t rdev = host_controlling_tty()) {
        console_tty_.rdev = rdev;
        proc_set_tty(task, console_tty_);
    }
    for (int r = 0; r < RLIM_NLIMITS; ++r) {
        struct rlimit hl;
        if (::getrlimit(r, &hl) == 0)
            task.signal->rlim[r] = rlimit64{hl.rlim_cur == RLIM_INFINITY ? ~0ull : hl.rlim_cur,
                                            hl.rlim_max == RLIM_INFINITY ? ~0ull : hl.rlim_max};
    }
    task.signal->rlim[RLIMIT_STACK_].rlim_cur = 8ull << 20;  // the stack emu gives every guest
    // emu's own OOM weight, as fork would pass it on (its minimum is taken to be the same:
    // what a privileged writer leaves).
    if (const auto adj = read_host_oom_score_adj()) task.signal->oom_score_adj = task.signal->oom_score_adj_min = *adj;
    init_task_sched(task);
    task.start_time = ktime_get();
    attach_pid(task);
}

int Kernel::alloc_pid() {
    // The next free pid after the last one below pid_max, wrapping to RESERVED_PIDS
    // (alloc_pid's idr_alloc_cyclic); -EAGAIN when every pid in that range is in use.
    const int max = pid_max_;
    for (int tried = 0; tried < max; ++tried) {
        last_pid_ = last_pid_ + 1 >= max ? RESERVED_PIDS : last_pid_ + 1;
        if (!pid_table_.count(last_pid_)) return last_pid_;
    }
    return -EAGAIN;
}

void Kernel::attach_pid(task_struct& t) {
    t.kernel = this;
    pid_table_[t.pid] = &t;
}

task_struct& Kernel::attach_task(std::unique_ptr<task_struct> t) {
    task_struct& ref = *t;
    owned_tasks_[&ref] = std::move(t);
    attach_pid(ref);
    return ref;
}

void Kernel::detach_pid(task_struct& t) {
    auto it = pid_table_.find(t.pid);
    if (it != pid_table_.end() && it->second == &t) pid_table_.erase(it);
    dequeue_task(t);
    auto own = owned_tasks_.find(&t);
    if (own == owned_tasks_.end()) return;
    dead_tasks_.push_back(std::move(own->second));
    owned_tasks_.erase(own);
}

void Kernel::reap_dead_tasks() { dead_tasks_.clear(); }

task_struct* Kernel::find_task_by_vpid(int pid) const {
    auto it = pid_table_.find(pid);
    return it == pid_table_.end() ? nullptr : it->second;
}

std::vector<task_struct*> Kernel::all_tasks() const {
    std::vector<task_struct*> v;
    v.reserve(pid_table_.size());
    for (const auto& [pid, t] : pid_table_) v.push_back(t);
    return v;
}

ipc_namespace& Kernel::ipc_ns() {
    if (!ipc_ns_) ipc_ns_ = std::make_shared<ipc_namespace>();
    return *ipc_ns_;
}

void Kernel::tick_program_event() {
    if (clockevent_) clockevent_->set_next_event(next_timer_event(*this));
}

bool put_user_long(SysCtx& c, VirtAddr va, uint64_t v) { return copy_to_user(c.mm, va, &v, c.ptr_size()); }

SyscallFn syscall_impl(Sys sys) {
    static const SyscallFn table[] = {
#define EMU_SYS_FN(name) &sys_##name,
        EMU_SYSCALLS(EMU_SYS_FN)
#undef EMU_SYS_FN
    };
    const auto i = static_cast<size_t>(sys);
    return i < std::size(table) ? table[i] : nullptr;
}

void Kernel::report_unknown_syscall(task_struct& task, uint64_t nr) {
    if (!cfg_.strace || std::find(reported_unknown_.begin(), reported_unknown_.end(), nr) != reported_unknown_.end())
        return;
    reported_unknown_.push_back(nr);
    std::fprintf(cfg_.strace_out, "emu: unimplemented %s syscall %llu returns ENOSYS\n",
                 task.is_compat() ? "i386" : "x86-64", static_cast<unsigned long long>(nr));
}

bool Kernel::syscall_from_user(task_struct& task, uint64_t nr, const uint64_t args_in[6], long& ret) {
    std::array<uint64_t, 6> args;
    std::copy(args_in, args_in + 6, args.begin());
    return kstack_run(
        task, [this, &task, nr, args] { return syscall(task, nr, args.data()); }, ret);
}

bool Kernel::syscall_resume(task_struct& task, long& ret) { return kstack_resume(task, ret); }

namespace {
// Charges the time of a syscall or fault as system time, unless the task slept in it (the
// time then went to others): the stime half of the task's CPU time. It is on the clock
// sum_exec_runtime is charged on (account_curr: the monotonic clock while the task holds the
// CPU), so it never exceeds the time charged and user time grows with user work.
class SystemTime {
public:
    explicit SystemTime(task_struct& t) : t_(t), start_(ktime_get()), switches_(t.nvcsw + t.nivcsw) {}
    ~SystemTime() {
        if (t_.nvcsw + t_.nivcsw != switches_) return;
        t_.stime_ns += ktime_get() - start_;
    }

private:
    task_struct& t_;
    ktime_t start_;
    uint64_t switches_;
};
}  // namespace

long Kernel::syscall(task_struct& task, uint64_t nr, const uint64_t args_in[6]) {
    run_kswapd();
    // Timers that came due while the guest computed have fired by now, as Linux's interrupt
    // would have fired them: a timerfd or POSIX timer read sees their expiry.
    hrtimer_run_queues(*this);
    ++stats.syscalls;
    const std::shared_ptr<mm_struct> mm_ref = task.mm;  // the mm outlives an exit or exec inside
    uint64_t args[6];
    for (int i = 0; i < 6; ++i) args[i] = task.is_compat() ? (args_in[i] & 0xffffffffu) : args_in[i];
    SysCtx ctx{*this, task, *task.mm, task.is_compat()};
    const CurrentTask cur(&task);
    const SyscallEntry* e = lookup_syscall(task.abi, nr);
    long ret = -ENOSYS;
    const SystemTime st(task);
    if (e) ret = syscall_impl(e->sys)(ctx, args);
    else report_unknown_syscall(task, nr);
    // A timer that came due during the call has its signal delivered on the way out.
    if (!task.exited) run_itimers(task);
    hrtimer_run_queues(*this);
    if (cfg_.strace) {
        strace_syscall(cfg_.strace_out, ctx, e, nr, args, ret);
        if (task.exited) strace_exit(cfg_.strace_out, task);
    }
    sync_task_slab_images(task);  // exit_to_user_mode
    return ret;
}

void Kernel::run_kswapd() {
    if (buddy_ && buddy_->NODE_DATA().kswapd_wait) kswapd(*buddy_);
    if (!buddy_) return;
    const ktime_t now = ktime_get();
    blk_mq_complete_due(now);       // completions that came due while the guest ran
    (void)wb_workfn(*buddy_, now);  // the flusher's delayed work, when due
}

FaultOutcome Kernel::do_page_fault(task_struct& task, VirtAddr address, uint32_t error_code) {
    run_kswapd();
    const SystemTime st(task);
    const uint64_t majors = stats.pgmajfault;
    const FaultOutcome r = do_user_addr_fault(task, address, error_code);
    if (stats.pgmajfault != majors) ++task.maj_flt;  // mm_account_fault
    else if (!r.signo) ++task.min_flt;
    sync_task_slab_images(task);  // exit_to_user_mode: what the fault changed (the mm's counters)
    return r;
}

}  // namespace guestos
