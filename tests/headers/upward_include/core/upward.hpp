// A core header that includes a higher floor: check_floors.cmake must refuse it.
#pragma once

#include "../model/sideways.hpp"
