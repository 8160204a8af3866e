// gdb's monitor commands over guestos::inspect and emu::Debugger (see monitor.h).
#include "gdbstub/monitor.h"

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <sstream>
#include <vector>

#include "guestos/include/kernel.h"
#include "guestos/include/sched.h"
#include "guestos/mm/inspect.h"

namespace gdbstub {

namespace {

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

// A number in C syntax (0x.., or decimal); nullopt when malformed.
std::optional<uint64_t> number(const std::string& s) {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    if (errno || *end || s[0] == '-') return std::nullopt;
    return v;
}

std::string bits_of(mmu::PagingMode mode, int level, uint64_t entry) {
    std::string out;
    for (const auto& b : guestos::inspect::entry_bits(mode, level, entry))
        if (b.set) out += (out.empty() ? "" : " ") + std::string(b.name);
    return out.empty() ? "-" : out;
}

constexpr const char* HELP =
    "emu monitor commands (the memory manager, as the debugger view shows it):\n"
    "  pagewalk ADDR   each page-table level's entry for ADDR with its bits, and the shadow TLB entry\n"
    "  pte ADDR        ADDR's page-table entry and the struct page of its frame\n"
    "  vmas            the address space's VMAs with resident and dirty pages\n"
    "  phys ADDR LEN   LEN bytes (at most 4096) of emulated RAM at physical ADDR\n"
    "  meminfo         /proc/meminfo's main figures and the fault counters\n"
    "  buddyinfo       free blocks per order in each zone\n"
    "  zoneinfo        each zone's span, free pages and watermarks\n"
    "  slabinfo        the slab caches\n"
    "  tlb             the shadow TLB's counters and entries\n"
    "  faults [N]      the last N page faults (default 10) with their Linux call paths\n"
    "  fault-break [any|anon|file|cow|major|swap|segv|off]\n"
    "                  continue stops at the next such page fault, once it is handled\n"
    "  explain on|off  print each page fault of a continue with its call path\n";

}  // namespace

std::string Monitor::describe_fault(const guestos::FaultEvent& e) {
    std::string s = fmt("fault %" PRIu64 " at 0x%" PRIx64 " (%s) by \"%s\" at 0x%" PRIx64 "%s%s%s\n", e.seq,
                        e.address.value, e.hidden ? "hidden" : guestos::describe_error_code(e.error_code).c_str(),
                        e.insn.c_str(), e.ip, e.vma.empty() ? "" : " in [", e.vma.c_str(), e.vma.empty() ? "" : "]");
    for (const auto& step : e.path) s += "  " + step.text() + "\n";
    s += fmt("  => %s, pte 0x%" PRIx64 " -> 0x%" PRIx64 "\n", e.outcome.c_str(), e.pte_before, e.pte_after);
    return s;
}

std::string Monitor::run(const std::string& line) {
    std::istringstream in(line);
    std::string cmd, a1, a2;
    in >> cmd >> a1 >> a2;
    guestos::task_struct* t = dbg_.task();
    const bool have_mm = t && t->mm && !dbg_.exited();
    auto need = [&](const std::string& what) { return "emu: " + cmd + ": " + what + "\n"; };
    if (cmd.empty() || cmd == "help") return HELP;
    if (cmd == "pagewalk" || cmd == "pte") {
        auto va = number(a1);
        if (!va) return need("expected an address (monitor " + cmd + " 0x401000)");
        if (!have_mm) return need("the program has no address space now");
        return cmd == "pagewalk" ? pagewalk(*va) : pte(*va);
    }
    if (cmd == "vmas") return have_mm ? vmas() : need("the program has no address space now");
    if (cmd == "phys") {
        auto pa = number(a1), len = number(a2.empty() ? "64" : a2);
        if (!pa || !len || *len > 4096) return need("expected a physical address and a length up to 4096");
        return phys(*pa, *len);
    }
    if (cmd == "meminfo") return meminfo();
    if (cmd == "buddyinfo") return buddyinfo();
    if (cmd == "zoneinfo") return zoneinfo();
    if (cmd == "slabinfo") return slabinfo();
    if (cmd == "tlb") return tlb();
    if (cmd == "faults") {
        auto n = number(a1.empty() ? "10" : a1);
        if (!n) return need("expected a count");
        return faults(*n);
    }
    if (cmd == "fault-break") return set_fault_break(a1.empty() ? "any" : a1);
    if (cmd == "explain") {
        if (a1 != "on" && a1 != "off") return need("expected on or off");
        explain_ = a1 == "on";
        return std::string("explain ") + (explain_ ? "on: each fault of a continue is printed\n" : "off\n");
    }
    return "emu: unknown monitor command '" + cmd + "' (monitor help)\n";
}

std::string Monitor::pagewalk(uint64_t va) {
    const guestos::mm_struct& mm = *dbg_.task()->mm;
    const auto w = guestos::inspect::page_walk(mm, mmu::VirtAddr(va));
    std::string s = fmt("page walk of 0x%" PRIx64 " from the pgd at phys 0x%" PRIx64 "\n", va, w.root.value);
    for (const auto& l : w.levels) {
        s += fmt("  %-5s table 0x%09" PRIx64 " [%3u] @0x%09" PRIx64 " = 0x%016" PRIx64 "  %s", l.name, l.table.value,
                 l.index, l.entry_addr.value, l.entry, bits_of(w.mode, l.level, l.entry).c_str());
        if (l.present) s += fmt(" -> %s pfn 0x%" PRIx64, l.leaf ? "frame" : "table", l.next_pfn);
        s += "\n";
    }
    if (w.phys) s += fmt("  phys 0x%" PRIx64 "\n", w.phys->value);
    else s += "  not mapped: " + (w.stopped.empty() ? std::string("no leaf") : w.stopped) + "\n";
    if (auto e = dbg_.tlb_entry(mmu::VirtAddr(va)))
        s += fmt("  shadow TLB: pfn 0x%" PRIx64 " %s%s%s\n", e->pfn, e->writable ? "RW" : "RO", e->user ? " US" : "",
                 e->executable ? "" : " NX");
    else s += "  shadow TLB: no entry (the next access fills it from the walk)\n";
    return s;
}

std::string Monitor::pte(uint64_t va) {
    const guestos::mm_struct& mm = *dbg_.task()->mm;
    const auto w = guestos::inspect::page_walk(mm, mmu::VirtAddr(va));
    if (w.levels.empty() || !w.levels.back().leaf || !w.phys)
        return fmt("0x%" PRIx64 ": no PTE maps it (%s)\n", va, w.stopped.empty() ? "not present" : w.stopped.c_str());
    const auto& l = w.levels.back();
    std::string s = fmt("pte of 0x%" PRIx64 ": 0x%016" PRIx64 " %s -> pfn 0x%" PRIx64 "\n", va, l.entry,
                        bits_of(w.mode, l.level, l.entry).c_str(), l.next_pfn);
    if (const guestos::BuddyAllocator* b = kernel_.buddy()) {
        const auto p = guestos::inspect::page_info(*b, kernel_.zero_page(), w.phys->pfn());
        s += fmt("  page: %s, zone %s, flags %s, _refcount %d, _mapcount %d", guestos::inspect::frame_use_name(p.use),
                 p.zone, p.flag_names.empty() ? "-" : p.flag_names.c_str(), p.refcount, p.mapcount);
        if (!p.mapping.empty()) s += ", mapping " + p.mapping;
        s += fmt(", index 0x%" PRIx64 "\n", p.index);
    }
    return s;
}

std::string Monitor::vmas() {
    std::string s = "start            end              perm  offset   resident dirty  name\n";
    for (const auto& v : guestos::inspect::vmas(*dbg_.task()->mm))
        s += fmt("%016" PRIx64 " %016" PRIx64 " %s %08" PRIx64 " %8" PRIu64 " %6" PRIu64 "  %s\n", v.start.value,
                 v.end.value, v.perms.c_str(), v.pgoff << 12, v.resident, v.dirty, v.name.c_str());
    return s;
}

std::string Monitor::phys(uint64_t pa, uint64_t len) {
    std::vector<uint8_t> buf(len);
    if (!guestos::inspect::read_physical(kernel_.ram(), mmu::PhysAddr(pa), buf.data(), len))
        return fmt("emu: phys: 0x%" PRIx64 "+%" PRIu64 " is outside RAM (%" PRIu64 " bytes)\n", pa, len,
                   kernel_.ram().size());
    std::string s;
    for (uint64_t i = 0; i < len; i += 16) {
        s += fmt("%09" PRIx64 ":", pa + i);
        for (uint64_t j = i; j < i + 16 && j < len; ++j) s += fmt(" %02x", buf[j]);
        s += "\n";
    }
    return s;
}

std::string Monitor::meminfo() {
    const auto c = guestos::inspect::mem_counters(kernel_);
    auto kb = [](uint64_t pages) { return pages * 4; };
    return fmt("MemTotal:       %8" PRIu64 " kB\nMemFree:        %8" PRIu64 " kB\nCached:         %8" PRIu64
               " kB\nAnonPages:      %8" PRIu64 " kB\nShmem:          %8" PRIu64 " kB\nSlab:           %8" PRIu64
               " kB\nPageTables:     %8" PRIu64 " kB\nKernelStack:    %8" PRIu64 " kB\nVmallocUsed:    %8" PRIu64
               " kB\nDirty:          %8" PRIu64 " kB\nHighTotal:      %8" PRIu64 " kB\nHighFree:       %8" PRIu64
               " kB\n",
               kb(c.total), kb(c.free), kb(c.cached), kb(c.anon), kb(c.shmem), kb(c.slab), kb(c.page_tables),
               kb(c.kernel_stack), kb(c.vmalloc), kb(c.dirty), kb(c.high_total), kb(c.high_free)) +
           fmt("pgfault %" PRIu64 "\npgmajfault %" PRIu64 "\n", c.pgfault, c.pgmajfault);
}

std::string Monitor::buddyinfo() {
    const guestos::BuddyAllocator* b = kernel_.buddy();
    if (!b) return "emu: buddyinfo: memory is not set up yet\n";
    std::string s;
    for (const auto& z : guestos::inspect::buddy_zones(*b)) {
        s += fmt("Node 0, zone %8s", z.name);
        for (const auto& per_type : z.nr_free) {
            uint64_t n = 0;
            for (uint64_t k : per_type) n += k;
            s += fmt(" %6" PRIu64, n);
        }
        s += "\n";
    }
    return s;
}

std::string Monitor::zoneinfo() {
    const guestos::BuddyAllocator* b = kernel_.buddy();
    if (!b) return "emu: zoneinfo: memory is not set up yet\n";
    std::string s;
    for (const auto& z : guestos::inspect::buddy_zones(*b))
        s += fmt("Node 0, zone %8s\n  pages free     %" PRIu64 "\n        min      %" PRIu64
                 "\n        low      %" PRIu64 "\n        high     %" PRIu64 "\n        spanned  %" PRIu64
                 "\n        present  %" PRIu64 "\n        managed  %" PRIu64 "\n  start_pfn:           %" PRIu64
                 "\n  pcp count            %" PRIu64 "\n",
                 z.name, z.free_pages, z.wmark_min, z.wmark_low, z.wmark_high, z.spanned, z.present, z.managed,
                 z.start_pfn, z.pcp_pages);
    return s;
}

std::string Monitor::slabinfo() {
    const guestos::SlabAllocator* slab = kernel_.slab();
    if (!slab) return "emu: slabinfo: memory is not set up yet\n";
    std::string s =
        "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : slabdata <num_slabs>\n";
    for (const auto& c : guestos::inspect::slab_caches(*slab))
        s += fmt("%-17s %6" PRIu64 " %6" PRIu64 " %6u %4u %4u : slabdata %6" PRIu64 "\n", c.name.c_str(), c.active_objs,
                 c.num_objs, c.size, c.objects_per_slab, c.pages_per_slab, c.num_slabs);
    return s;
}

std::string Monitor::tlb() {
    const emu::TlbStats st = dbg_.tlb_stats();
    std::string s =
        fmt("shadow TLB: fills %" PRIu64 ", hidden faults %" PRIu64 ", true faults %" PRIu64 ", dirty upgrades %" PRIu64
            ", invalidations %" PRIu64 ", full flushes %" PRIu64 "\n",
            st.fills, st.hidden_faults, st.true_faults, st.dirty_upgrades, st.invalidations, st.full_flushes);
    const auto entries = dbg_.tlb_entries(64);
    s += fmt("%zu entries shown (at most 64):\n", entries.size());
    for (const auto& e : entries)
        s += fmt("  0x%012" PRIx64 " -> pfn 0x%" PRIx64 " %s%s%s\n", e.va.value, e.pfn, e.writable ? "RW" : "RO",
                 e.user ? " US" : "", e.executable ? "" : " NX");
    return s;
}

std::string Monitor::faults(uint64_t n) {
    const auto& all = dbg_.faults();
    if (all.empty()) return "no page faults recorded yet\n";
    std::string s;
    for (size_t i = all.size() > n ? all.size() - n : 0; i < all.size(); ++i) s += describe_fault(all[i]);
    return s;
}

std::string Monitor::set_fault_break(const std::string& kind) {
    static const std::pair<const char*, unsigned> kinds[] = {
        {"any", emu::FAULT_TRUE}, {"anon", emu::FAULT_ANON}, {"file", emu::FAULT_FILE},    {"major", emu::FAULT_FILE},
        {"cow", emu::FAULT_COW},  {"swap", emu::FAULT_SWAP}, {"segv", emu::FAULT_SIGSEGV}, {"off", 0u}};
    for (auto [name, filter] : kinds)
        if (kind == name) {
            fault_break_ = filter;
            major_only_ = kind == "major";
            return filter ? "fault-break " + kind + ": continue stops at the next such fault, once it is handled\n"
                          : std::string("fault-break off\n");
        }
    return "emu: fault-break: expected any, anon, file, cow, major, swap, segv or off\n";
}

}  // namespace gdbstub
