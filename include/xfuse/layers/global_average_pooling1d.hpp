// GlobalAveragePooling1D<Name>: Keras' GlobalAveragePooling1D (channels_last), the mean over
// the steps of a (steps, features) sample.
#pragma once

#include <string_view>

#include "../core/fixed_string.hpp"
#include "global_pooling.hpp"

namespace xfuse {

template <fixed_string Name = "", class Tag = decltype([] {})>
struct GlobalAveragePooling1D
    : detail::global_pooling_1d<GlobalAveragePooling1D<Name, Tag>, detail::pooling::average, Name> {
};

}  // namespace xfuse
