// The interval tree behind i_mmap against a brute-force list, under random inserts,
// moves and removals.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "guestos/lib/interval_tree.h"

namespace {

struct Item {
    int id;
};

TEST(GuestosIntervalTreeTest, RandomOperationsMatchABruteForceList) {
    std::mt19937_64 rng(7);
    std::vector<Item> items(400);
    for (int i = 0; i < 400; ++i) items[i].id = i;
    guestos::IntervalTree<Item> tree;
    std::map<Item*, std::pair<uint64_t, uint64_t>> model;
    auto rand = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
    for (int step = 0; step < 20000; ++step) {
        Item* it = &items[rand(0, items.size() - 1)];
        if (rand(0, 3) == 0) {
            tree.remove(it);
            model.erase(it);
        } else {  // insert, or move an item already in (a VMA re-keyed after vma_adjust)
            const uint64_t start = rand(0, 1000), last = start + rand(0, 60);
            tree.insert(it, start, last);
            model[it] = {start, last};
        }
        ASSERT_EQ(tree.size(), model.size());
        const uint64_t qf = rand(0, 1100), ql = qf + rand(0, 30);
        std::vector<Item*> got = tree.overlapping(qf, ql), want;
        for (auto& [p, r] : model)
            if (r.first <= ql && r.second >= qf) want.push_back(p);
        std::sort(got.begin(), got.end());
        ASSERT_EQ(got, want) << "step " << step << " query [" << qf << ", " << ql << "]";
    }
    EXPECT_EQ(tree.items().size(), model.size());
}

TEST(GuestosIntervalTreeTest, ResultsComeInStartOrder) {
    Item a{1}, b{2}, c{3};
    guestos::IntervalTree<Item> tree;
    tree.insert(&c, 30, 40);
    tree.insert(&a, 10, 100);
    tree.insert(&b, 20, 21);
    EXPECT_EQ(tree.overlapping(0, ~0ull), (std::vector<Item*>{&a, &b, &c}));
    EXPECT_EQ(tree.overlapping(22, 29), std::vector<Item*>{&a});
    EXPECT_TRUE(tree.overlapping(101, 200).empty());
}

}  // namespace
