// Overcommit accounting (mm/util.c): what a private writable mapping commits, and whether the
// machine can take a new commitment under /proc/sys/vm/overcommit_memory's policy.
#include "guestos/mm/util.h"

#include <algorithm>

#include "guestos/include/cred.h"
#include "guestos/include/errno.h"
#include "guestos/include/mm_types.h"
#include "guestos/include/page.h"
#include "guestos/include/sched.h"
#include "guestos/include/sysctl.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

void init_overcommit_reserves(PageAllocator& pa) {
    const uint64_t free_kbytes = pa.nr_free_pages() << (PAGE_SHIFT - 10);
    pa.overcommit.user_reserve_kbytes = std::min<uint64_t>(free_kbytes / 32, 128 * 1024);  // init_user_reserve
    pa.overcommit.admin_reserve_kbytes = std::min<uint64_t>(free_kbytes / 32, 8 * 1024);   // init_admin_reserve
}

uint64_t vm_commit_limit(const PageAllocator& pa) {
    const vm_overcommit& o = pa.overcommit;
    const uint64_t ram =
        o.overcommit_kbytes
            ? o.overcommit_kbytes >> (PAGE_SHIFT - 10)
            : pa.totalram_pages() * static_cast<uint64_t>(static_cast<int64_t>(o.overcommit_ratio)) / 100;
    return ram + total_swap_pages();
}

void vm_acct_memory(mm_struct& mm, long pages) {
    if (mm.page_alloc) mm.page_alloc->overcommit.vm_committed_as += pages;
}
void vm_unacct_memory(mm_struct& mm, long pages) {
    if (mm.page_alloc) vm_unacct_memory(*mm.page_alloc, pages);
}
void vm_unacct_memory(PageAllocator& pa, long pages) { pa.overcommit.vm_committed_as -= pages; }

long __vm_enough_memory(PageAllocator& pa, const mm_struct* mm, long pages, bool cap_sys_admin) {
    const vm_overcommit& o = pa.overcommit;
    pa.overcommit.vm_committed_as += pages;  // vm_acct_memory
    if (o.overcommit_memory == OVERCOMMIT_ALWAYS) return 0;
    if (o.overcommit_memory == OVERCOMMIT_GUESS) {
        // The heuristic refuses only what could never fit: more than RAM and swap together.
        if (static_cast<uint64_t>(pages) <= pa.totalram_pages() + total_swap_pages()) return 0;
    } else {
        int64_t allowed = static_cast<int64_t>(vm_commit_limit(pa));
        if (!cap_sys_admin) allowed -= static_cast<int64_t>(o.admin_reserve_kbytes >> (PAGE_SHIFT - 10));
        // Don't let a single process grow so big a user can't recover.
        if (mm)
            allowed -= std::min<int64_t>(static_cast<int64_t>(mm->total_vm / 32),
                                         static_cast<int64_t>(o.user_reserve_kbytes >> (PAGE_SHIFT - 10)));
        if (std::max<int64_t>(o.vm_committed_as, 0) < allowed) return 0;
    }
    vm_unacct_memory(pa, pages);
    return -ENOMEM;
}

// (An mm without an allocator is a unit test's: nothing to account.)
long security_vm_enough_memory_mm(mm_struct& mm, long pages) {
    return mm.page_alloc ? __vm_enough_memory(*mm.page_alloc, &mm, pages, capable(CAP_SYS_ADMIN_)) : 0;
}

long security_vm_enough_memory(PageAllocator& pa, long pages) {
    const task_struct* t = get_current();
    return __vm_enough_memory(pa, t ? t->mm.get() : nullptr, pages, capable(CAP_SYS_ADMIN_));
}

bool overcommit_allows_noreserve(const mm_struct& mm) {
    return !mm.page_alloc || mm.page_alloc->overcommit.overcommit_memory != OVERCOMMIT_NEVER;
}

long vm_accounted_pages(const mm_struct& mm) {
    long n = 0;
    for (const vm_area_struct& v : mm.mm_rb)
        if (v.vm_flags & VM_ACCOUNT) n += static_cast<long>(v.size() >> PAGE_SHIFT);
    return n;
}

namespace {

// vm.overcommit_memory: the policy changes only when a whole valid value was written
// (overcommit_policy_handler).
long overcommit_policy_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    if (!write) return proc_dointvec_minmax(table, write, buffer, lenp, ppos);
    int new_policy = -1;
    ctl_table t = *table;
    t.data = &new_policy;
    const long ret = proc_dointvec_minmax(&t, write, buffer, lenp, ppos);
    if (ret || new_policy == -1) return ret;
    *static_cast<int*>(table->data) = new_policy;
    return 0;
}

// vm.overcommit_ratio: setting it makes CommitLimit a ratio again (overcommit_kbytes 0).
long overcommit_ratio_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    const long ret = proc_dointvec(table, write, buffer, lenp, ppos);
    if (ret == 0 && write) static_cast<vm_overcommit*>(table->owner)->overcommit_kbytes = 0;
    return ret;
}

// vm.overcommit_kbytes: setting it makes CommitLimit a size (overcommit_ratio 0).
long overcommit_kbytes_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    const long ret = proc_doulongvec_minmax(table, write, buffer, lenp, ppos);
    if (ret == 0 && write) static_cast<vm_overcommit*>(table->owner)->overcommit_ratio = 0;
    return ret;
}

}  // namespace

void util_sysctl_init(ctl_table_root& root, PageAllocator& pa) {
    vm_overcommit& o = pa.overcommit;
    root.register_sysctl(
        "vm",
        {
            {"overcommit_memory", &o.overcommit_memory, sizeof(int), 0644, overcommit_policy_handler, SYSCTL_ZERO,
             SYSCTL_TWO},
            {"overcommit_ratio", &o.overcommit_ratio, sizeof(int), 0644, overcommit_ratio_handler, nullptr, nullptr,
             &o},
            {"overcommit_kbytes", &o.overcommit_kbytes, sizeof(unsigned long), 0644, overcommit_kbytes_handler, nullptr,
             nullptr, &o},
            {"user_reserve_kbytes", &o.user_reserve_kbytes, sizeof(unsigned long), 0644, proc_doulongvec_minmax},
            {"admin_reserve_kbytes", &o.admin_reserve_kbytes, sizeof(unsigned long), 0644, proc_doulongvec_minmax},
        });
}

}  // namespace guestos
