// A string usable as a template argument: layer names such as Dense<96, softmax, "attention">.
//
// It has a fixed capacity instead of being a template on its length: g++ 12 cannot deduce class
// template arguments (xf::Concatenate{}) when a defaulted template parameter is itself a class
// template placeholder, and every layer has a defaulted Name.
#pragma once

#include <cstddef>
#include <string_view>

namespace xfuse {

struct fixed_string {
    static constexpr std::size_t capacity = 63;

    char chars[capacity + 1]{};
    std::size_t length = 0;

    template <std::size_t N>
    constexpr fixed_string(const char (&text)[N]) noexcept : length(N - 1) {
        static_assert(N - 1 <= capacity, "xfuse: names are at most 63 characters long");
        for (std::size_t i = 0; i + 1 < N; ++i)
            chars[i] = text[i];
    }

    constexpr std::string_view view() const noexcept { return {chars, length}; }
};

}  // namespace xfuse
