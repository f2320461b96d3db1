#!/usr/bin/env python3
"""Writes include/xfuse/io/viridis.hpp: matplotlib's viridis colour map (its 256 sRGB entries,
CC0, from Debian's python3-matplotlib), the map plot_attention draws heatmaps with.

    /usr/bin/python3 scripts/make_viridis.py > include/xfuse/io/viridis.hpp
"""
from matplotlib import cm

colors = cm.viridis.colors
assert len(colors) == 256
print("""// matplotlib's viridis colour map: 256 sRGB colours from dark blue to yellow whose lightness
// rises evenly, so equal steps of a value look like equal steps of colour, in grey too and for
// the common colour-vision deficiencies. Written by scripts/make_viridis.py; do not edit.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace xfuse::io {

struct rgb {
    double red, green, blue;
};

inline constexpr std::array<rgb, 256> viridis_table{{""")
for r, g, b in colors:
    print(f"    {{{r:.6f}, {g:.6f}, {b:.6f}}},")
print("""}};

// The colour of t in [0, 1], values outside clamped, as matplotlib's ListedColormap picks it:
// entry floor(256 t), the last one for t = 1. NaN has no colour here: callers draw it apart.
inline rgb viridis(double t) {
    const double scaled = std::clamp(t, 0.0, 1.0) * 256.0;
    return viridis_table[std::min<std::size_t>(static_cast<std::size_t>(scaled), 255)];
}

}  // namespace xfuse::io""")
