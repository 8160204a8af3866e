// Which LRU list a page belongs on, and the list moves that keep lruvec's counts true
// (Linux include/linux/mm_inline.h).
#pragma once
#include "guestos/include/mmzone.h"
#include "guestos/include/page.h"

namespace guestos {

// File-backed pages that are not swap-backed go on the file lists; anon and shmem on anon.
inline bool page_is_file_lru(const page& p) { return !(p.flags & (PG_swapbacked | PG_anon)); }
// The inactive list of the page's type (page_lru_base_type).
inline lru_list page_lru_base_type(const page& p) {
    return page_is_file_lru(p) ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON;
}
// The list the page's flags say it belongs on (page_lru).
inline lru_list page_lru(const page& p) {
    if (p.flags & PG_unevictable) return LRU_UNEVICTABLE;
    return static_cast<lru_list>(page_lru_base_type(p) + ((p.flags & PG_active) ? LRU_ACTIVE : 0));
}

inline uint32_t page_pfn(const lruvec& lv, const page& p) { return static_cast<uint32_t>(&p - lv.mem_map); }

// Puts the page at the head of its list (lruvec_add_folio).
inline void add_page_to_lru_list(lruvec& lv, page& p) {
    const lru_list l = page_lru(p);
    list_add(lv.mem_map, lv.lists[l], page_pfn(lv, p));
    ++lv.nr_pages[l];
}
// Puts the page at the tail of its list, next in line for reclaim (lruvec_add_folio_tail).
inline void add_page_to_lru_list_tail(lruvec& lv, page& p) {
    const lru_list l = page_lru(p);
    list_add_tail(lv.mem_map, lv.lists[l], page_pfn(lv, p));
    ++lv.nr_pages[l];
}
// Takes the page off the list its flags name (lruvec_del_folio).
inline void del_page_from_lru_list(lruvec& lv, page& p) {
    const lru_list l = page_lru(p);
    list_del(lv.mem_map, lv.lists[l], page_pfn(lv, p));
    --lv.nr_pages[l];
}

}  // namespace guestos
