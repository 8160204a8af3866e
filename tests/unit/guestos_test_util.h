// What the guestos allocator tests share.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>

inline constexpr uint64_t MiB = 1ull << 20;

// The allocator's own consistency check passes (check_consistency() returns no error).
#define EXPECT_CONSISTENT(x)                               \
    do {                                                   \
        auto r_ = (x).check_consistency();                 \
        ASSERT_FALSE(r_.is_error()) << r_.error().message; \
    } while (0)
