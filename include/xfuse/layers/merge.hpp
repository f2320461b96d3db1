// Element-wise merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum. All inputs have
// one shape (Keras' merge layers without broadcasting); Subtract takes exactly two.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../core/fixed_string.hpp"
#include "../kernels/elementwise.hpp"
#include "../kernels/merge_backward.hpp"
#include "layer.hpp"

namespace xfuse {

namespace detail {

// The shapes sit in the template arguments so that the diagnostic names both.
template <Shape First, Shape Other>
constexpr bool merge_shapes_agree() {
    static_assert(std::is_same_v<First, Other>,
                  "xfuse: merge layers (Add, Multiply, ...) need inputs of one shape");
    return std::is_same_v<First, Other>;
}

template <class Derived, class Op, std::size_t MinInputs, std::size_t MaxInputs>
struct merge_layer : layer<Derived> {
    template <Shape First, Shape... Rest>
    struct rule {
        static_assert(sizeof...(Rest) + 1 >= MinInputs && sizeof...(Rest) + 1 <= MaxInputs,
                      "xfuse: wrong number of inputs for this merge layer (Subtract takes two, "
                      "the others at least two)");
        static constexpr bool valid = (merge_shapes_agree<First, Rest>() && ...);
        static_assert(valid);  // instantiates the checks above, whose messages name the shapes
        using type = First;
    };
    template <Shape... In>
    using output_shape = typename rule<In...>::type;

    template <Shape... In>
    static void forward(const float*, std::size_t samples,
                        std::array<const float*, sizeof...(In)> in, float* out) noexcept {
        using Out = output_shape<In...>;
        kernels::merge<Op>(in.data(), in.size(), out, samples * Out::storage);
    }

    template <Shape... In>
    static void backward(const float*, float*, std::size_t samples,
                         std::array<const float*, sizeof...(In)> in, const float*,
                         const float* out_grad,
                         std::array<float*, sizeof...(In)> in_grad) noexcept {
        using Out = output_shape<In...>;
        kernels::merge_backward<Op>(in.data(), in.size(), out_grad, in_grad.data(),
                                    samples * Out::storage);
    }
};

}  // namespace detail

#define XFUSE_MERGE_LAYER(Class, Op, MinInputs, MaxInputs)                                    \
    template <fixed_string Name = "", class Tag = decltype([] {})>                            \
    struct Class : detail::merge_layer<Class<Name, Tag>, kernels::Op, MinInputs, MaxInputs> { \
        static constexpr std::string_view class_name = #Class;                                \
        static constexpr std::string_view name = Name.view();                                 \
    };                                                                                        \
    namespace tagged {                                                                        \
    template <class Tag, fixed_string Name = "">                                              \
    using Class = xfuse::Class<Name, Tag>;                                                    \
    }

// A macro here because the six classes differ only in these four facts; each remains its own
// class template, so that every written Add{} is its own layer with Keras' default name. Each
// also gets its alias with the identity tag first, for template code (layers/tagged.hpp).
XFUSE_MERGE_LAYER(Add, add_op, 2, ~std::size_t{0})
XFUSE_MERGE_LAYER(Subtract, subtract_op, 2, 2)
XFUSE_MERGE_LAYER(Multiply, multiply_op, 2, ~std::size_t{0})
XFUSE_MERGE_LAYER(Average, average_op, 2, ~std::size_t{0})
XFUSE_MERGE_LAYER(Maximum, maximum_op, 2, ~std::size_t{0})
XFUSE_MERGE_LAYER(Minimum, minimum_op, 2, ~std::size_t{0})

#undef XFUSE_MERGE_LAYER

}  // namespace xfuse
