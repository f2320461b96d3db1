// Optimizer settings with Keras' defaults (keras/optimizers/adam.py). Training itself, which
// applies them, is in train/ as well; model.compile() only records and validates them.
#pragma once

#include <stdexcept>
#include <string>

namespace xfuse {

struct Adam {
    float learning_rate = 1e-3f;
    float beta_1 = 0.9f;
    float beta_2 = 0.999f;
    float epsilon = 1e-7f;
    bool amsgrad = false;

    void validate() const {
        if (!(learning_rate > 0.0f))
            throw std::invalid_argument("xfuse::Adam: learning_rate must be positive, got " +
                                        std::to_string(learning_rate));
        if (!(beta_1 >= 0.0f && beta_1 < 1.0f) || !(beta_2 >= 0.0f && beta_2 < 1.0f))
            throw std::invalid_argument("xfuse::Adam: beta_1 and beta_2 must lie in [0, 1)");
        if (!(epsilon >= 0.0f))
            throw std::invalid_argument("xfuse::Adam: epsilon must not be negative");
    }
};

}  // namespace xfuse
