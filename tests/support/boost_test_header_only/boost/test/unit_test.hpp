// Boost.Test for cross builds, which cannot link the host's library: the framework's interface,
// then its implementation compiled into the test (Boost's header-only variant). Its own include
// of <boost/test/unit_test.hpp> lands here again and stops at the guard.
#pragma once
// A system header: #include_next and Boost's own code are not held to -Wpedantic.
#pragma GCC system_header

// The interface before the implementation, in this order.
// clang-format off
#include_next <boost/test/unit_test.hpp>
#include <boost/test/included/unit_test.hpp>
// clang-format on
