// docs/getting_started.md: a first model, from building it to its weights and its errors.
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace xf = xfuse;

// Every claim of the page is checked; a failed one is printed and makes the program fail.
int failures = 0;
#define CHECK(condition)                                                               \
    do {                                                                               \
        if (!(condition)) {                                                            \
            std::cerr << __FILE__ << ":" << __LINE__ << ": check failed: " #condition "\n"; \
            ++failures;                                                                \
        }                                                                              \
    } while (false)

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
    for (float p : probabilities) CHECK(p > 0.0f && p < 1.0f);

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
    for (float c : constant) CHECK(std::abs(c - 1.0f / (1.0f + std::exp(-2.0f))) < 1e-6f);

    // [bad batch]
    // The number of features is wrong: 7 instead of 8.
    xt::xtensor<float, 2> wrong = xt::zeros<float>({5, 7});
    try {
        model.predict(wrong);
    } catch (const std::invalid_argument& error) {
        std::cout << error.what() << "\n";
    }
    // [bad batch]
    std::string message;
    try {
        model.predict(wrong);
    } catch (const std::invalid_argument& error) {
        message = error.what();
    }
    CHECK(message ==
          "xfuse: Model::predict input 'input_1': expected shape (None, 8), got (5, 7)");

    if (failures != 0) {
        std::cerr << failures << " check(s) failed\n";
        return EXIT_FAILURE;
    }
}
