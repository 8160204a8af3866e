// Shadow page tables: the x86 tables CR3 points to, kept outside guest RAM in a host pool.
// They are the TLB the CPU (Unicorn) walks: filled on a hidden fault from a walk of the guest
// tables, cleared on flush_tlb_page / CR3 switch. Permissions live in the leaf only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "mmu/paging.h"
#include "mmu/types.h"

namespace mmu {

enum class ShadowFormat { LongMode4, PAE };  // x86-64 guests use 4-level, i386 guests PAE shadows

struct ShadowPerm {
    bool writable;
    bool user;
    bool executable;
};

class ShadowPageTables {
public:
    // pool_host/pool_phys/pool_bytes: the host buffer and the physical address at which the CPU
    // sees it (page aligned, below 2^40). For PAE the PDPT must be below 4 GiB: root_host /
    // root_phys is a separate 32-byte-aligned area given by the caller (only its 32 bytes are
    // used); for LongMode4 pass nullptr and the root comes from the pool.
    // Throws std::invalid_argument when these preconditions do not hold.
    ShadowPageTables(ShadowFormat, uint8_t* pool_host, uint64_t pool_phys, uint64_t pool_bytes,
                     uint8_t* root_host = nullptr, uint64_t root_phys = 0);
    ShadowPageTables(const ShadowPageTables&) = delete;
    ShadowPageTables& operator=(const ShadowPageTables&) = delete;

    // The value to load into CR3.
    uint64_t cr3() const;
    ShadowFormat format() const { return format_; }
    PagingMode paging_mode() const { return mode_; }

    // Installs/overwrites the 4 KiB leaf for va: present, RW if writable, US if user, NX if
    // !executable, A and D pre-set; the frame is stored as given (must be < 2^40). Returns false
    // when the pool is exhausted (nothing changed; caller clears and retries) or when the format
    // cannot map va (non-canonical, or >= 4 GiB for PAE).
    [[nodiscard]] bool set(VirtAddr va, PhysAddr frame, ShadowPerm perm);

    struct Entry {
        PhysAddr frame;
        ShadowPerm perm;
    };
    // The leaf for va, if present.
    std::optional<Entry> lookup(VirtAddr va) const;
    // Removes va's leaf and frees tables it leaves empty; returns whether an entry was present.
    bool clear(VirtAddr va);
    // Removes every leaf in [start, end) (end exclusive; VirtAddr(~0ull) reaches the top),
    // calling on_cleared(va) for each; skips absent upper entries and frees emptied tables.
    void clear_range(VirtAddr start, VirtAddr end, std::function<void(VirtAddr)> on_cleared = {});
    // Removes every leaf; all tables but the root return to the pool.
    void clear_all(std::function<void(VirtAddr)> on_cleared = {});
    // Calls fn(va, entry) for every present leaf in [start, end).
    void for_each_present(VirtAddr start, VirtAddr end, const std::function<void(VirtAddr, const Entry&)>& fn);

    // Sets or clears RW of va's leaf if present (dirty upgrade / write-protect).
    void set_writable(VirtAddr va, bool writable);

    // Tables in use, the root included (1 when empty).
    size_t tables_in_use() const { return tables_; }
    // Present 4 KiB leaves.
    size_t entries_present() const { return entries_; }
    // Pool pages still available for tables.
    size_t tables_free() const { return free_.size() + (pool_pages_ - bump_); }

    // The pool (and the PAE root) as the CPU sees it, for walk() over the shadow.
    PhysBus& bus() { return bus_; }

private:
    class ShadowBus : public PhysBus {
    public:
        explicit ShadowBus(ShadowPageTables& s) : s_(s) {}
        uint8_t* host(PhysAddr pa, uint64_t len) override;

    private:
        ShadowPageTables& s_;
    };

    // Slots and tables along va's path, indexed by level; valid down to the returned level.
    struct Path {
        uint64_t* slot[5];
        uint64_t* table[5];
    };

    uint64_t* table_at(uint64_t entry) const;
    bool in_pool(const uint64_t* table) const;
    uint32_t page_of(const uint64_t* table) const;
    uint64_t phys_of(const uint64_t* table) const;
    uint64_t* alloc_table();
    void free_table(uint64_t* table);
    void entry_added(uint64_t* table);
    bool entry_removed(uint64_t* table);
    int find_path(VirtAddr va, Path& path) const;
    uint64_t* leaf_table_alloc(VirtAddr va);
    uint64_t upper_entry(int level, uint64_t* child) const;
    void unlink_empty_tables(Path& path);
    void clear_level(uint64_t* table, int level, VirtAddr base, VirtAddr first, VirtAddr last,
                     const std::function<void(VirtAddr)>& on_cleared);

    ShadowFormat format_;
    PagingMode mode_;
    uint8_t* pool_host_;
    uint64_t pool_phys_;
    uint64_t pool_pages_;
    uint8_t* root_host_;  // PAE: the caller's PDPT area
    uint64_t root_phys_;
    uint64_t* root_;              // the top-level table
    std::vector<uint32_t> free_;  // recycled pool pages, all zero; capacity reserved up front
    uint64_t bump_ = 0;           // pool pages [bump_, pool_pages_) were never used
    std::vector<uint16_t> live_;  // present entries per pool page
    size_t tables_ = 0;
    size_t entries_ = 0;
    ShadowBus bus_;
};

}  // namespace mmu
