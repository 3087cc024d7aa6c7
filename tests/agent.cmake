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
  tally_plugin_modes(${target})
endfunction()

tally_test_plugin(test_plugin_block block block plugins/block.c)
# A source that fails on demand (serve_ready_test.sh).
tally_test_plugin(test_plugin_flaky flaky flaky plugins/flaky.c)
# Writes a marker file from its constructor: proof of whether dlopen ran.
tally_test_plugin(test_plugin_constructor ctor constructor plugins/constructor.c)
tally_test_plugin(test_plugin_abi_mismatch abi abi_mismatch plugins/abi_mismatch.c)
tally_test_plugin(test_plugin_no_descriptor nodesc no_descriptor plugins/no_descriptor.c)
# shm_dup.so sorts after shm.so, so the real shm is loaded first.
tally_test_plugin(test_plugin_dup_name dup shm_dup plugins/dup_name.c)
# Descriptors the loader refuses (a missing callback, a layout that is not
# this agent's) or, from a later plugin.h, accepts: one build each.
foreach(m CONSUME EXPORT COLLECT STOP HISTORY)
  string(TOLOWER ${m} lower)
  tally_test_plugin(test_plugin_missing_${lower} missing no_${lower} plugins/missing.c)
  target_compile_definitions(test_plugin_missing_${lower} PRIVATE MISSING_${m})
endforeach()
foreach(l CONFUSE SMALL FUTURE)
  string(TOLOWER ${l} lower)
  tally_test_plugin(test_plugin_layout_${lower} layout layout_${lower} plugins/layout.c)
  target_compile_definitions(test_plugin_layout_${lower} PRIVATE LAYOUT_${l})
endforeach()

# tally_agent_script(NAME SCRIPT TIMEOUT): SCRIPT run as `bash SCRIPT TALLYD
# PLUGIN_DIR`, labelled agent.
function(tally_agent_script name script timeout)
  add_test(NAME ${name}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/${script} $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR})
  set_tests_properties(${name} PROPERTIES LABELS "agent" TIMEOUT ${timeout})
endfunction()

tally_agent_script(agent_config agent_config_test.sh 300)
add_test(NAME agent_plugins
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_plugins_test.sh
          $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR} ${TALLY_TEST_PLUGIN_DIR})
add_test(NAME agent_signals
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_signals_test.sh
          $<TARGET_FILE:tallyd> $<TARGET_FILE:tally_tool> ${TALLY_PLUGIN_BUILD_DIR}
          ${TALLY_TEST_PLUGIN_DIR}/block)
set_tests_properties(agent_plugins PROPERTIES LABELS "agent" TIMEOUT 300)
set_tests_properties(agent_signals PROPERTIES LABELS "agent" TIMEOUT 600)

# The state database's owners and their migrations, from a database of the
# release before schema_versions (tests/state_before_versions.sql).
tally_agent_script(state_migrate state_migrate_test.sh 300)

# lib/migrate alone, on in-memory databases.
add_executable(test_migrate ${CMAKE_CURRENT_LIST_DIR}/test_migrate.c)
target_link_libraries(test_migrate PRIVATE tally_migrate PkgConfig::CMOCKA)
add_test(NAME test_migrate COMMAND test_migrate)
set_tests_properties(test_migrate PROPERTIES LABELS "agent" TIMEOUT 60)

# The snapshot reads counter_days only as far back as it lists days.
tally_agent_script(counter_days counter_days_test.sh 120)

# Every plugin (and the test exporter block) reports a bad option in the
# host's one config_error shape.
add_test(NAME config_error
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/config_error_test.sh
          $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR} $<TARGET_FILE:test_plugin_block>)
set_tests_properties(config_error PROPERTIES LABELS "agent" TIMEOUT 120)

# The files tallyd creates, writes or locks, against planted symlinks,
# FIFOs and a second agent; --once's exit status.
tally_agent_script(agent_files agent_files_test.sh 300)

# Issue 12 in the agent's core: seq, state_id, the changed rows a snapshot
# carries, and the host's history, with an in-process source and collector.
add_executable(test_history test_history.c)
target_link_libraries(test_history PRIVATE tallyd_core PkgConfig::CMOCKA)
add_test(NAME test_history COMMAND test_history)
set_tests_properties(test_history PROPERTIES LABELS "agent;concurrent" TIMEOUT 120)

# Each committed cycle's seq and the state's id, through the real tallyd.
tally_agent_script(cycle_seq cycle_seq_test.sh 120)

# Issue 14 part 4: journald priorities (JOURNAL_STREAM), log_format logfmt
# and json parsed line by line, and -v's line per cycle (a failing odbc
# source on an empty SQLite file among them).
add_test(NAME agent_logs
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/agent_logs_test.sh
          $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR} ${TALLY_SQLITE_ODBC_DRIVER})
set_tests_properties(agent_logs PROPERTIES LABELS "agent" TIMEOUT 300)

# Issue 14 part 5: READY, STATUS, RELOADING, STOPPING and the watchdog's
# pings, against a stand-in for systemd's notify socket.
tally_agent_script(agent_notify agent_notify_test.sh 300)

# One log line in each log_format, byte for byte (agent/log_line.c).
add_executable(test_log_line test_log_line.c)
target_link_libraries(test_log_line PRIVATE tallyd_core PkgConfig::CMOCKA)
add_test(NAME test_log_line COMMAND test_log_line)
set_tests_properties(test_log_line PROPERTIES LABELS "agent" TIMEOUT 60)
