// /proc/PID/mounts and /proc/PID/mountinfo (fs/proc_namespace.c).
#include "guestos/fs/proc_namespace.h"

#include <sys/sysmacros.h>

#include <cstdio>

#include "guestos/include/mount.h"

namespace guestos {

namespace {

// Escapes the characters a field may not hold as \ooo (mangle, seq_path's " \t\n\\").
std::string mangle(const std::string& s) {
    std::string out;
    for (const char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\%03o", static_cast<unsigned char>(c));
            out += esc;
        } else {
            out += c;
        }
    }
    return out;
}

// The per-mount flags (show_mnt_opts).
std::string show_mnt_opts(const vfsmount& mnt) {
    static const std::pair<unsigned, const char*> names[] = {
        {MNT_NOSUID, ",nosuid"},   {MNT_NODEV, ",nodev"},           {MNT_NOEXEC, ",noexec"},
        {MNT_NOATIME, ",noatime"}, {MNT_NODIRATIME, ",nodiratime"}, {MNT_RELATIME, ",relatime"}};
    std::string out;
    for (const auto& [flag, name] : names)
        if (mnt.mnt_flags & flag) out += name;
    return out;
}

std::string sb_options(const vfsmount& mnt) {
    std::string out;
    mnt.mnt_sb->show_options(out);
    return out;
}

// Where the mount is, as the namespace's root sees it.
std::string mount_path(const vfsmount& mnt) { return mangle(d_path(path{const_cast<vfsmount*>(&mnt), mnt.mnt_root})); }

}  // namespace

std::string show_vfsmnt(const vfsmount& mnt) {
    return mangle(mnt.mnt_devname) + " " + mount_path(mnt) + " " + mangle(mnt.mnt_sb->s_type) +
           (mnt_is_readonly(mnt) ? " ro" : " rw") + show_mnt_opts(mnt) + sb_options(mnt) + " 0 0\n";
}

std::string show_mountinfo(const vfsmount& mnt) {
    char ids[64];
    std::snprintf(ids, sizeof ids, "%d %d %u:%u ", mnt.mnt_id, mnt.mnt_parent ? mnt.mnt_parent->mnt_id : mnt.mnt_id,
                  major(mnt.mnt_sb->s_dev), minor(mnt.mnt_sb->s_dev));
    const bool sb_ro = mnt.mnt_sb->s_flags & SB_RDONLY;
    return ids + mangle(dentry_path_raw(*mnt.mnt_root)) + " " + mount_path(mnt) +
           ((mnt.mnt_flags & MNT_READONLY) ? " ro" : " rw") + show_mnt_opts(mnt) + " - " + mangle(mnt.mnt_sb->s_type) +
           " " + mangle(mnt.mnt_devname) + (sb_ro ? " ro" : " rw") + sb_options(mnt) + "\n";
}

std::string proc_mounts(const mnt_namespace& ns) {
    std::string out;
    for (const auto& m : ns.mounts()) out += show_vfsmnt(*m);
    return out;
}

std::string proc_mountinfo(const mnt_namespace& ns) {
    std::string out;
    for (const auto& m : ns.mounts()) out += show_mountinfo(*m);
    return out;
}

}  // namespace guestos
