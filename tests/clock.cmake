# The business clock (agent/clock.c), built straight from its source so it
# is tested before and apart from tallyd.
add_executable(test_clock ${PROJECT_SOURCE_DIR}/tests/test_clock.c ${PROJECT_SOURCE_DIR}/agent/clock.c)
target_include_directories(test_clock PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/agent)
target_compile_definitions(test_clock PRIVATE _GNU_SOURCE)
target_link_libraries(test_clock PRIVATE tally_civil PkgConfig::CMOCKA)
add_test(NAME test_clock COMMAND test_clock)
set_tests_properties(test_clock PROPERTIES LABELS "agent" TIMEOUT 60)
