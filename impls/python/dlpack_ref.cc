// The DLTensorRef type: a borrowed DLTensor behind __dlpack__ / __dlpack_device__, and
// _copy_from(value), which stores an output that a Python implementation returned instead of
// writing it in place.
#include "impls/python/dlpack_ref.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "impls/plugin/normcheck_plugin.h"

namespace normcheck::python_host {
namespace {

PyTypeObject* g_type = nullptr;

struct RefObject {
  PyObject_HEAD DLTensor* tensor;  // nullptr once invalidated
  char name[24];
};

RefObject* as_ref(PyObject* self) { return reinterpret_cast<RefObject*>(self); }

/// The managed tensor handed to a consumer: its own shape and strides (the consumer may outlive
/// the call's arrays), never the data, which belongs to normcheck's shared region.
struct Managed {
  DLManagedTensor managed{};
  std::int64_t shape[NC_MAX_NDIM]{};
  std::int64_t strides[NC_MAX_NDIM]{};
};

void delete_managed(DLManagedTensor* m) { delete static_cast<Managed*>(m->manager_ctx); }

/// A capsule nobody consumed still owns its DLManagedTensor (a consumer renames it "used_dltensor").
void capsule_destructor(PyObject* capsule) {
  if (!PyCapsule_IsValid(capsule, "dltensor")) return;
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (m != nullptr && m->deleter != nullptr) m->deleter(m);
}

DLTensor* live_tensor(PyObject* self) {
  DLTensor* t = as_ref(self)->tensor;
  if (t == nullptr)
    PyErr_Format(PyExc_BufferError,
                 "Expected a tensor of the current call, but got %s of a call that has returned "
                 "(its memory is unmapped: do not keep normcheck's tensors across calls)",
                 as_ref(self)->name);
  return t;
}

const char* dtype_name(DLDataType d) {
  if (d.lanes != 1) return "vector";
  if (d.code == kDLFloat && d.bits == 64) return "float64";
  if (d.code == kDLFloat && d.bits == 32) return "float32";
  if (d.code == kDLFloat && d.bits == 16) return "float16";
  if (d.code == kDLBfloat && d.bits == 16) return "bfloat16";
  if (d.code == kDLInt) return "int";
  if (d.code == kDLUInt) return "uint";
  return "other";
}

std::string shape_text(const DLTensor& t) {
  std::string s = "(";
  for (int i = 0; i < t.ndim; ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + (t.ndim == 1 ? ",)" : ")");
}

PyObject* dlpack(PyObject* self, PyObject* args, PyObject* kwargs) {
  // DLPack's keywords: stream (None for host memory), and the newer max_version, dl_device, copy,
  // which a consumer may pass; this producer makes a legacy (unversioned) capsule of a view.
  if (PyTuple_GET_SIZE(args) > 0 && PyTuple_GET_ITEM(args, 0) != Py_None) {
    PyErr_SetString(PyExc_BufferError, "Expected stream=None for host memory, but got a stream");
    return nullptr;
  }
  if (kwargs != nullptr) {
    PyObject* stream = PyDict_GetItemString(kwargs, "stream");
    if (stream != nullptr && stream != Py_None) {
      PyErr_SetString(PyExc_BufferError, "Expected stream=None for host memory, but got a stream");
      return nullptr;
    }
    PyObject* copy = PyDict_GetItemString(kwargs, "copy");
    if (copy != nullptr && copy == Py_True) {
      PyErr_SetString(PyExc_BufferError,
                      "normcheck's tensors are views of shared memory: copy=True is not offered");
      return nullptr;
    }
  }
  DLTensor* t = live_tensor(self);
  if (t == nullptr) return nullptr;
  auto* m = new Managed;
  m->managed.dl_tensor = *t;
  for (int i = 0; i < t->ndim; ++i) m->shape[i] = t->shape[i], m->strides[i] = t->strides[i];
  m->managed.dl_tensor.shape = m->shape;
  m->managed.dl_tensor.strides = m->strides;
  m->managed.manager_ctx = m;
  m->managed.deleter = delete_managed;
  PyObject* capsule = PyCapsule_New(&m->managed, "dltensor", capsule_destructor);
  if (capsule == nullptr) delete m;
  return capsule;
}

PyObject* dlpack_device(PyObject* self, PyObject*) {
  DLTensor* t = live_tensor(self);
  if (t == nullptr) return nullptr;
  return Py_BuildValue("(ii)", static_cast<int>(t->device.device_type), t->device.device_id);
}

/// Copies a consumed source tensor into dst element by element (any strides on either side).
void strided_copy(const DLTensor& src, const DLTensor& dst) {
  const std::int64_t item = dst.dtype.bits / 8;
  std::int64_t count = 1;
  for (int i = 0; i < dst.ndim; ++i) count *= dst.shape[i];
  std::int64_t index[NC_MAX_NDIM] = {};
  const char* s = static_cast<const char*>(src.data) + src.byte_offset;
  char* d = static_cast<char*>(dst.data) + dst.byte_offset;
  // A DLTensor without strides is compact row-major.
  std::int64_t src_strides[NC_MAX_NDIM];
  for (int i = dst.ndim - 1, run = 1; i >= 0; --i) {
    src_strides[i] = src.strides ? src.strides[i] : run;
    run *= static_cast<int>(src.shape[i]);
  }
  for (std::int64_t n = 0; n < count; ++n) {
    std::int64_t so = 0, doff = 0;
    for (int i = 0; i < dst.ndim; ++i) so += index[i] * src_strides[i], doff += index[i] * dst.strides[i];
    std::memcpy(d + doff * item, s + so * item, static_cast<std::size_t>(item));
    for (int i = dst.ndim - 1; i >= 0 && ++index[i] == dst.shape[i]; --i) index[i] = 0;
  }
}

/// _copy_from(value): value's __dlpack__() must give a host tensor of dst's dtype and shape.
PyObject* copy_from(PyObject* self, PyObject* value) {
  DLTensor* dst = live_tensor(self);
  if (dst == nullptr) return nullptr;
  const char* name = as_ref(self)->name;
  if (!PyObject_HasAttrString(value, "__dlpack__"))
    return PyErr_Format(PyExc_TypeError,
                        "Expected %s as an array with __dlpack__ (numpy, torch, ...), but got %s", name,
                        Py_TYPE(value)->tp_name);
  PyObject* capsule = PyObject_CallMethod(value, "__dlpack__", nullptr);
  if (capsule == nullptr) return nullptr;
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (m == nullptr) {
    Py_DECREF(capsule);
    return nullptr;
  }
  const DLTensor& src = m->dl_tensor;
  bool same_shape = src.ndim == dst->ndim;
  for (int i = 0; same_shape && i < dst->ndim; ++i) same_shape = src.shape[i] == dst->shape[i];
  PyObject* result = nullptr;
  if (src.device.device_type != kDLCPU) {
    PyErr_Format(PyExc_ValueError,
                 "Expected %s on the CPU, but got a tensor on DLPack device %d (copy it to the host)", name,
                 static_cast<int>(src.device.device_type));
  } else if (src.dtype.code != dst->dtype.code || src.dtype.bits != dst->dtype.bits || src.dtype.lanes != 1) {
    PyErr_Format(PyExc_ValueError, "Expected %s as %s, but got %s", name, dtype_name(dst->dtype),
                 dtype_name(src.dtype));
  } else if (!same_shape) {
    PyErr_Format(PyExc_ValueError, "Expected %s of shape %s, but got shape %s", name,
                 shape_text(*dst).c_str(), shape_text(src).c_str());
  } else {
    strided_copy(src, *dst);
    result = Py_NewRef(Py_None);
  }
  // Consumed: this side calls the deleter, and the capsule's destructor must not.
  PyCapsule_SetName(capsule, "used_dltensor");
  if (m->deleter != nullptr) m->deleter(m);
  Py_DECREF(capsule);
  return result;
}

PyObject* get_shape(PyObject* self, void*) {
  DLTensor* t = live_tensor(self);
  if (t == nullptr) return nullptr;
  PyObject* tuple = PyTuple_New(t->ndim);
  for (int i = 0; tuple && i < t->ndim; ++i) PyTuple_SET_ITEM(tuple, i, PyLong_FromLongLong(t->shape[i]));
  return tuple;
}

PyObject* get_strides(PyObject* self, void*) {
  DLTensor* t = live_tensor(self);
  if (t == nullptr) return nullptr;
  PyObject* tuple = PyTuple_New(t->ndim);
  for (int i = 0; tuple && i < t->ndim; ++i) PyTuple_SET_ITEM(tuple, i, PyLong_FromLongLong(t->strides[i]));
  return tuple;
}

PyObject* get_dtype(PyObject* self, void*) {
  DLTensor* t = live_tensor(self);
  return t ? PyUnicode_FromString(dtype_name(t->dtype)) : nullptr;
}

/// NumPy's array interface (version 3): numpy.asarray(ref) is a writable view, where
/// numpy.from_dlpack marks its arrays read-only (a legacy DLPack capsule cannot say "writable").
PyObject* get_array_interface(PyObject* self, void*) {
  DLTensor* t = live_tensor(self);
  if (t == nullptr) return nullptr;
  const char* typestr = t->dtype.code == kDLFloat    ? (t->dtype.bits == 64   ? "<f8"
                                                        : t->dtype.bits == 32 ? "<f4"
                                                                              : "<f2")
                        : t->dtype.code == kDLBfloat ? "<V2"  // no NumPy dtype: two raw bytes
                                                     : "|V1";
  const std::int64_t item = t->dtype.bits / 8;
  PyObject* shape = PyTuple_New(t->ndim);
  PyObject* strides = PyTuple_New(t->ndim);
  for (int i = 0; shape && strides && i < t->ndim; ++i) {
    PyTuple_SET_ITEM(shape, i, PyLong_FromLongLong(t->shape[i]));
    PyTuple_SET_ITEM(strides, i, PyLong_FromLongLong(t->strides[i] * item));
  }
  if (shape == nullptr || strides == nullptr) {
    Py_XDECREF(shape), Py_XDECREF(strides);
    return nullptr;
  }
  const auto address = reinterpret_cast<unsigned long long>(static_cast<char*>(t->data) + t->byte_offset);
  return Py_BuildValue("{s:i,s:N,s:s,s:(KO),s:N}", "version", 3, "shape", shape, "typestr", typestr, "data",
                       address, Py_False, "strides", strides);
}

PyObject* get_name(PyObject* self, void*) { return PyUnicode_FromString(as_ref(self)->name); }

PyObject* repr(PyObject* self) {
  const DLTensor* t = as_ref(self)->tensor;
  if (t == nullptr) return PyUnicode_FromFormat("<normcheck tensor %s (released)>", as_ref(self)->name);
  return PyUnicode_FromFormat("<normcheck tensor %s %s %s>", as_ref(self)->name, dtype_name(t->dtype),
                              shape_text(*t).c_str());
}

PyMethodDef kMethods[] = {
    {"__dlpack__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(dlpack)),
     METH_VARARGS | METH_KEYWORDS, "A DLPack capsule viewing this tensor (no copy)."},
    {"__dlpack_device__", dlpack_device, METH_NOARGS, "(device type, device id): (1, 0), the host."},
    {"_copy_from", copy_from, METH_O,
     "Copy an array (anything with __dlpack__) of the same dtype and shape in."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef kGetSet[] = {{"shape", get_shape, nullptr, "the shape", nullptr},
                         {"strides", get_strides, nullptr, "the strides, in elements", nullptr},
                         {"dtype", get_dtype, nullptr, "float64, float32, float16 or bfloat16", nullptr},
                         {"__array_interface__", get_array_interface, nullptr,
                          "NumPy's array interface (a writable view)", nullptr},
                         {"name", get_name, nullptr, "which tensor of the call: x, y, dx, ...", nullptr},
                         {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot kSlots[] = {
    {Py_tp_methods, kMethods},
    {Py_tp_getset, kGetSet},
    {Py_tp_repr, reinterpret_cast<void*>(repr)},
    {Py_tp_doc, const_cast<char*>("A tensor of one normcheck call, viewed through DLPack.")},
    {0, nullptr}};

PyType_Spec kSpec = {"normcheck.DLTensorRef", sizeof(RefObject), 0, Py_TPFLAGS_DEFAULT, kSlots};

}  // namespace

bool init_dlpack_ref_type() {
  g_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kSpec));
  return g_type != nullptr;
}

PyObject* make_dlpack_ref(const char* name, DLTensor* t) {
  PyObject* obj = PyType_GenericAlloc(g_type, 0);
  if (obj == nullptr) return nullptr;
  as_ref(obj)->tensor = t;
  std::snprintf(as_ref(obj)->name, sizeof(as_ref(obj)->name), "%s", name);
  return obj;
}

void invalidate_dlpack_ref(PyObject* ref) { as_ref(ref)->tensor = nullptr; }

}  // namespace normcheck::python_host
