#include "emu/tlb.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>

#include "guestos/kernel.h"

namespace emu {

namespace {
constexpr uint64_t CHUNK_SHIFT = 30;  // Unicorn regions for user memory: 1 GiB each
constexpr uint64_t CHUNK_SIZE = 1ull << CHUNK_SHIFT;

void* reserve(void* at, uint64_t len) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (at ? MAP_FIXED : 0);
    return mmap(at, len, PROT_NONE, flags, -1, 0);
}
}  // namespace

ShadowTlb::ShadowTlb(uc_engine* uc, mmu::PhysMemory& ram, mmu::ShadowPageTables& shadow, uint64_t user_limit,
                     uint64_t max_aliases, std::function<void()> flush_cpu_tlb)
    : uc_(uc), ram_(ram), shadow_(shadow), user_limit_(user_limit), max_aliases_(max_aliases),
      flush_cpu_tlb_(std::move(flush_cpu_tlb)), ever_aliased_(ram.num_frames(), false) {}

ShadowTlb::~ShadowTlb() {
    for (auto& [idx, host] : chunks_) munmap(host, CHUNK_SIZE);
}

// The host reservation behind the guest chunk holding va, registered with Unicorn once.
uint8_t* ShadowTlb::ensure_chunk(uint64_t va) {
    const uint64_t idx = va >> CHUNK_SHIFT;
    if (auto it = chunks_.find(idx); it != chunks_.end()) return it->second;
    void* host = reserve(nullptr, CHUNK_SIZE);
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

// Host mappings the aliases make, estimated: a new alias next to an alias of the
// neighbouring frame merges with it (same file, adjacent offset, same protection).
int64_t ShadowTlb::new_host_mappings(uint64_t vpn, uint64_t pfn) const {
    auto aliased = [&](uint64_t v, uint64_t f) {
        auto it = alias_.find(v);
        return it != alias_.end() && it->second == f;
    };
    if (alias_.count(vpn)) return 2;  // replacing splits a mapping: count the worst case
    return 1 - (pfn && aliased(vpn - 1, pfn - 1)) - aliased(vpn + 1, pfn + 1);
}

// How many pages to alias from vpn: a window of ALIAS_AHEAD when the pages after it are
// not aliased yet, betting that the next faults get the next frames (the allocator hands
// out frames in order). Pages aliased ahead stay unreachable until the shadow maps them;
// one that then gets another frame is simply aliased again.
uint64_t ShadowTlb::alias_window(uint64_t vpn, uint64_t pfn) const {
    const uint64_t in_chunk = (CHUNK_SIZE >> mmu::PAGE_SHIFT) - (vpn & ((CHUNK_SIZE >> mmu::PAGE_SHIFT) - 1));
    const uint64_t frames_left = ram_.num_frames() - pfn;
    const uint64_t n = std::min({ALIAS_AHEAD, in_chunk, frames_left});
    for (uint64_t i = 1; i < n; ++i)
        if (alias_.count(vpn + i)) return 1;
    return std::max<uint64_t>(n, 1);
}

// Makes the host page behind va show frame (one mmap of the RAM memfd), unless it already does.
namespace {
constexpr int MADV_POPULATE_WRITE_ = 23;  // Linux 5.14; older hosts refuse it and fault pages in
}  // namespace

bool ShadowTlb::alias_page(VirtAddr va, PhysAddr frame) {
    const uint64_t vpn = va.vpn();
    if (auto it = alias_.find(vpn); it != alias_.end() && it->second == frame.pfn()) return true;
    // Bounded by pages (--tlb-pages) and by host mappings: each one inside a PROT_NONE
    // reservation costs up to two of the host's vm.max_map_count (65530).
    if (alias_.size() >= max_aliases_ || host_mappings_ >= MAX_HOST_MAPPINGS) drop_all_aliases();
    const int64_t added = new_host_mappings(vpn, frame.pfn());
    uint8_t* chunk = ensure_chunk(va.value);
    if (!chunk) return false;
    uint8_t* host = chunk + (va.page_base().value & (CHUNK_SIZE - 1));
    const uint64_t window = alias_window(vpn, frame.pfn());
    ram_.prefault(frame.page_base(), window * mmu::PAGE_SIZE);
    for (int attempt = 0; attempt < 2; ++attempt) {
        void* p = mmap(host, window * mmu::PAGE_SIZE, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_FIXED, ram_.memfd(),
                       static_cast<off_t>(frame.page_base().value));
        if (p != MAP_FAILED) {
            // Map fresh (prefaulted) pages writable now, in one call, rather than taking one
            // host write fault per page as the guest touches them (MAP_POPULATE would map
            // them read-only and leave a write-protect fault per page). Frames aliased
            // before are left to fault in as touched: a small TLB re-aliases windows of
            // which the guest uses a page or two.
            bool fresh = false;
            for (uint64_t i = 0; i < window; ++i)
                if (!ever_aliased_[frame.pfn() + i]) fresh = ever_aliased_[frame.pfn() + i] = true;
            if (fresh) (void)madvise(p, window * mmu::PAGE_SIZE, MADV_POPULATE_WRITE_);
            for (uint64_t i = 0; i < window; ++i) alias_[vpn + i] = frame.pfn() + i;
            host_mappings_ += added;
            ++stats_.alias_maps;
            return true;
        }
        if (errno != ENOMEM) break;
        drop_all_aliases();  // the host's vm.max_map_count is reached: start over
    }
    return false;
}

// Drops every user shadow entry and every alias (the kernel area's entries stay: the CPU
// reads the GDT through them); the guest refills on demand.
void ShadowTlb::drop_all_aliases() {
    shadow_.clear_range(VirtAddr(0), VirtAddr(user_limit_));
    for (auto& [idx, host] : chunks_) reserve(host, CHUNK_SIZE);
    alias_.clear();
    host_mappings_ = 0;
    ++stats_.full_flushes;
    flush_cpu();
}

void ShadowTlb::flush_cpu() {
    ++stats_.cpu_tlb_flushes;
    flush_cpu_tlb_();
}

// Stores to an executable page take Unicorn's self-modifying-code path, and i386 2-level
// tables have no NX at all, so keeping W^X in the shadow is what makes stores fast.
bool ShadowTlb::fill(VirtAddr va, const mmu::WalkResult& w, bool writable, bool fetch) {
    const PhysAddr frame = w.phys.page_base();
    if (!alias_page(va, frame)) return false;
    bool executable = w.executable;
    if (writable && executable) (fetch ? writable : executable) = false;
    // Leaving executable for writable: drop the page's translated code now, while the entry
    // still allows fetches (uc_ctl_remove_cache walks it); qemu's jump cache would otherwise
    // run the old code without any fault.
    if (!executable) {
        auto prev = shadow_.lookup(va.page_base());
        if (prev && prev->perm.executable)
            uc_ctl_remove_cache(uc_, va.page_base().value, va.page_base().value + mmu::PAGE_SIZE);
    }
    mmu::ShadowPerm perm{writable, true, executable};
    if (!shadow_.set(va.page_base(), frame, perm)) {
        drop_all_aliases();
        if (!alias_page(va, frame) || !shadow_.set(va.page_base(), frame, perm)) return false;
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
bool ShadowTlb::guest_pte_dirty(VirtAddr va) {
    mmu::RamBus bus(ram_);
    auto slot = mmu::pte_lookup(bus, mm_->paging_mode, mm_->pgd, va);
    return slot && (mmu::read_entry(bus, mm_->paging_mode, *slot) & mmu::_PAGE_DIRTY);
}

ShadowTlb::Outcome ShadowTlb::handle_fault(VirtAddr va, bool is_fetch, const std::function<bool()>& decode_write,
                                           uint32_t& error_code, bool& guessed_write) {
    guessed_write = false;
    mmu::RamBus bus(ram_);
    const auto existing = va.value < user_limit_ ? shadow_.lookup(va.page_base()) : std::nullopt;
    mmu::Access access;
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
            }
        }
    } else if (va.value < user_limit_) {
        // A shadow miss: fill from the guest tables if they allow reading (or fetching).
        access = is_fetch ? mmu::Access::Fetch : mmu::Access::Read;
        auto w = mmu::walk(bus, mm_->paging_mode, mm_->pgd, va, access, mmu::Privilege::User, {});
        if (w.ok) {
            ++stats_.hidden_faults;
            if (fill(va, w, w.writable && w.dirty, is_fetch)) return Outcome::Resolved;
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
    auto w = va.value < user_limit_
                 ? mmu::walk(bus, mm_->paging_mode, mm_->pgd, va, access, mmu::Privilege::User, {.set_accessed_dirty = false})
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
    shadow_.for_each_present(VirtAddr(0), VirtAddr(user_limit_), [&](VirtAddr va, const mmu::ShadowPageTables::Entry& e) {
        char where[64];
        std::snprintf(where, sizeof where, "shadow entry at %#llx", static_cast<unsigned long long>(va.value));
        auto w = mmu::walk(bus, mm_->paging_mode, mm_->pgd, va, mmu::Access::Read, mmu::Privilege::User, look);
        if (!w.ok) return problems.push_back(std::string(where) + ": the guest tables do not map it");
        if (w.phys.page_base() != e.frame) problems.push_back(std::string(where) + ": maps another frame than the guest PTE");
        if (e.perm.writable && !(w.writable && w.dirty)) problems.push_back(std::string(where) + ": writable beyond the guest PTE");
        if (e.perm.executable && !w.executable) problems.push_back(std::string(where) + ": executable beyond the guest PTE");
        if (e.perm.writable && e.perm.executable) problems.push_back(std::string(where) + ": writable and executable");
        auto it = alias_.find(va.vpn());
        if (it == alias_.end() || it->second != e.frame.pfn()) problems.push_back(std::string(where) + ": alias shows another frame");
    });
    return problems;
}

void ShadowTlb::flush_tlb_page(VirtAddr va) {
    if (shadow_.clear(va.page_base())) {
        ++stats_.invalidations;
        flush_cpu();
    }
}

void ShadowTlb::flush_tlb_range(VirtAddr start, VirtAddr end) {
    uint64_t n = 0;
    shadow_.clear_range(start.page_base(), end, [&](VirtAddr) { ++n; });
    if (n) {
        stats_.invalidations += n;
        flush_cpu();
    }
}

void ShadowTlb::flush_tlb_mm() {
    shadow_.clear_range(VirtAddr(0), VirtAddr(user_limit_));
    ++stats_.full_flushes;
    flush_cpu();
}

}  // namespace emu

