# `cmake --install`: headers, the static library, the programs (installed by their own
# directories) and a CMake package, so another project does
#   find_package(eci_sandbox CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE eci::sandbox)
# The exported target carries the public compile definitions (BOOST_ASIO_SEPARATE_COMPILATION,
# BOOST_BEAST_SEPARATE_COMPILATION, BOOST_ASIO_NO_DEPRECATED): a consumer's translation units
# then use the Asio/Beast implementation compiled once into libeci_sandbox.a.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ECI_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/eci_sandbox)

install(TARGETS eci_sandbox EXPORT eci_sandbox_targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/eci DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT eci_sandbox_targets NAMESPACE eci:: FILE eci_sandboxTargets.cmake
        DESTINATION ${ECI_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/eci_sandboxConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/eci_sandboxConfig.cmake
                              INSTALL_DESTINATION ${ECI_INSTALL_CMAKEDIR})
# 0.x: a minor release may break the API, so only the same MAJOR.MINOR is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/eci_sandboxConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/eci_sandboxConfig.cmake
              ${PROJECT_BINARY_DIR}/eci_sandboxConfigVersion.cmake
        DESTINATION ${ECI_INSTALL_CMAKEDIR})
