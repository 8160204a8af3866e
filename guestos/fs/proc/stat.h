// The global /proc files of the scheduler and the clock: /proc/stat (fs/proc/stat.c) and
// /proc/uptime (fs/proc/uptime.c).
#pragma once
#include <string>

namespace guestos {

class Kernel;

// /proc/stat: the CPU time lines, interrupts, context switches, boot time and the task
// counts (show_stat).
std::string show_stat(Kernel& k);
// /proc/uptime: the time since boot and the CPU's idle time, in seconds (uptime_proc_show).
std::string uptime_proc_show(Kernel& k);

}  // namespace guestos
