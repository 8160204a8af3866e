// The guest's clocks (kernel/time/timekeeping.c): CLOCK_MONOTONIC and the clocks at an offset
// from it are a function of the TSC, kept in the vDSO's data page ([vvar]) that every process
// maps, so that clock_gettime through the vDSO and through the system call agree to the
// nanosecond. They follow the host's clocks: the TSC's rate is calibrated against the host's
// CLOCK_MONOTONIC and slewed at each update (update_wall_time), never stepping back.
#pragma once
#include <time.h>

#include <cstdint>
#include <optional>

#include "guestos/kernel/time/time.h"

namespace guestos {

// The time of clock clk now, when the timekeeper answers it (the clocks the vDSO answers,
// once calibrated); nullopt for the host's clock (CPU-time clocks, before calibration).
std::optional<ktime_t> timekeeping_read(clockid_t clk);

// Takes a new base and adjusts the rate if the last update is old enough (update_wall_time).
void timekeeping_update();

// When the timekeeper next wants an update while the guest runs: the kernel programs its
// timer for it, so that a program that only reads the vDSO keeps following the host clock.
std::optional<ktime_t> timekeeping_next_update();

// Registers or drops a [vvar] data page (a host pointer into guest RAM) that each update
// writes. Every Kernel has one.
void timekeeping_add_vvar(uint8_t* page);
void timekeeping_remove_vvar(uint8_t* page);

}  // namespace guestos
