"""The Python half of libnormcheck_python (impls/python/python_host.cc): loads the object named by
MODULE:OBJECT and turns its answers and exceptions into the C ABI's codes and one-line messages.
Not part of the user's API."""
import importlib
import importlib.util
import os
import re
import sys
import traceback

from normcheck import InputError, Problem, Tensors, UnsupportedError

NC_OK, NC_ERROR_INPUT, NC_ERROR_UNSUPPORTED, NC_ERROR_INTERNAL = 0, 1, 2, 3
# The worker's message buffers hold 1024 bytes; keep a margin for UTF-8.
_MESSAGE_LIMIT = 1000
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _import(module_part):
    """A dotted module name (found on sys.path, the working directory first), or a .py file."""
    if module_part.endswith(".py"):
        path = os.path.abspath(module_part)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Expected MODULE:OBJECT with an existing .py file, but got '{module_part}'")
        sys.path.insert(0, os.path.dirname(path))  # its sibling imports work as under `python file.py`
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    sys.path.insert(0, os.getcwd())
    return importlib.import_module(module_part)


def load(spec):
    """(object, name, description, saves_stats, has_backward) for MODULE:OBJECT."""
    module_part, sep, object_part = spec.rpartition(":")
    if not sep or not module_part or not object_part:
        raise ValueError(f"Expected MODULE:OBJECT (or path/file.py:OBJECT), but got '{spec}'")
    obj = _import(module_part)
    for attr in object_part.split("."):
        obj = getattr(obj, attr)
    if isinstance(obj, type):
        obj = obj()
    for method in ("supports", "forward"):
        if not callable(getattr(obj, method, None)):
            raise TypeError(f"Expected {object_part} to have a method {method}(), but it has none")
    name = str(getattr(obj, "name", object_part))
    if not _NAME.match(name):
        raise ValueError(f"Expected {object_part}.name of 1..64 characters [A-Za-z0-9._-], but got '{name}'")
    description = str(getattr(obj, "description", "") or f"Python {spec}")
    return (obj, name, " ".join(description.split()), bool(getattr(obj, "saves_stats", False)),
            callable(getattr(obj, "backward", None)))


def _one_line(text):
    return " ".join(str(text).split())


def _clip(text):
    return text if len(text) <= _MESSAGE_LIMIT else text[:_MESSAGE_LIMIT - 3] + "..."


def describe(exc):
    """`Type: message` and the traceback's last frames, innermost last, in one line."""
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # [0] is the call in this file
    where = " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}" for f in reversed(frames[-4:]))
    head = _one_line(f"{type(exc).__name__}: {exc}")
    tail = f" (at {where})" if where else ""
    if len(head) + len(tail) > _MESSAGE_LIMIT:
        head = head[:max(0, _MESSAGE_LIMIT - len(tail) - 3)] + "..."
    return _clip(head + tail)


# Problems whose supports() raised: the case is attempted and its run reports the exception (a
# buggy supports() must not turn a gate into a row of SKIPPED).
_supports_errors = {}


def supports(obj, fields):
    problem = Problem._from_fields(fields)
    try:
        answer = obj.supports(problem)
    except BaseException as e:  # noqa: B036 (a SystemExit in user code is its error too)
        _supports_errors[problem.descriptor] = "supports() raised " + describe(e)
        return True, ""
    _supports_errors.pop(problem.descriptor, None)
    if isinstance(answer, str):
        return False, _clip(_one_line(answer)) or f"{type(obj).__name__}.supports() refused with an empty reason"
    if answer:
        return True, ""
    return False, f"{type(obj).__name__}.supports() returned {answer!r} without a reason"


def _store(returned, tensors):
    """Copies the arrays a compute method returned into the call's outputs."""
    if returned is None:
        return
    if not isinstance(returned, dict):
        raise TypeError(f"Expected None or a dict of outputs, but got {type(returned).__name__}")
    for name, value in returned.items():
        target = getattr(tensors, name, None) if isinstance(name, str) else None
        if target is None:
            present = ", ".join(k for k, v in vars(tensors).items() if v is not None)
            raise KeyError(f"Expected outputs among this call's tensors ({present}), but got '{name}'")
        target._copy_from(value)


def _compute(method, obj, fields, refs):
    problem = Problem._from_fields(fields)
    if problem.descriptor in _supports_errors:
        return NC_ERROR_INTERNAL, _clip(_supports_errors[problem.descriptor]), problem.num_batches_tracked
    tensors = Tensors(**refs)
    try:
        _store(getattr(obj, method)(problem, tensors), tensors)
    except InputError as e:
        return NC_ERROR_INPUT, _clip(_one_line(e)), problem.num_batches_tracked
    except UnsupportedError as e:
        return NC_ERROR_UNSUPPORTED, _clip(_one_line(e)), problem.num_batches_tracked
    except BaseException as e:  # noqa: B036
        return NC_ERROR_INTERNAL, describe(e), problem.num_batches_tracked
    return NC_OK, "", int(problem.num_batches_tracked)


def forward(obj, fields, refs):
    return _compute("forward", obj, fields, refs)


def backward(obj, fields, refs):
    return _compute("backward", obj, fields, refs)
