#pragma once
/// `normcheck gate --python MODULE:OBJECT` (docs/python-plugin.md): a Python object gated as a
/// plugin. The plugin library is the Python host, libnormcheck_python (impls/python); the object
/// reaches the worker through the environment it inherits (NORMCHECK_PYTHON).
#include <string>

#include "normcheck/status.h"

namespace normcheck::tool {

/// Checks the spec (MODULE:OBJECT or path/file.py:OBJECT, the file existing), sets NORMCHECK_PYTHON
/// for the workers to come and returns the host library's path; a usage error names what is wrong.
Expected<std::string> prepare_python_plugin(const std::string& spec);

}  // namespace normcheck::tool
