// The layer protocol: what every layer type, built-in or user-written, provides.
//
//   static constexpr std::string_view class_name;  // "Dense": the summary's "(type)" column
//   static constexpr std::string_view name;        // explicit name, or "" for Keras' default
//   template <Shape... In> using output_shape;     // checked with static_assert where layers meet
//   template <Shape... In> static constexpr std::array<weight_spec, K> weights;  // Keras order
//   template <Shape... In> static void forward(const float* params, std::size_t samples,
//                                              std::array<const float*, sizeof...(In)> inputs,
//                                              float* output);
//   // Training only (instantiated when a backward plan runs; exec/backward.hpp):
//   template <Shape... In> static void backward(const float* params, float* param_grads,
//                                               std::size_t samples,
//                                               std::array<const float*, sizeof...(In)> inputs,
//                                               const float* output, const float* output_grad,
//                                               std::array<float*, sizeof...(In)> input_grads);
//
//   // Optional: a check of the input batch before anything is computed (graph/input_checks.hpp),
//   // for inputs that forward cannot accept (an Embedding's token id outside its table):
//   template <Shape... In> static void check_input(std::size_t slot, const float* batch,
//                                                  std::size_t samples, std::string_view layer);
//
// backward ADDS dL/d(params) into param_grads (the layout of params; padding lanes stay 0) and
// dL/d(input k) into input_grads[k] (a tensor may feed several layers); input_grads[k] may be
// nullptr when nothing needs that gradient. `output` is forward's output for these inputs. The
// padding lanes of output_grad, like those of activations, may hold anything and must not reach
// a logical lane; what backward adds to the padding lanes of input_grads is free.
//
// Buffers hold `samples` consecutive samples of S::storage floats (rows padded to the SIMD
// width, see core/shape.hpp); `params` holds the layer's weights in the order of `weights`, each
// with its last axis padded. Deriving from layer<Derived> makes the type callable on symbolic
// tensors and gives it "no weights" by default. docs/custom_layers.md shows a full example.
//
// A layer that behaves differently in training (Dropout) takes a last argument
// `const call_context&` in forward and backward: whether fit is running, and what its random
// decisions depend on. The plans pass it to the layers whose forward and backward take it
// (call_layer).
//
// Runtime options (LayerNormalization's epsilon, Dropout's rate) are data members set by the
// layer's constructor; forward and backward are then const member functions instead of static
// ones, and the plans call them on the model's copy of the layer (graph/layer_bindings.hpp). A
// layer is default constructible, with Keras' defaults, and copyable: a tensor made from a type
// alone (a layer handle's output()) carries a default-constructed layer, and a model takes the
// value of a layer it shares from the model that holds it.
//
// check_input receives input `slot`'s `samples` samples as the user gave them (row-major, In::size
// floats each, no padding) and throws (std::out_of_range, std::invalid_argument) with a message
// naming `layer` (the layer's name in the model), the sample, the position and the value. The
// model runs it in predict, the single-sample call, fit and evaluate before any output is
// computed or any weight changes, so forward stays noexcept. A layer that declares it reads
// model inputs directly (a compile error otherwise): its check sees what the user passed.
//
// A layer that computes what a built-in one does may also derive from its kind (dense_kind,
// activation_kind, dot_kind, concatenate_kind; layers/layer_kinds.hpp): the fused plans and the
// trainer's logits path then treat it as that layer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "../core/config.hpp"
#include "../core/shape.hpp"
#include "../core/symbolic.hpp"

namespace xfuse {

// How a weight starts: Keras' "zeros", "ones", "glorot_uniform", "uniform" (RandomUniform with
// its default bounds, -0.05 and 0.05: Embedding's default) and "random_normal" (RandomNormal with
// its defaults, mean 0 and standard deviation 0.05).
enum class initializer { zeros, ones, glorot_uniform, uniform, random_normal };

// What a layer's call is part of: predict and evaluate (training false), or a training step of
// fit, with the keys of its random decisions.
struct call_context {
    bool training = false;
    std::uint64_t seed = 0;                   // FitOptions::seed, or the one drawn for the run
    std::uint64_t epoch = 0;                  // counted from 0
    std::uint64_t layer = 0;                  // the layer's index in its graph
    const std::size_t* sample_ids = nullptr;  // per sample of the call: its row in fit's data
};

// Which of a layer's functions a plan calls (call_layer).
struct forward_function {};
struct backward_function {};

namespace detail {

template <class... In, class L, class... Args>
auto invoke(forward_function, const L& layer, Args&... args)
    -> decltype(layer.template forward<In...>(args...)) {
    return layer.template forward<In...>(args...);
}
template <class... In, class L, class... Args>
auto invoke(backward_function, const L& layer, Args&... args)
    -> decltype(layer.template backward<In...>(args...)) {
    return layer.template backward<In...>(args...);
}

}  // namespace detail

// A layer's forward or backward (Function) for inputs In..., given the call's context as the
// last argument if the function takes it.
template <class Function, class... In, class L, class... Args>
void call_layer(const L& layer, const call_context& context, Args&&... args) noexcept {
    if constexpr (requires { detail::invoke<In...>(Function{}, layer, args..., context); })
        detail::invoke<In...>(Function{}, layer, args..., context);
    else
        detail::invoke<In...>(Function{}, layer, args...);
}

// The input shape of a layer that takes exactly one input (the check of that, for a shape rule).
template <Shape... In>
struct only_input {
    static_assert(sizeof...(In) == 1, "xfuse: this layer takes exactly one input tensor");
    using type = std::tuple_element_t<0, std::tuple<In..., shape<1>>>;
};
template <Shape... In>
using only_input_t = typename only_input<In...>::type;

// One weight tensor of a layer, with its Keras name, logical shape and initializer.
struct weight_spec {
    std::string_view name;  // "kernel", "bias"
    std::array<std::size_t, 4> dims{};
    std::size_t rank = 0;
    initializer init = initializer::zeros;

    constexpr std::size_t size() const noexcept {
        std::size_t n = 1;
        for (std::size_t i = 0; i < rank; ++i)
            n *= dims[i];
        return n;
    }
    constexpr std::size_t last() const noexcept { return dims[rank - 1]; }
    constexpr std::size_t rows() const noexcept { return size() / last(); }
    constexpr std::size_t row_stride() const noexcept { return padded(last()); }
    // Floats in the parameter buffer: rows padded like activations, so weight rows load whole.
    constexpr std::size_t storage() const noexcept { return rows() * row_stride(); }
};

template <class Derived>
struct layer {
    // Applying a layer makes a node; the output shape (and with it every shape rule of the
    // layer) is computed here so that a mistake is reported at the user's call.
    template <SymbolicTensor... In>
    constexpr node<Derived, In...> operator()(In... in) const {
        using checked_output_shape [[maybe_unused]] = typename node<Derived, In...>::shape_type;
        return {static_cast<const Derived&>(*this), {in...}};
    }

    template <Shape... In>
    static constexpr std::array<weight_spec, 0> weights{};
};

template <class L>
concept Layer = requires {
    { L::class_name } -> std::convertible_to<std::string_view>;
    { L::name } -> std::convertible_to<std::string_view>;
};

// Total weights (the summary's "Param #") and floats of padded storage of a weight list.
template <std::size_t K>
constexpr std::size_t total_of(const std::array<weight_spec, K>& weights,
                               std::size_t (weight_spec::*count)() const noexcept) noexcept {
    std::size_t n = 0;
    for (const weight_spec& w : weights)
        n += (w.*count)();
    return n;
}
template <std::size_t K>
constexpr std::size_t total_size(const std::array<weight_spec, K>& weights) noexcept {
    return total_of(weights, &weight_spec::size);
}
template <std::size_t K>
constexpr std::size_t total_storage(const std::array<weight_spec, K>& weights) noexcept {
    return total_of(weights, &weight_spec::storage);
}

// For a node: the layer's weight list given the node's input shapes.
template <SymbolicTensor N, class Inputs = typename N::inputs>
struct node_weights;
template <SymbolicTensor N, class... In>
struct node_weights<N, type_list<In...>> {
    static constexpr auto value = N::layer_type::template weights<typename In::shape_type...>;
};

}  // namespace xfuse
