#include "emu/lapic_timer.h"

#include <algorithm>
#include <chrono>

namespace emu {

LapicTimer::~LapicTimer() {
    {
        std::lock_guard lk(mu_);
        shutdown_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void LapicTimer::program(std::optional<int64_t> deadline) {
    bool wake;
    {
        std::lock_guard lk(mu_);
        deadline_ = deadline;
        fired_ = false;
        if (deadline && !thread_.joinable()) thread_ = std::thread([this] { run(); });
        wake = sleeping_until_ == INT64_MIN || (deadline && *deadline < sleeping_until_);
    }
    if (wake) cv_.notify_all();
}

void LapicTimer::run() {
    using namespace std::chrono;
    std::unique_lock lk(mu_);
    while (!shutdown_) {
        if (!deadline_) {
            sleeping_until_ = INT64_MAX;
            cv_.wait(lk);
            continue;
        }
        // steady_clock is CLOCK_MONOTONIC, the clock of the deadline.
        const steady_clock::time_point when{nanoseconds(*deadline_)};
        if (steady_clock::now() < when) {
            sleeping_until_ = *deadline_;
            cv_.wait_until(lk, when);
            continue;
        }
        deadline_.reset();
        fired_ = true;
        sleeping_until_ = INT64_MIN;
        // Interrupt until the CPU takes it or the timer is programmed anew, backing off so
        // a main thread busy elsewhere (a blocking host read) costs little.
        for (auto pause = milliseconds(1); fired_ && !shutdown_ && !deadline_;
             pause = std::min(pause * 2, milliseconds(64))) {
            lk.unlock();
            interrupt_();
            lk.lock();
            cv_.wait_for(lk, pause, [this] { return !fired_ || shutdown_ || deadline_.has_value(); });
        }
    }
}

}  // namespace emu
