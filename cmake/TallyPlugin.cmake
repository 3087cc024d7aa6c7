# tally_plugin(NAME source...): a tallyd plugin, NAME.so, built into the
# build tree's plugin dir (TALLY_PLUGIN_BUILD_DIR, which tests use as
# plugin_dir) and installed to ${CMAKE_INSTALL_LIBDIR}/tally. Only the
# descriptor symbol is exported.
set(TALLY_PLUGIN_BUILD_DIR ${PROJECT_BINARY_DIR}/lib/tally)
set(TALLY_PLUGIN_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/tally)

function(tally_plugin name)
  add_library(plugin_${name} MODULE ${ARGN})
  set_target_properties(plugin_${name} PROPERTIES
    OUTPUT_NAME ${name} PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${TALLY_PLUGIN_BUILD_DIR}
    C_VISIBILITY_PRESET hidden)
  target_include_directories(plugin_${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_definitions(plugin_${name} PRIVATE _GNU_SOURCE)
  target_link_libraries(plugin_${name} PRIVATE PkgConfig::CONFUSE)
  install(TARGETS plugin_${name} LIBRARY DESTINATION ${TALLY_PLUGIN_INSTALL_DIR})
endfunction()
