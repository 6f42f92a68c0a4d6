# ctest "package: install and consume" (cmake -P): installs the build tree into a fresh prefix,
# then configures, builds and runs test/package/consumer against it with find_package only;
# finally runs the installed eci-sandbox --version. Any failing step fails the test.
foreach(var ECI_BUILD_DIR ECI_WORK_DIR ECI_CONSUMER_DIR ECI_GENERATOR ECI_CXX_COMPILER ECI_VERSION)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "${var} is not set")
    endif()
endforeach()

set(prefix ${ECI_WORK_DIR}/prefix)
set(consumer_build ${ECI_WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${ECI_WORK_DIR})
file(MAKE_DIRECTORY ${ECI_WORK_DIR})

function(run_step name)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${name} failed (${rc}):\n${out}\n${err}")
    endif()
    set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("install" ${CMAKE_COMMAND} --install ${ECI_BUILD_DIR} --prefix ${prefix})
foreach(expected include/eci/sandbox.hpp include/eci/version.hpp lib/libeci_sandbox.a
        lib/cmake/eci_sandbox/eci_sandboxConfig.cmake
        lib/cmake/eci_sandbox/eci_sandboxConfigVersion.cmake bin/eci-sandbox bin/eci-emulator)
    if(NOT EXISTS ${prefix}/${expected})
        message(FATAL_ERROR "the install lacks ${expected}")
    endif()
endforeach()
# Internal headers stay private.
file(GLOB_RECURSE leaked ${prefix}/include/*/core/* ${prefix}/include/*/net/*)
if(leaked)
    message(FATAL_ERROR "internal headers were installed: ${leaked}")
endif()

run_step("configure the consumer" ${CMAKE_COMMAND} -S ${ECI_CONSUMER_DIR} -B ${consumer_build}
         -G ${ECI_GENERATOR} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Debug
         -DCMAKE_CXX_COMPILER=${ECI_CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${ECI_CXX_FLAGS}"
         "-DCMAKE_EXE_LINKER_FLAGS=${ECI_EXE_LINKER_FLAGS}"
         -DECI_EXPECTED_VERSION=${ECI_VERSION})
run_step("build the consumer" ${CMAKE_COMMAND} --build ${consumer_build})
run_step("run the consumer" ${consumer_build}/eci-consumer)
if(NOT step_output MATCHES "eci-sandbox ${ECI_VERSION}")
    message(FATAL_ERROR "unexpected consumer output: ${step_output}")
endif()
message(STATUS "consumer: ${step_output}")

run_step("run the installed CLI" ${prefix}/bin/eci-sandbox --version)
if(NOT step_output STREQUAL "eci-sandbox ${ECI_VERSION}\n")
    message(FATAL_ERROR "unexpected eci-sandbox --version output: ${step_output}")
endif()
