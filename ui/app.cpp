// The view's main loops: a window with the machine on a worker thread, or headless with a
// script on one thread.
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "ui/backend.h"
#include "ui/panel.h"
#include "ui/script.h"
#include "ui/ui.h"

namespace ui {

namespace {

// The machine on its own thread, so that drawing never holds the guest up: commands go in,
// snapshots come out. While a command runs, request_refresh() stops the guest at the next
// safe point for a snapshot and lets it run on.
class Worker {
public:
    Worker(Session& s, const Selection& sel) : session_(s), sel_(sel) {
        latest_ = std::make_shared<Snapshot>(session_.snapshot(sel_, false));
        thread_ = std::thread([this] { loop(); });
    }
    ~Worker() {
        {
            std::lock_guard l(m_);
            quit_ = true;
        }
        session_.pause();
        cv_.notify_all();
        thread_.join();
    }
    void post(const Command& c) {
        std::lock_guard l(m_);
        queue_.push_back(c);
        user_pause_ = false;
        cv_.notify_all();
    }
    void pause() {
        {
            std::lock_guard l(m_);
            user_pause_ = true;
            queue_.clear();
        }
        session_.pause();
    }
    void reselect(const Selection& sel) {
        std::lock_guard l(m_);
        sel_ = sel;
        reselect_ = true;
        cv_.notify_all();
    }
    void request_refresh() {
        if (busy_) session_.pause();
    }
    // A command is running or waiting to.
    bool busy() {
        std::lock_guard l(m_);
        return busy_ || !queue_.empty();
    }
    // What taking snapshots has cost the machine's thread so far.
    ViewState::Cost snapshot_cost() {
        std::lock_guard l(m_);
        return snapshot_cost_;
    }
    // The newest snapshot if it is newer than `have`.
    std::shared_ptr<const Snapshot> take(uint64_t have) {
        std::lock_guard l(m_);
        return latest_ && latest_->generation > have ? latest_ : nullptr;
    }

private:
    void publish(bool running) {
        Selection sel;
        {
            std::lock_guard l(m_);
            sel = sel_;
            reselect_ = false;
        }
        const auto start = std::chrono::steady_clock::now();
        auto s = std::make_shared<Snapshot>(session_.snapshot(sel, running));
        std::lock_guard l(m_);
        snapshot_cost_.add(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        latest_ = std::move(s);
    }
    void loop() {
        std::unique_lock l(m_);
        while (true) {
            cv_.wait(l, [&] { return quit_ || !queue_.empty() || reselect_; });
            if (quit_) return;
            if (queue_.empty()) {
                l.unlock();
                publish(false);
                l.lock();
                continue;
            }
            Command c = queue_.front();
            queue_.pop_front();
            busy_ = true;
            l.unlock();
            while (true) {
                const emu::Stop stop = session_.execute(c);
                bool user_pause;
                {
                    std::lock_guard g(m_);
                    user_pause = user_pause_ || quit_;
                }
                if (stop.reason != emu::StopReason::Paused || user_pause) break;
                publish(true);  // a refresh while running: show it and run on
            }
            busy_ = false;
            publish(false);
            l.lock();
        }
    }

    Session& session_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<Command> queue_;
    Selection sel_;
    bool reselect_ = false, quit_ = false, user_pause_ = false;
    std::atomic<bool> busy_{false};
    std::shared_ptr<const Snapshot> latest_;
    ViewState::Cost snapshot_cost_;
    std::thread thread_;
};

// The view's state as JSON: what tests check and where they click.
std::string state_json(const Snapshot& s, const ViewState& v) {
    nlohmann::json frames = nlohmann::json::object();
    for (unsigned i = 0; i < inspect::NR_FRAME_USES; ++i)
        frames[inspect::frame_use_name(static_cast<inspect::FrameUse>(i))] = s.frames.count[i];
    nlohmann::json j = {{"generation", s.generation},
                        {"running", v.running},
                        {"exited", s.exited},
                        {"stop", emu::stop_reason_name(s.stop.reason)},
                        {"detail", s.stop.detail},
                        {"pc", s.stop.pc},
                        {"total_faults", s.total_faults},
                        {"faults_listed", s.faults.size()},
                        {"frames", frames},
                        {"changed_frames", s.changed_frames.size()},
                        {"step_fault_button", v.step_fault_button},
                        {"map_rect", v.map_rect}};
    for (auto [name, c] : {std::pair{"frame_ms", &v.frame_cost}, std::pair{"frame_map_ms", &v.map_cost},
                           std::pair{"snapshot_ms", &v.snapshot_cost}})
        j["cost"][name] = {{"count", c->n}, {"mean", c->n ? c->ms_sum / c->n : 0.0}, {"max", c->ms_max}};
    j["files"] = nlohmann::json::array();
    for (const inspect::FileCache& f : s.files) {
        nlohmann::json ra = nlohmann::json::array();
        for (const inspect::RaWindow& w : f.ra)
            ra.push_back({{"start", w.start},
                          {"size", w.size},
                          {"async_size", w.async_size},
                          {"ra_pages", w.ra_pages},
                          {"random", w.random}});
        j["files"].push_back({{"path", f.path}, {"cached", f.cached}, {"ra", ra}, {"last_ra", f.last_ra}});
    }
    if (s.sel.va) j["selected_va"] = *s.sel.va;
    if (s.sel.pfn) j["selected_pfn"] = *s.sel.pfn;
    return j.dump(1);
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text << "\n";
}

// Renders one frame of the view.
void draw_frame(Backend& be, const Snapshot& now, const Snapshot* before, ViewState& view, float dt) {
    const auto start = std::chrono::steady_clock::now();
    be.begin_frame(dt);
    draw_panels(now, before, view);
    be.end_frame();
    view.frame_cost.add(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}

// Reads a script file; prints the error and returns false when it cannot be used.
bool load_script(const std::string& path, std::vector<ScriptAction>& out) {
    std::ifstream f(path);
    if (!f) {
        std::fprintf(stderr, "emu: --ui-script %s: cannot read it\n", path.c_str());
        return false;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    auto r = parse_script(ss.str());
    if (r.is_error()) {
        std::fprintf(stderr, "emu: --ui-script %s: %s\n", path.c_str(), r.error().message.c_str());
        return false;
    }
    out = r.release_value();
    return true;
}

// The command a script action runs on the machine, if it runs one.
std::optional<Command> command_of(const ScriptAction& a, Session& s, std::string& error) {
    Command c;
    switch (a.kind) {
    case ScriptAction::StepToFault:
        c.kind = Command::StepFault, c.count = a.count, c.filter = a.filter ? a.filter : emu::FAULT_TRUE;
        return c;
    case ScriptAction::Step: c.kind = Command::Step, c.count = a.count; return c;
    case ScriptAction::StepToSyscall: c.kind = Command::StepSyscall, c.count = a.count; return c;
    case ScriptAction::Continue: c.kind = Command::Continue; return c;
    case ScriptAction::RunTo:
    case ScriptAction::Watch: {
        auto addr = parse_address(a.arg, &s.debugger().symbols());
        if (!addr) {
            error = "script line " + std::to_string(a.line) + ": '" + a.arg + "' is no address or symbol";
            return std::nullopt;
        }
        c.kind = a.kind == ScriptAction::RunTo ? Command::RunTo : Command::WatchPage;
        c.address = *addr;
        return c;
    }
    default: return std::nullopt;
    }
}

// Applies an action that only changes the view; false with error when it cannot.
bool apply_view_action(const ScriptAction& a, Session& s, const Snapshot* snap, ViewState& view, std::string& error) {
    auto fail = [&](const std::string& why) {
        error = "script line " + std::to_string(a.line) + ": " + why;
        return false;
    };
    switch (a.kind) {
    case ScriptAction::Walk: {
        auto addr = parse_address(a.arg, &s.debugger().symbols());
        if (!addr) return fail("'" + a.arg + "' is no address or symbol");
        view.select_va(*addr);
        view.bring_to_front(Slot::Bottom, "walk");
        return true;
    }
    case ScriptAction::SelectFrame: {
        auto pfn = parse_address(a.arg);
        if (!pfn) return fail("'" + a.arg + "' is no frame number");
        view.select_pfn(*pfn);
        return true;
    }
    case ScriptAction::SelectFault: {
        if (!snap || a.count > snap->faults.size()) return fail("there is no fault " + std::to_string(a.count));
        const guestos::FaultEvent& e = snap->faults[a.count - 1];
        view.sel.fault_seq = e.seq;
        view.select_va(e.address.value);
        if (auto pfn = fault_pfn(e, s.task().mm ? s.task().mm->paging_mode : mmu::PagingMode::LongMode4))
            view.select_pfn(*pfn);
        return true;
    }
    case ScriptAction::SelectProcess: {
        if (!snap || std::none_of(snap->tasks.begin(), snap->tasks.end(), [&](const inspect::TaskInfo& t) {
                return t.pid == static_cast<int>(a.count) && t.mm_id;
            }))
            return fail("there is no process " + std::to_string(a.count) + " with an address space");
        view.select_pid(static_cast<int>(a.count));
        return true;
    }
    case ScriptAction::Panel: {
        for (const Panel& p : panels())
            if (a.arg == p.name) {
                view.bring_to_front(p.slot, p.name);
                return true;
            }
        return fail("no panel '" + a.arg + "' (panels: " + panel_names() + ")");
    }
    case ScriptAction::Hover: {
        view.backend->set_mouse(static_cast<float>(a.x), static_cast<float>(a.y), false);
        return true;
    }
    default: return true;
    }
}

// The machine for the view; null after printing why it could not be made.
std::unique_ptr<Session> open_session(const SessionConfig& cfg) {
    auto session = Session::create(cfg);
    if (!session.is_error()) return session.release_value();
    std::fprintf(stderr, "emu: %s\n", session.error().message.c_str());
    return nullptr;
}

int run_headless(const SessionConfig& cfg, const UiOptions& opts) {
    std::vector<ScriptAction> script;
    if (opts.script.empty()) {
        std::fprintf(stderr, "emu: --ui-headless needs --ui-script FILE\n");
        return 2;
    }
    if (!load_script(opts.script, script)) return 2;
    std::string err;
    auto be = Backend::headless(opts.width, opts.height, err);
    if (!be) {
        std::fprintf(stderr, "emu: cannot create the headless renderer: %s\n", err.c_str());
        return 1;
    }
    auto session = open_session(cfg);
    if (!session) return 1;
    Session& s = *session;
    ViewState view;
    view.backend = be.get();
    auto now = std::make_shared<Snapshot>(s.snapshot(view.sel, false));
    std::shared_ptr<Snapshot> before;
    auto refresh = [&] {
        before = now;
        now = std::make_shared<Snapshot>(s.snapshot(view.sel, false));
        view.selection_changed = false;
    };
    for (const ScriptAction& a : script) {
        if (a.kind == ScriptAction::Quit) break;
        std::string error;
        if (auto c = command_of(a, s, error)) {
            s.execute(*c);
            refresh();
            follow_stop(*now, view);
        } else if (!error.empty()) {
            std::fprintf(stderr, "emu: --ui-script %s: %s\n", opts.script.c_str(), error.c_str());
            return 2;
        } else if (!apply_view_action(a, s, now.get(), view, error)) {
            std::fprintf(stderr, "emu: --ui-script %s: %s\n", opts.script.c_str(), error.c_str());
            return 2;
        }
        if (view.selection_changed) {  // a new selection keeps the diff base of the last stop
            auto keep = before;
            refresh();
            before = keep;
        }
        if (a.kind == ScriptAction::Screenshot || a.kind == ScriptAction::Dump) {
            // Two frames: the first lays out tabs and sizes, the second draws them settled.
            draw_frame(*be, *now, before.get(), view, 1.0f / 30);
            draw_frame(*be, *now, before.get(), view, 1.0f / 30);
        }
        if (a.kind == ScriptAction::Screenshot) {
            const std::string path = (opts.screenshot_dir.empty() ? "." : opts.screenshot_dir) + "/" + a.arg + ".png";
            if (!be->screenshot(path)) {
                std::fprintf(stderr, "emu: cannot write %s\n", path.c_str());
                return 1;
            }
        }
        if (a.kind == ScriptAction::Dump) write_file(a.arg, state_json(*now, view));
    }
    if (!opts.state_file.empty()) write_file(opts.state_file, state_json(*now, view));
    return 0;
}

int run_window(const SessionConfig& cfg, const UiOptions& opts) {
    std::vector<ScriptAction> script;
    if (!opts.script.empty() && !load_script(opts.script, script)) return 2;
    std::string err;
    auto be = Backend::window(opts.width, opts.height, err);
    if (!be) {
        std::fprintf(stderr,
                     "emu: --ui needs a display (%s); without one use --ui-headless --ui-script FILE "
                     "--screenshot-dir DIR\n",
                     err.c_str());
        return 2;
    }
    auto session = open_session(cfg);
    if (!session) return 1;
    Session& s = *session;
    ViewState view;
    view.backend = be.get();
    Worker worker(s, view.sel);
    std::shared_ptr<const Snapshot> now, before;
    using clock = std::chrono::steady_clock;
    auto last_frame = clock::now(), last_refresh = clock::now();
    size_t next_action = 0;
    bool quit = false;
    uint64_t dumped = 0;
    int redraw = 2;  // frames still to draw: ImGui settles hover and layout a frame after input
    // While the guest runs, a snapshot 10 times a second (the frame map's pass over mem_map
    // and counters kept incrementally: about 1.5 ms at 1 GiB, taken from the guest); a frame
    // is drawn only when there is something new to show (a snapshot, input, a script
    // action), at most 30 a second.
    constexpr auto REFRESH = std::chrono::milliseconds(100), FRAME = std::chrono::milliseconds(33);
    while (!quit) {
        const bool busy = worker.busy();
        // Paused and unchanged: sleep until an event, drawing nothing (no CPU); running: wake
        // often enough to pick up each snapshot.
        bool events = false;
        const bool script_ready = next_action < script.size() && !busy;  // actions wait for the machine
        const int wait_ms = redraw || script_ready ? 0 : busy ? 5 : 250;
        if (!be->poll_events(wait_ms, events)) break;
        if (events) redraw = 2;
        if (auto snap = worker.take(now ? now->generation : 0)) {
            if (!snap->running || !before) before = now;
            now = snap;
            follow_stop(*now, view);
            redraw = std::max(redraw, 1);
        }
        if (!now) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            continue;
        }
        const auto t = clock::now();
        view.running = worker.busy();
        if (view.running && t - last_refresh > REFRESH) {
            worker.request_refresh();
            last_refresh = t;
        }
        if (!redraw && !script_ready) continue;
        redraw = std::max(0, redraw - 1);
        const float dt = std::chrono::duration<float>(t - last_frame).count();
        draw_frame(*be, *now, before.get(), view, dt);
        last_frame = t;
        if (!opts.state_file.empty() && now->generation != dumped) {
            write_file(opts.state_file, state_json(*now, view));
            dumped = now->generation;
        }
        for (const Command& c : view.commands) worker.post(c);
        view.commands.clear();
        if (std::exchange(view.pause_requested, false)) worker.pause();
        if (std::exchange(view.selection_changed, false)) worker.reselect(view.sel);
        // A script in a window (benchmarks, demos): the next action once the machine is idle.
        while (!worker.busy() && next_action < script.size() && now->generation > 0) {
            const ScriptAction& a = script[next_action++];
            std::string error;
            if (a.kind == ScriptAction::Quit) {
                quit = true;
            } else if (auto c = command_of(a, s, error)) {
                worker.post(*c);
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                break;
            } else if (a.kind == ScriptAction::Screenshot) {
                be->capture_next_frame();
                draw_frame(*be, *now, before.get(), view, dt);
                be->screenshot((opts.screenshot_dir.empty() ? "." : opts.screenshot_dir) + "/" + a.arg + ".png");
            } else if (a.kind == ScriptAction::Dump) {
                view.snapshot_cost = worker.snapshot_cost();
                write_file(a.arg, state_json(*now, view));
            } else {
                apply_view_action(a, s, now.get(), view, error);
            }
        }
        if (view.running) std::this_thread::sleep_until(last_frame + FRAME);  // at most 30 frames a second
    }
    return 0;
}

}  // namespace

int run_ui(const SessionConfig& cfg, const UiOptions& opts) {
    return opts.headless ? run_headless(cfg, opts) : run_window(cfg, opts);
}

}  // namespace ui
