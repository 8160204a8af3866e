// The OOM killer (Linux mm/oom_kill.c).
#include "guestos/mm/oom_kill.h"

#include <unistd.h>

#include "guestos/include/kernel.h"
#include "guestos/include/mm_types.h"
#include "guestos/include/sched.h"
#include "guestos/include/signal.h"
#include "guestos/mm/memory.h"
#include "guestos/mm/swapfile.h"

namespace guestos {

namespace {

uint64_t K(uint64_t pages) { return pages * (PAGE_SIZE >> 10); }

// The task whose badness counts for a process: its leader while alive (find_lock_task_mm).
bool oom_candidate(const task_struct& t) {
    return t.group_leader == &t && !t.exit_state && t.mm && t.tgid != 1;  // is_global_init
}

// The process with the highest badness, or null (select_bad_process -> oom_evaluate_task).
task_struct* select_bad_process(Kernel& k, uint64_t totalpages, long& chosen_points) {
    task_struct* chosen = nullptr;
    chosen_points = LONG_MIN;
    for (task_struct* t : k.all_tasks()) {
        if (!oom_candidate(*t)) continue;
        const long points = oom_badness(*t, totalpages);
        if (points == LONG_MIN || points < chosen_points) continue;
        chosen = t;
        chosen_points = points;
    }
    return chosen;
}

// Frees what the victim's private mappings hold at once, RAM and swap, so memory comes back
// before the victim runs again to die (__oom_reap_task_mm); MMF_OOM_SKIP then keeps it
// from being chosen twice.
void oom_reap_task_mm(task_struct& victim) {
    mm_struct& mm = *victim.mm;
    for (vm_area_struct& v : mm.mm_rb)
        if (v.is_anonymous() || !(v.vm_flags & VM_SHARED)) zap_page_range(mm, v.vm_start, v.vm_end);
    mm.mmf_oom_skip = true;
    std::fprintf(oom_log(),
                 "oom_reaper: reaped process %d (%s), now anon-rss:%llukB, file-rss:%llukB, shmem-rss:%llukB\n",
                 victim.tgid, victim.comm.c_str(), (unsigned long long)K(mm.rss_anon),
                 (unsigned long long)K(mm.rss_file), (unsigned long long)K(mm.rss_shmem));
}

// Reports the victim and sends it SIGKILL (__oom_kill_process).
void oom_kill_process(Kernel& k, task_struct& victim) {
    const mm_struct& mm = *victim.mm;
    std::fprintf(oom_log(),
                 "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                 "task_memcg=/,task=%s,pid=%d,uid=%u\n",
                 victim.comm.c_str(), victim.tgid, victim.cred.uid);
    std::fprintf(oom_log(),
                 "Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, file-rss:%llukB, "
                 "shmem-rss:%llukB, UID:%u pgtables:%llukB oom_score_adj:%hd\n",
                 victim.tgid, victim.comm.c_str(), (unsigned long long)K(mm.total_vm),
                 (unsigned long long)K(mm.rss_anon), (unsigned long long)K(mm.rss_file),
                 (unsigned long long)K(mm.rss_shmem), victim.cred.uid, (unsigned long long)(mm.pgtables_bytes >> 10),
                 victim.signal->oom_score_adj);
    if (lruvec* lv = k.page_alloc().node_lruvec()) lv->count_vm_events(OOM_KILL);
    kernel_siginfo info;
    info.si_signo = SIGKILL_;
    info.si_code = SI_KERNEL;
    send_signal_group(victim, info, true);
    oom_reap_task_mm(victim);
}

}  // namespace

FILE*& oom_log() {
    static FILE* f = stderr;
    return f;
}

long oom_badness(const task_struct& p, uint64_t totalpages) {
    if (!p.mm || p.tgid == 1) return LONG_MIN;  // oom_unkillable_task, find_lock_task_mm
    long adj = p.signal->oom_score_adj;
    if (adj == OOM_SCORE_ADJ_MIN || p.mm->mmf_oom_skip) return LONG_MIN;
    const mm_struct& mm = *p.mm;
    long points = static_cast<long>(mm.rss() + mm.swapents + mm.pgtables_bytes / PAGE_SIZE);
    adj *= static_cast<long>(totalpages / 1000);  // the adjustment is in thousandths of RAM + swap
    return points + adj;
}

uint64_t oom_totalpages(const Kernel& k) {
    return const_cast<Kernel&>(k).page_alloc().totalram_pages() + total_swap_pages();
}

unsigned long proc_oom_score(const Kernel& k, const task_struct& p) {
    const long totalpages = static_cast<long>(std::max<uint64_t>(oom_totalpages(k), 1));
    const long badness = oom_badness(*p.group_leader, static_cast<uint64_t>(totalpages));
    if (badness == LONG_MIN) return 0;
    return static_cast<unsigned long>((1000 + badness * 1000 / totalpages) * 2 / 3);  // [0, 2000] scaled
}

bool out_of_memory(Kernel& k, task_struct& current, unsigned order, bool& killed_any) {
    killed_any = false;
    std::fprintf(oom_log(), "%s invoked oom-killer: gfp_mask=%#x(GFP_HIGHUSER_MOVABLE), order=%u, oom_score_adj=%hd\n",
                 current.comm.c_str(), GFP_HIGHUSER_MOVABLE, order, current.signal->oom_score_adj);
    long points = 0;
    task_struct* victim = select_bad_process(k, oom_totalpages(k), points);
    if (!victim) {
        std::fprintf(oom_log(), "Out of memory and no killable processes...\n");
        return false;
    }
    oom_kill_process(k, *victim);
    killed_any = true;
    return victim->tgid == current.tgid;
}

}  // namespace guestos
