# The second GCC 12 coroutine trap, as a tripwire: a braced list of string literals passed
# inside a co_await does not compile on GCC 12 ("array used as initializer", PR 103871). On
# GCC 12 this expects the failure (so the README's warning stays true); elsewhere, success
# (so a newer compiler shows the warning can be narrowed).
# Usage: cmake -DCXX=<compiler> -DGCC_MAJOR=<n or empty> -DSOURCE=<file> -P check_braced_list.cmake
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only ${SOURCE}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(GCC_MAJOR STREQUAL "12")
    if(result EQUAL 0)
        message(FATAL_ERROR "GCC 12 compiled a braced list inside co_await: the README's "
                            "'GCC 12' section is out of date")
    endif()
    if(NOT err MATCHES "array used as initializer")
        message(FATAL_ERROR "GCC 12 failed differently than PR 103871:\n${err}")
    endif()
    message(STATUS "GCC 12: a braced list inside co_await is refused, as documented")
else()
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "${CXX} refused a braced list inside co_await:\n${err}")
    endif()
endif()
