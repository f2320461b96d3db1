// What the global poolings over time share: a (steps, features) sample becomes (features).
#pragma once

#include <cstddef>
#include <tuple>

#include "../core/shape.hpp"

namespace xfuse::detail {

template <Shape... In>
struct global_pooling_1d_rule {
    static_assert(sizeof...(In) == 1,
                  "xfuse::GlobalAveragePooling1D/GlobalMaxPooling1D take exactly one input tensor");
    using input = std::tuple_element_t<0, std::tuple<In..., shape<1, 1>>>;
    static_assert(input::rank == 2,
                  "xfuse::GlobalAveragePooling1D/GlobalMaxPooling1D take a sequence: samples of "
                  "shape (steps, features)");
    using type = shape<input::last>;
};

}  // namespace xfuse::detail
