// A fixed-capacity string built at compile time: default layer names such as "dense_1" are
// computed by the compiler so that get_layer<"dense_1">() can be checked statically.
#pragma once

#include <cstddef>
#include <string_view>

namespace xfuse {

template <std::size_t Capacity>
struct static_string {
    char chars[Capacity + 1]{};
    std::size_t length = 0;

    constexpr static_string() = default;
    constexpr static_string(std::string_view text) { append(text); }

    constexpr static_string& append(std::string_view text) {
        for (char c : text) {
            if (length == Capacity)
                throw "xfuse: layer name too long";  // not a constant: compile error
            chars[length++] = c;
        }
        return *this;
    }

    constexpr static_string& append_number(std::size_t n) {
        char digits[20]{};
        std::size_t count = 0;
        do {
            digits[count++] = static_cast<char>('0' + n % 10);
            n /= 10;
        } while (n != 0);
        while (count != 0)
            append(std::string_view(&digits[--count], 1));
        return *this;
    }

    constexpr std::string_view view() const noexcept { return {chars, length}; }
};

// Keras' to_snake_case (generic_utils.py): "AttentionLayer2" -> "attention_layer2",
// "InputLayer" -> "input_layer". A boundary goes before an upper-case letter that follows a
// lower-case letter, or that starts a capitalised word ("Conv2D" -> "conv2d", as in Keras).
template <std::size_t Capacity = 64>
constexpr static_string<Capacity> to_snake_case(std::string_view name) {
    auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    static_string<Capacity> out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (upper(c) && i > 0) {
            char prev = name[i - 1];
            bool next_lower = i + 1 < name.size() && lower(name[i + 1]);
            if (lower(prev) || next_lower)
                out.append("_");
        }
        char as_lower = upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
        out.append(std::string_view(&as_lower, 1));
    }
    return out;
}

}  // namespace xfuse
