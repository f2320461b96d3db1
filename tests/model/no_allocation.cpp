// The single-sample call performs no heap allocation, and a batch predict allocates only its
// result: every operator new is counted, and so is posix_memalign, which xtensor's aligned
// allocator (xsimd::aligned_allocator) uses for containers. A model whose scratch exceeds
// xf::stack_scratch_bytes allocates one buffer on a thread's first call, and nothing after.
#define BOOST_TEST_MODULE model_no_allocation
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstdlib>
#include <new>

#include "support/seed_model.hpp"

// The replacements pair malloc with free consistently; g++ cannot see that through the
// replaced operators and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<std::size_t> allocations{0};
std::atomic<std::size_t> aligned_mallocs{0};
}  // namespace

// Replaces the C library's, which the executable's definition takes precedence over.
extern "C" int posix_memalign(void** result, std::size_t alignment, std::size_t size) noexcept {
    ++aligned_mallocs;
    *result = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    return *result ? 0 : ENOMEM;
}

void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size ? size : 1))
        return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
    ++allocations;
    const std::size_t a = static_cast<std::size_t>(align);
    if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    return operator new(size);
}
void* operator new[](std::size_t size, std::align_val_t align) {
    return operator new(size, align);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}

BOOST_AUTO_TEST_CASE(single_sample_call_allocates_nothing) {
    auto model = seed::build();
    auto attention = xfuse::Model{model.inputs(), model.get_layer<"attention">().output()};
    xt::xtensor_fixed<float, xt::xshape<10>> a;
    xt::xtensor_fixed<float, xt::xshape<20>> b;
    a.fill(0.5f);
    b.fill(-0.25f);

    const std::size_t before = allocations.load();
    const auto y = model(a, b);
    const auto weights = attention(a, b);
    const std::size_t after = allocations.load();

    BOOST_TEST(after - before == 0u);
    BOOST_TEST(y(0) > 0.0f);
    BOOST_TEST(y(0) < 1.0f);
    BOOST_TEST(xt::sum(weights)() == 1.0f, boost::test_tools::tolerance(1e-6f));

    BOOST_TEST(aligned_mallocs.load() == 0u);
}

BOOST_AUTO_TEST_CASE(batch_predict_allocates_only_its_result) {
    auto model = seed::build();
    auto attention = xfuse::Model{model.inputs(), model.get_layer<"attention">().output()};
    // Enough samples for several tiles.
    xt::xtensor<float, 2> batch_a = xt::ones<float>({1000, 10});
    xt::xtensor<float, 2> batch_b = xt::ones<float>({1000, 20});

    for (const bool fused : {true, false}) {
        const std::size_t news_before = allocations.load();
        const std::size_t mallocs_before = aligned_mallocs.load();
        const auto weights = fused ? attention.predict(xfuse::fused, batch_a, batch_b)
                                   : attention.predict(xfuse::unfused, batch_a, batch_b);
        BOOST_TEST(allocations.load() - news_before == 0u);
        BOOST_TEST(aligned_mallocs.load() - mallocs_before == 1u);  // the result
        BOOST_TEST(weights.shape(0) == 1000u);
        BOOST_TEST(weights.shape(1) == 96u);
    }
}

BOOST_AUTO_TEST_CASE(a_large_model_allocates_its_scratch_once_per_thread) {
    // One sample's hidden rows are 64 x 1024 floats, 256 KiB: beyond the stack budget.
    auto input = xfuse::Input<64, 64>{};
    auto hidden = xfuse::Dense<1024, xfuse::relu>{}(input);
    auto model = xfuse::Model{xfuse::inputs(input), xfuse::Dense<8>{}(hidden)};
    xt::xtensor_fixed<float, xt::xshape<64, 64>> sample;
    sample.fill(1.0f);
    xt::xtensor<float, 3> batch = xt::ones<float>({3, 64, 64});

    const std::size_t before_first = allocations.load();
    [[maybe_unused]] const auto first = model(sample);
    // This thread's buffer, shared by both calls below (unless an earlier test made it).
    BOOST_TEST(allocations.load() - before_first <= 1u);

    const std::size_t news_before = allocations.load();
    const std::size_t mallocs_before = aligned_mallocs.load();
    const auto y = model(sample);
    const auto batch_y = model.predict(batch);
    BOOST_TEST(allocations.load() - news_before == 0u);
    BOOST_TEST(aligned_mallocs.load() - mallocs_before == 1u);  // predict's result
    BOOST_TEST(y(0, 0) == first(0, 0));
    BOOST_TEST(batch_y(2, 0, 0) == y(0, 0));
}
