# tally_plugin(NAME source...): a tallyd plugin, NAME.so, built into the
# build tree's plugin dir (TALLY_PLUGIN_BUILD_DIR, which tests use as
# plugin_dir) and installed to ${CMAKE_INSTALL_LIBDIR}/tally. Only the
# descriptor symbol is exported.
set(TALLY_PLUGIN_BUILD_DIR ${PROJECT_BINARY_DIR}/lib/tally)
set(TALLY_PLUGIN_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/tally)

# tally_plugin_modes(TARGET): the plugin and its directory writable by
# their owner only, whatever the umask of the build: tallyd refuses a
# plugin dir or plugin writable by group or others.
function(tally_plugin_modes target)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND chmod go-w $<TARGET_FILE:${target}> $<TARGET_FILE_DIR:${target}>
    VERBATIM)
endfunction()

function(tally_plugin name)
  add_library(plugin_${name} MODULE ${ARGN})
  set_target_properties(plugin_${name} PROPERTIES
    OUTPUT_NAME ${name} PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${TALLY_PLUGIN_BUILD_DIR}
    C_VISIBILITY_PRESET hidden)
  target_include_directories(plugin_${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_definitions(plugin_${name} PRIVATE _GNU_SOURCE)
  target_link_libraries(plugin_${name} PRIVATE PkgConfig::CONFUSE)
  tally_plugin_modes(plugin_${name})
  install(TARGETS plugin_${name} LIBRARY DESTINATION ${TALLY_PLUGIN_INSTALL_DIR})
endfunction()
