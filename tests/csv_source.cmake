# The csv source plugin through the mock host; included from
# tests/CMakeLists.txt. The mock host library is defined once, by
# whichever plugin test comes first.
if(NOT TARGET tally_mock_host)
  add_library(tally_mock_host STATIC ${CMAKE_CURRENT_LIST_DIR}/mock_host.c)
  target_compile_definitions(tally_mock_host PRIVATE _GNU_SOURCE)
  target_include_directories(tally_mock_host PUBLIC
    ${PROJECT_SOURCE_DIR}/include ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(tally_mock_host PUBLIC PkgConfig::CONFUSE ${CMAKE_DL_LIBS})
endif()

find_package(ZLIB REQUIRED)
add_executable(test_csv_source ${CMAKE_CURRENT_LIST_DIR}/test_csv_source.c)
target_compile_definitions(test_csv_source PRIVATE _GNU_SOURCE
  TALLY_PLUGIN_BUILD_DIR="${TALLY_PLUGIN_BUILD_DIR}")
target_link_libraries(test_csv_source PRIVATE tally_mock_host PkgConfig::CMOCKA ZLIB::ZLIB)
# The test dlopens csv.so from the build tree's plugin dir.
add_dependencies(test_csv_source plugin_csv)
add_test(NAME test_csv_source COMMAND test_csv_source)
set_tests_properties(test_csv_source PROPERTIES LABELS "csv" TIMEOUT 300)
