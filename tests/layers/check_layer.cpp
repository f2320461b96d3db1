// xf::testing::check_layer itself: a correct layer passes, and each kind of broken layer (or
// wrong reference) fails the check that is meant to catch it, so no check is vacuous.
#define BOOST_TEST_MODULE layers_check_layer
#include <boost/test/unit_test.hpp>
#include <xfuse/testing/check_layer.hpp>
#include <xfuse/xfuse.hpp>

#include "support/reference.hpp"

namespace xf = xfuse;
namespace t = xf::testing;

namespace {

// What is wrong with a Scale layer (y = x * scale, one scale per feature).
enum class fault {
    none,
    leak_padding,                  // a padding lane of the input reaches the output
    write_past,                    // one float past the output
    depends_on_batch,              // a sample alone rounds differently from its row of a batch
    stateful,                      // the output changes after the first call
    overwrite_grads,               // parameter gradients written, not added
    pad_grads,                     // padding lanes of the parameter gradients written
    leak_grad_padding,             // a padding lane of the output gradient reaches a gradient
    param_grads_need_input_grads,  // parameter gradients change when input gradients are null
    wrong_input_grad,              // one input gradient 1 % off
    leak_input_grad_padding        // a padding lane of the input gradient reaches a logical one
};

template <fault F>
struct Scale : xf::layer<Scale<F>> {
    static constexpr std::string_view class_name = "Scale";
    static constexpr std::string_view name = "";
    template <xf::Shape... In>
    using output_shape = std::tuple_element_t<0, std::tuple<In...>>;
    template <xf::Shape In>
    static constexpr std::array<xf::weight_spec, 1> weights_of() {
        return {xf::weight_spec{"scale", {In::last}, 1, xf::initializer::ones}};
    }
    template <xf::Shape... In>
    static constexpr auto weights = weights_of<In...>();

    template <xf::Shape In>
    static void forward(const float* p, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        static int calls = 0;
        ++calls;
        const std::size_t rows = samples * In::rows, s = In::row_stride;
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < In::last; ++c) {
                float v = in[0][r * s + c] * p[c];
                if constexpr (F == fault::leak_padding)
                    v += 0.0f * in[0][r * s + s - 1];
                if constexpr (F == fault::depends_on_batch)
                    if (samples == 1)
                        v *= 1.0000001f;
                if constexpr (F == fault::stateful)
                    if (calls > 1)
                        v *= 1.0000001f;
                out[r * s + c] = v;
            }
        if constexpr (F == fault::write_past) {
            // Deliberately past the output: the canary catches it, and check_layer then skips the
            // checks that would run this layer on buffers without a canary.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
            out[samples * In::storage] = 0;
#pragma GCC diagnostic pop
        }
    }
    template <xf::Shape In>
    static void backward(const float* p, float* pg, std::size_t samples,
                         std::array<const float*, 1> in, const float*, const float* g,
                         std::array<float*, 1> ig) noexcept {
        const std::size_t rows = samples * In::rows, s = In::row_stride;
        if constexpr (F == fault::overwrite_grads)
            for (std::size_t c = 0; c < In::last; ++c)
                pg[c] = 0;
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < In::last; ++c) {
                float gv = g[r * s + c];
                if constexpr (F == fault::leak_grad_padding)
                    gv += 0.0f * g[r * s + s - 1];
                pg[c] += gv * in[0][r * s + c];
                if constexpr (F == fault::param_grads_need_input_grads)
                    if (!ig[0])
                        pg[c] += 1e-3f;
                if (ig[0]) {
                    float d = gv * p[c];
                    if constexpr (F == fault::wrong_input_grad)
                        if (c == 0)
                            d *= 1.01f;
                    if constexpr (F == fault::leak_input_grad_padding)
                        d += 0.0f * ig[0][r * s + s - 1];
                    ig[0][r * s + c] += d;
                }
            }
        if constexpr (F == fault::pad_grads)
            for (std::size_t c = In::last; c < s; ++c)
                pg[c] = 1;
    }
};

// Inference only: no backward.
struct NoBackward : xf::layer<NoBackward> {
    static constexpr std::string_view class_name = "NoBackward";
    static constexpr std::string_view name = "";
    template <xf::Shape... In>
    using output_shape = std::tuple_element_t<0, std::tuple<In...>>;
    template <xf::Shape In>
    static void forward(const float*, std::size_t samples, std::array<const float*, 1> in,
                        float* out) noexcept {
        std::copy_n(in[0], samples * In::storage, out);
    }
};

t::tensor scale_reference(const std::vector<t::tensor>& p, const std::vector<t::tensor>& x) {
    t::tensor y = x[0];
    const std::size_t last = y.shape.back();
    for (std::size_t i = 0; i < y.values.size(); ++i)
        y.values[i] *= p[0].values[i % last];
    return y;
}

// Passes when `check` is empty, else fails with a line of that check.
void expect(const t::check_result& result, std::string_view check = {}) {
    if (check.empty()) {
        BOOST_TEST(result.passed, result.message);
    } else {
        BOOST_TEST(!result.passed);
        BOOST_TEST(result.message.find(": " + std::string(check) + ": ") != std::string::npos,
                   result.message);
    }
}

constexpr std::size_t n = xf::simd_width + 1;  // a partial last register: padding lanes exist
using S = xf::shape<n>;

}  // namespace

BOOST_AUTO_TEST_CASE(a_correct_layer_passes) {
    expect(t::check_layer<Scale<fault::none>, S>(scale_reference));
    using D = xf::Dense<n, xf::tanh, "", true, void>;
    t::check_options exact;
    exact.fused_tolerance = 0;
    expect(t::check_layer<D, S>(reference::of<D>{}, exact));
}

BOOST_AUTO_TEST_CASE(a_reference_that_disagrees_fails) {
    expect(t::check_layer<Scale<fault::none>, S>([](const auto& p, const auto& x) {
               auto y = scale_reference(p, x);
               y.values[3] *= 1.001;
               return y;
           }),
           "forward");
    using D = xf::Dense<n, xf::tanh, "", true, void>;
    expect(t::check_layer<D, S>([](const auto& p, const auto& x) {
               auto y = reference::of<D>{}(p, x);
               for (double& v : y.values)
                   v *= 1.0 + 1e-4;
               return y;
           }),
           "forward");
    expect(t::check_layer<Scale<fault::none>, S>([](const auto& p, const auto& x) {
               auto y = scale_reference(p, x);
               y.shape.back() += 1;
               return y;
           }),
           "shape");
    expect(t::check_layer<Scale<fault::none>, S>([](const auto& p, const auto& x) {
               auto y = scale_reference(p, x);
               y.values.pop_back();
               return y;
           }),
           "shape");
}

BOOST_AUTO_TEST_CASE(forward_faults_fail) {
    expect(t::check_layer<Scale<fault::leak_padding>, S>(scale_reference), "forward");
    expect(t::check_layer<Scale<fault::write_past>, S>(scale_reference), "forward");
    expect(t::check_layer<Scale<fault::depends_on_batch>, S>(scale_reference), "one sample");
    expect(t::check_layer<Scale<fault::stateful>, S>(scale_reference), "model");
}

BOOST_AUTO_TEST_CASE(backward_faults_fail) {
    expect(t::check_layer<Scale<fault::overwrite_grads>, S>(scale_reference), "gradients");
    expect(t::check_layer<Scale<fault::pad_grads>, S>(scale_reference), "gradients");
    expect(t::check_layer<Scale<fault::leak_grad_padding>, S>(scale_reference), "gradients");
    expect(t::check_layer<Scale<fault::leak_input_grad_padding>, S>(scale_reference), "gradients");
    expect(t::check_layer<Scale<fault::param_grads_need_input_grads>, S>(scale_reference),
           "gradients");
    expect(t::check_layer<Scale<fault::wrong_input_grad>, S>(scale_reference), "gradients");
}

BOOST_AUTO_TEST_CASE(a_missing_backward_fails_unless_inference_only) {
    const auto identity = [](const auto&, const auto& x) { return x[0]; };
    expect(t::check_layer<NoBackward, S>(identity), "gradients");
    t::check_options inference;
    inference.gradients = false;
    expect(t::check_layer<NoBackward, S>(identity, inference));
}
