// Loss settings with Keras' defaults (keras/losses.py).
#pragma once

#include <stdexcept>

namespace xfuse {

struct BinaryCrossentropy {
    bool from_logits = false;
    float label_smoothing = 0.0f;

    void validate() const {
        if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f))
            throw std::invalid_argument(
                "xfuse::BinaryCrossentropy: label_smoothing must lie in [0, 1]");
    }
};

}  // namespace xfuse
