#include "emu/tlb.h"

#include <unicorn/unicorn.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>

#include "emu/libunicorn.h"
#include "guestos/include/kernel.h"
#include "guestos/mm/memory.h"

namespace emu {

namespace {
constexpr uint64_t CHUNK_SHIFT = 30;  // Unicorn regions for user memory: 1 GiB each
constexpr uint64_t CHUNK_SIZE = 1ull << CHUNK_SHIFT;

// Host address space that no access reaches (see chunks_ in tlb.h).
void* reserve(uint64_t len) {
    return mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

// 16 fills per entry of qemu's initial 256-entry TLB (CPU_TLB_DYN_DEFAULT_BITS).
constexpr uint64_t FIRST_RESIZE_FILLS = 16 * 256;

uint64_t fill_paddr_calls = 0;
}  // namespace

TlbFill tlb_fill_paddr(void* cpu_state, uint64_t vaddr, uint64_t paddr) {
    ++fill_paddr_calls;
    ShadowTlb* t = ShadowTlb::active_;
    if (!t || cpu_state != t->cpu_state_) return {paddr, false, false};
    // After 4096 fills, then twice as many each time, a full flush lets qemu grow its TLB.
    bool flush_first = false;
    if (++t->fills_since_flush_ >= t->resize_interval_) {
        flush_first = true;
        t->fills_since_flush_ = 0;
        if (t->resize_interval_ < (1ull << 40)) t->resize_interval_ *= 2;
    }
    if (vaddr >= t->user_limit_) return {paddr, false, flush_first};
    // The entry Unicorn's walk just read: always present.
    auto e = t->shadow_.lookup(VirtAddr(vaddr));
    if (!e) return {paddr, false, flush_first};
    ++t->stats_.cpu_tlb_fills;
    return {RAM_PHYS_BASE + e->frame.page_base().value, t->code_frames_[e->frame.pfn()], flush_first};
}

void* tlb_code_page(const uint8_t* host, uint64_t ram_addr, bool has_code) {
    ShadowTlb* t = ShadowTlb::active_;
    const uint8_t* base = t ? t->ram_.host(PhysAddr(0)) : nullptr;
    if (!base || host < base || host >= base + t->ram_.size()) return nullptr;
    const uint64_t offset = static_cast<uint64_t>(host - base) & ~(mmu::PAGE_SIZE - 1);
    const uint64_t pfn = offset >> mmu::PAGE_SHIFT;
    t->code_frames_[pfn] = has_code;
    if (has_code) {
        t->code_pfns_.push_back(static_cast<uint32_t>(pfn));
        t->code_ram_base_ = (ram_addr & ~(mmu::PAGE_SIZE - 1)) - offset;  // guest RAM is one RAM block
    }
    return t->cpu_state_;
}

uint64_t tlb_fill_paddr_calls() { return fill_paddr_calls; }

ShadowTlb::ShadowTlb(uc_engine* uc, void* cpu_state, mmu::PhysMemory& ram, mmu::ShadowPageTables& shadow,
                     uint64_t user_limit, uint64_t capacity)
    : uc_(uc),
      cpu_state_(cpu_state),
      ram_(ram),
      shadow_(shadow),
      user_limit_(user_limit),
      capacity_(capacity),
      resize_interval_(FIRST_RESIZE_FILLS),
      code_frames_(ram.num_frames(), false) {}

ShadowTlb::~ShadowTlb() {
    if (active_ == this) active_ = nullptr;
    for (auto& [idx, host] : chunks_) munmap(host, CHUNK_SIZE);
}

void ShadowTlb::reset_for(guestos::mm_struct* mm) {
    activate();  // the invalidations below report pages losing their code to this TLB
    flush_tlb_mm();
    tlb_flush_mmu();
    for (uint32_t pfn : code_pfns_) {
        if (!code_frames_[pfn]) continue;  // its blocks went already
        const uint64_t start = code_ram_base_ + (uint64_t{pfn} << mmu::PAGE_SHIFT);
        tb_invalidate_phys_range_x86_64(uc_, start, start + mmu::PAGE_SIZE);
        code_frames_[pfn] = false;
    }
    code_pfns_.clear();
    exec_pfn_.clear();
    written_since_exec_.clear();
    traps_.clear();
    traps_suspended_ = false;
    stats_ = {};
    mm_ = mm;
}

// The host reservation behind the guest chunk holding va, registered with Unicorn once.
uint8_t* ShadowTlb::ensure_chunk(uint64_t va) {
    const uint64_t idx = va >> CHUNK_SHIFT;
    if (auto it = chunks_.find(idx); it != chunks_.end()) return it->second;
    void* host = reserve(CHUNK_SIZE);
    if (host == MAP_FAILED) return nullptr;
    const uint64_t base = idx << CHUNK_SHIFT;
    const uint64_t size = std::min(CHUNK_SIZE, user_limit_ - base);
    if (uc_mem_map_ptr(uc_, base, size, UC_PROT_ALL, host) != UC_ERR_OK) {
        munmap(host, CHUNK_SIZE);
        return nullptr;
    }
    chunks_[idx] = static_cast<uint8_t*>(host);
    return static_cast<uint8_t*>(host);
}

// Drops every user shadow entry (the kernel area's entries stay: the CPU reads the GDT
// through them); the guest refills on demand.
void ShadowTlb::start_over() {
    flush_tlb_mm();
    tlb_flush_mmu();
}

void ShadowTlb::gather_page(VirtAddr va) {
    ++stats_.invalidations;
    if (gather_.full) return;
    if (gather_.nr == gather_.pages.size()) {
        gather_.full = true;  // past tlb_single_page_flush_ceiling: one full flush is cheaper
        return;
    }
    gather_.pages[gather_.nr++] = va.value;
}

void ShadowTlb::tlb_flush_mmu() {
    if (!gather_.full && !gather_.nr) return;
    ++stats_.cpu_tlb_flushes;
    if (gather_.full) {
        tlb_flush_x86_64(cpu_state_);
        ++stats_.cpu_tlb_full_flushes;
        fills_since_flush_ = 0;  // qemu sized its TLB just now
    } else {
        for (unsigned i = 0; i < gather_.nr; ++i) tlb_flush_page_x86_64(cpu_state_, gather_.pages[i]);
        stats_.cpu_tlb_page_flushes += gather_.nr;
    }
    gather_.nr = 0;
    gather_.full = false;
}

// Stores to an executable page take Unicorn's self-modifying-code path, and i386 2-level
// tables have no NX at all, so keeping W^X in the shadow is what makes stores fast.
bool ShadowTlb::fill(VirtAddr va, const mmu::WalkResult& w, bool writable, bool fetch) {
    const PhysAddr frame = w.phys.page_base();
    if (!ensure_chunk(va.value)) return false;
    tlb_flush_mmu();  // uc_ctl_remove_cache below fills Unicorn's TLB: no stale entry may answer
    if (shadow_.entries_present() >= capacity_ && !shadow_.lookup(va.page_base())) start_over();
    bool executable = w.executable;
    if (trap_at(va)) writable = false;  // a Write trap (an Access trap never gets here)
    if (writable && executable) (fetch ? writable : executable) = false;
    // Leaving executable for writable: drop the page's translated code now, while the entry
    // still allows fetches (uc_ctl_remove_cache walks it); qemu's jump cache would otherwise
    // run the old code without any fault.
    activate();  // uc_ctl_remove_cache fills Unicorn's TLB to find the page
    if (!executable) {
        auto prev = shadow_.lookup(va.page_base());
        if (prev && prev->perm.executable)
            uc_ctl_remove_cache(uc_, va.page_base().value, va.page_base().value + mmu::PAGE_SIZE);
    }
    mmu::ShadowPerm perm{writable, true, executable};
    if (!shadow_.set(va.page_base(), frame, perm)) {  // the table pool is exhausted
        start_over();
        if (!shadow_.set(va.page_base(), frame, perm)) return false;
    }
    ++stats_.fills;
    // Translated code cached for this address is stale when the page now shows another frame,
    // or was writable without exec since (stores there skip qemu's self-modifying-code check,
    // see unicorn_fixes.cpp). uc_ctl_remove_cache walks the shadow, so only call it once the
    // entry is present and executable.
    const uint64_t vpn = va.vpn();
    if (executable) {
        auto [it, inserted] = exec_pfn_.try_emplace(vpn, frame.pfn());
        const bool rewritten = written_since_exec_.erase(vpn) > 0;
        if (!inserted && (it->second != frame.pfn() || rewritten)) {
            it->second = frame.pfn();
            uc_ctl_remove_cache(uc_, va.page_base().value, va.page_base().value + mmu::PAGE_SIZE);
        }
    } else if (writable && exec_pfn_.count(vpn)) {
        written_since_exec_.insert(vpn);
    }
    return true;
}

// The guest PTE for va has its Dirty bit set.
bool ShadowTlb::guest_pte_dirty(VirtAddr va) { return guestos::pte_dirty(guestos::get_pte(*mm_, va)); }

void ShadowTlb::set_trap(VirtAddr va, std::optional<Trap> kind) {
    if (kind) traps_[va.vpn()] = *kind;
    else traps_.erase(va.vpn());
    flush_tlb_page(va.page_base());  // refilled under the new rule
}

void ShadowTlb::suspend_traps(bool on) {
    traps_suspended_ = on;
    if (!on)
        for (const auto& [vpn, kind] : traps_) flush_tlb_page(VirtAddr(vpn << mmu::PAGE_SHIFT));
}

std::optional<ShadowTlb::Trap> ShadowTlb::trap_at(VirtAddr va) const {
    if (traps_.empty() || traps_suspended_) return std::nullopt;
    auto it = traps_.find(va.vpn());
    if (it == traps_.end()) return std::nullopt;
    return it->second;
}

ShadowTlb::Outcome ShadowTlb::handle_fault(VirtAddr va, bool is_fetch, const std::function<bool()>& decode_write,
                                           uint32_t& error_code, bool& guessed_write) {
    guessed_write = false;
    mmu::RamBus bus(ram_);
    const auto existing = va.value < user_limit_ ? shadow_.lookup(va.page_base()) : std::nullopt;
    // A watched page: an Access trap takes every fault, a Write trap the writes (a miss that
    // only reads fills read-only below; a write then faults on that entry).
    if (auto trap = trap_at(va)) {
        if (*trap == Trap::Access) return Outcome::Trapped;
        if (existing && !is_fetch && !existing->perm.writable) return Outcome::Trapped;
        if (!existing && !is_fetch && decode_write()) return Outcome::Trapped;
    }
    mmu::Access access;
    // A walk of this fault that failed: its PROT bit (present or not) holds for any access
    // kind, so the error code needs no second walk.
    std::optional<mmu::WalkResult> failed;
    if (existing) {
        // The shadow maps the page but denied the access: a fetch from NX, or a write.
        access = is_fetch ? mmu::Access::Fetch : mmu::Access::Write;
        const bool denied = is_fetch ? !existing->perm.executable : !existing->perm.writable;
        if (denied) {
            const bool was_dirty = guest_pte_dirty(va);
            auto w = mmu::walk(bus, mm_->paging_mode, mm_->pgd, va, access, mmu::Privilege::User, {});
            if (w.ok) {  // a write to a clean page (the walk set D), or a W+X page switching
                ++stats_.hidden_faults;
                ++(!is_fetch && !was_dirty ? stats_.dirty_upgrades : stats_.wx_switches);
                if (fill(va, w, !is_fetch, is_fetch)) return Outcome::Resolved;
            } else {
                failed = w;
            }
        }
    } else if (va.value < user_limit_) {
        // A shadow miss: fill from the guest tables if they allow reading (or fetching).
        access = is_fetch ? mmu::Access::Fetch : mmu::Access::Read;
        auto w = mmu::walk(bus, mm_->paging_mode, mm_->pgd, va, access, mmu::Privilege::User, {});
        if (w.ok) {
            ++stats_.hidden_faults;
            if (fill(va, w, w.writable && w.dirty, is_fetch)) return Outcome::Resolved;
        } else {
            failed = w;
        }
        if (!is_fetch && decode_write()) {
            access = mmu::Access::Write;
            guessed_write = true;
        }
    } else {
        guessed_write = !is_fetch && decode_write();
        access = is_fetch ? mmu::Access::Fetch : guessed_write ? mmu::Access::Write : mmu::Access::Read;
    }
    ++stats_.true_faults;
    auto w = failed                   ? *failed
             : va.value < user_limit_ ? mmu::walk(bus, mm_->paging_mode, mm_->pgd, va, access, mmu::Privilege::User,
                                                  {.set_accessed_dirty = false})
                                      : mmu::WalkResult{};
    error_code = guestos::X86_PF_USER | (w.error_code & guestos::X86_PF_PROT);
    if (access == mmu::Access::Write) error_code |= guestos::X86_PF_WRITE;
    if (access == mmu::Access::Fetch) error_code |= guestos::X86_PF_INSTR;
    if (va.value >= user_limit_) error_code |= guestos::X86_PF_PROT;
    return Outcome::TrueFault;
}

bool ShadowTlb::fill_after_fault(VirtAddr va, uint32_t error_code) {
    mmu::RamBus bus(ram_);
    const mmu::Access access = (error_code & guestos::X86_PF_WRITE)   ? mmu::Access::Write
                               : (error_code & guestos::X86_PF_INSTR) ? mmu::Access::Fetch
                                                                      : mmu::Access::Read;
    auto w = mmu::walk(bus, mm_->paging_mode, mm_->pgd, va, access, mmu::Privilege::User, {});
    if (!w.ok) return false;
    return fill(va, w, w.writable && w.dirty, access == mmu::Access::Fetch);
}

std::vector<std::string> ShadowTlb::check_consistency() {
    std::vector<std::string> problems;
    mmu::RamBus bus(ram_);
    mmu::WalkOptions look;
    look.set_accessed_dirty = false;
    shadow_.for_each_present(
        VirtAddr(0), VirtAddr(user_limit_), [&](VirtAddr va, const mmu::ShadowPageTables::Entry& e) {
            char where[64];
            std::snprintf(where, sizeof where, "shadow entry at %#llx", static_cast<unsigned long long>(va.value));
            auto w = mmu::walk(bus, mm_->paging_mode, mm_->pgd, va, mmu::Access::Read, mmu::Privilege::User, look);
            if (!w.ok) return problems.push_back(std::string(where) + ": the guest tables do not map it");
            if (w.phys.page_base() != e.frame)
                problems.push_back(std::string(where) + ": maps another frame than the guest PTE");
            if (e.perm.writable && !(w.writable && w.dirty))
                problems.push_back(std::string(where) + ": writable beyond the guest PTE");
            if (e.perm.executable && !w.executable)
                problems.push_back(std::string(where) + ": executable beyond the guest PTE");
            if (e.perm.writable && e.perm.executable)
                problems.push_back(std::string(where) + ": writable and executable");
        });
    return problems;
}

void ShadowTlb::flush_tlb_page(VirtAddr va) {
    if (shadow_.clear(va.page_base())) gather_page(va.page_base());
}

void ShadowTlb::flush_tlb_range(VirtAddr start, VirtAddr end) {
    shadow_.clear_range(start.page_base(), end, [&](VirtAddr va) { gather_page(va); });
}

void ShadowTlb::flush_tlb_mm() {
    shadow_.clear_range(VirtAddr(0), VirtAddr(user_limit_));
    ++stats_.full_flushes;
    gather_.full = true;
}

}  // namespace emu
