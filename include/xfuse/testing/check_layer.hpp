// xf::testing::check_layer<Layer, In...>([layer,] reference, options): the one conformance check a
// layer type passes, built-in or user-written (in the spirit of dlib's test_layer), with its
// default options or those of `layer`. For the layer
// applied to inputs of sample shapes In... it checks, on random data:
//
//   shape        the reference's output has the shape the layer declares, (samples, Out...);
//   forward      the layer's own forward, on xfuse's padded buffers whose padding lanes hold NaN,
//                against the double-precision reference, and it writes nothing past its output;
//   one sample   forward of each sample alone gives the batch's row bit for bit;
//   model        a Model made of the layer alone: the plain plan's predict is the layer's
//                forward bit for bit, the fused plan's predict agrees with it (fused_tolerance),
//                and each plan's single-sample call gives its predict's row bit for bit;
//   gradients    backward against central differences, in double, of the reference, for every
//                input element and every parameter, of a random linear functional of the output;
//                backward adds to the gradients it is given, leaves the parameters' padding
//                lanes at 0, gives the same parameter gradients when no input gradient is asked
//                for (nullptr), and no NaN from the padding lanes of the inputs, of the output
//                gradient or of the input gradients reaches a logical lane.
//
// The reference is the layer's formula written independently, in double, on plain row-major
// values: reference(params, inputs) -> tensor, where params holds the layer's weights in the
// order and shapes of L::weights<In...>, and inputs[k] holds `samples` samples of In_k,
// shape (samples, In_k...). Because the gradients are differences of the reference, the forward
// check first confirms that the reference computes what the layer computes.
//
// The Model it builds takes the next model name ("model_1", ...) like any other; its inputs
// have at most 4 axes, as xf::Input.
//
// check_layer returns a check_result instead of throwing, so that any test framework (or none)
// can report it: `passed` and a message naming the layer, its input shapes, each failed check
// and the values that failed it. It throws only what allocation throws.
//
// The sizes of the layer's axes are the caller's template arguments; simd_tail_sizes lists the
// ones around the SIMD width where kernels change path (a partial register, a whole one, one
// and a bit), and a layer is checked at each of them.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The library as users include it (the checker builds a Model, which is the top floor), first:
// core/config.hpp must see xsimd before xtensor includes it.
#include "../xfuse.hpp"
// (the rest)
#include <xtensor/xarray.hpp>
#include <xtensor/xfixed.hpp>

namespace xfuse::testing {

// One tensor's values in double precision: row-major, unpadded, with its shape.
struct tensor {
    std::vector<std::size_t> shape;
    std::vector<double> values;
};

// Feature sizes at which a layer's kernels change path: one value, a partial register, a whole
// register, one and a bit, two and a partial.
inline constexpr std::array<std::size_t, 5> simd_tail_sizes{
    1, simd_width > 1 ? simd_width - 1 : 2, simd_width, simd_width + 1, 2 * simd_width + 3};

namespace detail {
inline std::size_t element_count(const std::vector<std::size_t>& shape) {
    std::size_t n = 1;
    for (std::size_t d : shape)
        n *= d;
    return n;
}
}  // namespace detail

// A tensor of the given shape filled from `distribution` (uniform in [-1, 1) by default), each
// value rounded to float so that the float buffers the layer sees hold exactly the reference's
// values. The same seed gives the same values.
template <class Distribution = std::uniform_real_distribution<double>>
tensor random_tensor(std::vector<std::size_t> shape, unsigned seed,
                     Distribution distribution = Distribution(-1.0, 1.0)) {
    std::mt19937 engine(seed);
    const std::size_t size = detail::element_count(shape);
    tensor t{std::move(shape), std::vector<double>(size)};
    for (double& v : t.values)
        v = static_cast<double>(static_cast<float>(distribution(engine)));
    return t;
}

struct check_options {
    std::size_t samples = 9;  // a whole tile of 8 rows and one more
    unsigned seed = 1;
    double input_range = 2.0;  // inputs uniform in [-input_range, input_range)
    // A layer that reads integers (an Embedding's token ids) sets this to n: its inputs are then
    // integers uniform in [0, n), and its reference reads them as such (rounding to the nearest
    // integer, so that central differences, which move an input by `step`, keep its value).
    std::size_t integer_inputs = 0;
    double parameter_range = 0.5;  // weights uniform in [-parameter_range, parameter_range)
    // |layer - reference| <= forward_tolerance * (1 + |reference|): float sums of O(100) terms
    // of O(1) round to a few 1e-7 relative.
    double forward_tolerance = 1e-5;
    // The fused plan may round differently from the layer's own forward (another summation
    // order); 0 asks for bit-identical results.
    double fused_tolerance = 1e-5;
    // Inference-only layers (no backward) set this to false; otherwise a missing or misdeclared
    // backward is a failure, not a silent skip.
    bool gradients = true;
    // |backward - difference| <= gradient_tolerance * (1 + |difference|). Central differences in
    // double with this step err by ~1e-10, so what is measured is the float backward's rounding.
    double gradient_tolerance = 2e-5;
    double step = 1e-6;
    std::size_t failures_shown = 5;  // per check; the message counts the rest
};

struct check_result {
    bool passed = true;
    std::string message;              // empty when passed; else one line per failure shown
    double worst_forward_error = 0;   // relative, as forward_tolerance measures it
    double worst_gradient_error = 0;  // relative, as gradient_tolerance measures it
    explicit operator bool() const noexcept { return passed; }
};

namespace detail {

inline constexpr float garbage = std::numeric_limits<float>::quiet_NaN();
inline constexpr float canary = 12345.0f;  // after the output; a layer must not overwrite it

inline std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + ")";
}

// Collects failures, showing the first few of each check.
class failure_log {
  public:
    failure_log(std::string subject, std::size_t shown)
        : subject_(std::move(subject)), shown_(shown) {}

    template <class... Parts>
    void fail(const std::string& check, const Parts&... parts) {
        if (counts_[check]++ >= shown_)
            return;
        std::ostringstream line;
        line.precision(9);
        line << subject_ << ": " << check << ": ";
        (line << ... << parts);
        lines_.push_back(line.str());
    }

    void finish(check_result& result) const {
        result.passed = counts_.empty();
        for (const std::string& line : lines_)
            result.message += line + "\n";
        for (const auto& [check, count] : counts_)
            if (count > shown_)
                result.message += subject_ + ": " + check + ": " + std::to_string(count - shown_) +
                                  " more failures not shown\n";
    }

  private:
    std::string subject_;
    std::size_t shown_;
    std::map<std::string, std::size_t> counts_;
    std::vector<std::string> lines_;
};

// Where each logical value of `rows` rows of `last` values lies in xfuse's padded layout: rows
// of padded(last) floats, starting at `first`.
inline void add_padded_positions(std::vector<std::size_t>& positions, std::size_t rows,
                                 std::size_t last, std::size_t first = 0) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < last; ++c)
            positions.push_back(first + r * padded(last) + c);
}

template <Shape S>
std::vector<std::size_t> sample_positions(std::size_t samples) {
    std::vector<std::size_t> positions;
    add_padded_positions(positions, samples * S::rows, S::last);
    return positions;
}

template <std::size_t K>
std::vector<std::size_t> parameter_positions(const std::array<weight_spec, K>& specs) {
    std::vector<std::size_t> positions;
    std::size_t first = 0;
    for (const weight_spec& w : specs) {
        add_padded_positions(positions, w.rows(), w.last(), first);
        first += w.storage();
    }
    return positions;
}

// `storage` floats: `values` at `positions`, `padding` elsewhere.
inline aligned_buffer padded_buffer(const std::vector<double>& values,
                                    const std::vector<std::size_t>& positions, std::size_t storage,
                                    float padding) {
    aligned_buffer buffer(storage);
    std::fill_n(buffer.data(), storage, padding);
    for (std::size_t i = 0; i < positions.size(); ++i)
        buffer.data()[positions[i]] = static_cast<float>(values[i]);
    return buffer;
}

inline bool same_bits(float a, float b) noexcept {
    return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

inline double relative_error(double actual, double expected) noexcept {
    const double error = std::abs(actual - expected) / (1 + std::abs(expected));
    return std::isnan(error) ? std::numeric_limits<double>::infinity() : error;
}

template <class L, class... In>
concept has_backward = requires(const L& layer, const float* p, float* g, std::size_t n,
                                std::array<const float*, sizeof...(In)> in,
                                std::array<float*, sizeof...(In)> in_grad, call_context c) {
    layer.template backward<In...>(p, g, n, in, p, p, in_grad);
}
|| requires(const L& layer, const float* p, float* g, std::size_t n,
            std::array<const float*, sizeof...(In)> in, std::array<float*, sizeof...(In)> in_grad,
            call_context c) {
    layer.template backward<In...>(p, g, n, in, p, p, in_grad, c);
};

// Input<D0, D1, D2, D3, Tag> for samples of shape S.
template <Shape S>
constexpr std::size_t input_axis(std::size_t i) {
    return i < S::rank ? S::dims[i] : 0;
}
template <std::size_t K>
struct model_input_tag;
template <Shape S, std::size_t K>
using model_input = Input<input_axis<S>(0), input_axis<S>(1), input_axis<S>(2), input_axis<S>(3),
                          model_input_tag<K>>;

template <Shape S, class Indices = std::make_index_sequence<S::rank>>
struct sample_type;
template <Shape S, std::size_t... I>
struct sample_type<S, std::index_sequence<I...>> {
    using type = xt::xtensor_fixed<float, xt::xshape<S::dims[I]...>>;
};

inline xt::xarray<float> to_xarray(const tensor& t) {
    auto a = xt::xarray<float>::from_shape(t.shape);
    std::copy(t.values.begin(), t.values.end(), a.begin());
    return a;
}

// Model checks: a Model of the layer alone, set to `params`, on `inputs`; `layer_out` is the
// layer's own forward of the whole batch at `out_positions`.
template <class L, Shape... In, std::size_t... K>
void check_model(const L& layer, const std::vector<tensor>& params,
                 const std::vector<tensor>& inputs, const float* layer_out,
                 const std::vector<std::size_t>& out_positions, const check_options& options,
                 failure_log& log, std::index_sequence<K...>) {
    static_assert(((In::rank <= 4) && ...),
                  "xf::testing::check_layer: input samples have at most 4 axes, as xf::Input");
    using Out = typename L::template output_shape<In...>;
    auto model = Model{xfuse::inputs(model_input<In, K>{}...), layer(model_input<In, K>{}...)};
    std::vector<xt::xarray<float>> weights;
    for (const tensor& w : params)
        weights.push_back(to_xarray(w));
    model.set_weights(weights);
    const std::array<xt::xarray<float>, sizeof...(In)> batches{to_xarray(inputs[K])...};
    const auto plain = model.predict(unfused, batches[K]...);
    const auto fused_out = model.predict(fused, batches[K]...);

    std::vector<std::size_t> expected_shape{options.samples};
    expected_shape.insert(expected_shape.end(), Out::dims.begin(), Out::dims.end());
    for (const auto* result : {&plain, &fused_out}) {
        const std::vector<std::size_t> shape(result->shape().begin(), result->shape().end());
        if (shape != expected_shape) {
            log.fail("model", "predict returns shape ", shape_text(shape), ", expected ",
                     shape_text(expected_shape));
            return;
        }
    }
    for (std::size_t i = 0; i < out_positions.size(); ++i) {
        const float expected = layer_out[out_positions[i]];
        if (!same_bits(plain.data()[i], expected))
            log.fail("model", "the plain plan's predict gives ", plain.data()[i], " at output[", i,
                     "], the layer's forward ", expected);
        if (!(relative_error(fused_out.data()[i], plain.data()[i]) <= options.fused_tolerance))
            log.fail("fused", "the fused plan's predict gives ", fused_out.data()[i], " at output[",
                     i, "], the plain plan ", plain.data()[i]);
    }
    for (std::size_t s = 0; s < options.samples; ++s) {
        const std::tuple<typename sample_type<In>::type...> one{[&] {
            typename sample_type<In>::type sample;
            std::copy_n(batches[K].begin() + s * In::size, In::size, sample.begin());
            return sample;
        }()...};
        const auto plain_one = model(unfused, std::get<K>(one)...);
        const auto fused_one = model(fused, std::get<K>(one)...);
        for (std::size_t j = 0; j < Out::size; ++j) {
            const std::size_t i = s * Out::size + j;
            if (!same_bits(plain_one.data()[j], plain.data()[i]))
                log.fail("model single sample", "sample ", s, " alone gives ", plain_one.data()[j],
                         " at output[", j, "] in the plain plan, its row of predict ",
                         plain.data()[i]);
            if (!same_bits(fused_one.data()[j], fused_out.data()[i]))
                log.fail("model single sample", "sample ", s, " alone gives ", fused_one.data()[j],
                         " at output[", j, "] in the fused plan, its row of predict ",
                         fused_out.data()[i]);
        }
    }
}

// sum c * reference(params, inputs): the functional whose gradient backward computes. Not
// inlined: g++ 12 otherwise reports a false -Wfree-nonheap-object where it is called.
template <class Reference>
[[gnu::noinline]] double functional(Reference& reference, const std::vector<tensor>& params,
                                    const std::vector<tensor>& inputs,
                                    const std::vector<double>& c) {
    const tensor y = reference(params, inputs);
    double sum = 0;
    for (std::size_t q = 0; q < c.size() && q < y.values.size(); ++q)
        sum += c[q] * y.values[q];
    return sum;
}

template <class L, Shape... In, class Reference>
void check_gradients(const L& layer, Reference& reference, std::vector<tensor>& params,
                     std::vector<tensor>& inputs, const aligned_buffer& params_f,
                     const std::array<aligned_buffer, sizeof...(In)>& inputs_f,
                     const aligned_buffer& out, const check_options& options, failure_log& log,
                     check_result& result) {
    constexpr std::size_t k = sizeof...(In);
    using Out = typename L::template output_shape<In...>;
    constexpr auto specs = L::template weights<In...>;
    const std::size_t samples = options.samples;
    const std::size_t param_storage = total_storage(specs);
    const auto param_positions = parameter_positions(specs);
    const std::array<std::vector<std::size_t>, k> in_positions{sample_positions<In>(samples)...};
    const std::array<std::size_t, k> in_storage{samples * In::storage...};
    const auto out_positions = sample_positions<Out>(samples);

    std::array<const float*, k> input_pointers;
    for (std::size_t i = 0; i < k; ++i)
        input_pointers[i] = inputs_f[i].data();
    const std::vector<double> c = random_tensor({out_positions.size()}, options.seed + 1000).values;
    const aligned_buffer out_grad =
        padded_buffer(c, out_positions, samples * Out::storage, garbage);

    // Gradients that already hold `base` in their logical lanes: backward adds to them.
    constexpr double base = 0.25;
    const auto filled = [&](const std::vector<std::size_t>& positions, std::size_t storage,
                            float padding) {
        return padded_buffer(std::vector<double>(positions.size(), base), positions, storage,
                             padding);
    };
    aligned_buffer param_grads = filled(param_positions, param_storage, 0.0f);
    std::array<aligned_buffer, k> input_grads;
    std::array<float*, k> input_grad_pointers;
    for (std::size_t i = 0; i < k; ++i) {
        input_grads[i] = filled(in_positions[i], in_storage[i], garbage);
        input_grad_pointers[i] = input_grads[i].data();
    }
    call_layer<backward_function, In...>(layer, call_context{}, params_f.data(), param_grads.data(),
                                         samples, input_pointers, out.data(), out_grad.data(),
                                         input_grad_pointers);

    const auto difference = [&](double& variable) {
        const double saved = variable;
        variable = saved + options.step;
        const double plus = functional(reference, params, inputs, c);
        variable = saved - options.step;
        const double minus = functional(reference, params, inputs, c);
        variable = saved;
        return (plus - minus) / (2 * options.step);
    };
    const auto compare = [&](float accumulated, double numeric, const char* what, std::size_t at) {
        const double analytic = double(accumulated) - base;
        const double error = relative_error(analytic, numeric);
        result.worst_gradient_error = std::max(result.worst_gradient_error, error);
        if (!(error <= options.gradient_tolerance))
            log.fail("gradients", what, "[", at, "]: backward ", analytic, ", central difference ",
                     numeric);
    };
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t e = 0; e < in_positions[i].size(); ++e)
            compare(input_grads[i].data()[in_positions[i][e]], difference(inputs[i].values[e]),
                    ("input " + std::to_string(i)).c_str(), e);
    std::size_t e = 0;
    for (std::size_t w = 0; w < params.size(); ++w)
        for (double& v : params[w].values) {
            compare(param_grads.data()[param_positions[e++]], difference(v),
                    std::string(specs[w].name).c_str(), &v - params[w].values.data());
        }

    std::vector<bool> logical(param_storage, false);
    for (std::size_t p : param_positions)
        logical[p] = true;
    for (std::size_t p = 0; p < param_storage; ++p)
        if (!logical[p] && param_grads.data()[p] != 0.0f)
            log.fail("gradients", "padding lane ", p, " of the parameter gradients holds ",
                     param_grads.data()[p], ", not 0");

    // No input gradient asked for: the same parameter gradients.
    aligned_buffer alone = filled(param_positions, param_storage, 0.0f);
    call_layer<backward_function, In...>(layer, call_context{}, params_f.data(), alone.data(),
                                         samples, input_pointers, out.data(), out_grad.data(),
                                         std::array<float*, k>{});
    for (std::size_t p = 0; p < param_storage; ++p)
        if (!same_bits(alone.data()[p], param_grads.data()[p]))
            log.fail("gradients", "without input gradients, parameter gradient ", p, " is ",
                     alone.data()[p], ", with them ", param_grads.data()[p]);
}

template <Shape... In>
std::string subject(std::string_view class_name, std::string_view name) {
    std::string text(class_name);
    if (!name.empty())
        text += " '" + std::string(name) + "'";
    text += " on";
    std::size_t i = 0;
    ((text += (i++ ? ", " : " ") + shape_string<In>()), ...);
    return text;
}

}  // namespace detail

// Checks `layer`, of type L, applied to inputs of sample shapes In... against `reference`, a
// callable tensor(const std::vector<tensor>& params, const std::vector<tensor>& inputs); the top
// of this file says what is checked.
template <class L, Shape... In, class Reference>
requires std::is_invocable_r_v < tensor, Reference&, const std::vector<tensor>
&, const std::vector<tensor>& > check_result check_layer(const L& layer, Reference&& reference,
                                                         const check_options& options = {}) {
    static_assert(Layer<L>, "xf::testing::check_layer: the first argument is a layer type");
    static_assert(sizeof...(In) >= 1, "xf::testing::check_layer: give the input sample shapes");
    constexpr std::size_t k = sizeof...(In);
    using Out = typename L::template output_shape<In...>;
    constexpr auto specs = L::template weights<In...>;
    const std::size_t samples = options.samples;
    check_result result;
    detail::failure_log log(detail::subject<In...>(L::class_name, L::name), options.failures_shown);
    if (samples == 0) {
        log.fail("options", "samples must be positive");
        log.finish(result);
        return result;
    }

    // Random weights and inputs, in double and in xfuse's padded float buffers.
    std::vector<tensor> params;
    for (std::size_t w = 0; w < specs.size(); ++w)
        params.push_back(random_tensor(
            std::vector<std::size_t>(specs[w].dims.begin(), specs[w].dims.begin() + specs[w].rank),
            options.seed + unsigned(w),
            std::uniform_real_distribution<double>(-options.parameter_range,
                                                   options.parameter_range)));
    std::vector<tensor> inputs;
    (
        [&] {
            std::vector<std::size_t> shape{samples};
            shape.insert(shape.end(), In::dims.begin(), In::dims.end());
            const unsigned seed = options.seed + 100 + unsigned(inputs.size());
            if (options.integer_inputs > 0)
                inputs.push_back(random_tensor(
                    std::move(shape), seed,
                    std::uniform_int_distribution<int>(0, int(options.integer_inputs) - 1)));
            else
                inputs.push_back(random_tensor(std::move(shape), seed,
                                               std::uniform_real_distribution<double>(
                                                   -options.input_range, options.input_range)));
        }(),
        ...);
    std::vector<double> flat_params;
    for (const tensor& w : params)
        flat_params.insert(flat_params.end(), w.values.begin(), w.values.end());
    // The padding lanes of weights hold 0, as in a Model's parameter storage.
    const aligned_buffer params_f = detail::padded_buffer(
        flat_params, detail::parameter_positions(specs), total_storage(specs), 0.0f);
    const std::array<std::vector<std::size_t>, k> in_positions{
        detail::sample_positions<In>(samples)...};
    const std::array<std::size_t, k> in_storage{In::storage...};
    std::array<aligned_buffer, k> inputs_f;
    std::array<const float*, k> input_pointers;
    for (std::size_t i = 0; i < k; ++i) {
        inputs_f[i] = detail::padded_buffer(inputs[i].values, in_positions[i],
                                            samples * in_storage[i], detail::garbage);
        input_pointers[i] = inputs_f[i].data();
    }

    // Shape: what the reference computes against what the layer declares.
    const tensor expected = reference(std::as_const(params), std::as_const(inputs));
    std::vector<std::size_t> out_shape{samples};
    out_shape.insert(out_shape.end(), Out::dims.begin(), Out::dims.end());
    if (expected.shape != out_shape) {
        log.fail("shape", "the layer declares ", detail::shape_text(out_shape),
                 ", the reference computes ", detail::shape_text(expected.shape));
        log.finish(result);
        return result;
    }
    if (expected.values.size() != detail::element_count(out_shape)) {
        log.fail("shape", "the reference returns ", expected.values.size(), " values for shape ",
                 detail::shape_text(expected.shape));
        log.finish(result);
        return result;
    }

    // Forward, into NaN followed by canaries that must survive.
    const std::size_t out_storage = samples * Out::storage;
    const auto out_positions = detail::sample_positions<Out>(samples);
    aligned_buffer out(out_storage + simd_width);
    std::fill_n(out.data(), out_storage, detail::garbage);
    std::fill_n(out.data() + out_storage, simd_width, detail::canary);
    const float* params_pointer = specs.empty() ? nullptr : params_f.data();
    call_layer<forward_function, In...>(layer, call_context{}, params_pointer, samples,
                                        input_pointers, out.data());
    for (std::size_t i = 0; i < out_positions.size(); ++i) {
        const float actual = out.data()[out_positions[i]];
        const double error = detail::relative_error(actual, expected.values[i]);
        result.worst_forward_error = std::max(result.worst_forward_error, error);
        if (!(error <= options.forward_tolerance))
            log.fail("forward", "output[", i, "] is ", actual, ", the reference ",
                     expected.values[i]);
    }
    if (!std::all_of(out.data() + out_storage, out.data() + out_storage + simd_width,
                     [](float v) { return detail::same_bits(v, detail::canary); })) {
        // What else it overwrites (a Model's scratch, the stack) is unknown: stop here.
        log.fail("forward", "writes past its output (", out_storage, " floats for ", samples,
                 " samples); the remaining checks are skipped");
        log.finish(result);
        return result;
    }

    // One sample alone, at its own aligned address.
    for (std::size_t s = 0; s < samples; ++s) {
        std::array<aligned_buffer, k> one;
        std::array<const float*, k> one_pointers;
        for (std::size_t i = 0; i < k; ++i) {
            one[i] = aligned_buffer(in_storage[i]);
            std::copy_n(inputs_f[i].data() + s * in_storage[i], in_storage[i], one[i].data());
            one_pointers[i] = one[i].data();
        }
        aligned_buffer one_out(Out::storage + simd_width);
        std::fill_n(one_out.data(), Out::storage, detail::garbage);
        call_layer<forward_function, In...>(layer, call_context{}, params_pointer, 1, one_pointers,
                                            one_out.data());
        for (std::size_t i = 0; i < Out::size; ++i) {
            const std::size_t p = out_positions[i];
            if (!detail::same_bits(one_out.data()[p], out.data()[s * Out::storage + p]))
                log.fail("one sample", "sample ", s, " alone gives ", one_out.data()[p],
                         " at output[", i, "], its row of the batch ",
                         out.data()[s * Out::storage + p]);
        }
    }

    detail::check_model<L, In...>(layer, params, inputs, out.data(), out_positions, options, log,
                                  std::make_index_sequence<k>{});

    if (options.gradients) {
        if constexpr (detail::has_backward<L, In...>)
            detail::check_gradients<L, In...>(layer, reference, params, inputs, params_f, inputs_f,
                                              out, options, log, result);
        else
            log.fail("gradients",
                     "the layer has no backward<In...> with the protocol's "
                     "signature (layers/layer.hpp); an inference-only layer sets "
                     "check_options::gradients = false");
    }
    log.finish(result);
    return result;
}

// The same for a layer with its default options.
template <class L, Shape... In, class Reference>
requires std::is_invocable_r_v < tensor, Reference&, const std::vector<tensor>
&, const std::vector<tensor>& >
       check_result check_layer(Reference&& reference, const check_options& options = {}) {
    return check_layer<L, In...>(L{}, reference, options);
}

// A result prints as its message, or "passed".
inline std::ostream& operator<<(std::ostream& os, const check_result& result) {
    return os << (result.passed ? std::string("passed") : result.message);
}

}  // namespace xfuse::testing
