"""skelprep: raw skeleton datasets -> one self-describing Zarr store (schema skelprep.store/1)."""

__version__ = "0.1.0"
SCHEMA = "skelprep.store/1"
