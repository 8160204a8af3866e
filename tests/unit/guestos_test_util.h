// What the guestos allocator tests share.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

#include "guestos/mm/page_alloc.h"
#include "guestos/mm/vmscan.h"
#include "mmu/phys_memory.h"

inline constexpr uint64_t MiB = 1ull << 20;

// The allocator's own consistency check passes (check_consistency() returns no error).
#define EXPECT_CONSISTENT(x)                               \
    do {                                                   \
        auto r_ = (x).check_consistency();                 \
        ASSERT_FALSE(r_.is_error()) << r_.error().message; \
    } while (0)

// 16 MiB of RAM, a buddy allocator over it and reclaim set up on it: the base of the tests
// whose pages come and go (readahead, writeback, vmscan, swap). A derived SetUp calls this
// one first.
class ReclaimRamTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto ram = mmu::PhysMemory::create(16 * MiB);
        ASSERT_FALSE(ram.is_error());
        ram_ = ram.release_value();
        buddy_ = std::make_unique<guestos::BuddyAllocator>(*ram_);
        guestos::setup_reclaim(*buddy_);
    }
    std::unique_ptr<mmu::PhysMemory> ram_;
    std::unique_ptr<guestos::BuddyAllocator> buddy_;
};
