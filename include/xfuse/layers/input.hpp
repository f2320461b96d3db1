// Input<D...>: a model's entry point, Keras' InputLayer. It is both a layer and its only
// symbolic tensor. Up to four sample axes; unused trailing parameters are 0 (no axis).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "../core/fixed_string.hpp"
#include "../core/shape.hpp"
#include "../core/type_list.hpp"
#include "layer.hpp"

namespace xfuse {

namespace detail {

inline constexpr std::size_t no_axis = 0;

template <std::size_t... D>
constexpr auto present_axes() {
    constexpr std::size_t rank = ((D != no_axis) + ...);
    std::array<std::size_t, rank> dims{};
    std::size_t i = 0;
    for (std::size_t d : {D...})
        if (d != no_axis)
            dims[i++] = d;
    return dims;
}

}  // namespace detail

// The defaulted Tag makes every written `Input<10>` a distinct input (see docs/identity.md).
template <std::size_t D0, std::size_t D1 = detail::no_axis, std::size_t D2 = detail::no_axis,
          std::size_t D3 = detail::no_axis, class Tag = decltype([] {})>
struct Input {
    static_assert(D0 > 0, "xfuse::Input: every axis needs a positive size");
    static_assert(!(D1 == 0 && D2 != 0) && !(D2 == 0 && D3 != 0),
                  "xfuse::Input: axes are given in order, with no gap");

    using layer_type = Input;
    using inputs = type_list<>;
    using shape_type = shape_from_array_t<detail::present_axes<D0, D1, D2, D3>()>;

    static constexpr std::string_view class_name = "InputLayer";
    static constexpr std::string_view name = "";

    template <Shape...>
    static constexpr std::array<weight_spec, 0> weights{};
};

// Input with an explicit name, as keras.Input(shape=..., name="features").
template <fixed_string Name, std::size_t D0, std::size_t D1 = detail::no_axis,
          std::size_t D2 = detail::no_axis, std::size_t D3 = detail::no_axis,
          class Tag = decltype([] {})>
struct NamedInput : Input<D0, D1, D2, D3, Tag> {
    using layer_type = NamedInput;
    static constexpr std::string_view name = Name.view();
};

}  // namespace xfuse
