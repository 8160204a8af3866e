// The slab images of the OS's objects (guestos/mm/slab_object.h): what each writes, and when.
//
// A VMA's image is written by the VMA tree at each change (vm_area_struct::sync_slab). The
// mm carries a dirty mark, set by whatever changes one of its fields, and the return to user
// mode (sync_task_slab_images, from a syscall or a page fault) writes a marked image once.
// A task's fields (the scheduler's state, exit, exec) and an open file's (f_pos, f_flags,
// its count) change in too many places to mark, so their images are compared with what was
// last written and only the differences written. A getppid thus writes nothing.
// check_slab_images compares the images with their objects, so a change that forgot its
// mark shows at --check-mm.
#include "guestos/include/fs.h"
#include "guestos/include/sched.h"
#include "base/format.h"
#include "guestos/include/uapi/fcntl.h"

namespace guestos {

using base::hex;

namespace {

// The rss counters' order (enum mm_counter_type).
constexpr unsigned MM_FILEPAGES = 0, MM_ANONPAGES = 1, MM_SHMEMPAGES = 3;
constexpr uint64_t FMODE_READ = 0x1, FMODE_WRITE = 0x2;

const SlabObject* slab_of(const vm_area_struct* v) { return v ? &v->slab : nullptr; }

// Calls fn(field, word, value) for each scalar the mm_struct image holds (word: the index
// in an array member). One list for the writer and the checker.
template <class Fn>
void mm_image(const mm_struct& mm, Fn&& fn) {
    const vm_area_struct* root = mm.mm_rb.rb_root();
    const vm_area_struct* first = mm.mm_rb.first();
    // mm_rb.rb_node points at the vm_rb member of the root VMA.
    const bool root_backed = root && root->slab.backed();
    const uint64_t vm_rb = root_backed ? root->slab.kernel_address() +
                                             root->slab.cache()->slot(static_cast<unsigned>(VmaField::vm_rb)).offset
                                       : 0;
    const ObjectCache& c = *mm.slab.cache();
    const std::pair<MmField, uint64_t> scalars[] = {
        {MmField::mmap, first && first->slab.backed() ? first->slab.kernel_address() : 0},
        {MmField::mm_rb, vm_rb},
        {MmField::mmap_base, mm.mmap_base},
        {MmField::task_size, mm.task_size},
        {MmField::highest_vm_end, mm.mm_rb.highest_vm_end().value},
        {MmField::pgd, mm.pgd.value ? c.kernel_address(mm.pgd) : 0},
        {MmField::mm_users, static_cast<uint64_t>(mm.mm_users)},
        {MmField::mm_count, 1},
        {MmField::pgtables_bytes, mm.pgtables_bytes},
        {MmField::map_count, static_cast<uint64_t>(mm.map_count)},
        {MmField::hiwater_rss, mm.hiwater_rss},
        {MmField::hiwater_vm, mm.hiwater_vm},
        {MmField::total_vm, mm.total_vm},
        {MmField::locked_vm, mm.locked_vm},
        {MmField::data_vm, mm.data_vm},
        {MmField::exec_vm, mm.exec_vm},
        {MmField::stack_vm, mm.stack_vm},
        {MmField::def_flags, mm.def_flags},
        {MmField::start_code, mm.start_code},
        {MmField::end_code, mm.end_code},
        {MmField::start_data, mm.start_data},
        {MmField::end_data, mm.end_data},
        {MmField::start_brk, mm.start_brk},
        {MmField::brk, mm.brk},
        {MmField::start_stack, mm.start_stack},
        {MmField::arg_start, mm.arg_start},
        {MmField::arg_end, mm.arg_end},
        {MmField::env_start, mm.env_start},
        {MmField::env_end, mm.env_end},
    };
    for (const auto& [field, value] : scalars) fn(field, 0u, value);
    fn(MmField::rss_stat, MM_FILEPAGES, mm.rss_file);
    fn(MmField::rss_stat, MM_ANONPAGES, mm.rss_anon);
    fn(MmField::rss_stat, MM_SHMEMPAGES, mm.rss_shmem);
}

// The task_struct image's scalars, in TaskImage's order (comm, a char array, is apart).
constexpr TaskField task_fields[] = {TaskField::state,       TaskField::usage,      TaskField::mm,
                                     TaskField::active_mm,   TaskField::exit_state, TaskField::exit_code,
                                     TaskField::exit_signal, TaskField::pid,        TaskField::tgid};
std::array<uint64_t, std::size(task_fields)> task_image(const task_struct& t) {
    const uint64_t mm = t.mm ? t.mm->slab.kernel_address() : 0;
    return {t.exited ? TASK_DEAD : t.state,
            1,
            mm,
            mm,
            static_cast<uint64_t>(t.exit_state),
            static_cast<uint64_t>(t.exit_code),  // the wait status
            static_cast<uint64_t>(static_cast<int64_t>(t.exit_signal)),
            static_cast<uint64_t>(t.pid),
            static_cast<uint64_t>(t.tgid)};
}

uint64_t f_mode_of(unsigned f_flags) {
    const unsigned acc = f_flags & O_ACCMODE_;
    return (acc != O_WRONLY_ ? FMODE_READ : 0) | (acc != O_RDONLY_ ? FMODE_WRITE : 0);
}

// Compares each field an image writer lists with the object's slab, for check_slab_images.
template <class Field>
void check_field(std::vector<std::string>& problems, const std::string& what, const SlabObject& slab,
                 const ObjectLayout& layout, Field field, uint64_t value) {
    const uint64_t mask = slab.cache()->word_size() == 4 ? 0xffffffffull : ~0ull;
    const FieldSlot s = slab.cache()->slot(static_cast<unsigned>(field));
    if (s.size && s.size < 8) value &= (1ull << (8 * s.size)) - 1;
    if (slab.get(field) != (value & mask))
        problems.push_back(what + ": its slab object's " + layout.fields[static_cast<unsigned>(field)].name + " is " +
                           hex(slab.get(field)) + ", not " + hex(value & mask));
}

}  // namespace

void vm_area_struct::sync_slab() const {
    if (vm_mm) vm_mm->mark_slab_dirty();  // its mmap, mm_rb, map_count or highest_vm_end may change
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
    if (!slab.backed()) return;  // stays dirty until it has an object
    mm_image(*this, [&](MmField field, unsigned word, uint64_t value) {
        if (word) slab.set_word(field, word, value);
        else if (field == MmField::rss_stat) slab.set_word(field, 0, value);
        else slab.set(field, value);
    });
    slab_dirty = false;
}

void task_struct::sync_slab() const {
    if (!slab.backed()) return;
    SlabWritten& w = slab_written;
    const bool whole = w.object != slab.phys();
    const auto values = task_image(*this);
    for (size_t i = 0; i < values.size(); ++i)
        if (whole || w.values[i] != values[i]) slab.set(task_fields[i], values[i]);
    if (whole || w.comm != comm) slab.set_bytes(TaskField::comm, comm);
    w.object = slab.phys();
    w.values = values;
    if (w.comm != comm) w.comm = comm;
}

void file::sync_slab(long f_count) const {
    if (!slab.backed()) return;
    SlabWritten& w = slab_written;
    const bool whole = w.object != slab.phys();
    if (whole || w.f_count != f_count) slab.set(FileField::f_count, static_cast<uint64_t>(f_count));
    if (whole || w.f_flags != f_flags) {
        slab.set(FileField::f_flags, f_flags);
        slab.set(FileField::f_mode, f_mode_of(f_flags));
    }
    if (whole || w.f_pos != f_pos) slab.set(FileField::f_pos, static_cast<uint64_t>(f_pos));
    w = {slab.phys(), f_count, f_flags, f_pos};
}

void sync_task_slab_images(const task_struct& task) {
    task.sync_slab();
    if (task.mm && task.mm->slab_dirty) task.mm->sync_slab();
    if (task.files)
        for (const auto& f : task.files->fd)
            if (f) f->sync_slab(f.use_count());
}

std::vector<std::string> check_slab_images(const task_struct& task) {
    std::vector<std::string> problems;
    const mm_struct* mm = task.mm.get();
    if (!mm || !mm->caches) return problems;  // no slab yet: nothing has to hold an object
    if (!task.slab.backed()) problems.push_back("the task holds no task_struct slab object");
    if (!mm->slab.backed()) problems.push_back("the mm holds no mm_struct slab object");
    if (task.files)
        for (const auto& f : task.files->fd)
            if (f && !f->slab.backed()) problems.push_back("an open file holds no filp slab object");
    for (const vm_area_struct& v : mm->mm_rb) {
        const std::string at = "VMA " + hex(v.vm_start.value) + "-" + hex(v.vm_end.value);
        if (!v.slab.backed()) {
            problems.push_back(at + " holds no vm_area_struct slab object");
            continue;
        }
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
            check_field(problems, at, v.slab, vm_area_struct_layout, field, value);
    }
    // The task and mm images as the last return to user mode left them.
    if (mm->slab.backed() && !mm->slab_dirty)
        mm_image(*mm, [&](MmField field, unsigned word, uint64_t value) {
            if (field != MmField::rss_stat) check_field(problems, "the mm", mm->slab, mm_struct_layout, field, value);
        });
    if (task.slab.backed() && task.slab_written.object == task.slab.phys()) {
        const auto values = task.slab_written.values;  // as of the last return to user mode
        for (size_t i = 0; i < values.size(); ++i)
            check_field(problems, "the task", task.slab, task_struct_layout, task_fields[i], values[i]);
    }
    if (task.files)
        for (const auto& f : task.files->fd) {
            if (!f || !f->slab.backed()) continue;
            check_field(problems, "an open file", f->slab, file_layout, FileField::f_pos,
                        static_cast<uint64_t>(f->f_pos));
            check_field(problems, "an open file", f->slab, file_layout, FileField::f_flags, f->f_flags);
        }
    for (auto& p : mm->caches->check_counts()) problems.push_back(std::move(p));
    return problems;
}

}  // namespace guestos
