# The plugin SDK, installed: the headers of include/tally (sdk.h from the
# build), tally-plugin.pc for pkg-config, and the CMake package
# tally-plugin (tally-plugin-config.cmake, with tally_add_plugin). Both
# find their prefix from where they are installed, so `cmake --install
# --prefix DIR` works for any DIR.
include(CMakePackageConfigHelpers)

file(STRINGS ${PROJECT_SOURCE_DIR}/include/tally/plugin.h _abi
     REGEX "^#define TALLY_PLUGIN_ABI_VERSION ")
string(REGEX REPLACE ".* ([0-9]+)u?$" "\\1" TALLY_SDK_ABI "${_abi}")

file(GLOB TALLY_SDK_HEADERS ${PROJECT_SOURCE_DIR}/include/tally/*.h)
install(FILES ${TALLY_SDK_HEADERS} ${PROJECT_BINARY_DIR}/include/tally/sdk.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tally)

file(RELATIVE_PATH TALLY_SDK_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig"
     "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" TALLY_SDK_PC_TO_PREFIX "${TALLY_SDK_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/tally-plugin.pc.in
               ${PROJECT_BINARY_DIR}/tally-plugin.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tally-plugin.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(TALLY_SDK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tally-plugin)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tally-plugin-config.cmake.in
  ${PROJECT_BINARY_DIR}/tally-plugin-config.cmake
  INSTALL_DESTINATION ${TALLY_SDK_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR TALLY_PLUGIN_INSTALL_DIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tally-plugin-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tally-plugin-config.cmake
              ${PROJECT_BINARY_DIR}/tally-plugin-config-version.cmake
        DESTINATION ${TALLY_SDK_CMAKE_DIR})
