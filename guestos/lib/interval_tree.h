// An interval tree of items with closed [start, last] ranges (include/linux/interval_tree_generic.h,
// which the kernel instantiates for i_mmap as vma_interval_tree): here a treap ordered by
// (start, item), each node augmented with the largest `last` in its subtree, so that the
// items overlapping a range are found in O(log n + matches).
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

namespace guestos {

template <class T>
class IntervalTree {
public:
    IntervalTree() = default;
    IntervalTree(const IntervalTree&) = delete;
    IntervalTree& operator=(const IntervalTree&) = delete;
    ~IntervalTree() { destroy(root_); }

    // Adds item with range [start, last], or moves it there if it is in already.
    void insert(T* item, uint64_t start, uint64_t last) {
        remove(item);
        Node* n = new Node{item, start, last, last, next_priority(), nullptr, nullptr};
        root_ = insert_node(root_, n);
        keys_[item] = {start, last};
    }
    // Removes item; nothing if it is not in.
    void remove(T* item) {
        auto it = keys_.find(item);
        if (it == keys_.end()) return;
        root_ = remove_node(root_, it->second.first, item);
        keys_.erase(it);
    }
    bool contains(const T* item) const { return keys_.count(const_cast<T*>(item)) != 0; }
    size_t size() const { return keys_.size(); }
    bool empty() const { return keys_.empty(); }

    // The items whose range overlaps [first, last], by start (vma_interval_tree_foreach).
    std::vector<T*> overlapping(uint64_t first, uint64_t last) const {
        std::vector<T*> out;
        collect(root_, first, last, out);
        return out;
    }
    // Every item, by start.
    std::vector<T*> items() const { return overlapping(0, ~0ull); }

private:
    struct Node {
        T* item;
        uint64_t start, last;
        uint64_t subtree_last;  // max `last` in this subtree (the augmentation)
        uint32_t priority;      // heap order of the treap
        Node* left;
        Node* right;
    };

    static bool less(uint64_t s1, const T* a, uint64_t s2, const T* b) { return s1 != s2 ? s1 < s2 : a < b; }
    static uint64_t sub_last(const Node* n) { return n ? n->subtree_last : 0; }
    static void update(Node* n) { n->subtree_last = std::max({n->last, sub_last(n->left), sub_last(n->right)}); }
    uint32_t next_priority() { return static_cast<uint32_t>(rng_()); }

    static Node*& child(Node* n, bool left) { return left ? n->left : n->right; }
    // Lifts n's left (or right) child into n's place; returns it.
    static Node* rotate_up(Node* n, bool left) {
        Node* c = child(n, left);
        child(n, left) = child(c, !left);
        child(c, !left) = n;
        update(n);
        update(c);
        return c;
    }
    static Node* rotate_right(Node* n) { return rotate_up(n, true); }
    static Node* rotate_left(Node* n) { return rotate_up(n, false); }
    static Node* insert_node(Node* root, Node* n) {
        if (!root) return n;
        if (less(n->start, n->item, root->start, root->item)) {
            root->left = insert_node(root->left, n);
            if (root->left->priority > root->priority) return rotate_right(root);
        } else {
            root->right = insert_node(root->right, n);
            if (root->right->priority > root->priority) return rotate_left(root);
        }
        update(root);
        return root;
    }
    static Node* remove_node(Node* root, uint64_t start, const T* item) {
        if (!root) return nullptr;
        if (root->item == item) {
            if (!root->left || !root->right) {
                Node* child = root->left ? root->left : root->right;
                delete root;
                return child;
            }
            // Rotate the higher-priority child up and keep sinking the node.
            root = root->left->priority > root->right->priority ? rotate_right(root) : rotate_left(root);
            if (root->left && root->left->item == item) root->left = remove_node(root->left, start, item);
            else root->right = remove_node(root->right, start, item);
        } else if (less(start, item, root->start, root->item)) {
            root->left = remove_node(root->left, start, item);
        } else {
            root->right = remove_node(root->right, start, item);
        }
        update(root);
        return root;
    }
    static void collect(const Node* n, uint64_t first, uint64_t last, std::vector<T*>& out) {
        if (!n || n->subtree_last < first) return;  // nothing below reaches first
        collect(n->left, first, last, out);
        if (n->start > last) return;  // this one and everything right start after last
        if (n->last >= first) out.push_back(n->item);
        collect(n->right, first, last, out);
    }
    static void destroy(Node* n) {
        if (!n) return;
        destroy(n->left);
        destroy(n->right);
        delete n;
    }

    Node* root_ = nullptr;
    std::unordered_map<T*, std::pair<uint64_t, uint64_t>> keys_;
    std::minstd_rand rng_{0x1bd11bdau};
};

}  // namespace guestos
