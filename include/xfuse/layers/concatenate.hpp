// Concatenate<Axis, Name>: joins tensors along one axis (Keras counts the batch axis as 0, so
// the default -1 is the last axis). Inputs keep Keras' order: [first || second || ...].
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

#include "../core/fixed_string.hpp"
#include "layer.hpp"

namespace xfuse {

namespace detail {

// Axis in sample coordinates, or rank when it names no sample axis.
template <std::size_t Rank>
constexpr std::size_t sample_axis(int keras_axis) {
    const int full_rank = static_cast<int>(Rank) + 1;
    const int axis = keras_axis < 0 ? full_rank + keras_axis : keras_axis;
    return axis >= 1 && axis < full_rank ? static_cast<std::size_t>(axis - 1) : Rank;
}

// The numbers sit in the template arguments so that the diagnostic shows them.
template <std::size_t FirstRank, std::size_t OtherRank>
constexpr bool concatenate_ranks_agree() {
    static_assert(FirstRank == OtherRank, "xfuse::Concatenate: all inputs need the same rank");
    return FirstRank == OtherRank;
}
template <std::size_t Axis, std::size_t FirstSize, std::size_t OtherSize>
constexpr bool concatenate_sizes_agree() {
    static_assert(FirstSize == OtherSize,
                  "xfuse::Concatenate: inputs must agree on every axis but the joined one");
    return FirstSize == OtherSize;
}

template <std::size_t Axis, Shape First, Shape Other>
constexpr bool concatenable() {
    if constexpr (!concatenate_ranks_agree<First::rank, Other::rank>()) {
        return false;
    } else {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            // Every term is instantiated, so the joined axis compares 0 with 0.
            return (concatenate_sizes_agree < I, I == Axis ? 0 : First::dims[I],
                    I == Axis ? 0 : Other::dims[I] > () && ...);
        }
        (std::make_index_sequence<First::rank>{});
    }
}

}  // namespace detail

// What a Concatenate-like layer declares by deriving from it: the Keras axis it joins along. The
// fused plan lets Dense layers write straight into their slices of it (exec/fusion_rules.hpp).
template <int Axis>
struct concatenate_kind {
    using layer_kind = concatenate_kind;
    static constexpr int axis = Axis;
};

template <int Axis = -1, fixed_string Name = "", class Tag = decltype([] {})>
struct Concatenate : layer<Concatenate<Axis, Name, Tag>>, concatenate_kind<Axis> {
    static constexpr std::string_view class_name = "Concatenate";
    static constexpr std::string_view name = Name.view();

    template <Shape First, Shape... Rest>
    struct rule {
        static constexpr std::size_t axis = detail::sample_axis<First::rank>(Axis);
        static_assert(axis < First::rank,
                      "xfuse::Concatenate: the axis must name a sample axis (not the batch)");
        static constexpr bool valid = (detail::concatenable<axis, First, Rest>() && ...);
        static_assert(valid);  // instantiates the checks above, whose messages name the sizes
        static constexpr auto dims = [] {
            auto d = First::dims;
            if (axis < First::rank)
                d[axis] = (First::dims[axis] + ... + Rest::dims[axis]);
            return d;
        }();
        using type = shape_from_array_t<dims>;
    };
    template <Shape... In>
    using output_shape = typename rule<In...>::type;

    template <Shape... In>
    static void forward(const float*, std::size_t samples,
                        std::array<const float*, sizeof...(In)> in, float* out) noexcept {
        using Out = typename join<In...>::Out;
        constexpr auto sizes = join<In...>::sizes;
        if constexpr (join<In...>::along_rows) {
            // Row by row: each input's features land at their offset in the output row.
            const std::size_t rows = samples * Out::rows;
            for (std::size_t r = 0; r < rows; ++r) {
                float* destination = out + r * Out::row_stride;
                for (std::size_t k = 0; k < sizes.size(); ++k) {
                    const float* source = in[k] + r * padded(sizes[k]);
                    destination = std::copy(source, source + sizes[k], destination);
                }
            }
        } else {
            // An outer axis: the last axis is common, so whole padded blocks of rows are copied.
            constexpr auto blocks = outer_blocks<In...>::sizes;
            std::array<const float*, sizeof...(In)> source = in;
            for (std::size_t o = 0; o < samples * outer_blocks<In...>::count; ++o)
                for (std::size_t k = 0; k < blocks.size(); ++k) {
                    out = std::copy(source[k], source[k] + blocks[k], out);
                    source[k] += blocks[k];
                }
        }
    }

    // Each input's gradient is its slice of the output's gradient, added (a tensor may feed
    // several layers). The same two traversals as forward, reading where forward wrote.
    template <Shape... In>
    static void backward(const float*, float*, std::size_t samples,
                         std::array<const float*, sizeof...(In)>, const float*,
                         const float* out_grad,
                         std::array<float*, sizeof...(In)> in_grad) noexcept {
        using Out = typename join<In...>::Out;
        constexpr auto sizes = join<In...>::sizes;
        const auto add = [](const float* from, std::size_t count, float* to) {
            for (std::size_t i = 0; i < count; ++i)
                to[i] += from[i];
        };
        if constexpr (join<In...>::along_rows) {
            const std::size_t rows = samples * Out::rows;
            for (std::size_t r = 0; r < rows; ++r) {
                const float* source = out_grad + r * Out::row_stride;
                for (std::size_t k = 0; k < sizes.size(); ++k) {
                    if (in_grad[k])
                        add(source, sizes[k], in_grad[k] + r * padded(sizes[k]));
                    source += sizes[k];
                }
            }
        } else {
            constexpr auto blocks = outer_blocks<In...>::sizes;
            for (std::size_t o = 0; o < samples * outer_blocks<In...>::count; ++o)
                for (std::size_t k = 0; k < blocks.size(); ++k) {
                    if (in_grad[k])
                        add(out_grad, blocks[k], in_grad[k] + o * blocks[k]);
                    out_grad += blocks[k];
                }
        }
    }

  private:
    // What forward and backward both traverse: the output, the joined axis, and each input's
    // extent along it; along_rows when that axis is the last, so that rows are joined.
    template <Shape... In>
    struct join {
        using Out = output_shape<In...>;
        static constexpr std::size_t axis = rule<In...>::axis;
        static constexpr std::array<std::size_t, sizeof...(In)> sizes{In::dims[axis]...};
        static constexpr bool along_rows = axis == Out::rank - 1;
    };

    // Joining along an outer axis: per sample, `count` repetitions of each input's block of
    // whole padded rows, sizes[k] floats for input k.
    template <Shape... In>
    struct outer_blocks {
        using Out = typename join<In...>::Out;
        static constexpr std::size_t axis = join<In...>::axis;
        static constexpr std::size_t count = [] {
            std::size_t n = 1;
            for (std::size_t i = 0; i < axis; ++i)
                n *= Out::dims[i];
            return n;
        }();
        static constexpr std::size_t inner_rows = Out::rows / count / Out::dims[axis];
        static constexpr std::array<std::size_t, sizeof...(In)> sizes{In::dims[axis] * inner_rows *
                                                                      Out::row_stride...};
    };
};

}  // namespace xfuse
