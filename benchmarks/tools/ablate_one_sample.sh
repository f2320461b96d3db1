#!/bin/bash
# Where a single sample's time goes: the seed model's one-sample call timed with one piece of
# the computation removed at a time (results are then wrong; only the time is of interest).
# Each variant is a copy of include/ with one kernel patched (the patches below fail loudly if
# the code they replace has changed), compiled like the suite; the variants run alternately,
# ROUNDS times, and the table gives each one's minimum over all rounds (ns per call) and its
# difference from the unpatched build. Usage, from the repository's root:
#   benchmarks/tools/ablate_one_sample.sh [ROUNDS]   (default 6; about 10 s per round)
set -euo pipefail
rounds=${1:-6}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

variants="full no_feature_layers no_attention_product no_softmax_dot no_output_layer no_output_exp"
for v in $variants; do
    cp -r "$root/include" "$work/$v"
done
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
def patch(variant, path, old, new):
    p = f"{work}/{variant}/xfuse/kernels/{path}"
    s = open(p).read()
    assert old in s, f"{variant}: {path} changed; update ablate_one_sample.sh"
    open(p, "w").write(s.replace(old, new, 1))

# The feature layers (Dense with at most 20 inputs) store a constant instead of computing.
patch("no_feature_layers", "dense_tile.hpp",
      "    } else if constexpr (ElementwiseActivation<Activation>) {\n",
      "    } else if constexpr (ElementwiseActivation<Activation> && In <= 20) {\n"
      "        for (std::size_t r = 0; r < rows; ++r)\n"
      "            for (std::size_t j = 0; j < padded(Out); j += simd_width)\n"
      "                simd_batch(0.01f).store_aligned(y + r * y_stride + j);\n"
      "    } else if constexpr (ElementwiseActivation<Activation>) {\n")
# The attention's 96 x 96 product is skipped: its logits are the bias.
patch("no_attention_product", "dense_tile.hpp",
      "    if constexpr (split == In) {\n",
      "    if constexpr (In == 96) {\n    } else if constexpr (split == In) {\n")
# The attention's epilogue (max, exps, sums, the Dot, the division) becomes one sum of registers.
patch("no_softmax_dot", "attention.hpp",
      "    std::array<simd_batch, S> lane_sums;\n",
      "    for (std::size_t s = 0; s < S; ++s) {\n"
      "        simd_batch t = acc[s][0];\n"
      "        for (std::size_t j = 1; j < R; ++j)\n"
      "            t += acc[s][j];\n"
      "        t.store_aligned(pooled + (row + s) * pooled_stride);\n"
      "    }\n"
      "    if constexpr (S == 0) {\n"
      "    std::array<simd_batch, S> lane_sums;\n")
# ...and the original epilogue, now under `if constexpr (S == 0)`, gets its closing brace.
patch("no_softmax_dot", "attention.hpp",
      "    }\n}\n\n}  // namespace detail", "    }\n    }\n}\n\n}  // namespace detail")
# The output Dense(1, sigmoid) becomes a copy of its input.
patch("no_output_layer", "dense_tile.hpp",
      "        detail::single_unit_rows<In, Activation>(kernel, bias, x, x_stride, y, y_stride, rows);\n",
      "        for (std::size_t r = 0; r < rows; ++r)\n"
      "            simd_batch::load_aligned(x + r * x_stride).store_aligned(y + r * y_stride);\n")
# The output sigmoid without its exp (the FMA, the division and the stores stay).
patch("no_output_exp", "activations.hpp",
      "detail::sigmoid_from_exp(x, detail::exp_nonpositive(-xsimd::abs(x)))",
      "detail::sigmoid_from_exp(x, -xsimd::abs(x))")
PY

flags="-std=c++20 -O3 -DNDEBUG -march=native -DXTENSOR_USE_XSIMD"
for v in $variants; do
    g++ $flags -I"$work/$v" -I"$root/tests" "$root/benchmarks/tools/one_sample_latency.cpp" \
        -o "$work/$v.bin" &
done
wait
for ((r = 0; r < rounds; ++r)); do
    for v in $variants; do
        echo "$v $("$work/$v.bin")" >> "$work/results"
    done
done
awk '{ if (!($1 in ind) || $3 < ind[$1]) ind[$1] = $3; if (!($1 in dep) || $6 < dep[$1]) dep[$1] = $6 }
     END {
       printf "| variant | independent calls, ns | difference | dependent calls, ns | difference |\n|---|---:|---:|---:|---:|\n"
       n = split("'"$variants"'", order, " ")
       for (i = 1; i <= n; ++i) { v = order[i]
         printf "| %s | %.1f | %+.1f | %.1f | %+.1f |\n", v, ind[v], ind[v] - ind["full"], dep[v], dep[v] - dep["full"] }
     }' "$work/results"
