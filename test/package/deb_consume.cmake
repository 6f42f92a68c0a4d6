# ctest "package: deb installs and consumes" (cmake -P): `cpack -G DEB` in the build tree, then
#  - checks each .deb's name, files and that its Depends name the Debian package of every
#    shared library its programs need (what apt-get brings on a fresh machine);
#  - in CI (CI=true, as root): installs them for real with dpkg -i, which also proves every
#    dependency resolves, builds the consumer with find_package and with pkg-config from
#    /usr, runs /usr/bin/eci-sandbox, and removes the packages again (dpkg -r), even on failure;
#  - elsewhere (a developer's machine is not changed): unpacks them with dpkg-deb -x into a
#    temporary root and does the same against it.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require_vars(ECI_BUILD_DIR ECI_WORK_DIR ECI_CONSUMER_DIR ECI_GENERATOR ECI_CXX_COMPILER ECI_VERSION)

file(REMOVE_RECURSE ${ECI_WORK_DIR})
file(MAKE_DIRECTORY ${ECI_WORK_DIR})
run_step("cpack" cpack -G DEB --config ${ECI_BUILD_DIR}/CPackConfig.cmake -B ${ECI_WORK_DIR}/debs)
run_step("dpkg" dpkg --print-architecture)
string(STRIP "${step_output}" arch)
set(dev_deb ${ECI_WORK_DIR}/debs/libeci-sandbox-dev_${ECI_VERSION}_${arch}.deb)
set(tools_deb ${ECI_WORK_DIR}/debs/eci-sandbox-tools_${ECI_VERSION}_${arch}.deb)
foreach(deb ${dev_deb} ${tools_deb})
    if(NOT EXISTS ${deb})
        file(GLOB made ${ECI_WORK_DIR}/debs/*.deb)
        message(FATAL_ERROR "cpack did not make ${deb}; it made: ${made}")
    endif()
endforeach()

# Contents.
run_step("list the dev package" dpkg-deb -c ${dev_deb})
foreach(expected ./usr/include/eci/sandbox.hpp ./usr/lib/libeci_sandbox.a
        ./usr/lib/cmake/eci_sandbox/eci_sandboxConfig.cmake ./usr/lib/pkgconfig/eci_sandbox.pc)
    if(NOT step_output MATCHES " ${expected}\n")
        message(FATAL_ERROR "libeci-sandbox-dev lacks ${expected}:\n${step_output}")
    endif()
endforeach()
if(step_output MATCHES "/bin/")
    message(FATAL_ERROR "libeci-sandbox-dev holds programs:\n${step_output}")
endif()
run_step("list the tools package" dpkg-deb -c ${tools_deb})
foreach(expected ./usr/bin/eci-sandbox ./usr/bin/eci-emulator ./usr/bin/eci-sandbox-init)
    if(NOT step_output MATCHES " ${expected}\n")
        message(FATAL_ERROR "eci-sandbox-tools lacks ${expected}:\n${step_output}")
    endif()
endforeach()

# owning_package(<library path> <out var>): the package that holds a library ldd printed. With
# merged /usr, dpkg knows each file under the path its package ships, /lib or /usr/lib.
function(owning_package library out)
    file(REAL_PATH ${library} real)
    foreach(path ${library} ${real})
        string(REGEX REPLACE "^/usr/lib/" "/lib/" lib_path ${path})
        string(REGEX REPLACE "^/lib/" "/usr/lib/" usr_path ${path})
        foreach(candidate ${path} ${lib_path} ${usr_path})
            execute_process(COMMAND dpkg -S ${candidate} RESULT_VARIABLE rc
                            OUTPUT_VARIABLE owner ERROR_QUIET)
            if(rc EQUAL 0)
                string(REGEX REPLACE ":.*" "" owner "${owner}")
                set(${out} ${owner} PARENT_SCOPE)
                return()
            endif()
        endforeach()
    endforeach()
    message(FATAL_ERROR "no package holds ${library}")
endfunction()

# Depends: every shared library the programs load comes from a package the tools package
# depends on, and the dev package depends on the -dev packages of the public dependencies.
run_step("tools Depends" dpkg-deb -f ${tools_deb} Depends)
string(REGEX REPLACE " *\\([^)]*\\)" "" tools_depends "${step_output}")
string(REGEX REPLACE "[ \n]" "" tools_depends "${tools_depends}")
string(REPLACE "," ";" tools_depends "${tools_depends}")
set(unpacked ${ECI_WORK_DIR}/root)
run_step("unpack tools" dpkg-deb -x ${tools_deb} ${unpacked})
foreach(program eci-sandbox eci-emulator)
    run_step("ldd ${program}" ldd ${unpacked}/usr/bin/${program})
    string(REGEX MATCHALL "=> /[^ ]+" libraries "${step_output}")
    foreach(library IN LISTS libraries)
        string(REGEX REPLACE "^=> " "" library "${library}")
        owning_package(${library} owner)
        if(NOT owner IN_LIST tools_depends)
            message(FATAL_ERROR "${program} needs ${library} from ${owner}, which "
                                "eci-sandbox-tools does not depend on (${tools_depends})")
        endif()
    endforeach()
endforeach()
run_step("dev Depends" dpkg-deb -f ${dev_deb} Depends)
foreach(expected libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libfmt-dev libssl-dev)
    if(NOT step_output MATCHES "(^|, )${expected}(,|\n| )")
        message(FATAL_ERROR "libeci-sandbox-dev does not depend on ${expected}: ${step_output}")
    endif()
endforeach()

execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
if("$ENV{CI}" STREQUAL "true" AND uid STREQUAL "0")
    execute_process(COMMAND dpkg-query -W -f=\${Status} libeci-sandbox-dev eci-sandbox-tools
                    OUTPUT_VARIABLE status ERROR_QUIET)
    if(status MATCHES "installed")
        message(FATAL_ERROR "eci-sandbox packages are already installed; not touching them")
    endif()
    # Each step's failure is kept until the packages are removed again.
    set(failure "")
    foreach(step install find_package pkg-config cli)
        if(step STREQUAL "install")
            execute_process(COMMAND dpkg -i ${dev_deb} ${tools_deb} RESULT_VARIABLE rc
                            OUTPUT_VARIABLE out ERROR_VARIABLE err)
        elseif(step STREQUAL "find_package")
            # No CMAKE_PREFIX_PATH: found where a system package is.
            execute_process(COMMAND ${CMAKE_COMMAND} -DECI_STEP=find_package
                            -DECI_PREFIX_PATH= -DECI_EXPECTED_PREFIX=/usr
                            -DECI_WORK_DIR=${ECI_WORK_DIR} -DECI_CONSUMER_DIR=${ECI_CONSUMER_DIR}
                            -DECI_GENERATOR=${ECI_GENERATOR} -DECI_CXX_COMPILER=${ECI_CXX_COMPILER}
                            -DECI_VERSION=${ECI_VERSION} -P ${CMAKE_CURRENT_LIST_DIR}/deb_step.cmake
                            RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
        elseif(step STREQUAL "pkg-config")
            execute_process(COMMAND ${CMAKE_COMMAND} -DECI_STEP=pkg-config -DECI_PC_PATH=
                            -DECI_WORK_DIR=${ECI_WORK_DIR} -DECI_CONSUMER_DIR=${ECI_CONSUMER_DIR}
                            -DECI_CXX_COMPILER=${ECI_CXX_COMPILER} -DECI_VERSION=${ECI_VERSION}
                            -P ${CMAKE_CURRENT_LIST_DIR}/deb_step.cmake
                            RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
        else()
            execute_process(COMMAND /usr/bin/eci-sandbox --version RESULT_VARIABLE rc
                            OUTPUT_VARIABLE out ERROR_VARIABLE err)
            if(rc EQUAL 0 AND NOT out STREQUAL "eci-sandbox ${ECI_VERSION}\n")
                set(rc "wrong output")
            endif()
        endif()
        if(NOT rc EQUAL 0)
            set(failure "${step} failed (${rc}):\n${out}\n${err}")
            break()
        endif()
        message(STATUS "installed .deb: ${step} ok")
    endforeach()
    execute_process(COMMAND dpkg -r libeci-sandbox-dev eci-sandbox-tools RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(failure)
        message(FATAL_ERROR "${failure}")
    endif()
    if(NOT rc EQUAL 0 OR EXISTS /usr/include/eci/sandbox.hpp OR EXISTS /usr/bin/eci-sandbox)
        message(FATAL_ERROR "dpkg -r did not remove the packages (${rc}):\n${out}\n${err}")
    endif()
    message(STATUS "installed with dpkg -i, used, removed with dpkg -r")
else()
    run_step("unpack dev" dpkg-deb -x ${dev_deb} ${unpacked})
    consume_with_cmake(${ECI_WORK_DIR}/consumer-build ${unpacked}/usr ${unpacked}/usr
                       ${ECI_CXX_COMPILER} "")
    consume_with_pkg_config(${ECI_WORK_DIR}/eci-consumer-pc ${unpacked}/usr/lib/pkgconfig)
    run_step("run the unpacked CLI" ${unpacked}/usr/bin/eci-sandbox --version)
    if(NOT step_output STREQUAL "eci-sandbox ${ECI_VERSION}\n")
        message(FATAL_ERROR "unexpected eci-sandbox --version output: ${step_output}")
    endif()
    message(STATUS "unpacked with dpkg-deb -x and used (CI=true as root installs for real)")
endif()
