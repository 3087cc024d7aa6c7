# The ODBC drivers the tests use, found once for every file that needs them
# (included from tests/CMakeLists.txt before them).
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
