# The daily collector driven directly (records in, statistics out)
# through the mock host, with a real SQLite database; included from
# tests/CMakeLists.txt.
tally_plugin_test(test_daily PLUGINS daily LABELS daily LIBS tally_civil PkgConfig::SQLITE3)
