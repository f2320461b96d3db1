// Shared by the tests/io/*h5* tests: the weight values of tests/data/make_keras_h5_fixtures.py
// (same formula, computed here independently), fixture paths, bitwise comparison, a scratch
// directory, and an exception check that reads the message.
#pragma once

#include <boost/test/unit_test.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

namespace h5test {

namespace fs = std::filesystem;

// weight_value in make_keras_h5_fixtures.py: exact in double, rounded once to float.
inline float weight_value(int variant, int layer, int weight, std::size_t k) {
    const std::int64_t steps =
        (std::int64_t(k) * 37 + layer * 101 + weight * 7 + variant * 13) % 1000;
    return static_cast<float>(double(steps) / 1000.0 - 0.5);
}

// The fixture values for a model whose layers with weights each hold a kernel and a bias
// (the seed model, the test Sequential), shaped like `like`.
inline std::vector<xt::xarray<float>> fixture_weights(const std::vector<xt::xarray<float>>& like,
                                                      int variant) {
    std::vector<xt::xarray<float>> values = like;
    for (std::size_t i = 0; i < values.size(); ++i)
        for (std::size_t k = 0; k < values[i].size(); ++k)
            values[i].data()[k] = weight_value(variant, int(i / 2), int(i % 2), k);
    return values;
}

inline bool same_bits(const std::vector<xt::xarray<float>>& a,
                      const std::vector<xt::xarray<float>>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].shape() != b[i].shape() ||
            std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0)
            return false;
    return true;
}

inline fs::path fixture(const std::string& name) {
    return fs::path(XFUSE_TEST_DATA) / "keras_h5" / name;
}

// A fresh directory, removed with everything in it at the end of the test.
struct scratch_dir {
    fs::path path;
    scratch_dir() {
        std::random_device device;
        path = fs::temp_directory_path() / ("xfuse_h5_test_" + std::to_string(device()));
        fs::create_directories(path);
    }
    ~scratch_dir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(path))
            names.push_back(entry.path().filename().string());
        return names;
    }
};

// f() must throw E whose message contains every fragment.
template <class E, class F>
void check_throws(F&& f, std::initializer_list<std::string> fragments) {
    try {
        f();
        BOOST_ERROR("expected an exception, none was thrown");
    } catch (const E& error) {
        const std::string message = error.what();
        BOOST_TEST_MESSAGE(message);
        for (const std::string& fragment : fragments)
            BOOST_TEST(message.find(fragment) != std::string::npos,
                       "message lacks '" << fragment << "': " << message);
    }
}

}  // namespace h5test
