// What the kernels' blocking needs to know about the target: floats per register and how many
// vector registers there are. The register count is a build switch too: compiled with
// -DXFUSE_TARGET_REGISTERS=16, an AVX-512 build blocks its loops as an AVX2 build does, so every
// blocking path runs on one machine (the vector width stays the hardware's).
#pragma once

#include <cstddef>

#include "../../core/config.hpp"

// Asks the compiler to unroll the next loop completely. The register-blocked loops index arrays
// of registers; only unrolled do the indices become constants, so that the arrays live in
// registers at every optimisation level and not only where -O3 happens to unroll them.
#if defined(__clang__)
#define XFUSE_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define XFUSE_UNROLL _Pragma("GCC unroll 64")
#else
#define XFUSE_UNROLL
#endif

namespace xfuse::kernels::arch {

// Floats per vector register.
inline constexpr std::size_t width = simd_width;

// Vector registers of the target: AVX-512 has 32 (zmm0-31), AVX/AVX2 and SSE 16, AArch64's
// Advanced SIMD 32; a scalar or unknown target is given 16.
#if defined(XFUSE_TARGET_REGISTERS)
inline constexpr std::size_t registers = XFUSE_TARGET_REGISTERS;
#elif XSIMD_WITH_AVX512F
inline constexpr std::size_t registers = 32;
#elif defined(__aarch64__)
inline constexpr std::size_t registers = 32;
#else
inline constexpr std::size_t registers = 16;
#endif
static_assert(registers >= 16, "xfuse: XFUSE_TARGET_REGISTERS below 16 leaves no room for a block");

// Keeps `value` in a vector register from here on: without it g++ folds a weight load into
// every FMA that uses it (a memory operand per FMA), which bounds a block by the load ports. An
// empty asm statement with the value as an in-out register operand costs no instruction.
template <class Batch>
[[gnu::always_inline]] inline void pin_in_register(Batch& value) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    asm("" : "+v"(value.data));
#elif defined(__GNUC__) && defined(__aarch64__)
    asm("" : "+w"(value.data));
#else
    (void)value;
#endif
}

}  // namespace xfuse::kernels::arch
