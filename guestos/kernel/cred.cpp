#include "guestos/include/cred.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace guestos {

namespace {

// The host process's effective capability set, read once (capget, version 3: two words).
uint64_t effective_caps() {
    static const uint64_t caps = [] {
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2]{};
        if (syscall(SYS_capget, &hdr, data) != 0) return uint64_t{0};
        return static_cast<uint64_t>(data[0].effective) | (static_cast<uint64_t>(data[1].effective) << 32);
    }();
    return caps;
}

}  // namespace

bool capable(int cap) { return cap >= 0 && cap < 64 && (effective_caps() >> cap) & 1; }

}  // namespace guestos
