// Static shapes of one sample (the batch axis is implicit, as Keras' `None`).
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "config.hpp"

namespace xfuse {

template <std::size_t... D>
struct shape {
    static_assert(sizeof...(D) >= 1, "xfuse::shape: a sample has at least one axis");
    static_assert(((D > 0) && ...), "xfuse::shape: every axis needs a positive size");

    static constexpr std::size_t rank = sizeof...(D);
    static constexpr std::array<std::size_t, rank> dims{D...};
    static constexpr std::size_t size = (D * ...);
    static constexpr std::size_t last = dims[rank - 1];
    // Rows of the last axis in one sample: every kernel works on rows of `last` features.
    static constexpr std::size_t rows = size / last;
    // A row is stored padded to whole SIMD registers, so kernels need no tail loop on load.
    static constexpr std::size_t row_stride = padded(last);
    // Floats one sample occupies in xfuse's own buffers.
    static constexpr std::size_t storage = rows * row_stride;
};

template <class T>
inline constexpr bool is_shape_v = false;
template <std::size_t... D>
inline constexpr bool is_shape_v<shape<D...>> = true;

template <class T>
concept Shape = is_shape_v<T>;

// Keras prints shapes as Python tuples with the batch axis first: (None, 5, 8).
template <Shape S>
std::string shape_string() {
    std::string text = "(None";
    for (std::size_t d : S::dims)
        text += ", " + std::to_string(d);
    return text + ")";
}

namespace detail {

// shape<D...> from a constexpr std::array of dimensions.
template <auto Dims, class Indices = std::make_index_sequence<Dims.size()>>
struct shape_from_array;
template <auto Dims, std::size_t... I>
struct shape_from_array<Dims, std::index_sequence<I...>> {
    using type = shape<Dims[I]...>;
};

}  // namespace detail

template <auto Dims>
using shape_from_array_t = typename detail::shape_from_array<Dims>::type;

namespace detail {
template <Shape S, std::size_t Last>
constexpr auto with_last_dims() {
    auto dims = S::dims;
    dims[S::rank - 1] = Last;
    return dims;
}
}  // namespace detail

// The same shape with its last axis replaced: what Dense produces.
template <Shape S, std::size_t Last>
using with_last_t = shape_from_array_t<detail::with_last_dims<S, Last>()>;

}  // namespace xfuse
