"""The store of schema `skelprep.store/1` (docs/store-format.md): its schema tables, how it is
opened (refusing a `.partial` or another schema), written, validated and described.
"""

from skelprep.store.open import (
    describe_preparation,
    is_partial,
    open_store,
    partial_path,
    read_attrs,
)
from skelprep.store.schema import (
    ARRAY_DTYPES,
    REQUIRED_ATTRS,
    SCHEMA,
    joints_codec,
)
from skelprep.store.validate import validate_store
from skelprep.store.writer import (
    chunk_sources,
    consolidate,
    create_sample_arrays,
    joints_spec,
    write_splits,
)

__all__ = [
    "chunk_sources",
    "ARRAY_DTYPES",
    "REQUIRED_ATTRS",
    "SCHEMA",
    "consolidate",
    "create_sample_arrays",
    "describe_preparation",
    "is_partial",
    "joints_codec",
    "joints_spec",
    "open_store",
    "partial_path",
    "read_attrs",
    "validate_store",
    "write_splits",
]
