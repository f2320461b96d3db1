// The docs programs' check: report a failed condition and make the program exit non-zero.
// (Not assert, which NDEBUG removes.)
#pragma once

#include <cstdlib>
#include <iostream>

namespace docs {
inline int failures = 0;

// What main returns: success only when every CHECK held.
inline int exit_code() {
    if (failures == 0)
        return EXIT_SUCCESS;
    std::cerr << failures << " check(s) failed\n";
    return EXIT_FAILURE;
}
}  // namespace docs

#define CHECK(condition)                                                                    \
    do {                                                                                    \
        if (!(condition)) {                                                                 \
            std::cerr << __FILE__ << ":" << __LINE__ << ": check failed: " #condition "\n"; \
            ++docs::failures;                                                               \
        }                                                                                   \
    } while (false)
