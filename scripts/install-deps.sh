#!/usr/bin/env bash
# Installs, from Debian's packages, what building and testing xfuse needs, and only what is
# missing. Run as root (or with sudo available).
set -euo pipefail

packages=(cmake make g++ libxtensor-dev libxsimd-dev xtl-dev libboost-test-dev)
packages+=(libhdf5-dev python3-h5py python3-numpy)  # Keras weight files (docs/keras_interop.md)
packages+=(libgraphviz-dev libcairo2-dev pkg-config)  # pictures (<xfuse/plot.hpp>, xfuse::plot)
packages+=(libbenchmark-dev libeigen3-dev)  # the benchmarks (benchmarks/README.md)
# `install-deps.sh cross`: also the AArch64 cross compiler and qemu-user that CI's NEON run needs.
[ "${1:-}" = cross ] && packages+=(g++-aarch64-linux-gnu qemu-user-static)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
        missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
