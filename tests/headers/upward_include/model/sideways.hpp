// A model header that includes io/, a sideways arrow: check_floors.cmake must refuse it.
#pragma once

#include <xfuse/io/anything.hpp>
