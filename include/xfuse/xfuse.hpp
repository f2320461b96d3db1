// xfuse: Keras-style neural networks whose layers are static types.
#pragma once

#include "core/config.hpp"
#include "core/shape.hpp"
#include "kernels/activations.hpp"
#include "layers/activation.hpp"
#include "layers/concatenate.hpp"
#include "layers/dense.hpp"
#include "layers/dot.hpp"
#include "layers/input.hpp"
#include "layers/merge.hpp"
#include "layers/tagged.hpp"
#include "model/model.hpp"
#include "model/sequential.hpp"
#include "train/losses.hpp"
#include "train/optimizers.hpp"
