# `cmake --build --preset dev --target docs`: the API reference of include/eci with Doxygen,
# into <build>/docs/html. Only when Doxygen is installed (optional: tools/bootstrap --docs);
# never part of the default build or CI.
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
    set(ECI_DOXYGEN_INPUT ${PROJECT_SOURCE_DIR}/include/eci)
    set(ECI_DOXYGEN_OUTPUT ${PROJECT_BINARY_DIR}/docs)
    configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)
    add_custom_target(docs
        COMMAND Doxygen::doxygen ${PROJECT_BINARY_DIR}/Doxyfile
        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
        COMMENT "Doxygen: API reference in ${ECI_DOXYGEN_OUTPUT}/html"
        VERBATIM)
endif()
