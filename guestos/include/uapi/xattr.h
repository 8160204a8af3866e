// Extended attributes' flags, limits and namespace prefixes (uapi/linux/xattr.h,
// uapi/linux/limits.h): the same on i386 and x86-64.
#pragma once
#include <cstddef>

namespace guestos {

inline constexpr int XATTR_CREATE_ = 0x1, XATTR_REPLACE_ = 0x2;
inline constexpr size_t XATTR_NAME_MAX_ = 255, XATTR_SIZE_MAX_ = 65536, XATTR_LIST_MAX_ = 65536;
inline constexpr const char* XATTR_SECURITY_PREFIX_ = "security.";
inline constexpr const char* XATTR_SYSTEM_PREFIX_ = "system.";
inline constexpr const char* XATTR_TRUSTED_PREFIX_ = "trusted.";
inline constexpr const char* XATTR_USER_PREFIX_ = "user.";
inline constexpr const char* XATTR_NAME_CAPS_ = "security.capability";

}  // namespace guestos
