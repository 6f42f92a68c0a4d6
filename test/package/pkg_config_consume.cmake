# ctest "package: pkg-config consumer" (cmake -P): installs only the development component into
# a fresh prefix, then compiles and runs test/package/consumer with nothing but
# `pkg-config --cflags --libs eci_sandbox` (the .pc file finds its prefix from where it is).
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require_vars(ECI_BUILD_DIR ECI_WORK_DIR ECI_CONSUMER_DIR ECI_CXX_COMPILER ECI_VERSION)

set(prefix ${ECI_WORK_DIR}/prefix)
file(REMOVE_RECURSE ${ECI_WORK_DIR})
file(MAKE_DIRECTORY ${ECI_WORK_DIR})
run_step("install development" ${CMAKE_COMMAND} --install ${ECI_BUILD_DIR} --prefix ${prefix}
         --component development)
consume_with_pkg_config(${ECI_WORK_DIR}/eci-consumer ${prefix}/lib/pkgconfig)
