// DOT text to a picture with Graphviz's library (gvc, the dot layout), not its command: the
// picture is rendered in memory, then written atomically, so a failed render leaves no file.
// Needs the CMake target xfuse::plot.
#pragma once

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "atomic_file.hpp"

namespace xfuse::io {

namespace detail {

// The format a file name asks for: its extension without the dot, "png" without one (as
// Keras' plot_model).
inline std::string picture_format(const std::filesystem::path& path) {
    const std::string extension = path.extension().string();
    return extension.empty() ? "png" : extension.substr(1);
}

// Graphviz keeps global state (its error handler among it) and is not thread-safe: renders take
// turns, and what it would print to stderr is collected into the exception's message instead.
struct graphviz_session {
    static std::string& messages() {
        static std::string text;
        return text;
    }
    static int collect(char* message) {
        messages() += message;
        return 0;
    }

    std::lock_guard<std::mutex> lock{mutex()};
    agusererrf previous = (messages().clear(), agseterrf(&collect));
    ~graphviz_session() { agseterrf(previous); }

  private:
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }
};

// One Graphviz context for the process, made on first use and never freed. Its text-layout
// plugin (pango) caches a pointer to the last font name it measured, which lives in the
// context's font table: a context freed and made again would leave the next layout reading
// freed memory. Renders take turns (graphviz_session), so one context serves every thread.
inline GVC_t* graphviz_context() {
    static GVC_t* const context = gvContext();
    return context;
}

}  // namespace detail

// Lays out `dot` and writes it to `path` in the format of its extension (png, svg, pdf, ...
// whatever the installed Graphviz renders). Throws std::invalid_argument for DOT that does
// not parse or a format Graphviz does not know, and std::system_error if the file cannot be
// written; `path` is unchanged then.
inline void render_dot(const std::string& dot, const std::filesystem::path& path) {
    const std::string format = detail::picture_format(path);
    const detail::graphviz_session session;
    GVC_t* const context = detail::graphviz_context();
    if (!context)
        throw std::runtime_error("xfuse::render_dot: Graphviz could not start");
    const std::unique_ptr<Agraph_t, decltype(&agclose)> graph(agmemread(dot.c_str()), &agclose);
    if (!graph)
        throw std::invalid_argument("xfuse::render_dot: Graphviz cannot read the DOT text: " +
                                    detail::graphviz_session::messages());
    if (gvLayout(context, graph.get(), "dot") != 0)
        throw std::runtime_error("xfuse::render_dot: Graphviz's dot layout failed");
    char* data = nullptr;
    unsigned int length = 0;
    const int rendered = gvRenderData(context, graph.get(), format.c_str(), &data, &length);
    std::string bytes = rendered == 0 && data ? std::string(data, length) : std::string();
    gvFreeRenderData(data);
    gvFreeLayout(context, graph.get());
    if (rendered != 0)
        throw std::invalid_argument("xfuse::render_dot: Graphviz cannot render format '" + format +
                                    "' (for '" + path.string() +
                                    "'): " + detail::graphviz_session::messages());
    write_file_atomically(path, bytes);
}

}  // namespace xfuse::io
