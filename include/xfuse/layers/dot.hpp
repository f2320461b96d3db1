// Dot<Axes, Normalize, Name>: Keras' batch dot product of two tensors along one axis (Keras
// counts the batch axis as 0). Samples of rank 1: (n)·(n) -> (1). Rank 2: (S, F)·(T, F) along
// the features -> (S, T), and (S, F)·(S, G) along the sequence -> (F, G). With Normalize, each
// operand is L2-normalised along the axis first (cosine similarity), as tf.linalg.l2_normalize.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "../core/fixed_string.hpp"
#include "../kernels/reduce.hpp"
#include "concatenate.hpp"
#include "layer.hpp"

namespace xfuse {

namespace detail {

template <std::size_t LeftRank, std::size_t RightRank>
constexpr bool dot_ranks_agree() {
    static_assert(LeftRank == RightRank, "xfuse::Dot: both operands need the same rank");
    static_assert(LeftRank <= 2, "xfuse::Dot: operands of rank 1 or 2 (per sample) only");
    return LeftRank == RightRank && LeftRank <= 2;
}

template <std::size_t LeftSize, std::size_t RightSize>
constexpr bool dot_sizes_agree() {
    static_assert(LeftSize == RightSize, "xfuse::Dot: operand sizes along the dot axis differ");
    return LeftSize == RightSize;
}

// 1 / max(||v||, 1e-6): tf.linalg.l2_normalize's x / sqrt(max(sum(x^2), 1e-12)).
inline float inverse_l2_norm(float sum_of_squares) noexcept {
    return 1.0f / std::sqrt(std::max(sum_of_squares, 1e-12f));
}

}  // namespace detail

// What a Dot-like layer declares by deriving from it: the Keras axes and whether the operands are
// normalised. The fused plans match the attention block on it (exec/fusion_rules.hpp).
template <int Axes, bool Normalize>
struct dot_kind {
    using layer_kind = dot_kind;
    static constexpr int axes = Axes;
    static constexpr bool normalize = Normalize;
};

template <int Axes, bool Normalize = false, fixed_string Name = "", class Tag = decltype([] {})>
struct Dot : layer<Dot<Axes, Normalize, Name, Tag>>, dot_kind<Axes, Normalize> {
    static constexpr std::string_view class_name = "Dot";
    static constexpr std::string_view name = Name.view();

    template <Shape... In>
    struct rule {
        static_assert(sizeof...(In) == 2, "xfuse::Dot takes exactly two input tensors");
    };
    template <Shape Left, Shape Right>
    struct rule<Left, Right> {
        static constexpr bool ranks_ok = detail::dot_ranks_agree<Left::rank, Right::rank>();
        static constexpr std::size_t axis = detail::sample_axis<Left::rank>(Axes);
        static_assert(!ranks_ok || axis < Left::rank,
                      "xfuse::Dot: the axis must name a sample axis (not the batch)");
        static constexpr bool valid = ranks_ok && axis < Left::rank &&
                                      detail::dot_sizes_agree<Left::dims[axis % Left::rank],
                                                              Right::dims[axis % Right::rank]>();
        // Keras' batch_dot: the left operand's other axis, then the right one's; (1) for vectors.
        static constexpr auto dims = [] {
            if constexpr (Left::rank == 1 || !valid)
                return std::array<std::size_t, 1>{1};
            else
                return std::array<std::size_t, 2>{Left::dims[1 - axis], Right::dims[1 - axis]};
        }();
        using type = shape_from_array_t<dims>;
    };
    template <Shape... In>
    using output_shape = typename rule<In...>::type;

    template <Shape Left, Shape Right>
    static void forward(const float*, std::size_t samples, std::array<const float*, 2> in,
                        float* out) noexcept {
        using Out = output_shape<Left, Right>;
        for (std::size_t s = 0; s < samples; ++s) {
            sample_forward<Left, Right>(in[0] + s * Left::storage, in[1] + s * Right::storage,
                                        out + s * Out::storage);
        }
    }

    // With out[i, j] = <u_i, v_j> (u, v the operands' vectors along the axis, normalised or
    // not): du_i = sum_j g[i, j] v_j and dv_j = sum_i g[i, j] u_i, then back through the
    // normalisation. Not a hot step (the attention block's Dot has a fused backward in exec/),
    // so plain loops over the strided vectors.
    template <Shape Left, Shape Right>
    static void backward(const float*, float*, std::size_t samples, std::array<const float*, 2> in,
                         const float*, const float* out_grad,
                         std::array<float*, 2> in_grad) noexcept {
        constexpr std::size_t axis = rule<Left, Right>::axis;
        using L = vectors<Left, axis>;
        using R = vectors<Right, axis>;
        using Out = output_shape<Left, Right>;
        for (std::size_t s = 0; s < samples; ++s) {
            const float* x = in[0] + s * Left::storage;
            const float* y = in[1] + s * Right::storage;
            const float* g = out_grad + s * Out::storage;
            const auto x_scale = inverse_norms<L>(x);
            const auto y_scale = inverse_norms<R>(y);
            if (in_grad[0])
                operand_backward<L, R>(x, x_scale, y, y_scale, g, Out::row_stride, 1,
                                       in_grad[0] + s * Left::storage);
            if (in_grad[1])
                operand_backward<R, L>(y, y_scale, x, x_scale, g, 1, Out::row_stride,
                                       in_grad[1] + s * Right::storage);
        }
    }

  private:
    // Adds the gradient of the operand `a` (vectors V, scales a_scale) whose partner is `b`;
    // g[v * g_own + p * g_partner] is the output gradient of the pair (vector v, partner p).
    template <class V, class P>
    static void operand_backward(const float* a, const std::array<float, V::count>& a_scale,
                                 const float* b, const std::array<float, P::count>& b_scale,
                                 const float* g, std::size_t g_own, std::size_t g_partner,
                                 float* a_grad) noexcept {
        for (std::size_t v = 0; v < V::count; ++v) {
            // Gradient with respect to the (normalised) vector.
            std::array<float, V::length> d{};
            for (std::size_t p = 0; p < P::count; ++p) {
                const float coefficient = g[v * g_own + p * g_partner] * b_scale[p];
                const float* partner = b + p * P::start;
                for (std::size_t k = 0; k < V::length; ++k)
                    d[k] += coefficient * partner[k * P::step];
            }
            const float* first = a + v * V::start;
            float* grad = a_grad + v * V::start;
            // Through u = a * r with r = 1 / sqrt(max(|a|^2, 1e-12)): r (d - u <u, d>), where
            // the max is not clamped; r d where it is (r is then a constant).
            float projection = 0.0f;
            if constexpr (Normalize) {
                float sum_of_squares = 0.0f;
                for (std::size_t k = 0; k < V::length; ++k) {
                    sum_of_squares += first[k * V::step] * first[k * V::step];
                    projection += first[k * V::step] * a_scale[v] * d[k];
                }
                if (!(sum_of_squares > 1e-12f))
                    projection = 0.0f;
            }
            for (std::size_t k = 0; k < V::length; ++k)
                grad[k * V::step] +=
                    a_scale[v] * (d[k] - first[k * V::step] * a_scale[v] * projection);
        }
    }

    // A rank-2 sample seen as vectors along the dot axis: vector v starts at v * `start` and
    // steps by `step`; both are strides of the padded layout.
    template <Shape S, std::size_t Axis>
    struct vectors {
        static constexpr std::size_t count = S::rank == 1 ? 1 : S::dims[1 - Axis];
        static constexpr std::size_t length = S::dims[Axis];
        static constexpr std::size_t start = Axis == 1 || S::rank == 1 ? S::row_stride : 1;
        static constexpr std::size_t step = Axis == 1 || S::rank == 1 ? 1 : S::row_stride;
    };

    template <class V>
    static std::array<float, V::count> inverse_norms(const float* x) noexcept {
        std::array<float, V::count> result{};
        for (std::size_t v = 0; v < V::count; ++v) {
            const float* first = x + v * V::start;
            result[v] = Normalize ? detail::inverse_l2_norm(kernels::strided_dot(
                                        first, V::step, first, V::step, V::length))
                                  : 1.0f;
        }
        return result;
    }

    template <Shape Left, Shape Right>
    static void sample_forward(const float* x, const float* y, float* out) noexcept {
        constexpr std::size_t axis = rule<Left, Right>::axis;
        using L = vectors<Left, axis>;
        using R = vectors<Right, axis>;
        using Out = output_shape<Left, Right>;
        const auto x_scale = inverse_norms<L>(x);
        const auto y_scale = inverse_norms<R>(y);
        for (std::size_t i = 0; i < L::count; ++i) {
            for (std::size_t j = 0; j < R::count; ++j) {
                const float* a = x + i * L::start;
                const float* b = y + j * R::start;
                const float d = L::step == 1
                                    ? kernels::dot(a, b, L::length)
                                    : kernels::strided_dot(a, L::step, b, R::step, L::length);
                out[i * Out::row_stride + j] = d * x_scale[i] * y_scale[j];
            }
        }
    }
};

}  // namespace xfuse
