#!/bin/bash
# The seed model's predict and single-sample call (ns per sample, predict_time.cpp) built with
# g++ and clang++ at -O2 and -O3, for this tree's include/ and, given a second include directory
# (another checkout's, e.g. the main branch's), for that one too: every build runs once per round,
# alternately, and the table gives each one's median over the rounds' medians, so that builds
# compare within one run on a shared, noisy machine. Usage, from the repository's root:
#   benchmarks/tools/opt_levels.sh [ROUNDS] [OTHER_INCLUDE_DIR]   (default 5 rounds)
# ARCH_FLAGS (default -march=native) selects the target, e.g. ARCH_FLAGS="-mavx2 -mfma".
set -euo pipefail
rounds=${1:-5}
other=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
arch=${ARCH_FLAGS:--march=native}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

trees="this"
[[ -n "$other" ]] && trees="this other"
builds=""
for tree in $trees; do
    include="$root/include"
    [[ "$tree" == other ]] && include="$other"
    for compiler in g++ clang++; do
        for level in -O2 -O3; do
            name="$tree/$compiler/$level"
            bin="$work/${name//\//_}"
            "$compiler" -std=c++20 "$level" -DNDEBUG $arch -DXTENSOR_USE_XSIMD -I"$include" \
                -I"$root/tests" "$root/benchmarks/tools/predict_time.cpp" -o "$bin"
            builds="$builds $name"
        done
    done
done
for ((r = 0; r < rounds; ++r)); do
    for name in $builds; do
        echo "$name $("$work/${name//\//_}")" >> "$work/results"
    done
done
sort -k1,1 -s "$work/results" | awk '
    { p[$1] = p[$1] " " $3; s[$1] = s[$1] " " $5; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
    function med(list,   a, k, i, j, t) {
        k = split(list, a, " ")
        for (i = 1; i <= k; ++i) for (j = i + 1; j <= k; ++j) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return a[int((k + 1) / 2)]
    }
    END {
        printf "| build (include tree / compiler / level) | predict, ns/sample | one sample, ns |\n|---|---:|---:|\n"
        for (i = 1; i <= n; ++i) printf "| %s | %.1f | %.1f |\n", order[i], med(p[order[i]]), med(s[order[i]])
    }'
