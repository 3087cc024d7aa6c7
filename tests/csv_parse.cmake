# plugins/csv's row scanner and lib/record's value parsers: their unit
# tests, the fuzz harness replayed in every build, and a libFuzzer target
# when TALLY_FUZZ is on (clang); included from tests/CMakeLists.txt.
foreach(name test_csv_scan test_record_value)
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.c)
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
  target_link_libraries(${name} PRIVATE csv_scan tally_record PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "csv" TIMEOUT 120)
endforeach()

add_executable(fuzz_csv_replay ${CMAKE_CURRENT_LIST_DIR}/fuzz_csv_scan.c
               ${CMAKE_CURRENT_LIST_DIR}/fuzz_replay.c)
target_compile_definitions(fuzz_csv_replay PRIVATE _GNU_SOURCE)
target_link_libraries(fuzz_csv_replay PRIVATE csv_scan tally_record)
add_test(NAME fuzz_csv_replay COMMAND fuzz_csv_replay)
set_tests_properties(fuzz_csv_replay PROPERTIES LABELS "csv;fuzz" TIMEOUT 600)
if(TALLY_FUZZ)
  # Built from the sources, so the scanner and the parsers themselves carry
  # the fuzzer's coverage instrumentation.
  add_executable(fuzz_csv_scan ${CMAKE_CURRENT_LIST_DIR}/fuzz_csv_scan.c
                 ${CMAKE_CURRENT_LIST_DIR}/fuzz_replay.c
                 ${PROJECT_SOURCE_DIR}/plugins/csv/csv_scan.c
                 ${PROJECT_SOURCE_DIR}/lib/record/record_value.c
                 ${PROJECT_SOURCE_DIR}/lib/record/record_utf8.c
                 ${PROJECT_SOURCE_DIR}/lib/civil/civil_date.c
                 ${PROJECT_SOURCE_DIR}/lib/civil/civil_iso.c)
  target_compile_definitions(fuzz_csv_scan PRIVATE _GNU_SOURCE TALLY_LIBFUZZER)
  target_include_directories(fuzz_csv_scan PRIVATE ${PROJECT_SOURCE_DIR}/plugins/csv
                             ${PROJECT_SOURCE_DIR}/lib ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(fuzz_csv_scan PRIVATE PkgConfig::CONFUSE)
  target_compile_options(fuzz_csv_scan PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_csv_scan PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
