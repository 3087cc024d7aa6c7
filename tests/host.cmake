# The agent's host API, driven directly.
add_executable(test_host_secret test_host_secret.c)
target_link_libraries(test_host_secret PRIVATE tallyd_core PkgConfig::CMOCKA)
add_test(NAME test_host_secret COMMAND test_host_secret)
set_tests_properties(test_host_secret PROPERTIES LABELS "agent" TIMEOUT 60)

# The host's metric callback and the agent's figures about itself, also
# from exporter threads at once.
add_executable(test_host_metric test_host_metric.c)
target_link_libraries(test_host_metric PRIVATE tallyd_core PkgConfig::CMOCKA m)
add_test(NAME test_host_metric COMMAND test_host_metric)
set_tests_properties(test_host_metric PROPERTIES LABELS "agent;concurrent" TIMEOUT 120)

# Exporters' spools in the state database, also from threads.
add_executable(test_spool test_spool.c)
target_link_libraries(test_spool PRIVATE tallyd_core PkgConfig::CMOCKA)
add_test(NAME test_spool COMMAND test_spool)
set_tests_properties(test_spool PROPERTIES LABELS "agent;concurrent" TIMEOUT 120)

# The shm source against hostile regions: truncated under it, names
# libtally did not write, paths that name no region file.
tally_plugin_test(test_shm_source PLUGINS shm LABELS shm plugin LIBS tally_static shm_testutil)
