// The vm.dirty_* sysctls (mm/page-writeback.c): a ratio and its bytes form exclude each
// other, as dirty_ratio_handler and dirty_bytes_handler keep them.
#include "guestos/mm/page-writeback.h"

#include "guestos/include/sysctl.h"
#include "guestos/include/writeback.h"

namespace guestos {

int dirty_background_ratio = 10;
unsigned long dirty_background_bytes = 0;
int vm_dirty_ratio = 20;
unsigned long vm_dirty_bytes = 0;
unsigned int dirty_writeback_interval = 5 * 100;
unsigned int dirty_expire_interval = 30 * 100;

namespace {

const unsigned long dirty_bytes_min = 2 * 4096;  // two pages

long dirty_background_ratio_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    const long ret = proc_dointvec_minmax(table, write, buffer, lenp, ppos);
    if (ret == 0 && write) dirty_background_bytes = 0;
    return ret;
}

long dirty_background_bytes_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    const long ret = proc_doulongvec_minmax(table, write, buffer, lenp, ppos);
    if (ret == 0 && write) dirty_background_ratio = 0;
    return ret;
}

long dirty_ratio_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    const long ret = proc_dointvec_minmax(table, write, buffer, lenp, ppos);
    if (ret == 0 && write) vm_dirty_bytes = 0;
    return ret;
}

long dirty_bytes_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    const long ret = proc_doulongvec_minmax(table, write, buffer, lenp, ppos);
    if (ret == 0 && write) vm_dirty_ratio = 0;
    return ret;
}

// A new non-zero interval takes effect at once: the flusher is woken to write everything
// dirty (wakeup_flusher_threads(WB_REASON_PERIODIC)); 0 stops the periodic write.
long dirty_writeback_centisecs_handler(const ctl_table* table, int write, char* buffer, size_t* lenp, int64_t* ppos) {
    const unsigned int old_interval = dirty_writeback_interval;
    const long ret = proc_dointvec(table, write, buffer, lenp, ppos);
    if (ret == 0 && write && dirty_writeback_interval && dirty_writeback_interval != old_interval)
        wakeup_flusher_threads(ktime_get());
    return ret;
}

}  // namespace

void page_writeback_sysctl_init(ctl_table_root& root) {
    root.register_sysctl(
        "vm",
        {
            {"dirty_background_ratio", &dirty_background_ratio, sizeof(int), 0644, dirty_background_ratio_handler,
             SYSCTL_ZERO, SYSCTL_ONE_HUNDRED},
            {"dirty_background_bytes", &dirty_background_bytes, sizeof(unsigned long), 0644,
             dirty_background_bytes_handler, SYSCTL_LONG_ONE},
            {"dirty_ratio", &vm_dirty_ratio, sizeof(int), 0644, dirty_ratio_handler, SYSCTL_ZERO, SYSCTL_ONE_HUNDRED},
            {"dirty_bytes", &vm_dirty_bytes, sizeof(unsigned long), 0644, dirty_bytes_handler, &dirty_bytes_min},
            {"dirty_writeback_centisecs", &dirty_writeback_interval, sizeof(unsigned int), 0644,
             dirty_writeback_centisecs_handler},
            {"dirty_expire_centisecs", &dirty_expire_interval, sizeof(unsigned int), 0644, proc_dointvec_minmax,
             SYSCTL_ZERO},
        });
}

}  // namespace guestos
