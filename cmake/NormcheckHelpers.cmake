# Warnings for normcheck's own targets (never for the dependencies' headers, which come in as SYSTEM).
add_library(normcheck_warnings INTERFACE)
# The GCC flags apply to C++ only; CUDA sources (impls/cuda) get nvcc's spelling: the host
# compiler's -Wall -Wextra through -Xcompiler, and nvcc's own warnings as errors under WERROR.
target_compile_options(normcheck_warnings INTERFACE
  "$<$<COMPILE_LANGUAGE:CXX>:-Wall;-Wextra;-Wpedantic;-Wshadow;-Wnon-virtual-dtor;-Wimplicit-fallthrough>"
  "$<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${NORMCHECK_WERROR}>>:-Werror>"
  "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>"
  "$<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${NORMCHECK_WERROR}>>:--Werror=all-warnings>")

# nc_add_test(NAME SOURCES... [LIBS ...] [LABELS ...] [TIMEOUT s]): one GoogleTest executable, its
# tests registered with CTest under the given labels (default: smoke) and, with TIMEOUT, a limit per
# test (for tests whose failure is a hang or a blow-up in time: CTest ends them and reports it).
function(nc_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main normcheck_warnings)
  if(NOT ARG_LABELS)
    set(ARG_LABELS smoke)
  endif()
  set(timeout "")
  if(ARG_TIMEOUT)  # seconds per test: a test whose subject may hang ends as a CTest timeout
    set(timeout TIMEOUT ${ARG_TIMEOUT})
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" ${timeout} DISCOVERY_TIMEOUT 60)
endfunction()

# NORMCHECK_SANITIZE (e.g. "address,undefined"): every C/C++ target below this directory (normcheck's
# own, never its dependencies) compiles and links with -fsanitize=...; undefined behaviour is fatal
# (-fno-sanitize-recover) so that a report fails the test that hit it. An installed tree keeps the
# link flag on normcheck::warnings, so a consumer of the instrumented libraries links the runtime.
# NORMCHECK_FUZZ adds libFuzzer's coverage instrumentation (-fsanitize=fuzzer-no-link) the same way;
# the harnesses themselves link -fsanitize=fuzzer (fuzz/CMakeLists.txt, nc_add_fuzzer).
if(NORMCHECK_SANITIZE OR NORMCHECK_FUZZ)
  set(nc_sanitize_compile "")
  set(nc_sanitize_link "")
  set(nc_sanitize_c "")
  if(NORMCHECK_SANITIZE)
    list(APPEND nc_sanitize_compile -fsanitize=${NORMCHECK_SANITIZE} -fno-omit-frame-pointer)
    string(REPLACE "," ";" nc_sanitizers "${NORMCHECK_SANITIZE}")
    if("undefined" IN_LIST nc_sanitizers)
      list(APPEND nc_sanitize_compile -fno-sanitize-recover=undefined)
    endif()
    list(APPEND nc_sanitize_link -fsanitize=${NORMCHECK_SANITIZE})
    # C is plugin code only (examples/plugin, the deliberately bad test plugins): a stand-in for a
    # third party's library. It gets every sanitizer but UBSan, whose checks would turn a test
    # plugin's deliberate NULL store into a report and exit(1) instead of the SIGSEGV under test.
    set(nc_sanitizers_c ${nc_sanitizers})
    list(REMOVE_ITEM nc_sanitizers_c undefined)
    if(nc_sanitizers_c)
      string(REPLACE ";" "," nc_sanitizers_c "${nc_sanitizers_c}")
      list(APPEND nc_sanitize_c -fsanitize=${nc_sanitizers_c} -fno-omit-frame-pointer)
    endif()
  endif()
  if(NORMCHECK_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      message(FATAL_ERROR "NORMCHECK_FUZZ needs clang (libFuzzer), but the C++ compiler is "
                          "${CMAKE_CXX_COMPILER_ID}: configure with -DCMAKE_CXX_COMPILER=clang++")
    endif()
    list(APPEND nc_sanitize_compile -fsanitize=fuzzer-no-link)
  endif()
  message(STATUS "normcheck: sanitizer flags ${nc_sanitize_compile} (C: ${nc_sanitize_c})")
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${nc_sanitize_compile}>"
                      "$<$<COMPILE_LANGUAGE:C>:${nc_sanitize_c}>")
  add_link_options(${nc_sanitize_link})
  target_link_options(normcheck_warnings INTERFACE $<INSTALL_INTERFACE:${nc_sanitize_link}>)
endif()
