# ctest "package: install and consume" and "package: clang consumer" (cmake -P): installs the
# build tree into a fresh prefix, then configures, builds and runs test/package/consumer against
# it with find_package only (with ECI_CONSUMER_COMPILER, e.g. clang++ against the GCC-built
# library). Unless ECI_CONSUMER_ONLY, also checks the install components, the version
# compatibility the CHANGELOG promises and the installed eci-sandbox --version.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require_vars(ECI_BUILD_DIR ECI_WORK_DIR ECI_CONSUMER_DIR ECI_GENERATOR ECI_CXX_COMPILER ECI_VERSION)
if(NOT ECI_CONSUMER_COMPILER)
    set(ECI_CONSUMER_COMPILER ${ECI_CXX_COMPILER})
endif()

set(prefix ${ECI_WORK_DIR}/prefix)
file(REMOVE_RECURSE ${ECI_WORK_DIR})
file(MAKE_DIRECTORY ${ECI_WORK_DIR})

run_step("install" ${CMAKE_COMMAND} --install ${ECI_BUILD_DIR} --prefix ${prefix})
foreach(expected include/eci/sandbox.hpp include/eci/version.hpp lib/libeci_sandbox.a
        lib/cmake/eci_sandbox/eci_sandboxConfig.cmake
        lib/cmake/eci_sandbox/eci_sandboxConfigVersion.cmake lib/pkgconfig/eci_sandbox.pc
        bin/eci-sandbox bin/eci-emulator bin/eci-sandbox-init)
    if(NOT EXISTS ${prefix}/${expected})
        message(FATAL_ERROR "the install lacks ${expected}")
    endif()
endforeach()
# Internal headers stay private.
file(GLOB_RECURSE leaked ${prefix}/include/*/core/* ${prefix}/include/*/net/*)
if(leaked)
    message(FATAL_ERROR "internal headers were installed: ${leaked}")
endif()

consume_with_cmake(${ECI_WORK_DIR}/consumer-build ${prefix} ${prefix} ${ECI_CONSUMER_COMPILER}
                   "${ECI_CXX_FLAGS}")
if(ECI_CONSUMER_ONLY)
    return()
endif()

run_step("run the installed CLI" ${prefix}/bin/eci-sandbox --version)
if(NOT step_output STREQUAL "eci-sandbox ${ECI_VERSION}\n")
    message(FATAL_ERROR "unexpected eci-sandbox --version output: ${step_output}")
endif()

# Components: each installs its own files and nothing of the others'.
foreach(component development tools)
    set(component_prefix ${ECI_WORK_DIR}/component-${component})
    run_step("install ${component}" ${CMAKE_COMMAND} --install ${ECI_BUILD_DIR}
             --prefix ${component_prefix} --component ${component})
    file(GLOB_RECURSE files RELATIVE ${component_prefix} ${component_prefix}/*)
    foreach(file IN LISTS files)
        if(component STREQUAL "tools" AND NOT file MATCHES "^bin/eci-(sandbox|emulator|sandbox-init)$")
            message(FATAL_ERROR "the tools component installed ${file}")
        endif()
        if(component STREQUAL "development" AND NOT file MATCHES "^(include/eci/|lib/)")
            message(FATAL_ERROR "the development component installed ${file}")
        endif()
    endforeach()
    list(LENGTH files count)
    message(STATUS "component ${component}: ${count} files")
endforeach()
if(NOT EXISTS ${ECI_WORK_DIR}/component-development/lib/libeci_sandbox.a
   OR NOT EXISTS ${ECI_WORK_DIR}/component-tools/bin/eci-emulator)
    message(FATAL_ERROR "a component lacks its files")
endif()

# Version compatibility (CHANGELOG.md: while the major version is 0, a minor release may change
# the API, so only the same MAJOR.MINOR is accepted). The installed version file is asked as
# find_package asks it; copies of it saying later versions stand for later releases.
set(version_file ${prefix}/lib/cmake/eci_sandbox/eci_sandboxConfigVersion.cmake)
file(READ ${version_file} version_text)
function(check_compatible installed requested expected)
    string(REPLACE "\"${ECI_VERSION}\"" "\"${installed}\"" text "${version_text}")
    file(WRITE ${ECI_WORK_DIR}/version-${installed}.cmake "${text}")
    set(PACKAGE_FIND_VERSION ${requested})
    string(REPLACE "." ";" parts ${requested})
    list(LENGTH parts PACKAGE_FIND_VERSION_COUNT)
    list(APPEND parts 0 0 0)
    list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
    list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
    list(GET parts 2 PACKAGE_FIND_VERSION_PATCH)
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
    include(${ECI_WORK_DIR}/version-${installed}.cmake)
    if(NOT PACKAGE_VERSION STREQUAL installed)
        message(FATAL_ERROR "the version file says ${PACKAGE_VERSION}, not ${installed}")
    endif()
    if(NOT PACKAGE_VERSION_COMPATIBLE STREQUAL expected)
        message(FATAL_ERROR "find_package(eci_sandbox ${requested}) with ${installed} installed: "
                            "compatible=${PACKAGE_VERSION_COMPATIBLE}, expected ${expected}")
    endif()
endfunction()
string(REPLACE "." ";" parts ${ECI_VERSION})
list(GET parts 0 major)
list(GET parts 1 minor)
list(GET parts 2 patch)
math(EXPR later_patch "${patch} + 7")
math(EXPR next_minor "${minor} + 1")
math(EXPR next_major "${major} + 1")
check_compatible(${ECI_VERSION} ${major}.${minor} TRUE)
check_compatible(${ECI_VERSION} ${ECI_VERSION} TRUE)
check_compatible(${major}.${minor}.${later_patch} ${major}.${minor} TRUE)  # a later patch release
check_compatible(${major}.${minor}.${later_patch} ${ECI_VERSION} TRUE)
check_compatible(${ECI_VERSION} ${major}.${minor}.${later_patch} FALSE)    # older than asked
check_compatible(${next_major}.0.0 ${major}.${minor} FALSE)
if(major EQUAL 0)
    check_compatible(${major}.${next_minor}.0 ${major}.${minor} FALSE)  # 0.x: minor may break
else()
    check_compatible(${major}.${next_minor}.0 ${major}.${minor} TRUE)
endif()
message(STATUS "version compatibility: as CHANGELOG.md says")
