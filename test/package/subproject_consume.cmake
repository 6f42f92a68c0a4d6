# ctest "package: subproject shared consumer" (cmake -P): builds test/package/subproject, which
# takes eci-sandbox in with FetchContent and BUILD_SHARED_LIBS=ON, then checks that
#  - configuring needs no Catch2 (find_package(Catch2) is disabled) and builds only the library,
#  - the consumer's ctest holds only its own test and its install only its own files,
#  - libeci_sandbox.so has a soname of MAJOR.MINOR and exports the eci API and Asio, not the
#    fmt / Boost.JSON / standard-library instantiations it uses,
#  - the consumer (its own shared library linking ours, and a program) runs.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require_vars(ECI_SOURCE_DIR ECI_WORK_DIR ECI_GENERATOR ECI_CXX_COMPILER ECI_VERSION)

set(build ${ECI_WORK_DIR}/build)
file(REMOVE_RECURSE ${ECI_WORK_DIR})
file(MAKE_DIRECTORY ${ECI_WORK_DIR})
# Debug without debug information: this build costs a whole library build of CI's time.
run_step("configure" ${CMAKE_COMMAND} -S ${ECI_SOURCE_DIR}/test/package/subproject -B ${build}
         -G ${ECI_GENERATOR} -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g0
         -DCMAKE_CXX_COMPILER=${ECI_CXX_COMPILER}
         -DECI_SOURCE_DIR=${ECI_SOURCE_DIR} -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON)
# Only the library's own sources (its layers' objects) and the consumer's are compiled.
if(ECI_GENERATOR STREQUAL "Ninja")
    run_step("list the build" ${CMAKE_COMMAND} --build ${build} -- -t commands all)
    string(REGEX MATCHALL "[^ \n]+\\.cpp\\.o" objects "${step_output}")
    list(REMOVE_DUPLICATES objects)
    foreach(object IN LISTS objects)
        if(NOT object MATCHES "/eci_(sandbox|[a-z]+_layer)\\.dir/lib/|/eci_consumer_async\\.dir/|/eci-consumer\\.dir/")
            message(FATAL_ERROR "the subproject build compiles ${object}")
        endif()
    endforeach()
    list(LENGTH objects count)
    message(STATUS "subproject build: ${count} translation units")
endif()

run_step("build" ${CMAKE_COMMAND} --build ${build})
run_step("ctest -N" ctest --test-dir ${build} -N)
if(NOT step_output MATCHES "Total Tests: 1\n")
    message(FATAL_ERROR "the consumer's ctest holds more than its own test:\n${step_output}")
endif()
run_step("ctest" ctest --test-dir ${build} --output-on-failure)
expect_consumer_output(${build}/eci-consumer)

run_step("install" ${CMAKE_COMMAND} --install ${build} --prefix ${ECI_WORK_DIR}/prefix)
file(GLOB_RECURSE installed RELATIVE ${ECI_WORK_DIR}/prefix ${ECI_WORK_DIR}/prefix/*)
foreach(file IN LISTS installed)
    if(file MATCHES "eci/|eci_sandbox|eci-sandbox|eci-emulator|\\.pc$")
        message(FATAL_ERROR "the consumer's install holds our ${file}")
    endif()
endforeach()

# The shared library: soname and exported symbols.
string(REGEX MATCH "^[0-9]+\\.[0-9]+" major_minor ${ECI_VERSION})
file(GLOB_RECURSE library ${build}/_deps/*/libeci_sandbox.so.${ECI_VERSION})
if(NOT library)
    message(FATAL_ERROR "no libeci_sandbox.so.${ECI_VERSION} in ${build}/_deps")
endif()
run_step("readelf" readelf -d ${library})
if(NOT step_output MATCHES "Library soname: \\[libeci_sandbox\\.so\\.${major_minor}\\]")
    message(FATAL_ERROR "unexpected soname:\n${step_output}")
endif()
run_step("nm -D" nm -DC --defined-only ${library})
foreach(expected "eci::AsyncEciSandbox::from_config" "eci::EciSandbox::from_config"
        "boost::asio::any_io_executor::any_io_executor" "boost::asio::detail::scheduler::run")
    string(FIND "${step_output}" "${expected}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "libeci_sandbox.so does not export ${expected}")
    endif()
endforeach()
string(REGEX MATCHALL "\n[0-9a-f]+ [A-Za-z] (fmt::|boost::json::|boost::urls::|std::)[^\n]*"
       leaked "${step_output}")
foreach(symbol IN LISTS leaked)
    # Instantiations over eci or Asio types belong to the API.
    if(NOT symbol MATCHES "eci::|boost::asio::|boost::beast::")
        message(FATAL_ERROR "libeci_sandbox.so exports a dependency's symbol:${symbol}")
    endif()
endforeach()
message(STATUS "libeci_sandbox.so: soname .${major_minor}, exports checked")
