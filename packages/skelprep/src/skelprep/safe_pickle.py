"""A restricted unpickler for pickles found in user data (ST-GCN label `.pkl` files).

`pickle.load` runs whatever callable a pickle names, so a crafted label file could run code. This
loader resolves no global at all except numpy's scalar and array reconstruction (some tools
pickle labels as numpy integers or arrays) with a non-object dtype, which cannot run code. Plain
containers, str, bytes, numbers, None and bool need no global and load as usual.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from skelprep.errors import RawFormatError


def _safe_dtype(*args: Any) -> np.dtype:
    """numpy.dtype, refusing object dtypes (whose items would be arbitrary pickled objects)."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object dtype is not allowed")
    return dtype


# The reconstruction functions numpy itself names in its pickles (numpy.core or numpy._core).
_SCALAR = np.int64(0).__reduce__()[0]
_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_NUMPY_CORES = ("numpy.core.multiarray", "numpy._core.multiarray")
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{(core, "scalar"): _SCALAR for core in _NUMPY_CORES},
    **{(core, "_reconstruct"): _RECONSTRUCT for core in _NUMPY_CORES},
    ("numpy", "dtype"): _safe_dtype,
    ("numpy", "ndarray"): np.ndarray,
}
"""The only globals a pickle may name: numpy scalar/array reconstruction."""


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler whose `find_class` only returns the entries of ALLOWED_GLOBALS."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed") from None


def loads(data: bytes, source: str | Path = "<bytes>") -> Any:
    """Unpickle `data` with the restricted unpickler; RawFormatError naming `source` on refusal."""
    try:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise RawFormatError(source, f"refused or unreadable pickle: {exc}") from None


def load(path: str | Path) -> Any:
    """Read a pickle file safely (see module docstring); RawFormatError naming the file on refusal."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RawFormatError(path, f"cannot read: {exc.strerror or exc}") from None
    return loads(data, path)
