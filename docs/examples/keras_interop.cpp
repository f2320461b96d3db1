// docs/keras_interop.md: weight files between Keras and xfuse, both ways.
#include <xfuse/hdf5.hpp>
#include <xfuse/xfuse.hpp>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
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
    std::filesystem::remove_all(dir);
    return docs::exit_code();
}
