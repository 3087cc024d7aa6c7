# The file exporter through the mock host; included from tests/CMakeLists.txt.
tally_plugin_test(test_file_exporter PLUGINS file LABELS exporter file
                  LIBS tally_format PkgConfig::JANSSON)
