// The VMA tree of an mm (mm/mmap.c, Linux 4.x-6.0): a red-black tree of vm_area_structs keyed
// by vm_start, augmented with rb_subtree_gap, the largest free gap in each subtree, and threaded
// by the sorted vm_prev/vm_next list. Lookups, changes and gap searches are O(log n).
//
// The tree owns its VMAs: insert() takes a unique_ptr, erase() gives it back, the destructor
// and clear() free the rest. It knows nothing of page tables or accounting; the mm-level
// functions in mmap.cpp (vma_link, do_munmap, ...) do those around these steps. It does keep
// each VMA's slab image (vm_area_struct::slab) current with what it changes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "mmu/types.h"

namespace guestos {

using mmu::VirtAddr;

struct vm_area_struct;
class file;

// Linux's default stack_guard_gap: 256 pages kept free below a VM_GROWSDOWN VMA.
inline constexpr uint64_t DEFAULT_STACK_GUARD_GAP = 256ull << mmu::PAGE_SHIFT;

// vm_unmapped_area_info.flags: search from high_limit down instead of from low_limit up.
inline constexpr unsigned long VM_UNMAPPED_AREA_TOPDOWN = 1;

// What vm_unmapped_area looks for (include/linux/mm.h): length bytes inside [low_limit,
// high_limit) starting at align_offset modulo align_mask + 1. As in Linux, a gap qualifies
// when it holds length + align_mask bytes inside the limits, so alignment never fails in it.
struct vm_unmapped_area_info {
    unsigned long flags = 0;
    uint64_t length = 0;
    VirtAddr low_limit;
    VirtAddr high_limit;
    uint64_t align_mask = 0;
    uint64_t align_offset = 0;
};

// VMAs removed from the tree together, to be zapped and then dropped (remove_vma_list).
using VmaList = std::vector<std::unique_ptr<vm_area_struct>>;

// Whether a range with these attributes, ending where vma starts, may join it; vm_pgoff is the
// file page that would follow the range (can_vma_merge_before).
bool can_vma_merge_before(const vm_area_struct& vma, unsigned long vm_flags, const file* vm_file, uint64_t vm_pgoff);
// Whether a range with these attributes, starting where vma ends at file page vm_pgoff, may
// join it (can_vma_merge_after).
bool can_vma_merge_after(const vm_area_struct& vma, unsigned long vm_flags, const file* vm_file, uint64_t vm_pgoff);

// In-order iteration over the VMAs by their vm_next links (a template so that vm_area_struct
// may still be incomplete here).
template <class V>
class VmaIterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = V;
    using difference_type = std::ptrdiff_t;
    using pointer = V*;
    using reference = V&;

    VmaIterator() = default;
    explicit VmaIterator(V* vma) : vma_(vma) {}
    V& operator*() const { return *vma_; }
    V* operator->() const { return vma_; }
    VmaIterator& operator++() {
        vma_ = vma_->vm_next;
        return *this;
    }
    VmaIterator operator++(int) {
        VmaIterator old = *this;
        ++*this;
        return old;
    }
    bool operator==(const VmaIterator&) const = default;

private:
    V* vma_ = nullptr;
};

class VmaTree {
public:
    using iterator = VmaIterator<vm_area_struct>;

    // stack_guard_gap: bytes kept free below every VM_GROWSDOWN VMA by the gap searches.
    explicit VmaTree(uint64_t stack_guard_gap = DEFAULT_STACK_GUARD_GAP) : stack_guard_gap_(stack_guard_gap) {}
    ~VmaTree();
    VmaTree(VmaTree&& other) noexcept;
    VmaTree& operator=(VmaTree&& other) noexcept;
    VmaTree(const VmaTree&) = delete;
    VmaTree& operator=(const VmaTree&) = delete;

    // --- Lookups, O(log n) ---
    // The first VMA with vm_end > addr, or null (find_vma).
    vm_area_struct* find_vma(VirtAddr addr) const;
    // find_vma, also setting prev to the VMA before it (the last VMA when it is null).
    vm_area_struct* find_vma_prev(VirtAddr addr, vm_area_struct*& prev) const;
    // The first VMA that intersects [start, end), or null.
    vm_area_struct* find_vma_intersection(VirtAddr start, VirtAddr end) const;

    // --- Iteration: for (vm_area_struct& v : tree), or first()/vm_next, last()/vm_prev ---
    vm_area_struct* first() const { return first_; }
    vm_area_struct* last() const { return last_; }
    iterator begin() const { return iterator(first_); }
    iterator end() const { return iterator(); }
    size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    // The root of the rb-tree, for checkers and debug dumps (browse_rb).
    const vm_area_struct* rb_root() const { return root_; }
    // Where the free space above every VMA begins (mm->highest_vm_end); 0 when empty.
    VirtAddr highest_vm_end() const;

    // --- Changes, O(log n) each; none of them touches page tables ---
    // Links vma in; it must not be empty nor overlap a linked VMA (__vma_link_rb + list).
    vm_area_struct* insert(std::unique_ptr<vm_area_struct> vma);
    // Unlinks vma and hands it back (__vma_unlink_common + vma_gap_update of the next).
    std::unique_ptr<vm_area_struct> erase(vm_area_struct* vma);
    // Moves vma's bounds (and file offset) without reaching its neighbours (vma_adjust).
    void vma_adjust(vm_area_struct* vma, VirtAddr start, VirtAddr end, uint64_t pgoff);
    // Splits vma at addr, strictly inside it; returns the new upper part (__split_vma), or
    // null (nothing changed) when vm_area_dup finds no memory for its slab object.
    [[nodiscard]] vm_area_struct* split_vma(vm_area_struct* vma, VirtAddr addr);
    // Joins vma with vm_prev and vm_next where they are adjacent and compatible; returns the
    // VMA now covering vma's range (vma itself may be freed) (vma_merge's cases 1-3).
    vm_area_struct* vma_merge(vm_area_struct* vma);
    // Unlinks every VMA inside [start, end) in address order; none may straddle start or end:
    // split_vma them first (detach_vmas_to_be_unmapped).
    VmaList detach_vmas_to_be_unmapped(VirtAddr start, VirtAddr end);
    // Recomputes the gaps after vma's VM_GROWSDOWN flag changed (vma_gap_update).
    void vma_gap_update(vm_area_struct* vma);
    // Frees every VMA, O(n) (exit_mmap's remove_vma loop).
    void clear();

    // --- Gap searches, O(log n) ---
    // The lowest address satisfying info, or ENOMEM (unmapped_area).
    mmu::ErrorOr<VirtAddr> unmapped_area(const vm_unmapped_area_info& info) const;
    // The highest address satisfying info, or ENOMEM (unmapped_area_topdown).
    mmu::ErrorOr<VirtAddr> unmapped_area_topdown(const vm_unmapped_area_info& info) const;
    // Either of the two, as info.flags says (vm_unmapped_area).
    mmu::ErrorOr<VirtAddr> vm_unmapped_area(const vm_unmapped_area_info& info) const;

    // Where the free gap below vma must end: its start, less the guard gap if it grows down.
    VirtAddr vm_start_gap(const vm_area_struct& vma) const;
    // The free gap right before vma, guard gap excluded (vma_compute_gap).
    uint64_t vma_compute_gap(const vm_area_struct& vma) const;
    uint64_t stack_guard_gap() const { return stack_guard_gap_; }

private:
    enum Side : int { Left = 0, Right = 1 };
    struct GapSearch;

    uint64_t vma_compute_subtree_gap(const vm_area_struct& vma) const;
    void vma_gap_update_to_root(vm_area_struct* vma);
    void rb_replace_child(vm_area_struct* old, vm_area_struct* replacement);
    void rb_rotate(vm_area_struct* x, Side down);
    void rb_insert_color(vm_area_struct* node);
    void rb_erase(vm_area_struct* node);
    void rb_erase_color(vm_area_struct* x, vm_area_struct* parent);
    bool gap_fits(const vm_area_struct& vma, const GapSearch& s) const;
    const vm_area_struct* lowest_fit(const vm_area_struct* n, const GapSearch& s) const;
    const vm_area_struct* highest_fit(const vm_area_struct* n, const GapSearch& s) const;

    vm_area_struct* root_ = nullptr;
    vm_area_struct* first_ = nullptr;  // mm->mmap
    vm_area_struct* last_ = nullptr;
    size_t count_ = 0;
    uint64_t stack_guard_gap_;
};

}  // namespace guestos
