# The file exporter through the mock host; included from tests/CMakeLists.txt.
#
# tally_mock_host: the agent's host API as a static library, so that any
# plugin can be unit-tested without the daemon (see mock_host.h).
if(NOT TARGET tally_mock_host)
  add_library(tally_mock_host STATIC ${CMAKE_CURRENT_LIST_DIR}/mock_host.c)
  target_compile_definitions(tally_mock_host PRIVATE _GNU_SOURCE)
  target_include_directories(tally_mock_host PUBLIC
    ${PROJECT_SOURCE_DIR}/include ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(tally_mock_host PUBLIC PkgConfig::CONFUSE ${CMAKE_DL_LIBS} Threads::Threads)
endif()

add_executable(test_file_exporter ${CMAKE_CURRENT_LIST_DIR}/test_file_exporter.c)
target_compile_definitions(test_file_exporter PRIVATE _GNU_SOURCE
  TALLY_PLUGIN_BUILD_DIR="${TALLY_PLUGIN_BUILD_DIR}")
target_link_libraries(test_file_exporter PRIVATE
  tally_mock_host tally_format PkgConfig::CMOCKA PkgConfig::JANSSON)
# The test dlopens file.so from the build tree's plugin dir.
add_dependencies(test_file_exporter plugin_file)
add_test(NAME test_file_exporter COMMAND test_file_exporter)
set_tests_properties(test_file_exporter PROPERTIES LABELS "exporter;file" TIMEOUT 300)
