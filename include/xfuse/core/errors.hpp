// Runtime errors: every message names what was wrong, what was expected and what was given.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace xfuse::detail {

inline std::string dims_string(std::initializer_list<std::size_t> dims) {
    std::string text = "(";
    bool first = true;
    for (std::size_t d : dims) {
        if (!first)
            text += ", ";
        text += std::to_string(d);
        first = false;
    }
    return text + (dims.size() == 1 ? ",)" : ")");
}

[[noreturn]] inline void throw_shape_mismatch(std::string_view what, std::string_view expected,
                                              std::string_view actual) {
    throw std::invalid_argument("xfuse: " + std::string(what) + ": expected shape " +
                                std::string(expected) + ", got " + std::string(actual));
}

}  // namespace xfuse::detail
