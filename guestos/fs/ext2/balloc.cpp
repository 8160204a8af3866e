// Block allocation (fs/ext2/balloc.c): the block bitmaps, goal-directed. (Linux's
// reservation windows are left out: one writer at a time gets its blocks in a row anyway,
// each next block's goal being the one after the last.)
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "guestos/fs/ext2/ext2.h"
#include "guestos/include/cred.h"

namespace guestos::ext2 {

namespace {

bool test_bit(const uint8_t* map, uint64_t bit) { return map[bit >> 3] & (1u << (bit & 7)); }
void set_bit(uint8_t* map, uint64_t bit) { map[bit >> 3] |= uint8_t(1u << (bit & 7)); }
void clear_bit(uint8_t* map, uint64_t bit) { map[bit >> 3] &= uint8_t(~(1u << (bit & 7))); }

// The first clear bit in [from, end), or end (find_next_zero_bit).
uint64_t find_next_zero_bit(const uint8_t* map, uint64_t end, uint64_t from) {
    for (uint64_t b = from; b < end; b++) {
        if ((b & 7) == 0 && b + 8 <= end && map[b >> 3] == 0xff) {
            b += 7;
            continue;
        }
        if (!test_bit(map, b)) return b;
    }
    return end;
}

}  // namespace

uint32_t Ext2Fs::group_first_block(uint32_t group) const {
    return sb_.s_first_data_block + group * sb_.s_blocks_per_group;
}

uint64_t Ext2Fs::count_free_blocks() const {
    uint64_t n = 0;
    for (const auto& gd : group_desc_) n += gd.bg_free_blocks_count;
    return n;
}

ErrorOr<buffer_head*> Ext2Fs::read_block_bitmap(uint32_t g) {
    TRY(check_group_desc(g, "read_block_bitmap"));
    const ext2_group_desc& gd = group_desc_[g];
    buffer_head* bh = TRY(bread(gd.bg_block_bitmap));
    if (bh->verified) return bh;  // checked when it was read; emu's own changes since are trusted
    const uint8_t* map = bh->b_data.data();
    const uint64_t first = group_first_block(g);
    // ext2_valid_block_bitmap: the bitmaps' bits, then the inode table's, in that order.
    for (uint64_t b : {uint64_t(gd.bg_block_bitmap), uint64_t(gd.bg_inode_bitmap)})
        if (!test_bit(map, b - first))
            return ext2_error("read_block_bitmap",
                              "Invalid block bitmap - block_group = " + dec(g) + ", block = " + dec(b));
    const uint64_t table = gd.bg_inode_table - first;
    if (find_next_zero_bit(map, table + itb_per_group_, table) < table + itb_per_group_)
        return ext2_error("read_block_bitmap",
                          "Invalid block bitmap - block_group = " + dec(g) + ", block = " + dec(gd.bg_inode_table));
    bh->verified = true;  // set_buffer_verified
    return bh;
}

ErrorOr<int64_t> Ext2Fs::try_to_allocate(uint32_t g, int64_t goal, uint32_t* count) {
    auto bh = TRY(read_block_bitmap(g));
    uint8_t* map = bh->b_data.data();
    // The group's blocks; the last group may be shorter than the bitmap.
    const uint64_t end =
        std::min<uint64_t>(sb_.s_blocks_per_group, uint64_t(sb_.s_blocks_count) - group_first_block(g));
    uint64_t bit;
    if (goal >= 0 && uint64_t(goal) < end) {
        bit = find_next_zero_bit(map, end, uint64_t(goal));  // the goal, or the first free after it
    } else {
        // No goal: a whole free byte first, for room to grow, backed up over free blocks
        // just before it (find_next_usable_block), else any free block.
        bit = end;
        for (uint64_t b = 0; b + 8 <= end; b += 8)
            if (map[b >> 3] == 0) {
                bit = b;
                break;
            }
        if (bit == end) bit = find_next_zero_bit(map, end, 0);
        for (int i = 0; i < 7 && bit < end && bit > 0 && !test_bit(map, bit - 1); i++) bit--;
    }
    if (bit == end) return int64_t(-1);
    uint32_t n = 0;
    while (n < *count && bit + n < end && !test_bit(map, bit + n)) set_bit(map, bit + n++);
    bh_.mark_buffer_dirty(*bh);
    *count = n;
    return int64_t(bit);
}

ErrorOr<uint32_t> Ext2Fs::new_blocks(uint32_t goal, uint32_t* count) {
    // ext2_has_free_blocks: the reserved blocks are root's.
    const uint64_t free = count_free_blocks();
    if (free == 0 || (free < uint64_t(sb_.s_r_blocks_count) + 1 && !capable(CAP_SYS_RESOURCE_) &&
                      current_cred().fsuid != sb_.s_def_resuid && current_cred().fsgid != sb_.s_def_resgid))
        return Error::from_errno(ENOSPC, "ext2: no free blocks");
    if (goal < sb_.s_first_data_block || goal >= sb_.s_blocks_count) goal = sb_.s_first_data_block;
    const uint32_t ngroups = groups_count();
    uint32_t g = (goal - sb_.s_first_data_block) / sb_.s_blocks_per_group;
    int64_t grp_goal = int64_t((goal - sb_.s_first_data_block) % sb_.s_blocks_per_group);
    // The goal's group from the goal, then every group in turn from its start, ending
    // with the goal's group again from its start.
    for (uint32_t tries = 0; tries <= ngroups; tries++) {
        if (group_desc_[g].bg_free_blocks_count) {
            uint32_t n = *count;
            auto bit = TRY(try_to_allocate(g, grp_goal, &n));
            if (bit >= 0) {
                const uint32_t block = group_first_block(g) + uint32_t(bit);
                // A block of the group's own metadata would be a corrupt bitmap (Linux's
                // "Allocating block in system zone"): refuse rather than overwrite it.
                const auto& gd = group_desc_[g];
                if ((block <= gd.bg_block_bitmap && gd.bg_block_bitmap < block + n) ||
                    (block <= gd.bg_inode_bitmap && gd.bg_inode_bitmap < block + n) ||
                    (block < gd.bg_inode_table + itb_per_group_ && gd.bg_inode_table < block + n))
                    return ext2_error("ext2_new_blocks", "Allocating block in system zone - blocks from " + dec(block) +
                                                             ", length " + dec(n));
                group_desc_[g].bg_free_blocks_count = uint16_t(gd.bg_free_blocks_count - n);
                group_desc_dirty(g);
                *count = n;
                return block;
            }
        }
        g = (g + 1) % ngroups;
        grp_goal = -1;
    }
    return Error::from_errno(ENOSPC, "ext2: no free blocks");
}

void Ext2Fs::free_blocks(uint32_t block, uint32_t count) {
    for (uint32_t b = block; b < block + count; b++) {
        if (!block_in_fs(b)) continue;
        bh_.bforget(b);
        const uint32_t g = (b - sb_.s_first_data_block) / sb_.s_blocks_per_group;
        auto bh = read_block_bitmap(g);
        if (bh.is_error()) continue;
        uint8_t* map = bh.value()->b_data.data();
        const uint64_t bit = (b - sb_.s_first_data_block) % sb_.s_blocks_per_group;
        if (!test_bit(map, bit)) {
            std::fprintf(stderr, "EXT2-fs: ext2_free_blocks: bit already cleared for block %u\n", b);
            continue;
        }
        clear_bit(map, bit);
        bh_.mark_buffer_dirty(*bh.value());
        group_desc_[g].bg_free_blocks_count++;
        group_desc_dirty(g);
    }
}

}  // namespace guestos::ext2
