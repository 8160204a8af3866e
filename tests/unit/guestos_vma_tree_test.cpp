// The VMA tree (guestos/mm/vma_tree.h) against a plain std::map interval model: after every step of
// long random operation sequences, lookups agree, the red-black rules hold, every rb_subtree_gap
// equals its recomputed value and both gap searches return what a linear scan returns.
#include "guestos/mm/vma_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "guestos/include/mm_types.h"

namespace guestos {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

constexpr uint64_t P = PAGE_SIZE;
constexpr unsigned long VM_BASE = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

// --- The model: VMAs by vm_start, gaps by a linear walk ---

struct ModelVma {
    uint64_t end;
    unsigned long flags;
    std::shared_ptr<file> f;
    uint64_t pgoff;
};
using Model = std::map<uint64_t, ModelVma>;
struct Gap {
    uint64_t start, end;  // end UINT64_MAX: the open gap above every VMA
};

uint64_t model_start_gap(uint64_t start, unsigned long flags, uint64_t guard) {
    if (!(flags & VM_GROWSDOWN)) return start;
    return start > guard ? start - guard : 0;
}

// Every gap in address order: one before each VMA (possibly empty), then the open top one.
std::vector<Gap> model_gaps(const Model& m, uint64_t guard) {
    std::vector<Gap> gaps;
    uint64_t prev_end = 0;
    for (const auto& [start, v] : m) {
        gaps.push_back({prev_end, model_start_gap(start, v.flags, guard)});
        prev_end = v.end;
    }
    gaps.push_back({prev_end, UINT64_MAX});
    return gaps;
}

// The first VMA with end > addr, by linear scan.
const Model::value_type* model_find_vma(const Model& m, uint64_t addr) {
    for (const auto& e : m)
        if (e.second.end > addr) return &e;
    return nullptr;
}

// Linux's vm_unmapped_area by linear scan: the first (or last) gap whose part inside the limits
// holds length + align_mask bytes, then aligned inside it.
std::optional<uint64_t> model_unmapped_area(const std::vector<Gap>& gaps, const vm_unmapped_area_info& info) {
    const uint64_t need = info.length + info.align_mask;
    if (need < info.length) return std::nullopt;
    const bool topdown = info.flags & VM_UNMAPPED_AREA_TOPDOWN;
    const uint64_t low = info.low_limit.value, high = info.high_limit.value;
    for (size_t i = 0; i < gaps.size(); ++i) {
        const Gap& g = gaps[topdown ? gaps.size() - 1 - i : i];
        const uint64_t s = std::max(g.start, low), e = std::min(g.end, high);
        if (e <= s || e - s < need) continue;
        if (topdown) {
            const uint64_t top = e - info.length;
            return top - ((top - info.align_offset) & info.align_mask);
        }
        return s + ((info.align_offset - s) & info.align_mask);
    }
    return std::nullopt;
}

// [addr, addr + length) is inside the limits, aligned, off every VMA and short of the guard gap
// of the VMA after it.
AssertionResult area_is_free(const Model& m, uint64_t guard, const vm_unmapped_area_info& info, uint64_t addr) {
    const uint64_t end = addr + info.length;
    if (addr < info.low_limit.value || end > info.high_limit.value || end < addr)
        return AssertionFailure() << "outside the limits: " << std::hex << addr;
    if ((addr - info.align_offset) & info.align_mask) return AssertionFailure() << "misaligned";
    for (const auto& [start, v] : m) {
        if (addr < v.end && start < end) return AssertionFailure() << std::hex << addr << " overlaps VMA " << start;
        if (start >= end) {
            if (end > model_start_gap(start, v.flags, guard))
                return AssertionFailure() << std::hex << addr << " in the guard gap of " << start;
            break;
        }
    }
    return AssertionSuccess();
}

// --- Structural checks of the tree against the model ---

struct SubtreeFacts {
    int black_height = 0;
    int height = 0;
    uint64_t max_gap = 0;
};

class TreeChecker {
public:
    TreeChecker(const VmaTree& t, const Model& m, uint64_t guard) : t_(t), m_(m), guard_(guard) {}

    AssertionResult run() {
        if (t_.size() != m_.size()) return fail("size ") << t_.size() << " != model " << m_.size();
        if (!check_list()) return fail(err_);
        for (auto it = m_.begin(); it != m_.end(); ++it) {  // each VMA's own gap, from the model
            const uint64_t prev_end = it == m_.begin() ? 0 : std::prev(it)->second.end;
            const uint64_t ge = model_start_gap(it->first, it->second.flags, guard_);
            own_gap_[it->first] = ge > prev_end ? ge - prev_end : 0;
        }
        const vm_area_struct* root = t_.rb_root();
        if (root && (root->vm_rb.rb_parent || root->vm_rb.rb_color != vm_area_struct::rb_node::Color::Black))
            return fail("root has a parent or is red");
        SubtreeFacts facts;
        if (!walk(root, nullptr, facts)) return fail(err_);
        if (inorder_.size() != t_.size()) return fail("rb-tree holds ") << inorder_.size() << " nodes";
        for (size_t i = 0; i < inorder_.size(); ++i)
            if (inorder_[i] != list_[i]) return fail("rb in-order differs from the vm_next list at ") << i;
        const double bound = 2 * std::log2(static_cast<double>(t_.size()) + 1);
        if (facts.height > bound + 1e-9) return fail("height ") << facts.height << " > 2 log2(n+1)";
        if (t_.highest_vm_end().value != (m_.empty() ? 0 : m_.rbegin()->second.end)) return fail("highest_vm_end");
        return AssertionSuccess();
    }

private:
    static AssertionResult fail(const std::string& what) { return AssertionFailure() << what; }

    // The vm_next/vm_prev list equals the model, field by field.
    bool check_list() {
        const vm_area_struct* prev = nullptr;
        auto it = m_.begin();
        for (const vm_area_struct* v = t_.first(); v; prev = v, v = v->vm_next, ++it) {
            auto where = [&] {
                std::ostringstream w;
                w << std::hex << "VMA [" << v->vm_start.value << ", " << v->vm_end.value << "): ";
                return w.str();
            };
            if (it == m_.end()) return set_err(where() + "list longer than the model");
            if (v->vm_prev != prev) return set_err(where() + "bad vm_prev");
            if (v->vm_start.value != it->first || v->vm_end.value != it->second.end ||
                v->vm_flags != it->second.flags || v->vm_file != it->second.f || v->vm_pgoff != it->second.pgoff) {
                std::ostringstream model;
                model << std::hex << "model has [" << it->first << ", " << it->second.end << ") flags "
                      << it->second.flags << " pgoff " << it->second.pgoff;
                return set_err(where() + model.str());
            }
            list_.push_back(v);
        }
        if (it != m_.end()) return set_err("list shorter than the model");
        if (t_.last() != prev) return set_err("last() is not the list's tail");
        return true;
    }

    // Checks links, order, colours and gaps below n; fills its black height, height and max gap.
    bool walk(const vm_area_struct* n, const vm_area_struct* parent, SubtreeFacts& out) {
        if (!n) {
            out = {1, 0, 0};
            return true;
        }
        if (n->vm_rb.rb_parent != parent) return set_err("bad rb_parent");
        const bool red = n->vm_rb.rb_color == vm_area_struct::rb_node::Color::Red;
        SubtreeFacts l, r;
        for (const vm_area_struct* c : {n->vm_rb.rb_left, n->vm_rb.rb_right})
            if (red && c && c->vm_rb.rb_color == vm_area_struct::rb_node::Color::Red)
                return set_err("red node with a red child");
        if (!walk(n->vm_rb.rb_left, n, l)) return false;
        inorder_.push_back(n);
        if (!walk(n->vm_rb.rb_right, n, r)) return false;
        if (l.black_height != r.black_height) return set_err("unequal black heights");
        out.black_height = l.black_height + (red ? 0 : 1);
        out.height = 1 + std::max(l.height, r.height);
        out.max_gap = std::max({own_gap_.at(n->vm_start.value), l.max_gap, r.max_gap});
        if (n->rb_subtree_gap != out.max_gap) {
            std::ostringstream s;
            s << std::hex << "rb_subtree_gap of VMA at " << n->vm_start.value << " is " << n->rb_subtree_gap
              << ", recomputed " << out.max_gap;
            return set_err(s.str());
        }
        return true;
    }

    bool set_err(std::string e) {
        err_ = std::move(e);
        return false;
    }

    const VmaTree& t_;
    const Model& m_;
    uint64_t guard_;
    std::map<uint64_t, uint64_t> own_gap_;
    std::vector<const vm_area_struct*> list_, inorder_;
    std::string err_;
};

// --- Random operation sequences ---

// One address space region [base, limit) of pages, a tree, its model and a seeded generator.
class RandomHarness {
public:
    RandomHarness(uint64_t seed, uint64_t guard, uint64_t base, uint64_t pages)
        : tree_(guard), rng_(seed), guard_(guard), base_(base), limit_(base + pages * P), pages_(pages) {
        files_ = {std::make_shared<file>(), std::make_shared<file>()};
    }

    uint64_t rand(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }
    bool chance(int percent) { return rand(0, 99) < static_cast<uint64_t>(percent); }
    uint64_t random_page() { return base_ + rand(0, pages_ - 1) * P; }

    // The tree agrees with the model everywhere the checks look.
    AssertionResult verify() {
        if (auto r = TreeChecker(tree_, model_, guard_).run(); !r) return r;
        for (int i = 0; i < 24; ++i)
            if (auto r = probe_lookup(i < 12 ? random_address() : boundary_address()); !r) return r;
        gaps_ = model_gaps(model_, guard_);
        for (int i = 0; i < 12; ++i)
            if (auto r = probe_gap_search(random_info()); !r) return r;
        return AssertionSuccess();
    }

    // find_vma, find_vma_prev and find_vma_intersection at addr agree with the model.
    AssertionResult probe_lookup(uint64_t addr) {
        const Model::value_type* want = model_find_vma(model_, addr);
        vm_area_struct* prev = nullptr;
        vm_area_struct* got = tree_.find_vma_prev(VirtAddr(addr), prev);
        if ((got ? got->vm_start.value : 1) != (want ? want->first : 1) || !got != !want)
            return AssertionFailure() << "find_vma(" << std::hex << addr << ")";
        if (got != tree_.find_vma(VirtAddr(addr))) return AssertionFailure() << "find_vma vs _prev";
        const Model::value_type* want_prev = nullptr;
        for (const auto& e : model_) {  // the last VMA ending at or below addr
            if (e.second.end > addr) break;
            want_prev = &e;
        }
        if ((prev ? prev->vm_start.value : 1) != (want_prev ? want_prev->first : 1) || !prev != !want_prev)
            return AssertionFailure() << "find_vma_prev(" << std::hex << addr << ")";
        const uint64_t end = addr + rand(1, 8) * P;
        const vm_area_struct* hit = tree_.find_vma_intersection(VirtAddr(addr), VirtAddr(end));
        const bool want_hit = want && want->first < end;
        if (want_hit != (hit != nullptr) || (hit && hit->vm_start.value != want->first))
            return AssertionFailure() << "find_vma_intersection(" << std::hex << addr << ")";
        return AssertionSuccess();
    }

    // Both gap searches return exactly the linear scan's answer, which is a free aligned range.
    AssertionResult probe_gap_search(vm_unmapped_area_info info) {
        for (unsigned long dir : {0ul, VM_UNMAPPED_AREA_TOPDOWN}) {
            info.flags = dir;
            const std::optional<uint64_t> want = model_unmapped_area(gaps_, info);
            const mmu::ErrorOr<VirtAddr> got = tree_.vm_unmapped_area(info);
            auto what = [&] {
                std::ostringstream w;
                w << std::hex << (dir ? "topdown" : "bottom-up") << " len " << info.length << " mask "
                  << info.align_mask << " off " << info.align_offset << " limits [" << info.low_limit.value << ", "
                  << info.high_limit.value << "): ";
                return w.str();
            };
            if (!want) {
                if (!got.is_error()) return AssertionFailure() << what() << std::hex << "got " << got.value().value;
                if (got.error().errno_value != ENOMEM) return AssertionFailure() << what() << "errno";
                continue;
            }
            if (got.is_error()) return AssertionFailure() << what() << std::hex << "ENOMEM, model " << *want;
            if (got.value().value != *want)
                return AssertionFailure() << what() << std::hex << "got " << got.value().value << " model " << *want;
            if (auto r = area_is_free(model_, guard_, info, *want); !r) return r << " (" << what() << ")";
            ++gap_hits_;
        }
        return AssertionSuccess();
    }

    vm_unmapped_area_info random_info() {
        vm_unmapped_area_info info;
        info.length = chance(10) ? rand(1, 3 * P) : rand(1, chance(10) ? pages_ : 96) * P;
        if (chance(2)) info.length = UINT64_MAX - rand(0, 3);  // longer than the address space
        info.align_mask = chance(50) ? 0 : ((1ull << rand(1, 4)) - 1) * P;
        info.align_offset = rand(0, 15) * P;
        const uint64_t a = chance(10) ? 0 : random_page(), b = chance(10) ? UINT64_MAX : random_page() + P;
        info.low_limit = VirtAddr(chance(5) ? std::max(a, b) : std::min(a, b));  // sometimes low > high
        info.high_limit = VirtAddr(chance(5) ? std::min(a, b) : std::max(a, b));
        return info;
    }

    uint64_t random_address() { return chance(5) ? rand(0, UINT64_MAX) : base_ + rand(0, pages_ * P - 1); }
    uint64_t boundary_address() {
        if (model_.empty()) return random_address();
        const auto& [start, v] = *std::next(model_.begin(), rand(0, model_.size() - 1));
        const uint64_t at[] = {start, start - 1, v.end, v.end - 1, start + (v.end - start) / 2};
        return at[rand(0, 4)];
    }

    // A random VMA's start, or nothing when the model is empty.
    std::optional<uint64_t> random_vma() {
        if (model_.empty()) return std::nullopt;
        return std::next(model_.begin(), rand(0, model_.size() - 1))->first;
    }

    // The free run of pages starting at addr (0 when addr is mapped).
    uint64_t free_run(uint64_t addr) {
        auto it = model_.upper_bound(addr);
        if (it != model_.begin() && std::prev(it)->second.end > addr) return 0;
        return ((it == model_.end() ? limit_ : it->first) - addr) / P;
    }

    // Anonymous VMAs are numbered from their start address (vm_pgoff = addr >> PAGE_SHIFT).
    ModelVma random_attrs(uint64_t start, uint64_t end) {
        unsigned long flags = VM_BASE | (chance(50) ? VM_READ : VM_READ | VM_WRITE);
        if (chance(12)) flags |= VM_GROWSDOWN;
        std::shared_ptr<file> f = chance(60) ? nullptr : files_[rand(0, 1)];
        return {end, flags, f, f ? rand(0, 64) : start / P};
    }

    std::unique_ptr<vm_area_struct> make_vma(uint64_t start, const ModelVma& v) {
        auto vma = std::make_unique<vm_area_struct>();
        vma->vm_start = VirtAddr(start);
        vma->vm_end = VirtAddr(v.end);
        vma->vm_flags = v.flags;
        vma->vm_file = v.f;
        vma->vm_pgoff = v.pgoff;
        return vma;
    }

    // --- Raw tree steps: insert, erase, vma_adjust, split_vma ---

    void step_insert() {
        uint64_t start = random_page();
        if (chance(30) && !model_.empty()) start = model_.at(*random_vma()).end;  // right after a VMA
        const uint64_t run = start < limit_ ? free_run(start) : 0;
        if (!run) return;
        const uint64_t end = start + rand(1, std::min<uint64_t>(run, 64)) * P;
        ModelVma v = random_attrs(start, end);
        vm_area_struct* got = tree_.insert(make_vma(start, v));
        ASSERT_EQ(got->vm_start.value, start);
        model_[start] = v;
    }

    void step_erase() {
        auto start = random_vma();
        if (!start) return;
        std::unique_ptr<vm_area_struct> v = tree_.erase(tree_.find_vma(VirtAddr(*start)));
        ASSERT_EQ(v->vm_start.value, *start);
        EXPECT_EQ(v->vm_next, nullptr);
        model_.erase(*start);
    }

    void step_adjust() {
        auto start = random_vma();
        if (!start) return;
        auto it = model_.find(*start);
        const uint64_t lo = it == model_.begin() ? base_ : std::prev(it)->second.end;
        const uint64_t hi = std::next(it) == model_.end() ? limit_ : std::next(it)->first;
        const uint64_t ns = lo + rand(0, (hi - lo) / P - 1) * P;
        const uint64_t ne = ns + rand(1, (hi - ns) / P) * P;
        ModelVma v = it->second;
        v.end = ne;
        v.pgoff = v.f ? rand(0, 64) : ns / P;
        tree_.vma_adjust(tree_.find_vma(VirtAddr(*start)), VirtAddr(ns), VirtAddr(ne), v.pgoff);
        model_.erase(it);
        model_[ns] = v;
    }

    void step_split() {
        auto start = random_vma();
        if (!start) return;
        ModelVma& lo = model_.at(*start);
        const uint64_t pages = (lo.end - *start) / P;
        if (pages < 2) return;
        const uint64_t addr = *start + rand(1, pages - 1) * P;
        vm_area_struct* upper = tree_.split_vma(tree_.find_vma(VirtAddr(*start)), VirtAddr(addr));
        ASSERT_EQ(upper->vm_start.value, addr);
        ModelVma hi = lo;
        hi.pgoff += (addr - *start) / P;
        lo.end = addr;
        model_[addr] = hi;
    }

    // --- mm-level steps as mmap.cpp composes them: merges always done ---

    // Whether two model VMAs, a right before b, must be one (can_vma_merge_after's rule).
    static bool model_mergeable(uint64_t a_start, const ModelVma& a, uint64_t b_start, const ModelVma& b) {
        return a.end == b_start && a.flags == b.flags && a.f == b.f && a.pgoff + (a.end - a_start) / P == b.pgoff;
    }

    void model_merge_all() {
        for (auto it = model_.begin(); it != model_.end();) {
            auto nx = std::next(it);
            if (nx != model_.end() && model_mergeable(it->first, it->second, nx->first, nx->second)) {
                it->second.end = nx->second.end;
                model_.erase(nx);
            } else {
                ++it;
            }
        }
    }

    // Cuts the model's VMAs at addr (a no-op on a boundary or in a gap).
    void model_split(uint64_t addr) {
        auto it = model_.upper_bound(addr);
        if (it == model_.begin()) return;
        --it;
        if (it->first >= addr || it->second.end <= addr) return;
        ModelVma hi = it->second;
        hi.pgoff += (addr - it->first) / P;
        it->second.end = addr;
        model_[addr] = hi;
    }

    // The tree side of split_vma at addr when a VMA straddles it.
    void tree_split_at(uint64_t addr) {
        vm_area_struct* v = tree_.find_vma(VirtAddr(addr));
        if (v && v->vm_start.value < addr) {
            ASSERT_TRUE(tree_.split_vma(v, VirtAddr(addr)));  // no slab objects here: never fails
        }
    }

    void step_mmap() {
        uint64_t start, len_pages = rand(1, 32);
        if (chance(50)) {  // placed by the gap search, as get_unmapped_area would
            vm_unmapped_area_info info;
            info.flags = chance(50) ? VM_UNMAPPED_AREA_TOPDOWN : 0;
            info.length = len_pages * P;
            info.low_limit = VirtAddr(base_);
            info.high_limit = VirtAddr(limit_);
            mmu::ErrorOr<VirtAddr> a = tree_.vm_unmapped_area(info);
            std::optional<uint64_t> want = model_unmapped_area(model_gaps(model_, guard_), info);
            ASSERT_EQ(a.is_error(), !want.has_value());
            if (a.is_error()) return;
            ASSERT_EQ(a.value().value, *want);
            start = *want;
        } else {
            start = chance(50) && !model_.empty() ? model_.at(*random_vma()).end : random_page();
            const uint64_t run = start < limit_ ? free_run(start) : 0;
            if (!run) return;
            len_pages = std::min(len_pages, run);
        }
        ModelVma v = random_attrs(start, start + len_pages * P);
        if (v.f && chance(50)) {  // often continue the file of the VMA before
            auto it = model_.lower_bound(start);
            if (it != model_.begin() && std::prev(it)->second.end == start && std::prev(it)->second.f) {
                const auto& [ps, pv] = *std::prev(it);
                v = {v.end, pv.flags, pv.f, pv.pgoff + (pv.end - ps) / P};
            }
        }
        tree_.vma_merge(tree_.insert(make_vma(start, v)));  // vma_link
        model_[start] = v;
        model_merge_all();
    }

    void step_munmap() {
        const uint64_t s = random_page(), e = std::min(limit_, s + rand(1, 96) * P);
        tree_split_at(s);  // do_munmap: split both ends, detach, then drop
        tree_split_at(e);
        VmaList gone = tree_.detach_vmas_to_be_unmapped(VirtAddr(s), VirtAddr(e));
        for (size_t i = 0; i < gone.size(); ++i) {
            ASSERT_TRUE(gone[i]->vm_start.value >= s && gone[i]->vm_end.value <= e);
            if (i) {
                ASSERT_LE(gone[i - 1]->vm_end.value, gone[i]->vm_start.value);
            }
        }
        model_split(s);
        model_split(e);
        size_t removed = 0;
        for (auto it = model_.lower_bound(s); it != model_.end() && it->first < e; ++removed) it = model_.erase(it);
        ASSERT_EQ(gone.size(), removed);
    }

    void step_mprotect() {
        const uint64_t s = random_page(), e = std::min(limit_, s + rand(1, 64) * P);
        const unsigned long prot = chance(50) ? VM_READ : VM_READ | VM_WRITE;
        for (vm_area_struct* v = tree_.find_vma(VirtAddr(s)); v && v->vm_start.value < e; v = v->vm_next) {
            if (v->vm_start.value < s) v = tree_.split_vma(v, VirtAddr(s));
            if (v->vm_end.value > e) {
                ASSERT_TRUE(tree_.split_vma(v, VirtAddr(e)));
            }
            v->vm_flags = (v->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | prot;
            v = tree_.vma_merge(v);
        }
        model_split(s);
        model_split(e);
        for (auto it = model_.lower_bound(s); it != model_.end() && it->first < e; ++it)
            it->second.flags = (it->second.flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | prot;
        model_merge_all();
    }

    // No two neighbours in the tree could have been merged.
    AssertionResult fully_merged() {
        for (const vm_area_struct& v : tree_) {
            const vm_area_struct* n = v.vm_next;
            if (n && v.vm_end == n->vm_start && can_vma_merge_after(v, n->vm_flags, n->vm_file.get(), n->vm_pgoff))
                return AssertionFailure() << std::hex << "unmerged neighbours at " << n->vm_start.value;
        }
        return AssertionSuccess();
    }

    VmaTree tree_;
    Model model_;
    std::vector<Gap> gaps_;  // model_gaps(model_), as of the last verify()
    std::mt19937_64 rng_;
    uint64_t guard_, base_, limit_, pages_;
    std::vector<std::shared_ptr<file>> files_;
    size_t max_size_ = 0;
    size_t gap_hits_ = 0;
};

// Raw tree steps until `steps`, checking everything after each; the tree swings around target.
void run_tree_ops(uint64_t seed, uint64_t guard, uint64_t base, uint64_t pages, int steps, size_t target) {
    RandomHarness h(seed, guard, base, pages);
    for (int i = 0; i < steps; ++i) {
        const int insert_pct = h.model_.size() < target ? 55 : 25;
        const uint64_t r = h.rand(0, 99);
        if (r < static_cast<uint64_t>(insert_pct)) h.step_insert();
        else if (r < static_cast<uint64_t>(insert_pct) + 20) h.step_erase();
        else if (r < static_cast<uint64_t>(insert_pct) + 20 + (80 - insert_pct) / 2) h.step_adjust();
        else h.step_split();
        ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "step " << i;
        ASSERT_TRUE(h.verify()) << "seed " << seed << " step " << i;
        h.max_size_ = std::max(h.max_size_, h.model_.size());
    }
    EXPECT_GE(h.max_size_, target / 2) << "the sequence never grew the tree";
    EXPECT_GT(h.gap_hits_, static_cast<size_t>(steps)) << "few gap searches succeeded";
}

// mmap/munmap/mprotect compositions; after each, merges are complete and the model agrees.
void run_mm_ops(uint64_t seed, uint64_t guard, int steps) {
    RandomHarness h(seed, guard, 0x10000, 4096);
    for (int i = 0; i < steps; ++i) {
        const uint64_t r = h.rand(0, 99);
        if (r < 50) h.step_mmap();
        else if (r < 75) h.step_munmap();
        else h.step_mprotect();
        ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "step " << i;
        ASSERT_TRUE(h.verify()) << "seed " << seed << " step " << i;
        ASSERT_TRUE(h.fully_merged()) << "seed " << seed << " step " << i;
        h.max_size_ = std::max(h.max_size_, h.model_.size());
    }
    EXPECT_GE(h.max_size_, 40u);
}

TEST(GuestosVmaTreeTest, RandomTreeOpsMatchModelSeed1) { run_tree_ops(1, 4 * P, 0, 16384, 4000, 300); }
TEST(GuestosVmaTreeTest, RandomTreeOpsMatchModelSeed2) { run_tree_ops(2, 4 * P, 0x400000, 16384, 4000, 300); }
TEST(GuestosVmaTreeTest, RandomTreeOpsMatchModelSeed3) { run_tree_ops(3, 1 * P, 0, 2048, 4000, 120); }
TEST(GuestosVmaTreeTest, RandomTreeOpsMatchModelSeed4) { run_tree_ops(4, 16 * P, 0, 65536, 3000, 600); }
// Linux's own guard gap (256 pages), larger than many gaps and than the lowest VMAs' starts.
TEST(GuestosVmaTreeTest, RandomTreeOpsWithDefaultGuardGap) {
    run_tree_ops(5, DEFAULT_STACK_GUARD_GAP, 0, 16384, 3000, 300);
}
// The region ends one page below 2^64: highest_vm_end and limits at the very top.
TEST(GuestosVmaTreeTest, RandomTreeOpsAtTopOfAddressSpace) {
    run_tree_ops(6, 4 * P, UINT64_MAX - 8192 * P + 1 - P, 8192, 3000, 200);
}
TEST(GuestosVmaTreeTest, RandomMmapMunmapMprotectKeepVmasMergedSeed1) { run_mm_ops(11, 4 * P, 3000); }
TEST(GuestosVmaTreeTest, RandomMmapMunmapMprotectKeepVmasMergedSeed2) { run_mm_ops(12, 2 * P, 3000); }
TEST(GuestosVmaTreeTest, RandomMmapMunmapMprotectKeepVmasMergedSeed3) { run_mm_ops(13, DEFAULT_STACK_GUARD_GAP, 3000); }

// --- Directed cases ---

std::unique_ptr<vm_area_struct> anon(uint64_t start, uint64_t end, unsigned long flags = VM_BASE | VM_READ) {
    auto v = std::make_unique<vm_area_struct>();
    v->vm_start = VirtAddr(start);
    v->vm_end = VirtAddr(end);
    v->vm_flags = flags;
    v->vm_pgoff = start >> mmu::PAGE_SHIFT;  // as mmap numbers anonymous memory
    return v;
}

constexpr unsigned long TOPDOWN = VM_UNMAPPED_AREA_TOPDOWN;

vm_unmapped_area_info area(uint64_t length, uint64_t low, uint64_t high, unsigned long flags = 0) {
    vm_unmapped_area_info info;
    info.flags = flags;
    info.length = length;
    info.low_limit = VirtAddr(low);
    info.high_limit = VirtAddr(high);
    return info;
}

uint64_t found(const mmu::ErrorOr<VirtAddr>& r) { return r.is_error() ? ~0ull : r.value().value; }
bool enomem(const mmu::ErrorOr<VirtAddr>& r) { return r.is_error() && r.error().errno_value == ENOMEM; }

TEST(GuestosVmaTreeTest, EmptyTreeHasNoVmasAndOneGap) {
    VmaTree t;
    vm_area_struct* prev = reinterpret_cast<vm_area_struct*>(1);
    EXPECT_EQ(t.find_vma(VirtAddr(0)), nullptr);
    EXPECT_EQ(t.find_vma_prev(VirtAddr(0x1000), prev), nullptr);
    EXPECT_EQ(prev, nullptr);
    EXPECT_EQ(t.find_vma_intersection(VirtAddr(0), VirtAddr(UINT64_MAX)), nullptr);
    EXPECT_TRUE(t.empty());
    EXPECT_EQ(t.begin(), t.end());
    EXPECT_EQ(t.highest_vm_end().value, 0u);
    EXPECT_EQ(found(t.unmapped_area(area(0x3000, 0x10000, 0x7ffffffff000))), 0x10000u);
    EXPECT_EQ(found(t.unmapped_area_topdown(area(0x3000, 0x10000, 0x7ffffffff000))), 0x7ffffffff000u - 0x3000);
    EXPECT_TRUE(enomem(t.unmapped_area(area(0x3000, 0x10000, 0x12000))));
}

TEST(GuestosVmaTreeTest, GapBelowMmapMinAddrIsNotUsed) {
    const uint64_t mmap_min_addr = 0x10000;
    VmaTree t;
    t.insert(anon(0x20000, 0x30000));
    t.insert(anon(0x31000, 0x40000));
    // [0, 0x20000) is free, but only its part above mmap_min_addr counts.
    EXPECT_EQ(found(t.unmapped_area(area(0x10000, mmap_min_addr, 0x100000))), 0x10000u);
    EXPECT_EQ(found(t.unmapped_area(area(0x11000, mmap_min_addr, 0x100000))), 0x40000u);
    EXPECT_EQ(found(t.unmapped_area_topdown(area(0x10000, mmap_min_addr, 0x20000, TOPDOWN))), 0x10000u);
    EXPECT_TRUE(enomem(t.unmapped_area_topdown(area(0x11000, mmap_min_addr, 0x31000, TOPDOWN))));
    // The one-page hole between the two VMAs is found from either side.
    EXPECT_EQ(found(t.unmapped_area(area(0x1000, 0x20000, 0x100000))), 0x30000u);
    EXPECT_EQ(found(t.unmapped_area_topdown(area(0x1000, mmap_min_addr, 0x40000, TOPDOWN))), 0x30000u);
}

TEST(GuestosVmaTreeTest, TopOfAddressSpace) {
    const uint64_t top = UINT64_MAX & mmu::PAGE_MASK;  // the last page starts here
    VmaTree t;
    t.insert(anon(top - 0x10000, top));
    t.insert(anon(top, UINT64_MAX));  // up to the last byte
    EXPECT_EQ(t.highest_vm_end().value, UINT64_MAX);
    EXPECT_EQ(t.find_vma(VirtAddr(UINT64_MAX - 1))->vm_start.value, top);
    EXPECT_EQ(t.find_vma(VirtAddr(UINT64_MAX)), nullptr);
    // Nothing fits above; top-down lands right below the lower VMA.
    EXPECT_EQ(found(t.unmapped_area_topdown(area(0x2000, 0, UINT64_MAX, TOPDOWN))), top - 0x12000);
    EXPECT_TRUE(enomem(t.unmapped_area(area(0x2000, top - 0x10000, UINT64_MAX))));
    // Limits at the top itself, and lengths that wrap the address space.
    EXPECT_TRUE(enomem(t.unmapped_area(area(P, 0, 0))));
    EXPECT_TRUE(enomem(t.unmapped_area(area(UINT64_MAX, 0, UINT64_MAX))));
    vm_unmapped_area_info wrap = area(UINT64_MAX - P, 0, UINT64_MAX);
    wrap.align_mask = 2 * P - 1;
    EXPECT_TRUE(enomem(t.unmapped_area(wrap)));
    EXPECT_TRUE(enomem(t.unmapped_area_topdown(wrap)));
}

TEST(GuestosVmaTreeTest, LengthLargerThanAnyGapIsEnomem) {
    VmaTree t;
    for (uint64_t a = 0x100000; a < 0x200000; a += 0x10000) t.insert(anon(a, a + 0xc000));  // 0x4000 holes
    EXPECT_EQ(found(t.unmapped_area(area(0x4000, 0x100000, 0x200000))), 0x10c000u);
    EXPECT_EQ(found(t.unmapped_area_topdown(area(0x4000, 0x100000, 0x200000, TOPDOWN))), 0x1fc000u);
    EXPECT_TRUE(enomem(t.unmapped_area(area(0x5000, 0x100000, 0x200000))));
    EXPECT_TRUE(enomem(t.unmapped_area_topdown(area(0x5000, 0x100000, 0x200000, TOPDOWN))));
    // Linux's worst-case alignment slack counts too: 0x10c000 is 0x2000-aligned, yet a 0x4000
    // hole is not searched for a 0x2000-aligned 0x4000, which needs 0x5000.
    vm_unmapped_area_info aligned = area(0x4000, 0x100000, 0x1f0000);
    aligned.align_mask = 0x1000;
    EXPECT_TRUE(enomem(t.unmapped_area(aligned)));
}

TEST(GuestosVmaTreeTest, AlignmentMaskAndOffsetAreHonoured) {
    VmaTree t;
    t.insert(anon(0x100000, 0x101000));
    vm_unmapped_area_info info = area(0x3000, 0x101000, 0x1000000);
    info.align_mask = 0x1fffff & mmu::PAGE_MASK;  // 2 MiB, as for a huge page
    info.align_offset = 0x5000;
    EXPECT_EQ(found(t.unmapped_area(info)), 0x205000u);
    info.flags = VM_UNMAPPED_AREA_TOPDOWN;
    EXPECT_EQ(found(t.vm_unmapped_area(info)), 0xe05000u);
}

TEST(GuestosVmaTreeTest, StackGuardGapKeepsMappingsAwayFromGrowsdown) {
    const uint64_t guard = 256 * P;
    VmaTree t(guard);
    t.insert(anon(0x7ff000000000, 0x7ff000021000, VM_BASE | VM_READ | VM_WRITE | VM_GROWSDOWN));
    EXPECT_EQ(t.vm_start_gap(*t.first()).value, 0x7ff000000000 - guard);
    EXPECT_EQ(found(t.unmapped_area_topdown(area(0x1000, 0x10000, 0x7ff000000000, TOPDOWN))),
              0x7ff000000000 - guard - 0x1000);
    // The gap before it is measured to the guard, and the guard stops at address 0.
    EXPECT_EQ(t.first()->rb_subtree_gap, 0x7ff000000000 - guard);
    VmaTree low(guard);
    low.insert(anon(0x10000, 0x20000, VM_BASE | VM_READ | VM_GROWSDOWN));
    EXPECT_EQ(low.vm_start_gap(*low.first()).value, 0u);
    EXPECT_EQ(found(low.unmapped_area(area(0x1000, 0, 0x100000))), 0x20000u);
    // Turning VM_GROWSDOWN off and telling the tree frees the gap below.
    low.first()->vm_flags &= ~VM_GROWSDOWN;
    low.vma_gap_update(low.first());
    EXPECT_EQ(found(low.unmapped_area(area(0x1000, 0, 0x100000))), 0u);
}

TEST(GuestosVmaTreeTest, SplitMergeAndDetachKeepFileOffsets) {
    auto f = std::make_shared<file>();
    VmaTree t;
    auto v = anon(0x10000, 0x20000);
    v->vm_file = f;
    v->vm_pgoff = 7;
    vm_area_struct* lo = t.insert(std::move(v));
    vm_area_struct* hi = t.split_vma(lo, VirtAddr(0x14000));
    EXPECT_EQ(lo->vm_end.value, 0x14000u);
    EXPECT_EQ(hi->vm_pgoff, 7u + 4);
    EXPECT_EQ(lo->vm_next, hi);
    EXPECT_EQ(hi->vm_prev, lo);
    EXPECT_EQ(t.size(), 2u);
    // Contiguous offsets merge back into one VMA.
    vm_area_struct* whole = t.vma_merge(hi);
    EXPECT_EQ(whole, lo);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(whole->vm_end.value, 0x20000u);
    // A gap in the file offsets prevents it.
    auto next = anon(0x20000, 0x21000);
    next->vm_file = f;
    next->vm_pgoff = 100;
    EXPECT_EQ(t.vma_merge(t.insert(std::move(next)))->vm_start.value, 0x20000u);
    EXPECT_EQ(t.size(), 2u);
    t.insert(anon(0x30000, 0x31000));
    VmaList gone = t.detach_vmas_to_be_unmapped(VirtAddr(0x10000), VirtAddr(0x22000));
    ASSERT_EQ(gone.size(), 2u);
    EXPECT_EQ(gone[0]->vm_start.value, 0x10000u);
    EXPECT_EQ(gone[1]->vm_start.value, 0x20000u);
    EXPECT_EQ(t.first()->vm_start.value, 0x30000u);
    EXPECT_EQ(t.first()->vm_prev, nullptr);
    EXPECT_EQ(t.first()->rb_subtree_gap, 0x30000u);
}

TEST(GuestosVmaTreeTest, FindVmaPrevAboveEveryVmaIsTheLast) {
    VmaTree t;
    t.insert(anon(0x1000, 0x2000));
    vm_area_struct* last = t.insert(anon(0x5000, 0x6000));
    vm_area_struct* prev = nullptr;
    EXPECT_EQ(t.find_vma_prev(VirtAddr(0x6000), prev), nullptr);
    EXPECT_EQ(prev, last);
    EXPECT_EQ(t.find_vma_prev(VirtAddr(0x3000), prev), last);
    EXPECT_EQ(prev, t.first());
    EXPECT_EQ(t.find_vma_intersection(VirtAddr(0x2000), VirtAddr(0x5000)), nullptr);
    EXPECT_EQ(t.find_vma_intersection(VirtAddr(0x2000), VirtAddr(0x5001)), last);
}

TEST(GuestosVmaTreeTest, SixtyFiveThousandVmasStayBalanced) {
    VmaTree t(4 * P);
    Model m;
    for (uint64_t i = 0; i < 65000; ++i) {  // ascending inserts: the worst case for an unbalanced tree
        const uint64_t start = 0x10000 + i * 3 * P;
        t.insert(anon(start, start + P));
        m[start] = {start + P, VM_BASE | VM_READ, nullptr, start / P};
    }
    ASSERT_TRUE(TreeChecker(t, m, 4 * P).run());
    for (uint64_t i = 0; i < 65000; i += 2) {
        const uint64_t start = 0x10000 + i * 3 * P;
        t.erase(t.find_vma(VirtAddr(start)));
        m.erase(start);
    }
    ASSERT_TRUE(TreeChecker(t, m, 4 * P).run());
    EXPECT_EQ(found(t.unmapped_area(area(5 * P, 0x10000, UINT64_MAX))), 0x10000u + 4 * P);  // the first 5-page hole
}

TEST(GuestosVmaTreeTest, MovedTreeKeepsItsVmas) {
    VmaTree a;
    a.insert(anon(0x1000, 0x2000));
    VmaTree b(std::move(a));
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(b.size(), 1u);
    VmaTree c;
    c.insert(anon(0x9000, 0xa000));
    c = std::move(b);
    EXPECT_EQ(c.first()->vm_start.value, 0x1000u);
    c.clear();
    EXPECT_TRUE(c.empty());
    EXPECT_EQ(c.rb_root(), nullptr);
}

}  // namespace
}  // namespace guestos
