# tallyd as a user runs it: config checking, plugin loading and signals,
# against the real plugins (TALLY_PLUGIN_BUILD_DIR) and a few test-only
# plugins; included from tests/CMakeLists.txt.
#
# Each test plugin is built alone into its own directory under
# test-plugins/; the scripts copy it beside the real plugins into a
# private plugin dir for the case that needs it, so every case sees
# exactly the plugins it is about.
set(TALLY_TEST_PLUGIN_DIR ${PROJECT_BINARY_DIR}/test-plugins)

function(tally_test_plugin target case output)
  add_library(${target} MODULE ${ARGN})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${output} PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${TALLY_TEST_PLUGIN_DIR}/${case}
    C_VISIBILITY_PRESET hidden)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  target_link_libraries(${target} PRIVATE PkgConfig::CONFUSE)
endfunction()

tally_test_plugin(test_plugin_block block block plugins/block.c)
tally_test_plugin(test_plugin_abi_mismatch abi abi_mismatch plugins/abi_mismatch.c)
tally_test_plugin(test_plugin_no_descriptor nodesc no_descriptor plugins/no_descriptor.c)
# shm_dup.so sorts after shm.so, so the real shm is loaded first.
tally_test_plugin(test_plugin_dup_name dup shm_dup plugins/dup_name.c)

add_test(NAME agent_config
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_config_test.sh
          $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR})
add_test(NAME agent_plugins
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_plugins_test.sh
          $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR} ${TALLY_TEST_PLUGIN_DIR})
add_test(NAME agent_signals
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_signals_test.sh
          $<TARGET_FILE:tallyd> $<TARGET_FILE:tally_tool> ${TALLY_PLUGIN_BUILD_DIR}
          ${TALLY_TEST_PLUGIN_DIR}/block)
set_tests_properties(agent_config agent_plugins PROPERTIES LABELS "agent" TIMEOUT 300)
set_tests_properties(agent_signals PROPERTIES LABELS "agent" TIMEOUT 600)
