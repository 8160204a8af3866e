// The drawing surface: SDL2 + Dear ImGui 1.86, in a real window or headless (a software
// renderer on an in-memory surface, pixel-deterministic). The only file that calls ImGui's
// backends, whose API changed in 1.87 and 1.89 (UI.md trap 4).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct SDL_Window;
struct SDL_Renderer;
struct SDL_Surface;
struct SDL_Texture;
union SDL_Event;

namespace ui {

// A streaming RGBA texture (one texel per frame of RAM for the frame map).
class Texture {
public:
    Texture(SDL_Renderer* r, int w, int h);
    ~Texture();
    Texture(const Texture&) = delete;
    Texture& operator=(const Texture&) = delete;
    void update(const std::vector<uint32_t>& rgba);  // w*h texels, 0xAABBGGRR
    void* id() const { return tex_; }                // ImTextureID
    int width() const { return w_; }
    int height() const { return h_; }

private:
    SDL_Texture* tex_ = nullptr;
    int w_, h_;
};

class Backend {
public:
    // A window of w x h; nullptr and a message when there is no display.
    static std::unique_ptr<Backend> window(int w, int h, std::string& error);
    // An in-memory surface of w x h with no display at all.
    static std::unique_ptr<Backend> headless(int w, int h, std::string& error);
    ~Backend();

    // Handles pending events (window mode); false when the user closed the window.
    // wait_ms > 0 blocks up to that long for the first event (a paused view sleeps here);
    // `had_events` says whether any arrived.
    bool poll_events(int wait_ms, bool& had_events);
    void begin_frame(float dt);
    void end_frame();  // renders and presents
    // Window mode: keep the next frame's pixels for screenshot() (a read-back costs time).
    void capture_next_frame() { capture_ = true; }
    // Writes the last rendered frame as a PNG; false on failure.
    bool screenshot(const std::string& path);
    // Headless input: where the mouse is and whether its left button is down.
    void set_mouse(float x, float y, bool down);
    std::unique_ptr<Texture> make_texture(int w, int h);
    bool headless() const { return surface_ != nullptr; }
    int width() const { return w_; }
    int height() const { return h_; }

private:
    Backend() = default;
    void init_imgui();
    SDL_Window* window_ = nullptr;
    SDL_Renderer* renderer_ = nullptr;
    SDL_Surface* surface_ = nullptr;  // headless target
    int w_ = 0, h_ = 0;
    float mouse_x_ = -1, mouse_y_ = -1;  // from SDL_MOUSEMOTION (UI.md trap 2)
    bool mouse_down_ = false;
    bool capture_ = false;
    std::vector<uint32_t> last_pixels_;  // window mode: read back before present
};

}  // namespace ui
