# cmake -P script: install normcheck, build examples/plugin out of tree against the install tree
# alone (as examples/plugin/CMakeLists.txt's standalone branch: find_path normcheck_plugin.h,
# find_package(dlpack)), and gate the plugin with the installed normcheck.
include(${CMAKE_CURRENT_LIST_DIR}/run.cmake)
file(REMOVE_RECURSE ${PREFIX} ${PLUGIN_BUILD})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})
# Only the install prefix and the system (dlpack) are searched: not normcheck's source tree.
run(${CMAKE_COMMAND} -S ${PLUGIN_SRC} -B ${PLUGIN_BUILD} -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${PREFIX}
    -DCMAKE_BUILD_TYPE=Release -DNORMCHECK_WERROR=ON)
file(STRINGS ${PLUGIN_BUILD}/CMakeCache.txt found REGEX "^NORMCHECK_PLUGIN_INCLUDE_DIR:")
if(NOT found STREQUAL "NORMCHECK_PLUGIN_INCLUDE_DIR:PATH=${PREFIX}/include/normcheck")
  message(FATAL_ERROR "Expected normcheck_plugin.h from ${PREFIX}/include/normcheck, but got: ${found}")
endif()
run(${CMAKE_COMMAND} --build ${PLUGIN_BUILD})
file(GLOB plugin ${PLUGIN_BUILD}/*c_norms.so)
if(NOT plugin)
  message(FATAL_ERROR "Expected the plugin library in ${PLUGIN_BUILD}, but got none")
endif()
# The installed normcheck, with the installed worker beside it.
run(${PREFIX}/bin/normcheck gate --plugin ${plugin} --policy ${POLICY} --tier smoke --out ${PLUGIN_BUILD}/report --quiet)
