// The system's names as uname reports them (struct new_utsname, include/linux/utsname.h):
// the host's at boot; sethostname and setdomainname change the guest's copy only.
#pragma once

namespace guestos {

inline constexpr int NEW_UTS_LEN_ = 64;

struct new_utsname {
    char sysname[NEW_UTS_LEN_ + 1] = {};
    char nodename[NEW_UTS_LEN_ + 1] = {};
    char release[NEW_UTS_LEN_ + 1] = {};
    char version[NEW_UTS_LEN_ + 1] = {};
    char machine[NEW_UTS_LEN_ + 1] = {};
    char domainname[NEW_UTS_LEN_ + 1] = {};
};

}  // namespace guestos
