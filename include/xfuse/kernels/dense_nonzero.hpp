// One row of a Dense product that skips the row's zero inputs: y = b + x W over the features k
// with x[k] != 0 (relu outputs are often half zeros).
//
// First the row's nonzero features are listed without a branch: a register of x at a time, the
// bits of its nonzero lanes index a table of their positions, 8 at a time, which is stored whole
// at the list's end, and the list grows by their count. Then for each listed k every output
// register gets one FMA, x[k] broadcast and the weights of row k of W as memory operands: the
// row's registers stay accumulators (a block of dense_blocking's lone_row_registers of them; a
// wider row takes several passes over the list), with no data-dependent branch in the FMA loop.
// Each weight loaded feeds one FMA, so the bound is the load ports (one weight load per FMA, plus
// the broadcast) on the nonzero features' share of the FMAs, while the weights
// (In * padded(Out) floats) fit in L1; without zeros it is slower than the blocked product,
// which loads a weight once for several rows. The listing costs a few instructions per register
// of x.
//
// The sums run over k in ascending order with dense_tile.hpp's split into two halves, so a
// result equals accumulate_rows' for the same row except where a skipped term is not an exact
// zero: the sign of a zero sum, and where W holds an infinity or a NaN against a zero input
// (the dense product's NaN is skipped); finite weights are assumed. A NaN
// or an infinity in x is listed (it is not equal to 0) and propagates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../core/config.hpp"
#include "arch/masked.hpp"
#include "arch/nonzero_lanes.hpp"
#include "arch/target.hpp"
#include "dense_tile.hpp"

namespace xfuse::kernels {

namespace detail {

// For each 8-bit mask, the positions of its set bits in ascending order, one a byte from byte 0,
// and how many there are.
struct set_bit_positions {
    std::array<std::uint64_t, 256> positions{};
    std::array<std::uint8_t, 256> counts{};
};

constexpr set_bit_positions list_set_bits() {
    set_bit_positions table;
    for (std::uint32_t mask = 0; mask < 256; ++mask)
        for (std::uint32_t bit = 0; bit < 8; ++bit)
            if (mask >> bit & 1)
                table.positions[mask] |= std::uint64_t(bit) << (8 * table.counts[mask]++);
    return table;
}

inline constexpr set_bit_positions set_bits = list_set_bits();

// Appends to list, from list[n] on, the features k in [First, Last) with x[k] != 0, and returns
// the list's new length. Writes up to 8 bytes past it (the entries of a whole byte of lanes).
template <std::size_t First, std::size_t Last>
[[gnu::always_inline]] inline std::size_t list_nonzero(const float* x, std::uint8_t* list,
                                                       std::size_t n) noexcept {
    XFUSE_UNROLL
    for (std::size_t k = First; k < Last; k += simd_width) {
        // Nothing past x[Last) is read: the row may end there.
        const std::uint32_t lanes =
            arch::nonzero_lanes(k + simd_width <= Last ? simd_batch::load_unaligned(x + k)
                                                       : arch::load_first_lanes(x + k, Last - k));
        XFUSE_UNROLL
        for (std::size_t c = 0; c < simd_width; c += 8) {
            const std::uint32_t byte = lanes >> c & 0xFF;
            const std::uint64_t features =
                set_bits.positions[byte] + (k + c) * std::uint64_t{0x0101010101010101};
            std::memcpy(list + n, &features, sizeof features);
            n += set_bits.counts[byte];
        }
    }
    return n;
}

// acc[j] += x[k] W[k, j] for the listed features k = list[i], i in [first, last).
template <std::size_t R>
[[gnu::always_inline]] inline void accumulate_listed(const float* kernel, std::size_t kernel_stride,
                                                     const float* x, const std::uint8_t* list,
                                                     std::size_t first, std::size_t last,
                                                     std::array<simd_batch, R>& acc) noexcept {
    for (std::size_t i = first; i < last; ++i) {
        const std::size_t k = list[i];
        const simd_batch xk(x[k]);
        const float* w = kernel + k * kernel_stride;
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j)
            acc[j] = xsimd::fma(xk, simd_batch::load_aligned(w + j * simd_width), acc[j]);
    }
}

// R registers of y from column on: (b + the first half's terms) + the second half's terms, the
// first half's sums waiting in y while the second half has the registers.
template <std::size_t In, std::size_t R>
[[gnu::always_inline]] inline void nonzero_block(const float* kernel, std::size_t kernel_stride,
                                                 const float* bias, const float* x,
                                                 const std::uint8_t* list, std::size_t in_first,
                                                 std::size_t listed, float* y) noexcept {
    std::array<simd_batch, R> acc;
    XFUSE_UNROLL
    for (std::size_t j = 0; j < R; ++j)
        acc[j] = bias ? simd_batch::load_aligned(bias + j * simd_width) : simd_batch(0.0f);
    accumulate_listed<R>(kernel, kernel_stride, x, list, 0, in_first, acc);
    if constexpr (feature_split<In> != In) {
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j) {
            acc[j].store_aligned(y + j * simd_width);
            acc[j] = simd_batch(0.0f);
        }
        accumulate_listed<R>(kernel, kernel_stride, x, list, in_first, listed, acc);
        XFUSE_UNROLL
        for (std::size_t j = 0; j < R; ++j)
            acc[j] = simd_batch::load_aligned(y + j * simd_width) + acc[j];
    }
    XFUSE_UNROLL
    for (std::size_t j = 0; j < R; ++j)
        acc[j].store_aligned(y + j * simd_width);
}

}  // namespace detail

// y[0, padded(Out)) = b + x W for one row x of In features, its zero features skipped. The
// kernel is (In, padded(Out)) and the bias padded(Out) (or null); padding lanes of y get the
// padding columns' sums.
template <std::size_t In, std::size_t Out>
[[gnu::noinline]] void dense_nonzero_row(const float* kernel, const float* bias, const float* x,
                                         float* y) noexcept {
    static_assert(padded(In) <= 256,
                  "xfuse: dense_nonzero_row lists features in bytes: at most 256 inputs");
    constexpr std::size_t split = detail::feature_split<In>;
    std::array<std::uint8_t, In + 8> list;
    const std::size_t in_first = detail::list_nonzero<0, split>(x, list.data(), 0);
    const std::size_t listed = detail::list_nonzero<split, In>(x, list.data(), in_first);
    constexpr std::size_t stride = padded(Out);
    constexpr std::size_t block = dense_blocking<Out>::lone_row_registers;
    const auto columns = [&]<std::size_t R>(std::size_t column) {
        detail::nonzero_block<In, R>(kernel + column, stride, bias ? bias + column : nullptr, x,
                                     list.data(), in_first, listed, y + column);
    };
    constexpr std::size_t full_blocks = stride / simd_width / block;
    for (std::size_t b = 0; b < full_blocks; ++b)
        columns.template operator()<block>(b * block * simd_width);
    if constexpr (constexpr std::size_t rest = stride / simd_width % block; rest != 0)
        columns.template operator()<rest>(full_blocks * block * simd_width);
}

}  // namespace xfuse::kernels
