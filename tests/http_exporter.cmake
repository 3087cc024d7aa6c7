# The http exporter: through the mock host with the test receiver, and
# end to end with tallyd (a real Pushgateway, the test receiver, TLS with
# certificates made by openssl); included from tests/CMakeLists.txt.
# Its delivery thread runs under TSan too (label concurrent).
tally_plugin_test(test_http_exporter PLUGINS http LABELS exporter http concurrent TIMEOUT 120
                  SOURCES ${PROJECT_SOURCE_DIR}/exporters/http/http_url.c
                          ${CMAKE_CURRENT_LIST_DIR}/http_test.c
                  DEFS TALLY_TEST_SOURCE_DIR="${CMAKE_CURRENT_LIST_DIR}"
                  LIBS tally_format PkgConfig::JANSSON PkgConfig::LIBCURL)
target_include_directories(test_http_exporter PRIVATE ${PROJECT_SOURCE_DIR}/exporters/http)
# What the json and influx payloads list of the user-days and daily
# counter totals: the rows changed since the payload before, each once,
# across skipped snapshots, restarts, failures and a dead receiver.
tally_plugin_test(test_http_changes PLUGINS http LABELS exporter http concurrent TIMEOUT 120
                  SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_test.c
                  DEFS TALLY_TEST_SOURCE_DIR="${CMAKE_CURRENT_LIST_DIR}"
                  LIBS PkgConfig::JANSSON)

# tallyd with the http exporter: the e2e scripts' four programs.
foreach(t delivery tls pushgateway changes)
  add_test(NAME http_${t}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/http_${t}_test.sh
                   $<TARGET_FILE:tallyd> $<TARGET_FILE:tally_tool> ${TALLY_PLUGIN_BUILD_DIR}
                   $<TARGET_FILE:e2e_app>)
  set_tests_properties(http_${t} PROPERTIES LABELS "e2e;http" TIMEOUT 600)
endforeach()
