// docs/getting_started.md: a first model, from building it to its weights and its errors.
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.hpp"

namespace xf = xfuse;

// Every claim of the page is checked; a failed one is printed and makes the program fail.

int main() {
    // [model]
    // 8 features in, one probability out. The type is the whole architecture.
    xf::Sequential<xf::Input<8>, xf::Dense<16, xf::relu>, xf::Dense<1, xf::sigmoid>> model;
    model.summary();
    // [model]
    CHECK(model.count_params() == (8 * 16 + 16) + (16 * 1 + 1));

    // [predict]
    // A batch is an xt::xtensor with the samples along the first axis.
    xt::xtensor<float, 2> batch = xt::random::randn<float>({5, 8});
    xt::xtensor<float, 2> probabilities = model.predict(batch);  // shape (5, 1)
    // [predict]
    CHECK(probabilities.shape(0) == 5 && probabilities.shape(1) == 1);
    // Other expressions are converted once: a double array, a view.
    CHECK(model.predict(xt::xtensor<double, 2>(batch)) == probabilities);
    CHECK(model.predict(xt::view(batch, xt::range(0, 2), xt::all())) ==
          xt::view(probabilities, xt::range(0, 2), xt::all()));
    for (float p : probabilities)
        CHECK(p > 0.0f && p < 1.0f);

    // [sample]
    // One sample, as a fixed-size tensor: no allocation, the shape is checked by the compiler.
    xt::xtensor_fixed<float, xt::xshape<8>> sample = xt::view(batch, 0, xt::all());
    xt::xtensor_fixed<float, xt::xshape<1>> p = model(sample);
    // [sample]
    CHECK(std::abs(p(0) - probabilities(0, 0)) < 1e-6f);

    // [weights]
    // Keras' order: per layer, kernel (in, out) then bias.
    std::vector<xt::xarray<float>> weights = model.get_weights();
    // weights[0]: (8, 16), weights[1]: (16,), weights[2]: (16, 1), weights[3]: (1,)
    weights[2].fill(0.0f);  // the last kernel
    weights[3](0) = 2.0f;   // the last bias
    model.set_weights(weights);
    xt::xtensor<float, 2> constant = model.predict(batch);  // sigmoid(2) for every sample
    // [weights]
    CHECK(weights.size() == 4);
    CHECK(weights[0].shape(0) == 8 && weights[0].shape(1) == 16);
    CHECK(weights[1].dimension() == 1 && weights[1].shape(0) == 16);
    CHECK(weights[2].shape(0) == 16 && weights[2].shape(1) == 1);
    CHECK(weights[3].dimension() == 1 && weights[3].shape(0) == 1);
    for (float c : constant)
        CHECK(std::abs(c - 1.0f / (1.0f + std::exp(-2.0f))) < 1e-6f);
    CHECK(model.get_layer<"dense_1">().get_weights()[1](0) == 2.0f);

#if defined(XFUSE_DOCS_SHAPE_ERROR)  // does not compile, on purpose
    // [shape error]
    auto features = xf::Input<8>{};
    auto hidden = xf::Dense<16, xf::relu>{}(features);
    auto score = xf::Dot<1>{}(features, hidden);  // 8 features against 16
    // [shape error]
#endif

    // [bad batch]
    // 7 features where the model takes 8: a run-time mistake, reported by an exception.
    xt::xtensor<float, 2> wrong = xt::zeros<float>({5, 7});
    std::string message;
    try {
        model.predict(wrong);
    } catch (const std::invalid_argument& error) {
        message = error.what();
    }
    std::cout << message << "\n";
    // xfuse: Model::predict input 'input_1': expected shape (None, 8), got (5, 7)
    // [bad batch]
    CHECK(message == "xfuse: Model::predict input 'input_1': expected shape (None, 8), got (5, 7)");

    // A weight list of the wrong length or shape is refused before any weight changes.
    const std::vector<xt::xarray<float>> before = model.get_weights();
    bool refused = false;
    try {
        model.set_weights({before[0], before[1], before[2]});
    } catch (const std::invalid_argument&) {
        refused = true;
    }
    CHECK(refused);
    try {
        model.set_weights({before[0], before[1], xt::zeros<float>({1, 16}), before[3]});
        refused = false;
    } catch (const std::invalid_argument& error) {
        CHECK(std::string(error.what()).find("expected shape (16, 1), got (1, 16)") !=
              std::string::npos);
    }
    CHECK(refused);
    const std::vector<xt::xarray<float>> after = model.get_weights();
    for (std::size_t i = 0; i < before.size(); ++i)
        CHECK(after[i] == before[i]);

    return docs::exit_code();
}
