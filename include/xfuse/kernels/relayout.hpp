// Moving a sample's values between two row layouts of the same logical size: rows of `from_last`
// values padded to padded(from_last), into rows of `to_last` values padded to padded(to_last)
// (Flatten and Reshape). The padding lanes of the destination are not written.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../core/config.hpp"

namespace xfuse::kernels {

// Copies (Add = false) or adds (Add = true) `size` logical values of each of `samples` samples,
// walking both layouts in runs that cross no row end of either.
template <bool Add>
void relayout(const float* from, std::size_t from_last, float* to, std::size_t to_last,
              std::size_t size, std::size_t samples) noexcept {
    const std::size_t from_storage = size / from_last * padded(from_last);
    const std::size_t to_storage = size / to_last * padded(to_last);
    for (std::size_t s = 0; s < samples; ++s, from += from_storage, to += to_storage) {
        std::size_t i = 0;
        while (i < size) {
            const std::size_t a = i % from_last, b = i % to_last;
            const std::size_t run = std::min(from_last - a, to_last - b);
            const float* source = from + i / from_last * padded(from_last) + a;
            float* destination = to + i / to_last * padded(to_last) + b;
            if constexpr (Add)
                for (std::size_t k = 0; k < run; ++k)
                    destination[k] += source[k];
            else
                std::copy_n(source, run, destination);
            i += run;
        }
    }
}

}  // namespace xfuse::kernels
