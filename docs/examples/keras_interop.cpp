// docs/keras_interop.md: weight files between Keras and xfuse, both ways.
#include <xfuse/hdf5.hpp>
#include <xfuse/xfuse.hpp>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "check.hpp"

namespace xf = xfuse;

namespace {

auto build() {
    auto input1 = xf::Input<10>{};
    auto input2 = xf::Input<20>{};
    auto x1 = xf::Dense<32, xf::relu>{}(input1);
    auto x2 = xf::Dense<64, xf::relu>{}(input2);
    auto x = xf::Concatenate{}(x1, x2);
    auto alpha = xf::Dense<96, xf::softmax, "attention">{}(x);
    auto s = xf::Dot<1>{}(x, alpha);
    auto output = xf::Dense<1, xf::sigmoid>{}(s);
    return xf::Model{xf::inputs(input1, input2), output};
}

bool same(const std::vector<xt::xarray<float>>& a, const std::vector<xt::xarray<float>>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i])
            return false;
    return true;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

int main() {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("xfuse_docs_keras_interop_" + std::to_string(std::random_device{}()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto path = [&](const char* name) { return (dir / name).string(); };

    auto model = build();
    model.initialize_weights(7);

    // [save]
    model.save_weights(path("attention.h5"));
    // [save]

    // [load]
    auto deployed = build();
    deployed.load_weights(path("attention.h5"));               // layers matched by order
    deployed.load_weights(path("attention.h5"), xf::by_name);  // or by name
    // [load]
    CHECK(same(deployed.get_weights(), model.get_weights()));

    // [bad file]
    auto small = xf::Sequential<xf::Input<8>, xf::Dense<16, xf::tanh>, xf::Dense<1>>{};
    try {
        small.load_weights(path("attention.h5"));
    } catch (const xf::io::weight_file_error& error) {
        std::cerr << error.what() << '\n';  // the model's weights are unchanged
    }
    // [bad file]
    try {
        small.load_weights(path("attention.h5"));
        CHECK(false);
    } catch (const xf::io::weight_file_error& error) {
        const std::string message = error.what();
        CHECK(contains(message, "xfuse: load_weights: '" + path("attention.h5") + "'"));
        CHECK(contains(message,
                       "the model has 2 layers with weights (dense, dense_1), the file "
                       "has 4 (dense, dense_1, attention, dense_2)"));
    }

    // [checkpoint]
    xf::io::optimizer_state state{"Adam", 1200, {}};
    state.slots.push_back({"dense/kernel/m", xt::zeros<float>({10, 32})});
    xf::io::save_checkpoint(path("run.ckpt.h5"), model, state);

    auto resumed = build();
    xf::io::optimizer_state restored = xf::io::load_checkpoint(path("run.ckpt.h5"), resumed);
    // [checkpoint]
    CHECK(restored.name == "Adam" && restored.iterations == 1200);
    CHECK(restored.slots.size() == 1 && restored.slots[0].name == "dense/kernel/m");
    CHECK(same(resumed.get_weights(), model.get_weights()));

    // Saving never leaves anything but the target behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir))
        ++files;
    CHECK(files == 2);

    // A small training set: the label is the sign of the first input's first feature.
    std::mt19937 engine(3);
    std::normal_distribution<float> normal;
    xt::xtensor<float, 2> a({200, 10}), b({200, 20}), y({200, 1});
    for (float& v : a)
        v = normal(engine);
    for (float& v : b)
        v = normal(engine);
    for (std::size_t i = 0; i < 200; ++i)
        y(i, 0) = a(i, 0) > 0.0f ? 1.0f : 0.0f;

    auto straight = build();
    straight.initialize_weights(7);
    straight.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    straight.fit(std::tie(a, b), y, {.epochs = 4, .verbose = 0, .seed = 7});

    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    // [resume]
    model.fit(std::tie(a, b), y, {.epochs = 2, .verbose = 0, .seed = 7});
    model.save_checkpoint(path("run.h5"));

    // Later, perhaps in another process: the same model, compiled the same way.
    auto again = build();
    again.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    again.load_checkpoint(path("run.h5"));
    again.fit(std::tie(a, b), y, {.epochs = 4, .verbose = 0, .seed = 7, .initial_epoch = 2});
    // [resume]
    CHECK(same(again.get_weights(), straight.get_weights()));  // bit for bit

    // [model checkpoint]
    auto checkpoint = std::make_shared<xf::ModelCheckpoint>(
        model, xf::ModelCheckpoint::options{.filepath = path("best-{epoch:02d}-{val_loss:.4f}.h5"),
                                            .save_best_only = true});
    model.fit(std::tie(a, b), y,
              {.epochs = 5, .validation_split = 0.2f, .verbose = 0, .callbacks = {checkpoint}});
    // [model checkpoint]
    CHECK(checkpoint->last_saved().filename().string().starts_with("best-"));
    auto best = build();
    best.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    best.load_checkpoint(checkpoint->last_saved());

    // [wrong optimizer]
    auto sgd = build();
    sgd.compile(xf::SGD{.momentum = 0.9f}, xf::BinaryCrossentropy{});
    try {
        sgd.load_checkpoint(path("run.h5"));
    } catch (const xf::io::weight_file_error& error) {
        std::cerr << error.what() << '\n';  // weights and optimizer state unchanged
    }
    // [wrong optimizer]
    try {
        sgd.load_checkpoint(path("run.h5"));
        CHECK(false);
    } catch (const xf::io::weight_file_error& error) {
        CHECK(
            contains(error.what(), "the file's optimizer is Adam, the model is compiled with SGD"));
    }
    CHECK(sgd.optimizer_states().empty());
    std::filesystem::remove_all(dir);
    return docs::exit_code();
}
