// SDL2 + Dear ImGui 1.86 glue (UI.md: traps 1-8).
#include "ui/backend.h"

#include <SDL.h>
#include <imgui.h>
#include <imgui_impl_sdl.h>
#include <imgui_impl_sdlrenderer.h>
#include <stb_image_write.h>  // libstb exports stbi_write_png (trap 3: no IMPLEMENTATION here)

#include <cstdio>
#include <utility>
#include <sys/stat.h>

#include "ui/theme.h"

namespace ui {

Texture::Texture(SDL_Renderer* r, int w, int h) : w_(w), h_(h) {
    tex_ = SDL_CreateTexture(r, SDL_PIXELFORMAT_ABGR8888, SDL_TEXTUREACCESS_STREAMING, w, h);
    if (tex_) SDL_SetTextureScaleMode(tex_, SDL_ScaleModeNearest);
}

Texture::~Texture() {
    if (tex_) SDL_DestroyTexture(tex_);
}

void Texture::update(const std::vector<uint32_t>& rgba) {
    if (tex_ && rgba.size() >= static_cast<size_t>(w_) * h_) SDL_UpdateTexture(tex_, nullptr, rgba.data(), w_ * 4);
}

std::unique_ptr<Backend> Backend::window(int w, int h, std::string& error) {
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        error = SDL_GetError();
        return nullptr;
    }
    std::unique_ptr<Backend> b(new Backend());
    b->w_ = w, b->h_ = h;
    b->window_ = SDL_CreateWindow("emu: debugger view", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w, h,
                                  SDL_WINDOW_SHOWN);
    if (!b->window_) {
        error = SDL_GetError();
        return nullptr;
    }
    b->renderer_ = SDL_CreateRenderer(b->window_, -1, SDL_RENDERER_ACCELERATED);
    if (!b->renderer_) b->renderer_ = SDL_CreateRenderer(b->window_, -1, SDL_RENDERER_SOFTWARE);
    if (!b->renderer_) {
        error = SDL_GetError();
        return nullptr;
    }
    b->init_imgui();
    ImGui_ImplSDL2_InitForSDLRenderer(b->window_);
    ImGui_ImplSDLRenderer_Init(b->renderer_);
    return b;
}

std::unique_ptr<Backend> Backend::headless(int w, int h, std::string& error) {
    std::unique_ptr<Backend> b(new Backend());
    b->w_ = w, b->h_ = h;
    b->surface_ = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ABGR8888);
    if (b->surface_) b->renderer_ = SDL_CreateSoftwareRenderer(b->surface_);
    if (!b->renderer_) {
        error = SDL_GetError();
        return nullptr;
    }
    b->init_imgui();
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(static_cast<float>(w), static_cast<float>(h));
    ImGui_ImplSDLRenderer_Init(b->renderer_);
    return b;
}

void Backend::init_imgui() {
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // reproducible layouts (trap 6)
    apply_theme();
}

Backend::~Backend() {
    ImGui_ImplSDLRenderer_Shutdown();
    if (window_) ImGui_ImplSDL2_Shutdown();
    ImGui::DestroyContext();
    if (renderer_) SDL_DestroyRenderer(renderer_);
    if (surface_) SDL_FreeSurface(surface_);
    if (window_) {
        SDL_DestroyWindow(window_);
        SDL_Quit();
    }
}

bool Backend::poll_events(int wait_ms, bool& had_events) {
    had_events = false;
    if (!window_) return true;
    SDL_Event ev;
    bool open = true;
    bool have = wait_ms > 0 ? SDL_WaitEventTimeout(&ev, wait_ms) : SDL_PollEvent(&ev);
    while (have) {
        had_events = true;
        ImGui_ImplSDL2_ProcessEvent(&ev);
        if (ev.type == SDL_QUIT) open = false;
        if (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_CLOSE) open = false;
        if (ev.type == SDL_MOUSEMOTION)
            mouse_x_ = static_cast<float>(ev.motion.x), mouse_y_ = static_cast<float>(ev.motion.y);
        if (ev.type == SDL_MOUSEBUTTONDOWN || ev.type == SDL_MOUSEBUTTONUP)
            mouse_x_ = static_cast<float>(ev.button.x), mouse_y_ = static_cast<float>(ev.button.y);
        have = SDL_PollEvent(&ev);
    }
    return open;
}

void Backend::begin_frame(float dt) {
    ImGuiIO& io = ImGui::GetIO();
    if (window_) {
        ImGui_ImplSDLRenderer_NewFrame();
        ImGui_ImplSDL2_NewFrame();
        // The SDL2 backend asks SDL_GetGlobalMouseState, which synthetic (XTEST) motion never
        // refreshes: use the position from the events (trap 2).
        if (mouse_x_ >= 0) io.MousePos = ImVec2(mouse_x_, mouse_y_);
    } else {
        ImGui_ImplSDLRenderer_NewFrame();
        io.DisplaySize = ImVec2(static_cast<float>(w_), static_cast<float>(h_));
        io.MousePos = ImVec2(mouse_x_, mouse_y_);
        io.MouseDown[0] = mouse_down_;
    }
    io.DeltaTime = dt > 0 ? dt : 1.0f / 30;
    ImGui::NewFrame();
}

void Backend::end_frame() {
    ImGui::Render();
    SDL_SetRenderDrawColor(renderer_, 22, 24, 29, 255);
    SDL_RenderClear(renderer_);
    ImGui_ImplSDLRenderer_RenderDrawData(ImGui::GetDrawData());
    if (window_ && std::exchange(capture_, false)) {
        last_pixels_.resize(static_cast<size_t>(w_) * h_);  // read before present (trap 7)
        if (SDL_RenderReadPixels(renderer_, nullptr, SDL_PIXELFORMAT_ABGR8888, last_pixels_.data(), w_ * 4) != 0)
            last_pixels_.clear();
    }
    SDL_RenderPresent(renderer_);
}

bool Backend::screenshot(const std::string& path) {
    if (surface_) return stbi_write_png(path.c_str(), w_, h_, 4, surface_->pixels, surface_->pitch) != 0;
    if (last_pixels_.empty()) return false;
    return stbi_write_png(path.c_str(), w_, h_, 4, last_pixels_.data(), w_ * 4) != 0;
}

void Backend::set_mouse(float x, float y, bool down) { mouse_x_ = x, mouse_y_ = y, mouse_down_ = down; }

std::unique_ptr<Texture> Backend::make_texture(int w, int h) { return std::make_unique<Texture>(renderer_, w, h); }

}  // namespace ui
