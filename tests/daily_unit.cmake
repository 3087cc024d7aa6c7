# The daily collector driven directly (records in, statistics out)
# through the mock host, with a real SQLite database; included from
# tests/CMakeLists.txt. TALLY_TESTS_DIR: the previous release's state it
# migrates (state_before_versions.sql).
tally_plugin_test(test_daily PLUGINS daily LABELS daily LIBS tally_civil PkgConfig::SQLITE3
                  DEFS TALLY_TESTS_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
