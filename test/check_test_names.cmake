# Fails when a Catch2 test name contains ';' (see test/CMakeLists.txt for why).
# Usage: cmake -DECI_TEST_BINARIES=a;b;c -P check_test_names.cmake
foreach(binary IN LISTS ECI_TEST_BINARIES)
    # Catch2 v2 exits with the number of tests listed, so the exit code is not checked.
    execute_process(COMMAND ${binary} --list-test-names-only OUTPUT_VARIABLE names
                    RESULT_VARIABLE ignored)
    if(names STREQUAL "")
        message(FATAL_ERROR "${binary} listed no tests")
    endif()
    string(FIND "${names}" ";" at)
    if(NOT at EQUAL -1)
        message(FATAL_ERROR "${binary}: a test name contains ';'; ctest would split it into "
                            "two tests that run nothing")
    endif()
endforeach()
