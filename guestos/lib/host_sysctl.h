// The host's value of a /proc/sys integer, for the few sysctls emu mirrors rather than keeps
// (a guest configured like its host sees the host's value).
#pragma once

namespace guestos {

// The integer at the start of /proc/sys/NAME on the host, or `fallback` when it cannot be read.
long host_sysctl(const char* name, long fallback);

}  // namespace guestos
