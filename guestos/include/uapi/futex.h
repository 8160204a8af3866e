// futex operations (uapi/linux/futex.h).
#pragma once
#include <cstdint>

namespace guestos {

enum : int {
    FUTEX_WAIT_ = 0,
    FUTEX_WAKE_ = 1,
    FUTEX_FD_ = 2,
    FUTEX_REQUEUE_ = 3,
    FUTEX_CMP_REQUEUE_ = 4,
    FUTEX_WAKE_OP_ = 5,
    FUTEX_LOCK_PI_ = 6,
    FUTEX_UNLOCK_PI_ = 7,
    FUTEX_TRYLOCK_PI_ = 8,
    FUTEX_WAIT_BITSET_ = 9,
    FUTEX_WAKE_BITSET_ = 10,
    FUTEX_WAIT_REQUEUE_PI_ = 11,
    FUTEX_CMP_REQUEUE_PI_ = 12,
    FUTEX_LOCK_PI2_ = 13,
};
inline constexpr int FUTEX_PRIVATE_FLAG_ = 128, FUTEX_CLOCK_REALTIME_ = 256;
inline constexpr int FUTEX_CMD_MASK_ = ~(FUTEX_PRIVATE_FLAG_ | FUTEX_CLOCK_REALTIME_);
inline constexpr uint32_t FUTEX_BITSET_MATCH_ANY_ = 0xffffffff;
inline constexpr uint32_t FUTEX_WAITERS_ = 0x80000000, FUTEX_OWNER_DIED_ = 0x40000000, FUTEX_TID_MASK_ = 0x3fffffff;

}  // namespace guestos
