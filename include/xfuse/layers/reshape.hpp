// Reshape<D0, D1, D2, D3, Name>: Keras' Reshape(target_shape), the sample's values in row-major
// order laid out in a new shape of the same size. Up to four axes; unused trailing ones are 0;
// one axis may be -1, Keras' "whatever size makes the total match".
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>

#include "../core/fixed_string.hpp"
#include "relayout_layer.hpp"

namespace xfuse {

namespace detail {

// The target shape with -1 resolved against `size`; all zeros when it cannot be.
template <int... D>
constexpr auto reshape_dims(std::size_t size) {
    constexpr std::size_t rank = ((D != 0) + ...);
    std::array<std::size_t, rank> dims{};
    std::size_t known = 1, i = 0, unknown = rank;
    for (int d : {D...}) {
        if (d == 0)
            continue;
        if (d == -1)
            unknown = i;
        else
            known *= std::size_t(d);
        dims[i++] = d == -1 ? 0 : std::size_t(d);
    }
    if (unknown < rank)
        dims[unknown] = size % known == 0 ? size / known : 0;
    return dims;
}

template <int... D>
constexpr bool reshape_target_valid() {
    int unknown = 0;
    bool positive = true, gap = false, seen_zero = false;
    for (int d : {D...}) {
        unknown += d == -1;
        positive = positive && d >= -1;
        gap = gap || (seen_zero && d != 0);
        seen_zero = seen_zero || d == 0;
    }
    return unknown <= 1 && positive && !gap;
}

}  // namespace detail

template <int D0, int D1 = 0, int D2 = 0, int D3 = 0, fixed_string Name = "",
          class Tag = decltype([] {})>
struct Reshape : detail::relayout_layer<Reshape<D0, D1, D2, D3, Name, Tag>> {
    static_assert(D0 != 0 && detail::reshape_target_valid<D0, D1, D2, D3>(),
                  "xfuse::Reshape: the target shape lists positive sizes in order, with no gap, "
                  "and at most one -1");

    static constexpr std::string_view class_name = "Reshape";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    struct rule {
        static constexpr std::size_t size = only_input_t<In...>::size;
        static constexpr auto dims = detail::reshape_dims<D0, D1, D2, D3>(size);
        static constexpr bool fits = [] {
            std::size_t n = 1;
            for (std::size_t d : dims)
                n *= d;
            return n == size;
        }();
        static_assert(fits,
                      "xfuse::Reshape: the target shape must hold exactly the input's values "
                      "(its sizes multiply to the input's size)");
        using type = shape_from_array_t<dims>;
    };
    template <Shape... In>
    using output_shape = typename rule<In...>::type;
};

}  // namespace xfuse
