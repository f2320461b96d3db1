// Keras' default layer names, computed at compile time: `dense`, `dense_1`, ... zero-based per
// snake_case class name, `input_1`, `input_2`, ... one-based for inputs (base_layer.py
// _init_set_name, input_layer.py). Explicit names are used verbatim and do not count.
//
// Keras numbers layers in creation order, which C++ types cannot see; xfuse numbers them in the
// model's layer order. The two agree whenever layers are created in the order the model lists
// them, as in the seed notebook. Sub-models number in their parent's order (see Model).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "../core/static_string.hpp"
#include "../core/symbolic.hpp"
#include "../core/type_list.hpp"

namespace xfuse::detail {

using layer_name = static_string<64>;

template <class... Layers>
constexpr std::array<layer_name, sizeof...(Layers)> default_names(type_list<Layers...>) {
    constexpr std::size_t n = sizeof...(Layers);
    constexpr std::array<std::string_view, n> explicit_names{std::string_view(Layers::name)...};
    constexpr std::array<bool, n> is_input{InputTensor<Layers>...};
    const std::array<layer_name, n> bases{
        (InputTensor<Layers> ? layer_name("input") : to_snake_case(Layers::class_name))...};
    std::array<layer_name, n> names{};
    for (std::size_t p = 0; p < n; ++p) {
        if (!explicit_names[p].empty()) {
            names[p] = layer_name(explicit_names[p]);
            continue;
        }
        std::size_t earlier = 0;
        for (std::size_t q = 0; q < p; ++q)
            if (explicit_names[q].empty() && bases[q].view() == bases[p].view())
                ++earlier;
        names[p] = bases[p];
        if (is_input[p])
            names[p].append("_").append_number(earlier + 1);
        else if (earlier != 0)
            names[p].append("_").append_number(earlier);
    }
    return names;
}

template <std::size_t N>
constexpr bool names_unique(const std::array<layer_name, N>& names) {
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = i + 1; j < N; ++j)
            if (names[i].view() == names[j].view())
                return false;
    return true;
}

// The layers a model names its layers by: its parent's (when built from another model's
// inputs()), then its own new ones.
template <class Root, class Own>
struct naming_order {
    using type = Own;
};
template <class... Root, class Own>
struct naming_order<type_list<Root...>, Own> {
    using type = typename append_unique<type_list<Root...>, Own>::type;
};

}  // namespace xfuse::detail
