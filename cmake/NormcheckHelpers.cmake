# Warnings for normcheck's own targets (never for the dependencies' headers, which come in as SYSTEM).
add_library(normcheck_warnings INTERFACE)
# The GCC flags apply to C++ only; CUDA sources (impls/cuda) get nvcc's spelling: the host
# compiler's -Wall -Wextra through -Xcompiler, and nvcc's own warnings as errors under WERROR.
target_compile_options(normcheck_warnings INTERFACE
  "$<$<COMPILE_LANGUAGE:CXX>:-Wall;-Wextra;-Wpedantic;-Wshadow;-Wnon-virtual-dtor;-Wimplicit-fallthrough>"
  "$<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${NORMCHECK_WERROR}>>:-Werror>"
  "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>"
  "$<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${NORMCHECK_WERROR}>>:--Werror=all-warnings>")

# nc_add_test(NAME SOURCES... [LIBS ...] [LABELS ...]): one GoogleTest executable, its tests
# registered with CTest under the given labels (default: smoke).
function(nc_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main normcheck_warnings)
  if(NOT ARG_LABELS)
    set(ARG_LABELS smoke)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
