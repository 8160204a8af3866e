// Kernel stacks: a minimal x86-64 stack switch (callee-saved registers and rsp) between
// the host loop and a syscall's own stack.
#include "guestos/kernel/sched/kstack.h"

#include <sys/mman.h>

#include <cstdlib>
#include <vector>

#include "guestos/include/sched.h"

extern "C" void emu_kstack_switch(void** save_sp, void* new_sp);
extern "C" void emu_kstack_entry();

// Saves rbp, rbx, r12-r15 on the old stack and its rsp in *save_sp, then loads the new one.
// A fresh stack starts in emu_kstack_entry with its kstack* in r12.
asm(R"(
    .text
    .globl emu_kstack_switch
    .type emu_kstack_switch,@function
emu_kstack_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_kstack_switch, .-emu_kstack_switch
    .globl emu_kstack_entry
    .type emu_kstack_entry,@function
emu_kstack_entry:
    andq $-16, %rsp
    movq %r12, %rdi
    call emu_kstack_main
    ud2
    .size emu_kstack_entry, .-emu_kstack_entry
)");

namespace guestos {

namespace {
constexpr size_t KSTACK_SIZE = 512 * 1024;  // lazily committed host memory
std::vector<std::unique_ptr<kernel_stack>> pool;
const task_struct* running_on = nullptr;  // the task whose kernel stack runs now

std::unique_ptr<kernel_stack> get_kstack() {
    if (pool.empty()) return std::make_unique<kernel_stack>();
    auto k = std::move(pool.back());
    pool.pop_back();
    return k;
}

// Switches from the host to k's stack until it finishes its job or sleeps.
bool enter(task_struct& t, long& ret) {
    kernel_stack& k = *t.kstack;
    const task_struct* outer = running_on;
    running_on = &t;
    const CurrentTask cur(&t);
    emu_kstack_switch(&k.caller_sp, k.sp);
    running_on = outer;
    if (!k.done) return false;
    ret = k.result;
    k.done = false;
    k.job = nullptr;
    pool.push_back(std::move(t.kstack));
    return true;
}
}  // namespace

}  // namespace guestos

// Each job runs to its end, then the stack goes back to its caller and waits for the next.
extern "C" [[noreturn]] void emu_kstack_main(guestos::kernel_stack* k) {
    for (;;) {
        k->result = k->job();
        k->done = true;
        emu_kstack_switch(&k->sp, k->caller_sp);
    }
}

namespace guestos {

kernel_stack::kernel_stack() {
    size = KSTACK_SIZE;
    void* m = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) std::abort();
    mem = static_cast<unsigned char*>(m);
    mprotect(mem, 4096, PROT_NONE);  // a guard page below the stack
    // The frame emu_kstack_switch pops: r15, r14, r13, r12 (this), rbx, rbp, return address.
    auto* top = reinterpret_cast<void**>(mem + size) - 8;
    top[0] = nullptr;
    top[1] = nullptr;
    top[2] = nullptr;
    top[3] = this;
    top[4] = nullptr;
    top[5] = nullptr;
    top[6] = reinterpret_cast<void*>(&emu_kstack_entry);
    sp = top;
}

kernel_stack::~kernel_stack() { munmap(mem, size); }

bool kstack_run(task_struct& t, std::function<long()> fn, long& ret) {
    t.kstack = get_kstack();
    t.kstack->job = std::move(fn);
    return enter(t, ret);
}

bool kstack_resume(task_struct& t, long& ret) { return t.kstack && enter(t, ret); }

void kstack_switch_out(task_struct& t) {
    kernel_stack& k = *t.kstack;
    emu_kstack_switch(&k.sp, k.caller_sp);
}

bool on_kstack(const task_struct& t) { return running_on == &t && t.kstack; }

}  // namespace guestos
