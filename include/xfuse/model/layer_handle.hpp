// model.get_layer<"name">(): a layer of a model, with its symbolic output (to build sub-models)
// and its own weights.
#pragma once

#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>
#include <xtensor/xarray.hpp>

#include "../graph/weights.hpp"

namespace xfuse {

template <class M, std::size_t L>
class layer_handle {
  public:
    using graph_type = typename M::graph_type;
    using layer_type = typename graph_type::template layer_t<L>;

    explicit layer_handle(M& model) noexcept : model_(model) {}

    static constexpr std::string_view name() noexcept { return graph_type::names[L].view(); }
    static constexpr std::size_t count_params() noexcept {
        return graph_type::template parameters_of_layer<L>;
    }

    // The symbolic tensor this layer produces (Keras' layer.output).
    static constexpr auto output() noexcept {
        static_assert(graph_type::node_count_of_layer[L] == 1,
                      "xfuse: this layer is applied more than once; use output_at<I>()");
        return output_at<0>();
    }
    // The output of the layer's I-th application in this model (Keras' get_output_at(i)).
    template <std::size_t I>
    static constexpr auto output_at() noexcept {
        static_assert(I < graph_type::node_count_of_layer[L], "xfuse: no such application");
        constexpr std::size_t node = [] {
            std::size_t seen = 0;
            for (std::size_t n = 0; n < graph_type::node_count; ++n)
                if (graph_type::node_layer[n] == L && seen++ == I)
                    return n;
            return std::size_t{0};
        }();
        return typename graph_type::template node_t<node>{};
    }

    // For a layer that offers its attention probabilities (MultiHeadAttention): a tensor of
    // them on the layer's inputs, for a sub-model that shares the layer's weights and options.
    auto attention_scores() const requires requires { typename layer_type::scores_layer; }
    {
        using scores = typename layer_type::scores_layer;
        return std::apply(
            [&](const auto&... in) {
                return node<scores, std::remove_cvref_t<decltype(in)>...>{
                    scores{model_.bindings().template layer<layer_type>()}, {in...}};
            },
            output().input_values);
    }

    std::vector<xt::xarray<float>> get_weights() const {
        return detail::get_weights<graph_type>(model_.layers_.weights, L);
    }
    void set_weights(const std::vector<xt::xarray<float>>& weights) {
        detail::set_weights<graph_type>(model_.layers_.weights, weights, L);
    }

  private:
    M& model_;
};

}  // namespace xfuse
