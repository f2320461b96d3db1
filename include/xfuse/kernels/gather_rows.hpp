// Rows of a table picked by ids (an embedding lookup) and the gradient's scatter-add back into
// the table. Ids are floats holding integers, in rows of `width` ids padded to `id_stride`;
// table rows are padded to `stride` floats with zero padding lanes; the output has one padded
// row per id, in the ids' row-major order.
#pragma once

#include <cstddef>

#include "../core/config.hpp"

namespace xfuse::kernels {

// Whether `id` names a row of a table of `rows` rows once cast to an integer as TensorFlow's
// tf.cast does (toward zero): -0.5 is row 0; NaN names none.
inline bool id_in_range(float id, std::size_t rows) noexcept {
    return id > -1.0f && id < static_cast<float>(rows);
}

namespace detail {

// f(row index or `rows` when out of range, position j in the ids' row-major order).
template <class F>
void for_each_id(const float* ids, std::size_t id_rows, std::size_t width, std::size_t id_stride,
                 std::size_t rows, F&& f) noexcept {
    std::size_t j = 0;
    for (std::size_t r = 0; r < id_rows; ++r)
        for (std::size_t c = 0; c < width; ++c, ++j) {
            const float id = ids[r * id_stride + c];
            f(id_in_range(id, rows) ? static_cast<std::size_t>(id) : rows, j);
        }
}

}  // namespace detail

// out row j = table row ids[j] (whole padded rows, so the output's padding lanes are 0). An id
// outside the table gives a row of zeros: callers check ids first (xfuse's models do, through
// the layers' check_input), this only keeps a bad id from reading outside the table.
inline void gather_rows(const float* table, std::size_t rows, std::size_t stride, const float* ids,
                        std::size_t id_rows, std::size_t width, std::size_t id_stride,
                        float* out) noexcept {
    detail::for_each_id(ids, id_rows, width, id_stride, rows, [&](std::size_t row, std::size_t j) {
        float* destination = out + j * stride;
        const float* source = table + row * stride;
        for (std::size_t i = 0; i < stride; i += simd_width)
            (row < rows ? simd_batch::load_aligned(source + i) : simd_batch(0.0f))
                .store_aligned(destination + i);
    });
}

// destination[i] += source[i] for the `features` logical lanes of one padded row: a gradient's
// padding lanes may hold anything, and a parameter gradient's padding lanes stay 0.
inline void add_lanes(const float* source, std::size_t features, float* destination) noexcept {
    const std::size_t full = features / simd_width * simd_width;
    for (std::size_t i = 0; i < full; i += simd_width)
        (simd_batch::load_aligned(destination + i) + simd_batch::load_aligned(source + i))
            .store_aligned(destination + i);
    for (std::size_t i = full; i < features; ++i)
        destination[i] += source[i];
}

// table_grad row ids[j] += grad row j (logical lanes only). Repeated ids accumulate; ids outside
// the table add nothing.
inline void scatter_add_rows(const float* grad, std::size_t rows, std::size_t stride,
                             std::size_t features, const float* ids, std::size_t id_rows,
                             std::size_t width, std::size_t id_stride, float* table_grad) noexcept {
    detail::for_each_id(ids, id_rows, width, id_stride, rows, [&](std::size_t row, std::size_t j) {
        if (row < rows)
            add_lanes(grad + j * stride, features, table_grad + row * stride);
    });
}

}  // namespace xfuse::kernels
