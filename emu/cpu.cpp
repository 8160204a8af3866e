// The guest CPU on Unicorn. Facts this relies on are in ARCHITECTURE.md ("Shadow paging").
#include "emu/cpu.h"

#include "guestos/include/host_signal.h"

#include <capstone/capstone.h>
#include <unicorn/unicorn.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "devices/cpuid.h"
#include "emu/access.h"
#include "emu/libunicorn.h"
#include "guestos/trace/fault_trace.h"
#include "guestos/kernel/time/itimer.h"
#include "guestos/mm/memory.h"
#include "guestos/include/signal.h"
#include "guestos/arch/x86/include/asm/ptrace.h"
#include "guestos/arch/x86/kernel/tls.h"
#include "guestos/kernel/sched/core.h"
#include "guestos/arch/x86/entry/strace.h"

namespace emu {

// Unicorn's callbacks; `self` is the Cpu that registered them.
struct CpuHooks {
    static void hook_intr(uc_engine* uc, uint32_t intno, void* self);
    static void hook_syscall(uc_engine* uc, void* self);
    static int hook_cpuid(uc_engine* uc, void* self);
    static bool hook_unmapped(uc_engine* uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void* self);
    static void hook_breakpoint(uc_engine* uc, uint64_t address, uint32_t size, void* self);
    static void hook_step(uc_engine* uc, uint64_t address, uint32_t size, void* self);
};

namespace {

// The kernel area: GDT, entry stub, calibration probes, kernel stack and the PAE root.
constexpr uint64_t KBASE64 = 0xffffffffffe00000ull;
constexpr uint64_t KBASE32 = 0xffe00000ull;
// The mm's LDT (up to LDT_ENTRIES descriptors, 64 KiB) follows at OFF_LDT.
constexpr uint64_t KAREA_SIZE = 132 * 1024;
constexpr uint64_t OFF_GDT = 0x0000, OFF_STUB = 0x1000, OFF_PROBE_PF = 0x1100, OFF_PROBE_UD = 0x1200;
constexpr uint64_t OFF_STOP = 0x1ff0, OFF_KSTACK_TOP = 0x4000, OFF_PAE_ROOT = 0x4000;
constexpr uint64_t OFF_LDT = 0x10000, LDT_BYTES = 0x10000;
// The last kernel-area page is left out of the shadow: the calibration probe faults on it.
constexpr uint64_t OFF_UNMAPPED = KAREA_SIZE - 0x1000;
// The shadow pool sits just below 2^40, where Unicorn's walker still accepts addresses.
constexpr uint64_t SHADOW_BASE = (1ull << 40) - (64ull << 20);
constexpr uint64_t SHADOW_SIZE = 64ull << 20;

// Linux's GDT selectors.
constexpr uint16_t USER_CS64 = 0x33, USER_DS64 = 0x2b;
constexpr uint16_t USER_CS32 = 0x73, USER_DS32 = 0x7b;
constexpr int GDT_ENTRIES = 32;

// x86 exception vectors.
enum : uint32_t {
    X86_TRAP_DE = 0,
    X86_TRAP_DB = 1,
    X86_TRAP_BP = 3,
    X86_TRAP_OF = 4,
    X86_TRAP_BR = 5,
    X86_TRAP_UD = 6,
    X86_TRAP_NM = 7,
    X86_TRAP_DF = 8,
    X86_TRAP_TS = 10,
    X86_TRAP_NP = 11,
    X86_TRAP_SS = 12,
    X86_TRAP_GP = 13,
    X86_TRAP_PF = 14,
    X86_TRAP_MF = 16,
    X86_TRAP_AC = 17,
    X86_TRAP_XF = 19,
    IA32_SYSCALL_VECTOR = 0x80,
};

mmu::Error uc_error(const char* what, uc_err e) {
    return mmu::Error::from_errno(EIO, std::string(what) + ": " + uc_strerror(e));
}

// Capstone register id -> Unicorn register id, for effective-address computation.
int uc_reg_of(int cs) {
    switch (cs) {
    case X86_REG_RAX: return UC_X86_REG_RAX;
    case X86_REG_RBX: return UC_X86_REG_RBX;
    case X86_REG_RCX: return UC_X86_REG_RCX;
    case X86_REG_RDX: return UC_X86_REG_RDX;
    case X86_REG_RSI: return UC_X86_REG_RSI;
    case X86_REG_RDI: return UC_X86_REG_RDI;
    case X86_REG_RBP: return UC_X86_REG_RBP;
    case X86_REG_RSP: return UC_X86_REG_RSP;
    case X86_REG_R8: return UC_X86_REG_R8;
    case X86_REG_R9: return UC_X86_REG_R9;
    case X86_REG_R10: return UC_X86_REG_R10;
    case X86_REG_R11: return UC_X86_REG_R11;
    case X86_REG_R12: return UC_X86_REG_R12;
    case X86_REG_R13: return UC_X86_REG_R13;
    case X86_REG_R14: return UC_X86_REG_R14;
    case X86_REG_R15: return UC_X86_REG_R15;
    case X86_REG_EAX: return UC_X86_REG_EAX;
    case X86_REG_EBX: return UC_X86_REG_EBX;
    case X86_REG_ECX: return UC_X86_REG_ECX;
    case X86_REG_EDX: return UC_X86_REG_EDX;
    case X86_REG_ESI: return UC_X86_REG_ESI;
    case X86_REG_EDI: return UC_X86_REG_EDI;
    case X86_REG_EBP: return UC_X86_REG_EBP;
    case X86_REG_ESP: return UC_X86_REG_ESP;
    case X86_REG_R8D: return UC_X86_REG_R8D;
    case X86_REG_R9D: return UC_X86_REG_R9D;
    case X86_REG_R10D: return UC_X86_REG_R10D;
    case X86_REG_R11D: return UC_X86_REG_R11D;
    case X86_REG_R12D: return UC_X86_REG_R12D;
    case X86_REG_R13D: return UC_X86_REG_R13D;
    case X86_REG_R14D: return UC_X86_REG_R14D;
    case X86_REG_R15D: return UC_X86_REG_R15D;
    default: return UC_X86_REG_INVALID;
    }
}

}  // namespace

static_assert(std::is_same_v<uc_hook, uc_hook_t>);

std::atomic<uc_struct*> Cpu::running{nullptr};

Cpu::Cpu(guestos::Kernel& kernel, guestos::task_struct& task, const CpuConfig& cfg)
    : kernel_(kernel), cur_(&task), loaded_(&task), mm_(task.mm), cfg_(cfg), is64_(task.abi == guestos::Abi::X86_64) {}

Cpu::~Cpu() {
    timer_.reset();  // its thread may call uc_emu_stop until joined
    tlb_.reset();
    if (mm_ && mm_->tlb) mm_->tlb = nullptr;
    for (guestos::task_struct* t : kernel_.all_tasks())
        if (t->cpu == this) t->cpu = nullptr;
    if (scratch_ctx_) uc_context_free(scratch_ctx_);
    if (clean_ctx_) uc_context_free(clean_ctx_);
    if (uc_) uc_close(uc_);
    if (kernel_host_) munmap(kernel_host_, KAREA_SIZE);
    if (shadow_host_) munmap(shadow_host_, SHADOW_SIZE);
}

mmu::ErrorOr<std::unique_ptr<Cpu>> Cpu::create(guestos::Kernel& kernel, guestos::task_struct& task,
                                               const guestos::ExecResult& start, const CpuConfig& cfg,
                                               std::shared_ptr<LapicTimer> timer) {
    std::unique_ptr<Cpu> cpu(new Cpu(kernel, task, cfg));
    cpu->timer_ = timer ? std::move(timer) : std::make_shared<LapicTimer>([] {
        if (uc_engine* uc = running.load()) uc_emu_stop(uc);
    });
    TRY(cpu->init(start));
    return cpu;
}

uint64_t Cpu::reg(int uc_reg) {
    uint64_t v = 0;
    uc_reg_read(uc_, uc_reg, &v);
    return is64_ ? v : (v & 0xffffffffu);
}

void Cpu::set_reg(int uc_reg, uint64_t v) { uc_reg_write(uc_, uc_reg, &v); }

// The instruction pointer (Unicorn reads RIP as 0 in 32-bit mode).
uint64_t Cpu::pc() { return reg(is64_ ? UC_X86_REG_RIP : UC_X86_REG_EIP); }

// Maps the kernel area and the shadow pool into Unicorn, and the kernel pages into the shadow.
mmu::ErrorOr<void> Cpu::map_kernel_area() {
    const uint64_t kbase = is64_ ? KBASE64 : KBASE32;
    kernel_host_ =
        static_cast<uint8_t*>(mmap(nullptr, KAREA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    shadow_host_ = static_cast<uint8_t*>(
        mmap(nullptr, SHADOW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    if (kernel_host_ == MAP_FAILED || shadow_host_ == MAP_FAILED) {
        kernel_host_ = shadow_host_ = nullptr;
        return mmu::Error::from_errno(ENOMEM, "cannot reserve host memory for the CPU");
    }
    if (uc_err e = uc_mem_map_ptr(uc_, kbase, KAREA_SIZE, UC_PROT_ALL, kernel_host_))
        return uc_error("map kernel area", e);
    if (uc_err e = uc_mem_map_ptr(uc_, SHADOW_BASE, SHADOW_SIZE, UC_PROT_ALL, shadow_host_))
        return uc_error("map shadow pool", e);
    if (is64_)
        shadow_ = std::make_unique<mmu::ShadowPageTables>(mmu::ShadowFormat::LongMode4, shadow_host_, SHADOW_BASE,
                                                          SHADOW_SIZE);
    else
        shadow_ =
            std::make_unique<mmu::ShadowPageTables>(mmu::ShadowFormat::PAE, shadow_host_, SHADOW_BASE, SHADOW_SIZE,
                                                    kernel_host_ + OFF_PAE_ROOT, kbase + OFF_PAE_ROOT);
    // Kernel pages are supervisor-only; their frame field only has to be a valid address.
    for (uint64_t off = 0; off < OFF_UNMAPPED; off += mmu::PAGE_SIZE)
        if (!shadow_->set(VirtAddr(kbase + off), PhysAddr(SHADOW_BASE), {true, false, true}))
            return mmu::Error::from_errno(ENOMEM, "shadow pool exhausted");
    return {};
}

// Linux's GDT layout: x86-64 (kernel CS 0x10, user CS32 0x23, DS 0x2b, CS 0x33) and
// i386 (TLS 6-8, kernel CS 0x60, DS 0x68, user CS 0x73, DS 0x7b).
void Cpu::build_gdt() {
    auto* gdt = reinterpret_cast<uint64_t*>(kernel_host_ + OFF_GDT);
    if (is64_) {
        gdt[2] = 0x00af9b000000ffffull;
        gdt[3] = 0x00cf93000000ffffull;
        gdt[4] = 0x00cffb000000ffffull;
        gdt[5] = 0x00cff3000000ffffull;
        gdt[6] = 0x00affb000000ffffull;
    } else {
        gdt[12] = 0x00cf9a000000ffffull;
        gdt[13] = 0x00cf92000000ffffull;
        gdt[14] = 0x00cffa000000ffffull;
        gdt[15] = 0x00cff2000000ffffull;
    }
    uc_x86_mmr gdtr{};
    gdtr.base = is64_ ? KBASE64 : KBASE32;
    gdtr.limit = GDT_ENTRIES * 8 - 1;
    uc_reg_write(uc_, UC_X86_REG_GDTR, &gdtr);
}

// The iret frame that drops to CPL 3 at the entry point, and the stub that executes it.
void Cpu::enter_user_frame(uint64_t ip, uint64_t sp, uint64_t flags) {
    uint8_t* stub = kernel_host_ + OFF_STUB;
    const uint64_t kstack = (is64_ ? KBASE64 : KBASE32) + OFF_KSTACK_TOP - 64;
    uint8_t* frame = kernel_host_ + OFF_KSTACK_TOP - 64;
    if (is64_) {
        const uint8_t code[] = {0x48, 0xcf};  // iretq
        std::memcpy(stub, code, sizeof code);
        const uint64_t f[5] = {ip, USER_CS64, flags, sp, USER_DS64};
        std::memcpy(frame, f, sizeof f);
        set_reg(UC_X86_REG_RSP, kstack);
    } else {
        // mov eax, 0x68; mov ss, eax (a flat 32-bit kernel stack: Unicorn starts with a 16-bit
        // one); mov eax, 0x7b; mov ds, eax; mov es, eax; xor eax, eax (start_thread leaves every
        // general register 0); iretd
        const uint8_t code[] = {0xb8, 0x68, 0,    0,    0,    0x8e, 0xd0, 0xb8, 0x7b, 0,
                                0,    0,    0x8e, 0xd8, 0x8e, 0xc0, 0x31, 0xc0, 0xcf};
        std::memcpy(stub, code, sizeof code);
        const uint32_t f[5] = {static_cast<uint32_t>(ip), USER_CS32, static_cast<uint32_t>(flags),
                               static_cast<uint32_t>(sp), USER_DS32};
        std::memcpy(frame, f, sizeof f);
        set_reg(UC_X86_REG_ESP, kstack);
    }
}

// The FPU of a new program as Linux initializes it (fpstate_init_fxstate): control word
// 0x37f (extended precision, exceptions masked), MXCSR 0x1f80, every x87 register empty.
void Cpu::fpu_init() {
    set_reg(UC_X86_REG_FPCW, 0x37f);
    set_reg(UC_X86_REG_FPSW, 0);
    set_reg(UC_X86_REG_FPTAG, 0xffff);
    set_reg(UC_X86_REG_MXCSR, 0x1f80);
}

// Unicorn never clears its "exception in flight" mark when a hook handles an exception, so
// the next fault would arrive as #DF. Find where a saved context keeps that mark by raising
// a #PF and a #UD at CPL 0 and comparing with a clean context.
mmu::ErrorOr<void> Cpu::calibrate_exception_state() {
    const uint64_t kbase = is64_ ? KBASE64 : KBASE32;
    // mov eax, kbase+OFF_UNMAPPED (sign-extended); mov al, [rax]  /  xor eax,eax; div eax.
    // Each ends in ud2, which ends the translation block: without it qemu translated the zero
    // bytes after the probe (add [rax], al) up to OFF_STOP, 512-instruction blocks whose
    // constant pools cost O(n^2) (about 1.5 ms per engine, half of a fork's cost).
    const uint32_t target = static_cast<uint32_t>(kbase + OFF_UNMAPPED);
    uint8_t pf[] = {0xb8, 0, 0, 0, 0, 0x8a, 0x00, 0x0f, 0x0b};
    std::memcpy(pf + 1, &target, 4);
    if (is64_) {  // movsxd: mov rax, imm32 sign-extended = 48 c7 c0 imm32
        const uint8_t pf64[] = {0x48, 0xc7, 0xc0, pf[1], pf[2], pf[3], pf[4], 0x8a, 0x00, 0x0f, 0x0b};
        std::memcpy(kernel_host_ + OFF_PROBE_PF, pf64, sizeof pf64);
    } else {
        std::memcpy(kernel_host_ + OFF_PROBE_PF, pf, sizeof pf);
    }
    const uint8_t de[] = {0x31, 0xc0, 0xf7, 0xf0, 0x0f, 0x0b};
    std::memcpy(kernel_host_ + OFF_PROBE_UD, de, sizeof de);
    const size_t size = uc_context_size(uc_);
    uc_context* clean = nullptr;
    if (uc_context_alloc(uc_, &clean) || uc_context_alloc(uc_, &scratch_ctx_))
        return mmu::Error::from_errno(ENOMEM, "cannot allocate a Unicorn context");
    uc_context_save(uc_, clean);
    std::vector<long> candidates;
    const std::pair<uint64_t, int32_t> probes[] = {{OFF_PROBE_PF, 14}, {OFF_PROBE_UD, 0}};
    for (size_t p = 0; p < 2; ++p) {
        run_probe(probes[p].first);
        const auto* a = reinterpret_cast<const uint8_t*>(clean);
        const auto* b = reinterpret_cast<const uint8_t*>(scratch_ctx_);
        std::vector<long> found;
        for (size_t i = 0; calibration_intno_ == static_cast<uint32_t>(probes[p].second) && i + 4 <= size; i += 4) {
            int32_t x, y;
            std::memcpy(&x, a + i, 4);
            std::memcpy(&y, b + i, 4);
            if (x == -1 && y == probes[p].second && (p == 0 || std::count(candidates.begin(), candidates.end(), i)))
                found.push_back(static_cast<long>(i));
        }
        candidates = found;
        uc_context_restore(uc_, clean);
    }
    uc_context_free(clean);
    if (candidates.size() != 1)
        return mmu::Error::from_errno(EIO, "cannot locate Unicorn's exception state (unexpected Unicorn version?)");
    old_exception_offset_ = candidates[0];
    return {};
}

// Unicorn 2.0.1's CPU models report neither NX nor SYSCALL in CPUID 0x80000001, so WRMSR
// drops EFER.NXE and every NX bit in the shadow would be a reserved-bit fault. The page
// walker only consults env->efer, so set NXE there: find EFER in a saved context by
// changing each candidate and reading the MSR back.
mmu::ErrorOr<void> Cpu::enable_nx() {
    constexpr uint64_t EFER_NXE = 1ull << 11;
    uc_x86_msr efer{0xC0000080, 0};
    uc_reg_read(uc_, UC_X86_REG_MSR, &efer);
    const uint64_t want = efer.value | EFER_NXE;
    uc_context* ctx = nullptr;
    if (uc_context_alloc(uc_, &ctx)) return mmu::Error::from_errno(ENOMEM, "cannot allocate a Unicorn context");
    uc_context_save(uc_, ctx);
    const size_t size = uc_context_size(uc_);
    auto* bytes = reinterpret_cast<uint8_t*>(ctx);
    bool done = false;
    for (size_t i = 0; !done && i + 8 <= size; i += 8) {
        uint64_t v;
        std::memcpy(&v, bytes + i, 8);
        if (v != efer.value) continue;
        std::memcpy(bytes + i, &want, 8);
        uc_context_restore(uc_, ctx);
        uc_x86_msr check{0xC0000080, 0};
        uc_reg_read(uc_, UC_X86_REG_MSR, &check);
        done = check.value == want;
        if (!done) {
            std::memcpy(bytes + i, &v, 8);
            uc_context_restore(uc_, ctx);
        }
    }
    uc_context_free(ctx);
    if (!done) return mmu::Error::from_errno(EIO, "cannot enable NX in Unicorn's EFER (unexpected Unicorn version?)");
    return {};
}

// Runs the calibration probe at kernel-area offset `off` until its exception.
void Cpu::run_probe(uint64_t off) {
    const uint64_t kbase = is64_ ? KBASE64 : KBASE32;
    calibrating_ = true;
    calibration_intno_ = ~0u;
    uc_emu_start(uc_, kbase + off, kbase + OFF_STOP, 0, 0);  // no count: it leaves a code hook behind
    calibrating_ = false;
}

// emu invalidates Unicorn's TLB through the engine's own tlb_flush_page_x86_64 and
// tlb_flush_x86_64 (docs/unicorn.md). Check on this engine that they do: a probe run again
// from its cached translation makes no TLB fill, and one after each flush must refill.
mmu::ErrorOr<void> Cpu::verify_tlb_flush() {
    cpu_state_ = qemu_get_cpu_x86_64(uc_, -1);  // Unicorn's x86 CPU keeps UNASSIGNED_CPU_INDEX
    if (!cpu_state_) cpu_state_ = qemu_get_cpu_x86_64(uc_, 0);
    if (!cpu_state_) return mmu::Error::from_errno(EIO, "cannot find Unicorn's CPUState (qemu_get_cpu_x86_64)");
    const uint64_t probe_page = (is64_ ? KBASE64 : KBASE32) + (OFF_PROBE_UD & ~(mmu::PAGE_SIZE - 1));
    uc_context* saved = nullptr;
    if (uc_context_alloc(uc_, &saved)) return mmu::Error::from_errno(ENOMEM, "cannot allocate a Unicorn context");
    uc_context_save(uc_, saved);
    auto refills = [&](auto flush) {
        const uint64_t before = tlb_fill_paddr_calls();
        flush();
        run_probe(OFF_PROBE_UD);
        uc_context_restore(uc_, saved);
        return tlb_fill_paddr_calls() != before;
    };
    run_probe(OFF_PROBE_UD);  // translated and its page in the TLB
    uc_context_restore(uc_, saved);
    const bool cached = !refills([] {});
    const bool page = refills([&] { tlb_flush_page_x86_64(cpu_state_, probe_page); });
    const bool all = refills([&] { tlb_flush_x86_64(cpu_state_); });
    uc_context_free(saved);
    if (!cached || !page || !all)
        return mmu::Error::from_errno(EIO, std::string("Unicorn's TLB flush entry points do not act as expected (") +
                                               (!cached ? "a cached run refilled"
                                                : !page ? "tlb_flush_page_x86_64"
                                                        : "tlb_flush_x86_64") +
                                               "; unexpected Unicorn version?)");
    return {};
}

// Marks "no exception in flight", so the next fault keeps its own vector.
void Cpu::clear_exception_state() {
    uc_context_save(uc_, scratch_ctx_);
    const int32_t none = -1;
    std::memcpy(reinterpret_cast<uint8_t*>(scratch_ctx_) + old_exception_offset_, &none, 4);
    uc_context_restore(uc_, scratch_ctx_);
}

mmu::ErrorOr<void> Cpu::init(const guestos::ExecResult& start) {
    if (uc_err e = uc_open(UC_ARCH_X86, is64_ ? UC_MODE_64 : UC_MODE_32, &uc_)) return uc_error("uc_open", e);
    TRY(map_kernel_area());
    build_gdt();
    uint64_t cr4 = 0x20 | 0x200 | 0x400;  // PAE, OSFXSR, OSXMMEXCPT
    set_reg(UC_X86_REG_CR4, cr4);
    uc_x86_msr efer{0xC0000080, (1u << 11) | (is64_ ? (1u << 0) | (1u << 8) | (1u << 10) : 0u)};  // NXE, SCE, LME, LMA
    uc_reg_write(uc_, UC_X86_REG_MSR, &efer);
    set_reg(UC_X86_REG_CR3, shadow_->cr3());
    set_reg(UC_X86_REG_CR0, 0x80010033);  // PG, WP, NE, ET, MP, PE
    TRY(enable_nx());
    if (uc_err e =
            uc_hook_add(uc_, &intr_hook_, UC_HOOK_INTR, reinterpret_cast<void*>(&CpuHooks::hook_intr), this, 1, 0))
        return uc_error("hook interrupts", e);
    if (is64_) {
        if (uc_err e = uc_hook_add(uc_, &syscall_hook_, UC_HOOK_INSN, reinterpret_cast<void*>(&CpuHooks::hook_syscall),
                                   this, 1, 0, UC_X86_INS_SYSCALL))
            return uc_error("hook syscall", e);
    }
    // CPUID answers from the emulated processor's table (Unicorn 2.0.1's own misses FPU, TSC
    // and MMX, and reports features its translator lacks; devices/cpuid.cpp).
    if (uc_err e = uc_hook_add(uc_, &cpuid_hook_, UC_HOOK_INSN, reinterpret_cast<void*>(&CpuHooks::hook_cpuid), this, 1,
                               0, UC_X86_INS_CPUID))
        return uc_error("hook cpuid", e);
    const uint64_t fills_before = tlb_fill_paddr_calls();
    TRY(calibrate_exception_state());
    // The calibration ran code, so Unicorn filled its TLB: through emu's interposer, or the
    // guest could not reach RAM (see unicorn_fixes.cpp, 5).
    if (tlb_fill_paddr_calls() == fills_before)
        return mmu::Error::from_errno(ENOSYS,
                                      "Unicorn's TLB fills bypass emu's tlb_set_page_with_attrs_x86_64 "
                                      "(link with emu/unicorn_fixes.cpp and its --dynamic-list)");
    TRY(verify_tlb_flush());
    // Guest RAM, once, where tlb_fill_paddr sends user pages.
    if (uc_err e =
            uc_mem_map_ptr(uc_, RAM_PHYS_BASE, kernel_.ram().size(), UC_PROT_ALL, kernel_.ram().host(PhysAddr(0))))
        return uc_error("map guest RAM", e);
    if (uc_err e = uc_hook_add(uc_, &unmapped_hook_, UC_HOOK_MEM_UNMAPPED,
                               reinterpret_cast<void*>(&CpuHooks::hook_unmapped), this, 1, 0))
        return uc_error("hook unmapped memory", e);
    tlb_ = std::make_unique<ShadowTlb>(uc_, cpu_state_, kernel_.ram(), *shadow_, user_limit_of(*cur_), cfg_.tlb_pages);
    if (uc_context_alloc(uc_, &clean_ctx_)) return mmu::Error::from_errno(ENOMEM, "cannot allocate a Unicorn context");
    uc_context_save(uc_, clean_ctx_);
    tlb_->set_mm(mm_.get());
    attach(start);
    return {};
}

uint64_t Cpu::user_limit_of(const guestos::task_struct& task) const {
    return is64_ ? (1ull << 47) : task.mm->task_size;
}

void Cpu::attach(const guestos::ExecResult& start) {
    mm_->tlb = tlb_.get();
    load_mm_ldt(mm_->context_ldt.data(), static_cast<unsigned>(mm_->context_ldt.size()));
    cur_->cpu = this;
    if (cur_->start_regs) {
        load_start_regs(*cur_);
    } else {
        enter_user_frame(start.entry, start.stack_pointer, 0x202);
        fpu_init();
    }
}

// At most this many address spaces per engine: translated code accumulates in qemu's
// code buffer (invalidated blocks are not reclaimed until it fills), and so in host memory.
constexpr unsigned MAX_ENGINE_REUSES = 64;

bool Cpu::recycle() {
    if (!breakpoints_.empty() || !trap_vpns_.empty() || !step_hooks_.empty() || in_emulation_ ||
        reuses_ >= MAX_ENGINE_REUSES)
        return false;
    ++reuses_;
    tlb_->reset_for(nullptr);
    if (mm_ && mm_->tlb == tlb_.get()) mm_->tlb = nullptr;
    for (guestos::task_struct* t : kernel_.all_tasks())
        if (t->cpu == this) t->cpu = nullptr;
    mm_.reset();
    cur_ = loaded_ = nullptr;
    syscall_observer_ = nullptr;
    syscall_entry_observer_ = nullptr;
    return true;
}

bool Cpu::fits(const guestos::task_struct& task) const {
    return (task.abi == guestos::Abi::X86_64) == is64_ && tlb_->user_limit() == user_limit_of(task);
}

void Cpu::reuse(guestos::task_struct& task, const guestos::ExecResult& start) {
    uc_context_restore(uc_, clean_ctx_);  // every register as create() left them
    cur_ = loaded_ = &task;
    mm_ = task.mm;
    at_stub_ = true;
    syscall_slept_ = in_syscall64_ = stop_requested_ = debug_stop_ = false;
    breakpoint_hit_ = counted_ = step_hit_ = false;
    pending_regs_.reset();
    orig_ax_ = ~0ull;
    skip_breakpoint_ = entry_stop_insn_ = ~0ull;
    entry_stop_task_ = nullptr;
    trapped_.reset();
    watch_hit_.reset();
    watches_.clear();
    fatal_error_.clear();
    unmapped_addr_ = 0;
    tlb_->reset_for(mm_.get());
    attach(start);
}

// The i386 TLS descriptors of the task in the GDT (set_tls_desc / load_TLS at a switch).
void Cpu::write_tls_entries(const guestos::task_struct& t) {
    if (is64_) return;
    auto* gdt = reinterpret_cast<uint64_t*>(kernel_host_ + OFF_GDT);
    for (int i = 0; i < guestos::GDT_ENTRY_TLS_ENTRIES; ++i)
        gdt[guestos::GDT_ENTRY_TLS_MIN_I386 + i] = guestos::fill_ldt(t.tls_array[i]);
}

// A task's first run on this engine: the registers it was created with (fork, clone, exec).
void Cpu::load_start_regs(guestos::task_struct& t) {
    const guestos::pt_regs r = *t.start_regs;
    t.start_regs.reset();
    write_tls_entries(t);
    write_regs(r);
    if (!is64_)  // segment caches must come from this task's descriptors
        for (auto [id, sel] : {std::pair{UC_X86_REG_FS, r.fs}, std::pair{UC_X86_REG_GS, r.gs}}) set_reg(id, sel);
    if (at_stub_) enter_user_frame(r.ip, r.sp, r.flags ? r.flags : 0x202);
    orig_ax_ = ~0ull;
}

// Saves the loaded thread's context and loads t's (threads of one mm share the engine).
void Cpu::switch_to(guestos::task_struct& t) {
    cur_ = &t;
    t.cpu = this;
    if (loaded_ == &t && !t.start_regs) return;
    if (loaded_ && loaded_ != &t && !loaded_->exited) {
        if (!loaded_->cpu_context) {
            uc_context* ctx = nullptr;
            if (uc_context_alloc(uc_, &ctx) == UC_ERR_OK)
                loaded_->cpu_context =
                    std::shared_ptr<void>(ctx, [](void* c) { uc_context_free(static_cast<uc_context*>(c)); });
        }
        if (loaded_->cpu_context) uc_context_save(uc_, static_cast<uc_context*>(loaded_->cpu_context.get()));
        loaded_->thread.orig_ax = loaded_->kstack ? loaded_->thread.orig_ax : ~0ull;
    }
    loaded_ = &t;
    if (t.start_regs) {
        load_start_regs(t);
    } else if (t.cpu_context) {
        uc_context_restore(uc_, static_cast<uc_context*>(t.cpu_context.get()));
        write_tls_entries(t);
    }
}

bool Cpu::signal_work(const guestos::task_struct& t) {
    if (guestos::signal_pending(t) || t.ptrace_resume_signal || t.saved_sigmask) return true;
    if (orig_ax_ == ~0ull) return false;
    const long ret = is64_ ? static_cast<long>(reg(UC_X86_REG_RAX)) : static_cast<int32_t>(reg(UC_X86_REG_EAX));
    return ret <= -guestos::ERESTARTSYS && ret >= -guestos::ERESTART_RESTARTBLOCK;
}

bool Cpu::keeps_running(const guestos::task_struct& t) const {
    return !t.exited && t.state == guestos::TASK_RUNNING && t.mm.get() == mm_.get() && !t.need_resched &&
           !t.signal->stopped && !t.start_regs && !t.kstack;
}

void Cpu::finish_syscall(long ret) {
    orig_ax_ = cur_->thread.orig_ax;
    if (cur_->exited || cur_->mm.get() != mm_.get()) return;
    if (is64_) {
        uint64_t out[3] = {static_cast<uint64_t>(ret), pc(), reg(UC_X86_REG_EFLAGS)};
        int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_R11};
        void* ptrs[] = {&out[0], &out[1], &out[2]};
        uc_reg_write_batch(uc_, ids, ptrs, 3);
    } else {
        set_reg(UC_X86_REG_EAX, static_cast<uint32_t>(ret));
    }
}

// Puts a bounded code hook on every address the instruction at ip can run next (GDB.md
// fact 3: free elsewhere), so a step needs no count-limited run: removing Unicorn's counting
// hook afterwards costs a flush of all translated code (tb_flush, which zeroes the whole
// 1 GiB code buffer: seconds when the memory is fresh). False: ip cannot be decoded.
bool Cpu::arm_step(uint64_t ip, bool hook_self) {
    uint8_t code[16] = {};
    const size_t len = read_code(ip, code);
    if (!len) return false;
    auto regs = [this](int cs) { return capstone_reg(cs); };
    auto mem = [this](uint64_t addr, unsigned size) -> std::optional<uint64_t> {
        uint64_t v = 0;
        if (size > 8 || !guestos::copy_from_user_nofault(*mm_, &v, VirtAddr(addr), size)) return std::nullopt;
        return v;
    };
    auto next = next_instructions(code, len, ip, is64_, regs, mem);
    if (!next) return false;
    step_origin_ = ip;
    step_origin_seen_ = step_hit_ = false;
    tlb_->activate();
    tlb_->tlb_flush_mmu();  // uc_ctl_remove_cache below fills Unicorn's TLB
    for (uint64_t a : *next) {
        if (a == ip && !hook_self) continue;
        uc_hook h = 0;
        if (uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&CpuHooks::hook_step), this, a, a) != UC_ERR_OK)
            continue;
        step_hooks_.push_back(h);
        // Code translated before the hook existed may not call it (measured: a block that
        // had just faulted): drop it. Only where the shadow maps code, since the lookup
        // walks it and must not fault.
        if (auto e = shadow_->lookup(VirtAddr(a).page_base()); e && e->perm.executable)
            uc_ctl_remove_cache(uc_, a, a + 1);
    }
    return true;
}

void Cpu::disarm_step() {
    for (uc_hook h : step_hooks_) uc_hook_del(uc_, h);
    step_hooks_.clear();
}

// The instruction at the origin is about to run (once), then the next one is reached.
void CpuHooks::hook_step(uc_engine* uc, uint64_t address, uint32_t, void* self) {
    auto* cpu = static_cast<Cpu*>(self);
    if (address == cpu->step_origin_ && !cpu->step_origin_seen_) {
        cpu->step_origin_seen_ = true;
        return;
    }
    cpu->step_hit_ = true;
    uc_emu_stop(uc);
}

mmu::ErrorOr<Cpu::RunEnd> Cpu::run(guestos::task_struct& task, uint64_t max_insns) {
    switch_to(task);
    for (;;) {
        // A step of a task in user mode (not entering it, not inside a syscall) goes by hooks.
        const bool by_hooks = max_insns == 1 && !at_stub_ && !task.kstack && !task.start_regs && arm_step(pc());
        auto r = run_engine(task, by_hooks ? 0 : max_insns, by_hooks);
        disarm_step();
        if (r.is_error() || r.value() != RunEnd::Trapped) return r;
        r = run_trapped(task);
        // A continue goes on after an access that hit no watchpoint; a step is done.
        if (r.is_error() || r.value() != RunEnd::Counted || max_insns) return r;
    }
}

mmu::ErrorOr<Cpu::RunEnd> Cpu::run_trapped(guestos::task_struct& task) {
    const Trapped t = *std::exchange(trapped_, std::nullopt);
    // A signal delivered before it ran moved the task: the instruction retries (and traps) later.
    if (!keeps_running(task) || pc() != t.rip) return RunEnd::Counted;
    tlb_->suspend_traps(true);
    mmu::ErrorOr<RunEnd> r = RunEnd::Counted;
    // A step that only took a fault runs the instruction again (a fault on the fetch, one on
    // the data access), as Debugger::step_instruction does.
    for (int tries = 0; tries < 4; ++tries) {
        skip_breakpoint_once(t.rip);  // it had started: its breakpoint was passed already
        // No hook on the instruction itself: a fault retries it, which would end the step.
        const bool by_hooks = arm_step(t.rip, false);
        r = run_engine(task, by_hooks ? 0 : 1, by_hooks);
        disarm_step();
        if (r.is_error() || r.value() != RunEnd::Counted || pc() != t.rip) break;
    }
    tlb_->suspend_traps(false);
    if (r.is_error()) return r;
    const bool retired = (r.value() == RunEnd::Counted || r.value() == RunEnd::Breakpoint) && pc() != t.rip;
    if (!retired) return r;
    if ((watch_hit_ = match_watchpoints(watches_, t.accesses))) return RunEnd::Watchpoint;
    return r;
}

void Cpu::set_watchpoints(const std::vector<Watchpoint>& watches) {
    std::map<uint64_t, ShadowTlb::Trap> pages;
    for (const Watchpoint& w : watches) {
        if (!w.len) continue;
        for (uint64_t vpn = w.addr >> mmu::PAGE_SHIFT; vpn <= (w.addr + w.len - 1) >> mmu::PAGE_SHIFT; ++vpn) {
            auto [it, added] = pages.try_emplace(vpn, ShadowTlb::Trap::Write);
            if (w.kind != WatchKind::Write) it->second = ShadowTlb::Trap::Access;
        }
    }
    for (uint64_t vpn : trap_vpns_)
        if (!pages.count(vpn)) tlb_->set_trap(VirtAddr(vpn << mmu::PAGE_SHIFT), std::nullopt);
    trap_vpns_.clear();
    for (const auto& [vpn, kind] : pages) {
        tlb_->set_trap(VirtAddr(vpn << mmu::PAGE_SHIFT), kind);
        trap_vpns_.insert(vpn);
    }
    watches_ = watches;
}

std::vector<MemAccess> Cpu::accesses_at(uint64_t rip) {
    uint8_t code[16] = {};
    const size_t len = read_code(rip, code);
    if (!len) return {};
    return memory_accesses(code, len, rip, is64_, [this](int cs) { return capstone_reg(cs); });
}

mmu::ErrorOr<Cpu::RunEnd> Cpu::run_engine(guestos::task_struct& task, uint64_t max_insns, bool step_by_hooks) {
    const uint64_t kbase = is64_ ? KBASE64 : KBASE32;
    switch_to(task);
    if (task.kstack) {  // a syscall that slept: finish it, then return to user mode
        long ret = 0;
        if (!kernel_.syscall_resume(task, ret)) return RunEnd::Scheduled;
        finish_syscall(ret);
        if (syscall_observer_) syscall_observer_(task.thread.orig_ax);  // before the signals, as Linux reports
        if (!task.exited && task.mm.get() == mm_.get() && !task.start_regs && signal_work(task))
            guestos::do_signal(task);
        orig_ax_ = ~0ull;
        task.thread.orig_ax = ~0ull;
    }
    // A tracer resumed the task with a signal (ptrace_signal's answer): deliver it first.
    if (task.ptrace_resume_signal && !task.exited && !task.start_regs) guestos::do_signal(task);
    uint64_t ip = at_stub_ ? kbase + OFF_STUB : pc();
    while (keeps_running(task)) {
        if (interrupted_.exchange(false)) return RunEnd::Interrupted;
        if (debug_stop_) {  // a tracer's stop before the task ran (a signal, a syscall's return)
            stop_requested_ = false;
            break;
        }
        // Stopping from an exception hook leaves Unicorn's exception-in-flight mark set again
        // (measured), so clear it before every start.
        clear_exception_state();
        tlb_->activate();
        tlb_->tlb_flush_mmu();  // what the OS invalidated since the guest last ran
        // A count-limited run leaves a per-instruction counting hook behind; an empty run
        // drops it, or the next runs are 5-10x slower (GDB.md, Unicorn fact 2).
        if (counted_ && !max_insns) uc_emu_start(uc_, ip, ip, 0, 0);
        counted_ = max_insns != 0;
        // The stop address is 0: Unicorn invalidates the translation before a nonzero stop
        // address at the end of every run (uc_exit_invalidate_iter), a cost each return to
        // the OS paid. A guest that executes at a mapped address 0 stops there instead; the
        // next run, starting at 0, drops that stop translation and stops at the kernel area.
        uint64_t until = 0;
        if (ip == 0) {
            uc_ctl_remove_cache(uc_, 0, 1);
            until = kbase + OFF_STOP;
        }
        in_emulation_ = true;
        running.store(uc_);
        uc_err e = uc_emu_start(uc_, ip, until, 0, max_insns);
        running.store(nullptr);
        in_emulation_ = false;
        skip_breakpoint_ = ~0ull;
        at_stub_ = false;
        if (!fatal_error_.empty()) return mmu::Error::from_errno(EIO, fatal_error_);
        if (pending_regs_) {  // sigreturn: the registers a hook could not write
            write_regs(*pending_regs_);
            pending_regs_.reset();
        }
        if (syscall_slept_) {  // the task sleeps in a syscall: its registers wait in the engine
            syscall_slept_ = false;
            task.thread.orig_ax = orig_ax_;
            orig_ax_ = ~0ull;
            break;
        }
        ip = pc();
        const bool left = task.exited || task.mm.get() != mm_.get() || task.start_regs;
        if (!left) {
            if (e == UC_ERR_INSN_INVALID) {
                deliver_fault_signal(guestos::SIGILL_, guestos::ILL_ILLOPN, ip, X86_TRAP_UD);
            } else if (e == UC_ERR_READ_UNMAPPED || e == UC_ERR_WRITE_UNMAPPED || e == UC_ERR_FETCH_UNMAPPED) {
                deliver_fault_signal(guestos::SIGSEGV_, guestos::SEGV_MAPERR, unmapped_addr_, X86_TRAP_PF,
                                     mmu::X86_PF_USER);
            } else if (e != UC_ERR_OK) {
                std::fprintf(stderr, "emu: CPU stopped at %#llx: %s\n", static_cast<unsigned long long>(ip),
                             uc_strerror(e));
                deliver_fault_signal(guestos::SIGSEGV_, guestos::SI_KERNEL, 0, X86_TRAP_GP);
            } else if (ip == kbase + OFF_STOP) {
                deliver_fault_signal(guestos::SIGSEGV_, guestos::SEGV_MAPERR, ip, X86_TRAP_PF,
                                     mmu::X86_PF_USER | mmu::X86_PF_INSTR);
            }
        }
        // The timer interrupt: the timers that are due queue their signals, sleepers wake.
        if (timer_->take_interrupt()) guestos::hrtimer_interrupt(kernel_);
        if (guestos::host_signals_pending()) guestos::deliver_host_signals(kernel_);  // Ctrl-C, kill of emu
        // Return to user mode: deliver what is pending, restarting or failing an interrupted
        // syscall (exit_to_user_mode -> arch_do_signal_or_restart); a syscall that stopped the
        // engine goes through it even when no signal is left, so no restart code leaks out.
        if (!left && signal_work(task)) guestos::do_signal(task);
        orig_ax_ = ~0ull;
        ip = pc();
        // A safe point: the debugger's stops.
        if (trapped_) return RunEnd::Trapped;
        if (std::exchange(breakpoint_hit_, false)) return RunEnd::Breakpoint;
        if (std::exchange(debug_stop_, false)) return RunEnd::Requested;
        if (max_insns) return RunEnd::Counted;
        // A step by hooks is done when the next instruction was reached, or the kernel moved
        // the task elsewhere (a signal handler, sigreturn).
        if (step_by_hooks && (std::exchange(step_hit_, false) || ip != step_origin_)) return RunEnd::Counted;
    }
    // The task left the CPU (it sleeps, exited, was preempted) in the run a stop was asked in.
    if (std::exchange(debug_stop_, false)) return RunEnd::Requested;
    return RunEnd::Scheduled;
}

void Cpu::interrupt() {
    interrupted_ = true;
    // Thread-safe in Unicorn (the timer thread does the same).
    if (uc_engine* uc = running.load()) uc_emu_stop(uc);
}

// A breakpoint is a code hook bounded to its address: it costs nothing elsewhere and fires
// before the instruction runs, even in code translated before it was added (GDB.md, fact 3).
void Cpu::set_breakpoints(const std::map<uint64_t, std::set<int>>& owners) {
    for (auto it = breakpoints_.begin(); it != breakpoints_.end();) {
        if (owners.count(it->first)) {
            ++it;
            continue;
        }
        uc_hook_del(uc_, it->second.hook);
        it = breakpoints_.erase(it);
    }
    for (const auto& [address, tgids] : owners) {
        auto it = breakpoints_.find(address);
        if (it == breakpoints_.end()) {
            uc_hook h = 0;
            if (uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&CpuHooks::hook_breakpoint), this, address,
                            address) != UC_ERR_OK)
                continue;
            it = breakpoints_.emplace(address, Breakpoint{h, {}}).first;
        }
        it->second.owners = tgids;
    }
}

void CpuHooks::hook_breakpoint(uc_engine* uc, uint64_t address, uint32_t, void* self) {
    auto* cpu = static_cast<Cpu*>(self);
    if (address == cpu->skip_breakpoint_) {
        cpu->skip_breakpoint_ = ~0ull;
        return;
    }
    auto it = cpu->breakpoints_.find(address);
    if (it == cpu->breakpoints_.end() || !it->second.owners.count(cpu->cur_->tgid)) return;
    cpu->breakpoint_hit_ = true;
    uc_emu_stop(uc);
}

std::vector<std::string> Cpu::check_consistency() {
    std::vector<std::string> problems = guestos::check_mm(*mm_);
    for (auto& p : tlb_->check_consistency()) problems.push_back(std::move(p));
    return problems;
}

void CpuHooks::hook_intr(uc_engine*, uint32_t intno, void* self) { static_cast<Cpu*>(self)->on_interrupt(intno); }
void CpuHooks::hook_syscall(uc_engine*, void* self) { static_cast<Cpu*>(self)->on_syscall64(); }

// Answers CPUID for EAX/ECX from the table and skips Unicorn's own (returns 1).
int CpuHooks::hook_cpuid(uc_engine*, void* self) {
    auto* cpu = static_cast<Cpu*>(self);
    const devices::cpuid_regs r = devices::cpuid(static_cast<uint32_t>(cpu->reg(UC_X86_REG_EAX)),
                                                 static_cast<uint32_t>(cpu->reg(UC_X86_REG_ECX)));
    const bool wide = cpu->is64_;  // a 64-bit CPUID clears the registers' upper halves
    cpu->set_reg(wide ? UC_X86_REG_RAX : UC_X86_REG_EAX, r.eax);
    cpu->set_reg(wide ? UC_X86_REG_RBX : UC_X86_REG_EBX, r.ebx);
    cpu->set_reg(wide ? UC_X86_REG_RCX : UC_X86_REG_ECX, r.ecx);
    cpu->set_reg(wide ? UC_X86_REG_RDX : UC_X86_REG_EDX, r.edx);
    return 1;
}

// Unicorn checks its regions before walking the page tables: register the user chunk and
// retry, so the walk raises the #PF; outside user space the access is a fault of its own.
bool CpuHooks::hook_unmapped(uc_engine*, uc_mem_type, uint64_t addr, int, int64_t, void* self) {
    auto* cpu = static_cast<Cpu*>(self);
    if (cpu->tlb_->ensure_user_region(addr)) return true;
    cpu->unmapped_addr_ = addr;
    return false;
}

void Cpu::deliver_fault_signal(int signo, int si_code, uint64_t addr, uint64_t trap_nr, uint64_t error_code) {
    guestos::task_struct& task_ = *cur_;
    task_.thread.trap_nr = trap_nr;
    task_.thread.error_code = error_code;
    if (trap_nr == X86_TRAP_PF) task_.thread.cr2 = addr;
    guestos::kernel_siginfo si;
    si.si_signo = signo;
    si.si_code = si_code;
    si.addr = addr;
    guestos::send_signal(task_, si, true);
    if (kernel_.config().strace) {
        const std::string name = std::string("SIG") + sigabbrev_np(signo);
        std::fprintf(kernel_.config().strace_out, "%s--- %s {si_signo=%s, si_code=%d, si_addr=%#llx} ---\n",
                     guestos::strace_prefix(task_).c_str(), name.c_str(), name.c_str(), si_code,
                     static_cast<unsigned long long>(addr));
    }
    stop_requested_ = true;
}

// uc_emu_stop comes last in a hook: a context restore after it would cancel it (measured).
bool Cpu::stop_if_needed() {
    guestos::task_struct& task_ = *cur_;
    if (stop_requested_ || syscall_slept_ || !keeps_running(task_) || pending_regs_ || guestos::signal_pending(task_)) {
        stop_requested_ = false;
        if (in_emulation_) uc_emu_stop(uc_);
        return true;
    }
    return false;
}

void Cpu::on_interrupt(uint32_t intno) {
    if (calibrating_) {
        calibration_intno_ = intno;
        uc_context_save(uc_, scratch_ctx_);
        uc_emu_stop(uc_);
        return;
    }
    const uint64_t rip = pc();
    switch (intno) {
    case X86_TRAP_PF: on_page_fault(); break;
    case IA32_SYSCALL_VECTOR:
        if (!is64_) {
            on_syscall32();
            if (!stop_if_needed()) orig_ax_ = ~0ull;
            return;  // a software interrupt leaves no exception in flight
        }
        deliver_fault_signal(guestos::SIGSEGV_, guestos::SI_KERNEL, 0, X86_TRAP_GP, (0x80 << 3) | 2);
        break;
    case X86_TRAP_DE: deliver_fault_signal(guestos::SIGFPE_, guestos::FPE_INTDIV, rip, intno); break;
    case X86_TRAP_UD: deliver_fault_signal(guestos::SIGILL_, guestos::ILL_ILLOPN, rip, intno); break;
    case X86_TRAP_BP: deliver_fault_signal(guestos::SIGTRAP_, guestos::SI_KERNEL, 0, intno); break;
    case X86_TRAP_DB: deliver_fault_signal(guestos::SIGTRAP_, guestos::TRAP_BRKPT, rip, intno); break;
    case X86_TRAP_MF:
    case X86_TRAP_XF: deliver_fault_signal(guestos::SIGFPE_, 0, rip, intno); break;
    case X86_TRAP_AC: deliver_fault_signal(guestos::SIGBUS_, guestos::BUS_ADRALN, 0, intno); break;
    case X86_TRAP_NP:
    case X86_TRAP_SS: deliver_fault_signal(guestos::SIGBUS_, guestos::SI_KERNEL, 0, intno); break;
    case X86_TRAP_DF:
        fatal_error_ = "internal error: double fault in the CPU engine";
        stop_requested_ = true;
        stop_if_needed();
        return;
    default: deliver_fault_signal(guestos::SIGSEGV_, guestos::SI_KERNEL, 0, intno); break;
    }
    clear_exception_state();
    stop_if_needed();
}

void Cpu::on_page_fault() {
    const uint64_t cr2 = reg(UC_X86_REG_CR2);
    const uint64_t rip = pc();
    const bool is_fetch = cr2 - rip < 16;
    uint32_t error_code = 0;
    bool guessed_write = false;
    guestos::FaultTracer& tracer = guestos::fault_tracer();
    const bool tracing = tracer.active();
    const TlbStats before = tracing ? tlb_->stats() : TlbStats{};
    auto outcome = tlb_->handle_fault(
        VirtAddr(cr2), is_fetch, [&] { return decode_write(rip, cr2); }, error_code, guessed_write);
    if (outcome == ShadowTlb::Outcome::Resolved) {
        if (tracing) trace_hidden_fault(cr2, rip, before);
        return;
    }
    if (outcome == ShadowTlb::Outcome::Trapped) {  // a watched page: run() runs it alone
        trapped_ = Trapped{rip, accesses_at(rip)};
        const bool decoded = std::any_of(trapped_->accesses.begin(), trapped_->accesses.end(), [&](const MemAccess& a) {
            return (a.addr >> mmu::PAGE_SHIFT) <= (cr2 >> mmu::PAGE_SHIFT) &&
                   ((a.addr + a.size - 1) >> mmu::PAGE_SHIFT) >= (cr2 >> mmu::PAGE_SHIFT);
        });
        const bool write = !decoded && !is_fetch && decode_write(rip, cr2);
        if (!decoded && !is_fetch) trapped_->accesses.push_back({cr2, 1, !write, write});
        stop_requested_ = true;
        return;
    }
    guestos::FaultEvent* ev = tracing ? tracer.begin(VirtAddr(cr2), error_code, rip) : nullptr;
    if (ev && kernel_.nr_tasks() > 1) ev->pid = cur_->pid;
    guestos::FaultOutcome r = kernel_.do_page_fault(*cur_, VirtAddr(cr2), error_code);
    // A decoded write is only a hint (Capstone's access flags are not exact): when it is
    // refused, fault the page in for reading; a real write then faults on the read-only
    // shadow entry, where the kind of access is certain.
    if (r.signo == guestos::SIGSEGV_ && r.code == guestos::SEGV_ACCERR && guessed_write) {
        error_code &= ~guestos::X86_PF_WRITE;
        r = kernel_.do_page_fault(*cur_, VirtAddr(cr2), error_code);
    }
    if (ev) ev->insn = instruction_at(rip);  // now, when a fetch fault has mapped the code
    if (r.emulated) {                        // a vsyscall: the registers already say where the guest goes on
        if (ev) ev->outcome = "emulated";
        tracer.end();
        return;
    }
    if (r.signo) {
        if (ev) ev->outcome = std::string("SIG") + sigabbrev_np(r.signo);
        tracer.end();
        deliver_fault_signal(r.signo, r.code, r.addr, X86_TRAP_PF, error_code);
        return;
    }
    const bool filled = tlb_->fill_after_fault(VirtAddr(cr2), error_code);
    if (ev) {
        tracer.step({"", {}, "shadow TLB: fill from the guest page tables", {}});
        ev->outcome = filled ? "mapped" : "SIGSEGV";
    }
    tracer.end();
    if (!filled) deliver_fault_signal(guestos::SIGSEGV_, guestos::SEGV_ACCERR, cr2, X86_TRAP_PF, error_code);
}

// Up to 16 bytes of code at rip where mapped now (0 when the first page is not).
size_t Cpu::read_code(uint64_t rip, uint8_t (&code)[16]) {
    const size_t first = std::min<uint64_t>(sizeof code, mmu::PAGE_SIZE - (rip & (mmu::PAGE_SIZE - 1)));
    if (!guestos::copy_from_user_nofault(*mm_, code, VirtAddr(rip), first)) return 0;
    if (first < sizeof code &&
        guestos::copy_from_user_nofault(*mm_, code + first, VirtAddr(rip + first), sizeof code - first))
        return sizeof code;
    return first;
}

// The faulting instruction in words, for the fault trace.
std::string Cpu::instruction_at(uint64_t rip) {
    uint8_t code[16] = {};
    const size_t len = read_code(rip, code);
    return len ? disassemble(code, len, rip, is64_) : "(not mapped)";
}

// A fault the shadow resolved alone still goes to the stream, marked hidden.
void Cpu::trace_hidden_fault(uint64_t cr2, uint64_t rip, const TlbStats& before) {
    guestos::FaultTracer& tracer = guestos::fault_tracer();
    const TlbStats& now = tlb_->stats();
    guestos::FaultEvent* ev = tracer.begin(VirtAddr(cr2), 0, rip);
    if (ev && kernel_.nr_tasks() > 1) ev->pid = cur_->pid;
    if (!ev) return;
    ev->hidden = true;
    ev->insn = instruction_at(rip);
    if (now.dirty_upgrades != before.dirty_upgrades)
        tracer.step({"", {}, "shadow TLB: first write to a clean page: walk sets D, shadow entry made writable", {}});
    else if (now.wx_switches != before.wx_switches)
        tracer.step({"", {}, "shadow TLB: W+X page switches between writable and executable", {}});
    else tracer.step({"", {}, "shadow TLB: miss, fill from the guest page tables", {}});
    ev->outcome = "resolved by the shadow TLB";
    tracer.end();
}

// A register by its Capstone id, for effective addresses (FS/GS: their bases).
uint64_t Cpu::capstone_reg(int cs) {
    if (cs == X86_REG_FS) return fs_base();
    if (cs == X86_REG_GS) return gs_base();
    int u = uc_reg_of(cs);
    return u == UC_X86_REG_INVALID ? 0 : reg(u);
}

// Reads the instruction at rip from guest memory and asks Capstone whether it writes addr.
bool Cpu::decode_write(uint64_t rip, uint64_t addr) {
    uint8_t code[16] = {};
    const size_t len = read_code(rip, code);
    if (!len) return false;
    auto regs = [this](int cs) { return capstone_reg(cs); };
    return instruction_writes(code, len, rip, is64_, addr, regs);
}

void Cpu::on_syscall64() {
    int ids[] = {UC_X86_REG_RAX, UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX,   UC_X86_REG_R10,
                 UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_RIP, UC_X86_REG_EFLAGS};
    uint64_t v[9] = {};
    void* ptrs[9];
    for (int i = 0; i < 9; ++i) ptrs[i] = &v[i];
    uc_reg_read_batch(uc_, ids, ptrs, 9);
    if (syscall_entry_stop(v[0], v[7])) return;
    orig_ax_ = v[0];
    in_syscall64_ = true;
    long ret = 0;
    const bool done = kernel_.syscall_from_user(*cur_, v[0], &v[1], ret);
    in_syscall64_ = false;
    syscall_slept_ = !done;
    tlb_->tlb_flush_mmu();  // tlb_finish_mmu: the syscall's invalidations, in one batch
    if (syscall_observer_ && done) syscall_observer_(v[0]);
    if (!stop_if_needed()) orig_ax_ = ~0ull;
    if (!done || cur_->exited || cur_->mm.get() != mm_.get()) return;
    // The syscall instruction leaves the return address in RCX and the flags in R11.
    uint64_t out[3] = {static_cast<uint64_t>(ret), v[7] + 2, v[8]};
    int out_ids[] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_R11};
    void* out_ptrs[] = {&out[0], &out[1], &out[2]};
    uc_reg_write_batch(uc_, out_ids, out_ptrs, 3);
}

bool Cpu::syscall_entry_stop(uint64_t nr, uint64_t insn) {
    if (!syscall_entry_observer_) return false;
    // Resuming from the stop: the instruction runs the syscall this time.
    const bool resuming = entry_stop_insn_ == insn && entry_stop_task_ == cur_;
    entry_stop_insn_ = ~0ull;
    entry_stop_task_ = nullptr;
    if (resuming || !syscall_entry_observer_(nr)) return false;
    guestos::pt_regs regs;
    get_regs(regs);
    regs.ip = insn;  // written once the engine stopped (after Unicorn moved past it)
    set_regs(regs);
    entry_stop_insn_ = insn;
    entry_stop_task_ = cur_;
    orig_ax_ = ~0ull;  // no syscall is in progress: nothing to restart
    request_stop();
    stop_if_needed();
    return true;
}

void Cpu::on_syscall32() {
    int ids[] = {UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX,
                 UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_EBP};
    uint64_t v[7] = {};
    void* ptrs[7];
    for (int i = 0; i < 7; ++i) ptrs[i] = &v[i];
    uc_reg_read_batch(uc_, ids, ptrs, 7);
    for (auto& x : v) x &= 0xffffffffu;
    if (syscall_entry_stop(v[0], static_cast<uint32_t>(pc() - 2))) return;  // pc: after int $0x80
    orig_ax_ = v[0];
    long ret = 0;
    const bool done = kernel_.syscall_from_user(*cur_, v[0], &v[1], ret);
    tlb_->tlb_flush_mmu();  // tlb_finish_mmu: the syscall's invalidations, in one batch
    syscall_slept_ = !done;
    if (done && !cur_->exited && cur_->mm.get() == mm_.get()) set_reg(UC_X86_REG_EAX, static_cast<uint32_t>(ret));
    if (syscall_observer_ && done) syscall_observer_(v[0]);
}

namespace {
// FXSAVE layout offsets (Intel SDM vol. 1, 10.5.1).
constexpr size_t FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8, FX_FDP = 16, FX_MXCSR = 24,
                 FX_MXCSR_MASK = 28, FX_ST = 32, FX_XMM = 160;

// The general registers of pt_regs, in one order, with their Unicorn ids in each mode.
constexpr int GPR_IDS64[] = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI,
                             UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_RSP, UC_X86_REG_RIP, UC_X86_REG_EFLAGS,
                             UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,
                             UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
constexpr int GPR_IDS32[] = {UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_ESI,
                             UC_X86_REG_EDI, UC_X86_REG_EBP, UC_X86_REG_ESP, UC_X86_REG_EIP, UC_X86_REG_EFLAGS};

template <class Regs>
auto gpr_fields(Regs& r) {
    return std::array{&r.ax,    &r.bx, &r.cx, &r.dx,  &r.si,  &r.di,  &r.bp,  &r.sp,  &r.ip,
                      &r.flags, &r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
}
}  // namespace

void Cpu::read_regs(guestos::pt_regs& r) {
    auto gpr = gpr_fields(r);
    const size_t n = is64_ ? std::size(GPR_IDS64) : std::size(GPR_IDS32);
    for (size_t i = 0; i < n; ++i) *gpr[i] = reg(is64_ ? GPR_IDS64[i] : GPR_IDS32[i]);
    r.orig_ax = orig_ax_;
    r.cs = static_cast<uint16_t>(reg(UC_X86_REG_CS)), r.ss = static_cast<uint16_t>(reg(UC_X86_REG_SS));
    r.ds = static_cast<uint16_t>(reg(UC_X86_REG_DS)), r.es = static_cast<uint16_t>(reg(UC_X86_REG_ES));
    r.fs = static_cast<uint16_t>(reg(UC_X86_REG_FS)), r.gs = static_cast<uint16_t>(reg(UC_X86_REG_GS));
    r.fs_base = fs_base(), r.gs_base = gs_base();
    // The x87/SSE state in FXSAVE layout.
    uint8_t* fx = r.fxsave;
    std::memset(fx, 0, sizeof r.fxsave);
    const uint16_t fcw = static_cast<uint16_t>(reg(UC_X86_REG_FPCW)), fsw = static_cast<uint16_t>(reg(UC_X86_REG_FPSW));
    const uint16_t ftw = static_cast<uint16_t>(reg(UC_X86_REG_FPTAG)), fop = static_cast<uint16_t>(reg(UC_X86_REG_FOP));
    uint8_t abridged = 0;
    for (int i = 0; i < 8; ++i)
        if (((ftw >> (2 * i)) & 3) != 3) abridged |= static_cast<uint8_t>(1 << i);
    const uint32_t mxcsr = static_cast<uint32_t>(reg(UC_X86_REG_MXCSR)), mxcsr_mask = 0xffff;
    const uint64_t fip = reg(UC_X86_REG_FIP), fdp = reg(UC_X86_REG_FDP);
    std::memcpy(fx + FX_FCW, &fcw, 2);
    std::memcpy(fx + FX_FSW, &fsw, 2);
    fx[FX_FTW] = abridged;
    std::memcpy(fx + FX_FOP, &fop, 2);
    std::memcpy(fx + FX_FIP, &fip, 8);
    std::memcpy(fx + FX_FDP, &fdp, 8);
    std::memcpy(fx + FX_MXCSR, &mxcsr, 4);
    std::memcpy(fx + FX_MXCSR_MASK, &mxcsr_mask, 4);
    for (int i = 0; i < 8; ++i) {
        uint8_t st[16] = {};
        uc_reg_read(uc_, UC_X86_REG_ST0 + i, st);
        std::memcpy(fx + FX_ST + 16 * i, st, 10);
    }
    for (int i = 0; i < (is64_ ? 16 : 8); ++i) uc_reg_read(uc_, UC_X86_REG_XMM0 + i, fx + FX_XMM + 16 * i);
}

void Cpu::write_regs(const guestos::pt_regs& r) {
    auto gpr = gpr_fields(r);
    const size_t n = is64_ ? std::size(GPR_IDS64) : std::size(GPR_IDS32);
    for (size_t i = 0; i < n; ++i)
        set_reg(is64_ ? GPR_IDS64[i] : GPR_IDS32[i], is64_ ? *gpr[i] : (*gpr[i] & 0xffffffffu));
    orig_ax_ = r.orig_ax;
    if (is64_) {
        set_fs_base(r.fs_base);
        set_gs_base(r.gs_base);
    } else {  // segment registers the frame changed are reloaded from the GDT
        const std::pair<int, uint16_t> segs[] = {
            {UC_X86_REG_DS, r.ds}, {UC_X86_REG_ES, r.es}, {UC_X86_REG_FS, r.fs}, {UC_X86_REG_GS, r.gs}};
        for (auto [id, sel] : segs)
            if (reg(id) != sel) set_reg(id, sel);
    }
    const uint8_t* fx = r.fxsave;
    uint16_t fcw, fsw;
    uint32_t mxcsr;
    std::memcpy(&fcw, fx + FX_FCW, 2);
    std::memcpy(&fsw, fx + FX_FSW, 2);
    std::memcpy(&mxcsr, fx + FX_MXCSR, 4);
    uint16_t ftw = 0;
    for (int i = 0; i < 8; ++i)
        if (!(fx[FX_FTW] & (1 << i))) ftw |= static_cast<uint16_t>(3 << (2 * i));
    set_reg(UC_X86_REG_FPCW, fcw);
    set_reg(UC_X86_REG_FPSW, fsw);
    set_reg(UC_X86_REG_FPTAG, ftw);
    set_reg(UC_X86_REG_MXCSR, mxcsr);
    for (int i = 0; i < 8; ++i) {
        uint8_t st[16] = {};
        std::memcpy(st, fx + FX_ST + 16 * i, 10);
        uc_reg_write(uc_, UC_X86_REG_ST0 + i, st);
    }
    for (int i = 0; i < (is64_ ? 16 : 8); ++i) uc_reg_write(uc_, UC_X86_REG_XMM0 + i, fx + FX_XMM + 16 * i);
}

void Cpu::get_regs(guestos::pt_regs& regs) {
    if (pending_regs_) {
        regs = *pending_regs_;
        return;
    }
    read_regs(regs);
    if (in_syscall64_) {  // inside the syscall hook RIP is the syscall instruction's own
        regs.ip += 2;
        regs.cx = regs.ip;
        regs.r11 = regs.flags;
    }
}

void Cpu::with_context(const guestos::task_struct& t, bool save, const std::function<void()>& fn) {
    auto* ctx = static_cast<uc_context*>(t.cpu_context.get());
    uc_context_save(uc_, scratch_ctx_);
    uc_context_restore(uc_, ctx);
    fn();
    if (save) uc_context_save(uc_, ctx);
    uc_context_restore(uc_, scratch_ctx_);
}

bool Cpu::get_task_regs(const guestos::task_struct& t, guestos::pt_regs& regs) {
    if (&t == loaded_) {
        get_regs(regs);
    } else if (t.start_regs) {
        regs = *t.start_regs;
    } else if (t.cpu_context && !in_emulation_) {
        with_context(t, false, [&] { read_regs(regs); });
    } else {
        return false;
    }
    return true;
}

bool Cpu::set_task_regs(guestos::task_struct& t, const guestos::pt_regs& regs) {
    if (&t == loaded_) {
        set_regs(regs);
    } else if (t.start_regs) {
        *t.start_regs = regs;
    } else if (t.cpu_context && !in_emulation_) {
        with_context(t, true, [&] { write_regs(regs); });
    } else {
        return false;
    }
    return true;
}

// Inside a hook Unicorn overwrites RIP after we return, so the change waits for the stop.
void Cpu::set_regs(const guestos::pt_regs& regs) {
    if (in_emulation_) {
        pending_regs_ = regs;  // the hook's stop_if_needed stops once the hook is done
    } else {
        write_regs(regs);
    }
}

void Cpu::set_next_event(std::optional<int64_t> expires) { timer_->program(expires); }

void Cpu::set_fs_base(uint64_t base) { set_reg(UC_X86_REG_FS_BASE, base); }
void Cpu::set_gs_base(uint64_t base) { set_reg(UC_X86_REG_GS_BASE, base); }

uint64_t Cpu::fs_base() {
    if (!is64_) return 0;
    uint64_t v = 0;
    uc_reg_read(uc_, UC_X86_REG_FS_BASE, &v);
    return v;
}

uint64_t Cpu::gs_base() {
    if (is64_) {
        uint64_t v = 0;
        uc_reg_read(uc_, UC_X86_REG_GS_BASE, &v);
        return v;
    }
    const uint64_t sel = reg(UC_X86_REG_GS);
    const int idx = static_cast<int>(sel >> 3);
    if (idx < guestos::GDT_ENTRY_TLS_MIN_I386 ||
        idx >= guestos::GDT_ENTRY_TLS_MIN_I386 + guestos::GDT_ENTRY_TLS_ENTRIES)
        return 0;
    return cur_->tls_array[idx - guestos::GDT_ENTRY_TLS_MIN_I386].base_addr;
}

// The LDT in the kernel area and LDTR pointing at it (load_mm_ldt); without entries LDTR's
// limit is 0, so any selector with TI set faults. DS and ES holding an LDT selector are
// reloaded from the new table, a null selector if it no longer loads (refresh_ldt_segments
// and loadsegment's fixup); FS and GS keep their cached descriptors until they are reloaded.
void Cpu::load_mm_ldt(const uint64_t* entries, unsigned nr) {
    const uint64_t bytes = std::min<uint64_t>(uint64_t{nr} * 8, LDT_BYTES);
    if (bytes) std::memcpy(kernel_host_ + OFF_LDT, entries, bytes);
    if (ldt_bytes_ > bytes) std::memset(kernel_host_ + OFF_LDT + bytes, 0, ldt_bytes_ - bytes);
    ldt_bytes_ = bytes;
    uc_x86_mmr ldtr{};
    if (bytes) {
        ldtr.selector = is64_ ? 10 << 3 : 17 << 3;  // GDT_ENTRY_LDT
        ldtr.base = (is64_ ? KBASE64 : KBASE32) + OFF_LDT;
        ldtr.limit = static_cast<uint32_t>(bytes - 1);
    }
    uc_reg_write(uc_, UC_X86_REG_LDTR, &ldtr);
    for (int r : {UC_X86_REG_DS, UC_X86_REG_ES}) {
        uint64_t sel = reg(r);
        if (!(sel & 4)) continue;
        if (uc_reg_write(uc_, r, &sel) != UC_ERR_OK) set_reg(r, 0);
    }
}

void Cpu::write_gdt_entry(int index, uint64_t descriptor) {
    if (index < 0 || index >= GDT_ENTRIES) return;
    std::memcpy(kernel_host_ + OFF_GDT + index * 8, &descriptor, 8);
    // A segment register already holding this selector keeps a stale cached base: reload it.
    const uint64_t sel = (static_cast<uint64_t>(index) << 3) | 3;
    for (int r : {UC_X86_REG_GS, UC_X86_REG_FS})
        if (reg(r) == sel) set_reg(r, descriptor ? sel : 0);
}

}  // namespace emu
