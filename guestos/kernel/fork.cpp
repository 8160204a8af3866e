// The OS's objects from their slab caches (kernel/fork.c: mm_alloc, vm_area_alloc,
// vm_area_dup) and the images of their main fields in those slab objects.
#include "guestos/trace/fault_trace.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/rmap.h"
#include "guestos/include/sched.h"

namespace guestos {

namespace {

// Task states (include/linux/sched.h) and the rss counters' order (enum mm_counter_type).
constexpr uint64_t TASK_RUNNING = 0x0, TASK_DEAD = 0x80, EXIT_ZOMBIE = 0x20;
constexpr unsigned MM_FILEPAGES = 0, MM_ANONPAGES = 1, MM_SHMEMPAGES = 3;
constexpr uint64_t SIGCHLD_ = 17;

const SlabObject* slab_of(const vm_area_struct* v) { return v ? &v->slab : nullptr; }

}  // namespace

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

void vm_area_struct::sync_slab() const {
    if (!slab.backed()) return;
    slab.set(VmaField::vm_start, vm_start.value);
    slab.set(VmaField::vm_end, vm_end.value);
    slab.set_ptr(VmaField::vm_next, slab_of(vm_next));
    slab.set_ptr(VmaField::vm_prev, slab_of(vm_prev));
    slab.set_ptr(VmaField::vm_mm, vm_mm ? &vm_mm->slab : nullptr);
    slab.set(VmaField::vm_flags, vm_flags);
    slab.set(VmaField::vm_pgoff, vm_pgoff);
    slab.set_ptr(VmaField::vm_file, vm_file ? &vm_file->slab : nullptr);
    if (vm_file) vm_file->sync_slab(vm_file.use_count());
}

void mm_struct::sync_slab() const {
    if (!slab.backed()) return;
    const ObjectCache& c = *slab.cache();
    const vm_area_struct* root = mm_rb.rb_root();
    slab.set_ptr(MmField::mmap, slab_of(mm_rb.first()));
    // mm_rb.rb_node points at the vm_rb member of the root VMA.
    const uint64_t vm_rb_offset = root && root->slab.backed()
                                      ? root->slab.cache()->slot(static_cast<unsigned>(VmaField::vm_rb)).offset
                                      : 0;
    slab.set(MmField::mm_rb, root && root->slab.backed() ? root->slab.kernel_address() + vm_rb_offset : 0);
    slab.set(MmField::mmap_base, mmap_base);
    slab.set(MmField::task_size, task_size);
    slab.set(MmField::highest_vm_end, mm_rb.highest_vm_end().value);
    slab.set(MmField::pgd, pgd.value ? c.kernel_address(pgd) : 0);
    slab.set(MmField::mm_users, 1);
    slab.set(MmField::mm_count, 1);
    slab.set(MmField::pgtables_bytes, pgtables_bytes);
    slab.set(MmField::map_count, static_cast<uint64_t>(map_count));
    slab.set(MmField::hiwater_rss, hiwater_rss);
    slab.set(MmField::hiwater_vm, hiwater_vm);
    slab.set(MmField::total_vm, total_vm);
    slab.set(MmField::locked_vm, locked_vm);
    slab.set(MmField::data_vm, data_vm);
    slab.set(MmField::exec_vm, exec_vm);
    slab.set(MmField::stack_vm, stack_vm);
    slab.set(MmField::def_flags, def_flags);
    slab.set(MmField::start_code, start_code);
    slab.set(MmField::end_code, end_code);
    slab.set(MmField::start_data, start_data);
    slab.set(MmField::end_data, end_data);
    slab.set(MmField::start_brk, start_brk);
    slab.set(MmField::brk, brk);
    slab.set(MmField::start_stack, start_stack);
    slab.set(MmField::arg_start, arg_start);
    slab.set(MmField::arg_end, arg_end);
    slab.set(MmField::env_start, env_start);
    slab.set(MmField::env_end, env_end);
    sync_slab_counters();
}

void mm_struct::sync_slab_counters() const {
    if (!slab.backed()) return;
    slab.set(MmField::pgtables_bytes, pgtables_bytes);
    slab.set(MmField::hiwater_rss, hiwater_rss);
    slab.set(MmField::hiwater_vm, hiwater_vm);
    slab.set(MmField::total_vm, total_vm);
    slab.set(MmField::stack_vm, stack_vm);
    slab.set_word(MmField::rss_stat, MM_FILEPAGES, rss_file);
    slab.set_word(MmField::rss_stat, MM_ANONPAGES, rss_anon);
    slab.set_word(MmField::rss_stat, MM_SHMEMPAGES, rss_shmem);
}

namespace {

// Copies the PTEs of one VMA from parent to child (copy_pte_range / copy_present_pte): the
// child takes a reference and a mapping of each page; a private writable PTE is made
// read-only in both (the COW that do_wp_page breaks).
bool copy_page_range(mm_struct& child, mm_struct& parent, const vm_area_struct& vma) {
    const bool cow = !(vma.vm_flags & VM_SHARED) && (vma.vm_flags & VM_MAYWRITE);
    bool write_protected = false;
    for (uint64_t va = vma.vm_start.value; va < vma.vm_end.value; va += PAGE_SIZE) {
        uint64_t pte = get_pte(parent, VirtAddr(va));
        if (!pte) continue;
        if (cow && (pte & mmu::_PAGE_RW)) {  // ptep_set_wrprotect in the parent too
            pte &= ~mmu::_PAGE_RW;
            if (!set_pte_at(parent, VirtAddr(va), pte)) return false;
            write_protected = true;
        }
        if (!set_pte_at(child, VirtAddr(va), pte)) return false;
        page& p = parent.page_alloc->phys_to_page(mmu::pte_frame(parent.paging_mode, pte));
        if (p.flags & PG_reserved) continue;  // the zero page: no references counted
        ++p._refcount;  // get_page + page_dup_rmap
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
        auto tmp = vm_area_dup(pvma);  // anon_vma_clone and the file's i_mmap come with it
        if (!tmp) return -ENOMEM;
        tmp->vm_mm = &child;
        tmp->vm_flags &= ~VM_LOCKED;  // mlock is not inherited (VM_LOCKED_MASK)
        if (!anon_vma_fork(*tmp, pvma)) return -ENOMEM;
        vm_area_struct* v = child.mm_rb.insert(std::move(tmp));
        child.map_count = static_cast<int>(child.mm_rb.size());
        if (!copy_page_range(child, parent, *v)) return -ENOMEM;
    }
    child.locked_vm = 0;
    child.hiwater_rss = child.rss();
    return 0;
}

void task_struct::sync_slab() const {
    if (!slab.backed()) return;
    slab.set(TaskField::state, exited ? TASK_DEAD : TASK_RUNNING);
    slab.set(TaskField::usage, 1);
    slab.set_ptr(TaskField::mm, mm ? &mm->slab : nullptr);
    slab.set_ptr(TaskField::active_mm, mm ? &mm->slab : nullptr);
    slab.set(TaskField::exit_state, exited ? EXIT_ZOMBIE : 0);
    // The wait status the parent would read: the signal, or the exit code in bits 8-15.
    slab.set(TaskField::exit_code, exit_signal ? static_cast<uint64_t>(exit_signal)
                                               : static_cast<uint64_t>(exit_code & 0xff) << 8);
    slab.set(TaskField::exit_signal, SIGCHLD_);  // what the parent is sent at exit
    slab.set(TaskField::pid, static_cast<uint64_t>(pid));
    slab.set(TaskField::tgid, static_cast<uint64_t>(tgid));
    slab.set_bytes(TaskField::comm, comm);
}

void sync_task_slab_images(const task_struct& task) {
    task.sync_slab();
    if (task.mm) task.mm->sync_slab();
    for (const auto& f : task.files.fd)
        if (f) f->sync_slab(f.use_count());
}

std::vector<std::string> check_slab_images(const task_struct& task) {
    std::vector<std::string> problems;
    const mm_struct* mm = task.mm.get();
    if (!mm || !mm->caches) return problems;  // no slab yet: nothing has to hold an object
    if (!task.slab.backed()) problems.push_back("the task holds no task_struct slab object");
    if (!mm->slab.backed()) problems.push_back("the mm holds no mm_struct slab object");
    for (const auto& f : task.files.fd)
        if (f && !f->slab.backed()) problems.push_back("an open file holds no filp slab object");
    for (const vm_area_struct& v : mm->mm_rb) {
        const std::string at = "VMA " + hex(v.vm_start.value) + "-" + hex(v.vm_end.value);
        if (!v.slab.backed()) {
            problems.push_back(at + " holds no vm_area_struct slab object");
            continue;
        }
        const uint64_t mask = v.slab.cache()->word_size() == 4 ? 0xffffffffull : ~0ull;
        const std::pair<VmaField, uint64_t> expect[] = {
            {VmaField::vm_start, v.vm_start.value},
            {VmaField::vm_end, v.vm_end.value},
            {VmaField::vm_next, v.vm_next ? v.vm_next->slab.kernel_address() : 0},
            {VmaField::vm_prev, v.vm_prev ? v.vm_prev->slab.kernel_address() : 0},
            {VmaField::vm_mm, mm->slab.kernel_address()},
            {VmaField::vm_flags, v.vm_flags},
            {VmaField::vm_pgoff, v.vm_pgoff},
            {VmaField::vm_file, v.vm_file ? v.vm_file->slab.kernel_address() : 0},
        };
        for (const auto& [field, value] : expect)
            if (v.slab.get(field) != (value & mask))
                problems.push_back(at + ": its slab object's " +
                                   vm_area_struct_layout.fields[static_cast<unsigned>(field)].name + " is " +
                                   hex(v.slab.get(field)) + ", not " + hex(value & mask));
    }
    for (auto& p : mm->caches->check_counts()) problems.push_back(std::move(p));
    return problems;
}

}  // namespace guestos
