// docs/seed_walkthrough.md: the seed notebook, step by step, with each claim of the page checked.
#include <xfuse/xfuse.hpp>
#ifdef XFUSE_HAS_PLOT
#include <xfuse/plot.hpp>
#endif
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "check.hpp"

namespace xf = xfuse;

// The summary as the page shows it. Keras pads every row with spaces to the full width; the
// page cannot keep trailing spaces reliably, so both sides are compared without them.
std::string without_trailing_spaces(const std::string& text) {
    std::istringstream lines(text);
    std::string line, result;
    while (std::getline(lines, line)) {
        line.erase(line.find_last_not_of(' ') + 1);
        result += line + "\n";
    }
    return result;
}

const char* const expected_summary = R"(Model: "model"
__________________________________________________________________________________________________
 Layer (type)                   Output Shape         Param #     Connected to
==================================================================================================
 input_1 (InputLayer)           [(None, 10)]         0           []

 input_2 (InputLayer)           [(None, 20)]         0           []

 dense (Dense)                  (None, 32)           352         ['input_1[0][0]']

 dense_1 (Dense)                (None, 64)           1344        ['input_2[0][0]']

 concatenate (Concatenate)      (None, 96)           0           ['dense[0][0]',
                                                                  'dense_1[0][0]']

 attention (Dense)              (None, 96)           9312        ['concatenate[0][0]']

 dot (Dot)                      (None, 1)            0           ['concatenate[0][0]',
                                                                  'attention[0][0]']

 dense_2 (Dense)                (None, 1)            2           ['dot[0][0]']

==================================================================================================
Total params: 11,010
Trainable params: 11,010
Non-trainable params: 0
__________________________________________________________________________________________________
)";

const char* const expected_attention_summary = R"(Model: "model_1"
__________________________________________________________________________________________________
 Layer (type)                   Output Shape         Param #     Connected to
==================================================================================================
 input_1 (InputLayer)           [(None, 10)]         0           []

 input_2 (InputLayer)           [(None, 20)]         0           []

 dense (Dense)                  (None, 32)           352         ['input_1[0][0]']

 dense_1 (Dense)                (None, 64)           1344        ['input_2[0][0]']

 concatenate (Concatenate)      (None, 96)           0           ['dense[0][0]',
                                                                  'dense_1[0][0]']

 attention (Dense)              (None, 96)           9312        ['concatenate[0][0]']

==================================================================================================
Total params: 11,008
Trainable params: 11,008
Non-trainable params: 0
__________________________________________________________________________________________________
)";

// Per sample, the share of its attention that its k largest weights hold, averaged over samples.
double top_share(const xt::xtensor<float, 2>& weights, std::size_t k) {
    double total = 0;
    for (std::size_t n = 0; n < weights.shape(0); ++n) {
        std::vector<float> row(xt::row(weights, n).begin(), xt::row(weights, n).end());
        std::partial_sort(row.begin(), row.begin() + k, row.end(), std::greater<>());
        total += std::accumulate(row.begin(), row.begin() + k, 0.0);
    }
    return total / weights.shape(0);
}

int main(int argc, char** argv) {
    // Pictures go to the folder given, or the working directory.
    const std::filesystem::path pictures = argc > 1 ? argv[1] : ".";
    // [graph]
    auto input1 = xf::Input<10>{};
    auto input2 = xf::Input<20>{};
    auto x1 = xf::Dense<32, xf::relu>{}(input1);
    auto x2 = xf::Dense<64, xf::relu>{}(input2);
    auto x = xf::Concatenate{}(x1, x2);                         // (96)
    auto alpha = xf::Dense<96, xf::softmax, "attention">{}(x);  // the weights, (96)
    auto s = xf::Dot<1>{}(x, alpha);                            // the weighted sum, (1)
    auto output = xf::Dense<1, xf::sigmoid>{}(s);
    // [graph]
    static_assert(std::is_same_v<decltype(x)::shape_type, xf::shape<96>>);
    static_assert(std::is_same_v<decltype(alpha)::shape_type, xf::shape<96>>);
    static_assert(std::is_same_v<decltype(s)::shape_type, xf::shape<1>>);
    static_assert(std::is_same_v<decltype(output)::shape_type, xf::shape<1>>);

    // [model]
    auto model = xf::Model{xf::inputs(input1, input2), output};
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    model.summary();
    // [model]
    std::ostringstream summary;
    model.summary(summary);
    CHECK(without_trailing_spaces(summary.str()) == expected_summary);
    CHECK(model.name() == "model");
    CHECK(model.count_params() == 11010);
    CHECK(model.is_compiled());
    CHECK(std::get<xf::Adam>(model.optimizer()).learning_rate == 1e-3f);

    // [layer order]
    // Keras' model.layers: deepest first; at one depth, in the order a search from the
    // output first meets them.
    const std::vector<std::string> keras_order{"input_1",     "input_2",   "dense", "dense_1",
                                               "concatenate", "attention", "dot",   "dense_2"};
    CHECK(model.layer_names() == keras_order);
    // [layer order]

    // [sub-model]
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    attention.summary();
    xt::xtensor<float, 2> a = xt::random::randn<float>({10000, 10});
    xt::xtensor<float, 2> b = xt::random::randn<float>({10000, 20});
    xt::xtensor<float, 2> o = attention.predict(a, b);
    std::cout << "(" << o.shape(0) << ", " << o.shape(1) << ")\n";  // (10000, 96)
    std::cout << xt::sum(xt::row(o, 1234))() << "\n";               // 1
    // [sub-model]
    std::ostringstream attention_summary;
    attention.summary(attention_summary);
    CHECK(without_trailing_spaces(attention_summary.str()) == expected_attention_summary);
    CHECK(attention.name() == "model_1");
    CHECK(attention.count_params() == 352 + 1344 + 9312);
    CHECK(o.shape(0) == 10000 && o.shape(1) == 96);
    for (std::size_t n = 0; n < o.shape(0); ++n) {
        const float sum = xt::sum(xt::row(o, n))();
        if (std::abs(sum - 1.0f) > 1e-5f) {
            std::cerr << "row " << n << " sums to " << sum << "\n";
            ++docs::failures;
            break;
        }
    }
    CHECK(xt::amin(o)() > 0.0f);

    // [shared weights]
    // Zero logits give every feature the weight 1/96. The sub-model sees the change: the
    // attention layer's weights are one set, owned by both models.
    auto attention_layer = model.get_layer<"attention">();
    const std::vector<xt::xarray<float>> initial = attention_layer.get_weights();
    attention_layer.set_weights({xt::zeros<float>({96, 96}), xt::zeros<float>({96})});
    xt::xtensor<float, 2> uniform = attention.predict(a, b);
    attention_layer.set_weights(initial);
    // [shared weights]
    CHECK(xt::amax(xt::abs(uniform - 1.0f / 96))() < 1e-6f);
    CHECK(xt::amax(xt::abs(attention.predict(a, b) - o))() == 0.0f);

    // [weighted average]
    auto parts =
        xf::Model{model.inputs(), model.get_layer<"concatenate">().output(),
                  model.get_layer<"attention">().output(), model.get_layer<"dot">().output()};
    auto [features, weights, pooled] = parts.predict(a, b);
    // [weighted average]
    for (std::size_t n = 0; n < 100; ++n) {
        const auto f = xt::row(features, n);
        const auto w = xt::row(weights, n);
        const float expected = xt::sum(f * w)();
        CHECK(std::abs(pooled(n, 0) - expected) <= 1e-5f * (1.0f + std::abs(expected)));
        // Weights that are positive and sum to 1 make the sum a weighted average: it lies
        // between the smallest and the largest feature of its sample.
        CHECK(pooled(n, 0) >= xt::amin(f)() - 1e-5f && pooled(n, 0) <= xt::amax(f)() + 1e-5f);
    }
    // Dynamic: each sample gets its own weights.
    CHECK(xt::amax(xt::abs(xt::row(weights, 0) - xt::row(weights, 1)))() > 1e-4f);

    // [first attempt]
    // The notebook's first AttentionLayer: one logit per sample, then a softmax over it.
    auto e = xf::Dense<1, xf::softmax>{}(x);
    auto first_attempt = xf::Model{model.inputs(), e};
    xt::xtensor<float, 2> ones = first_attempt.predict(a, b);  // 1.0 for every sample
    // [first attempt]
    CHECK(ones.shape(1) == 1 && xt::all(xt::equal(ones, 1.0f)));

#ifdef XFUSE_HAS_PLOT
    // [pictures]
    xf::plot_model(model, pictures / "seed_model.svg", {.show_shapes = true});

    // A task where two of the 30 input features decide: y = 1 when a[:, 0] + b[:, 0] > 0.
    xt::xtensor<float, 2> y = xt::cast<float>(
        xt::view(a, xt::all(), xt::range(0, 1)) + xt::view(b, xt::all(), xt::range(0, 1)) > 0.0f);
    auto first_20 = [](const xt::xtensor<float, 2>& t) {
        return xt::xtensor<float, 2>(xt::view(t, xt::range(0, 20), xt::all()));
    };
    std::vector<std::string> samples, columns;
    for (int i = 0; i < 20; ++i)
        samples.push_back("sample " + std::to_string(i));
    for (int j = 0; j < 96; ++j)
        columns.push_back(j % 8 == 0 ? std::to_string(j) : "");
    auto draw_attention = [&](const std::string& when) {
        xt::xtensor<float, 2> weights = attention.predict(first_20(a), first_20(b));
        xf::plot_attention(weights, pictures / ("attention_" + when + ".png"),
                           {.row_labels = samples,
                            .column_labels = columns,
                            .title = "attention weights of 20 samples, " + when + " training",
                            .vmin = 0.0});
        return weights;
    };
    xt::xtensor<float, 2> before = draw_attention("before");
    model.fit(std::tie(a, b), y, xf::FitOptions{.epochs = 20, .verbose = 0, .seed = 1});
    xt::xtensor<float, 2> after = draw_attention("after");
    // [pictures]
    // Before training the weights spread over all 96 features; after it, each sample puts
    // nearly all of its attention on one or two of them.
    CHECK(top_share(before, 8) < 0.3);
    CHECK(top_share(after, 8) > 0.9);
    // Which features get the attention, over all samples: the units of the two feature layers
    // that read the informative inputs (a[:, 0] or b[:, 0]) most.
    const xt::xtensor<float, 2> all_after = attention.predict(a, b);
    const xt::xtensor<float, 1> mass = xt::mean(all_after, {0});
    const auto w1 = model.get_layer<"dense">().get_weights()[0];    // (10, 32)
    const auto w2 = model.get_layer<"dense_1">().get_weights()[0];  // (20, 64)
    auto informative_share = [&](std::size_t j) {
        const auto& w = j < 32 ? w1 : w2;
        const std::size_t unit = j < 32 ? j : j - 32;
        double all = 0;
        for (std::size_t i = 0; i < w.shape(0); ++i)
            all += std::abs(w(i, unit));
        return std::abs(w(0, unit)) / all;
    };
    double attended = 0, average = 0;
    for (std::size_t j = 0; j < 96; ++j) {
        attended += mass(j) * informative_share(j);
        average += informative_share(j) / 96;
    }
    CHECK(attended > 1.5 * average);
#endif

    return docs::exit_code();
}
