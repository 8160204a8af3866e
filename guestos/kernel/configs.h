// The kernel's configuration as /proc/config.gz shows it (kernel/configs.c, CONFIG_IKCONFIG):
// the options that describe what emu implements, in the .config format, gzip-compressed.
#pragma once
#include <string>

namespace guestos {

// The gzip file of the configuration text (ikconfig_read_current); release names the kernel
// in its header line as make oldconfig writes it.
std::string ikconfig_gz(const std::string& release);

}  // namespace guestos
