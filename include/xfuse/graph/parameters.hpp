// Where weights live. A model owns one aligned buffer for the weights of its layers, and a copy
// of each layer that holds runtime options; a model built from another model's inputs() finds
// the layers it shares in that model's store (a chain of stores, each holding the layers its
// model added), so training one changes the other, as in Keras where weights belong to layer
// objects.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

#include "../kernels/aligned_buffer.hpp"
#include "../layers/layer.hpp"
#include "layer_bindings.hpp"

namespace xfuse {

namespace detail {

// One address per layer type: the key a store files that layer's weights under.
template <class Layer>
inline constexpr char layer_key = 0;

// The key of the weights a layer computes with: its own, or those of the layer it names as its
// `weights_owner` (a second view of that layer's computation, such as MultiHeadAttention's
// scores), so that both find one set of weights.
template <class Layer>
constexpr const void* weights_key() noexcept {
    if constexpr (requires { typename Layer::weights_owner; })
        return &layer_key<typename Layer::weights_owner>;
    else
        return &layer_key<Layer>;
}

struct random_state {
    std::mutex mutex;
    std::mt19937_64 engine{0};
};
inline random_state& global_random_state() {
    static random_state state;
    return state;
}

}  // namespace detail

// Seeds the generator that draws each new model's initialisation seed (Keras'
// set_random_seed). xfuse is reproducible by default: the generator starts from seed 0.
inline void set_random_seed(std::uint64_t seed) {
    auto& state = detail::global_random_state();
    std::lock_guard lock(state.mutex);
    state.engine.seed(seed);
}

namespace detail {

inline std::uint64_t next_initialization_seed() {
    auto& state = global_random_state();
    std::lock_guard lock(state.mutex);
    return state.engine();
}

// Keras' _compute_fans: (in, out) for a matrix, the size twice for a vector, and the receptive
// field times the last two axes for convolution kernels.
inline std::pair<double, double> fans(const weight_spec& w) {
    if (w.rank == 1)
        return {double(w.dims[0]), double(w.dims[0])};
    double receptive = 1;
    for (std::size_t i = 0; i + 2 < w.rank; ++i)
        receptive *= double(w.dims[i]);
    return {double(w.dims[w.rank - 2]) * receptive, double(w.dims[w.rank - 1]) * receptive};
}

// Writes one weight's initial values into its padded storage (padding lanes stay zero). The
// uniform draws use the engine's top 24 bits, so the values are the same on every platform; the
// normal draws are Box-Muller transforms of two of them.
inline void initialize_weight(const weight_spec& w, float* storage, std::mt19937_64& engine) {
    if (w.init == initializer::zeros)
        return;
    const auto [fan_in, fan_out] = fans(w);
    const double limit =
        w.init == initializer::uniform ? 0.05 : std::sqrt(6.0 / (fan_in + fan_out));
    const auto unit = [&engine] { return double(engine() >> 40) * 0x1.0p-24; };  // [0, 1)
    const auto draw = [&]() -> double {
        switch (w.init) {
            case initializer::glorot_uniform:
            case initializer::uniform:
                return limit * (2.0 * unit() - 1.0);
            case initializer::random_normal: {
                const double radius = std::sqrt(-2.0 * std::log(1.0 - unit()));  // 1 - u in (0, 1]
                return 0.05 * radius * std::cos(2.0 * std::numbers::pi * unit());
            }
            default:
                return 1.0;
        }
    };
    for (std::size_t r = 0; r < w.rows(); ++r)
        for (std::size_t c = 0; c < w.last(); ++c)
            storage[r * w.row_stride() + c] = static_cast<float>(draw());
}

// (Re)writes a layer's weights, in declaration order, padding lanes zero.
template <std::size_t K>
void initialize_layer(const std::array<weight_spec, K>& weights, float* storage,
                      std::mt19937_64& engine) {
    for (const weight_spec& w : weights) {
        std::fill_n(storage, w.storage(), 0.0f);
        initialize_weight(w, storage, engine);
        storage += w.storage();
    }
}

}  // namespace detail

class parameter_store {
  public:
    struct entry {
        const void* layer;
        std::size_t offset;
    };
    struct layer_copy {
        const void* layer;
        std::shared_ptr<const void> value;
    };

    parameter_store(std::shared_ptr<parameter_store> base, std::vector<entry> entries,
                    std::size_t size, std::vector<layer_copy> layers)
        : base_(std::move(base)),
          entries_(std::move(entries)),
          values_(size),
          layers_(std::move(layers)) {}

    // The weights of a layer, here or in the stores this one extends; null when unknown.
    float* find(const void* layer) noexcept {
        for (const entry& e : entries_)
            if (e.layer == layer)
                return values_.data() + e.offset;
        return base_ ? base_->find(layer) : nullptr;
    }

    // The copy of a layer with runtime options, found likewise.
    const void* find_layer(const void* layer) const noexcept {
        for (const layer_copy& c : layers_)
            if (c.layer == layer)
                return c.value.get();
        return base_ ? base_->find_layer(layer) : nullptr;
    }

  private:
    std::shared_ptr<parameter_store> base_;
    std::vector<entry> entries_;
    aligned_buffer values_;
    std::vector<layer_copy> layers_;
};

// Binds every layer of Graph to its weights and options: found in `base` when shared, else
// weights allocated in a new store and initialised from `seed`, and the layer copied from the
// tensors `outputs` (which carry the values of the layers behind them). Returns the store that
// covers all layers.
template <class Graph, class... Outputs>
std::shared_ptr<parameter_store> bind_layers(std::shared_ptr<parameter_store> base,
                                             layer_bindings<Graph>& bindings, std::uint64_t seed,
                                             const Outputs&... outputs) {
    std::vector<parameter_store::entry> entries;
    std::vector<parameter_store::layer_copy> copies;
    std::vector<std::size_t> new_layers;
    std::size_t size = 0;
    auto plan_layer = [&]<std::size_t L>() {
        using layer = typename Graph::template layer_t<L>;
        constexpr const void* key = &detail::layer_key<layer>;
        bindings.weights[L] = nullptr;
        if constexpr (layer_bindings<Graph>::template stored<layer>)
            if (!base || !base->find_layer(key))
                copies.push_back({key, std::make_shared<const layer>(
                                           detail::layer_value_in<layer>(outputs...))});
        if constexpr (Graph::template storage_of_layer<L> != 0) {
            constexpr const void* weights = detail::weights_key<layer>();
            if ((base && base->find(weights)) ||
                std::any_of(entries.begin(), entries.end(),
                            [&](const parameter_store::entry& e) { return e.layer == weights; }))
                return;
            entries.push_back({weights, size});
            new_layers.push_back(L);
            size += Graph::template storage_of_layer<L>;
        }
    };
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        (plan_layer.template operator()<L>(), ...);
    }
    (std::make_index_sequence<Graph::layer_count>{});

    auto store =
        entries.empty() && copies.empty() && base
            ? base
            : std::make_shared<parameter_store>(base, std::move(entries), size, std::move(copies));
    std::mt19937_64 engine(seed);
    auto bind_layer = [&]<std::size_t L>() {
        using layer = typename Graph::template layer_t<L>;
        constexpr const void* key = &detail::layer_key<layer>;
        bindings.values[L] = store->find_layer(key);
        if constexpr (Graph::template storage_of_layer<L> != 0) {
            bindings.weights[L] = store->find(detail::weights_key<layer>());
            if (std::find(new_layers.begin(), new_layers.end(), L) == new_layers.end())
                return;
            detail::initialize_layer(Graph::template weights<L>, bindings.weights[L], engine);
        }
    };
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        (bind_layer.template operator()<L>(), ...);
    }
    (std::make_index_sequence<Graph::layer_count>{});
    return store;
}

}  // namespace xfuse
