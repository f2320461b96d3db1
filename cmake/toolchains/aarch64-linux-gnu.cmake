# Cross build for AArch64 (NEON) with Debian's g++-aarch64-linux-gnu; the tests run under
# qemu-user (qemu-aarch64-static), which CTest calls through CMAKE_CROSSCOMPILING_EMULATOR.
#
#   cmake -S . -B build-aarch64 --toolchain cmake/toolchains/aarch64-linux-gnu.cmake
#
# xtensor, xsimd, xtl and Boost.Test are header-only here: the host's packages serve the target
# too. Their headers are searched after the cross compiler's own (-idirafter), so the target's C
# library headers come first; their CMake configs live in the host's multiarch folder.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CXX_FLAGS_INIT "-idirafter /usr/include")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /usr/aarch64-linux-gnu)

set(xtl_DIR /usr/share/cmake/xtl)
set(xsimd_DIR /usr/lib/x86_64-linux-gnu/cmake/xsimd)
set(xtensor_DIR /usr/lib/x86_64-linux-gnu/cmake/xtensor)

# Programs come from the host; libraries and headers of the target from its own folders.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
