// Runtime errors: every message names what was wrong, what was expected and what was given.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace xfuse::detail {

// Python's tuple text for a shape: (4, 10), and (3,) for one axis.
template <class Dims>
std::string tuple_string(const Dims& dims, std::size_t rank) {
    std::string text = "(";
    for (std::size_t i = 0; i < rank; ++i)
        text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + (rank == 1 ? ",)" : ")");
}

// The shape of a container with shape() and dimension() (an xtensor expression), as a tuple.
template <class E>
std::string actual_shape_string(const E& e) {
    return tuple_string(e.shape(), e.dimension());
}

[[noreturn]] inline void throw_shape_mismatch(std::string_view what, std::string_view expected,
                                              std::string_view actual) {
    throw std::invalid_argument("xfuse: " + std::string(what) + ": expected shape " +
                                std::string(expected) + ", got " + std::string(actual));
}

}  // namespace xfuse::detail
