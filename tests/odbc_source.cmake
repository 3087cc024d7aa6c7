# The odbc source through the mock host, on a SQLite file made by the test
# (the SQLite ODBC driver) and, from odbc_pg_test.sh, on a real PostgreSQL;
# included from tests/CMakeLists.txt.

tally_plugin_test(test_odbc_source PLUGINS odbc LABELS odbc LIBS PkgConfig::SQLITE3
                  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_testutil.c
                  DEFS TALLY_SQLITE_ODBC_DRIVER="${TALLY_SQLITE_ODBC_DRIVER}"
                  TALLY_PG_ODBC_DRIVER="${TALLY_PG_ODBC_DRIVER}")

# The sql exporter through the mock host, on a SQLite file and, from
# odbc_e2e_test.sh, on a real PostgreSQL.
tally_plugin_test(test_sql_exporter PLUGINS sql LABELS odbc exporter TIMEOUT 120
                  LIBS PkgConfig::SQLITE3
                  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_testutil.c
                  DEFS TALLY_SQLITE_ODBC_DRIVER="${TALLY_SQLITE_ODBC_DRIVER}"
                  TALLY_PG_ODBC_DRIVER="${TALLY_PG_ODBC_DRIVER}")

# tallyd with the odbc source and the sql exporter, on SQLite files and a
# real PostgreSQL started and stopped by the script.
add_test(NAME odbc_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/odbc_e2e_test.sh
                 $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR} $<TARGET_FILE:test_odbc_source>
                 ${TALLY_SQLITE_ODBC_DRIVER} ${TALLY_PG_ODBC_DRIVER}
                 $<TARGET_FILE:test_sql_exporter>)
set_tests_properties(odbc_e2e PROPERTIES LABELS "odbc;e2e" TIMEOUT 600)

# What a connection string looks like in messages: every secret masked.
add_executable(test_odbc_conn test_odbc_conn.c)
target_link_libraries(test_odbc_conn PRIVATE tally_odbc PkgConfig::CMOCKA)
add_test(NAME test_odbc_conn COMMAND test_odbc_conn)
set_tests_properties(test_odbc_conn PROPERTIES LABELS "odbc" TIMEOUT 60)
