# The `tally` tool against real regions (a file and a POSIX shm object);
# included from tests/CMakeLists.txt.
add_test(NAME tool_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tool_test.sh $<TARGET_FILE:tally_tool>)
set_tests_properties(tool_cli PROPERTIES LABELS "tool" TIMEOUT 120)
add_test(NAME tool_access COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tool_access_test.sh $<TARGET_FILE:tally_tool>)
set_tests_properties(tool_access PROPERTIES LABELS "tool" TIMEOUT 120)
