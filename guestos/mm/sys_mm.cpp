// Memory syscalls: brk and the mmap family (mm/mmap.c, mm/mremap.c, mm/madvise.c entry points).
#include "guestos/include/swapops.h"
#include "guestos/mm/readahead.h"
#include "guestos/mm/swap_state.h"
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "guestos/drivers/char/mem.h"
#include "guestos/include/cred.h"
#include "guestos/include/uapi/fcntl.h"
#include "guestos/mm/mmap.h"
#include "guestos/fs/internal.h"
#include "guestos/include/pid.h"
#include "guestos/arch/x86/include/asm/pkeys.h"
#include "guestos/mm/rmap.h"
#include "guestos/mm/shmem.h"
#include "guestos/mm/util.h"
#include "guestos/include/syscalls.h"

namespace guestos {

namespace {

// A locked mapping (MAP_LOCKED, or after mlockall(MCL_FUTURE)) needs CAP_IPC_LOCK or room
// under RLIMIT_MEMLOCK: EPERM without any, EAGAIN past it (can_do_mlock, mlock_future_ok).
long mmap_lock_check(SysCtx& c, uint64_t len, uint64_t flags) {
    const bool map_locked = flags & MAP_LOCKED_;
    if (!map_locked && !(c.mm.def_flags & VM_LOCKED)) return 0;
    if (capable(CAP_IPC_LOCK_)) return 0;
    const uint64_t limit = c.task.signal->rlim[RLIMIT_MEMLOCK_].rlim_cur;
    if (map_locked && !limit) return -EPERM;
    if ((c.mm.locked_vm << PAGE_SHIFT) + mmu::page_align_up(len) > limit) return -EAGAIN;
    return 0;
}

// mmap's argument checks before do_mmap (ksys_mmap_pgoff and do_mmap's file checks).
long mmap_pgoff(SysCtx& c, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t pgoff) {
    // The flags MAP_SHARED_VALIDATE checks (LEGACY_MAP_MASK); anything else is EOPNOTSUPP there.
    constexpr uint64_t LEGACY_MAP_MASK = MAP_SHARED_ | MAP_PRIVATE_ | MAP_FIXED_ | MAP_ANONYMOUS_ | MAP_DENYWRITE_ |
                                         MAP_EXECUTABLE_ | 0x4000000 /* MAP_UNINITIALIZED */ | MAP_GROWSDOWN_ |
                                         MAP_LOCKED_ | MAP_NORESERVE_ | MAP_POPULATE_ | MAP_NONBLOCK_ | MAP_STACK_ |
                                         MAP_HUGETLB_;
    const uint64_t type = flags & MAP_TYPE_;
    std::shared_ptr<file> f;
    if (!(flags & MAP_ANONYMOUS_)) {
        f = fdget(c, fd);  // O_PATH: EBADF
        if (!f) return -EBADF;
    }
    if (!len) return -EINVAL;  // do_mmap's first check, before the file's
    if (type != MAP_SHARED_ && type != MAP_PRIVATE_ && type != MAP_SHARED_VALIDATE_) return -EINVAL;
    if ((flags & MAP_ANONYMOUS_) && type == MAP_SHARED_VALIDATE_) return -EINVAL;  // files only
    if (c.compat) addr &= 0xffffffffu;
    const bool shared = type != MAP_PRIVATE_;
    std::optional<unsigned> zero_acc;  // the access mode of a /dev/zero descriptor mapped
    if (f) {
        if (type == MAP_SHARED_VALIDATE_ && (flags & ~LEGACY_MAP_MASK)) return -EOPNOTSUPP;
        const unsigned acc = f->f_flags & O_ACCMODE_;
        if (acc == O_WRONLY_) return -EACCES;  // every mapping reads the file
        if (shared && (prot & PROT_WRITE_) && (acc != O_RDWR_ || (f->f_flags & O_APPEND_))) return -EACCES;
        const inode* ino = f->f_inode.get();
        if (ino && S_ISCHR(ino->i_mode) && ino->i_rdev == makedev(MEM_MAJOR, 5 /* zero */)) {
            // mmap_zero: /dev/zero maps as anonymous memory, shared or private; a shared
            // mapping keeps the descriptor's access mode (read-only: never writable).
            zero_acc = acc;
            f = nullptr;
            pgoff = 0;
        } else if (!f->can_mmap()) {
            return -ENODEV;  // the console, /proc files (no f_op->mmap)
        }
    }
    if (!f && shared) {
        // Shared anonymous memory is a shmem file of the mapping's size (shmem_zero_setup).
        const uint64_t size = mmu::page_align_up(len);
        if (!len || !size) return do_mmap(c.mm, nullptr, addr, len, prot, flags, 0);  // the usual errors
        if (long e = mmap_lock_check(c, len, flags)) return e;
        const bool noreserve = (flags & MAP_NORESERVE_) && overcommit_allows_noreserve(c.mm);
        f = shmem_zero_setup(c.kernel.kmem(), size, noreserve ? static_cast<unsigned long>(VM_NORESERVE) : 0ul);
        if (!f) return -ENOMEM;  // the commit limit refused its size
        if (!f->slab.alloc(c.kernel.caches() ? c.kernel.caches()->filp_cachep : nullptr)) return -ENOMEM;
        if (zero_acc) f->f_flags = (f->f_flags & ~O_ACCMODE_) | *zero_acc;
        pgoff = 0;
    }
    if (len)
        if (long e = mmap_lock_check(c, len, flags)) return e;
    return do_mmap(c.mm, std::move(f), addr, len, prot, flags, pgoff);
}

// Moves the PTEs of [old, old+len) to new_addr (move_page_tables).
void move_page_tables(mm_struct& mm, uint64_t old_addr, uint64_t new_addr, uint64_t len) {
    for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
        const pte_t pte = get_pte(mm, VirtAddr(old_addr + off));
        if (pte_none(pte)) continue;
        if (!set_pte_at(mm, VirtAddr(new_addr + off), pte)) continue;
        (void)set_pte_at(mm, VirtAddr(old_addr + off), __pte(0));
    }
    if (mm.tlb) mm.tlb->flush_tlb_range(VirtAddr(old_addr), VirtAddr(old_addr + len));
}

// Moves a mapping (or its first len bytes) to new_addr, keeping its pages (move_vma).
long move_vma(mm_struct& mm, vm_area_struct& vma, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
              uint64_t new_len, bool dontunmap) {
    // copy_vma: the pages keep their index, so the new VMA keeps the page offset; an
    // anonymous VMA that never had a page is numbered afresh from its new address.
    // The new range is charged whole; unmapping the old one gives its charge back.
    const long charged = (vma.vm_flags & VM_ACCOUNT) ? static_cast<long>(new_len >> PAGE_SHIFT) : 0;
    if (charged && security_vm_enough_memory_mm(mm, charged)) return -ENOMEM;
    auto nv = vm_area_dup(vma);  // copy_vma
    if (!nv) {
        vm_unacct_memory(mm, charged);
        return -ENOMEM;
    }
    nv->vm_start = VirtAddr(new_addr);
    nv->vm_end = VirtAddr(new_addr + new_len);
    nv->vm_pgoff += (old_addr - vma.vm_start.value) >> PAGE_SHIFT;
    if (vma.is_anonymous() && !vma.anon_vma) nv->vm_pgoff = new_addr >> PAGE_SHIFT;
    const vm_special_mapping* special = vma.vm_special;
    vm_area_struct* moved = vma_link(mm, std::move(nv));
    if (special && special->mremap)  // the vDSO moves whole, and the kernel follows it
        if (long r = special->mremap(*special, mm, *moved); r < 0) {
            (void)do_munmap(mm, new_addr, new_len);
            return r;
        }
    move_page_tables(mm, old_addr, new_addr, std::min(old_len, new_len));
    if (!dontunmap) do_munmap(mm, old_addr, old_len);
    return static_cast<long>(new_addr);
}

}  // namespace

long sys_brk(SysCtx& c, const uint64_t* a) { return static_cast<long>(do_brk(c.mm, a[0])); }

long sys_mmap(SysCtx& c, const uint64_t* a) {
    if (a[5] & (PAGE_SIZE - 1)) return -EINVAL;
    return mmap_pgoff(c, a[0], a[1], a[2], a[3], a[4], a[5] >> PAGE_SHIFT);
}

long sys_mmap_pgoff(SysCtx& c, const uint64_t* a) { return mmap_pgoff(c, a[0], a[1], a[2], a[3], a[4], a[5]); }

// i386 old_mmap: the six arguments are in a struct mmap_arg_struct in user memory.
long sys_old_mmap(SysCtx& c, const uint64_t* a) {
    uint32_t args[6];
    if (!copy_from_user(c.mm, args, VirtAddr(a[0]), sizeof args)) return -EFAULT;
    if (args[5] & (PAGE_SIZE - 1)) return -EINVAL;
    return mmap_pgoff(c, args[0], args[1], args[2], args[3], args[4], args[5] >> PAGE_SHIFT);
}

long sys_munmap(SysCtx& c, const uint64_t* a) { return do_munmap(c.mm, a[0], a[1]); }
long sys_mprotect(SysCtx& c, const uint64_t* a) { return do_mprotect(c.mm, a[0], a[1], a[2]); }

// Protection keys (mm/mprotect.c); see asm/pkeys.h for what a processor without PKU gives.
long sys_pkey_mprotect(SysCtx& c, const uint64_t* a) {
    return do_mprotect(c.mm, a[0], a[1], a[2], static_cast<int>(a[3]));
}

long sys_pkey_alloc(SysCtx& c, const uint64_t* a) {
    const unsigned long flags = a[0], init_val = a[1];
    if (flags) return -EINVAL;  // no flags supported yet
    if (init_val & ~PKEY_ACCESS_MASK_) return -EINVAL;
    const int pkey = mm_pkey_alloc(c.mm);
    if (pkey == -1) return -ENOSPC;
    if (int ret = arch_set_user_pkey_access(pkey, init_val)) {
        mm_pkey_free(c.mm, pkey);  // fails too for the execute-only key: it stays taken
        return ret;
    }
    return pkey;
}

long sys_pkey_free(SysCtx& c, const uint64_t* a) { return mm_pkey_free(c.mm, static_cast<int>(a[0])); }

// remap_file_pages, emulated since Linux 4.0 by a new mapping of the same file over the range
// (mm/mmap.c): prot must be 0, the range must start in a VM_SHARED VMA and may run on only
// through adjacent VMAs of the same file and flags; of the flags only MAP_NONBLOCK counts.
long sys_remap_file_pages(SysCtx& c, const uint64_t* a) {
    // The kernel's unsigned long: an i386 caller's arguments are zero-extended, nothing wraps.
    uint64_t start = a[0], size = a[1], prot = a[2], pgoff = a[3], flags = a[4];
    if (prot) return -EINVAL;
    start &= ~(PAGE_SIZE - 1);
    size &= ~(PAGE_SIZE - 1);
    if (start + size <= start) return -EINVAL;
    if (pgoff + (size >> PAGE_SHIFT) < pgoff) return -EINVAL;  // does pgoff wrap?
    vm_area_struct* vma = find_vma(c.mm, VirtAddr(start));
    if (!vma || vma->vm_start.value > start || !(vma->vm_flags & VM_SHARED)) return -EINVAL;  // vma_lookup
    if (start + size > vma->vm_end.value) {
        vm_area_struct* prev = vma;
        vm_area_struct* next = vma->vm_next;
        for (; next; prev = next, next = next->vm_next) {
            if (next->vm_start != prev->vm_end) return -EINVAL;  // a hole between VMAs
            if (next->vm_file != vma->vm_file || next->vm_flags != vma->vm_flags) return -EINVAL;
            if (start + size <= next->vm_end.value) break;
        }
        if (!next) return -EINVAL;
    }
    prot |= (vma->vm_flags & VM_READ) ? PROT_READ_ : 0;
    prot |= (vma->vm_flags & VM_WRITE) ? PROT_WRITE_ : 0;
    prot |= (vma->vm_flags & VM_EXEC) ? PROT_EXEC_ : 0;
    flags &= MAP_NONBLOCK_;
    flags |= MAP_SHARED_ | MAP_FIXED_ | MAP_POPULATE_;
    if (vma->vm_flags & VM_LOCKED) flags |= MAP_LOCKED_;
    std::shared_ptr<file> f = vma->vm_file;  // get_file: the VMA goes away under do_mmap
    const long ret = do_mmap(c.mm, std::move(f), start, size, prot, flags, pgoff);
    return ret < 0 ? ret : 0;
}

long sys_mremap(SysCtx& c, const uint64_t* a) {
    uint64_t addr = a[0], old_len = a[1], new_len = a[2], flags = a[3], new_addr = a[4];
    if (flags & ~(MREMAP_MAYMOVE_ | MREMAP_FIXED_ | MREMAP_DONTUNMAP_)) return -EINVAL;
    if ((flags & MREMAP_FIXED_) && !(flags & MREMAP_MAYMOVE_)) return -EINVAL;
    if ((flags & MREMAP_DONTUNMAP_) && (!(flags & MREMAP_MAYMOVE_) || old_len != new_len)) return -EINVAL;
    if (addr & (PAGE_SIZE - 1)) return -EINVAL;
    old_len = mmu::page_align_up(old_len);
    new_len = mmu::page_align_up(new_len);
    if (!new_len) return -EINVAL;
    const uint64_t task_size = c.mm.task_size;
    vm_area_struct* vma = find_vma(c.mm, VirtAddr(addr));
    if (!vma || vma->vm_start.value > addr) return -EFAULT;
    if (flags & (MREMAP_FIXED_ | MREMAP_DONTUNMAP_)) {  // mremap_to
        if (flags & MREMAP_FIXED_) {
            if (new_addr & (PAGE_SIZE - 1)) return -EINVAL;
            if (new_len > task_size || new_addr > task_size - new_len) return -EINVAL;
            if (addr + old_len > new_addr && new_addr + new_len > addr) return -EINVAL;  // overlap
            if (long r = do_munmap(c.mm, new_addr, new_len); r < 0) return r;
        }
        if (old_len > new_len) {
            if (long r = do_munmap(c.mm, addr + new_len, old_len - new_len); r < 0) return r;
            old_len = new_len;
        }
        vma = find_vma(c.mm, VirtAddr(addr));
        if (!vma || vma->vm_start.value > addr || addr + old_len > vma->vm_end.value) return -EFAULT;  // vma_to_resize
        if (new_len > old_len && (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP))) return -EFAULT;
        if (!(flags & MREMAP_FIXED_)) {
            long dst = get_unmapped_area(c.mm, 0, new_len, 0);
            if (dst < 0) return dst;
            new_addr = static_cast<uint64_t>(dst);
        }
        return move_vma(c.mm, *vma, addr, old_len, new_addr, new_len, flags & MREMAP_DONTUNMAP_);
    }
    if (old_len >= new_len) {  // shrinking always works: it just unmaps the tail
        if (old_len == new_len) return static_cast<long>(addr);
        if (long r = do_munmap(c.mm, addr + new_len, old_len - new_len); r < 0) return r;
        return static_cast<long>(addr);
    }
    // Growing (vma_to_resize): the old range must lie in one VMA.
    if (old_len == 0 && !(vma->vm_flags & VM_SHARED)) return -EINVAL;
    if (addr + old_len > vma->vm_end.value || addr + old_len < addr) return -EFAULT;
    if (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EFAULT;  // [vdso], [vvar]: never grown
    if (new_len > task_size) return -EINVAL;
    if (addr > task_size - new_len) {
        if (!(flags & MREMAP_MAYMOVE_)) return -ENOMEM;
    } else if (addr + old_len == vma->vm_end.value &&
               !find_vma_intersection(c.mm, VirtAddr(addr + old_len), VirtAddr(addr + new_len))) {
        // Grow in place when the VMA ends here and the space after it is free (vma_expandable).
        if (c.mm.map_count > sysctl_max_map_count) return -ENOMEM;
        const long charged = static_cast<long>((new_len - old_len) >> PAGE_SHIFT);  // vma_to_resize
        if ((vma->vm_flags & VM_ACCOUNT) && security_vm_enough_memory_mm(c.mm, charged)) return -ENOMEM;
        vma_expand(c.mm, vma, VirtAddr(addr + new_len));
        return static_cast<long>(addr);
    }
    if (!(flags & MREMAP_MAYMOVE_)) return -ENOMEM;
    long dst = get_unmapped_area(c.mm, 0, new_len, 0);
    if (dst < 0) return dst;
    return move_vma(c.mm, *vma, addr, old_len, static_cast<uint64_t>(dst), new_len, flags & MREMAP_DONTUNMAP_);
}

namespace {

// madvise on mm (do_madvise): 0 or a negative errno.
long do_madvise(mm_struct& mm, uint64_t start, uint64_t len_in, uint64_t advice) {
    uint64_t len = mmu::page_align_up(len_in);
    if (start & (PAGE_SIZE - 1)) return -EINVAL;
    static const bool valid[] = {1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    if (advice >= sizeof valid || !valid[advice]) return (advice == 100 || advice == 101) ? 0 : -EINVAL;
    if (len_in && !len) return -EINVAL;  // rounded up from a small negative length
    if (start + len < start) return -EINVAL;
    if (!len) return 0;
    long ret = 0;
    for (uint64_t cur = start; cur < start + len;) {
        vm_area_struct* v = find_vma(mm, VirtAddr(cur));
        if (!v || v->vm_start.value >= start + len) return -ENOMEM;
        if (v->vm_start.value > cur) ret = -ENOMEM;
        uint64_t s = std::max(cur, v->vm_start.value), e = std::min(start + len, v->vm_end.value);
        if ((advice == MADV_DONTNEED_ || advice == MADV_FREE_ || advice == MADV_REMOVE_) && (v->vm_flags & VM_LOCKED))
            return -EINVAL;
        if (advice == MADV_REMOVE_) {  // madvise_remove: punch a hole in the file behind a shared mapping
            if (!v->vm_file || !v->vm_file->f_inode) return -EINVAL;
            if ((v->vm_flags & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE)) return -EACCES;
            const uint64_t offset = (s - v->vm_start.value) + (v->vm_pgoff << PAGE_SHIFT);
            if (long r = shmem_fallocate(*v->vm_file->f_inode, 3 /* PUNCH_HOLE|KEEP_SIZE */, offset, e - s)) return r;
        }
        if (advice == MADV_DONTNEED_ || (advice == MADV_FREE_ && v->is_anonymous()))
            zap_page_range(mm, VirtAddr(s), VirtAddr(e));
        if (advice == MADV_WILLNEED_ && v->vm_file)  // madvise_willneed: read the file range in
            (void)vfs_fadvise(*v->vm_file, static_cast<int64_t>((s - v->vm_start.value) + (v->vm_pgoff << PAGE_SHIFT)),
                              static_cast<int64_t>(e - s), POSIX_FADV_WILLNEED_);
        if (advice == MADV_NORMAL_ || advice == MADV_RANDOM_ || advice == MADV_SEQUENTIAL_) {
            // madvise_update_vma: the read-ahead hint is a VMA flag (the VMA split to the range).
            const unsigned long set = advice == MADV_RANDOM_       ? VM_RAND_READ
                                      : advice == MADV_SEQUENTIAL_ ? VM_SEQ_READ
                                                                   : 0;
            if (long r = mlock_fixup(mm, s, e - s, set, (VM_RAND_READ | VM_SEQ_READ) & ~set, false)) return r;
        }
        cur = e;
    }
    return ret;
}

// The advice another process may be given (process_madvise_remote_valid): only hints.
bool process_madvise_remote_valid(uint64_t behavior) {
    constexpr uint64_t MADV_COLD_ = 20, MADV_PAGEOUT_ = 21, MADV_COLLAPSE_ = 25;
    return behavior == MADV_COLD_ || behavior == MADV_PAGEOUT_ || behavior == MADV_WILLNEED_ ||
           behavior == MADV_COLLAPSE_;
}

// The caller may read t's address space (mm_access with PTRACE_MODE_READ_FSCREDS: its own
// thread group; else t's ids all equal the caller's fsuid/fsgid, or CAP_SYS_PTRACE; a
// non-dumpable t needs CAP_SYS_PTRACE).
bool may_read_mm(const task_struct& caller, const task_struct& t) {
    if (caller.tgid == t.tgid) return true;
    const cred& c = caller.cred;
    const cred& tc = t.cred;
    const bool same_ids = c.fsuid == tc.euid && c.fsuid == tc.suid && c.fsuid == tc.uid && c.fsgid == tc.egid &&
                          c.fsgid == tc.sgid && c.fsgid == tc.gid;
    if (!same_ids && !capable(CAP_SYS_PTRACE_)) return false;
    if (t.signal->dumpable != 1 && !capable(CAP_SYS_PTRACE_)) return false;
    return true;
}

}  // namespace

long sys_madvise(SysCtx& c, const uint64_t* a) { return do_madvise(c.mm, a[0], a[1], a[2]); }

// process_madvise(pidfd, iovec, vlen, advice, flags) (mm/madvise.c): madvise over each range
// of the process the pidfd names, in order, stopping at the first error. Returns the bytes of
// the ranges done, or that error if none was.
long sys_process_madvise(SysCtx& c, const uint64_t* a) {
    const int pidfd = static_cast<int32_t>(a[0]);
    const int behavior = static_cast<int32_t>(a[3]);
    if (static_cast<uint32_t>(a[4]) != 0) return -EINVAL;
    user_iovec iov;
    const long total = import_iovec(c, VirtAddr(a[1]), a[2], iov);
    if (total < 0) return total;
    // pidfd_get_task: the process a pidfd names (this kernel's process_madvise takes no
    // PIDFD_SELF_* values: they are bad fds).
    const auto f = fdget(c, static_cast<uint64_t>(static_cast<uint32_t>(pidfd)));
    if (!f) return -EBADF;
    pid_ref* pid = pidfd_pid(*f);
    if (!pid) return -EBADF;
    task_struct* task = pid->task;
    if (!task || task->exit_state == EXIT_DEAD) return -ESRCH;
    if (!task->thread_group_leader()) return -ESRCH;  // get_pid_task(pid, PIDTYPE_TGID)
    // mm_access: an exited task has no mm (ESRCH); another's needs ptrace read access.
    if (!task->mm) return -ESRCH;
    mm_struct& mm = *task->mm;
    const bool remote = &mm != &c.mm;
    if (remote && !may_read_mm(c.task, *task)) return -EACCES;
    if (remote && !process_madvise_remote_valid(static_cast<uint64_t>(behavior))) return -EINVAL;
    if (remote && !capable(CAP_SYS_NICE_)) return -EPERM;
    // vector_madvise: a failing range ends the walk; the ranges before it count.
    long ret = 0;
    uint64_t done = 0;
    for (auto [start, len] : iov) {
        if (!len) continue;  // an empty segment is stepped over
        ret = do_madvise(mm, start, len, static_cast<uint64_t>(static_cast<int64_t>(behavior)));
        if (ret < 0) break;
        done += len;
    }
    return done ? static_cast<long>(done) : ret;
}

long sys_mincore(SysCtx& c, const uint64_t* a) {
    const uint64_t start = a[0], len = a[1];
    if (start & (PAGE_SIZE - 1)) return -EINVAL;
    // access_ok against the 64-bit user limit (a compat task too, as on this host); the
    // walk then stops at the first hole.
    const uint64_t pages = mmu::page_align_up(len) >> PAGE_SHIFT;
    if (start + (pages << PAGE_SHIFT) < start || start + (pages << PAGE_SHIFT) > (1ull << 47)) return -ENOMEM;
    std::vector<uint8_t> vec;
    vec.reserve(std::min<uint64_t>(pages, 1 << 20));
    long ret = 0;
    for (uint64_t i = 0; i < pages; ++i) {
        const VirtAddr va(start + (i << PAGE_SHIFT));
        vm_area_struct* v = find_vma(c.mm, va);
        if (!v || v->vm_start > va) {  // the entries before a hole are written, then ENOMEM
            ret = -ENOMEM;
            break;
        }
        // pte_present (PROT_NONE pages are resident too); for a file page no PTE maps, whether
        // the page cache holds it (mincore_page).
        // A swapped-out page counts when the swap cache holds it (mincore_swap).
        const pte_t pte = get_pte(c.mm, va);
        uint8_t resident = pte_present(pte) ? 1 : 0;
        if (is_swap_pte(pte)) resident = lookup_swap_cache(pte_to_swp_entry(c.mm.paging_mode, pte)) ? 1 : 0;
        if (!resident && v->vm_file && v->vm_file->f_inode)
            resident = find_get_page(v->vm_file->f_inode->i_data, linear_page_index(*v, va)) ? 1 : 0;
        vec.push_back(resident);
    }
    if (!vec.empty() && !copy_to_user(c.mm, VirtAddr(a[2]), vec.data(), vec.size())) return -EFAULT;
    return ret;
}

long sys_msync(SysCtx& c, const uint64_t* a) {
    const uint64_t start = a[0], flags = a[2];
    if ((start & (PAGE_SIZE - 1)) || (flags & ~(MS_ASYNC_ | MS_INVALIDATE_ | MS_SYNC_))) return -EINVAL;
    if ((flags & MS_ASYNC_) && (flags & MS_SYNC_)) return -EINVAL;
    const uint64_t end = start + mmu::page_align_up(a[1]);
    if (end < start) return -ENOMEM;
    // Private and anonymous mappings have nothing to write back; a hole is ENOMEM.
    long ret = 0;
    for (uint64_t cur = start; cur < end;) {
        vm_area_struct* v = find_vma(c.mm, VirtAddr(cur));
        if (!v) return -ENOMEM;
        if (v->vm_start.value > cur) ret = -ENOMEM;
        if ((flags & MS_INVALIDATE_) && (v->vm_flags & VM_LOCKED)) return -EBUSY;
        // MS_SYNC on a shared file mapping: vfs_fsync_range (the whole file here).
        if ((flags & MS_SYNC_) && v->vm_file && (v->vm_flags & VM_SHARED))
            if (long e = v->vm_file->fsync(); e && e != -EINVAL) return e;
        cur = v->vm_end.value;
    }
    return ret;
}

// Locking needs CAP_IPC_LOCK or room under RLIMIT_MEMLOCK (can_do_mlock, mlock_future_ok).
static long check_mlock_limit(SysCtx& c, uint64_t len) {
    if (capable(CAP_IPC_LOCK_)) return 0;
    const uint64_t limit = c.task.signal->rlim[RLIMIT_MEMLOCK_].rlim_cur;
    if (!limit) return -EPERM;
    if (((c.mm.locked_vm << PAGE_SHIFT) + len) > limit) return -ENOMEM;
    return 0;
}

long sys_mlock(SysCtx& c, const uint64_t* a) {
    if (long e = check_mlock_limit(c, a[1])) return e;
    return mlock_fixup(c.mm, a[0], a[1], VM_LOCKED, 0, true);
}

long sys_mlock2(SysCtx& c, const uint64_t* a) {
    constexpr uint64_t MLOCK_ONFAULT = 1;
    if (a[2] & ~MLOCK_ONFAULT) return -EINVAL;
    if (long e = check_mlock_limit(c, a[1])) return e;
    return mlock_fixup(c.mm, a[0], a[1], VM_LOCKED, 0, !(a[2] & MLOCK_ONFAULT));
}

long sys_munlock(SysCtx& c, const uint64_t* a) { return mlock_fixup(c.mm, a[0], a[1], 0, VM_LOCKED, false); }

long sys_mlockall(SysCtx& c, const uint64_t* a) {
    const uint64_t flags = a[0];
    if (!flags || (flags & ~(MCL_CURRENT_ | MCL_FUTURE_ | MCL_ONFAULT_)) || flags == MCL_ONFAULT_) return -EINVAL;
    if (!capable(CAP_IPC_LOCK_) && !c.task.signal->rlim[RLIMIT_MEMLOCK_].rlim_cur) return -EPERM;
    c.mm.mark_slab_dirty();
    c.mm.def_flags = (flags & MCL_FUTURE_) ? (c.mm.def_flags | VM_LOCKED) : (c.mm.def_flags & ~VM_LOCKED);
    if (!(flags & MCL_CURRENT_)) return 0;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (vm_area_struct& v : c.mm.mm_rb) ranges.emplace_back(v.vm_start.value, v.size());
    for (auto [start, len] : ranges) (void)mlock_fixup(c.mm, start, len, VM_LOCKED, 0, !(flags & MCL_ONFAULT_));
    return 0;
}

long sys_munlockall(SysCtx& c, const uint64_t*) {
    c.mm.def_flags &= ~VM_LOCKED;
    c.mm.mark_slab_dirty();
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (vm_area_struct& v : c.mm.mm_rb) ranges.emplace_back(v.vm_start.value, v.size());
    for (auto [start, len] : ranges) (void)mlock_fixup(c.mm, start, len, 0, VM_LOCKED, false);
    return 0;
}

}  // namespace guestos
