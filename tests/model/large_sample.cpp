// A model whose one sample needs far more scratch than xf::stack_scratch_bytes (a 512-wide
// hidden layer over 256 rows: 584 KiB): its single-sample call runs on a thread with a 256 KiB
// stack and gives predict's row, concurrent calls from several threads on one model each get
// their own result, and the call's noexcept says which models can throw (the one allocation of
// a thread's buffer). Inputs and outputs are the caller's values; the samples here live on the
// heap, and the output (256 x 8 floats) is small.
#define BOOST_TEST_MODULE model_large_sample
#include <pthread.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <latch>
#include <memory>
#include <thread>
#include <utility>
#include <vector>
#include <xfuse/xfuse.hpp>

#include "support/seed_model.hpp"

namespace xf = xfuse;

namespace {

constexpr std::size_t rows = 256;
constexpr std::size_t features = 64;
constexpr std::size_t hidden = 512;
constexpr std::size_t units = 8;
using sample_type = xt::xtensor_fixed<float, xt::xshape<rows, features>>;
using output_type = xt::xtensor_fixed<float, xt::xshape<rows, units>>;

auto build_large() {
    auto input = xf::Input<rows, features>{};
    auto h = xf::Dense<hidden, xf::relu>{}(input);
    auto output = xf::Dense<units, xf::tanh>{}(h);
    return xf::Model{xf::inputs(input), output};
}
using large_model = decltype(build_large());

// Samples that differ from each other and from row to row.
xt::xtensor<float, 3> make_batch(std::size_t samples) {
    xt::xtensor<float, 3> batch = xt::empty<float>({samples, rows, features});
    for (std::size_t i = 0; i < batch.size(); ++i)
        batch.data()[i] =
            static_cast<float>(static_cast<int>(i * 2654435761u % 2001) - 1000) / 4000.0f;
    return batch;
}

std::unique_ptr<sample_type> sample_of(const xt::xtensor<float, 3>& batch, std::size_t s) {
    auto sample = std::make_unique<sample_type>();
    std::memcpy(sample->data(), batch.data() + s * rows * features,
                rows * features * sizeof(float));
    return sample;
}

// Bit for bit: one sample runs the kernels of a batch row in the same order.
bool equals_row(const output_type& y, const xt::xtensor<float, 3>& expected, std::size_t s) {
    return std::memcmp(y.data(), expected.data() + s * rows * units,
                       rows * units * sizeof(float)) == 0;
}

// Runs f on a new POSIX thread with a stack of `stack_bytes` and waits for it.
template <class F>
void run_on_small_stack(std::size_t stack_bytes, F f) {
    pthread_attr_t attributes;
    BOOST_REQUIRE(pthread_attr_init(&attributes) == 0);
    BOOST_REQUIRE(pthread_attr_setstacksize(&attributes, stack_bytes) == 0);
    pthread_t thread;
    auto body = [](void* argument) -> void* {
        (*static_cast<F*>(argument))();
        return nullptr;
    };
    BOOST_REQUIRE(pthread_create(&thread, &attributes, body, &f) == 0);
    BOOST_REQUIRE(pthread_join(thread, nullptr) == 0);
    pthread_attr_destroy(&attributes);
}

}  // namespace

static_assert(xf::stack_scratch_bytes == 64 * 1024);
// One large sample's hidden rows alone are far beyond the stack budget.
static_assert(sizeof(float) * rows * hidden >= 8 * xf::stack_scratch_bytes);
static_assert(!noexcept(std::declval<const large_model&>()(std::declval<const sample_type&>())));
static_assert(noexcept(std::declval<const seed::model_type&>()(
    std::declval<const xt::xtensor_fixed<float, xt::xshape<10>>&>(),
    std::declval<const xt::xtensor_fixed<float, xt::xshape<20>>&>())));

BOOST_AUTO_TEST_CASE(single_sample_call_runs_under_a_256_KiB_stack) {
    const auto model = build_large();
    const auto batch = make_batch(2);
    const xt::xtensor<float, 3> expected = model.predict(batch);

    const auto first = sample_of(batch, 0);
    const auto second = sample_of(batch, 1);
    std::vector<bool> same(2, false);
    run_on_small_stack(256 * 1024, [&] {
        same[0] = equals_row(model(*first), expected, 0);
        same[1] = equals_row(model(*second), expected, 1);  // reuses the thread's buffer
    });
    BOOST_TEST(same[0]);
    BOOST_TEST(same[1]);
}

BOOST_AUTO_TEST_CASE(concurrent_single_sample_calls_on_one_model_do_not_share_scratch) {
    const auto model = build_large();
    constexpr std::size_t threads = 4;
    constexpr std::size_t calls = 20;
    const auto batch = make_batch(threads);
    const xt::xtensor<float, 3> expected = model.predict(batch);
    std::vector<std::unique_ptr<sample_type>> samples;
    for (std::size_t s = 0; s < threads; ++s)
        samples.push_back(sample_of(batch, s));

    std::vector<int> matches(threads, 0);
    std::vector<std::thread> workers;
    std::latch start(threads);  // the calls overlap from the first
    for (std::size_t t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            start.arrive_and_wait();
            for (std::size_t c = 0; c < calls; ++c)
                matches[t] += equals_row(model(*samples[t]), expected, t);
        });
    for (auto& worker : workers)
        worker.join();
    for (std::size_t t = 0; t < threads; ++t)
        BOOST_TEST(matches[t] == static_cast<int>(calls), "thread " << t);
}
