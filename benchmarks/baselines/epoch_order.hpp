// The order in which the training baselines visit the samples in one epoch: 0 .. n - 1, shuffled
// by a std::mt19937_64 seeded with the epoch's seed when there is one (Keras' shuffle = true),
// so every trainer pays the same permutation and gather cost xfuse's fit() does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <random>
#include <vector>

namespace bench {

template <class Index>
void epoch_order(std::vector<Index>& order, std::size_t n, std::optional<std::uint64_t> seed) {
    order.resize(n);
    std::iota(order.begin(), order.end(), Index{0});
    if (seed) {
        std::mt19937_64 engine(*seed);
        std::shuffle(order.begin(), order.end(), engine);
    }
}

}  // namespace bench
