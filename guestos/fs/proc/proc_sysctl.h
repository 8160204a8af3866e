// /proc/sys (fs/proc/proc_sysctl.c): a directory per sysctl table directory and a file per
// entry, whose read and write run the entry's proc_handler.
#pragma once
#include <memory>
#include <string>

#include "guestos/include/fs.h"

namespace guestos {

class ctl_table_root;

// Whether path is /proc/sys or below it.
bool is_proc_sys_path(const std::string& path);
// Opens /proc/sys/... with the access flags ask for: the file or directory, ENOENT, EACCES
// (the entry's mode refuses the access: proc_sys_permission), EISDIR.
long proc_sys_open(ctl_table_root& root, const std::string& path, unsigned flags, const timespec& time,
                   std::shared_ptr<file>& out);
// stat of /proc/sys/... without opening it (a 0200 file stats fine): 0 or ENOENT.
long proc_sys_getattr(ctl_table_root& root, const std::string& path, const timespec& time, struct stat& st);

}  // namespace guestos
