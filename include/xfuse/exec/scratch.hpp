// Where inference keeps its scratch (the rows of every node for the samples in flight): on the
// stack up to a fixed budget, so that predict and the single-sample call allocate nothing for it,
// and beyond the budget in a buffer that each thread allocates once and keeps, so that a large
// model cannot overflow a thread's stack.
#pragma once

#include <array>
#include <cstddef>

#include "../core/config.hpp"
#include "../kernels/aligned_buffer.hpp"

namespace xfuse {

// The most stack that inference takes for scratch. It leaves room for the caller's frames
// under small thread stacks (musl's default of 128 KiB, thread pools' 256 KiB workers).
inline constexpr std::size_t stack_scratch_bytes = 64 * 1024;

namespace detail {

inline constexpr std::size_t stack_scratch_floats = stack_scratch_bytes / sizeof(float);

template <std::size_t Floats>
inline constexpr bool scratch_fits_stack = Floats <= stack_scratch_floats;

// Floats floats aligned to buffer_alignment that this thread allocates on its first call and
// keeps until it ends: threads never share them, so concurrent calls on one model need no lock,
// and later calls allocate nothing. One buffer per thread and size suffices because inference
// never re-enters itself (plans run kernels only, never user code), so models and call sites
// of the same scratch size share it.
template <std::size_t Floats>
float* thread_scratch() {
    thread_local aligned_buffer scratch(Floats);
    return scratch.data();
}

// Calls f(scratch) with Floats floats aligned to buffer_alignment, and returns what f returns:
// on this frame's stack within the budget, else thread_scratch<Floats>(), whose first
// allocation on a thread is the only thing here that can throw.
template <std::size_t Floats, class F>
decltype(auto) with_scratch(F&& f) noexcept(
    scratch_fits_stack<Floats>&& noexcept(f(static_cast<float*>(nullptr)))) {
    if constexpr (scratch_fits_stack<Floats>) {
        alignas(buffer_alignment) std::array<float, Floats> scratch;
        return f(scratch.data());
    } else {
        return f(thread_scratch<Floats>());
    }
}

}  // namespace detail
}  // namespace xfuse
