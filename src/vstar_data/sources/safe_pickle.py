"""Load annotation pickles without running code from them.

`pickle.load` calls any importable global a file names (``os.system``, ``builtins.eval``, a
class whose ``__reduce__`` does harm), so an annotation file downloaded from a drive link is
arbitrary code. Datasets such as FineDiving ship plain containers of numpy arrays and scalars;
`SafeUnpickler` resolves only the globals those need and refuses every other one with an
`UnsafePickleError` naming the file and the global.

numpy moved ``numpy.core`` to ``numpy._core`` in 2.0; pickles written by either major version
name their own module, so both spellings are accepted and mapped to the installed numpy.
"""
from __future__ import annotations

import importlib
import io
import pickle
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import AnnotationError

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


class SafeUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only numpy array/scalar/dtype globals and plain containers.

    `source` names the file in error messages. Strings from Python 2 pickles are decoded as
    latin-1 (what numpy needs for array data); persistent ids and out-of-band buffers are refused
    by the base class.
    """

    def __init__(self, file: BinaryIO, *, source: str | Path | None = None) -> None:
        super().__init__(file, encoding="latin1")
        self.source = str(source) if source is not None else "<pickle>"

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
        return getattr(importlib.import_module(target[0]), target[1])


def safe_loads(data: bytes, *, source: str | Path | None = None) -> Any:
    """Unpickle `data` with `SafeUnpickler`; any failure is an AnnotationError naming `source`."""
    return _load(io.BytesIO(data), source if source is not None else "<bytes>")


def safe_load(path: str | Path) -> Any:
    """Unpickle the file at `path` with `SafeUnpickler`; a missing or broken file is an
    AnnotationError, a refused global an UnsafePickleError (both name the file)."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise AnnotationError("pickle file does not exist", file=path) from None
    except OSError as exc:
        raise AnnotationError(f"cannot open pickle: {exc}", file=path) from exc
    with fh:
        return _load(fh, path)


def _load(fh: BinaryIO, source: str | Path) -> Any:
    try:
        return SafeUnpickler(fh, source=source).load()
    except AnnotationError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, ImportError, UnicodeDecodeError, MemoryError) as exc:
        raise AnnotationError(f"not a readable pickle: {type(exc).__name__}: {exc}",
                              file=source) from exc
