// AF_UNIX sockets (net/unix/af_unix.c): what the rest of the kernel asks of them.
#pragma once
#include <string>

namespace guestos {

class Kernel;

// The text of /proc/net/unix (unix_seq_show over the namespace's sockets).
std::string proc_net_unix(Kernel& k);

}  // namespace guestos
