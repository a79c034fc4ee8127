#pragma once
/// A borrowed DLTensor as a Python object that speaks the DLPack protocol (__dlpack__,
/// __dlpack_device__), so that numpy.from_dlpack and torch.from_dlpack view normcheck's shared
/// memory without a copy. The object is valid during one call of the plugin only: the host
/// invalidates it afterwards, and __dlpack__ on it then raises instead of handing out a pointer
/// into memory that is no longer mapped.
#include <Python.h>
#include <dlpack/dlpack.h>

namespace normcheck::python_host {

/// Creates the Python type once (after Py_Initialize); false with a Python error set on failure.
bool init_dlpack_ref_type();

/// A new reference to a DLTensorRef viewing t (not owned; t must outlive the object's validity).
PyObject* make_dlpack_ref(const char* name, DLTensor* t);

/// Makes the object refuse every further use (t is about to be unmapped).
void invalidate_dlpack_ref(PyObject* ref);

}  // namespace normcheck::python_host
