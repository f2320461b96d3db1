// xf::Model: Keras' functional model over a graph that is a C++ type.
//
//   auto model = xf::Model{xf::inputs(input1, input2), output};
//
// The type fixes the layers, their order, names and shapes; an object holds the weights
// (shared with models built from its inputs()) and the compile() settings.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>
#include <xtensor/xarray.hpp>

#include "../core/fixed_string.hpp"
#include "../exec/fused_plan.hpp"
#include "../exec/scratch.hpp"
#include "../graph/graph.hpp"
#include "../graph/input_checks.hpp"
#include "../graph/parameters.hpp"
#include "../graph/summary.hpp"
#include "../graph/weights.hpp"
#include "batch_io.hpp"
#include "training.hpp"

namespace xfuse {

// The inputs of a model. From xf::inputs(...) it starts a new set of weights; from
// model.inputs() it carries that model's weights and naming, so a model built on it shares them.
template <class NamingRoot, class... Inputs>
struct input_list {
    std::shared_ptr<parameter_store> store;
};

template <InputTensor... Inputs>
constexpr input_list<void, Inputs...> inputs(Inputs...) {
    return {};
}

namespace detail {

// Keras' global, zero-based model names: "model", "model_1", ... ("sequential" likewise).
struct name_registry {
    std::mutex mutex;
    std::map<std::string, std::size_t, std::less<>> used;
};
inline name_registry& model_names() {
    static name_registry registry;
    return registry;
}
inline std::string unique_model_name(std::string_view base) {
    auto& registry = model_names();
    std::lock_guard lock(registry.mutex);
    const std::size_t n = registry.used[std::string(base)]++;
    return n == 0 ? std::string(base) : std::string(base) + "_" + std::to_string(n);
}

// The weight-file operations a Model forwards to <xfuse/hdf5.hpp>'s io_file.
struct save_weights_file {};
struct load_weights_file {};
struct save_checkpoint_file {};
struct load_checkpoint_file {};

}  // namespace detail

// Forgets the model names handed out so far (Keras' clear_session()): the next is "model".
inline void clear_session() {
    auto& registry = detail::model_names();
    std::lock_guard lock(registry.mutex);
    registry.used.clear();
}

template <class Inputs, class... Outputs>
class Model;

template <class Model, std::size_t L>
class layer_handle;

template <class NamingRoot, class... Inputs, class... Outputs>
class Model<input_list<NamingRoot, Inputs...>, Outputs...> {
  public:
    using graph_type = graph<type_list<Inputs...>, type_list<Outputs...>, NamingRoot>;
    static constexpr std::size_t layer_count = graph_type::layer_count;

    Model(input_list<NamingRoot, Inputs...> inputs, Outputs... outputs)
        : Model(std::move(inputs.store), "model", true, outputs...) {}

    Model(Model&&) noexcept = default;
    Model& operator=(Model&&) noexcept = default;
    // A copy would have to choose between sharing and duplicating weights; neither is obvious.
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const std::string& name() const noexcept { return name_; }

    // The model's inputs, carrying its weights: Model{model.inputs(), some_layer_output}
    // shares them, as Keras' Model(model.inputs, ...) does.
    input_list<typename graph_type::naming_layers, Inputs...> inputs() const { return {store_}; }

    // Names in Keras' layer order (model.layers).
    std::vector<std::string> layer_names() const {
        std::vector<std::string> names;
        for (std::size_t i = 0; i < layer_count; ++i)
            if (show_inputs_ || !graph_type::is_input_layer[i])
                names.emplace_back(graph_type::names[i].view());
        return names;
    }

    template <fixed_string Name>
    auto get_layer() {
        constexpr std::size_t index = graph_type::find_layer(Name.view());
        static_assert(index < layer_count, "xfuse::Model::get_layer: no layer has this name");
        return layer_handle<Model, index % layer_count>{*this};
    }

    std::size_t count_params() const noexcept {
        return [&]<std::size_t... L>(std::index_sequence<L...>) {
            return (std::size_t{0} + ... + graph_type::template parameters_of_layer<L>);
        }
        (std::make_index_sequence<layer_count>{});
    }

    void summary(std::ostream& os = std::cout) const {
        print_summary(os, make_summary_table<graph_type>(name_, show_inputs_));
    }

    // ---- weights ----------------------------------------------------------------------------
    std::vector<xt::xarray<float>> get_weights() const {
        return detail::get_weights<graph_type>(layers_.weights);
    }
    // All shapes are checked before any weight changes.
    void set_weights(const std::vector<xt::xarray<float>>& weights) {
        detail::set_weights<graph_type>(layers_.weights, weights);
    }
    // Re-draws every weight of this model (shared ones too) from `seed`.
    void initialize_weights(std::uint64_t seed) {
        detail::initialize_weights<graph_type>(layers_.weights, seed);
    }
    const std::array<float*, layer_count>& layer_parameters() const noexcept {
        return layers_.weights;
    }
    // What the execution plans (exec/) run on: each layer's weights and options.
    const layer_bindings<graph_type>& bindings() const noexcept { return layers_; }

    // ---- weight files (Keras HDF5) ------------------------------------------------------------
    // save_weights("w.h5") / load_weights("w.h5"[, xf::by_name]); save_checkpoint("c.h5") /
    // load_checkpoint("c.h5"[, xf::by_name]): the weights and the compiled optimizer's state, so
    // fit() resumes bit for bit. Defined in <xfuse/hdf5.hpp> (CMake target xfuse::hdf5) as
    // io_file(operation, model, path, options...), found by argument-dependent lookup when a call
    // is compiled, so this header needs no HDF5. Saving reads the model and takes only a path;
    // loading writes it and may match layers by name.
    template <class Path>
    void save_weights(const Path& path) const {
        file_operation<detail::save_weights_file>(*this, path);
    }
    template <class Path>
    void save_checkpoint(const Path& path) const {
        file_operation<detail::save_checkpoint_file>(*this, path);
    }
    template <class Path, class... Options>
    void load_weights(const Path& path, Options... options) {
        file_operation<detail::load_weights_file>(*this, path, options...);
    }
    template <class Path, class... Options>
    void load_checkpoint(const Path& path, Options... options) {
        file_operation<detail::load_checkpoint_file>(*this, path, options...);
    }

    // ---- training (train/, model/training.hpp) --------------------------------------------------
    // compile(optimizer, loss[, xf::metrics(...)]) with any of train/optimizers.hpp and
    // train/losses.hpp; settings are validated here. A new compile starts a new optimizer state.
    template <class Optimizer, class Loss>
    void compile(const Optimizer& optimizer, const Loss& loss, metric_list metrics = {}) {
        static_assert(std::is_constructible_v<any_optimizer, Optimizer>,
                      "xfuse::Model::compile: the first argument is an optimizer (xf::Adam, "
                      "xf::SGD, xf::AdamW, xf::RMSprop, xf::Adagrad)");
        static_assert(std::is_constructible_v<any_loss, Loss>,
                      "xfuse::Model::compile: the second argument is a loss "
                      "(xf::BinaryCrossentropy, xf::MeanSquaredError, ...)");
        optimizer.validate();
        loss.validate();
        training_ = training_config{optimizer, loss, std::move(metrics)};
        optimizer_states_.clear();
    }
    bool is_compiled() const noexcept { return training_.has_value(); }
    const any_optimizer& optimizer() const { return compiled("optimizer").optimizer; }
    const any_loss& loss() const { return compiled("loss").loss; }
    // The optimizer's slots and step count, one state per contiguous run of parameters (one for
    // a model that owns its weights); empty before the first fit. Checkpoints save these.
    std::vector<optimizer_state>& optimizer_states() noexcept { return optimizer_states_; }
    const std::vector<optimizer_state>& optimizer_states() const noexcept {
        return optimizer_states_;
    }

    // x: the batch (one input) or std::tie(a, b) (several); y: the labels, an xtensor expression
    // of the output's shape with the samples first ((samples, units), (samples, T, C)), or the
    // class indices of a sparse loss ((samples, 1); (samples, T) for a (T, C) output).
    template <class X, class Y = xt::xtensor<float, 2>>
    History fit(const X& x, const Y& y, const FitOptions& options = {},
                std::ostream& os = std::cout) {
        return detail::fit_model<graph_type>(layers_, compiled("fit"), optimizer_states_, x, y,
                                             options, os);
    }
    // The batch-size-weighted mean loss, then each metric's value, over (x, y).
    template <class X, class Y = xt::xtensor<float, 2>>
    std::vector<double> evaluate(const X& x, const Y& y, std::size_t batch_size = 32) {
        return detail::evaluate_model<graph_type>(layers_, compiled("evaluate"), optimizer_states_,
                                                  x, y, batch_size);
    }

    // ---- inference ----------------------------------------------------------------------------
    // One batch per input (rows are samples); returns one batch per output, a std::tuple when
    // there are several. Allocates the result and nothing else (a model beyond the stack budget
    // also its thread's scratch, once: exec/scratch.hpp). An optional first argument, xf::fused
    // or xf::unfused, picks the execution plan (exec/fusion.hpp).
    template <class... Batches>
    requires(sizeof...(Batches) ==
             sizeof...(Inputs)) auto predict(const Batches&... batches) const {
        return predict(default_fusion_t{}, batches...);
    }
    template <FusionChoice Fusion, class... Batches>
    requires(sizeof...(Batches) ==
             sizeof...(Inputs)) auto predict(Fusion, const Batches&... batches) const {
        using run_plan = plan_for<Fusion>;
        const std::size_t samples = checked_batch_samples(batches...);
        auto results = std::tuple<detail::batch_t<typename Outputs::shape_type>...>{
            detail::batch_t<typename Outputs::shape_type>(
                batch_shape<typename Outputs::shape_type>(samples))...};
        // References to float row-major containers, copies of anything else, made once.
        const std::tuple<decltype(detail::row_major_floats(batches))...> sources{
            detail::row_major_floats(batches)...};
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (check_input_batch<graph_type, Inputs>(std::get<I>(sources).data(), samples), ...);
        }
        (std::index_sequence_for<Inputs...>{});
        constexpr std::size_t tile = tile_samples<run_plan>;
        const auto run_tiles = [&](float* scratch) {
            for (std::size_t first = 0; first < samples; first += tile) {
                const std::size_t count = std::min(tile, samples - first);
                const auto in_place = [&]<std::size_t... I>(std::index_sequence<I...>) {
                    return stage_inputs<run_plan>(
                        scratch, count,
                        std::get<I>(sources).data() + first * Inputs::shape_type::size...);
                }
                (std::index_sequence_for<Inputs...>{});
                run_plan::run(layers_, scratch, count, in_place);
                store_outputs<run_plan>(results, scratch, first, count,
                                        std::index_sequence_for<Outputs...>{});
            }
        };
        detail::with_scratch<tile * run_plan::sample_storage>(run_tiles);
        return unwrap(std::move(results));
    }

    // One sample per input, as fixed-size tensors of exactly the inputs' shapes (no implicit
    // conversion, which would resize at run time). Allocates nothing while the sample's scratch
    // fits xf::stack_scratch_bytes; a larger model's call takes a buffer that each thread
    // allocates on its first call and keeps (exec/scratch.hpp), and is noexcept(false) for that
    // one allocation. A model whose layers check their inputs (an Embedding's token ids) runs
    // the checks first and is noexcept(false) for what they throw.
    template <class... Samples>
    auto operator()(const Samples&... samples) const
        noexcept(noexcept((*this)(default_fusion_t{}, samples...))) {
        return (*this)(default_fusion_t{}, samples...);
    }
    template <FusionChoice Fusion, class... Samples>
    auto operator()(Fusion, const Samples&... samples) const
        noexcept(detail::scratch_fits_stack<plan_for<Fusion>::sample_storage> &&
                 !checks_inputs<graph_type>) {
        static_assert(detail::are_samples_of<type_list<Samples...>, type_list<Inputs...>>,
                      "xfuse::Model: a single-sample call takes one xt::xtensor_fixed<float, "
                      "xt::xshape<...>> per input, of that input's shape (predict takes batches)");
        using run_plan = plan_for<Fusion>;
        (check_input_batch<graph_type, Inputs>(samples.data(), 1), ...);
        auto results = std::tuple<detail::fixed_sample_t<typename Outputs::shape_type>...>{};
        detail::with_scratch<run_plan::sample_storage>([&](float* scratch) noexcept {
            run_plan::run(layers_, scratch, 1,
                          stage_inputs<run_plan>(scratch, 1, samples.data()...));
            [&]<std::size_t... O>(std::index_sequence<O...>) {
                (detail::unpad_samples<typename Outputs::shape_type>(
                     run_plan::template buffer<Outputs>(scratch, 1), 1,
                     std::get<O>(results).data()),
                 ...);
            }
            (std::index_sequence_for<Outputs...>{});
        });
        return unwrap(std::move(results));
    }

  protected:
    training_config& compiled(const char* what) {
        return const_cast<training_config&>(std::as_const(*this).compiled(what));
    }
    const training_config& compiled(const char* what) const {
        if (!training_)
            throw std::logic_error(std::string("xfuse: Model::") + what + ": call compile() first");
        return *training_;
    }

    // `outputs` carry the values of the layers behind them (core/symbolic.hpp).
    Model(std::shared_ptr<parameter_store> base, std::string_view base_name, bool show_inputs,
          const Outputs&... outputs)
        : name_(detail::unique_model_name(base_name)),
          store_(bind_layers<graph_type>(std::move(base), layers_,
                                         detail::next_initialization_seed(), outputs...)),
          show_inputs_(show_inputs) {}

  private:
    template <class Operation, class Self, class Path, class... Options>
    static void file_operation(Self& self, const Path& path, Options... options) {
        if constexpr (requires { io_file(Operation{}, self, path, options...); })
            io_file(Operation{}, self, path, options...);
        else
            static_assert(sizeof...(Options) + 1 == 0,
                          "xfuse::Model: save_weights, load_weights, save_checkpoint and "
                          "load_checkpoint need #include <xfuse/hdf5.hpp> and the CMake target "
                          "xfuse::hdf5; they take a path, and xf::by_name when loading");
    }

    template <class M, std::size_t L>
    friend class layer_handle;

    template <class Fusion>
    using plan_for = execution_plan_t<graph_type, Fusion>;

    // Makes each input's `count` samples (contiguous, from `rows`) available to the plan: read
    // where they are if the plan can (Plan::reads_in_place), else copied into padded rows of its
    // scratch buffer.
    template <class Plan, class... Rows>
    static typename Plan::input_sources stage_inputs(float* scratch, std::size_t count,
                                                     const Rows*... rows) noexcept {
        typename Plan::input_sources in_place{};
        (
            [&] {
                if constexpr (Plan::template reads_in_place<Inputs>)
                    in_place[graph_type::template node_index<Inputs>] = rows;
                else
                    detail::pad_samples<typename Inputs::shape_type>(
                        rows, count, Plan::template buffer<Inputs>(scratch, count));
            }(),
            ...);
        return in_place;
    }

    // Samples per pass through the graph: enough to amortise the kernel calls, few enough that
    // the tile's scratch fits in L2 and on the stack (predict allocates only its result). A
    // multiple of every block height of the Dense kernels (kernels::dense_blocking: 2, 3, 4, 6
    // or 8 rows, so 24) where the scratch allows: rows left over after the blocks run one at a
    // time, several times slower than in a block.
    static constexpr std::size_t block_rows_multiple = 24;
    template <class Plan>
    static constexpr std::size_t tile_samples = [] {
        const std::size_t fitting =
            std::max<std::size_t>(1, detail::stack_scratch_floats / Plan::sample_storage);
        return fitting >= block_rows_multiple ? fitting / block_rows_multiple * block_rows_multiple
                                              : fitting;
    }();

    template <Shape S>
    static std::array<std::size_t, S::rank + 1> batch_shape(std::size_t samples) {
        std::array<std::size_t, S::rank + 1> dims{samples};
        std::copy(S::dims.begin(), S::dims.end(), dims.begin() + 1);
        return dims;
    }

    template <class... Batches>
    static std::size_t checked_batch_samples(const Batches&... batches) {
        constexpr std::array<std::string_view, sizeof...(Inputs)> names{
            graph_type::names[graph_type::template layer_index<Inputs>].view()...};
        const std::array<std::size_t, sizeof...(Inputs)> samples{
            detail::checked_samples<typename Inputs::shape_type>(
                "Model::predict", names[index_of_v<type_list<Inputs...>, Inputs>], batches)...};
        return detail::common_samples("Model::predict", names, samples);
    }

    template <class Plan, class Results, std::size_t... O>
    void store_outputs(Results& results, float* scratch, std::size_t first, std::size_t count,
                       std::index_sequence<O...>) const {
        (detail::unpad_samples<typename Outputs::shape_type>(
             Plan::template buffer<Outputs>(scratch, count), count,
             std::get<O>(results).data() + first * Outputs::shape_type::size),
         ...);
    }

    template <class Tuple>
    static auto unwrap(Tuple&& results) {
        if constexpr (std::tuple_size_v<std::remove_cvref_t<Tuple>> == 1)
            return std::get<0>(std::forward<Tuple>(results));
        else
            return std::forward<Tuple>(results);
    }

    std::string name_;
    layer_bindings<graph_type> layers_;
    std::shared_ptr<parameter_store> store_;
    bool show_inputs_ = true;
    std::optional<training_config> training_;
    std::vector<optimizer_state> optimizer_states_;
};

template <class NamingRoot, class... Inputs, class... Outputs>
Model(input_list<NamingRoot, Inputs...>, Outputs...)
    -> Model<input_list<NamingRoot, Inputs...>, Outputs...>;

}  // namespace xfuse

#include "layer_handle.hpp"
