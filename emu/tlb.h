// The shadow TLB: the x86 tables Unicorn's CPU walks, filled from the guest's page tables on
// hidden faults. Unicorn 2.0.1 would access the virtual address itself after a walk; emu's
// interposer (unicorn_fixes.cpp) asks tlb_fill_paddr instead, which sends each user page to
// its frame in guest RAM, registered once with Unicorn at RAM_PHYS_BASE.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <vector>

#include "guestos/include/mm_types.h"
#include "mmu/paging.h"
#include "mmu/phys_memory.h"
#include "mmu/shadow.h"

// Unicorn's engine and saved context (uc_engine, uc_context) are complete types only in
// emu's .cpp files: no public header of emu includes <unicorn/unicorn.h>.
struct uc_struct;
struct uc_context;

namespace emu {

// Unicorn's hook handle (uc_hook; emu/cpu.cpp checks that they are the same type).
using uc_hook_t = size_t;

using mmu::PhysAddr;
using mmu::VirtAddr;

// Counters shown by --stats (hits are free: they never leave Unicorn's own TLB).
struct TlbStats {
    uint64_t fills = 0;                 // shadow entries written from a guest walk
    uint64_t hidden_faults = 0;         // #PF resolved without the OS (shadow miss or dirty upgrade)
    uint64_t dirty_upgrades = 0;        // a write to a clean page set D and made the shadow writable
    uint64_t wx_switches = 0;           // a W+X page switched between writable and executable
    uint64_t true_faults = 0;           // #PF the guest tables deny: handed to do_page_fault
    uint64_t invalidations = 0;         // single pages dropped (flush_tlb_page / range)
    uint64_t full_flushes = 0;          // whole shadow dropped (flush_tlb_mm, capacity reached)
    uint64_t cpu_tlb_flushes = 0;       // batches sent to Unicorn's TLB (one per syscall or fault at most)
    uint64_t cpu_tlb_page_flushes = 0;  // pages those batches flushed one by one (tlb_flush_page)
    uint64_t cpu_tlb_full_flushes = 0;  // batches that flushed everything (past the ceiling, capacity)
    uint64_t cpu_tlb_fills = 0;         // Unicorn TLB entries pointed at a user page's frame
};

// Where guest RAM sits in Unicorn's physical address space: 2^47 is no canonical virtual
// address, so no identity-mapped region (user chunks, the kernel area) can overlap it.
inline constexpr uint64_t RAM_PHYS_BASE = 1ull << 47;

// Entry points for the Unicorn interposers (unicorn_fixes.cpp), acting on the active TLB.
struct TlbFill {
    uint64_t paddr;    // where Unicorn's TLB entry should point
    bool code_frame;   // the frame holds translated code: stores must take qemu's SMC path
    bool flush_first;  // flush Unicorn's TLB before this fill, so qemu resizes it (unicorn_fixes.cpp, 3)
};
// The physical address Unicorn's TLB fill of `cpu_state` for the page at vaddr should use (it
// passes the identity, paddr == vaddr): the frame the active shadow TLB maps there, at
// RAM_PHYS_BASE, for a user page; paddr unchanged otherwise (the kernel area is
// identity-mapped). Counts its calls, and the active TLB's fills since its last full flush.
TlbFill tlb_fill_paddr(void* cpu_state, uint64_t vaddr, uint64_t paddr);
// Calls of tlb_fill_paddr so far: zero after code ran means the interposer is missing; the
// count also shows whether a run refilled Unicorn's TLB (Cpu::verify_tlb_flush).
uint64_t tlb_fill_paddr_calls();
// Unicorn translated the first block from the RAM page at host (Unicorn's ram_addr), or
// dropped the last one (has_code false). Returns the CPU state whose TLB entries for that
// page must stop letting stores through fast (tlb_reset_dirty), or null when host is no
// guest frame.
void* tlb_code_page(const uint8_t* host, uint64_t ram_addr, bool has_code);

// Linux's tlb_single_page_flush_ceiling (arch/x86/mm/tlb.c): a batch of more pages than
// this flushes the whole TLB instead of page by page.
inline constexpr unsigned TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

// The shadow tables and Unicorn's software TLB of one engine, kept in step: an invalidation
// drops the shadow entries at once and gathers the pages (mmu_gather); tlb_flush_mmu sends
// the batch to Unicorn's TLB before the guest runs again.
class ShadowTlb final : public guestos::TlbFlusher {
public:
    // `user_limit` is the end of the guest user range; `cpu_state` is the engine's CPUState
    // (qemu_get_cpu), whose TLB tlb_flush_mmu flushes. `capacity` bounds the user pages the
    // shadow maps (--tlb-pages): reaching it starts over.
    ShadowTlb(uc_struct* uc, void* cpu_state, mmu::PhysMemory& ram, mmu::ShadowPageTables& shadow, uint64_t user_limit,
              uint64_t capacity);
    ~ShadowTlb() override;

    void set_mm(guestos::mm_struct* mm) { mm_ = mm; }
    // Makes this the TLB that tlb_fill_paddr translates for: call before anything that may
    // make Unicorn fill its TLB (uc_emu_start, uc_ctl_remove_cache).
    void activate() { active_ = this; }

    // Watchpoint traps (emu/debugger.h): a Write trap keeps the page's shadow entry
    // read-only, an Access trap keeps it absent, so only that page's accesses fault; every
    // other page runs at full speed. A fault a trap denied is Outcome::Trapped (nothing was
    // filled: the instruction has not run). set_trap(va, nullopt) removes the page's trap.
    enum class Trap { Write, Access };
    void set_trap(VirtAddr va, std::optional<Trap> kind);
    // While suspended (one instruction run by the debugger), the trapped pages fill as usual;
    // resuming drops what was filled meanwhile so the traps hold again.
    void suspend_traps(bool on);

    enum class Outcome { Resolved, TrueFault, Trapped };
    // A #PF at va: a hidden miss or dirty upgrade is resolved here; otherwise returns
    // TrueFault with the x86 error code for do_page_fault. `is_fetch` says CR2 lies in the
    // faulting instruction; `decode_write` is asked only when the kind of access matters.
    // `guessed_write` tells that the write bit came from decoding, not from the shadow.
    Outcome handle_fault(VirtAddr va, bool is_fetch, const std::function<bool()>& decode_write, uint32_t& error_code,
                         bool& guessed_write);
    // After the OS fixed the guest tables: fill the shadow for this access (false: still denied).
    bool fill_after_fault(VirtAddr va, uint32_t error_code);

    // Drop the shadow entries now; Unicorn's TLB follows at the next tlb_flush_mmu.
    void flush_tlb_page(VirtAddr va) override;
    void flush_tlb_range(VirtAddr start, VirtAddr end) override;
    void flush_tlb_mm() override;
    // Sends the gathered invalidations to Unicorn's TLB (mm/mmu_gather.c's tlb_flush_mmu):
    // each page by tlb_flush_page, or one full flush past the ceiling. Call before the
    // guest runs again (end of a syscall or fault) and before anything fills Unicorn's TLB.
    void tlb_flush_mmu();

    // Engine reuse (Machine's pool): forgets the old address space at once (every shadow
    // entry, Unicorn's whole TLB, every translated block from a guest frame, the counters),
    // keeping the engine's user regions, then serves mm. Translated code is dropped, not
    // kept: a frame may have been freed and rewritten by the OS since it was translated.
    void reset_for(guestos::mm_struct* mm);

    // Registers the Unicorn region covering user address va (so the CPU walks instead of
    // reporting unmapped memory); false outside the user range.
    bool ensure_user_region(uint64_t va) { return va < user_limit_ && ensure_chunk(va) != nullptr; }

    // The shadow agrees with the guest tables: every user entry maps the frame the guest
    // PTE maps, with no more rights (writable only when the PTE is writable and dirty).
    std::vector<std::string> check_consistency();

    const TlbStats& stats() const { return stats_; }
    uint64_t user_limit() const { return user_limit_; }

private:
    // Writes the shadow entry from a successful guest walk. The shadow never maps a page
    // writable and executable at once: a guest W+X page is shadowed executable and
    // read-only after a fetch, writable and NX otherwise, and switches on the next fault.
    bool fill(VirtAddr va, const mmu::WalkResult& w, bool writable, bool fetch);
    bool guest_pte_dirty(VirtAddr va);
    // The trap on va's page that denies this access now, if any (is_write: known a write).
    std::optional<Trap> trap_at(VirtAddr va) const;
    uint8_t* ensure_chunk(uint64_t va);
    void start_over();
    // tlb_remove_tlb_entry: va's shadow entry was dropped; its Unicorn entry joins the batch.
    void gather_page(VirtAddr va);
    friend TlbFill tlb_fill_paddr(void* cpu_state, uint64_t vaddr, uint64_t paddr);
    friend void* tlb_code_page(const uint8_t* host, uint64_t ram_addr, bool has_code);
    static inline ShadowTlb* active_ = nullptr;

    uc_struct* uc_;    // the engine (uc_engine)
    void* cpu_state_;  // Unicorn's CPUState (qemu_get_cpu), as its TLB fills pass it
    mmu::PhysMemory& ram_;
    mmu::ShadowPageTables& shadow_;
    guestos::mm_struct* mm_ = nullptr;
    uint64_t user_limit_;
    uint64_t capacity_;
    // The pending batch (struct mmu_gather): pages whose Unicorn entries must go, or all.
    struct Gather {
        std::array<uint64_t, TLB_SINGLE_PAGE_FLUSH_CEILING> pages{};
        unsigned nr = 0;
        bool full = false;
    } gather_;
    // qemu resizes its TLB only at a full flush (unicorn_fixes.cpp, 3): fills since the last
    // one, and how many make tlb_fill_paddr ask for the next.
    uint64_t fills_since_flush_ = 0, resize_interval_;
    // 1 GiB guest chunk -> its host reservation. Unicorn checks an access's virtual address
    // against its regions before it walks, so user space is registered, in chunks as it is
    // used, as regions of PROT_NONE host memory that no access ever reaches.
    std::unordered_map<uint64_t, uint8_t*> chunks_;
    std::unordered_map<uint64_t, uint64_t> exec_pfn_;  // guest vpn -> pfn last filled executable
    std::unordered_set<uint64_t> written_since_exec_;  // ex-code pages filled writable and NX since
    TlbStats stats_;
    std::unordered_map<uint64_t, Trap> traps_;  // guest vpn -> its watchpoint trap
    bool traps_suspended_ = false;
    std::vector<bool> code_frames_;    // by pfn: Unicorn holds translated code from the frame
    std::vector<uint32_t> code_pfns_;  // the frames code_frames_ marked since reset_for (may repeat)
    uint64_t code_ram_base_ = 0;       // Unicorn's ram_addr of frame 0 (learnt from tlb_code_page)
};

}  // namespace emu
