// The CPU's timer (a local APIC timer in one-shot mode): a host thread that, at the
// programmed CLOCK_MONOTONIC deadline, interrupts the running guest through a callback
// (uc_emu_stop, which Unicorn allows from another thread) and keeps interrupting until the
// CPU takes the interrupt: a stop that lands between two runs of the engine is lost.
#pragma once
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace emu {

class LapicTimer {
public:
    explicit LapicTimer(std::function<void()> interrupt) : interrupt_(std::move(interrupt)) {}
    ~LapicTimer();
    LapicTimer(const LapicTimer&) = delete;
    LapicTimer& operator=(const LapicTimer&) = delete;

    // Arms the timer for `deadline` (CLOCK_MONOTONIC ns) or disarms it, and acknowledges an
    // interrupt already raised. The thread starts at the first deadline.
    void program(std::optional<int64_t> deadline);
    // The timer fired since the last call: the CPU takes the interrupt (main thread).
    bool take_interrupt() { return fired_.exchange(false); }

private:
    void run();

    std::function<void()> interrupt_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<int64_t> deadline_;  // guarded by mu_
    // The deadline the thread sleeps until (INT64_MAX: none; INT64_MIN: it is interrupting the
    // CPU and must hear of any change), guarded by mu_. A later deadline needs no wake-up: the
    // thread wakes at the earlier one and sleeps again (a context switch reprograms the timer
    // every time, and waking the thread each time cost a host switch or two).
    int64_t sleeping_until_ = INT64_MAX;
    bool shutdown_ = false;  // guarded by mu_
    std::atomic<bool> fired_{false};
    std::thread thread_;
};

}  // namespace emu
