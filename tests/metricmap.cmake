# lib/metricmap and the prometheus format with map rules (issue 14 part 3);
# included from tests/CMakeLists.txt.
add_executable(test_metricmap ${CMAKE_CURRENT_LIST_DIR}/test_metricmap.c)
target_link_libraries(test_metricmap PRIVATE tally_metricmap PkgConfig::CMOCKA)
add_test(NAME test_metricmap COMMAND test_metricmap)
set_tests_properties(test_metricmap PROPERTIES LABELS "metricmap" TIMEOUT 120)

add_executable(test_format_map ${CMAKE_CURRENT_LIST_DIR}/test_format_map.c)
target_compile_definitions(test_format_map PRIVATE _POSIX_C_SOURCE=200809L)
target_link_libraries(test_format_map PRIVATE tally_format PkgConfig::CMOCKA m)
add_test(NAME test_format_map COMMAND test_format_map)
set_tests_properties(test_format_map PROPERTIES LABELS "metricmap;format" TIMEOUT 120)

# tallyd -t on map sections: every refusal at its file and line.
add_test(NAME map_config
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/map_config_test.sh $<TARGET_FILE:tallyd>
          ${TALLY_PLUGIN_BUILD_DIR})
set_tests_properties(map_config PROPERTIES LABELS "metricmap;agent" TIMEOUT 120)
