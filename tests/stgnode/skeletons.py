"""The two real skeletons of the stgnode tests as literals (0-based, from ST-GCN's published NTU
and OpenPose graphs), never imported from skelprep: the store is the only contract."""

from __future__ import annotations

NTU25_EDGES = [
    (0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20), (9, 8),
    (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17),
    (19, 18), (21, 22), (22, 7), (23, 24), (24, 11),
]  # fmt: skip
OPENPOSE18_EDGES = [
    (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8), (11, 5),
    (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14),
]  # fmt: skip

#: layout name -> (joints, edges, centre joint)
LAYOUTS = {"ntu25": (25, NTU25_EDGES, 20), "openpose18": (18, OPENPOSE18_EDGES, 1)}
