// Flatten<Name>: Keras' Flatten, a (d1, ..., dk) sample becomes (d1 * ... * dk), its values in
// row-major order.
#pragma once

#include <cstddef>
#include <string_view>
#include <tuple>

#include "../core/fixed_string.hpp"
#include "relayout_layer.hpp"

namespace xfuse {

template <fixed_string Name = "", class Tag = decltype([] {})>
struct Flatten : detail::relayout_layer<Flatten<Name, Tag>> {
    static constexpr std::string_view class_name = "Flatten";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    struct rule {
        static_assert(sizeof...(In) == 1, "xfuse::Flatten takes exactly one input tensor");
        using type = shape<std::tuple_element_t<0, std::tuple<In..., shape<1>>>::size>;
    };
    template <Shape... In>
    using output_shape = typename rule<In...>::type;
};

}  // namespace xfuse
