# `cmake --install`: headers, the library, the programs (installed by their own directories)
# a CMake package and a pkg-config file, in three components:
#   runtime      libeci_sandbox.so.* (BUILD_SHARED_LIBS=ON only)
#   development  headers, libeci_sandbox.a or the .so link, CMake package, eci_sandbox.pc
#   tools        eci-sandbox, eci-emulator, eci-sandbox-init
# (`cmake --install build --component development`). Another project then does
#   find_package(eci_sandbox 0.2 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE eci::sandbox)
# or `pkg-config --cflags --libs eci_sandbox`. The exported target carries the public compile
# definitions (BOOST_ASIO_SEPARATE_COMPILATION, BOOST_BEAST_SEPARATE_COMPILATION,
# BOOST_ASIO_NO_DEPRECATED): a consumer's translation units then use the Asio/Beast
# implementation compiled once into libeci_sandbox.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ECI_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/eci_sandbox)

# No INCLUDES DESTINATION: $<INSTALL_INTERFACE:include> already says it, and both listed the
# same directory twice in the exported target.
install(TARGETS eci_sandbox EXPORT eci_sandbox_targets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT development
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/eci DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT development FILES_MATCHING PATTERN "*.hpp")
install(EXPORT eci_sandbox_targets NAMESPACE eci:: FILE eci_sandboxTargets.cmake
        DESTINATION ${ECI_INSTALL_CMAKEDIR} COMPONENT development)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/eci_sandboxConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/eci_sandboxConfig.cmake
                              INSTALL_DESTINATION ${ECI_INSTALL_CMAKEDIR})
# CHANGELOG.md: while the major version is 0, a minor release may change the API, so only the
# same MAJOR.MINOR is compatible: find_package(eci_sandbox 0.2) accepts 0.2.0, 0.2.1, ... and
# refuses 0.3.0 (and 1.x). From 1.0 on this becomes SameMajorVersion.
if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(ECI_VERSION_COMPATIBILITY SameMinorVersion)
else()
    set(ECI_VERSION_COMPATIBILITY SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/eci_sandboxConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY ${ECI_VERSION_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/eci_sandboxConfig.cmake
              ${PROJECT_BINARY_DIR}/eci_sandboxConfigVersion.cmake
        DESTINATION ${ECI_INSTALL_CMAKEDIR} COMPONENT development)

# pkg-config: the prefix is found from the .pc file's own place (${pcfiledir}), so the same file
# works in /usr, /usr/local, /opt/eci or a directory a .deb was unpacked into.
file(RELATIVE_PATH ECI_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" ECI_PC_TO_PREFIX "${ECI_PC_TO_PREFIX}")
if(BUILD_SHARED_LIBS)
    # Boost.JSON/URL are private to the shared library.
    set(ECI_PC_LIBS "-L\${libdir} -leci_sandbox -pthread")
    set(ECI_PC_LIBS_PRIVATE "-lboost_json -lboost_url")
else()
    # An archive needs its private dependencies on the consumer's link line.
    set(ECI_PC_LIBS "-L\${libdir} -leci_sandbox -lboost_json -lboost_url -pthread")
    set(ECI_PC_LIBS_PRIVATE "")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/eci_sandbox.pc.in
               ${PROJECT_BINARY_DIR}/eci_sandbox.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/eci_sandbox.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)
