// The shadow TLB: the x86 tables Unicorn's CPU walks, filled from the guest's page tables on
// hidden faults, with guest frames aliased into the host ranges Unicorn maps as user memory.
#pragma once
#include <unicorn/unicorn.h>

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <vector>

#include "guestos/mm.h"
#include "mmu/paging.h"
#include "mmu/phys_memory.h"
#include "mmu/shadow.h"

namespace emu {

using mmu::PhysAddr;
using mmu::VirtAddr;

// Counters shown by --stats (hits are free: they never leave Unicorn's own TLB).
struct TlbStats {
    uint64_t fills = 0;          // shadow entries written from a guest walk
    uint64_t hidden_faults = 0;  // #PF resolved without the OS (shadow miss or dirty upgrade)
    uint64_t dirty_upgrades = 0; // a write to a clean page set D and made the shadow writable
    uint64_t wx_switches = 0;    // a W+X page switched between writable and executable
    uint64_t true_faults = 0;    // #PF the guest tables deny: handed to do_page_fault
    uint64_t invalidations = 0;  // single pages dropped (flush_tlb_page / range)
    uint64_t full_flushes = 0;   // whole shadow dropped (flush_tlb_mm, alias capacity)
    uint64_t cpu_tlb_flushes = 0;// Unicorn TLB flushes (CR3 writes)
    uint64_t alias_maps = 0;     // host mmap calls that aliased a frame
};

class ShadowTlb final : public guestos::TlbFlusher {
public:
    // `user_limit` is the end of the guest user range; `flush_cpu_tlb` drops Unicorn's TLB.
    ShadowTlb(uc_engine* uc, mmu::PhysMemory& ram, mmu::ShadowPageTables& shadow, uint64_t user_limit,
              uint64_t max_aliases, std::function<void()> flush_cpu_tlb);
    ~ShadowTlb() override;

    void set_mm(guestos::mm_struct* mm) { mm_ = mm; }

    // Pages aliased ahead in one host mmap when the next pages are not aliased yet.
    static constexpr uint64_t ALIAS_AHEAD = 16;

    enum class Outcome { Resolved, TrueFault };
    // A #PF at va: a hidden miss or dirty upgrade is resolved here; otherwise returns
    // TrueFault with the x86 error code for do_page_fault. `is_fetch` says CR2 lies in the
    // faulting instruction; `decode_write` is asked only when the kind of access matters.
    // `guessed_write` tells that the write bit came from decoding, not from the shadow.
    Outcome handle_fault(VirtAddr va, bool is_fetch, const std::function<bool()>& decode_write,
                         uint32_t& error_code, bool& guessed_write);
    // After the OS fixed the guest tables: fill the shadow for this access (false: still denied).
    bool fill_after_fault(VirtAddr va, uint32_t error_code);

    void flush_tlb_page(VirtAddr va) override;
    void flush_tlb_range(VirtAddr start, VirtAddr end) override;
    void flush_tlb_mm() override;

    // Registers the Unicorn region covering user address va (so the CPU walks instead of
    // reporting unmapped memory); false outside the user range.
    bool ensure_user_region(uint64_t va) { return va < user_limit_ && ensure_chunk(va) != nullptr; }

    // The shadow agrees with the guest tables: every user entry maps the frame the guest
    // PTE maps, with no more rights (writable only when the PTE is writable and dirty).
    std::vector<std::string> check_consistency();

    const TlbStats& stats() const { return stats_; }
    size_t aliased_pages() const { return alias_.size(); }

private:
    // Writes the shadow entry from a successful guest walk. The shadow never maps a page
    // writable and executable at once: a guest W+X page is shadowed executable and
    // read-only after a fetch, writable and NX otherwise, and switches on the next fault.
    bool fill(VirtAddr va, const mmu::WalkResult& w, bool writable, bool fetch);
    bool alias_page(VirtAddr va, PhysAddr frame);
    int64_t new_host_mappings(uint64_t vpn, uint64_t pfn) const;
    uint64_t alias_window(uint64_t vpn, uint64_t pfn) const;
    static constexpr int64_t MAX_HOST_MAPPINGS = 24576;
    bool guest_pte_dirty(VirtAddr va);
    uint8_t* ensure_chunk(uint64_t va);
    void drop_all_aliases();
    void flush_cpu();

    uc_engine* uc_;
    mmu::PhysMemory& ram_;
    mmu::ShadowPageTables& shadow_;
    guestos::mm_struct* mm_ = nullptr;
    uint64_t user_limit_;
    uint64_t max_aliases_;
    std::function<void()> flush_cpu_tlb_;
    std::unordered_map<uint64_t, uint8_t*> chunks_;     // 1 GiB guest chunk -> host reservation
    std::unordered_map<uint64_t, uint64_t> alias_;      // guest vpn -> aliased pfn
    int64_t host_mappings_ = 0;                         // host mappings the aliases make (estimate)
    std::vector<bool> ever_aliased_;                    // by pfn: frames some alias has mapped before
    std::unordered_map<uint64_t, uint64_t> exec_pfn_;   // guest vpn -> pfn last filled executable
    std::unordered_set<uint64_t> written_since_exec_;   // ex-code pages filled writable and NX since
    TlbStats stats_;
};

}  // namespace emu
