// sysctl tables (include/linux/sysctl.h, kernel/sysctl.c): each knob under /proc/sys is a
// ctl_table entry whose proc_handler turns text into the value at `data` and back. The
// subsystems register their tables by directory (register_sysctl); fs/proc/proc_sysctl.cpp
// shows them as files.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace guestos {

struct ctl_table;
// Reads (write 0) the value into buffer, or parses buffer and stores it (write 1). *lenp is
// the buffer's size in and the bytes made or taken out; *ppos the file position, advanced.
// 0 or a negative errno (EINVAL: not a number, out of range).
using proc_handler = long (*)(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos);

struct ctl_table {
    const char* procname;
    void* data;     // the value(s): int, unsigned long or char[] by handler
    int maxlen;     // bytes at data
    uint16_t mode;  // permission bits of the file (0644: root writes)
    proc_handler handler;
    const void* extra1 = nullptr;  // minmax: the least value (int* or unsigned long*)
    const void* extra2 = nullptr;  // minmax: the largest value
    void* owner = nullptr;         // what a handler acts on where Linux uses a global
};

// The common range bounds (SYSCTL_ZERO, SYSCTL_ONE, ...).
extern const int sysctl_vals[];
#define SYSCTL_ZERO (&sysctl_vals[0])
#define SYSCTL_ONE (&sysctl_vals[1])
#define SYSCTL_TWO (&sysctl_vals[2])
#define SYSCTL_FOUR (&sysctl_vals[3])
#define SYSCTL_ONE_HUNDRED (&sysctl_vals[4])
#define SYSCTL_TWO_HUNDRED (&sysctl_vals[5])
#define SYSCTL_INT_MAX (&sysctl_vals[6])
extern const unsigned long sysctl_long_vals[];
#define SYSCTL_LONG_ZERO (&sysctl_long_vals[0])
#define SYSCTL_LONG_ONE (&sysctl_long_vals[1])

// Whitespace-separated ints (one per sizeof(int) of maxlen), tab-separated on read.
long proc_dointvec(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos);
// proc_dointvec, refusing with EINVAL a value outside [*extra1, *extra2] (either may be null).
long proc_dointvec_minmax(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos);
// Unsigned longs, refusing a negative value or one outside [*extra1, *extra2].
long proc_doulongvec_minmax(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos);
// A NUL-terminated string of at most maxlen - 1 bytes; a longer write is cut.
long proc_dostring(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos);

// MAY_* access to a sysctl file by the current credentials: root gets the owner bits, the
// root group the group bits, others the rest (test_perm). 0 or -EACCES.
inline constexpr int MAY_EXEC_ = 1, MAY_WRITE_ = 2, MAY_READ_ = 4;
long sysctl_test_perm(int mode, int op);

// The registered tables by directory ("vm", "kernel"), each sorted by name as Linux's
// rbtree of entries lists them.
class ctl_table_root {
public:
    // Adds the entries of table to dir, creating it (register_sysctl).
    void register_sysctl(const std::string& dir, const std::vector<ctl_table>& table);
    // The entry dir/name, or null.
    const ctl_table* find_entry(const std::string& dir, const std::string& name) const;
    // Whether dir is a directory ("" is /proc/sys itself).
    bool is_dir(const std::string& dir) const { return dir.empty() || dirs_.count(dir); }
    // The names in dir: its subdirectories and entries, in name order.
    std::vector<std::pair<std::string, bool /*is_dir*/>> list(const std::string& dir) const;

private:
    std::map<std::string, std::map<std::string, ctl_table>> dirs_;
};

struct new_utsname;
class BuddyAllocator;
// Registers what kernel/sysctl.c's vm_table keeps itself: vm.swappiness (0..200),
// vm.page-cluster (0..31), vm.max_map_count and vm.min_free_kbytes (buddy's watermarks).
void vm_sysctl_init(ctl_table_root& root, BuddyAllocator& buddy);
// Registers kernel.ostype, osrelease, version (read-only), hostname and domainname over uts.
void uts_sysctl_init(ctl_table_root& root, new_utsname& uts);
// Registers kernel/sysctl.c's and kernel/pid.c's kernel.* entries: pid_max (301..4194304,
// over pid_max), threads-max (from RAM, as set_max_threads computes it), tainted (bits
// are only ever added, by CAP_SYS_ADMIN), ngroups_max, cap_last_cap, overflowuid/gid.
void kernel_sysctl_init(ctl_table_root& root, int& pid_max, uint64_t totalram_pages);

}  // namespace guestos
