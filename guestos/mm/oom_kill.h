// The OOM killer (Linux mm/oom_kill.c): when reclaim cannot free memory for a page fault,
// out_of_memory picks the process whose memory counts most (oom_badness: resident pages,
// swap entries and page tables, moved by oom_score_adj), reports it as the kernel does,
// kills it with SIGKILL and reaps its anonymous memory at once (the oom_reaper).
#pragma once
#include <climits>
#include <cstdint>
#include <cstdio>

namespace guestos {

class Kernel;
struct task_struct;

inline constexpr short OOM_SCORE_ADJ_MIN = -1000;
inline constexpr short OOM_SCORE_ADJ_MAX = 1000;

// Where the kernel's OOM report goes (dmesg; emu's stderr by default).
FILE*& oom_log();

// The badness of p's process against totalpages of RAM and swap (oom_badness); LONG_MIN
// for one that may not be killed (no mm, emu's init, oom_score_adj -1000, exiting).
long oom_badness(const task_struct& p, uint64_t totalpages);
// RAM plus swap pages, what badness is measured against (oc->totalpages).
uint64_t oom_totalpages(const Kernel& k);
// /proc/PID/oom_score: badness scaled to 0..2000 (proc_oom_score).
unsigned long proc_oom_score(const Kernel& k, const task_struct& p);

// A page fault could not get memory (pagefault_out_of_memory -> out_of_memory): selects a
// victim (select_bad_process), reports and kills it (oom_kill_process) and reaps its
// anonymous memory (__oom_reap_task_mm). True if the faulting task itself was chosen;
// false when another process died for it (the fault is retried) or none could be chosen.
bool out_of_memory(Kernel& k, task_struct& current, unsigned order, bool& killed_any);

}  // namespace guestos
