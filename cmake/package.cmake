# CPack: `cpack -G DEB` in a build directory makes Debian packages, one per install component:
#   libeci-sandbox-dev   development: headers, library, CMake package, eci_sandbox.pc
#   eci-sandbox-tools    tools: eci-sandbox, eci-emulator, eci-sandbox-init
#   libeci-sandbox0.2    runtime: libeci_sandbox.so.0.2 (BUILD_SHARED_LIBS=ON builds only)
# installed under /usr. The Depends name Debian 12's packages, so
# `apt-get install ./libeci-sandbox-dev_*.deb` on a fresh machine brings what a build needs.
# ctest "package: deb installs and consumes" builds, unpacks (or installs) and uses them.
set(CPACK_PACKAGE_NAME eci-sandbox)
set(CPACK_PACKAGE_VENDOR "eci-sandbox")
set(CPACK_PACKAGE_CONTACT "eci-sandbox maintainers <eci-sandbox@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
# Programs and the shared library stripped, as Debian ships them (a Debug build's eci-sandbox
# is 200 MB with its debug information).
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_LICENSE Apache-2.0)
set(ECI_SONAME_VERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(ECI_DEB_RUNTIME_LIBS "libc6, libstdc++6, libgcc-s1, libssl3, libfmt9, libboost-json1.81.0, libboost-url1.81.0")

set(CPACK_COMPONENTS_ALL development)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libeci-sandbox-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libfmt-dev, libssl-dev")
if(BUILD_SHARED_LIBS)
    list(APPEND CPACK_COMPONENTS_ALL runtime)
    set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libeci-sandbox${ECI_SONAME_VERSION})
    set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
    set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "${ECI_DEB_RUNTIME_LIBS}")
    string(APPEND CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
           ", libeci-sandbox${ECI_SONAME_VERSION} (= ${PROJECT_VERSION})")
endif()
if(ECI_BUILD_CLI OR ECI_BUILD_EMULATOR)
    list(APPEND CPACK_COMPONENTS_ALL tools)
    set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME eci-sandbox-tools)
    set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
    # The emulator's sandboxes run tmux (docs/emulator-runtime.md).
    set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "${ECI_DEB_RUNTIME_LIBS}, tmux")
    if(BUILD_SHARED_LIBS)
        string(APPEND CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS
               ", libeci-sandbox${ECI_SONAME_VERSION} (= ${PROJECT_VERSION})")
    endif()
endif()
include(CPack)
