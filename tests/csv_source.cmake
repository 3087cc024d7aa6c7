# The csv source plugin through the mock host; included from
# tests/CMakeLists.txt.
find_package(ZLIB REQUIRED)
tally_plugin_test(test_csv_source PLUGINS csv LABELS csv LIBS ZLIB::ZLIB
                  SOURCES ${CMAKE_CURRENT_LIST_DIR}/source_test.c)
