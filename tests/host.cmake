# The agent's host API, driven directly.
add_executable(test_host_secret test_host_secret.c)
target_link_libraries(test_host_secret PRIVATE tallyd_core PkgConfig::CMOCKA)
add_test(NAME test_host_secret COMMAND test_host_secret)
set_tests_properties(test_host_secret PROPERTIES LABELS "agent" TIMEOUT 60)
