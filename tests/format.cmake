# exporters/format: its unit tests, and its Prometheus text checked by the
# real promtool; included from tests/CMakeLists.txt.
add_executable(test_format ${CMAKE_CURRENT_LIST_DIR}/test_format.c)
target_compile_definitions(test_format PRIVATE _POSIX_C_SOURCE=200809L)
target_link_libraries(test_format PRIVATE tally_format PkgConfig::CMOCKA m)
add_test(NAME test_format COMMAND test_format)
set_tests_properties(test_format PROPERTIES LABELS "format" TIMEOUT 120)

add_executable(test_format_stream ${CMAKE_CURRENT_LIST_DIR}/test_format_stream.c)
target_compile_definitions(test_format_stream PRIVATE _POSIX_C_SOURCE=200809L)
target_link_libraries(test_format_stream PRIVATE tally_format PkgConfig::CMOCKA m)
add_test(NAME test_format_stream COMMAND test_format_stream)
set_tests_properties(test_format_stream PROPERTIES LABELS "format" TIMEOUT 120)

# The agent's figures about itself, in the prometheus and json formats.
add_executable(test_format_agent ${CMAKE_CURRENT_LIST_DIR}/test_format_agent.c)
target_link_libraries(test_format_agent PRIVATE tally_format PkgConfig::CMOCKA m)
add_test(NAME test_format_agent COMMAND test_format_agent)
set_tests_properties(test_format_agent PROPERTIES LABELS "format" TIMEOUT 60)

add_executable(format_dump ${CMAKE_CURRENT_LIST_DIR}/format_dump.c)
target_link_libraries(format_dump PRIVATE tally_format m)
add_test(NAME format_promtool
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/promtool_test.sh $<TARGET_FILE:format_dump>
                 ${CMAKE_CURRENT_BINARY_DIR}/format_promtool)
set_tests_properties(format_promtool PROPERTIES LABELS "format" TIMEOUT 120)
