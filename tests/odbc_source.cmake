# The odbc source through the mock host, on a SQLite file made by the test
# (the SQLite ODBC driver) and, from odbc_pg_test.sh, on a real PostgreSQL;
# included from tests/CMakeLists.txt.
if(NOT TARGET tally_mock_host)
  add_library(tally_mock_host STATIC ${CMAKE_CURRENT_LIST_DIR}/mock_host.c)
  target_compile_definitions(tally_mock_host PRIVATE _GNU_SOURCE)
  target_include_directories(tally_mock_host PUBLIC
    ${PROJECT_SOURCE_DIR}/include ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(tally_mock_host PUBLIC PkgConfig::CONFUSE ${CMAKE_DL_LIBS})
endif()

# The drivers, where Debian's libsqliteodbc and odbc-postgresql put them.
find_file(TALLY_SQLITE_ODBC_DRIVER libsqlite3odbc.so
          PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/odbc /usr/lib/odbc /usr/lib64/odbc
          NO_DEFAULT_PATH)
find_file(TALLY_PG_ODBC_DRIVER psqlodbcw.so
          PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/odbc /usr/lib/odbc /usr/lib64/odbc
          NO_DEFAULT_PATH)
if(NOT TALLY_SQLITE_ODBC_DRIVER OR NOT TALLY_PG_ODBC_DRIVER)
  message(FATAL_ERROR "the SQLite and PostgreSQL ODBC drivers are missing: run scripts/deps.sh")
endif()

add_executable(test_odbc_source ${CMAKE_CURRENT_LIST_DIR}/test_odbc_source.c)
target_compile_definitions(test_odbc_source PRIVATE _GNU_SOURCE
  TALLY_PLUGIN_BUILD_DIR="${TALLY_PLUGIN_BUILD_DIR}"
  TALLY_SQLITE_ODBC_DRIVER="${TALLY_SQLITE_ODBC_DRIVER}"
  TALLY_PG_ODBC_DRIVER="${TALLY_PG_ODBC_DRIVER}")
target_link_libraries(test_odbc_source PRIVATE tally_mock_host PkgConfig::CMOCKA PkgConfig::SQLITE3)
add_dependencies(test_odbc_source plugin_odbc)
add_test(NAME test_odbc_source COMMAND test_odbc_source)
set_tests_properties(test_odbc_source PROPERTIES LABELS "odbc" TIMEOUT 300)

# The sql exporter through the mock host, on a SQLite file.
add_executable(test_sql_exporter ${CMAKE_CURRENT_LIST_DIR}/test_sql_exporter.c)
target_compile_definitions(test_sql_exporter PRIVATE _GNU_SOURCE
  TALLY_PLUGIN_BUILD_DIR="${TALLY_PLUGIN_BUILD_DIR}"
  TALLY_SQLITE_ODBC_DRIVER="${TALLY_SQLITE_ODBC_DRIVER}")
target_link_libraries(test_sql_exporter PRIVATE tally_mock_host PkgConfig::CMOCKA PkgConfig::SQLITE3)
add_dependencies(test_sql_exporter plugin_sql)
add_test(NAME test_sql_exporter COMMAND test_sql_exporter)
set_tests_properties(test_sql_exporter PROPERTIES LABELS "odbc;exporter" TIMEOUT 120)

# tallyd with the odbc source and the sql exporter, on SQLite files and a
# real PostgreSQL started and stopped by the script.
add_test(NAME odbc_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/odbc_e2e_test.sh
                 $<TARGET_FILE:tallyd> ${TALLY_PLUGIN_BUILD_DIR} $<TARGET_FILE:test_odbc_source>
                 ${TALLY_SQLITE_ODBC_DRIVER} ${TALLY_PG_ODBC_DRIVER})
set_tests_properties(odbc_e2e PROPERTIES LABELS "odbc;e2e" TIMEOUT 600)
