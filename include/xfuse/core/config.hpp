// xfuse configuration: the one place that states how xfuse meets xtensor and xsimd.
#pragma once

// XTENSOR_USE_XSIMD changes xtensor's default allocator, so every translation unit of a program
// must agree on it. It is defined in exactly one place: the CMake target `xfuse::xfuse` (through
// `xtensor::use_xsimd`). A build that bypasses CMake must pass -DXTENSOR_USE_XSIMD itself; a
// silent mismatch between translation units would be an ODR violation, so we refuse to compile.
#ifndef XTENSOR_USE_XSIMD
#error \
    "xfuse: XTENSOR_USE_XSIMD must be defined for every translation unit (link the CMake target xfuse::xfuse, or compile with -DXTENSOR_USE_XSIMD)"
#endif

#include <cstddef>

// g++ 12.2 reports the undefined source register of its own AVX-512 intrinsics as
// uninitialised, for every xsimd max/min/exp (a known false positive, fixed in 12.3).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace xfuse {

// The SIMD architecture is whatever the compiler flags enable (-march=...); xfuse forces none.
using simd_batch = xsimd::batch<float>;

// Floats per SIMD register: the unit every row of parameters and activations is padded to.
inline constexpr std::size_t simd_width = simd_batch::size;

// Byte alignment of xfuse's own buffers (parameters and scratch).
inline constexpr std::size_t buffer_alignment = simd_batch::arch_type::alignment();

// Rounds n up to a whole number of SIMD registers.
constexpr std::size_t padded(std::size_t n) noexcept {
    return (n + simd_width - 1) / simd_width * simd_width;
}

}  // namespace xfuse
