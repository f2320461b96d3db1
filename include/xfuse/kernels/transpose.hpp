// Transposing a padded matrix: W^T from W, for the backward's dx = dz W^T (dense_backward.hpp),
// which then runs as a register-blocked forward product over W^T instead of one reduction per
// input feature.
//
// Where the target transposes blocks in registers (arch/transpose.hpp), whole blocks go through
// it; the rows of a block past the matrix's last row, and every row elsewhere, a scalar loop.
#pragma once

#include <cstddef>

#include "../core/config.hpp"
#include "arch/transpose.hpp"

namespace xfuse::kernels {

// kernel_t (padded(Cols) rows, padded(Rows) floats each) = kernel^T, for kernel of Rows rows
// of padded(Cols) floats; the padding columns of kernel_t are 0, its padding rows (past Cols)
// receive kernel's padding columns.
template <std::size_t Rows, std::size_t Cols>
void transpose_padded(const float* kernel, float* kernel_t) noexcept {
    constexpr std::size_t stride = padded(Cols);
    constexpr std::size_t stride_t = padded(Rows);
    constexpr std::size_t block = arch::transpose_block_size;
    std::size_t first_scalar_row = 0;
    if constexpr (arch::has_block_transpose) {
        first_scalar_row = Rows / block * block;
        for (std::size_t i = 0; i < first_scalar_row; i += block)
            for (std::size_t j = 0; j < stride; j += block)
                arch::transpose_block(kernel + i * stride + j, stride, kernel_t + j * stride_t + i,
                                      stride_t);
    }
    for (std::size_t j = 0; j < stride; ++j) {
        float* row = kernel_t + j * stride_t;
        for (std::size_t i = first_scalar_row; i < Rows; ++i)
            row[i] = kernel[i * stride + j];
        for (std::size_t i = Rows; i < stride_t; ++i)
            row[i] = 0.0f;
    }
}

}  // namespace xfuse::kernels
