# The daily collector driven directly (records in, statistics out), with
# the agent's clock and a real SQLite database; included from
# tests/CMakeLists.txt.
add_executable(test_daily ${CMAKE_CURRENT_LIST_DIR}/test_daily.c)
target_compile_definitions(test_daily PRIVATE TALLY_PLUGIN_BUILD_DIR="${TALLY_PLUGIN_BUILD_DIR}")
target_link_libraries(test_daily PRIVATE tallyd_core PkgConfig::CMOCKA)
add_dependencies(test_daily plugin_daily)
add_test(NAME test_daily COMMAND test_daily)
set_tests_properties(test_daily PROPERTIES LABELS "daily" TIMEOUT 300)

# tallyd --recompute end to end.
add_test(NAME daily_recompute
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/daily_recompute_test.sh
                 $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR})
set_tests_properties(daily_recompute PROPERTIES LABELS "daily;e2e" TIMEOUT 300)
