// The generic sysctl handlers (kernel/sysctl.c): text to int/unsigned long vectors and
// strings with Linux's parsing rules (base 0 numbers, whitespace separators, strict writes
// that must start at position 0), and the table of registered directories.
#include "guestos/include/sysctl.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>

#include "guestos/include/cred.h"
#include "guestos/include/errno.h"
#include "guestos/include/kernel.h"
#include "guestos/include/mm_types.h"
#include "guestos/include/utsname.h"
#include "guestos/mm/page_alloc.h"
#include "guestos/mm/swap_state.h"
#include "guestos/mm/vmscan.h"

namespace guestos {

const int sysctl_vals[] = {0, 1, 2, 4, 100, 200, INT_MAX};
const unsigned long sysctl_long_vals[] = {0, 1};

namespace {

constexpr size_t TMPBUFLEN = 22;
constexpr size_t PAGE_SIZE_ = 4096;
constexpr char proc_wspace_sep[] = {' ', '\t', '\n'};

// The kernel's isspace (lib/ctype.c: 9-13 and the space).
bool k_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

void proc_skip_spaces(char** buf, size_t* size) {
    while (*size && k_isspace(**buf)) --*size, ++*buf;
}

// Base 0 as the kernel reads it: 0x.. hex (only when a hex digit follows), 0.. octal, else
// decimal; -ERANGE past 64 bits (strtoul_lenient).
long strtoul_lenient(const char* cp, const char** endp, unsigned long* res) {
    unsigned base = 10;
    if (cp[0] == '0') {
        base = 8;
        if ((cp[1] | 0x20) == 'x' && std::isxdigit(static_cast<unsigned char>(cp[2]))) base = 16, cp += 2;
    }
    unsigned __int128 result = 0;
    bool overflow = false;
    for (;; ++cp) {
        const char c = *cp;
        unsigned d = c >= '0' && c <= '9'                     ? unsigned(c - '0')
                     : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? unsigned((c | 0x20) - 'a' + 10)
                                                              : 99;
        if (d >= base) break;
        result = result * base + d;
        if (result > UINT64_MAX) overflow = true, result = UINT64_MAX;
    }
    if (overflow) return -ERANGE;
    *endp = cp;
    *res = static_cast<unsigned long>(result);
    return 0;
}

// One number at *buf, optionally negative, that must end at the buffer's end or at one of
// perm_tr (proc_get_long). Numbers of TMPBUFLEN - 1 characters or more are refused.
long proc_get_long(char** buf, size_t* size, unsigned long* val, bool* neg) {
    char tmp[TMPBUFLEN];
    size_t len = *size;
    if (len == 0) return -EINVAL;
    len = std::min(len, TMPBUFLEN - 1);
    std::memcpy(tmp, *buf, len);
    tmp[len] = 0;
    const char* p = tmp;
    *neg = *p == '-' && *size > 1;
    if (*neg) ++p;
    if (!std::isdigit(static_cast<unsigned char>(*p))) return -EINVAL;
    if (strtoul_lenient(p, &p, val)) return -EINVAL;
    len = static_cast<size_t>(p - tmp);
    if (len == TMPBUFLEN - 1) return -EINVAL;
    if (len < *size && !std::memchr(proc_wspace_sep, *p, sizeof proc_wspace_sep)) return -EINVAL;
    *buf += len;
    *size -= len;
    return 0;
}

void proc_put_long(char** buf, size_t* size, unsigned long val, bool neg) {
    char tmp[TMPBUFLEN + 2];
    const size_t len =
        std::min<size_t>(static_cast<size_t>(std::snprintf(tmp, sizeof tmp, "%s%lu", neg ? "-" : "", val)), *size);
    std::memcpy(*buf, tmp, len);
    *size -= len;
    *buf += len;
}

void proc_put_char(char** buf, size_t* size, char c) {
    if (!*size) return;
    **buf = c;
    --*size;
    ++*buf;
}

// A write that does not start at 0 is ignored whole (sysctl_writes_strict = 1).
bool proc_first_pos_non_zero_ignore(const int64_t* ppos) { return *ppos != 0; }

// Converts one value between text and an int (do_proc_dointvec_conv and its minmax form):
// a write checks the range before it stores.
long do_proc_dointvec_conv(bool* negp, unsigned long* lvalp, int* valp, int write, const ctl_table* minmax) {
    if (!write) {
        const int val = *valp;
        *negp = val < 0;
        *lvalp = val < 0 ? -static_cast<unsigned long>(val) : static_cast<unsigned long>(val);
        return 0;
    }
    int tmp;
    if (*negp) {
        if (*lvalp > static_cast<unsigned long>(INT_MAX) + 1) return -EINVAL;
        tmp = static_cast<int>(-static_cast<long>(*lvalp));
    } else {
        if (*lvalp > static_cast<unsigned long>(INT_MAX)) return -EINVAL;
        tmp = static_cast<int>(*lvalp);
    }
    if (minmax) {
        const int* min = static_cast<const int*>(minmax->extra1);
        const int* max = static_cast<const int*>(minmax->extra2);
        if ((min && *min > tmp) || (max && *max < tmp)) return -EINVAL;
    }
    *valp = tmp;
    return 0;
}

// The common frame of the vector handlers (__do_proc_dointvec, __do_proc_doulongvec_minmax):
// each value in turn, tab-separated on read, whitespace-separated on write; a write that
// took no value is EINVAL.
template <typename T, typename Conv>
long do_proc_vec(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos, Conv conv) {
    if (!table->data || !table->maxlen || !*lenp || (*ppos && !write)) {
        *lenp = 0;
        return 0;
    }
    T* i = static_cast<T*>(table->data);
    int vleft = table->maxlen / static_cast<int>(sizeof(T));
    size_t left = *lenp;
    char* p = buffer;
    bool first = true;
    long err = 0;
    if (write) {
        if (proc_first_pos_non_zero_ignore(ppos)) {
            *ppos += static_cast<int64_t>(*lenp);
            return 0;
        }
        left = std::min(left, PAGE_SIZE_ - 1);
    }
    for (; left && vleft--; ++i, first = false) {
        unsigned long lval = 0;
        bool neg = false;
        if (write) {
            proc_skip_spaces(&p, &left);
            if (!left) break;
            if ((err = proc_get_long(&p, &left, &lval, &neg))) break;
            if (conv(&neg, &lval, i, 1)) {
                err = -EINVAL;
                break;
            }
        } else {
            if (conv(&neg, &lval, i, 0)) {
                err = -EINVAL;
                break;
            }
            if (!first) proc_put_char(&p, &left, '\t');
            proc_put_long(&p, &left, lval, neg);
        }
    }
    if (!write && !first && left && !err) proc_put_char(&p, &left, '\n');
    if (write && !err && left) proc_skip_spaces(&p, &left);
    if (write && first) return err ? err : -EINVAL;
    *lenp -= left;
    *ppos += static_cast<int64_t>(*lenp);
    return err;
}

}  // namespace

long proc_dointvec(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    return do_proc_vec<int>(table, write, buffer, lenp, ppos, [](bool* neg, unsigned long* lval, int* v, int w) {
        return do_proc_dointvec_conv(neg, lval, v, w, nullptr);
    });
}

long proc_dointvec_minmax(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    return do_proc_vec<int>(table, write, buffer, lenp, ppos, [table](bool* neg, unsigned long* lval, int* v, int w) {
        return do_proc_dointvec_conv(neg, lval, v, w, table);
    });
}

long proc_doulongvec_minmax(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    const auto* min = static_cast<const unsigned long*>(table->extra1);
    const auto* max = static_cast<const unsigned long*>(table->extra2);
    return do_proc_vec<unsigned long>(table, write, buffer, lenp, ppos,
                                      [min, max](bool* neg, unsigned long* lval, unsigned long* v, int w) -> long {
                                          if (!w) {
                                              *neg = false;
                                              *lval = *v;
                                              return 0;
                                          }
                                          if (*neg) return -EINVAL;
                                          if ((min && *lval < *min) || (max && *lval > *max)) return -EINVAL;
                                          *v = *lval;
                                          return 0;
                                      });
}

long proc_dostring(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    char* data = static_cast<char*>(table->data);
    const size_t maxlen = static_cast<size_t>(table->maxlen);
    if (!data || !maxlen || !*lenp) {
        *lenp = 0;
        return 0;
    }
    if (write) {  // strict: continue only a write that does not start past the string's end
        size_t len = std::min(std::strlen(data), maxlen - 1);
        if (*ppos < 0 || static_cast<size_t>(*ppos) > len) return 0;
        len = static_cast<size_t>(*ppos);
        *ppos += static_cast<int64_t>(*lenp);
        for (const char* p = buffer; static_cast<size_t>(p - buffer) < *lenp && len < maxlen - 1;) {
            const char c = *p++;
            if (c == 0 || c == '\n') break;
            data[len++] = c;
        }
        data[len] = 0;
        return 0;
    }
    size_t len = std::min(strnlen(data, maxlen), maxlen);
    if (*ppos < 0 || static_cast<size_t>(*ppos) > len) {
        *lenp = 0;
        return 0;
    }
    len -= static_cast<size_t>(*ppos);
    len = std::min(len, *lenp);
    if (len) std::memcpy(buffer, data + *ppos, len);
    if (len < *lenp) buffer[len++] = '\n';
    *lenp = len;
    *ppos += static_cast<int64_t>(len);
    return 0;
}

long sysctl_test_perm(int mode, int op) {
    const cred& c = current_cred();
    if (c.euid == 0) mode >>= 6;
    else if (in_egroup_p(0)) mode >>= 3;  // the root group
    return (op & ~mode & (MAY_READ_ | MAY_WRITE_ | MAY_EXEC_)) == 0 ? 0 : -EACCES;
}

namespace {

const int page_cluster_max = 31;

// vm.min_free_kbytes: a new value recomputes every zone's watermarks
// (min_free_kbytes_sysctl_handler -> setup_per_zone_wmarks).
long min_free_kbytes_sysctl_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    auto& buddy = *static_cast<BuddyAllocator*>(table->owner);
    int min_free_kbytes = static_cast<int>(buddy.min_free_kbytes());
    ctl_table t = *table;
    t.data = &min_free_kbytes;
    const long ret = proc_dointvec_minmax(&t, write, buffer, lenp, ppos);
    if (ret == 0 && write) buddy.set_min_free_kbytes(static_cast<uint64_t>(min_free_kbytes));
    return ret;
}

}  // namespace

void vm_sysctl_init(ctl_table_root& root, BuddyAllocator& buddy) {
    root.register_sysctl(
        "vm",
        {
            {"min_free_kbytes", &buddy, sizeof(int), 0644, min_free_kbytes_sysctl_handler, SYSCTL_ZERO, nullptr,
             &buddy},
            {"swappiness", &vm_swappiness, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO, SYSCTL_TWO_HUNDRED},
            {"page-cluster", &page_cluster, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO, &page_cluster_max},
            {"max_map_count", &sysctl_max_map_count, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO},
        });
}

// The UTS names (kernel/utsname_sysctl.c): the guest's copy, which sethostname changes too.
void uts_sysctl_init(ctl_table_root& root, new_utsname& uts) {
    constexpr int len = NEW_UTS_LEN_ + 1;
    root.register_sysctl("kernel", {
                                       {"ostype", uts.sysname, len, 0444, proc_dostring},
                                       {"osrelease", uts.release, len, 0444, proc_dostring},
                                       {"version", uts.version, len, 0444, proc_dostring},
                                       {"hostname", uts.nodename, len, 0644, proc_dostring},
                                       {"domainname", uts.domainname, len, 0644, proc_dostring},
                                   });
}

namespace {

int pid_max_min = PID_MAX_MIN, pid_max_max = PID_MAX_LIMIT;
int max_threads;                                               // threads-max
const int threads_max_min = 20, threads_max_max = 0x3fffffff;  // MIN_THREADS, FUTEX_TID_MASK
unsigned long tainted_mask;                                    // kernel.tainted
int ngroups_max = 65536, cap_last_cap = 40;                    // NGROUPS_MAX, CAP_LAST_CAP
int overflowuid = 65534, overflowgid = 65534;                  // DEFAULT_OVERFLOWUID/GID
const int overflow_max = 65535;

// kernel.tainted (proc_taint): a write needs CAP_SYS_ADMIN and can only add taint bits.
long proc_taint(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    if (write && !capable(CAP_SYS_ADMIN_)) return -EPERM;
    unsigned long tmp = tainted_mask;
    ctl_table t = *table;
    t.data = &tmp;
    const long ret = proc_doulongvec_minmax(&t, write, buffer, lenp, ppos);
    if (ret < 0) return ret;
    if (write) tainted_mask |= tmp;
    return 0;
}

}  // namespace

void kernel_sysctl_init(ctl_table_root& root, int& pid_max, uint64_t totalram_pages) {
    // set_max_threads: at most an eighth of RAM in 16 KiB thread stacks.
    max_threads = static_cast<int>(
        std::clamp<uint64_t>(totalram_pages / (8 * 4), static_cast<uint64_t>(threads_max_min), threads_max_max));
    root.register_sysctl(
        "kernel",
        {
            {"pid_max", &pid_max, sizeof(int), 0644, proc_dointvec_minmax, &pid_max_min, &pid_max_max},
            {"threads-max", &max_threads, sizeof(int), 0644, proc_dointvec_minmax, &threads_max_min, &threads_max_max},
            {"tainted", &tainted_mask, sizeof(long), 0644, proc_taint},
            {"ngroups_max", &ngroups_max, sizeof(int), 0444, proc_dointvec},
            {"cap_last_cap", &cap_last_cap, sizeof(int), 0444, proc_dointvec},
            {"overflowuid", &overflowuid, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO, &overflow_max},
            {"overflowgid", &overflowgid, sizeof(int), 0644, proc_dointvec_minmax, SYSCTL_ZERO, &overflow_max},
        });
}

void ctl_table_root::register_sysctl(const std::string& dir, const std::vector<ctl_table>& table) {
    for (std::string d = dir; !d.empty(); d = d.substr(0, d.rfind('/') == std::string::npos ? 0 : d.rfind('/')))
        dirs_[d];  // each directory on the way exists
    for (const ctl_table& t : table) dirs_[dir][t.procname] = t;
}

const ctl_table* ctl_table_root::find_entry(const std::string& dir, const std::string& name) const {
    auto d = dirs_.find(dir);
    if (d == dirs_.end()) return nullptr;
    auto e = d->second.find(name);
    return e == d->second.end() ? nullptr : &e->second;
}

std::vector<std::pair<std::string, bool>> ctl_table_root::list(const std::string& dir) const {
    std::map<std::string, bool> names;
    const std::string prefix = dir.empty() ? "" : dir + "/";
    for (const auto& [d, entries] : dirs_) {
        if (d.compare(0, prefix.size(), prefix) == 0 && d.size() > prefix.size() &&
            d.find('/', prefix.size()) == std::string::npos)
            names[d.substr(prefix.size())] = true;
        if (d == dir)
            for (const auto& [name, t] : entries) names[name] = false;
    }
    return {names.begin(), names.end()};
}

}  // namespace guestos
