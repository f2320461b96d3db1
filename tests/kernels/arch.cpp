#define BOOST_TEST_MODULE kernels_arch
#include <boost/test/unit_test.hpp>

#include <xfuse/kernels/arch/exp.hpp>
#include <xfuse/kernels/arch/lanes.hpp>
#include <xfuse/kernels/arch/masked.hpp>
#include <xfuse/kernels/arch/reduce.hpp>
#include <xfuse/kernels/arch/target.hpp>
#include <xfuse/kernels/arch/transpose.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

// Every operation of kernels/arch/ against a scalar loop over the lanes, on whatever target the
// test is built for (the AVX-512 instructions there, the fallbacks elsewhere).

namespace xf = xfuse;
namespace arch = xf::kernels::arch;

namespace {

constexpr std::size_t width = xf::simd_width;
constexpr float infinity = std::numeric_limits<float>::infinity();

struct alignas(xf::buffer_alignment) lanes {
    std::array<float, width> value{};
};

lanes lanes_of(const xf::simd_batch& batch) {
    lanes result;
    batch.store_aligned(result.value.data());
    return result;
}

xf::simd_batch batch_of(const lanes& l) {
    return xf::simd_batch::load_aligned(l.value.data());
}

// Distinct values, with the largest in lane `peak`.
lanes distinct_lanes(std::size_t peak) {
    lanes l;
    for (std::size_t i = 0; i < width; ++i)
        l.value[i] = static_cast<float>(i) * -1.5f + 0.25f;
    l.value[peak] = 100.0f + static_cast<float>(peak);
    return l;
}

}  // namespace

BOOST_AUTO_TEST_CASE(register_count_is_the_targets_or_the_switch) {
#if defined(XFUSE_TARGET_REGISTERS)
    BOOST_TEST(arch::registers == std::size_t{XFUSE_TARGET_REGISTERS});
#elif XSIMD_WITH_AVX512F || defined(__aarch64__)
    BOOST_TEST(arch::registers == 32u);
#else
    BOOST_TEST(arch::registers == 16u);
#endif
    BOOST_TEST(arch::width == width);
}

BOOST_AUTO_TEST_CASE(horizontal_max_finds_the_largest_lane_wherever_it_is) {
    for (std::size_t peak = 0; peak < width; ++peak)
        BOOST_TEST(arch::horizontal_max(batch_of(distinct_lanes(peak))) ==
                   100.0f + static_cast<float>(peak));
    lanes negative;
    negative.value.fill(-infinity);
    negative.value[width - 1] = -3.0f;
    BOOST_TEST(arch::horizontal_max(batch_of(negative)) == -3.0f);
}

BOOST_AUTO_TEST_CASE(scalef_matches_ldexp_and_underflows_to_zero) {
    const std::vector<float> exponents{0.0f,    1.0f,    -1.0f,    5.0f,    -20.0f,
                                       -126.0f, -127.0f, -140.0f,  -149.0f, -150.0f,
                                       -200.0f, 100.0f,  -infinity};
    for (const float p : {1.0f, 1.5f, 0.75f, 1.9999999f}) {
        for (std::size_t first = 0; first < exponents.size(); first += width) {
            lanes n, expected;
            for (std::size_t i = 0; i < width; ++i) {
                const float e = exponents[(first + i) % exponents.size()];
                n.value[i] = e;
                expected.value[i] = e == -infinity ? 0.0f : std::ldexp(p, static_cast<int>(e));
            }
            const lanes got = lanes_of(arch::scalef(xf::simd_batch(p), batch_of(n)));
            for (std::size_t i = 0; i < width; ++i)
                BOOST_TEST(got.value[i] == expected.value[i], p << " * 2^" << n.value[i] << " = "
                                                                << got.value[i] << ", expected "
                                                                << expected.value[i]);
        }
    }
}

BOOST_AUTO_TEST_CASE(split_exponent_gives_the_nearest_integer_and_the_rest) {
    const std::vector<float> inputs{0.0f, 0.25f, -0.25f, 0.5f,    -0.5f,  1.5f,    -1.5f,
                                    2.5f, -2.7f, 3.49f,  -100.3f, 126.6f, -149.9f, -infinity};
    for (std::size_t first = 0; first < inputs.size(); first += width) {
        lanes t;
        for (std::size_t i = 0; i < width; ++i)
            t.value[i] = inputs[(first + i) % inputs.size()];
        xf::simd_batch n, f;
        arch::split_exponent(batch_of(t), n, f);
        const lanes ns = lanes_of(n), fs = lanes_of(f);
        for (std::size_t i = 0; i < width; ++i) {
            const float x = t.value[i];
            if (x == -infinity) {
                BOOST_TEST(ns.value[i] == -infinity);
                BOOST_TEST(fs.value[i] == 0.0f);
                continue;
            }
            const float expected_n = std::nearbyint(x);  // ties to even
            BOOST_TEST(ns.value[i] == expected_n, "n(" << x << ") = " << ns.value[i]);
            BOOST_TEST(fs.value[i] == x - expected_n, "f(" << x << ") = " << fs.value[i]);
        }
    }
}

BOOST_AUTO_TEST_CASE(load_first_lanes_reads_only_count_floats_and_zeroes_the_rest) {
    // The source ends `count` floats before the end of a vector: reading past it would read
    // the sentinel and show in the result.
    for (std::size_t count = 1; count <= width; ++count) {
        std::vector<float> memory(2 * width, -7.0f);
        float* source = memory.data() + 1;  // unaligned
        for (std::size_t i = 0; i < count; ++i)
            source[i] = static_cast<float>(i + 1);
        const lanes got = lanes_of(arch::load_first_lanes(source, count));
        for (std::size_t i = 0; i < width; ++i)
            BOOST_TEST(got.value[i] == (i < count ? static_cast<float>(i + 1) : 0.0f),
                       "count " << count << ", lane " << i);
    }
}

BOOST_AUTO_TEST_CASE(lane_broadcast_walks_the_lanes_in_order) {
    const lanes values = distinct_lanes(3 % width);
    arch::lane_broadcast lane;
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i < width; ++i) {
            const lanes got = lanes_of(lane(batch_of(values)));
            for (std::size_t k = 0; k < width; ++k)
                BOOST_TEST(got.value[k] == values.value[i], "lane " << i << ", pass " << pass);
            lane.next();
        }
        lane.reset();
    }
}

BOOST_AUTO_TEST_CASE(with_lane_and_lane_to_first_move_one_value) {
    const lanes values = distinct_lanes(0);
    for (std::size_t s = 0; s < width; ++s) {
        const lanes inserted =
            lanes_of(arch::with_lane(batch_of(values), s, xf::simd_batch(-42.0f)));
        const lanes first = lanes_of(arch::lane_to_first(batch_of(values), s));
        for (std::size_t i = 0; i < width; ++i) {
            BOOST_TEST(inserted.value[i] == (i == s ? -42.0f : values.value[i]));
            BOOST_TEST(first.value[i] == (i == 0 ? values.value[s] : 0.0f));
        }
    }
}

BOOST_AUTO_TEST_CASE(transpose_block_matches_a_scalar_transpose) {
    constexpr std::size_t side = arch::transpose_block_size;
    constexpr std::size_t from_stride = side + width, to_stride = side + 2 * width;
    std::vector<float, xsimd::aligned_allocator<float, xf::buffer_alignment>> from(side *
                                                                                   from_stride),
        to(side * to_stride, -1.0f);
    for (std::size_t i = 0; i < from.size(); ++i)
        from[i] = static_cast<float>(i);
    arch::transpose_block(from.data(), from_stride, to.data(), to_stride);
    for (std::size_t r = 0; r < side; ++r)
        for (std::size_t c = 0; c < to_stride; ++c)
            BOOST_TEST(to[r * to_stride + c] == (c < side ? from[c * from_stride + r] : -1.0f),
                       "[" << r << ", " << c << "]");
}
