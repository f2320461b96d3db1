// The fusion switch. Every inference entry point takes an optional first argument choosing the
// execution plan at compile time:
//
//   model.predict(a, b);                 // fused kernels (the default)
//   model.predict(xf::unfused, a, b);    // one plain kernel per layer, in Keras' order
//
// Both plans live in the same program, so tests compare them and benchmarks measure what fusion
// buys. Defining XFUSE_DISABLE_FUSION makes the plain plan the default everywhere.
#pragma once

#include <concepts>

namespace xfuse {

struct fused_t {
    explicit fused_t() = default;
};
struct unfused_t {
    explicit unfused_t() = default;
};
inline constexpr fused_t fused{};
inline constexpr unfused_t unfused{};

template <class T>
concept FusionChoice = std::same_as<T, fused_t> || std::same_as<T, unfused_t>;

#ifdef XFUSE_DISABLE_FUSION
using default_fusion_t = unfused_t;
#else
using default_fusion_t = fused_t;
#endif

}  // namespace xfuse
