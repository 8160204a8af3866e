// Work-arounds for Debian bookworm's Unicorn 2.0.1, measured on this machine.
//
// 1. Every guest store in Unicorn 2.0.1 takes qemu's not-dirty slow path (its dirty-memory
// bitmap is stubbed, so pages never become "dirty"), and that path allocates and frees a
// GTree per store in page_collection_lock/unlock. Unicorn's page locks are no-ops, so the
// collection only costs allocations: upstream later made both functions do nothing
// (unicorn-engine/unicorn PR #1838). libunicorn calls them through its PLT, so the
// definitions below, exported from the executable, replace them. (~100 -> 39 ns a store.)
//
// 2. Upstream later set TLB_NOTDIRTY only on executable pages (PR #2337): a page that cannot
// hold translated code needs no self-modifying-code check. tlb_set_page_with_attrs is also
// called through the PLT, so after each TLB fill of a writable, non-executable page the
// entry is marked dirty (tlb_set_dirty), and stores to it take qemu's fast path. Pages that
// turn executable later get their stale translations dropped by the shadow TLB (tlb.cpp).
//
// 3. qemu sizes its software TLB (256 entries per MMU mode at start, direct-mapped) only when
// the TLB is flushed: a flush that finds more than 70% of the entries in use doubles it. A guest
// kernel flushes at every context switch, but emu's only flushes are invalidations (munmap,
// mprotect, COW), so a program that walks more than 256 pages without unmapping kept missing in
// a 256-entry TLB: cpu_bound's sieve (12 MB) refilled it about a million times, each refill a
// walk of the shadow tables. After 4096 fills since the last full flush, and then after twice
// as many each time, the interposer flushes the TLB before the fill (the engine's ShadowTlb
// counts, emu::tlb_fill_paddr says when), so that qemu's own sizing policy runs.
// A flush makes at most "TLB size" refills, and the TLB at most doubles per flush, so the
// doubling interval keeps the refills a small fraction of all fills (sieve: 0.45 -> 0.25 s).
//
// 4. Unicorn 2.0.1 follows every guest load and store in translated code with an exit-request
// check (a load of icount_decr, a test and a branch: check_exit_request, called at the end of
// tcg_gen_qemu_ld/st_*), so that a memory hook calling uc_emu_stop stops right after the access.
// emu installs no memory-access or code hooks (only UC_HOOK_INTR, UC_HOOK_INSN for syscall and
// UC_HOOK_MEM_UNMAPPED, which stops by returning false); its stops come from hooks that end
// the translation block, and every block still starts with qemu's own check. So the check is
// left out while one of the four generators runs; the call from a UC_HOOK_CODE trace (and a
// uc_emu_start count) is kept. Adding a UC_HOOK_MEM_READ/WRITE hook that stops emulation would
// need it back. Measured: the i386 matmul loop 134 -> 117 host instructions an iteration, 1.15 ->
// 1.05 s; cpu_bound.i386 about -6%.
//
// 5. After its page walk, Unicorn 2.0.1's x86 MMU hands qemu's TLB the virtual address itself
// as the physical one (paddr = vaddr), so the guest could only reach a frame through a host
// mapping of that frame at the same address (earlier emu mmap'ed each frame of a memfd into
// place: two host syscalls and a populate per page, about half of a page fault's cost). The
// interposer of tlb_set_page_with_attrs instead replaces paddr with the frame the shadow
// entry maps, in guest RAM registered once at RAM_PHYS_BASE (emu::tlb_fill_paddr), as qemu
// proper does. This one applies to every Unicorn version.
//
// On any other Unicorn version every other function here forwards to the library's own.
//
// Linked with libunicorn.so.2, the definitions below replace the library's because it calls
// them through its PLT (emu exports them: unicorn_fixes.list), and emu reaches the library's
// own through dlsym(RTLD_NEXT). Linked with the copy of libunicorn.a that
// cmake/unicorn-static.sh makes (EMU_UNICORN_STATIC), the library's definitions are weak, so
// these win at every call site, and the library's bodies are also named NAME_unicorn.
#include <dlfcn.h>
#include <unicorn/unicorn.h>

#include <cstdint>
#include <cstdlib>

#include "emu/libunicorn.h"
#include "emu/tlb.h"

namespace {

struct page_collection;
constexpr int PAGE_WRITE = 0x2, PAGE_EXEC = 0x4;  // qemu's page protection bits
// Inside one of the memory-access generators (they run on the thread that translates).
thread_local int generating_memory_access = 0;

// True when the running library is the 2.0.x this work-around was measured on.
bool is_unicorn_2_0() {
    static const bool v = [] {
        unsigned major = 0, minor = 0;
        uc_version(&major, &minor);
        return major == 2 && minor == 0;
    }();
    return v;
}

char dummy_collection;

// dlsym found the library's function (always true when linked statically).
template <class F>
bool found(F* f) {
    return f != nullptr;
}

}  // namespace

#ifdef EMU_UNICORN_STATIC
// The library's own function `name`: its body under the second name the archive copy gave it.
#define EMU_UNICORN_REAL(name) library_function(&name##_unicorn)
template <class F>
constexpr F* library_function(F* f) {
    return f;
}
extern "C" {
#define EMU_DECLARE_REAL(name, ...) void name##_unicorn(__VA_ARGS__);
// qemu 5.0's MemTxAttrs is a 4-byte bit-field struct: passed like a uint32_t.
EMU_DECLARE_REAL(tlb_set_page_with_attrs_x86_64, void*, uint64_t, uint64_t, uint32_t, int, int, uint64_t)
EMU_DECLARE_REAL(tlb_protect_code_x86_64, void*, uint64_t)
EMU_DECLARE_REAL(tlb_unprotect_code_x86_64, void*, uint64_t)
// tcg_gen_qemu_ld_i32(TCGContext*, TCGv_i32 val, TCGv addr, TCGArg idx, MemOp memop) and its
// three siblings: three pointers, a uintptr_t and an enum.
EMU_DECLARE_REAL(tcg_gen_qemu_ld_i32_x86_64, void*, void*, void*, uintptr_t, int)
EMU_DECLARE_REAL(tcg_gen_qemu_st_i32_x86_64, void*, void*, void*, uintptr_t, int)
EMU_DECLARE_REAL(tcg_gen_qemu_ld_i64_x86_64, void*, void*, void*, uintptr_t, int)
EMU_DECLARE_REAL(tcg_gen_qemu_st_i64_x86_64, void*, void*, void*, uintptr_t, int)
EMU_DECLARE_REAL(check_exit_request_x86_64, void*)
#undef EMU_DECLARE_REAL
page_collection* page_collection_lock_x86_64_unicorn(void*, unsigned long, unsigned long);
void page_collection_unlock_x86_64_unicorn(page_collection*);

// uc.c's uc_open and context functions refer to every target Debian built; emu opens only
// UC_ARCH_X86, so these stand in for the others and keep their objects (and 15 more copies
// of qemu) out of the executable. Reaching one is a bug in emu.
#define EMU_NO_TARGET(arch)                                          \
    void arch##_uc_init(void*) { abort(); }                          \
    int arch##_context_reg_read(void*, unsigned, void*) { abort(); } \
    int arch##_context_reg_write(void*, unsigned, const void*) { abort(); }
EMU_NO_TARGET(arm)
EMU_NO_TARGET(arm64)
EMU_NO_TARGET(m68k)
EMU_NO_TARGET(mips)
EMU_NO_TARGET(mipsel)
EMU_NO_TARGET(mips64)
EMU_NO_TARGET(mips64el)
EMU_NO_TARGET(ppc)
EMU_NO_TARGET(ppc64)
EMU_NO_TARGET(riscv32)
EMU_NO_TARGET(riscv64)
EMU_NO_TARGET(s390)
EMU_NO_TARGET(sparc)
EMU_NO_TARGET(sparc64)
EMU_NO_TARGET(tricore)
#undef EMU_NO_TARGET
}
#else
// The library's own function `name`, behind emu's definition in the symbol search order.
#define EMU_UNICORN_REAL(name) reinterpret_cast<decltype(&name)>(dlsym(RTLD_NEXT, #name))
#endif

extern "C" {

__attribute__((visibility("default"))) void tlb_set_page_with_attrs_x86_64(void* cpu, uint64_t vaddr, uint64_t paddr,
                                                                           uint32_t attrs, int prot, int mmu_idx,
                                                                           uint64_t size) {
    static const auto real = EMU_UNICORN_REAL(tlb_set_page_with_attrs_x86_64);
    const emu::TlbFill fill = emu::tlb_fill_paddr(cpu, vaddr, paddr);
    // Before the fill: every caller of tlb_fill looks the entry up again afterwards.
    if (is_unicorn_2_0() && fill.flush_first) tlb_flush_x86_64(cpu);
    real(cpu, vaddr, fill.paddr, attrs, prot, mmu_idx, size);
    if (is_unicorn_2_0() && (prot & PAGE_WRITE) && !(prot & PAGE_EXEC) && !fill.code_frame)
        tlb_set_dirty_x86_64(cpu, vaddr);
}

__attribute__((visibility("default"))) page_collection* page_collection_lock_x86_64(void* uc, unsigned long start,
                                                                                    unsigned long end) {
    if (is_unicorn_2_0()) return reinterpret_cast<page_collection*>(&dummy_collection);
    static const auto real = EMU_UNICORN_REAL(page_collection_lock_x86_64);
    return found(real) ? real(uc, start, end) : reinterpret_cast<page_collection*>(&dummy_collection);
}

__attribute__((visibility("default"))) void page_collection_unlock_x86_64(page_collection* set) {
    if (is_unicorn_2_0() || set == reinterpret_cast<page_collection*>(&dummy_collection)) return;
    static const auto real = EMU_UNICORN_REAL(page_collection_unlock_x86_64);
    if (found(real)) real(set);
}

// A RAM page gets its first translated block: qemu would now make every TLB entry that writes
// the page take the not-dirty path (its SMC check), but Unicorn 2.0.1 stubs that out. Do it
// here for guest frames, so a store through another mapping of the frame (a JIT's RW view of
// its RX code) drops the stale code as on a real CPU.
__attribute__((visibility("default"))) void tlb_protect_code_x86_64(void* uc, uint64_t ram_addr) {
    static const auto real = EMU_UNICORN_REAL(tlb_protect_code_x86_64);
    real(uc, ram_addr);
    auto* host = static_cast<uint8_t*>(qemu_map_ram_ptr_x86_64(uc, nullptr, ram_addr & ~uint64_t{0xfff}));
    if (void* cpu = emu::tlb_code_page(host, ram_addr, true))
        tlb_reset_dirty_x86_64(cpu, reinterpret_cast<uintptr_t>(host), 0x1000);
}

// The page's last translated block is gone: stores to it may go fast again (from the next fill).
__attribute__((visibility("default"))) void tlb_unprotect_code_x86_64(void* uc, uint64_t ram_addr) {
    static const auto real = EMU_UNICORN_REAL(tlb_unprotect_code_x86_64);
    real(uc, ram_addr);
    emu::tlb_code_page(static_cast<uint8_t*>(qemu_map_ram_ptr_x86_64(uc, nullptr, ram_addr & ~uint64_t{0xfff})),
                       ram_addr, false);
}

// The four generators of guest memory accesses (libunicorn's translate.c calls them).
#define EMU_GEN_LDST(name)                                                                                             \
    __attribute__((visibility("default"))) void name(void* tcg_ctx, void* val, void* addr, uintptr_t idx, int memop) { \
        static const auto real = EMU_UNICORN_REAL(name);                                                               \
        ++generating_memory_access;                                                                                    \
        real(tcg_ctx, val, addr, idx, memop);                                                                          \
        --generating_memory_access;                                                                                    \
    }
EMU_GEN_LDST(tcg_gen_qemu_ld_i32_x86_64)
EMU_GEN_LDST(tcg_gen_qemu_st_i32_x86_64)
EMU_GEN_LDST(tcg_gen_qemu_ld_i64_x86_64)
EMU_GEN_LDST(tcg_gen_qemu_st_i64_x86_64)
#undef EMU_GEN_LDST

__attribute__((visibility("default"))) void check_exit_request_x86_64(void* tcg_ctx) {
    if (generating_memory_access && is_unicorn_2_0()) return;
    static const auto real = EMU_UNICORN_REAL(check_exit_request_x86_64);
    real(tcg_ctx);
}

}  // extern "C"
