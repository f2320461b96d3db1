// Token ids as the embedding layers read them: the check a model runs on the ids before anything
// is computed (the layers' check_input), and the lookup of a table's rows by them.
#pragma once

#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../core/shape.hpp"
#include "../kernels/gather_rows.hpp"

namespace xfuse::detail {

// Where a value of a sample of shape S lies: "5" for a sequence, "(1, 2)" for more axes.
template <Shape S>
std::string position_text(std::size_t flat) {
    if constexpr (S::rank == 1) {
        return std::to_string(flat);
    } else {
        std::string text;
        for (std::size_t axis = S::rank; axis-- > 0; flat /= S::dims[axis])
            text = std::to_string(flat % S::dims[axis]) + (text.empty() ? "" : ", ") + text;
        return "(" + text + ")";
    }
}

// Keras raises for an id outside the table (TensorFlow's gather does on CPU); so does xfuse, with
// std::out_of_range naming the layer, the sample, the position and the value. `batch` holds
// `samples` samples of In, unpadded.
template <Shape In>
void check_token_ids(const float* batch, std::size_t samples, std::size_t vocabulary,
                     std::string_view class_name, std::string_view layer) {
    for (std::size_t s = 0; s < samples; ++s)
        for (std::size_t i = 0; i < In::size; ++i) {
            const float id = batch[s * In::size + i];
            if (!kernels::id_in_range(id, vocabulary)) {
                std::ostringstream text;  // the value as written: 6, -0.5, nan
                text << "xfuse: " << class_name << " '" << layer << "': sample " << s
                     << ", position " << position_text<In>(i) << ": token id " << id
                     << " is outside [0, " << vocabulary << ")";
                throw std::out_of_range(text.str());
            }
        }
}

// A layer that reads token ids from a table of Vocab rows: the check its model runs on them
// (check_input, layers/layer.hpp), in Derived's name.
template <class Derived, std::size_t Vocab>
struct token_id_input {
    template <Shape In>
    static void check_input(std::size_t, const float* batch, std::size_t samples,
                            std::string_view layer) {
        check_token_ids<In>(batch, samples, Vocab, Derived::class_name, layer);
    }
};

// The rows of a table of `Rows` rows of `Features` (padded) picked by each sample's ids.
template <Shape In, std::size_t Rows, std::size_t Features>
void gather_ids(const float* table, std::size_t samples, const float* ids, float* out) noexcept {
    kernels::gather_rows(table, Rows, padded(Features), ids, samples * In::rows, In::last,
                         In::row_stride, out);
}
template <Shape In, std::size_t Rows, std::size_t Features>
void scatter_ids(const float* out_grad, std::size_t samples, const float* ids,
                 float* table_grad) noexcept {
    kernels::scatter_add_rows(out_grad, Rows, padded(Features), Features, ids, samples * In::rows,
                              In::last, In::row_stride, table_grad);
}

}  // namespace xfuse::detail
