// Kernel stacks (the host side of switch_to): a syscall runs on a stack of its own, so that
// when it must sleep (a pipe read, wait4, a futex) it can leave the CPU in the middle and be
// continued later, while other tasks run. Stacks come from a pool: a syscall that does not
// sleep gives its stack back at once; one that sleeps keeps it (task_struct::kstack).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>

namespace guestos {

struct task_struct;

struct kernel_stack {
    kernel_stack();
    ~kernel_stack();
    kernel_stack(const kernel_stack&) = delete;
    kernel_stack& operator=(const kernel_stack&) = delete;

    void* sp = nullptr;         // the stack's saved stack pointer while it is switched out
    void* caller_sp = nullptr;  // the host context that switched to it
    std::function<long()> job;  // the syscall it runs
    long result = 0;
    bool done = false;
    unsigned char* mem = nullptr;
    size_t size = 0;
};

// Runs fn on a kernel stack of t: true with ret when it finished; false when it went to
// sleep (schedule), leaving the stack with t until kstack_resume finishes it.
bool kstack_run(task_struct& t, std::function<long()> fn, long& ret);
// Continues the sleeping syscall of t: true with ret when it finished, false when it slept again.
bool kstack_resume(task_struct& t, long& ret);
// From code running on t's kernel stack: back to whoever switched to it (t sleeps).
void kstack_switch_out(task_struct& t);
// t is running on its kernel stack now.
bool on_kstack(const task_struct& t);

}  // namespace guestos
