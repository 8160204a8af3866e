// The OOM killer's arithmetic (mm/oom_kill.c): oom_badness counts resident pages, swap
// entries and page tables, oom_score_adj moves it by thousandths of RAM + swap, -1000
// exempts a process, and /proc/PID/oom_score scales it to 0..2000.
#include <gtest/gtest.h>

#include <climits>
#include <memory>

#include "guestos/include/mm_types.h"
#include "guestos/include/sched.h"
#include "guestos/mm/oom_kill.h"

using namespace guestos;

namespace {

std::unique_ptr<task_struct> task_with(uint64_t anon, uint64_t swapents, uint64_t pgtable_pages, int pid) {
    auto t = std::make_unique<task_struct>();
    t->pid = t->tgid = pid;
    t->mm = std::make_shared<mm_struct>();
    t->mm->rss_anon = anon;
    t->mm->swapents = swapents;
    t->mm->pgtables_bytes = pgtable_pages * 4096;
    return t;
}

TEST(OomBadness, CountsRssSwapAndPageTables) {
    auto t = task_with(1000, 500, 7, 2);
    t->mm->rss_file = 20;
    t->mm->rss_shmem = 3;
    EXPECT_EQ(oom_badness(*t, 100000), 1000 + 20 + 3 + 500 + 7);
}

TEST(OomBadness, AdjMovesByThousandthsOfRamAndSwap) {
    auto t = task_with(1000, 0, 0, 2);
    t->signal->oom_score_adj = 500;
    EXPECT_EQ(oom_badness(*t, 100000), 1000 + 500 * 100);
    t->signal->oom_score_adj = -500;
    EXPECT_EQ(oom_badness(*t, 100000), 1000 - 500 * 100) << "may go below zero, as Linux's";
}

TEST(OomBadness, UnkillableProcessesScoreLongMin) {
    auto t = task_with(1000, 0, 0, 2);
    t->signal->oom_score_adj = OOM_SCORE_ADJ_MIN;
    EXPECT_EQ(oom_badness(*t, 100000), LONG_MIN);
    auto init = task_with(1000, 0, 0, 1);
    EXPECT_EQ(oom_badness(*init, 100000), LONG_MIN) << "is_global_init";
    auto reaped = task_with(1000, 0, 0, 3);
    reaped->mm->mmf_oom_skip = true;
    EXPECT_EQ(oom_badness(*reaped, 100000), LONG_MIN) << "MMF_OOM_SKIP";
    task_struct no_mm;
    no_mm.pid = no_mm.tgid = 4;
    EXPECT_EQ(oom_badness(no_mm, 100000), LONG_MIN);
}

}  // namespace
