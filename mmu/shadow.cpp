// Shadow page tables over a host pool: a free list of 4 KiB pages, per-table live counts so
// emptied tables return to the pool in O(1), and range clears that skip absent subtrees.
#include "mmu/shadow.h"

#include <cstring>
#include <stdexcept>

namespace mmu {

namespace {

constexpr uint64_t PHYS_LIMIT = 1ull << 40;  // Unicorn treats frame bits >= 2^40 as reserved
constexpr uint64_t PDPT_BYTES = 32;
// Leaf bits pre-set so the CPU's walker never writes the shadow.
constexpr uint64_t LEAF_BASE = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY;

// Throws std::invalid_argument with msg unless ok.
void require(bool ok, const char* msg) {
    if (!ok) throw std::invalid_argument(msg);
}

// Builds a leaf entry for frame with perm.
uint64_t make_leaf(PagingMode m, PhysAddr frame, ShadowPerm perm) {
    return (frame.value & frame_mask(m)) | LEAF_BASE | (perm.writable ? _PAGE_RW : 0) | (perm.user ? _PAGE_USER : 0) |
           (perm.executable ? 0 : _PAGE_NX);
}

}  // namespace

ShadowPageTables::ShadowPageTables(ShadowFormat f, uint8_t* pool_host, uint64_t pool_phys, uint64_t pool_bytes,
                                   uint8_t* root_host, uint64_t root_phys)
    : format_(f),
      mode_(f == ShadowFormat::LongMode4 ? PagingMode::LongMode4 : PagingMode::PAE),
      pool_host_(pool_host),
      pool_phys_(pool_phys),
      pool_pages_(pool_bytes >> PAGE_SHIFT),
      root_host_(root_host),
      root_phys_(root_phys),
      root_(nullptr),
      bus_(*this) {
    require(pool_host || pool_bytes == 0, "shadow pool: null host buffer");
    require(reinterpret_cast<uintptr_t>(pool_host) % 8 == 0, "shadow pool: host not 8-byte aligned");
    require(pool_phys % PAGE_SIZE == 0, "shadow pool: physical base not page aligned");
    require(pool_phys <= PHYS_LIMIT && pool_bytes <= PHYS_LIMIT - pool_phys, "shadow pool: must lie below 2^40");
    require(pool_pages_ <= UINT32_MAX, "shadow pool: too large");
    free_.reserve(pool_pages_);
    live_.assign(pool_pages_, 0);
    if (mode_ == PagingMode::LongMode4) {
        root_ = alloc_table();
        require(root_ != nullptr, "shadow pool: no page for the root");
        return;
    }
    require(root_host && reinterpret_cast<uintptr_t>(root_host) % 8 == 0, "PAE shadow: bad root_host");
    require(root_phys % PDPT_BYTES == 0 && root_phys + PDPT_BYTES <= (1ull << 32),
            "PAE shadow: PDPT must be 32-byte aligned below 4 GiB");
    require(root_phys + PDPT_BYTES <= pool_phys || root_phys >= pool_phys + pool_bytes,
            "PAE shadow: PDPT overlaps the pool");
    root_ = reinterpret_cast<uint64_t*>(root_host);
    std::memset(root_host, 0, PDPT_BYTES);
    tables_ = 1;
}

uint64_t ShadowPageTables::cr3() const { return mode_ == PagingMode::LongMode4 ? phys_of(root_) : root_phys_; }

// The pool table an upper entry points at.
uint64_t* ShadowPageTables::table_at(uint64_t entry) const {
    return reinterpret_cast<uint64_t*>(pool_host_ + ((entry & frame_mask(mode_)) - pool_phys_));
}

// True if table is a pool page (the PAE root is not).
bool ShadowPageTables::in_pool(const uint64_t* table) const {
    auto p = reinterpret_cast<const uint8_t*>(table);
    return p >= pool_host_ && p < pool_host_ + (pool_pages_ << PAGE_SHIFT);
}

// Pool page number of a pool table.
uint32_t ShadowPageTables::page_of(const uint64_t* table) const {
    return static_cast<uint32_t>((reinterpret_cast<const uint8_t*>(table) - pool_host_) >> PAGE_SHIFT);
}

// Physical address at which the CPU sees a pool table.
uint64_t ShadowPageTables::phys_of(const uint64_t* table) const {
    return pool_phys_ + static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(table) - pool_host_);
}

// A zeroed pool page, or null when the pool is exhausted; O(1), no heap allocation.
uint64_t* ShadowPageTables::alloc_table() {
    uint64_t page;
    if (!free_.empty()) {
        page = free_.back();  // recycled pages are zero: only emptied tables are freed
        free_.pop_back();
    } else if (bump_ < pool_pages_) {
        page = bump_++;
        std::memset(pool_host_ + (page << PAGE_SHIFT), 0, PAGE_SIZE);
    } else {
        return nullptr;
    }
    ++tables_;
    return reinterpret_cast<uint64_t*>(pool_host_ + (page << PAGE_SHIFT));
}

// Returns an all-zero pool table to the free list (capacity reserved: never allocates).
void ShadowPageTables::free_table(uint64_t* table) {
    free_.push_back(page_of(table));
    --tables_;
}

// Counts one more present entry in table.
void ShadowPageTables::entry_added(uint64_t* table) {
    if (in_pool(table)) ++live_[page_of(table)];
}

// Counts one fewer present entry in table; true if it is now an empty non-root table.
bool ShadowPageTables::entry_removed(uint64_t* table) {
    if (!in_pool(table)) return false;
    return --live_[page_of(table)] == 0 && table != root_;
}

// Fills path from the root towards va's leaf; returns 1 if the leaf slot was reached, else the
// level whose entry is absent.
int ShadowPageTables::find_path(VirtAddr va, Path& path) const {
    uint64_t* t = root_;
    for (int level = levels(mode_);; --level) {
        path.table[level] = t;
        path.slot[level] = t + table_index(mode_, level, va);
        if (level == PTE_LEVEL || !(*path.slot[level] & _PAGE_PRESENT)) return level;
        t = table_at(*path.slot[level]);
    }
}

// Upper entry at level pointing at child: present|RW|US|A (PAE PDPT entries: present only);
// A is pre-set so the CPU's walker never writes the shadow.
uint64_t ShadowPageTables::upper_entry(int level, uint64_t* child) const {
    bool pdpt = mode_ == PagingMode::PAE && level == PUD_LEVEL;
    return phys_of(child) | _PAGE_PRESENT | (pdpt ? 0 : _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED);
}

// The leaf table for va, creating missing levels; null (nothing changed) if the pool cannot
// supply them all.
uint64_t* ShadowPageTables::leaf_table_alloc(VirtAddr va) {
    Path path;
    int level = find_path(va, path);
    if (level == PTE_LEVEL) return path.table[PTE_LEVEL];
    if (tables_free() < static_cast<size_t>(level - 1)) return nullptr;
    uint64_t* t = path.table[level];
    for (; level > PTE_LEVEL; --level) {
        uint64_t* child = alloc_table();
        t[table_index(mode_, level, va)] = upper_entry(level, child);
        entry_added(t);
        t = child;
    }
    return t;
}

bool ShadowPageTables::set(VirtAddr va, PhysAddr frame, ShadowPerm perm) {
    if (!va_in_range(mode_, va)) return false;
    uint64_t* table = leaf_table_alloc(va);
    if (!table) return false;
    uint64_t& slot = table[pte_index(mode_, va)];
    if (!(slot & _PAGE_PRESENT)) {
        ++entries_;
        entry_added(table);
    }
    slot = make_leaf(mode_, frame, perm);
    return true;
}

std::optional<ShadowPageTables::Entry> ShadowPageTables::lookup(VirtAddr va) const {
    if (!va_in_range(mode_, va)) return std::nullopt;
    Path path;
    if (find_path(va, path) != PTE_LEVEL) return std::nullopt;
    uint64_t e = *path.slot[PTE_LEVEL];
    if (!(e & _PAGE_PRESENT)) return std::nullopt;
    return Entry{PhysAddr(e & frame_mask(mode_)),
                 ShadowPerm{(e & _PAGE_RW) != 0, (e & _PAGE_USER) != 0, !(e & _PAGE_NX)}};
}

// Frees the emptied tables along path bottom-up, clearing the entries that pointed at them.
void ShadowPageTables::unlink_empty_tables(Path& path) {
    for (int level = PTE_LEVEL; level < levels(mode_); ++level) {
        free_table(path.table[level]);
        *path.slot[level + 1] = 0;
        if (!entry_removed(path.table[level + 1])) return;
    }
}

bool ShadowPageTables::clear(VirtAddr va) {
    if (!va_in_range(mode_, va)) return false;
    Path path;
    if (find_path(va, path) != PTE_LEVEL || !(*path.slot[PTE_LEVEL] & _PAGE_PRESENT)) return false;
    *path.slot[PTE_LEVEL] = 0;
    --entries_;
    if (entry_removed(path.table[PTE_LEVEL])) unlink_empty_tables(path);
    return true;
}

// Clears the leaves under table (at level, entry 0 mapping base) within [first, last] and
// frees the child tables this empties; visits present entries only.
void ShadowPageTables::clear_level(uint64_t* table, int level, VirtAddr base, VirtAddr first, VirtAddr last,
                                   const std::function<void(VirtAddr)>& on_cleared) {
    for_each_entry_in_range(mode_, level, base, first, last, [&](size_t i, VirtAddr eva) {
        uint64_t& e = table[i];
        if (!(e & _PAGE_PRESENT)) return;
        if (level == PTE_LEVEL) {
            e = 0;
            --entries_;
            entry_removed(table);
            if (on_cleared) on_cleared(eva);
            return;
        }
        uint64_t* child = table_at(e);
        clear_level(child, level - 1, eva, first, last, on_cleared);
        if (live_[page_of(child)] != 0) return;
        free_table(child);
        e = 0;
        entry_removed(table);
    });
}

void ShadowPageTables::clear_range(VirtAddr start, VirtAddr end, std::function<void(VirtAddr)> on_cleared) {
    if (end <= start) return;
    clear_level(root_, levels(mode_), VirtAddr(0), start, end - 1, on_cleared);
}

void ShadowPageTables::clear_all(std::function<void(VirtAddr)> on_cleared) {
    clear_level(root_, levels(mode_), VirtAddr(0), VirtAddr(0), VirtAddr(~0ull), on_cleared);
}

void ShadowPageTables::for_each_present(VirtAddr start, VirtAddr end,
                                        const std::function<void(VirtAddr, const Entry&)>& fn) {
    if (end <= start) return;
    for_each_pte(bus_, mode_, PhysAddr(cr3()), start, end - 1, [&](VirtAddr va, uint64_t e) {
        if (!(e & _PAGE_PRESENT)) return;
        fn(va, Entry{pte_frame(mode_, e), ShadowPerm{bool(e & _PAGE_RW), bool(e & _PAGE_USER), !(e & _PAGE_NX)}});
    });
}

void ShadowPageTables::set_writable(VirtAddr va, bool writable) {
    if (!va_in_range(mode_, va)) return;
    Path path;
    if (find_path(va, path) != PTE_LEVEL) return;
    uint64_t& e = *path.slot[PTE_LEVEL];
    if (e & _PAGE_PRESENT) e = writable ? (e | _PAGE_RW) : (e & ~_PAGE_RW);
}

uint8_t* ShadowPageTables::ShadowBus::host(PhysAddr pa, uint64_t len) {
    uint64_t pool_bytes = s_.pool_pages_ << PAGE_SHIFT;
    if (pa.value >= s_.pool_phys_ && len <= pool_bytes && pa.value - s_.pool_phys_ <= pool_bytes - len)
        return s_.pool_host_ + (pa.value - s_.pool_phys_);
    if (s_.root_host_ && pa.value >= s_.root_phys_ && len <= PDPT_BYTES && pa.value - s_.root_phys_ <= PDPT_BYTES - len)
        return s_.root_host_ + (pa.value - s_.root_phys_);
    return nullptr;
}

}  // namespace mmu
