// Overcommit accounting (mm/util.c; the sysctls live in vm_overcommit, include/page.h).
#pragma once
#include <cstdint>

namespace guestos {

class PageAllocator;
class ctl_table_root;
struct mm_struct;

// The reserves overcommit_memory=2 keeps back for root and for a runaway process, from the
// free memory at boot (init_user_reserve, init_admin_reserve).
void init_overcommit_reserves(PageAllocator& pa);
// CommitLimit in pages: overcommit_kbytes, or overcommit_ratio percent of RAM, plus swap.
uint64_t vm_commit_limit(const PageAllocator& pa);
void vm_acct_memory(mm_struct& mm, long pages);
void vm_unacct_memory(mm_struct& mm, long pages);
void vm_unacct_memory(PageAllocator& pa, long pages);
// Charges pages to vm_committed_as when the policy allows it (0), else -ENOMEM and nothing
// charged: heuristic (0) refuses a request larger than RAM + swap, always (1) nothing,
// never (2) what would pass CommitLimit less the reserves (__vm_enough_memory). mm (null
// for a kernel thread) is the process asking: its size bounds the user reserve.
long __vm_enough_memory(PageAllocator& pa, const mm_struct* mm, long pages, bool cap_sys_admin);
long security_vm_enough_memory_mm(mm_struct& mm, long pages);
// The same for the current task's memory (shmem's charges: security_vm_enough_memory_mm(current->mm)).
long security_vm_enough_memory(PageAllocator& pa, long pages);
// Whether MAP_NORESERVE is honoured: unless overcommit is "never" (do_mmap).
bool overcommit_allows_noreserve(const mm_struct& mm);
// The pages of mm's VM_ACCOUNT mappings (what it has charged).
long vm_accounted_pages(const mm_struct& mm);

// Registers vm.overcommit_memory, overcommit_ratio, overcommit_kbytes, user_reserve_kbytes
// and admin_reserve_kbytes over pa's overcommit state (mm/util.c's sysctl table).
void util_sysctl_init(ctl_table_root& root, PageAllocator& pa);

}  // namespace guestos
