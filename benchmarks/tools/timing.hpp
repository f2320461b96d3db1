// What the single-file timing tools share: thread CPU time, and the single-sample call as the
// suite's one_sample row makes it (a call of its own, not inlined into the timing loop).
#pragma once

#include <ctime>

namespace timing {

inline double thread_ns() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

template <class Model, class A, class B>
[[gnu::noinline]] float call(const Model& model, const A& a, const B& b) {
    return model(a, b)(0);
}

}  // namespace timing
