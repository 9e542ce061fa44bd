"""Load annotation pickles without running code from them.

`pickle.load` calls any importable global a file names (``os.system``, ``builtins.eval``, a
class whose ``__reduce__`` does harm), so an annotation file downloaded from a drive link is
arbitrary code. Datasets such as FineDiving ship plain containers of numpy arrays and scalars;
`SafeUnpickler` resolves only the globals those need and refuses every other one with an
`UnsafePickleError` naming the file and the global.

numpy moved ``numpy.core`` to ``numpy._core`` in 2.0; pickles written by either major version
name their own module, so both spellings are accepted and mapped to the installed numpy.

Allowed constructors can still be told to allocate: ``bytearray(10**9)`` or an ndarray of a huge
declared shape is a 30-byte pickle, and the C unpickler grows its memo list to any index a
``LONG_BINPUT`` names. So the file is capped (`MAX_PICKLE_BYTES`), it is read by the pure-Python
unpickler (a dict memo, and every call and ndarray state passes our checks first), and no single
construction may declare more bytes than the pickle itself holds (legitimate array data travels
inside the pickle; `_allocation_limit`). An object ndarray whose state lists fewer items than its
shape declares (numpy reads past the list: a crash) is refused too.
"""
from __future__ import annotations

import importlib
import io
import pickle
import struct
import sys
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import AnnotationError

# The largest annotation pickle read (real ones are a few MB: FineDiving ~3 MB, STAR's video_fps less).
MAX_PICKLE_BYTES = 64 * 1024 * 1024
_MIN_ALLOCATION = 1024 * 1024        # a construction may always declare this much
_LATIN1 = frozenset({"latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1", "bytes"})

# (module, name) pairs a pickle may name; "numpy.core" / "numpy._core" stand for either spelling.
_NUMPY_CORE_GLOBALS = frozenset({
    ("multiarray", "_reconstruct"),   # ndarray.__reduce__
    ("multiarray", "scalar"),         # numpy scalars (np.int64(38), np.float64(65.6))
    ("numeric", "_frombuffer"),       # ndarray with pickle protocol 5 (in-band buffers)
})
_NUMPY_GLOBALS = frozenset({"ndarray", "dtype"})
_OTHER_GLOBALS = frozenset({
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"),
    ("builtins", "complex"),
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),            # bytes (numpy array data) in protocols 0-2
})
_PY2_MODULES = {"__builtin__": "builtins"}


class UnsafePickleError(AnnotationError):
    """A pickle names a global outside the allow-list (it could run code when loaded)."""


def _numpy_core() -> str:
    import numpy

    return "numpy._core" if int(numpy.__version__.split(".")[0]) >= 2 else "numpy.core"


class SafeUnpickler(pickle._Unpickler):  # the pure-Python unpickler: its steps can be checked
    """An Unpickler that resolves only numpy array/scalar/dtype globals and plain containers, and
    refuses any construction that declares more bytes than `limit` before it allocates them.

    `source` names the file in error messages; `limit` defaults to the input's size (at least
    1 MiB). Strings from Python 2 pickles are decoded as latin-1 (what numpy needs for array
    data); persistent ids and out-of-band buffers are refused by the base class.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: BinaryIO, *, source: str | Path | None = None, limit: int | None = None) -> None:
        super().__init__(file, encoding="latin1")
        self.source = str(source) if source is not None else "<pickle>"
        self.limit = max(int(limit or 0), _MIN_ALLOCATION)
        self._checks: dict[int, Any] = {}      # id(resolved global) -> its argument check

    def find_class(self, module: str, name: str) -> Any:
        module = _PY2_MODULES.get(module, module)
        target: tuple[str, str] | None = None
        for prefix in ("numpy.core.", "numpy._core."):
            if module.startswith(prefix) and (module[len(prefix):], name) in _NUMPY_CORE_GLOBALS:
                target = (f"{_numpy_core()}.{module[len(prefix):]}", name)
        if module == "numpy" and name in _NUMPY_GLOBALS:
            target = (module, name)
        if (module, name) in _OTHER_GLOBALS:
            target = (module, name)
        if target is None:
            raise UnsafePickleError(
                f"refusing to load global '{module}.{name}': this pickle may only reference numpy "
                f"arrays, scalars and dtypes (loading it could run code)", file=self.source)
        obj = getattr(importlib.import_module(target[0]), target[1])
        check = _CALL_CHECKS.get(target[1])
        if check is not None:
            self._checks[id(obj)] = check
        return obj

    # -- every construction is checked before it runs ---------------------------------------------
    def _refuse(self, what: str) -> UnsafePickleError:
        return UnsafePickleError(f"refusing {what}: more than {self.limit} bytes declared by a "
                                 f"pickle this size (a crafted allocation)", file=self.source)

    def _check(self, func: Any, args: Any) -> None:
        check = self._checks.get(id(func))
        if check is not None:
            check(self, tuple(args))

    def load_reduce(self) -> None:
        args = self.stack.pop()
        self._check(self.stack[-1], args)
        self.stack[-1] = self.stack[-1](*args)
    dispatch[pickle.REDUCE[0]] = load_reduce

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self._check(cls, args)
        self.append(cls.__new__(cls, *args))
    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        if kwargs and id(cls) in self._checks:   # ndarray.__new__(shape=...) would slip past the check
            raise UnsafePickleError(f"refusing keyword arguments to {getattr(cls, '__name__', cls)}",
                                    file=self.source)
        self._check(cls, args)
        self.append(cls.__new__(cls, *args, **kwargs))
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def _instantiate(self, klass: Any, args: Any) -> None:
        """INST / OBJ (protocols 0 and 1): `klass(*args)`, checked like REDUCE."""
        self._check(klass, args)
        try:
            value = klass(*args)
        except TypeError as err:
            raise TypeError(f"in constructor for {getattr(klass, '__name__', klass)}: {err}") \
                .with_traceback(err.__traceback__) from None
        self.append(value)

    def load_build(self) -> None:
        """BUILD: an ndarray's state is checked (declared size, object item count) before numpy reads it."""
        numpy = sys.modules.get("numpy")
        if numpy is not None and len(self.stack) > 1 and isinstance(self.stack[-2], numpy.ndarray):
            _check_array_state(self, self.stack[-1])
        super().load_build()
    dispatch[pickle.BUILD[0]] = load_build


def _nbytes(shape: Any, dtype: Any) -> int | None:
    """Bytes an array of `shape` and `dtype` would take; None when they are not a shape and dtype."""
    import numpy

    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(isinstance(n, int) and n >= 0 for n in shape):
        return None
    try:
        itemsize = numpy.dtype(dtype).itemsize
    except Exception:
        return None
    count = 1
    for n in shape:
        count *= n
    return count * max(itemsize, 1)


def _check_array_args(up: SafeUnpickler, args: tuple[Any, ...]) -> None:
    """ndarray(shape, dtype=float, ...) allocates shape x itemsize bytes."""
    size = _nbytes(args[0], args[1] if len(args) > 1 else float) if args else None
    if size is not None and size > up.limit:
        raise up._refuse(f"an ndarray of shape {args[0]!r} ({size} bytes)")


def _check_reconstruct(up: SafeUnpickler, args: tuple[Any, ...]) -> None:
    """_reconstruct(subtype, shape, dtype): an empty array of `shape` (numpy writes shape (0,))."""
    if len(args) >= 3:
        _check_array_args(up, (args[1], args[2]))


def _check_scalar(up: SafeUnpickler, args: tuple[Any, ...]) -> None:
    """scalar(dtype, data): a scalar of dtype.itemsize bytes."""
    size = _nbytes((), args[0]) if args else None
    if size is not None and size > up.limit:
        raise up._refuse(f"a numpy scalar of {size} bytes")


def _check_bytearray(up: SafeUnpickler, args: tuple[Any, ...]) -> None:
    """bytearray(n) allocates n zero bytes; bytearray(data) copies data that is in the pickle."""
    if args and isinstance(args[0], int) and args[0] > up.limit:
        raise up._refuse(f"bytearray({args[0]})")


def _check_encode(up: SafeUnpickler, args: tuple[Any, ...]) -> None:
    """_codecs.encode(text, 'latin1') is how protocols 0-2 spell bytes; any other codec is refused."""
    encoding = str(args[1]).lower().replace("_", "-") if len(args) > 1 else "utf-8"
    if len(args) != 2 or not isinstance(args[0], str) or encoding not in _LATIN1:
        raise UnsafePickleError(f"refusing _codecs.encode with codec {encoding!r}: bytes are pickled "
                                f"as latin-1 text", file=up.source)


def _check_array_state(up: SafeUnpickler, state: Any) -> None:
    """ndarray.__setstate__((version,) shape, dtype, fortran, data): data must be exactly the shape."""
    if not isinstance(state, tuple) or len(state) not in (4, 5):
        return                                     # numpy refuses it itself
    shape, dtype, _, data = state[-4:]
    size = _nbytes(shape, dtype)
    if size is None:
        return
    if size > up.limit:
        raise up._refuse(f"an ndarray of shape {shape!r} ({size} bytes)")
    import numpy

    dt = numpy.dtype(dtype)
    count = size // max(dt.itemsize, 1)
    if dt.hasobject and not (isinstance(data, list) and len(data) == count):
        got = f"{len(data)} items" if isinstance(data, list) else type(data).__name__
        raise UnsafePickleError(f"refusing an object ndarray of shape {shape!r}: its state holds {got}, "
                                f"not {count}", file=up.source)


_CALL_CHECKS = {"ndarray": _check_array_args, "_reconstruct": _check_reconstruct, "scalar": _check_scalar,
                "bytearray": _check_bytearray, "encode": _check_encode}


def safe_loads(data: bytes, *, source: str | Path | None = None) -> Any:
    """Unpickle `data` with `SafeUnpickler`; any failure is an AnnotationError naming `source`."""
    where = source if source is not None else "<bytes>"
    if len(data) > MAX_PICKLE_BYTES:
        raise AnnotationError(f"pickle is {len(data)} bytes, more than the {MAX_PICKLE_BYTES} an "
                              f"annotation pickle may be", file=where)
    return _load(bytes(data), where)


def safe_load(path: str | Path) -> Any:
    """Unpickle the file at `path` with `SafeUnpickler`; a missing, oversized or broken file is an
    AnnotationError, a refused global or allocation an UnsafePickleError (both name the file)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = _read_capped(fh, MAX_PICKLE_BYTES + 1)
    except FileNotFoundError:
        raise AnnotationError("pickle file does not exist", file=path) from None
    except OSError as exc:
        raise AnnotationError(f"cannot open pickle: {exc}", file=path) from exc
    if len(data) > MAX_PICKLE_BYTES:
        raise AnnotationError(f"pickle is larger than the {MAX_PICKLE_BYTES} bytes an annotation "
                              f"pickle may be", file=path)
    return _load(data, path)


def _read_capped(fh: BinaryIO, cap: int) -> bytes:
    """At most `cap` bytes of `fh`, read in 64 KiB pieces (`read(cap)` would allocate `cap` at once)."""
    parts: list[bytes] = []
    size = 0
    while size < cap:
        part = fh.read(min(1 << 16, cap - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _load(data: bytes, source: str | Path) -> Any:
    try:
        return SafeUnpickler(io.BytesIO(data), source=source, limit=len(data)).load()
    except AnnotationError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, ImportError, UnicodeDecodeError, MemoryError, struct.error, RecursionError) as exc:
        raise AnnotationError(f"not a readable pickle: {type(exc).__name__}: {exc}",
                              file=source) from exc
