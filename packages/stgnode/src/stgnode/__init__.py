"""stgnode: train, evaluate and run STG-NODE (and its ablations and ST-GCN) from a skelprep store."""

__version__ = "0.1.0"
STORE_SCHEMA = "skelprep.store/1"
