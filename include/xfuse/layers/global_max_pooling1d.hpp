// GlobalMaxPooling1D<Name>: Keras' GlobalMaxPooling1D (channels_last), the largest value of
// each feature over the steps of a (steps, features) sample. Its gradient is TensorFlow's for
// reduce_max: steps tied at the maximum share it equally.
#pragma once

#include <string_view>

#include "../core/fixed_string.hpp"
#include "global_pooling.hpp"

namespace xfuse {

template <fixed_string Name = "", class Tag = decltype([] {})>
struct GlobalMaxPooling1D
    : detail::global_pooling_1d<GlobalMaxPooling1D<Name, Tag>, detail::pooling::max, Name> {};

}  // namespace xfuse
