// libnormcheck_python: a plugin under the C ABI (impls/plugin/normcheck_plugin.h) that hosts a
// Python object. The worker dlopens it like any plugin; its entry starts CPython, imports the
// object named by NORMCHECK_PYTHON=MODULE:OBJECT (set by `normcheck gate --python`) and maps
// supports / forward / backward onto the object's methods through python/normcheck/_host.py.
// The worker's isolation (crash, hang, memory limit, guards) is unchanged: a Python crash is a
// crash of the worker, an uncaught exception an NC_ERROR_INTERNAL with its traceback's last lines.
// docs/python-plugin.md is the contract.
#include <Python.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "impls/plugin/normcheck_plugin.h"
#include "impls/python/dlpack_ref.h"

namespace normcheck::python_host {
namespace {

namespace fs = std::filesystem;

struct Host {
  PyObject* module = nullptr;  // normcheck._host
  PyObject* object = nullptr;  // the user's implementation
  std::string name, description;
  nc_plugin_v1 table{};
};
Host g_host;

/// The message of the pending Python error, one line, and clears it.
std::string take_error() {
  PyObject *type = nullptr, *value = nullptr, *trace = nullptr;
  PyErr_Fetch(&type, &value, &trace);
  std::string text = "unknown Python error";
  if (PyObject* s = value ? PyObject_Str(value) : nullptr) {
    if (const char* c = PyUnicode_AsUTF8(s))
      text = std::string(type ? reinterpret_cast<PyTypeObject*>(type)->tp_name : "") + ": " + c;
    Py_DECREF(s);
  }
  PyErr_Clear();
  Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(trace);
  return text;
}

void write_message(char* buf, std::size_t len, const std::string& text) {
  if (len > 0) std::snprintf(buf, len, "%s", text.c_str());
}

/// Extension modules (numpy's, torch's) take CPython's symbols from the global scope; the worker
/// dlopened this library RTLD_LOCAL, so libpython's symbols are made global here.
void promote_libpython() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&Py_Initialize), &info) != 0 && info.dli_fname != nullptr)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}

/// Where the `normcheck` package is: installed beside this library (cmake --install), else the
/// source tree that built it.
std::string package_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&promote_libpython), &info) != 0 && info.dli_fname != nullptr) {
    const fs::path installed = fs::path(info.dli_fname).parent_path() / NORMCHECK_PYTHON_FROM_LIBDIR;
    std::error_code ec;
    if (fs::exists(installed / "normcheck" / "__init__.py", ec)) return installed.lexically_normal().string();
  }
  return NORMCHECK_PYTHON_SOURCE_DIR;
}

PyObject* problem_fields(const nc_problem* p) {
  PyObject* shape = PyTuple_New(p->ndim);
  for (int i = 0; shape && i < p->ndim; ++i) PyTuple_SET_ITEM(shape, i, PyLong_FromLongLong(p->shape[i]));
  if (shape == nullptr) return nullptr;
  const nc_params& a = p->params;
  return Py_BuildValue(
      "{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:N,s:d,s:i,s:i,s:d,s:L,s:i,s:i,s:i,s:i,s:i,s:L,s:s}", "op", p->op,
      "dtype", p->dtype, "layout", p->layout, "mode", p->mode, "direction", p->direction, "device", p->device,
      "profile", p->profile, "shape", shape, "eps", a.eps, "eps_is_none", a.eps_is_none, "has_momentum",
      a.has_momentum, "momentum", a.momentum, "num_groups", static_cast<long long>(a.num_groups),
      "normalized_ndim", a.normalized_ndim, "affine", a.affine, "bias", a.bias, "track_running_stats",
      a.track_running_stats, "training", a.training, "num_batches_tracked",
      static_cast<long long>(a.num_batches_tracked), "descriptor", p->descriptor ? p->descriptor : "");
}

/// The call's tensors as DLTensorRefs by name; every one is invalidated when the call returns.
class CallTensors {
 public:
  explicit CallTensors(const nc_tensors* t) : dict_(PyDict_New()) {
    const std::pair<const char*, const DLTensor*> all[] = {{"x", t->x},
                                                           {"weight", t->weight},
                                                           {"bias", t->bias},
                                                           {"running_mean", t->running_mean},
                                                           {"running_var", t->running_var},
                                                           {"grad_output", t->grad_output},
                                                           {"y", t->y},
                                                           {"mean", t->mean},
                                                           {"rstd", t->rstd},
                                                           {"dx", t->dx},
                                                           {"dweight", t->dweight},
                                                           {"dbias", t->dbias}};
    for (const auto& [name, tensor] : all) {
      if (tensor == nullptr || dict_ == nullptr) continue;
      PyObject* ref = make_dlpack_ref(name, const_cast<DLTensor*>(tensor));
      if (ref == nullptr) continue;
      PyDict_SetItemString(dict_, name, ref);
      refs_.push_back(ref);
    }
  }
  ~CallTensors() {
    for (PyObject* ref : refs_) {
      invalidate_dlpack_ref(ref);
      Py_DECREF(ref);
    }
    Py_XDECREF(dict_);
  }
  CallTensors(const CallTensors&) = delete;
  CallTensors& operator=(const CallTensors&) = delete;
  PyObject* dict() const { return dict_; }

 private:
  PyObject* dict_;
  std::vector<PyObject*> refs_;
};

/// Calls normcheck._host.<method>(object, fields, tensors) -> (code, message, num_batches_tracked).
int call_compute(const char* method, nc_problem* p, const nc_tensors* t, char* message, std::size_t len) {
  PyObject* fields = problem_fields(p);
  CallTensors tensors(t);
  PyObject* r = fields && tensors.dict()
                    ? PyObject_CallMethod(g_host.module, method, "OOO", g_host.object, fields, tensors.dict())
                    : nullptr;
  Py_XDECREF(fields);
  int code = NC_ERROR_INTERNAL;
  const char* text = nullptr;
  long long nbt = p->params.num_batches_tracked;
  if (r == nullptr || !PyArg_ParseTuple(r, "isL", &code, &text, &nbt)) {
    write_message(message, len, std::string("normcheck python host: ") + take_error());
    Py_XDECREF(r);
    return NC_ERROR_INTERNAL;
  }
  write_message(message, len, text);
  p->params.num_batches_tracked = nbt;
  Py_DECREF(r);
  return code;
}

int host_supports(const nc_problem* p, char* reason, std::size_t len) {
  PyObject* fields = problem_fields(p);
  PyObject* r =
      fields ? PyObject_CallMethod(g_host.module, "supports", "OO", g_host.object, fields) : nullptr;
  Py_XDECREF(fields);
  int yes = 0;
  const char* text = nullptr;
  if (r == nullptr || !PyArg_ParseTuple(r, "ps", &yes, &text)) {
    // Not a reason to skip: attempt the case, whose run then reports the error.
    std::fprintf(stderr, "normcheck python host: supports() failed: %s\n", take_error().c_str());
    Py_XDECREF(r);
    return 1;
  }
  write_message(reason, len, text);
  Py_DECREF(r);
  return yes;
}

int host_forward(nc_problem* p, const nc_tensors* t, char* message, std::size_t len) {
  return call_compute("forward", p, t, message, len);
}

int host_backward(const nc_problem* p, const nc_tensors* t, char* message, std::size_t len) {
  nc_problem copy = *p;  // backward never changes the counter
  return call_compute("backward", &copy, t, message, len);
}

/// Starts the CPython this library was built against. Its program name is the worker's absolute
/// path: with the default ("python3") CPython would look "python3" up on PATH and take the prefix,
/// standard library and site-packages of whatever Python comes first there (a pyenv or a venv of
/// another build), not the compiled-in one (Debian: /usr, with dist-packages). PYTHONPATH still
/// applies. The worker's signal handlers stay (a crash is reported as a crash).
bool start_interpreter() {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;
  std::error_code ec;
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  PyStatus status =
      PyConfig_SetBytesString(&config, &config.program_name, ec ? "normcheck-worker" : self.c_str());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    std::fprintf(stderr, "normcheck python host: cannot start Python: %s\n",
                 status.err_msg ? status.err_msg : "unknown error");
    return false;
  }
  return true;
}

/// Starts CPython and loads the object; nullptr (the error printed to stderr) on failure.
const nc_plugin_v1* load() {
  const char* spec = std::getenv("NORMCHECK_PYTHON");
  if (spec == nullptr || *spec == '\0') {
    std::fprintf(stderr,
                 "normcheck python host: Expected NORMCHECK_PYTHON=MODULE:OBJECT (set by normcheck gate "
                 "--python), but it is not set\n");
    return nullptr;
  }
  promote_libpython();
  if (!start_interpreter()) return nullptr;
  if (!init_dlpack_ref_type()) {
    std::fprintf(stderr, "normcheck python host: %s\n", take_error().c_str());
    return nullptr;
  }
  PyObject* sys_path = PySys_GetObject("path");  // borrowed
  PyObject* dir = PyUnicode_FromString(package_dir().c_str());
  if (sys_path == nullptr || dir == nullptr || PyList_Insert(sys_path, 0, dir) != 0) {
    std::fprintf(stderr, "normcheck python host: cannot extend sys.path: %s\n", take_error().c_str());
    return nullptr;
  }
  Py_DECREF(dir);
  g_host.module = PyImport_ImportModule("normcheck._host");
  PyObject* loaded = g_host.module ? PyObject_CallMethod(g_host.module, "load", "s", spec) : nullptr;
  const char *name = nullptr, *description = nullptr;
  int saves_stats = 0, has_backward = 0;
  if (loaded == nullptr ||
      !PyArg_ParseTuple(loaded, "Osspp", &g_host.object, &name, &description, &saves_stats, &has_backward)) {
    // The traceback goes where the worker's output goes (normcheck's stderr), above the load error.
    std::fprintf(stderr, "normcheck python host: cannot load %s:\n", spec);
    PyErr_Print();
    return nullptr;
  }
  Py_INCREF(g_host.object);
  g_host.name = name;
  g_host.description = description;
  Py_DECREF(loaded);
  g_host.table = {NORMCHECK_PLUGIN_ABI_VERSION,
                  saves_stats ? NC_PLUGIN_SAVES_STATS : 0u,
                  g_host.name.c_str(),
                  g_host.description.c_str(),
                  host_supports,
                  host_forward,
                  has_backward ? host_backward : nullptr};
  return &g_host.table;
}

}  // namespace
}  // namespace normcheck::python_host

NC_PLUGIN_EXPORT const nc_plugin_v1* normcheck_plugin_entry(void) {
  static const nc_plugin_v1* table = normcheck::python_host::load();
  return table;
}
