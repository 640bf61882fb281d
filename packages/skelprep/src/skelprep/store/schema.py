"""Schema tables of `skelprep.store/1`: required attributes, array dtypes, the joints codec.

These tables are the code form of docs/store-format.md; the writer creates exactly these arrays
and the validator checks exactly these rules, so the two cannot drift apart.
"""

from __future__ import annotations

import numpy as np
from zarr.codecs import BloscCodec

from skelprep import SCHEMA

PARTIAL_SUFFIX = ".partial"

REQUIRED_ATTRS: dict[str, type | tuple[type, ...]] = {
    "schema": str,
    "dataset": str,
    "layout": dict,
    "classes": list,
    "num_classes": int,
    "channels": list,
    "build": dict,
    "source": dict,
    "skipped": list,
    "stats": dict,
    "skelprep_version": str,
    "created": str,
}
"""Root attribute -> its JSON type."""

LAYOUT_KEYS = ("name", "joints", "edges", "centre", "origin", "up", "across")
SOURCE_KEYS = ("raw_root", "file_count", "fingerprint")
STATS_KEYS = ("samples", "skipped", "bodies_found_hist", "bodies_dropped", "seconds")
SKIPPED_KEYS = ("file", "line", "reason")
"""Keys of every `skipped` entry; entries written since 2026-12-07 also hold `malformed` (bool:
False where the dataset's own metadata left the input out), older ones may lack it."""

ARRAY_DTYPES: dict[str, np.dtype | type] = {
    "joints": np.dtype("float32"),
    "frames": np.dtype("int32"),
    "label": np.dtype("int16"),
    "sample": str,
    "bodies_found": np.dtype("int8"),
    "bodies_kept": np.dtype("int8"),
}
"""Per-sample array (axis 0 = N) -> dtype; `sample` is a variable-length UTF-8 string array."""

ALIGNMENT_SHAPES: dict[str, tuple[str, ...]] = {
    "alignment/matrix": ("D", "D"),
    "alignment/offset": ("D",),
}
"""Per-sample alignment transform (aligned = matrix @ (raw - offset)) -> its shape past N, in
units of D, the number of coordinate channels (3 for x, y, z; 2 for x, y; 0 if unnamed)."""
ALIGNMENT_DTYPE = np.dtype("float64")
META_DTYPE = np.dtype("int16")
SPLIT_DTYPE = np.dtype("int64")
SPLIT_PARTS = ("train", "test")
SEMANTIC_ARRAYS = ("pair_distance", "distance", "adjacency")
SEMANTIC_DTYPE = np.dtype("float32")
SEMANTIC_ATTRS = ("rule", "params", "dtw", "samples_used", "edges", "sparsity")


#: Blosc's block size for `joints`. Left at 0, Blosc picks small blocks at level 1 and zstd
#: pays its set-up per block: on a 64-sample chunk of the build benchmark, 256 KiB blocks
#: encode in 0.17 against 0.34 ms per sample and decode in 0.07 against 0.23 ms (one thread),
#: ratio 5.38 against 5.36.
JOINTS_BLOCKSIZE = 256 * 2**10


def joints_codec() -> BloscCodec:
    """The compressor of `joints`: Blosc zstd level 1 with byte shuffle, 256 KiB blocks.

    Level 1 because it writes twice as fast as level 3 (289 against 153 MiB/s on one core)
    at the same ratio (5.4 against 5.3 on a chunk of the benchmark's NTU samples, mostly the
    zero padding): compression was half of a parse task's time.
    """
    return BloscCodec(cname="zstd", clevel=1, shuffle="shuffle", blocksize=JOINTS_BLOCKSIZE)


__all__ = ["SCHEMA"]
