// xfuse's Keras weight files: model.save_weights / load_weights in tf.keras 2.x's HDF5 layout,
// Keras 3 .weights.h5 reading, and checkpoints with optimizer state (model.save_checkpoint /
// load_checkpoint), which the ModelCheckpoint callback writes (docs/keras_interop.md).
// The only part of xfuse that needs the HDF5 C library: include this header and link the CMake
// target xfuse::hdf5.
#pragma once

#include <filesystem>

// First: core/config.hpp must see xsimd before xtensor includes it (it silences g++ 12's false
// uninitialised warnings inside the AVX-512 intrinsics).
#include "xfuse.hpp"
// (the rest)
#include "io/hdf5_atomic.hpp"
#include "io/hdf5_file.hpp"
#include "io/hdf5_handle.hpp"
#include "io/keras_checkpoint.hpp"
#include "io/keras_layout.hpp"
#include "io/keras_weights.hpp"
#include "io/training_checkpoint.hpp"

namespace xfuse {

// Model::save_weights, load_weights, save_checkpoint and load_checkpoint call these; they are
// found by argument-dependent lookup when the call is compiled, so model.hpp itself does not
// include HDF5. A checkpoint holds the weights and the optimizer's state.
template <class M>
requires requires {
    typename M::graph_type;
}
void io_file(detail::save_weights_file, const M& model, const std::filesystem::path& path) {
    io::save_weights(path, model);
}
template <class M, class... Options>
requires requires {
    typename M::graph_type;
}
void io_file(detail::load_weights_file, M& model, const std::filesystem::path& path,
             Options... options) {
    io::load_weights(path, model, options...);
}
template <class M>
requires requires {
    typename M::graph_type;
}
void io_file(detail::save_checkpoint_file, const M& model, const std::filesystem::path& path) {
    io::save_training_checkpoint(path, model);
}
template <class M, class... Options>
requires requires {
    typename M::graph_type;
}
void io_file(detail::load_checkpoint_file, M& model, const std::filesystem::path& path,
             Options... options) {
    io::load_training_checkpoint(path, model, options...);
}

}  // namespace xfuse
