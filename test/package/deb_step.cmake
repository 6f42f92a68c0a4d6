# One consumer build against the installed .deb, run by deb_consume.cmake in its own cmake -P
# so that a failure is reported and the packages still removed.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
if(ECI_STEP STREQUAL "find_package")
    consume_with_cmake(${ECI_WORK_DIR}/installed-consumer-build "${ECI_PREFIX_PATH}"
                       "${ECI_EXPECTED_PREFIX}" ${ECI_CXX_COMPILER} "")
else()
    consume_with_pkg_config(${ECI_WORK_DIR}/installed-eci-consumer-pc "${ECI_PC_PATH}")
endif()
