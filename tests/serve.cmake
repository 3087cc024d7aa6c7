# The serve exporter end to end: tallyd answering on a free loopback port,
# scraped by a real Prometheus, checked with promtool, loaded by 32
# clients while cycles and reloads run (label concurrent, so TSan runs
# it), refused to hostile clients, over TLS and with credentials, and
# its /readyz following a failing source. Included from
# tests/CMakeLists.txt. serve_load also drives bench/run-serve.sh.
add_executable(serve_load ${CMAKE_CURRENT_LIST_DIR}/serve_load.c)
target_link_libraries(serve_load PRIVATE Threads::Threads)

foreach(t prometheus concurrent hostile ready)
  add_test(NAME serve_${t}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/serve_${t}_test.sh
                   $<TARGET_FILE:tallyd> $<TARGET_FILE:tally_tool> ${TALLY_PLUGIN_BUILD_DIR}
                   $<TARGET_FILE:serve_load>)
  set_tests_properties(serve_${t} PROPERTIES ENVIRONMENT
                       "TALLY_FLAKY_PLUGIN=$<TARGET_FILE:test_plugin_flaky>")
  set_tests_properties(serve_${t} PROPERTIES LABELS "e2e;serve" TIMEOUT 600)
endforeach()
set_tests_properties(serve_concurrent PROPERTIES LABELS "e2e;serve;concurrent")
