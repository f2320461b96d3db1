// Moving samples between the user's xtensor containers and xfuse's padded buffers, with the
// run-time checks that name the input and both shapes.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xtensor.hpp>

#include "../core/config.hpp"
#include "../core/errors.hpp"
#include "../core/shape.hpp"
#include "../core/type_list.hpp"
#include "../exec/padded_rows.hpp"

namespace xfuse::detail {

// A sample of shape S as a fixed-size xtensor (no heap).
template <Shape S, class Dims = std::make_index_sequence<S::rank>>
struct fixed_sample;
template <Shape S, std::size_t... I>
struct fixed_sample<S, std::index_sequence<I...>> {
    using type = xt::xtensor_fixed<float, xt::xshape<S::dims[I]...>>;
};
template <Shape S>
using fixed_sample_t = typename fixed_sample<S>::type;

template <class Samples, class Inputs>
inline constexpr bool are_samples_of = false;
template <class... Samples, class... Inputs>
requires(sizeof...(Samples) ==
         sizeof...(Inputs)) inline constexpr bool are_samples_of<type_list<Samples...>,
                                                                 type_list<Inputs...>> =
    (std::is_same_v<Samples, fixed_sample_t<typename Inputs::shape_type>> && ...);

// A batch of shape S: one more axis, the samples.
template <Shape S>
using batch_t = xt::xtensor<float, S::rank + 1>;

// Containers of float laid out row-major are read in place; anything else (another value type,
// a view, a column-major array) is evaluated once into one.
template <class E>
constexpr bool is_row_major_float_container() {
    if constexpr (std::is_base_of_v<xt::xcontainer<E>, E>)
        return std::is_same_v<typename E::value_type, float> &&
               E::static_layout == xt::layout_type::row_major;
    else
        return false;
}

template <class E>
decltype(auto) row_major_floats(const E& e) {
    if constexpr (is_row_major_float_container<E>())
        return (e);
    else
        return xt::xarray<float>(xt::cast<float>(e));
}

// The one sample count of several inputs' batches, or std::invalid_argument naming the two
// inputs that differ.
template <std::size_t N>
std::size_t common_samples(std::string_view what, const std::array<std::string_view, N>& names,
                           const std::array<std::size_t, N>& samples) {
    for (std::size_t i = 1; i < N; ++i)
        if (samples[i] != samples[0])
            throw std::invalid_argument(
                "xfuse: " + std::string(what) + ": inputs '" + std::string(names[0]) + "' and '" +
                std::string(names[i]) + "' have different numbers of samples (" +
                std::to_string(samples[0]) + " vs " + std::to_string(samples[i]) + ")");
    return samples[0];
}

// The number of samples in a batch for an input of shape S, or std::invalid_argument.
template <Shape S, class E>
std::size_t checked_samples(std::string_view what, std::string_view input, const E& batch) {
    bool ok = batch.dimension() == S::rank + 1;
    for (std::size_t i = 0; ok && i < S::rank; ++i)
        ok = batch.shape()[i + 1] == S::dims[i];
    if (!ok)
        throw_shape_mismatch(std::string(what) + " input '" + std::string(input) + "'",
                             shape_string<S>(), actual_shape_string(batch));
    if (batch.shape()[0] == 0)
        throw std::invalid_argument("xfuse: " + std::string(what) + " input '" +
                                    std::string(input) + "' has no samples: shape " +
                                    actual_shape_string(batch));
    return batch.shape()[0];
}

}  // namespace xfuse::detail
