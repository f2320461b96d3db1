// Optimizers with Keras' defaults and update formulas: SGD, Adam, AdamW, RMSprop, Adagrad.
//
//   xf::Adam cfg{.learning_rate = 1e-3f};            // designated initialisers, Keras' names
//   xf::optimizer_state state = xf::make_state(cfg, n);   // slots sized to the parameter storage
//   xf::step(cfg, state, params, grads, n);          // one SIMD pass over the flat span
//
// Formulas are Keras 2.11+'s optimizers (keras/optimizers/{sgd,adam,adamw,rmsprop,adagrad}.py;
// Adam's math is the same in every Keras version). model.compile()
// records and validates a config; fit() (model/) owns one state per model parameter buffer and
// calls step() once per batch. Slots are float32 aligned buffers the size of the parameter
// storage, padding included: padding lanes have zero gradient and stay exactly zero
// (kernels/optimizer_steps.hpp). `iterations` counts steps, as Keras' optimizer.iterations.
//
// Not provided (Keras has them, the seed model does not need them): learning-rate schedules,
// clipnorm/clipvalue, weight_decay on optimizers other than AdamW, EMA.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "../kernels/aligned_buffer.hpp"
#include "../kernels/optimizer_steps.hpp"

namespace xfuse {

namespace detail {

// A range that a setting must lie in, and how an error says it.
struct setting_range {
    bool (*contains)(float);
    const char* expected;
};
inline constexpr setting_range positive{[](float v) { return v > 0.0f; }, "be positive"};
inline constexpr setting_range not_negative{[](float v) { return v >= 0.0f; }, "not be negative"};
inline constexpr setting_range below_one{[](float v) { return v >= 0.0f && v < 1.0f; },
                                         "lie in [0, 1)"};
inline constexpr setting_range up_to_one{[](float v) { return v >= 0.0f && v <= 1.0f; },
                                         "lie in [0, 1]"};

struct setting {
    const char* name;
    float value;
    setting_range range;
};

// Throws for the first setting outside its range (NaN is outside every range), naming the
// optimizer, the setting, the range and the value.
inline void check_settings(const char* optimizer, std::initializer_list<setting> settings) {
    for (const setting& s : settings)
        if (!s.range.contains(s.value))
            throw std::invalid_argument(std::string("xfuse::") + optimizer + ": " + s.name +
                                        " must " + s.range.expected + ", got " +
                                        std::to_string(s.value));
}

// The settings that Adam and AdamW share.
template <class Config>
void check_adam_settings(const char* optimizer, const Config& c) {
    check_settings(optimizer, {{"learning_rate", c.learning_rate, positive},
                               {"beta_1", c.beta_1, below_one},
                               {"beta_2", c.beta_2, below_one},
                               {"epsilon", c.epsilon, not_negative}});
}

}  // namespace detail

struct SGD {
    float learning_rate = 0.01f;
    float momentum = 0.0f;
    bool nesterov = false;

    void validate() const {
        detail::check_settings("SGD", {{"learning_rate", learning_rate, detail::positive},
                                       {"momentum", momentum, detail::up_to_one}});
    }
};

struct Adam {
    float learning_rate = 1e-3f;
    float beta_1 = 0.9f;
    float beta_2 = 0.999f;
    float epsilon = 1e-7f;
    bool amsgrad = false;

    void validate() const { detail::check_adam_settings("Adam", *this); }
};

// Keras' AdamW: decoupled weight decay w -= lr*weight_decay*w, then the Adam step.
struct AdamW {
    float learning_rate = 1e-3f;
    float weight_decay = 0.004f;
    float beta_1 = 0.9f;
    float beta_2 = 0.999f;
    float epsilon = 1e-7f;
    bool amsgrad = false;

    void validate() const {
        detail::check_adam_settings("AdamW", *this);
        detail::check_settings("AdamW", {{"weight_decay", weight_decay, detail::not_negative}});
    }
};

struct RMSprop {
    float learning_rate = 1e-3f;
    float rho = 0.9f;
    float momentum = 0.0f;
    float epsilon = 1e-7f;
    bool centered = false;

    void validate() const {
        detail::check_settings("RMSprop", {{"learning_rate", learning_rate, detail::positive},
                                           {"rho", rho, detail::below_one},
                                           {"momentum", momentum, detail::up_to_one},
                                           {"epsilon", epsilon, detail::not_negative}});
    }
};

struct Adagrad {
    float learning_rate = 1e-3f;
    float initial_accumulator_value = 0.1f;
    float epsilon = 1e-7f;

    void validate() const {
        detail::check_settings("Adagrad", {{"learning_rate", learning_rate, detail::positive},
                                           {"initial_accumulator_value", initial_accumulator_value,
                                            detail::not_negative},
                                           {"epsilon", epsilon, detail::not_negative}});
    }
};

// Any of the above, for a model that stores "the" optimizer.
using any_optimizer = std::variant<SGD, Adam, AdamW, RMSprop, Adagrad>;

// The optimizer's variables for one parameter buffer of `size` floats, in Keras' slot order:
// SGD: momentum (if momentum > 0); Adam/AdamW: m, v (, v_hat); RMSprop: velocity
// (, average_gradient if centered) (, momentum if momentum > 0); Adagrad: accumulator.
struct optimizer_state {
    std::vector<aligned_buffer> slots;
    std::size_t size = 0;
    std::int64_t iterations = 0;
};

namespace detail {
inline std::size_t slot_count(const SGD& c) {
    return c.momentum > 0.0f ? 1 : 0;
}
inline std::size_t slot_count(const Adam& c) {
    return c.amsgrad ? 3 : 2;
}
inline std::size_t slot_count(const AdamW& c) {
    return c.amsgrad ? 3 : 2;
}
inline std::size_t slot_count(const RMSprop& c) {
    return 1 + (c.centered ? 1 : 0) + (c.momentum > 0.0f ? 1 : 0);
}
inline std::size_t slot_count(const Adagrad&) {
    return 1;
}

template <std::size_t Slots>
std::array<float*, Slots> slot_pointers(optimizer_state& state) {
    std::array<float*, Slots> p{};
    for (std::size_t k = 0; k < Slots; ++k)
        p[k] = state.slots[k].data();
    return p;
}

// A state made for another optimizer or buffer would be read out of bounds: refuse it.
template <class Config>
void check_state(const Config& config, const optimizer_state& state, std::size_t n) {
    if (state.size != n || state.slots.size() != slot_count(config))
        throw std::invalid_argument(
            "xfuse::step: optimizer state was made for " + std::to_string(state.size) +
            " parameters with " + std::to_string(state.slots.size()) + " slots, expected " +
            std::to_string(n) + " parameters with " + std::to_string(slot_count(config)) +
            " slots (make it with make_state(config, n))");
}

template <class Config>
void adam_step(const Config& c, float decay, optimizer_state& state, float* params,
               const float* grads, std::size_t n) {
    ++state.iterations;  // t = iterations + 1 of the step, as Keras' local_step
    const float t = static_cast<float>(state.iterations);
    const float alpha =
        c.learning_rate * std::sqrt(1.0f - std::pow(c.beta_2, t)) / (1.0f - std::pow(c.beta_1, t));
    if (c.amsgrad)
        kernels::apply_update(
            kernels::adam_rule<true>{alpha, 1.0f - c.beta_1, 1.0f - c.beta_2, c.epsilon, decay},
            params, grads, slot_pointers<3>(state), n);
    else
        kernels::apply_update(
            kernels::adam_rule<false>{alpha, 1.0f - c.beta_1, 1.0f - c.beta_2, c.epsilon, decay},
            params, grads, slot_pointers<2>(state), n);
}
}  // namespace detail

template <class Config>
optimizer_state make_state(const Config& config, std::size_t size) {
    optimizer_state state;
    state.size = size;
    for (std::size_t k = 0; k < detail::slot_count(config); ++k)
        state.slots.emplace_back(size);
    if constexpr (std::is_same_v<Config, Adagrad>)
        std::fill_n(state.slots[0].data(), size, config.initial_accumulator_value);
    return state;
}
inline optimizer_state make_state(const any_optimizer& config, std::size_t size) {
    return std::visit([&](const auto& c) { return make_state(c, size); }, config);
}

// One update of params[0, n) with grads[0, n): the config's formula over the flat span.
inline void step(const SGD& c, optimizer_state& state, float* params, const float* grads,
                 std::size_t n) {
    detail::check_state(c, state, n);
    ++state.iterations;
    if (c.momentum <= 0.0f)
        kernels::apply_update(kernels::sgd_rule{c.learning_rate}, params, grads,
                              std::array<float*, 0>{}, n);
    else if (c.nesterov)
        kernels::apply_update(kernels::sgd_momentum_rule<true>{c.learning_rate, c.momentum}, params,
                              grads, detail::slot_pointers<1>(state), n);
    else
        kernels::apply_update(kernels::sgd_momentum_rule<false>{c.learning_rate, c.momentum},
                              params, grads, detail::slot_pointers<1>(state), n);
}

inline void step(const Adam& c, optimizer_state& state, float* params, const float* grads,
                 std::size_t n) {
    detail::check_state(c, state, n);
    detail::adam_step(c, 0.0f, state, params, grads, n);
}

inline void step(const AdamW& c, optimizer_state& state, float* params, const float* grads,
                 std::size_t n) {
    detail::check_state(c, state, n);
    detail::adam_step(c, c.learning_rate * c.weight_decay, state, params, grads, n);
}

inline void step(const RMSprop& c, optimizer_state& state, float* params, const float* grads,
                 std::size_t n) {
    detail::check_state(c, state, n);
    ++state.iterations;
    const bool momentum = c.momentum > 0.0f;
    auto run = [&]<bool Centered, bool Momentum>() {
        kernels::apply_update(kernels::rmsprop_rule<Centered, Momentum>{c.learning_rate, c.rho,
                                                                        c.momentum, c.epsilon},
                              params, grads, detail::slot_pointers<1 + Centered + Momentum>(state),
                              n);
    };
    if (c.centered)
        momentum ? run.template operator()<true, true>() : run.template operator()<true, false>();
    else
        momentum ? run.template operator()<false, true>() : run.template operator()<false, false>();
}

inline void step(const Adagrad& c, optimizer_state& state, float* params, const float* grads,
                 std::size_t n) {
    detail::check_state(c, state, n);
    ++state.iterations;
    kernels::apply_update(kernels::adagrad_rule{c.learning_rate, c.epsilon}, params, grads,
                          detail::slot_pointers<1>(state), n);
}

inline void step(const any_optimizer& config, optimizer_state& state, float* params,
                 const float* grads, std::size_t n) {
    std::visit([&](const auto& c) { step(c, state, params, grads, n); }, config);
}

inline void validate(const any_optimizer& config) {
    std::visit([](const auto& c) { c.validate(); }, config);
}

}  // namespace xfuse
