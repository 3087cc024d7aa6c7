# The http exporter: through the mock host with the test receiver, and
# end to end with tallyd (a real Pushgateway, the test receiver, TLS with
# certificates made by openssl); included from tests/CMakeLists.txt.
add_executable(test_http_exporter ${CMAKE_CURRENT_LIST_DIR}/test_http_exporter.c
               ${PROJECT_SOURCE_DIR}/exporters/http/http_url.c)
target_compile_definitions(test_http_exporter PRIVATE _GNU_SOURCE
  TALLY_PLUGIN_BUILD_DIR="${TALLY_PLUGIN_BUILD_DIR}"
  TALLY_TEST_SOURCE_DIR="${CMAKE_CURRENT_LIST_DIR}")
target_include_directories(test_http_exporter PRIVATE ${PROJECT_SOURCE_DIR}/exporters/http)
target_link_libraries(test_http_exporter PRIVATE
  tally_mock_host tally_format PkgConfig::CMOCKA PkgConfig::JANSSON PkgConfig::LIBCURL)
add_dependencies(test_http_exporter plugin_http)
add_test(NAME test_http_exporter COMMAND test_http_exporter)
# Its delivery thread runs under TSan too.
set_tests_properties(test_http_exporter PROPERTIES LABELS "exporter;http;concurrent" TIMEOUT 120)

# tallyd with the http exporter: the e2e scripts' four programs.
foreach(t delivery tls pushgateway)
  add_test(NAME http_${t}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/http_${t}_test.sh
                   $<TARGET_FILE:tallyd> $<TARGET_FILE:tally_tool> ${TALLY_PLUGIN_BUILD_DIR}
                   $<TARGET_FILE:e2e_app>)
  set_tests_properties(http_${t} PROPERTIES LABELS "e2e;http" TIMEOUT 600)
endforeach()
