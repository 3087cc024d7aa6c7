# bindings/python: pip install into a venv, then its pytest suite (API,
# errors, processes and threads, fork, the ASGI middleware under a real
# uvicorn and gunicorn, the example app with tallyd). Included from
# tests/CMakeLists.txt. The ASan build compiles the extension with
# -fsanitize=address,undefined and preloads libasan into Debian's python.
if(TALLY_TSAN)
  # A ThreadSanitizer runtime cannot be preloaded into an uninstrumented
  # interpreter (it must start first and see every thread), so no run here.
  return()
endif()
set(TALLY_PYTHON_MODE "")
if(TALLY_SANITIZE)
  set(TALLY_PYTHON_MODE asan)
endif()
add_test(NAME python COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/python_test.sh
         ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} $<TARGET_FILE:tallyd>
         $<TARGET_FILE:tally_tool> ${TALLY_PLUGIN_BUILD_DIR} ${TALLY_PYTHON_MODE})
set_tests_properties(python PROPERTIES LABELS "python" TIMEOUT 900)
