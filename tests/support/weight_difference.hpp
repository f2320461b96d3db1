// The largest absolute difference between two lists of weights (as get_weights returns them).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xsort.hpp>

inline double max_weight_difference(const std::vector<xt::xarray<float>>& a,
                                    const std::vector<xt::xarray<float>>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, double(xt::amax(xt::abs(a[i] - b[i]))()));
    return worst;
}
