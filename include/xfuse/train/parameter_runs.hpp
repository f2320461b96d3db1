// Which layers share one optimizer state: layers whose parameters follow each other in memory
// form one run, updated by one optimizer pass. A model that owns its weights is one run; a model
// built on another's inputs() may have several. The trainer (train/trainer.hpp) and checkpoints
// (io/optimizer_slots.hpp) both follow this one rule, so a checkpoint's states are the ones the
// next fit() keeps.
#pragma once

#include <array>
#include <cstddef>
#include <utility>
#include <vector>

namespace xfuse::detail {

struct parameter_run {
    std::size_t first_layer;
    float* first;
    std::size_t size;  // floats of padded storage
};

template <class Graph>
std::vector<parameter_run> parameter_runs(const std::array<float*, Graph::layer_count>& params) {
    std::vector<parameter_run> runs;
    const auto add = [&](std::size_t layer, float* first, std::size_t size) {
        if (size == 0)
            return;
        if (!runs.empty() && runs.back().first + runs.back().size == first)
            runs.back().size += size;
        else
            runs.push_back({layer, first, size});
    };
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        (add(L, params[L], Graph::template storage_of_layer<L>), ...);
    }
    (std::make_index_sequence<Graph::layer_count>{});
    return runs;
}

}  // namespace xfuse::detail
