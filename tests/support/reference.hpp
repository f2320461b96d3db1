// The tests' double-precision references, one per layer kind: plain scalar loops over unpadded,
// row-major values (xf::testing::tensor), written from Keras' formulas and sharing no code with
// the library's kernels. reference::of<Layer> adapts them to xf::testing::check_layer; the
// matrix functions at the end serve the model-level tests, through the same references.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <xfuse/testing/check_layer.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

namespace reference {

using xfuse::testing::tensor;

// ---- activations ----------------------------------------------------------------------------

inline double sigmoid_of(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

// An element-wise activation of one value.
template <class Act>
double activate_one(double x) {
    constexpr std::string_view name = Act::name;
    if constexpr (name == "linear")
        return x;
    else if constexpr (name == "relu")
        return x > 0 ? x : 0.0;
    else if constexpr (name == "leaky_relu")
        return x > 0 ? x : Act::negative_slope * x;
    else if constexpr (name == "sigmoid")
        return sigmoid_of(x);
    else if constexpr (name == "tanh")
        return std::tanh(x);
    else if constexpr (name == "elu")
        return x > 0 ? x : std::expm1(x);
    else if constexpr (name == "selu")  // Klambauer et al.'s constants
        return 1.0507009873554804934 * (x > 0 ? x : 1.6732632423543772848 * std::expm1(x));
    else if constexpr (name == "gelu")  // the exact form, Keras' default
        return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    else if constexpr (name == "softplus")
        return std::log1p(std::exp(x));
    else if constexpr (name == "softsign")
        return x / (1 + std::abs(x));
    else if constexpr (name == "swish" || name == "silu")
        return x * sigmoid_of(x);
    else if constexpr (name == "exponential")
        return std::exp(x);
    else if constexpr (name == "hard_sigmoid")  // tf.keras 2.x's piecewise-linear form
        return std::clamp(0.2 * x + 0.5, 0.0, 1.0);
    else
        static_assert(name == "linear", "reference::activate: no reference for this activation");
}

// The activation of one row of n values (softmax acts on the row as a whole).
template <class Act>
void activate(double* row, std::size_t n) {
    if constexpr (Act::name == std::string_view("softmax")) {
        const double top = *std::max_element(row, row + n);
        double sum = 0;
        for (std::size_t i = 0; i < n; ++i)
            sum += (row[i] = std::exp(row[i] - top));
        for (std::size_t i = 0; i < n; ++i)
            row[i] /= sum;
    } else {
        for (std::size_t i = 0; i < n; ++i)
            row[i] = activate_one<Act>(row[i]);
    }
}

// ---- layers ------------------------------------------------------------------------------------

// Dense: y = act(x W + b) on the last axis, W as Keras' (in, out) kernel.
template <class Act>
tensor dense(const tensor& x, const tensor& kernel, const tensor* bias) {
    const std::size_t in = kernel.shape[0], out = kernel.shape[1];
    const std::size_t rows = x.values.size() / in;
    tensor y{x.shape, std::vector<double>(rows * out)};
    y.shape.back() = out;
    for (std::size_t r = 0; r < rows; ++r) {
        double* row = &y.values[r * out];
        for (std::size_t j = 0; j < out; ++j) {
            double sum = bias ? bias->values[j] : 0.0;
            for (std::size_t i = 0; i < in; ++i)
                sum += x.values[r * in + i] * kernel.values[i * out + j];
            row[j] = sum;
        }
        activate<Act>(row, out);
    }
    return y;
}

// Activation: act on the last axis.
template <class Act>
tensor activation(tensor x) {
    const std::size_t last = x.shape.back();
    for (std::size_t r = 0; r < x.values.size() / last; ++r)
        activate<Act>(&x.values[r * last], last);
    return x;
}

// Keras' axis (the batch is axis 0; negative counts from the end) as an index into the shape.
inline std::size_t axis_index(int axis, std::size_t rank) {
    return axis < 0 ? rank - std::size_t(-axis) : std::size_t(axis);
}

// Concatenate along a Keras axis: the inputs end to end, in their order.
inline tensor concatenate(const std::vector<tensor>& xs, int axis) {
    const std::size_t a = axis_index(axis, xs[0].shape.size());
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < a; ++d)
        outer *= xs[0].shape[d];
    for (std::size_t d = a + 1; d < xs[0].shape.size(); ++d)
        inner *= xs[0].shape[d];
    tensor y{xs[0].shape, {}};
    y.shape[a] = 0;
    for (const tensor& x : xs)
        y.shape[a] += x.shape[a];
    for (std::size_t o = 0; o < outer; ++o)
        for (const tensor& x : xs) {
            const std::size_t block = x.shape[a] * inner;
            y.values.insert(y.values.end(), x.values.begin() + o * block,
                            x.values.begin() + (o + 1) * block);
        }
    return y;
}

// Dot: Keras' batch_dot along a Keras axis, of (batch, n) or (batch, rows, cols) operands, each
// L2-normalised along the axis first when `normalize` (tf.linalg.l2_normalize).
inline tensor dot(const tensor& x, const tensor& y, int axes, bool normalize) {
    const std::size_t rank = x.shape.size();
    const std::size_t axis = axis_index(axes, rank);  // 1 or 2
    const std::size_t n = x.shape[0];
    const std::size_t length = x.shape[axis];
    // Operand `t`, sample b, vector v (along the other sample axis), element k along the axis.
    const auto at = [&](const tensor& t, std::size_t b, std::size_t v, std::size_t k) {
        if (rank == 2)
            return t.values[b * length + k];
        const std::size_t rows = t.shape[1], cols = t.shape[2];
        return axis == 2 ? t.values[(b * rows + v) * cols + k]
                         : t.values[(b * rows + k) * cols + v];
    };
    const std::size_t left = rank == 2 ? 1 : x.shape[3 - axis];
    const std::size_t right = rank == 2 ? 1 : y.shape[3 - axis];
    tensor out{
        rank == 2 ? std::vector<std::size_t>{n, 1} : std::vector<std::size_t>{n, left, right},
        std::vector<double>(n * left * right)};
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t i = 0; i < left; ++i)
            for (std::size_t j = 0; j < right; ++j) {
                double sum = 0, xx = 0, yy = 0;
                for (std::size_t k = 0; k < length; ++k) {
                    const double u = at(x, b, i, k), v = at(y, b, j, k);
                    sum += u * v;
                    xx += u * u;
                    yy += v * v;
                }
                if (normalize)
                    sum /= std::sqrt(std::max(xx, 1e-12)) * std::sqrt(std::max(yy, 1e-12));
                out.values[(b * left + i) * right + j] = sum;
            }
    return out;
}

// The merge layers: one element-wise fold over the inputs.
enum class merge_op { add, subtract, multiply, average, maximum, minimum };

inline tensor merge(const std::vector<tensor>& xs, merge_op op) {
    tensor y = xs[0];
    for (std::size_t e = 0; e < y.values.size(); ++e) {
        double& v = y.values[e];
        for (std::size_t i = 1; i < xs.size(); ++i) {
            const double w = xs[i].values[e];
            switch (op) {
                case merge_op::add:
                case merge_op::average:
                    v += w;
                    break;
                case merge_op::subtract:
                    v -= w;
                    break;
                case merge_op::multiply:
                    v *= w;
                    break;
                case merge_op::maximum:
                    v = std::max(v, w);
                    break;
                case merge_op::minimum:
                    v = std::min(v, w);
                    break;
            }
        }
        if (op == merge_op::average)
            v /= double(xs.size());
    }
    return y;
}

// Layer normalisation over the last axis, the biased variance; gamma and beta may be absent.
inline tensor layer_normalization(const tensor& x, const tensor* gamma, const tensor* beta,
                                  double epsilon) {
    tensor y = x;
    const std::size_t n = x.shape.back();
    for (std::size_t r = 0; r < x.values.size() / n; ++r) {
        const double* row = x.values.data() + r * n;
        double mean = 0, variance = 0;
        for (std::size_t i = 0; i < n; ++i)
            mean += row[i] / double(n);
        for (std::size_t i = 0; i < n; ++i)
            variance += (row[i] - mean) * (row[i] - mean) / double(n);
        for (std::size_t i = 0; i < n; ++i) {
            double v = (row[i] - mean) / std::sqrt(variance + epsilon);
            if (gamma)
                v *= gamma->values[i];
            if (beta)
                v += beta->values[i];
            y.values[r * n + i] = v;
        }
    }
    return y;
}

// Keras' GlobalAveragePooling1D and GlobalMaxPooling1D (tf_keras/layers/pooling/
// global_average_pooling1d.py, global_max_pooling1d.py): the mean or max over axis 1 of
// (samples, steps, features).
inline tensor pool_steps(const tensor& x, bool max) {
    const std::size_t n = x.shape[0], steps = x.shape[1], d = x.shape[2];
    tensor y{{n, d}, std::vector<double>(n * d)};
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t f = 0; f < d; ++f) {
            double acc = max ? x.values[s * steps * d + f] : 0.0;
            for (std::size_t t = 0; t < steps; ++t) {
                const double v = x.values[(s * steps + t) * d + f];
                acc = max ? std::max(acc, v) : acc + v;
            }
            y.values[s * d + f] = max ? acc : acc / double(steps);
        }
    return y;
}

// Flatten and Reshape: the same values in row-major order, under the output's sample shape.
inline tensor reshaped(tensor x, const std::vector<std::size_t>& sample_shape) {
    x.shape.resize(1);
    x.shape.insert(x.shape.end(), sample_shape.begin(), sample_shape.end());
    return x;
}

// Keras' Embedding (tf_keras/layers/core/embedding.py): table[id] for each id, appended as a last
// axis. The ids are integers; rounding keeps them so under central differences.
inline tensor embedding(const tensor& ids, const tensor& table) {
    const std::size_t d = table.shape[1];
    tensor y{ids.shape, {}};
    y.shape.push_back(d);
    for (double v : ids.values) {
        const auto id = static_cast<std::size_t>(std::lround(v));
        if (id >= table.shape[0])
            throw std::out_of_range("reference::embedding: id outside the table");
        y.values.insert(y.values.end(), table.values.begin() + long(id * d),
                        table.values.begin() + long((id + 1) * d));
    }
    return y;
}

// keras-hub's TokenAndPositionEmbedding (keras_hub/src/layers/modeling/
// token_and_position_embedding.py): the token embedding plus row t of the position table.
inline tensor token_and_position_embedding(const tensor& ids, const tensor& tokens,
                                           const tensor& positions) {
    tensor y = embedding(ids, tokens);
    const std::size_t steps = ids.shape[1], d = tokens.shape[1];
    for (std::size_t i = 0; i < y.values.size(); ++i)
        y.values[i] += positions.values[(i / d) % steps * d + i % d];
    return y;
}

// ---- the references as xf::testing::check_layer takes them -------------------------------------

using tensors = std::vector<tensor>;

template <class Layer>
struct of;

template <std::size_t Units, auto Act, xfuse::fixed_string Name, bool UseBias, class Tag>
struct of<xfuse::Dense<Units, Act, Name, UseBias, Tag>> {
    tensor operator()(const tensors& params, const tensors& inputs) const {
        using act = std::remove_cvref_t<decltype(Act)>;
        return dense<act>(inputs[0], params[0], UseBias ? &params[1] : nullptr);
    }
};

template <auto F, xfuse::fixed_string Name, class Tag>
struct of<xfuse::Activation<F, Name, Tag>> {
    tensor operator()(const tensors&, const tensors& inputs) const {
        return activation<std::remove_cvref_t<decltype(F)>>(inputs[0]);
    }
};

// Made from the layer, whose epsilon it takes.
template <xfuse::fixed_string Name, bool Center, bool Scale, class Tag>
struct of<xfuse::LayerNormalization<Name, Center, Scale, Tag>> {
    double epsilon = xfuse::layer_normalization_options{}.epsilon;

    of() = default;
    explicit of(const xfuse::LayerNormalization<Name, Center, Scale, Tag>& layer)
        : epsilon(layer.epsilon) {}

    tensor operator()(const tensors& params, const tensors& inputs) const {
        return layer_normalization(inputs[0], Scale ? &params[0] : nullptr,
                                   Center ? &params[Scale ? 1 : 0] : nullptr, epsilon);
    }
};

// Outside fit, where check_layer runs it: the identity.
template <xfuse::fixed_string Name, class Tag>
struct of<xfuse::Dropout<Name, Tag>> {
    tensor operator()(const tensors&, const tensors& inputs) const { return inputs[0]; }
};

template <int Axis, xfuse::fixed_string Name, class Tag>
struct of<xfuse::Concatenate<Axis, Name, Tag>> {
    tensor operator()(const tensors&, const tensors& inputs) const {
        return concatenate(inputs, Axis);
    }
};

template <int Axes, bool Normalize, xfuse::fixed_string Name, class Tag>
struct of<xfuse::Dot<Axes, Normalize, Name, Tag>> {
    tensor operator()(const tensors&, const tensors& inputs) const {
        return dot(inputs[0], inputs[1], Axes, Normalize);
    }
};

template <merge_op Op>
struct merge_reference {
    tensor operator()(const tensors&, const tensors& inputs) const { return merge(inputs, Op); }
};
template <xfuse::fixed_string N, class T>
struct of<xfuse::Add<N, T>> : merge_reference<merge_op::add> {};
template <xfuse::fixed_string N, class T>
struct of<xfuse::Subtract<N, T>> : merge_reference<merge_op::subtract> {};
template <xfuse::fixed_string N, class T>
struct of<xfuse::Multiply<N, T>> : merge_reference<merge_op::multiply> {};
template <xfuse::fixed_string N, class T>
struct of<xfuse::Average<N, T>> : merge_reference<merge_op::average> {};
template <xfuse::fixed_string N, class T>
struct of<xfuse::Maximum<N, T>> : merge_reference<merge_op::maximum> {};
template <xfuse::fixed_string N, class T>
struct of<xfuse::Minimum<N, T>> : merge_reference<merge_op::minimum> {};

template <xfuse::fixed_string N, class T>
struct of<xfuse::GlobalAveragePooling1D<N, T>> {
    tensor operator()(const tensors&, const tensors& inputs) const {
        return pool_steps(inputs[0], false);
    }
};
template <xfuse::fixed_string N, class T>
struct of<xfuse::GlobalMaxPooling1D<N, T>> {
    tensor operator()(const tensors&, const tensors& inputs) const {
        return pool_steps(inputs[0], true);
    }
};
template <xfuse::fixed_string N, class T>
struct of<xfuse::Flatten<N, T>> {
    tensor operator()(const tensors&, const tensors& inputs) const {
        return reshaped(inputs[0], {xfuse::testing::detail::element_count(inputs[0].shape) /
                                    inputs[0].shape[0]});
    }
};
template <int D0, int D1, int D2, int D3, xfuse::fixed_string N, class T>
struct of<xfuse::Reshape<D0, D1, D2, D3, N, T>> {
    tensor operator()(const tensors&, const tensors& inputs) const {
        // Keras' target_shape, with its one -1 resolved from the sample's size.
        const std::size_t size =
            xfuse::testing::detail::element_count(inputs[0].shape) / inputs[0].shape[0];
        std::vector<std::size_t> target;
        std::size_t known = 1;
        for (int d : {D0, D1, D2, D3})
            if (d > 0)
                known *= std::size_t(d);
        for (int d : {D0, D1, D2, D3})
            if (d != 0)
                target.push_back(d == -1 ? size / known : std::size_t(d));
        return reshaped(inputs[0], target);
    }
};
template <std::size_t I, std::size_t O, xfuse::fixed_string N, class T>
struct of<xfuse::Embedding<I, O, N, T>> {
    tensor operator()(const tensors& params, const tensors& inputs) const {
        return embedding(inputs[0], params[0]);
    }
};
template <std::size_t V, std::size_t L, std::size_t D, xfuse::fixed_string N, class T>
struct of<xfuse::TokenAndPositionEmbedding<V, L, D, N, T>> {
    tensor operator()(const tensors& params, const tensors& inputs) const {
        return token_and_position_embedding(inputs[0], params[0], params[1]);
    }
};

// ---- random data ------------------------------------------------------------------------------

// A (rows, cols) batch of normal(0, scale) floats; the same seed gives the same batch.
inline xt::xtensor<float, 2> random_batch(std::size_t rows, std::size_t cols, unsigned seed,
                                          float scale = 1.0f) {
    const tensor values = xfuse::testing::random_tensor(
        {rows, cols}, seed, std::normal_distribution<float>(0.0f, scale));
    xt::xtensor<float, 2> t({rows, cols});
    std::copy(values.values.begin(), values.values.end(), t.begin());
    return t;
}

// ---- rows of features, for model-level tests -------------------------------------------------

using matrix = std::vector<std::vector<double>>;

inline tensor to_tensor(const matrix& m) {
    tensor t{{m.size(), m.empty() ? 0 : m[0].size()}, {}};
    for (const auto& row : m)
        t.values.insert(t.values.end(), row.begin(), row.end());
    return t;
}
inline tensor to_tensor(const xt::xarray<float>& a) {
    return {std::vector<std::size_t>(a.shape().begin(), a.shape().end()),
            std::vector<double>(a.begin(), a.end())};
}
inline matrix to_matrix(const tensor& t) {
    const std::size_t cols = t.shape.back();
    matrix m(t.values.size() / cols);
    for (std::size_t r = 0; r < m.size(); ++r)
        m[r].assign(t.values.begin() + r * cols, t.values.begin() + (r + 1) * cols);
    return m;
}

inline matrix from_xtensor(const xt::xtensor<float, 2>& t) {
    return to_matrix(to_tensor(xt::xarray<float>(t)));
}

// x W + b, W given as Keras' (in, out) kernel; no bias when `bias` is empty.
inline matrix dense(const matrix& x, const xt::xarray<float>& kernel,
                    const xt::xarray<float>& bias) {
    const tensor b = to_tensor(bias);
    return to_matrix(
        dense<xfuse::linear_t>(to_tensor(x), to_tensor(kernel), bias.size() ? &b : nullptr));
}
// f applied to every entry.
template <class F>
matrix map(matrix m, F f) {
    for (auto& row : m)
        for (double& v : row)
            v = f(v);
    return m;
}
inline matrix relu(const matrix& m) {
    return to_matrix(activation<xfuse::relu_t>(to_tensor(m)));
}
inline matrix sigmoid(const matrix& m) {
    return to_matrix(activation<xfuse::sigmoid_t>(to_tensor(m)));
}
inline matrix softmax(const matrix& m) {
    return to_matrix(activation<xfuse::softmax_t>(to_tensor(m)));
}
inline matrix concatenate(const matrix& a, const matrix& b) {
    return to_matrix(concatenate({to_tensor(a), to_tensor(b)}, -1));
}
inline matrix row_dot(const matrix& a, const matrix& b) {
    return to_matrix(dot(to_tensor(a), to_tensor(b), 1, false));
}

// Largest |a - b| over all entries.
inline double max_abs_difference(const xt::xtensor<float, 2>& actual, const matrix& expected) {
    double worst = 0;
    for (std::size_t i = 0; i < expected.size(); ++i)
        for (std::size_t j = 0; j < expected[i].size(); ++j)
            worst = std::max(worst, std::abs(double(actual(i, j)) - expected[i][j]));
    return worst;
}

}  // namespace reference
