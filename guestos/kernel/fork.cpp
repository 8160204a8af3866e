// The OS's objects from their slab caches (kernel/fork.c: mm_alloc, vm_area_alloc,
// vm_area_dup) and dup_mmap; their images are written by guestos/mm/slab_image.cpp.
#include "guestos/include/swapops.h"
#include "guestos/mm/swapfile.h"
#include "guestos/trace/fault_trace.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/rmap.h"
#include "guestos/include/sched.h"
#include "guestos/include/kernel.h"
#include "guestos/include/ptrace.h"
#include "guestos/include/pid.h"
#include "guestos/include/signal.h"
#include "guestos/include/sysctl.h"
#include "guestos/include/syscalls.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/arch/x86/kernel/tls.h"
#include "guestos/kernel/sched/kstack.h"
#include "guestos/mm/mmap.h"
#include "guestos/mm/util.h"

#include <unistd.h>

#include <algorithm>

namespace guestos {

std::unique_ptr<mm_struct> mm_alloc(KernelCaches* caches) {
    auto mm = std::make_unique<mm_struct>();
    mm->caches = caches;
    if (!mm->slab.alloc(caches ? caches->mm_cachep : nullptr)) return nullptr;
    return mm;
}

std::unique_ptr<vm_area_struct> vm_area_alloc(mm_struct& mm) {
    auto vma = std::make_unique<vm_area_struct>();
    vma->vm_mm = &mm;
    if (!vma->slab.alloc(mm.caches ? mm.caches->vm_area_cachep : nullptr)) return nullptr;
    return vma;
}

std::unique_ptr<vm_area_struct> vm_area_dup(const vm_area_struct& vma) {
    auto copy = std::make_unique<vm_area_struct>(vma);  // SlabObject's copy: a new object, same bytes
    if (copy->slab.failed()) return nullptr;
    return copy;
}

namespace {

// Copies the PTEs of one VMA from parent to child (copy_pte_range / copy_present_pte): the
// child takes a reference and a mapping of each page; a private writable PTE is made
// read-only in both (the COW that do_wp_page breaks).
bool copy_page_range(mm_struct& child, mm_struct& parent, const vm_area_struct& vma) {
    const bool cow = !(vma.vm_flags & VM_SHARED) && (vma.vm_flags & VM_MAYWRITE);
    bool write_protected = false;
    for (uint64_t va = vma.vm_start.value; va < vma.vm_end.value; va += PAGE_SIZE) {
        pte_t pte = get_pte(parent, VirtAddr(va));
        if (pte_none(pte)) continue;
        if (is_swap_pte(pte)) {  // copy_nonpresent_pte: the child holds the slot too
            if (!swap_duplicate(pte_to_swp_entry(parent.paging_mode, pte))) continue;
            if (!set_pte_at(child, VirtAddr(va), pte)) {
                swap_free(pte_to_swp_entry(parent.paging_mode, pte));
                return false;
            }
            ++child.swapents;
            mmlist_add(child);
            continue;
        }
        if (cow && pte_write(pte)) {  // ptep_set_wrprotect in the parent too
            pte = pte_wrprotect(pte);
            if (!set_pte_at(parent, VirtAddr(va), pte)) return false;
            write_protected = true;
        }
        if (!set_pte_at(child, VirtAddr(va), pte)) return false;
        page& p = parent.page_alloc->phys_to_page(pte_phys(pte));
        if (p.flags & PG_reserved) continue;  // the zero page: no references counted
        ++p._refcount;                        // get_page + page_dup_rmap
        ++p._mapcount;
        if (p.use == PageUse::Anon) ++child.rss_anon;
        else if (p.flags & PG_swapbacked) ++child.rss_shmem;
        else ++child.rss_file;
    }
    if (write_protected && parent.tlb) parent.tlb->flush_tlb_range(vma.vm_start, vma.vm_end);
    return true;
}

}  // namespace

long dup_mmap(mm_struct& child, mm_struct& parent) {
    child.start_code = parent.start_code;
    child.end_code = parent.end_code;
    child.start_data = parent.start_data;
    child.end_data = parent.end_data;
    child.start_brk = parent.start_brk;
    child.brk = parent.brk;
    child.start_stack = parent.start_stack;
    child.arg_start = parent.arg_start;
    child.arg_end = parent.arg_end;
    child.env_start = parent.env_start;
    child.env_end = parent.env_end;
    child.saved_auxv = parent.saved_auxv;
    child.context_vdso = parent.context_vdso;
    child.mmap_base = parent.mmap_base;
    child.task_size = parent.task_size;
    child.def_flags = parent.def_flags;
    child.total_vm = parent.total_vm;
    child.stack_vm = parent.stack_vm;
    child.exec_vm = parent.exec_vm;
    child.data_vm = parent.data_vm;
    child.locked_vm = parent.locked_vm;
    child.hiwater_vm = parent.hiwater_vm;
    for (const vm_area_struct& pvma : parent.mm_rb) {
        // The child's copy of a private writable mapping is a commitment of its own.
        const long charge = (pvma.vm_flags & VM_ACCOUNT) ? static_cast<long>(pvma.size() >> PAGE_SHIFT) : 0;
        if (charge && security_vm_enough_memory_mm(parent, charge)) return -ENOMEM;
        auto tmp = vm_area_dup(pvma);  // anon_vma_clone and the file's i_mmap come with it
        if (!tmp) {
            vm_unacct_memory(parent, charge);
            return -ENOMEM;
        }
        tmp->vm_mm = &child;
        tmp->vm_flags &= ~VM_LOCKED;  // mlock is not inherited (VM_LOCKED_MASK)
        if (!anon_vma_fork(*tmp, pvma)) {
            vm_unacct_memory(parent, charge);
            return -ENOMEM;
        }
        vm_area_struct* v = child.mm_rb.insert(std::move(tmp));
        child.map_count = static_cast<int>(child.mm_rb.size());
        if (!copy_page_range(child, parent, *v)) return -ENOMEM;
    }
    child.locked_vm = 0;
    child.hiwater_rss = child.rss();
    return 0;
}

}  // namespace guestos

// Processes and threads (kernel/fork.c): task_struct set-up, copy_process and the clone family.

namespace guestos {

task_struct::task_struct()
    : sighand(std::make_shared<sighand_struct>()),
      signal(std::make_shared<signal_struct>()),
      files(std::make_shared<files_struct>()),
      fs(std::make_shared<fs_struct>()) {
    signal->thread_head.push_back(this);
    signal->nr_threads = 1;
}

task_struct::~task_struct() {
    auto& th = signal->thread_head;
    th.erase(std::remove(th.begin(), th.end(), this), th.end());
}

void mmget(mm_struct& mm) {
    ++mm.mm_users;
    mm.mark_slab_dirty();
}

void mmput(Kernel* k, mm_struct& mm) {
    mm.mark_slab_dirty();
    if (--mm.mm_users > 0) return;
    if (k) {
        k->exit_mm_hook(mm);
        k->stats.cow_breaks += mm.cow_breaks;
        k->stats.zero_page_maps += mm.zero_page_maps;
    }
    exit_mmap(mm);
}

namespace {

enum : uint64_t {
    CSIGNAL_ = 0xff,
    CLONE_VM_ = 0x100,
    CLONE_FS_ = 0x200,
    CLONE_FILES_ = 0x400,
    CLONE_SIGHAND_ = 0x800,
    CLONE_PIDFD_ = 0x1000,
    CLONE_PTRACE_ = 0x2000,
    CLONE_VFORK_ = 0x4000,
    CLONE_PARENT_ = 0x8000,
    CLONE_THREAD_ = 0x10000,
    CLONE_NEWNS_ = 0x20000,
    CLONE_SYSVSEM_ = 0x40000,
    CLONE_SETTLS_ = 0x80000,
    CLONE_PARENT_SETTID_ = 0x100000,
    CLONE_CHILD_CLEARTID_ = 0x200000,
    CLONE_DETACHED_ = 0x400000,
    CLONE_UNTRACED_ = 0x800000,
    CLONE_CHILD_SETTID_ = 0x01000000,
    CLONE_IO_ = 0x80000000ull,
    CLONE_NEWUTS_ = 0x04000000,
    CLONE_NEWIPC_ = 0x08000000,
    CLONE_NEWUSER_ = 0x10000000,
    CLONE_NEWPID_ = 0x20000000,
    CLONE_NEWNET_ = 0x40000000,
    CLONE_NEWCGROUP_ = 0x02000000,
    CLONE_NEWTIME_ = 0x80,
    CLONE_CLEAR_SIGHAND_ = 0x100000000ull,
    CLONE_INTO_CGROUP_ = 0x200000000ull,
};
constexpr uint64_t CLONE_NEW_ANY_ =
    CLONE_NEWNS_ | CLONE_NEWUTS_ | CLONE_NEWIPC_ | CLONE_NEWUSER_ | CLONE_NEWPID_ | CLONE_NEWNET_ | CLONE_NEWCGROUP_;

// A fresh address space with fork's copy of the parent's (dup_mm); null when RAM runs out.
std::shared_ptr<mm_struct> dup_mm(mm_struct& old) {
    std::shared_ptr<mm_struct> mm(mm_alloc(old.caches).release());
    if (!mm) return nullptr;
    mm->ram = old.ram;
    mm->page_alloc = old.page_alloc;
    mm->zero_page = old.zero_page;
    mm->kpt = old.kpt;
    mm->highmem = old.highmem;
    mm->paging_mode = old.paging_mode;
    mm->stack_rlimit = old.stack_rlimit;
    mm->membarrier_state = old.membarrier_state;        // registrations survive fork, not exec
    mm->pkey_allocation_map = old.pkey_allocation_map;  // dup_mm copies mm->context
    mm->execute_only_pkey = old.execute_only_pkey;
    mm->context_ldt = old.context_ldt;  // ldt_dup_context
    if (!pgd_alloc(*mm)) return nullptr;
    if (dup_mmap(*mm, old) < 0) {
        exit_mmap(*mm);
        return nullptr;
    }
    return mm;
}

// The tasks whose real uid is uid (the user's ucounts of RLIMIT_NPROC).
uint64_t nr_processes_of(Kernel& k, uint32_t uid) {
    uint64_t n = 0;
    for (const task_struct* t : k.all_tasks()) n += t->cred.uid == uid;
    return n;
}

// Linux's max_threads: RAM / (8 * THREAD_SIZE), THREAD_SIZE 16 KiB (set_max_threads).
uint64_t max_threads(Kernel& k) {
    return std::max<uint64_t>(20, k.page_alloc().totalram_pages() * PAGE_SIZE / (8 * 16384));
}

// The registers the child starts with: the parent's at the syscall's return, with 0 in ax
// (copy_thread), a new stack and TLS when asked.
long copy_thread(SysCtx& c, task_struct& p, const kernel_clone_args& args) {
    pt_regs regs;
    c.task.cpu->get_regs(regs);
    regs.ax = 0;
    regs.orig_ax = ~0ull;
    if (args.stack) regs.sp = args.stack;
    if (args.flags & CLONE_SETTLS_) {
        if (!c.compat) regs.fs_base = args.tls;
        else if (long e = do_set_thread_area(p, c.mm, VirtAddr(args.tls), false)) return e;
    }
    p.start_regs = regs;
    return 0;
}

// The child's fd table, fs, handlers and signal state: shared or copied by the flags.
void copy_shared_state(task_struct& cur, task_struct& p, uint64_t flags) {
    p.files = (flags & CLONE_FILES_) ? cur.files : std::make_shared<files_struct>(*cur.files);
    p.fs = (flags & CLONE_FS_) ? cur.fs : std::make_shared<fs_struct>(*cur.fs);
    p.sighand = (flags & CLONE_SIGHAND_) ? cur.sighand : std::make_shared<sighand_struct>(*cur.sighand);
    if (flags & CLONE_CLEAR_SIGHAND_)  // copy_sighand: caught signals back to SIG_DFL, ignored ones stay
        for (k_sigaction& ka : p.sighand->action) {
            if (ka.handler != 1) ka.handler = 0;
            ka.flags = 0;
            ka.mask = 0;
            ka.restorer = 0;
        }
    if (flags & CLONE_THREAD_) {
        p.signal->thread_head.clear();  // the constructor's own group
        p.signal = cur.signal;
        p.signal->thread_head.push_back(&p);
        ++p.signal->nr_threads;
    } else {
        p.signal->rlim = cur.signal->rlim;
        p.signal->pgrp = cur.signal->pgrp;
        p.signal->session = cur.signal->session;
        p.signal->tty = cur.signal->tty;
        p.signal->has_child_subreaper = cur.signal->has_child_subreaper || cur.signal->is_child_subreaper;
        p.signal->dumpable = cur.signal->dumpable;
        p.signal->oom_score_adj = cur.signal->oom_score_adj;  // copy_signal
        p.signal->oom_score_adj_min = cur.signal->oom_score_adj_min;
    }
    p.cred = cur.cred;  // copy_creds
    sched_fork(cur, p);
    p.ioprio = cur.ioprio >= 0 && ((cur.ioprio >> 13) & 7) ? cur.ioprio : -1;  // copy_io: a valid class only
    p.personality = cur.personality;
    p.no_new_privs = cur.no_new_privs;  // inherited; pdeath_signal is not
    p.cpus_mask = cur.cpus_mask;
}

}  // namespace

// The pid a clone3 set_tid asks for (alloc_pid with set_tid, one pid namespace level): -EINVAL
// outside 1 .. pid_max - 1, -EPERM without CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, -EEXIST
// when a task (a zombie too) has it.
static int alloc_pid_set_tid(Kernel& k, int tid) {
    constexpr int CAP_CHECKPOINT_RESTORE = 40;  // uapi/linux/capability.h
    const ctl_table* t = k.sysctl().find_entry("kernel", "pid_max");
    const int pid_max = t ? *static_cast<const int*>(t->data) : PID_MAX_DEFAULT;
    if (tid < 1 || tid >= pid_max) return -EINVAL;
    if (!capable(CAP_SYS_ADMIN_) && !capable(CAP_CHECKPOINT_RESTORE)) return -EPERM;
    if (k.find_task_by_vpid(tid)) return -EEXIST;
    return tid;
}

// kernel_clone with the pid of a clone3 set_tid (none: the allocator's next).
static long kernel_clone_tid(SysCtx& c, const kernel_clone_args& args, std::optional<int> set_tid) {
    task_struct& cur = c.task;
    Kernel& k = c.kernel;
    const uint64_t flags = args.flags;
    if ((flags & (CLONE_NEWNS_ | CLONE_FS_)) == (CLONE_NEWNS_ | CLONE_FS_)) return -EINVAL;
    if ((flags & CLONE_THREAD_) && !(flags & CLONE_SIGHAND_)) return -EINVAL;
    if ((flags & CLONE_SIGHAND_) && !(flags & CLONE_VM_)) return -EINVAL;
    if (flags & CLONE_NEW_ANY_) return -EINVAL;  // no namespaces
    if ((flags & CLONE_PIDFD_) && (flags & CLONE_DETACHED_)) return -EINVAL;
    if ((flags & CLONE_PIDFD_) && (flags & CLONE_PARENT_SETTID_) && args.pidfd == args.parent_tid) return -EINVAL;
    if (flags & CLONE_PIDFD_) {  // the pidfd's int must be writable before any child exists
        const int32_t none = -1;
        if (!copy_to_user(c.mm, VirtAddr(args.pidfd), &none, 4)) return -EFAULT;
    }
    if (k.nr_tasks() >= max_threads(k)) return -EAGAIN;
    if (nr_processes_of(k, cur.cred.uid) >= cur.signal->rlim[RLIMIT_NPROC_].rlim_cur && cur.cred.uid != 0 &&
        !capable(CAP_SYS_RESOURCE_) && !capable(CAP_SYS_ADMIN_))
        return -EAGAIN;
    const int pid = set_tid ? alloc_pid_set_tid(k, *set_tid) : k.alloc_pid();
    if (pid < 0) return pid;

    auto child = std::make_unique<task_struct>();
    task_struct& p = *child;
    if (!p.slab.alloc(k.caches() ? k.caches()->task_struct_cachep : nullptr)) return -ENOMEM;
    p.pid = pid;
    p.tgid = (flags & CLONE_THREAD_) ? cur.tgid : pid;
    p.abi = cur.abi;
    p.comm = cur.comm;
    p.exe_path = cur.exe_path;
    p.exe_inode = cur.exe_inode;
    p.blocked = cur.blocked;
    p.tls_array = cur.tls_array;
    if (!(flags & CLONE_VM_) || (flags & CLONE_VFORK_)) {  // a new stack has no sigaltstack of the old
        p.sas_ss_sp = cur.sas_ss_sp;
        p.sas_ss_size = cur.sas_ss_size;
        p.sas_ss_flags = cur.sas_ss_flags;
    }
    p.start_time = ktime_get();
    p.flags = PF_FORKNOEXEC;  // until it execs (copy_process)
    copy_shared_state(cur, p, flags);
    if (flags & CLONE_VM_) {
        p.mm = cur.mm;
    } else {
        p.mm = dup_mm(c.mm);
        if (!p.mm) return -ENOMEM;
    }
    mmget(*p.mm);
    p.cpu = (flags & CLONE_VM_) ? cur.cpu : nullptr;
    if (long e = copy_thread(c, p, args)) {
        mmput(&k, *p.mm);
        return e;
    }
    if (flags & CLONE_THREAD_) {
        p.group_leader = cur.group_leader;
        p.exit_signal = -1;
        p.real_parent = cur.real_parent;
    } else {
        p.exit_signal = static_cast<int>(args.exit_signal);
        p.real_parent = (flags & CLONE_PARENT_) ? cur.real_parent : cur.group_leader;
    }
    if (p.real_parent && !(flags & CLONE_THREAD_)) p.real_parent->children.push_back(&p);
    if (flags & CLONE_CHILD_SETTID_) p.set_child_tid = args.child_tid;
    if (flags & CLONE_CHILD_CLEARTID_) p.clear_child_tid = args.child_tid;

    task_struct& child_ref = k.attach_task(std::move(child));
    ++k.runqueue().total_forks;
    if (flags & CLONE_PIDFD_) {  // a close-on-exec pidfd, of the thread for CLONE_THREAD
        std::shared_ptr<file> pf;
        int32_t fd = static_cast<int32_t>(pidfd_prepare(child_ref, (flags & CLONE_THREAD_) ? PIDFD_THREAD : 0, pf));
        if (!fd) fd = static_cast<int32_t>(get_unused_fd_install(c, std::move(pf), true));
        (void)copy_to_user(c.mm, VirtAddr(args.pidfd), &fd, 4);
    }
    const int32_t tid = pid;
    if (flags & CLONE_PARENT_SETTID_) (void)copy_to_user(c.mm, VirtAddr(args.parent_tid), &tid, 4);
    if (flags & CLONE_CHILD_SETTID_) (void)copy_to_user(*child_ref.mm, VirtAddr(args.child_tid), &tid, 4);
    child_ref.sync_slab();
    wait_queue_head vfork_done;
    if (flags & CLONE_VFORK_) {
        child_ref.vfork_done = &vfork_done;
        child_ref.vfork_released = false;
    }
    // ptrace's fork events: a new process (not a thread) of a traced parent may be held.
    const bool vfork = flags & CLONE_VFORK_;
    const bool new_process = !(flags & CLONE_THREAD_) && (vfork || args.exit_signal == SIGCHLD_);
    if (new_process && k.tracer) k.tracer->fork_event(cur, child_ref, vfork);
    wake_up_new_task(child_ref);
    if (flags & CLONE_VFORK_) {  // wait_for_vfork_done: until the child execs or exits (killable)
        task_struct* ch = &child_ref;
        WaitQueueGuard guard(vfork_done, cur);
        while (!ch->vfork_released) {
            if (fatal_signal_pending(cur)) break;
            cur.state = TASK_UNINTERRUPTIBLE;
            schedule(cur);
        }
        cur.state = TASK_RUNNING;
        ch = k.find_task_by_vpid(pid);
        if (ch && ch->vfork_done == &vfork_done) ch->vfork_done = nullptr;
        if (k.tracer) k.tracer->vfork_done(cur, pid);
    }
    return pid;
}

long kernel_clone(SysCtx& c, const kernel_clone_args& args) { return kernel_clone_tid(c, args, std::nullopt); }

void mm_release_vfork(task_struct& t) {
    if (t.vfork_released) return;
    t.vfork_released = true;
    if (t.vfork_done) {
        wake_up(*t.vfork_done);
        t.vfork_done = nullptr;
    }
}

long sys_fork(SysCtx& c, const uint64_t*) {
    kernel_clone_args args;
    args.exit_signal = SIGCHLD_;
    return kernel_clone(c, args);
}

long sys_vfork(SysCtx& c, const uint64_t*) {
    kernel_clone_args args;
    args.flags = CLONE_VFORK_ | CLONE_VM_;
    args.exit_signal = SIGCHLD_;
    return kernel_clone(c, args);
}

// clone(flags, newsp, parent_tid, child_tid, tls); i386 swaps the last two (CLONE_BACKWARDS).
long sys_clone(SysCtx& c, const uint64_t* a) {
    kernel_clone_args args;
    args.flags = a[0] & ~CSIGNAL_;
    args.exit_signal = a[0] & CSIGNAL_;
    args.stack = a[1];
    args.parent_tid = a[2];
    args.child_tid = c.compat ? a[4] : a[3];
    args.pidfd = a[2];  // CLONE_PIDFD shares parent_tid's argument
    args.tls = c.compat ? a[3] : a[4];
    if (args.exit_signal > KERNEL_NSIG) return -EINVAL;
    return kernel_clone(c, args);
}

namespace {

// clone3's struct clone_args (uapi/linux/sched.h), version 2.
struct clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
constexpr uint64_t CLONE_ARGS_SIZE_VER0 = 64, CLONE_ARGS_SIZE_VER2 = 88;
constexpr uint64_t MAX_PID_NS_LEVEL = 32;
constexpr uint64_t CLONE_LEGACY_FLAGS = 0xffffffffull;

// The struct, its size and its fields checked as copy_clone_args_from_user checks them.
long copy_clone_args_from_user(SysCtx& c, clone_args& args, uint64_t uargs, uint64_t usize) {
    if (usize > PAGE_SIZE) return -E2BIG;
    if (usize < CLONE_ARGS_SIZE_VER0) return -EINVAL;
    if (long e = copy_struct_from_user(c.mm, &args, sizeof args, VirtAddr(uargs), usize)) return e;
    if (args.set_tid_size > MAX_PID_NS_LEVEL) return -EINVAL;
    if (!args.set_tid && args.set_tid_size > 0) return -EINVAL;
    if (args.set_tid && args.set_tid_size == 0) return -EINVAL;
    if ((args.exit_signal & ~CSIGNAL_) || args.exit_signal > KERNEL_NSIG) return -EINVAL;  // valid_signal
    if ((args.flags & CLONE_INTO_CGROUP_) && (args.cgroup > INT32_MAX || usize < CLONE_ARGS_SIZE_VER2)) return -EINVAL;
    return 0;
}

// The flags and the stack clone3 accepts (clone3_args_valid, clone3_stack_valid).
bool clone3_args_valid(const clone_args& args) {
    if (args.flags & ~(CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND_ | CLONE_INTO_CGROUP_)) return false;
    // CLONE_DETACHED and the CSIGNAL bits are free for clone3's own use.
    if (args.flags & (CLONE_DETACHED_ | (CSIGNAL_ & ~CLONE_NEWTIME_))) return false;
    if ((args.flags & (CLONE_SIGHAND_ | CLONE_CLEAR_SIGHAND_)) == (CLONE_SIGHAND_ | CLONE_CLEAR_SIGHAND_)) return false;
    if ((args.flags & (CLONE_THREAD_ | CLONE_PARENT_)) && args.exit_signal) return false;
    if (args.stack == 0) return args.stack_size == 0;
    return args.stack_size != 0 && access_ok(args.stack, args.stack_size);
}

}  // namespace

// clone3(struct clone_args *, size): the fields of the version the caller knows.
long sys_clone3(SysCtx& c, const uint64_t* a) {
    clone_args ca{};
    if (long e = copy_clone_args_from_user(c, ca, a[0], a[1])) return e;
    std::vector<int32_t> tids;
    if (ca.set_tid) {  // the pids asked for are read before anything else is checked
        tids.resize(ca.set_tid_size);
        if (!copy_from_user(c.mm, tids.data(), VirtAddr(ca.set_tid), tids.size() * 4)) return -EFAULT;
    }
    if (!clone3_args_valid(ca)) return -EINVAL;
    // One pid namespace: a pid for one level at most (alloc_pid: set_tid_size > ns->level + 1).
    if (tids.size() > 1) return -EINVAL;
    if (ca.flags & CLONE_INTO_CGROUP_) return -EBADF;  // no cgroup2 directory can be open here
    kernel_clone_args args;
    args.flags = ca.flags;
    args.pidfd = ca.pidfd;
    args.child_tid = ca.child_tid;
    args.parent_tid = ca.parent_tid;
    args.exit_signal = ca.exit_signal;
    args.stack = ca.stack ? ca.stack + ca.stack_size : 0;
    args.tls = ca.tls;
    return kernel_clone_tid(c, args, tids.empty() ? std::nullopt : std::optional<int>(tids[0]));
}

}  // namespace guestos
