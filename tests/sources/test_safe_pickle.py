"""The restricted unpickler: numpy arrays/scalars/dtypes and plain containers load, code does not."""
from __future__ import annotations

import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # finediving_factory.py
from finediving_factory import as_numpy1, default_dives  # noqa: E402

from vstar_data.errors import AnnotationError  # noqa: E402
from vstar_data.sources.safe_pickle import UnsafePickleError, safe_load, safe_loads  # noqa: E402


class Custom:
    """A class from outside the allow-list (its unpickling must be refused)."""

    def __init__(self) -> None:
        self.x = 1


def _real_structure() -> dict:
    dive = default_dives()[1]   # the one whose steps_transit_frames hold a -1
    return {dive.key: dive.fine(), "dtype": np.dtype("float32"), "scalar": np.float64(65.6),
            "set": {1, 2}, "bytes": b"\x00\xff"}


@pytest.mark.parametrize("numpy1", [False, True], ids=["numpy2", "numpy1"])
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_real_structure_loads_across_protocols_and_numpy_versions(protocol: int, numpy1: bool) -> None:
    data = pickle.dumps(_real_structure(), protocol=protocol)
    if numpy1:
        data = as_numpy1(data)
        assert b"numpy._core" not in data and b"numpy.core" in data
    out = safe_loads(data, source="x.pkl")
    entry = out[("FINADivingWorldCup2021_Men3m_final_r1", 11)]
    assert isinstance(entry["frames_labels"], np.ndarray)
    assert entry["frames_labels"].dtype == np.int64 and entry["frames_labels"][0] == 38
    assert entry["steps_transit_frames"].tolist() == [6, 34, -1]
    keys = list(entry["sub-action_types"])
    assert all(isinstance(k, np.integer) for k in keys)
    assert entry["sub-action_types"][14] == "3.5 Soms.Pike"   # numpy int keys match plain ints
    assert out["dtype"] == np.dtype("float32") and out["scalar"] == 65.6
    assert out["set"] == {1, 2} and out["bytes"] == b"\x00\xff"


def _refused(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "evil.pkl"
    path.write_bytes(data)
    with pytest.raises(UnsafePickleError) as info:
        safe_load(path)
    assert isinstance(info.value, AnnotationError)
    assert str(path) in str(info.value)
    return str(info.value)


def test_refuses_os_system_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    assert "'os.system'" in _refused(data, tmp_path)
    assert not marker.exists()


def test_refuses_builtins_eval_in_any_spelling(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    expr = f"open({str(marker)!r}, 'w')".encode()
    assert "'builtins.eval'" in _refused(b"cbuiltins\neval\n(S\"" + expr + b"\"\ntR.", tmp_path)
    # Python 2 spelling, and protocol 4's STACK_GLOBAL opcode
    assert "'builtins.eval'" in _refused(b"c__builtin__\neval\n(S\"" + expr + b"\"\ntR.", tmp_path)
    proto4 = (b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c" + bytes([len(expr)]) + expr + b"\x85R.")
    assert "'builtins.eval'" in _refused(proto4, tmp_path)
    assert not marker.exists()


def test_refuses_custom_class_and_numpy_outside_the_allow_list(tmp_path: Path) -> None:
    msg = _refused(pickle.dumps({"a": Custom()}, protocol=4), tmp_path)
    assert f"'{Custom.__module__}.Custom'" in msg
    assert "'numpy.load'" in _refused(b"cnumpy\nload\n(S'x.npy'\ntR.", tmp_path)
    assert "'numpy.core.multiarray.ndarray_evil'" in _refused(
        b"cnumpy.core.multiarray\nndarray_evil\n.", tmp_path)


def test_broken_and_missing_files_are_annotation_errors(tmp_path: Path) -> None:
    good = pickle.dumps(_real_structure(), protocol=4)
    broken = tmp_path / "broken.pkl"
    broken.write_bytes(good[: len(good) // 2])
    with pytest.raises(AnnotationError, match="not a readable pickle") as info:
        safe_load(broken)
    assert not isinstance(info.value, UnsafePickleError) and str(broken) in str(info.value)
    with pytest.raises(AnnotationError, match="does not exist"):
        safe_load(tmp_path / "nope.pkl")


# -- bounded unpickling: tiny pickles that declare huge allocations -------------------------------
# Each is built by hand from opcodes; without the bounds each would allocate 256 MB or more.
_BIG = 1 << 28


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)                        # BININT


def _refused_fast(data: bytes, tmp_path: Path) -> str:
    """Refused with an UnsafePickleError, quickly, and tracemalloc's peak stays under 1 MB."""
    import time
    import tracemalloc

    path = tmp_path / "bomb.pkl"
    path.write_bytes(data)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(AnnotationError) as info:
            safe_load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 2.0
    assert peak < 1_000_000, f"unpickling a {len(data)}-byte pickle peaked at {peak} bytes"
    assert str(path) in str(info.value)
    return str(info.value)


def test_bytearray_of_a_declared_size_is_refused_before_allocating(tmp_path: Path) -> None:
    data = b"\x80\x02" + _global("__builtin__", "bytearray") + _int(_BIG) + b"\x85R."
    assert len(data) < 40
    assert "bytearray(268435456)" in _refused_fast(data, tmp_path)


def test_ndarray_of_a_declared_shape_is_refused_before_allocating(tmp_path: Path) -> None:
    shape = _int(1 << 15) + _int(1 << 15) + b"\x86"          # (32768, 32768) float64: 8 GB
    msg = _refused_fast(b"\x80\x02" + _global("numpy", "ndarray") + shape + b"\x85R.", tmp_path)
    assert "ndarray of shape (32768, 32768)" in msg
    # NEWOBJ (ndarray.__new__) and numpy's own _reconstruct route
    _refused_fast(b"\x80\x02" + _global("numpy", "ndarray") + shape + b"\x85\x81.", tmp_path)
    kw = b"\x80\x04" + _global("numpy", "ndarray") + b")}X\x05\x00\x00\x00shape" + shape + b"s\x92."   # NEWOBJ_EX
    assert "keyword arguments to ndarray" in _refused_fast(kw, tmp_path)
    recon = (b"\x80\x02" + _global("numpy.core.multiarray", "_reconstruct") + _global("numpy", "ndarray")
             + _int(_BIG) + b"\x85C\x01b\x87R.")
    assert "_reconstruct" not in _refused_fast(recon, tmp_path)


def test_ndarray_state_bigger_than_its_data_is_refused(tmp_path: Path) -> None:
    empty = (b"\x80\x02" + _global("numpy.core.multiarray", "_reconstruct") + _global("numpy", "ndarray")
             + _int(0) + b"\x85C\x01b\x87R")
    dtype = _global("numpy", "dtype") + b"X\x02\x00\x00\x00O8" + b"\x85R"
    huge = b"(K\x01" + _int(_BIG) + b"\x85" + dtype + b"\x89]K\x01at"            # shape (2**28,), [1]
    assert "ndarray of shape (268435456,)" in _refused_fast(empty + huge + b"b.", tmp_path)
    # an object array whose list is shorter than its shape: numpy would read past the list
    short = b"(K\x01K\x03\x85" + dtype + b"\x89]K\x01at"                        # shape (3,), [1]
    assert "holds 1 items, not 3" in _refused_fast(empty + short + b"b.", tmp_path)


def test_memo_index_is_not_an_allocation(tmp_path: Path) -> None:
    # LONG_BINPUT 2**28: the C unpickler grows its memo list to that index (2 GB of pointers)
    data = b"\x80\x02Nr" + struct.pack("<I", _BIG) + b"."
    path = tmp_path / "memo.pkl"
    path.write_bytes(data)
    import tracemalloc

    tracemalloc.start()
    try:
        assert safe_load(path) is None
        assert tracemalloc.get_traced_memory()[1] < 1_000_000
    finally:
        tracemalloc.stop()


def test_other_codecs_and_oversized_files_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zlib = b"\x80\x02" + _global("_codecs", "encode") + b"X\x01\x00\x00\x00xX\x04\x00\x00\x00zlib\x86R."
    assert "codec 'zlib'" in _refused_fast(zlib, tmp_path)
    from vstar_data.sources import safe_pickle

    monkeypatch.setattr(safe_pickle, "MAX_PICKLE_BYTES", 1000)
    path = tmp_path / "big.pkl"
    path.write_bytes(pickle.dumps(list(range(1000)), protocol=4))
    with pytest.raises(AnnotationError, match="larger than the 1000 bytes") as info:
        safe_load(path)
    assert str(path) in str(info.value)
    assert safe_loads(pickle.dumps([1, 2], protocol=4)) == [1, 2]
