# Fails when an example or a document spawns a coroutine with asio::detached, which drops an
# exception the coroutine throws (issue 18): examples use a completion handler that rethrows.
# Usage: cmake -DECI_SOURCE_DIR=<repo> -P check_no_detached.cmake
file(GLOB_RECURSE checked ${ECI_SOURCE_DIR}/examples/*.cpp ${ECI_SOURCE_DIR}/docs/*.md)
list(APPEND checked ${ECI_SOURCE_DIR}/README.md ${ECI_SOURCE_DIR}/examples/README.md)
set(found "")
foreach(file IN LISTS checked)
    file(STRINGS ${file} lines REGEX "detached *\\)")
    foreach(line IN LISTS lines)
        string(APPEND found "\n  ${file}: ${line}")
    endforeach()
endforeach()
if(NOT found STREQUAL "")
    message(FATAL_ERROR "co_spawn with detached drops exceptions; use a handler that "
                        "rethrows:${found}")
endif()
