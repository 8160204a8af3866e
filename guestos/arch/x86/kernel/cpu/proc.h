// /proc/cpuinfo (arch/x86/kernel/cpu/proc.c): the emulated processor as CPUID describes it.
#pragma once
#include <string>

namespace guestos {

// The text of /proc/cpuinfo for the one CPU (show_cpuinfo), flags in Linux's word order.
std::string show_cpuinfo();

}  // namespace guestos
