// xfuse's Keras weight files: model.save_weights / load_weights in tf.keras 2.x's HDF5 layout,
// Keras 3 .weights.h5 reading, and checkpoints with optimizer state (model.save_checkpoint /
// load_checkpoint), which the ModelCheckpoint callback writes (docs/keras_interop.md).
// The only part of xfuse that needs the HDF5 C library: include this header and link the CMake
// target xfuse::hdf5.
#pragma once

#include <filesystem>
#include <type_traits>

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

// Model::save_weights, load_weights, save_checkpoint and load_checkpoint call this, with the
// operation as the first argument; it is found by argument-dependent lookup when the call is
// compiled, so model.hpp itself does not include HDF5. A checkpoint holds the weights and the
// optimizer's state. Options (xf::by_name) go to the loads; a save takes none.
template <class Operation, class M, class... Options>
requires requires {
    typename M::graph_type;
}
void io_file(Operation, M& model, const std::filesystem::path& path, Options... options) {
    if constexpr (std::is_same_v<Operation, detail::save_weights_file>)
        io::save_weights(path, model, options...);
    else if constexpr (std::is_same_v<Operation, detail::load_weights_file>)
        io::load_weights(path, model, options...);
    else if constexpr (std::is_same_v<Operation, detail::save_checkpoint_file>)
        io::save_training_checkpoint(path, model, options...);
    else
        io::load_training_checkpoint(path, model, options...);
}

}  // namespace xfuse
