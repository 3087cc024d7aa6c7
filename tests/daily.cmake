# The daily collector end to end: the real tallyd with the csv sources,
# the daily collector and the json file exporter. daily_cases checks the
# statistics against values computed by hand (tests/daily_cases/); daily_crash
# kills the agent again and again while CSV files grow and compares the
# result with one clean run. Included from tests/CMakeLists.txt.
add_test(NAME daily_cases
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/daily_cases_test.sh
                 $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR})
set_tests_properties(daily_cases PROPERTIES LABELS "daily;e2e" TIMEOUT 600)

add_test(NAME daily_crash
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/daily_crash_test.sh
                 $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR} csv ${TALLY_SQLITE_ODBC_DRIVER})
set_tests_properties(daily_crash PROPERTIES LABELS "daily;e2e" TIMEOUT 900)

# --recompute end to end (tests/daily_recompute_test.sh): days replaced
# exactly, twice the same, a file rotated and gzipped while stopped, and
# a file cut in place within its first 4 KiB.
add_test(NAME daily_recompute
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/daily_recompute_test.sh
                 $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR})
set_tests_properties(daily_recompute PROPERTIES LABELS "daily;e2e" TIMEOUT 300)

