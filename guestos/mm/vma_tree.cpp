// The VMA tree: mm/mmap.c's gap-augmented rbtree (vma_compute_subtree_gap, vma_gap_update,
// unmapped_area[_topdown]) over lib/rbtree.c's red-black balancing, written out for one type.
#include "guestos/mm/vma_tree.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "guestos/include/mm_types.h"
#include "guestos/mm/rmap.h"

namespace guestos {

namespace {

using Color = vm_area_struct::rb_node::Color;

// Stops on a broken precondition the tree cannot survive (VM_BUG_ON).
[[noreturn]] void vma_bug(const char* what) {
    std::fprintf(stderr, "VmaTree: %s\n", what);
    std::abort();
}

bool rb_is_red(const vm_area_struct* n) { return n && n->vm_rb.rb_color == Color::Red; }
bool rb_is_black(const vm_area_struct* n) { return !rb_is_red(n); }
void rb_set_color(vm_area_struct* n, Color c) { n->vm_rb.rb_color = c; }
// The child on `side` (0 left, 1 right), as an assignable link.
vm_area_struct*& rb_child(vm_area_struct* n, int side) { return side ? n->vm_rb.rb_right : n->vm_rb.rb_left; }

// Same flags and same file: the attributes both merge directions need (is_mergeable_vma).
bool is_mergeable_vma(const vm_area_struct& vma, unsigned long vm_flags, const file* vm_file) {
    return vma.vm_flags == vm_flags && vma.vm_file.get() == vm_file;
}

// Where the free gap after vma begins: x86 has no VM_GROWSUP, so at vm_end (vm_end_gap).
uint64_t vm_end_gap(const vm_area_struct& vma) { return vma.vm_end.value; }

// Where the free gap before vma begins: the previous VMA's end, or 0.
uint64_t gap_start_of(const vm_area_struct& vma) { return vma.vm_prev ? vm_end_gap(*vma.vm_prev) : 0; }

mmu::Error enomem() { return mmu::Error::from_errno(ENOMEM, "no unmapped area"); }

// Rounds addr up to the next address that is align_offset modulo align_mask + 1.
uint64_t align_up(uint64_t addr, uint64_t mask, uint64_t offset) { return addr + ((offset - addr) & mask); }
// Rounds addr down to the previous such address.
uint64_t align_down(uint64_t addr, uint64_t mask, uint64_t offset) { return addr - ((addr - offset) & mask); }

}  // namespace

// --- Merge predicates ---

bool can_vma_merge_before(const vm_area_struct& vma, unsigned long vm_flags, const file* vm_file, uint64_t vm_pgoff) {
    // Anonymous VMAs too: their vm_pgoff is the page number they were created at.
    return is_mergeable_vma(vma, vm_flags, vm_file) && vma.vm_pgoff == vm_pgoff;
}

bool can_vma_merge_after(const vm_area_struct& vma, unsigned long vm_flags, const file* vm_file, uint64_t vm_pgoff) {
    return is_mergeable_vma(vma, vm_flags, vm_file) && vma.vm_pgoff + (vma.size() >> PAGE_SHIFT) == vm_pgoff;
}

// --- Lifetime ---

VmaTree::~VmaTree() { clear(); }

VmaTree::VmaTree(VmaTree&& other) noexcept
    : root_(std::exchange(other.root_, nullptr)),
      first_(std::exchange(other.first_, nullptr)),
      last_(std::exchange(other.last_, nullptr)),
      count_(std::exchange(other.count_, 0)),
      stack_guard_gap_(other.stack_guard_gap_) {}

VmaTree& VmaTree::operator=(VmaTree&& other) noexcept {
    if (this == &other) return *this;
    clear();
    root_ = std::exchange(other.root_, nullptr);
    first_ = std::exchange(other.first_, nullptr);
    last_ = std::exchange(other.last_, nullptr);
    count_ = std::exchange(other.count_, 0);
    stack_guard_gap_ = other.stack_guard_gap_;
    return *this;
}

void VmaTree::clear() {
    for (vm_area_struct* v = first_; v;) {
        vm_area_struct* next = v->vm_next;
        delete v;
        v = next;
    }
    root_ = first_ = last_ = nullptr;
    count_ = 0;
}

// --- Lookups ---

vm_area_struct* VmaTree::find_vma(VirtAddr addr) const {
    vm_area_struct* vma = nullptr;
    for (vm_area_struct* n = root_; n;) {
        if (n->vm_end > addr) {
            vma = n;
            if (n->vm_start <= addr) break;
            n = n->vm_rb.rb_left;
        } else {
            n = n->vm_rb.rb_right;
        }
    }
    return vma;
}

vm_area_struct* VmaTree::find_vma_prev(VirtAddr addr, vm_area_struct*& prev) const {
    vm_area_struct* vma = find_vma(addr);
    prev = vma ? vma->vm_prev : last_;
    return vma;
}

vm_area_struct* VmaTree::find_vma_intersection(VirtAddr start, VirtAddr end) const {
    vm_area_struct* vma = find_vma(start);
    return (vma && vma->vm_start < end) ? vma : nullptr;
}

VirtAddr VmaTree::highest_vm_end() const { return VirtAddr(last_ ? vm_end_gap(*last_) : 0); }

// --- Gap bookkeeping (mm/mmap.c) ---

VirtAddr VmaTree::vm_start_gap(const vm_area_struct& vma) const {
    if (!(vma.vm_flags & VM_GROWSDOWN)) return vma.vm_start;
    // A guard gap reaching below 0 stops at 0.
    return VirtAddr(vma.vm_start.value > stack_guard_gap_ ? vma.vm_start.value - stack_guard_gap_ : 0);
}

uint64_t VmaTree::vma_compute_gap(const vm_area_struct& vma) const {
    const uint64_t gap_end = vm_start_gap(vma).value, gap_start = gap_start_of(vma);
    return gap_end > gap_start ? gap_end - gap_start : 0;
}

// The largest gap of vma's subtree, from its children's stored values (vma_compute_subtree_gap).
uint64_t VmaTree::vma_compute_subtree_gap(const vm_area_struct& vma) const {
    uint64_t max = vma_compute_gap(vma);
    if (const vm_area_struct* l = vma.vm_rb.rb_left) max = std::max(max, l->rb_subtree_gap);
    if (const vm_area_struct* r = vma.vm_rb.rb_right) max = std::max(max, r->rb_subtree_gap);
    return max;
}

void VmaTree::vma_gap_update(vm_area_struct* vma) {
    // Ancestors already agree with an unchanged value, so the walk may stop there (propagate).
    for (vm_area_struct* n = vma; n; n = n->vm_rb.rb_parent) {
        const uint64_t gap = vma_compute_subtree_gap(*n);
        if (gap == n->rb_subtree_gap) break;
        n->rb_subtree_gap = gap;
    }
}

// Recomputes rb_subtree_gap on every node from vma to the root, for paths nodes moved along.
void VmaTree::vma_gap_update_to_root(vm_area_struct* vma) {
    for (vm_area_struct* n = vma; n; n = n->vm_rb.rb_parent) n->rb_subtree_gap = vma_compute_subtree_gap(*n);
}

// --- Red-black balancing (lib/rbtree.c), keeping rb_subtree_gap through every rotation ---

// Puts replacement (may be null) where old hangs from its parent (__rb_change_child).
void VmaTree::rb_replace_child(vm_area_struct* old, vm_area_struct* replacement) {
    vm_area_struct* parent = old->vm_rb.rb_parent;
    if (replacement) replacement->vm_rb.rb_parent = parent;
    if (!parent) root_ = replacement;
    else if (parent->vm_rb.rb_left == old) parent->vm_rb.rb_left = replacement;
    else parent->vm_rb.rb_right = replacement;
}

// Moves x down to its `down` side and lifts its other child; order and gaps stay exact
// (__rb_rotate_set_parents + the augment_rotate callback).
void VmaTree::rb_rotate(vm_area_struct* x, Side down) {
    const int up = !down;
    vm_area_struct* y = rb_child(x, up);
    vm_area_struct* inner = rb_child(y, down);
    rb_child(x, up) = inner;
    if (inner) inner->vm_rb.rb_parent = x;
    rb_replace_child(x, y);
    rb_child(y, down) = x;
    x->vm_rb.rb_parent = y;
    // y now spans exactly x's old subtree; x lost y's far side.
    y->rb_subtree_gap = x->rb_subtree_gap;
    x->rb_subtree_gap = vma_compute_subtree_gap(*x);
}

// Restores the red-black rules after a red leaf was linked (__rb_insert).
void VmaTree::rb_insert_color(vm_area_struct* node) {
    while (rb_is_red(node->vm_rb.rb_parent)) {
        vm_area_struct* parent = node->vm_rb.rb_parent;
        vm_area_struct* gparent = parent->vm_rb.rb_parent;  // a red parent is never the root
        const Side side = gparent->vm_rb.rb_left == parent ? Left : Right;
        const Side other = side == Left ? Right : Left;
        vm_area_struct* uncle = rb_child(gparent, other);
        if (rb_is_red(uncle)) {  // case 1: colour flip, continue from the grandparent
            rb_set_color(parent, Color::Black);
            rb_set_color(uncle, Color::Black);
            rb_set_color(gparent, Color::Red);
            node = gparent;
            continue;
        }
        if (node == rb_child(parent, other)) {  // case 2: turn the inner child outward
            rb_rotate(parent, side);
            node = parent;
            parent = node->vm_rb.rb_parent;
        }
        rb_set_color(parent, Color::Black);  // case 3: rotate the grandparent away
        rb_set_color(gparent, Color::Red);
        rb_rotate(gparent, other);
    }
    rb_set_color(root_, Color::Black);
}

// Unhooks node from the rb-tree, rebalancing; the vm_prev/vm_next list is still intact
// (__rb_erase_augmented + __rb_erase_color).
void VmaTree::rb_erase(vm_area_struct* node) {
    vm_area_struct* child;   // what takes the removed slot (may be null)
    vm_area_struct* parent;  // the parent of that slot
    Color removed = node->vm_rb.rb_color;
    if (!node->vm_rb.rb_left || !node->vm_rb.rb_right) {
        child = node->vm_rb.rb_left ? node->vm_rb.rb_left : node->vm_rb.rb_right;
        parent = node->vm_rb.rb_parent;
        rb_replace_child(node, child);
    } else {
        vm_area_struct* successor = node->vm_next;  // leftmost of the right subtree
        removed = successor->vm_rb.rb_color;
        child = successor->vm_rb.rb_right;
        if (successor->vm_rb.rb_parent == node) {
            parent = successor;
        } else {
            parent = successor->vm_rb.rb_parent;
            rb_replace_child(successor, child);
            successor->vm_rb.rb_right = node->vm_rb.rb_right;
            successor->vm_rb.rb_right->vm_rb.rb_parent = successor;
        }
        rb_replace_child(node, successor);
        successor->vm_rb.rb_left = node->vm_rb.rb_left;
        successor->vm_rb.rb_left->vm_rb.rb_parent = successor;
        successor->vm_rb.rb_color = node->vm_rb.rb_color;
    }
    vma_gap_update_to_root(parent);  // every node whose subtree changed is on this path
    if (removed == Color::Black) rb_erase_color(child, parent);
}

// Restores equal black heights after a black node left parent's `child` side (____rb_erase_color).
void VmaTree::rb_erase_color(vm_area_struct* x, vm_area_struct* parent) {
    while (x != root_ && rb_is_black(x)) {
        const Side side = parent->vm_rb.rb_left == x ? Left : Right;
        const Side other = side == Left ? Right : Left;
        vm_area_struct* sibling = rb_child(parent, other);  // exists: that side is a black taller
        if (rb_is_red(sibling)) {                           // case 1: make the sibling black
            rb_set_color(sibling, Color::Black);
            rb_set_color(parent, Color::Red);
            rb_rotate(parent, side);
            sibling = rb_child(parent, other);
        }
        if (rb_is_black(sibling->vm_rb.rb_left) && rb_is_black(sibling->vm_rb.rb_right)) {
            rb_set_color(sibling, Color::Red);  // case 2: push the shortage up
            x = parent;
            parent = x->vm_rb.rb_parent;
            continue;
        }
        if (rb_is_black(rb_child(sibling, other))) {  // case 3: make the far nephew red
            rb_set_color(rb_child(sibling, side), Color::Black);
            rb_set_color(sibling, Color::Red);
            rb_rotate(sibling, other);
            sibling = rb_child(parent, other);
        }
        rb_set_color(sibling, parent->vm_rb.rb_color);  // case 4: rotate the shortage away
        rb_set_color(parent, Color::Black);
        rb_set_color(rb_child(sibling, other), Color::Black);
        rb_rotate(parent, side);
        x = root_;
    }
    if (x) rb_set_color(x, Color::Black);
}

// --- Changes ---

vm_area_struct* VmaTree::insert(std::unique_ptr<vm_area_struct> owned) {
    vm_area_struct* vma = owned.get();
    // Descend to the leaf slot, noting the VMA before it (find_vma_links).
    vm_area_struct* parent = nullptr;
    vm_area_struct* prev = nullptr;
    Side side = Left;
    for (vm_area_struct* n = root_; n;) {
        parent = n;
        side = vma->vm_start < n->vm_start ? Left : Right;
        if (side == Right) prev = n;
        n = rb_child(n, side);
    }
    vm_area_struct* next = prev ? prev->vm_next : first_;
    if (vma->vm_start >= vma->vm_end || (prev && prev->vm_end > vma->vm_start) ||
        (next && next->vm_start < vma->vm_end))
        vma_bug("insert of an empty or overlapping VMA");
    owned.release();

    vma->vm_prev = prev;  // __vma_link_list
    vma->vm_next = next;
    (prev ? prev->vm_next : first_) = vma;
    (next ? next->vm_prev : last_) = vma;

    vma->vm_rb = {};  // rb_link_node, with a zero gap as on the way down (__vma_link_rb)
    vma->vm_rb.rb_parent = parent;
    if (parent) rb_child(parent, side) = vma;
    else root_ = vma;
    vma->rb_subtree_gap = 0;
    ++count_;
    if (next) vma_gap_update(next);  // the gap after vma shrank
    vma_gap_update(vma);
    rb_insert_color(vma);
    vma_interval_tree_update(*vma);  // a copy may have moved since it was linked to its file
    vma->sync_slab();                // the slab images: the new VMA whole, its neighbours' list links
    if (prev) prev->slab.set_ptr(VmaField::vm_next, &vma->slab);
    if (next) next->slab.set_ptr(VmaField::vm_prev, &vma->slab);
    return vma;
}

std::unique_ptr<vm_area_struct> VmaTree::erase(vm_area_struct* vma) {
    rb_erase(vma);
    vm_area_struct* prev = vma->vm_prev;
    vm_area_struct* next = vma->vm_next;
    (prev ? prev->vm_next : first_) = next;
    (next ? next->vm_prev : last_) = prev;
    --count_;
    if (next) vma_gap_update(next);  // the gap before next now reaches back to prev
    if (prev) prev->slab.set_ptr(VmaField::vm_next, next ? &next->slab : nullptr);
    if (next) next->slab.set_ptr(VmaField::vm_prev, prev ? &prev->slab : nullptr);
    vma->vm_prev = vma->vm_next = nullptr;
    vma->vm_rb = {};
    vma->rb_subtree_gap = 0;
    return std::unique_ptr<vm_area_struct>(vma);
}

void VmaTree::vma_adjust(vm_area_struct* vma, VirtAddr start, VirtAddr end, uint64_t pgoff) {
    const vm_area_struct* prev = vma->vm_prev;
    vm_area_struct* next = vma->vm_next;
    if (start >= end || (prev && prev->vm_end > start) || (next && next->vm_start < end))
        vma_bug("vma_adjust to an empty or overlapping range");
    vma->vm_start = start;  // order by vm_start is unchanged: it stays between the neighbours
    vma->vm_end = end;
    vma->vm_pgoff = pgoff;
    vma_interval_tree_update(*vma);
    vma->slab.set(VmaField::vm_start, start.value);
    vma->slab.set(VmaField::vm_end, end.value);
    vma->slab.set(VmaField::vm_pgoff, pgoff);
    vma_gap_update(vma);
    if (next) vma_gap_update(next);
}

vm_area_struct* VmaTree::split_vma(vm_area_struct* vma, VirtAddr addr) {
    if (addr <= vma->vm_start || addr >= vma->vm_end) vma_bug("split_vma outside the VMA");
    auto upper = vm_area_dup(*vma);
    if (!upper) return nullptr;  // no memory for its vm_area_struct: nothing changed
    upper->vm_start = addr;
    upper->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
    vma_adjust(vma, vma->vm_start, addr, vma->vm_pgoff);
    return insert(std::move(upper));
}

// Anonymous pages of two VMAs can share one anon_vma: the same one, or one has none yet
// (is_mergeable_anon_vma).
static bool anon_vma_compatible(const vm_area_struct& a, const vm_area_struct& b) {
    return !a.anon_vma || !b.anon_vma || a.anon_vma == b.anon_vma;
}

vm_area_struct* VmaTree::vma_merge(vm_area_struct* vma) {
    if (vma->vm_flags & VM_SPECIAL) return vma;
    vm_area_struct* prev = vma->vm_prev;
    if (prev && prev->vm_end == vma->vm_start && anon_vma_compatible(*prev, *vma) &&
        can_vma_merge_after(*prev, vma->vm_flags, vma->vm_file.get(), vma->vm_pgoff) &&
        anon_vma_merge(*prev, *vma)) {  // no memory for the chains: no merge (vma_merge's NULL)
        const VirtAddr end = vma->vm_end;
        erase(vma);  // freed here
        vma_adjust(prev, prev->vm_start, end, prev->vm_pgoff);
        vma = prev;
    }
    vm_area_struct* next = vma->vm_next;
    if (next && vma->vm_end == next->vm_start && anon_vma_compatible(*vma, *next) &&
        can_vma_merge_before(*next, vma->vm_flags, vma->vm_file.get(), vma->vm_pgoff + (vma->size() >> PAGE_SHIFT)) &&
        anon_vma_merge(*vma, *next)) {
        const VirtAddr end = next->vm_end;
        erase(next);
        vma_adjust(vma, vma->vm_start, end, vma->vm_pgoff);
    }
    vma->sync_slab();  // callers change vm_flags before merging
    return vma;
}

VmaList VmaTree::detach_vmas_to_be_unmapped(VirtAddr start, VirtAddr end) {
    VmaList detached;
    for (vm_area_struct* vma = find_vma(start); vma && vma->vm_start < end;) {
        if (vma->vm_start < start || vma->vm_end > end) vma_bug("detach of a VMA straddling the range");
        vm_area_struct* next = vma->vm_next;
        detached.push_back(erase(vma));
        vma = next;
    }
    return detached;
}

// --- Gap searches (unmapped_area, unmapped_area_topdown) ---

// One search, with length widened by the alignment slack (the top of unmapped_area).
struct VmaTree::GapSearch {
    uint64_t length;  // info.length + align_mask
    uint64_t low;     // info.low_limit
    uint64_t high;    // info.high_limit

    // The search for info, or none when no gap inside the limits could ever hold it.
    static std::optional<GapSearch> from(const vm_unmapped_area_info& info) {
        const uint64_t length = info.length + info.align_mask;
        if (length < info.length) return std::nullopt;
        if (info.high_limit.value < length || info.low_limit.value > info.high_limit.value - length)
            return std::nullopt;
        return GapSearch{length, info.low_limit.value, info.high_limit.value};
    }
    // Whether [gap_start, gap_end), clipped to the limits, holds length bytes.
    bool holds(uint64_t gap_start, uint64_t gap_end) const {
        const uint64_t s = std::max(gap_start, low), e = std::min(gap_end, high);
        return e > s && e - s >= length;
    }
};

bool VmaTree::gap_fits(const vm_area_struct& vma, const GapSearch& s) const {
    return s.holds(gap_start_of(vma), vm_start_gap(vma).value);
}

// The first VMA of subtree n, in address order, whose gap fits s; the address bounds prune
// subtrees lying wholly outside the limits, so only O(log n) nodes are visited.
const vm_area_struct* VmaTree::lowest_fit(const vm_area_struct* n, const GapSearch& s) const {
    if (!n || n->rb_subtree_gap < s.length) return nullptr;
    // Gaps on the left end at or below a left node's vm_start, so before n->vm_start.
    if (n->vm_start.value > s.low + s.length)
        if (const vm_area_struct* v = lowest_fit(n->vm_rb.rb_left, s)) return v;
    if (gap_fits(*n, s)) return n;
    // Gaps on the right start at or after n->vm_end.
    if (n->vm_end.value > s.high - s.length) return nullptr;
    return lowest_fit(n->vm_rb.rb_right, s);
}

// The last VMA of subtree n, in address order, whose gap fits s (mirror of lowest_fit).
const vm_area_struct* VmaTree::highest_fit(const vm_area_struct* n, const GapSearch& s) const {
    if (!n || n->rb_subtree_gap < s.length) return nullptr;
    if (n->vm_end.value <= s.high - s.length)
        if (const vm_area_struct* v = highest_fit(n->vm_rb.rb_right, s)) return v;
    if (gap_fits(*n, s)) return n;
    if (n->vm_start.value <= s.low + s.length) return nullptr;
    return highest_fit(n->vm_rb.rb_left, s);
}

mmu::ErrorOr<VirtAddr> VmaTree::unmapped_area(const vm_unmapped_area_info& info) const {
    const std::optional<GapSearch> s = GapSearch::from(info);
    if (!s) return enomem();
    uint64_t gap_start;
    if (const vm_area_struct* vma = lowest_fit(root_, *s)) gap_start = gap_start_of(*vma);
    else if (s->holds(highest_vm_end().value, UINT64_MAX)) gap_start = highest_vm_end().value;
    else return enomem();
    // Clip to the low limit, then align up: the length + align_mask bytes cover both.
    return VirtAddr(align_up(std::max(gap_start, s->low), info.align_mask, info.align_offset));
}

mmu::ErrorOr<VirtAddr> VmaTree::unmapped_area_topdown(const vm_unmapped_area_info& info) const {
    const std::optional<GapSearch> s = GapSearch::from(info);
    if (!s) return enomem();
    uint64_t gap_end;
    if (s->holds(highest_vm_end().value, UINT64_MAX)) gap_end = s->high;  // above every VMA first
    else if (const vm_area_struct* vma = highest_fit(root_, *s)) gap_end = vm_start_gap(*vma).value;
    else return enomem();
    const uint64_t top = std::min(gap_end, s->high) - info.length;
    return VirtAddr(align_down(top, info.align_mask, info.align_offset));
}

mmu::ErrorOr<VirtAddr> VmaTree::vm_unmapped_area(const vm_unmapped_area_info& info) const {
    return (info.flags & VM_UNMAPPED_AREA_TOPDOWN) ? unmapped_area_topdown(info) : unmapped_area(info);
}

}  // namespace guestos
