// Inverted dropout with counter-based randomness: whether an element is kept is a hash of (the
// run's seed, the epoch, the layer, the sample's row in the data, the element's index), so that
// the backward pass recomputes the forward pass's mask instead of storing it, and the mask does
// not depend on the batch size, the order of the batch, or how samples are split among threads.
// Kept elements are scaled by 1 / (1 - rate), as tf.nn.dropout does, so the expected output is
// the input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xfuse::kernels {

// The key of one sample's mask in one layer at one epoch.
struct dropout_key {
    std::uint64_t seed = 0;
    std::uint64_t epoch = 0;
    std::uint64_t layer = 0;
    std::uint64_t sample = 0;
};

namespace detail {

// SplitMix64's finaliser: every input bit reaches every output bit.
constexpr std::uint64_t mix(std::uint64_t z) noexcept {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

constexpr std::uint64_t sample_stream(const dropout_key& key) noexcept {
    return mix(mix(mix(mix(key.seed) ^ key.epoch) ^ key.layer) ^ key.sample);
}

// Whether element `index` of the sample is kept: its uniform draw in [0, 1), 24 bits, is at
// least the rate.
constexpr bool kept(std::uint64_t stream, std::uint64_t index, float rate) noexcept {
    const float uniform = static_cast<float>(mix(stream ^ index) >> 40) * 0x1.0p-24f;
    return uniform >= rate;
}

}  // namespace detail

// y = x * mask / (1 - rate) over one sample's rows of n logical floats, `stride` apart; element
// (r, c) has index r * n + c. With `accumulate`, y += instead (the backward pass, x then being
// dL/dy and y dL/dx).
inline void dropout_sample(const float* x, float* y, std::size_t rows, std::size_t n,
                           std::size_t stride, float rate, const dropout_key& key,
                           bool accumulate) noexcept {
    const std::uint64_t stream = detail::sample_stream(key);
    const float scale = 1.0f / (1.0f - rate);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < n; ++c) {
            const float value =
                detail::kept(stream, r * n + c, rate) ? x[r * stride + c] * scale : 0.0f;
            y[r * stride + c] = accumulate ? y[r * stride + c] + value : value;
        }
}

}  // namespace xfuse::kernels
