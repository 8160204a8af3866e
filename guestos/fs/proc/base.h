// /proc (fs/proc): per-process files generated from the task's state at open.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "guestos/include/fs.h"
#include "guestos/include/sched.h"

namespace guestos {

// True for paths under /proc, which procfs answers (with a file or an errno).
bool is_proc_path(const std::string& path);
// Opens a /proc file read-only (proc_pid_lookup + single_open): the file, or a negative errno.
long proc_open(task_struct& task, const std::string& path, unsigned flags, std::shared_ptr<file>& out);
// The open file /proc/PID/fd/N links to, or null (no such fd, or not an fd link).
std::shared_ptr<file> proc_fd_file(task_struct& task, const std::string& path);
// lstat of a /proc symbolic link (self, thread-self, PID/exe, PID/fd/N): 0, a negative
// errno, or 1 when the path is no link (stat it by opening it).
long proc_lstat(task_struct& task, const std::string& path, struct stat& st);
// The target of a /proc symlink (exe), or nullopt with err set (ENOENT, EINVAL: not a link).
std::optional<std::string> proc_readlink(task_struct& task, const std::string& path, int& err);
// The name column of a maps line: the file, [heap] or [stack], or "" (show_map_vma).
std::string vma_name(const mm_struct& mm, const vm_area_struct& vma);
// One /proc/PID/maps line for a VMA, without the newline (show_map_vma).
std::string show_map_vma(const mm_struct& mm, const vm_area_struct& vma);
// One VMA's smaps record: its maps line and what it maps (show_smap).
std::string show_smap(mm_struct& mm, const vm_area_struct& vma);
// /proc/PID/smaps: each VMA's maps line and what it maps (show_smap).
std::string proc_pid_smaps(task_struct& task);
// /proc/PID/smaps_rollup: every VMA's counts summed under one [rollup] header spanning
// them, with the proportional size by kind of page (show_smaps_rollup).
std::string show_smaps_rollup(task_struct& task);
// /proc/PID/status (proc_pid_status): identity, the Vm* sizes and the signal sets.
std::string proc_pid_status(task_struct& task);
// The text of /proc/PID/maps (show_map_vma for each VMA).
std::string proc_pid_maps(task_struct& task);
// The signals the task's process ignores and catches, as bit masks (collect_sigign_sigcatch).
void collect_sigign_sigcatch(const task_struct& task, uint64_t& ign, uint64_t& catch_);
// /proc/PID/stat's 52 fields (do_task_stat): whole for the process (proc_tgid_stat), else
// for the one thread (proc_tid_stat).
std::string do_task_stat(task_struct& task, bool whole);
// /proc/PID/statm: size resident shared text lib data dt, in pages (proc_pid_statm).
std::string proc_pid_statm(task_struct& task);
// /proc/PID/limits: each resource limit's soft and hard value and unit (proc_pid_limits).
std::string proc_pid_limits(const task_struct& task);
// /proc/PID/auxv: the saved auxv words as the task's ABI lays them out (proc_pid_auxv).
std::string proc_pid_auxv(const task_struct& task);

// /proc/PID/io (do_io_accounting): the thread's own counts, or (whole) the process's: its
// live threads', its dead threads' and its reaped children's.
std::string proc_pid_io_accounting(const task_struct& task, bool whole);

}  // namespace guestos
