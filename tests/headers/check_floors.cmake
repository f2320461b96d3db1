# Include arrows point down the floors of include/xfuse/ (README.md, "Layout"): a header includes
# headers of its own folder or of a lower floor, never of a higher one or a sideways one. io/
# and model/ share a floor and neither includes the other: model/ reaches io/ only through the
# documented hooks (the io_file function that <xfuse/hdf5.hpp> defines). The top-level
# headers (xfuse.hpp, hdf5.hpp, plot.hpp) gather the rest, and testing/ stands on them.
#
#   cmake -DXFUSE_HEADERS=<dir holding core/, kernels/, ...> -P check_floors.cmake
#
# Fails naming every upward or sideways include, and every folder that the table lacks (a new
# folder is given its floor here).
if(NOT XFUSE_HEADERS)
    message(FATAL_ERROR "check_floors.cmake: pass -DXFUSE_HEADERS=<include/xfuse>")
endif()

# Folder, floor: lower floors know nothing of higher ones.
set(floors
    core 0
    kernels/arch 1
    kernels 2
    layers 3
    graph 4
    exec 5
    train 6
    model 7
    io 7
    . 8
    testing 9)  # the layer checker for users' tests builds models through <xfuse/xfuse.hpp>

# The folder of a path relative to XFUSE_HEADERS (the longest folder in the table that holds
# it; "." for the top-level headers) and its floor, or floor "" for a folder the table lacks.
function(floor_of path folder_var floor_var)
    get_filename_component(dir ${path} DIRECTORY)
    if(dir STREQUAL "")
        set(dir .)
    endif()
    set(best_folder "")
    set(best_floor "")
    list(LENGTH floors n)
    math(EXPR last "${n} - 1")
    foreach(i RANGE 0 ${last} 2)
        math(EXPR j "${i} + 1")
        list(GET floors ${i} folder)
        list(GET floors ${j} floor)
        string(LENGTH "${folder}" length)
        string(LENGTH "${best_folder}" best_length)
        if((dir STREQUAL folder OR dir MATCHES "^${folder}/") AND length GREATER best_length)
            set(best_folder ${folder})
            set(best_floor ${floor})
        endif()
    endforeach()
    if(best_folder STREQUAL "")
        set(best_folder ${dir})
    endif()
    set(${folder_var} ${best_folder} PARENT_SCOPE)
    set(${floor_var} "${best_floor}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE headers RELATIVE ${XFUSE_HEADERS} ${XFUSE_HEADERS}/*.hpp)
set(problems "")
foreach(header IN LISTS headers)
    floor_of(${header} folder floor)
    if(floor STREQUAL "")
        string(APPEND problems "  ${header}: folder ${folder}/ has no floor in check_floors.cmake\n")
        continue()
    endif()
    get_filename_component(header_dir ${XFUSE_HEADERS}/${header} DIRECTORY)
    file(STRINGS ${XFUSE_HEADERS}/${header} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
    foreach(line IN LISTS lines)
        if(line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"")
            get_filename_component(target ${CMAKE_MATCH_1} ABSOLUTE BASE_DIR ${header_dir})
        elseif(line MATCHES "#[ \t]*include[ \t]*<xfuse/([^>]+)>")
            set(target ${XFUSE_HEADERS}/${CMAKE_MATCH_1})
        else()
            continue()  # a system or third-party header
        endif()
        file(RELATIVE_PATH included ${XFUSE_HEADERS} ${target})
        if(included MATCHES "^\\.\\./")
            continue()  # outside xfuse
        endif()
        floor_of(${included} included_folder included_floor)
        if(included_folder STREQUAL folder)
            continue()
        endif()
        if(included_floor STREQUAL "")
            string(APPEND problems "  ${header} includes ${included}, whose folder has no floor\n")
        elseif(NOT included_floor LESS floor)
            string(APPEND problems
                   "  ${header} includes ${included}: ${folder}/ (floor ${floor}) may not include "
                   "${included_folder}/ (floor ${included_floor})\n")
        endif()
    endforeach()
endforeach()

if(problems)
    message(FATAL_ERROR "Include arrows that do not point down:\n${problems}")
endif()
list(LENGTH headers count)
message(STATUS "check_floors: ${count} headers, every include points down")
