// Memory protection keys (arch/x86/include/asm/pkeys.h). The emulated processor has no PKU,
// so OSPKE is never enabled: arch_max_pkey() is 1 and the only key, 0, is the mm's
// execute_only_pkey (left at 0 by init_new_context_pkeys), which no user interface may use.
// pkey_alloc therefore takes key 0 once and fails to set its access rights (EINVAL), later
// calls find the map full (ENOSPC), and pkey_free and pkey_mprotect find no key allocated.
#pragma once
#include <cerrno>

#include "guestos/include/mm_types.h"

namespace guestos {

inline constexpr int arch_max_pkey() { return 1; }  // cpu_feature_enabled(X86_FEATURE_OSPKE) ? 16 : 1
inline constexpr bool arch_pkeys_enabled() { return false; }
inline constexpr unsigned long PKEY_DISABLE_ACCESS_ = 0x1, PKEY_DISABLE_WRITE_ = 0x2;
inline constexpr unsigned long PKEY_ACCESS_MASK_ = PKEY_DISABLE_ACCESS_ | PKEY_DISABLE_WRITE_;

inline bool mm_pkey_is_allocated(const mm_struct& mm, int pkey) {
    if (pkey < 0 || pkey >= arch_max_pkey()) return false;
    if (pkey == mm.execute_only_pkey) return false;  // set in the map, but not the user's
    return mm.pkey_allocation_map & (1u << pkey);
}

// A free key marked allocated, or -1 when the map is full.
inline int mm_pkey_alloc(mm_struct& mm) {
    const uint16_t all_pkeys_mask = static_cast<uint16_t>((1u << arch_max_pkey()) - 1);
    if (mm.pkey_allocation_map == all_pkeys_mask) return -1;
    int ret = 0;
    while (mm.pkey_allocation_map & (1u << ret)) ++ret;  // ffz
    mm.pkey_allocation_map |= static_cast<uint16_t>(1u << ret);
    return ret;
}

inline int mm_pkey_free(mm_struct& mm, int pkey) {
    if (!mm_pkey_is_allocated(mm, pkey)) return -EINVAL;
    mm.pkey_allocation_map &= static_cast<uint16_t>(~(1u << pkey));
    return 0;
}

// The key's access rights in this thread's PKRU (arch_set_user_pkey_access): needs OSPKE.
inline int arch_set_user_pkey_access(int /*pkey*/, unsigned long /*init_val*/) {
    if (!arch_pkeys_enabled()) return -EINVAL;
    return 0;
}

}  // namespace guestos
