# Helpers of the package tests (cmake -P scripts in this directory).
cmake_policy(VERSION 3.25)

# run_step(<what> <command>...): runs the command; a non-zero exit fails the test with its
# output. The output is left in step_output.
function(run_step name)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${name} failed (${rc}):\n${out}\n${err}")
    endif()
    set(step_output "${out}" PARENT_SCOPE)
endfunction()

# require_vars(<var>...): the -D definitions the script needs.
function(require_vars)
    foreach(var IN LISTS ARGN)
        if(NOT DEFINED ${var})
            message(FATAL_ERROR "${var} is not set")
        endif()
    endforeach()
endfunction()

# consume_with_cmake(<build dir> <prefix path or ""> <expected prefix or ""> <compiler> <flags>):
# configures, builds and runs test/package/consumer against an eci_sandbox found by
# find_package, checking the version it prints.
function(consume_with_cmake build prefix_path expected_prefix compiler flags)
    run_step("configure the consumer" ${CMAKE_COMMAND} -S ${ECI_CONSUMER_DIR} -B ${build}
             -G ${ECI_GENERATOR} "-DCMAKE_PREFIX_PATH=${prefix_path}" -DCMAKE_BUILD_TYPE=
             -DCMAKE_CXX_COMPILER=${compiler} "-DCMAKE_CXX_FLAGS=${flags}"
             "-DCMAKE_EXE_LINKER_FLAGS=${ECI_EXE_LINKER_FLAGS}"
             "-DCMAKE_SHARED_LINKER_FLAGS=${ECI_EXE_LINKER_FLAGS}"
             "-DECI_EXPECTED_PREFIX=${expected_prefix}"
             -DECI_EXPECTED_VERSION=${ECI_VERSION})
    run_step("build the consumer" ${CMAKE_COMMAND} --build ${build})
    expect_consumer_output(${build}/eci-consumer)
endfunction()

# expect_consumer_output(<program>): runs a built consumer; it must pass both of its checks.
function(expect_consumer_output program)
    run_step("run the consumer" ${program})
    if(NOT step_output MATCHES "^eci-sandbox ${ECI_VERSION}: network, async ok\n$")
        message(FATAL_ERROR "unexpected consumer output: ${step_output}")
    endif()
    message(STATUS "consumer: ${step_output}")
endfunction()

# consume_with_pkg_config(<exe> <PKG_CONFIG_PATH or "">): compiles test/package/consumer with
# nothing but `pkg-config --cflags --libs eci_sandbox`, and runs it.
function(consume_with_pkg_config exe pc_path)
    set(ENV{PKG_CONFIG_PATH} "${pc_path}")
    run_step("pkg-config" pkg-config --cflags --libs eci_sandbox)
    string(STRIP "${step_output}" flags)
    separate_arguments(flags UNIX_COMMAND "${flags}")
    separate_arguments(extra_flags UNIX_COMMAND "${ECI_CXX_FLAGS} ${ECI_EXE_LINKER_FLAGS}")
    run_step("pkg-config --modversion" pkg-config --modversion eci_sandbox)
    if(NOT step_output STREQUAL "${ECI_VERSION}\n")
        message(FATAL_ERROR "eci_sandbox.pc says version ${step_output}")
    endif()
    run_step("compile the consumer with pkg-config's flags" ${ECI_CXX_COMPILER} -std=c++20
             ${extra_flags} -o ${exe} ${ECI_CONSUMER_DIR}/main.cpp
             ${ECI_CONSUMER_DIR}/async_check.cpp ${flags})
    expect_consumer_output(${exe})
endfunction()
