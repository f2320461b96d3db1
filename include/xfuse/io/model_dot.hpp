// xf::to_dot(model, options): the model's graph in Graphviz's DOT language, drawn as Keras'
// plot_model draws it (keras.utils.model_to_dot of tf.keras 2.x): one record per layer in
// Keras' layer order, "name|Class" with show_layer_names, then input and output shapes with
// show_shapes, and an arrow from each layer to every layer it feeds.
//
//   std::cout << xf::to_dot(model, {.show_shapes = true});
//
// Input layers show list shapes ([(None, 10)]), a layer of several inputs the list of their
// shapes, a layer whose nodes in this model see different shapes "?" (Keras cannot name one
// shape there either). Node identifiers are the layer names, so the text is the same on every
// run. Rendering the text needs Graphviz: <xfuse/plot.hpp>'s plot_model.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/shape.hpp"
#include "../core/symbolic.hpp"
#include "../graph/layer_nodes.hpp"

namespace xfuse {

struct plot_options {
    bool show_shapes = false;
    bool show_layer_names = true;
    std::string rankdir = "TB";  // TB (top to bottom), LR, BT or RL
    int dpi = 96;
    bool show_layer_activations = false;  // "{Dense|relu}" for layers with an activation
};

namespace io::detail {

// A DOT identifier: as it is when Graphviz reads it so, quoted otherwise.
inline std::string dot_id(std::string_view name) {
    bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
    for (char c : name)
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '_');
    if (plain)
        return std::string(name);
    std::string quoted = "\"";
    for (char c : name)
        quoted += c == '"' || c == '\\' ? std::string{'\\', c} : std::string{c};
    return quoted + "\"";
}

// Text inside a record field: the characters that structure a record label are escaped.
inline std::string record_text(std::string_view text) {
    std::string escaped;
    for (char c : text) {
        if (c == '{' || c == '}' || c == '|' || c == '<' || c == '>' || c == '"' || c == '\\')
            escaped += '\\';
        escaped += c;
    }
    return escaped;
}

template <class Graph, std::size_t L>
std::string input_shape_text() {
    using layer = typename Graph::template layer_t<L>;
    return xfuse::detail::agreed_node_text<Graph, L>(
        []<class Node>() {
            if constexpr (InputTensor<layer>) {
                return "[" + shape_string<typename Node::shape_type>() + "]";
            } else {
                return []<class... In>(type_list<In...>) {
                    if constexpr (sizeof...(In) == 1)
                        return shape_string<typename In::shape_type...>();
                    std::string list = "[";
                    ((list +=
                      (list.size() > 1 ? ", " : "") + shape_string<typename In::shape_type>()),
                     ...);
                    return list + "]";
                }(typename Node::inputs{});
            }
        },
        "?");
}

template <class Layer>
std::string_view activation_name() {
    if constexpr (requires { Layer::activation_type::name; })
        return Layer::activation_type::name;
    else
        return {};
}

template <class Graph, std::size_t L>
std::string layer_label(const plot_options& options) {
    using layer = typename Graph::template layer_t<L>;
    std::string label = record_text(layer::class_name);
    if (options.show_layer_activations && !activation_name<layer>().empty())
        label = "{" + label + "|" + record_text(activation_name<layer>()) + "}";
    if (options.show_layer_names)
        label = record_text(Graph::names[L].view()) + "|" + label;
    if (options.show_shapes)
        label = "{" + label + "}|{input:|output:}|{{" + record_text(input_shape_text<Graph, L>()) +
                "}|{" + record_text(xfuse::detail::layer_output_shape_text<Graph, L>("?")) + "}}";
    return label;
}

inline void check_plot_options(const plot_options& options) {
    const std::string& r = options.rankdir;
    if (r != "TB" && r != "LR" && r != "BT" && r != "RL")
        throw std::invalid_argument("xfuse::to_dot: rankdir must be TB, LR, BT or RL, got '" + r +
                                    "'");
    if (options.dpi <= 0)
        throw std::invalid_argument("xfuse::to_dot: dpi must be positive, got " +
                                    std::to_string(options.dpi));
}

}  // namespace io::detail

template <class M>
requires requires {
    typename M::graph_type;
}
std::string to_dot(const M&, const plot_options& options = {}) {
    using Graph = typename M::graph_type;
    io::detail::check_plot_options(options);
    std::string dot = "digraph G {\nrankdir=" + options.rankdir +
                      ";\nconcentrate=true;\ndpi=" + std::to_string(options.dpi) +
                      ";\nnode [shape=record];\n";
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        ((dot += io::detail::dot_id(Graph::names[L].view()) + " [label=\"" +
                 io::detail::layer_label<Graph, L>(options) + "\"];\n"),
         ...);
    }
    (std::make_index_sequence<Graph::layer_count>{});
    // Edges in Keras' order: per layer, per node, per input; each pair of layers once.
    std::vector<std::pair<std::size_t, std::size_t>> edges;
    using topology = typename Graph::topology;
    for (std::size_t l = 0; l < Graph::layer_count; ++l)
        for (std::size_t n = 0; n < Graph::node_count; ++n)
            if (Graph::node_layer[n] == l)
                for (std::size_t i = 0; i < topology::fan_in[n]; ++i) {
                    const std::pair edge{Graph::node_layer[topology::node_inputs[n][i]], l};
                    if (std::find(edges.begin(), edges.end(), edge) == edges.end())
                        edges.push_back(edge);
                }
    for (const auto& [from, to] : edges)
        dot += io::detail::dot_id(Graph::names[from].view()) + " -> " +
               io::detail::dot_id(Graph::names[to].view()) + ";\n";
    return dot + "}\n";
}

}  // namespace xfuse
