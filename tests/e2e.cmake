# End-to-end tests: real applications (e2e_app, forked) adding to a real
# region, the real tallyd with the shm source and file exporters, checked
# by python3, promtool, a real node_exporter and sqlite3. Included from
# tests/CMakeLists.txt.
add_executable(e2e_app ${CMAKE_CURRENT_LIST_DIR}/e2e_app.c)
target_link_libraries(e2e_app PRIVATE tally_static)

# Every script takes the same four programs and the plugin dir.
foreach(t exact rollover crash kill region shared map)
  add_test(NAME e2e_${t}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/e2e_${t}_test.sh
                   $<TARGET_FILE:tallyd> $<TARGET_FILE:tally_tool> ${TALLY_PLUGIN_BUILD_DIR}
                   $<TARGET_FILE:e2e_app>)
  set_tests_properties(e2e_${t} PROPERTIES LABELS "e2e" TIMEOUT 900)
endforeach()

# The agent's figures about itself against its input, its JSON and promtool.
add_test(NAME agent_self
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/agent_self_test.sh $<TARGET_FILE:tallyd>
                 ${TALLY_PLUGIN_BUILD_DIR} ${PROJECT_SOURCE_DIR}/data/sample/usage.csv
                 ${CMAKE_CURRENT_BINARY_DIR}/agent_self)
set_tests_properties(agent_self PROPERTIES LABELS "e2e;agent" TIMEOUT 300)
