// /proc/PID/mounts and /proc/PID/mountinfo (fs/proc_namespace.c): the mount table in
// Linux's two formats.
#pragma once
#include <string>

namespace guestos {

class mnt_namespace;
struct vfsmount;

// One /proc/mounts line: device, mountpoint, type, options, "0 0" (show_vfsmnt).
std::string show_vfsmnt(const vfsmount& mnt);
// One /proc/PID/mountinfo line: ids, device numbers, root, mountpoint, per-mount options,
// " - ", type, device and the superblock's options (show_mountinfo).
std::string show_mountinfo(const vfsmount& mnt);
// Every mount of ns in mount order, in either format.
std::string proc_mounts(const mnt_namespace& ns);
std::string proc_mountinfo(const mnt_namespace& ns);

}  // namespace guestos
