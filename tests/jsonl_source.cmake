# The jsonl source: its line parser's unit tests, the fuzz harness
# replayed in every build (and a libFuzzer target when TALLY_FUZZ is on),
# and the plugin through the mock host; included from tests/CMakeLists.txt.
add_executable(test_jsonl_line ${CMAKE_CURRENT_LIST_DIR}/test_jsonl_line.c)
target_compile_definitions(test_jsonl_line PRIVATE _GNU_SOURCE)
target_link_libraries(test_jsonl_line PRIVATE jsonl_line PkgConfig::CMOCKA)
add_test(NAME test_jsonl_line COMMAND test_jsonl_line)
set_tests_properties(test_jsonl_line PROPERTIES LABELS "jsonl" TIMEOUT 120)

find_package(ZLIB REQUIRED)
tally_plugin_test(test_jsonl_source PLUGINS jsonl LABELS jsonl LIBS ZLIB::ZLIB
                  SOURCES ${CMAKE_CURRENT_LIST_DIR}/source_test.c)

# The same sample as CSV and as JSON lines through tallyd: equal summaries.
add_test(NAME jsonl_twin
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/jsonl_twin_test.sh
                 $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR})
set_tests_properties(jsonl_twin PROPERTIES LABELS "jsonl;e2e" TIMEOUT 300)

# daily_crash with the usage rows as JSON lines: kill -9 while they arrive.
add_test(NAME daily_crash_jsonl
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/daily_crash_test.sh
                 $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR} jsonl)
set_tests_properties(daily_crash_jsonl PROPERTIES LABELS "jsonl;daily;e2e" TIMEOUT 900)

add_executable(fuzz_jsonl_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_jsonl_line.c
               ${CMAKE_CURRENT_LIST_DIR}/fuzz_replay.c)
target_compile_definitions(fuzz_jsonl_replay PRIVATE _GNU_SOURCE)
target_link_libraries(fuzz_jsonl_replay PRIVATE jsonl_line tally_record)
add_test(NAME fuzz_jsonl_replay COMMAND fuzz_jsonl_replay)
set_tests_properties(fuzz_jsonl_replay PROPERTIES LABELS "jsonl;fuzz" TIMEOUT 600)
if(TALLY_FUZZ)
  # Built from the sources, so the line parser and the value parsers carry
  # the fuzzer's coverage instrumentation (json-c itself does not).
  add_executable(fuzz_jsonl_line ${CMAKE_CURRENT_LIST_DIR}/fuzz_jsonl_line.c
                 ${CMAKE_CURRENT_LIST_DIR}/fuzz_replay.c
                 ${PROJECT_SOURCE_DIR}/plugins/jsonl/jsonl_line.c
                 ${PROJECT_SOURCE_DIR}/lib/record/record_value.c
                 ${PROJECT_SOURCE_DIR}/lib/record/record_utf8.c
                 ${PROJECT_SOURCE_DIR}/lib/record/record_schema.c
                 ${PROJECT_SOURCE_DIR}/lib/civil/civil_date.c
                 ${PROJECT_SOURCE_DIR}/lib/civil/civil_iso.c)
  target_compile_definitions(fuzz_jsonl_line PRIVATE _GNU_SOURCE TALLY_LIBFUZZER)
  target_include_directories(fuzz_jsonl_line PRIVATE ${PROJECT_SOURCE_DIR}/plugins/jsonl
                             ${PROJECT_SOURCE_DIR}/lib ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(fuzz_jsonl_line PRIVATE PkgConfig::CONFUSE PkgConfig::JSONC)
  target_compile_options(fuzz_jsonl_line PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_jsonl_line PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
