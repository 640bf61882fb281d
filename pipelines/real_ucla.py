"""`just real-ucla`: NW-UCLA Multiview Action3D (real Kinect v1 skeletons) end to end on a CPU.

Builds the store from the 1,484 `all_sqe/*.json` files (one person, 20 joints, padded to 208
frames: the longest sequence has 201), then trains one model per input stream and seed on the
cross-view protocol (views 1 and 2 train, view 3 tests) and fuses each seed's streams (see
`_real.py`). Every figure on `xview` is also given on `xview-dedup`: the same trained runs scored
without the 95 view-3 files that are exact copies of their view-2 (training) file.
`--split xview-val` holds out training subjects 5 and 10 of views 1 and 2 to compare recipes;
`--split xview-val-view` holds out a camera instead (view 1 trains, view 2 tests).

    python pipelines/real_ucla.py [--raw DIR] [--model stg-node] [--seeds 0,1,2] [--jobs 2]
                                  [--split xview] [--streams ...] [--epochs N] [--set KEY=VALUE]
"""

from __future__ import annotations

from _real import Benchmark, main
from _run import REPO

NWUCLA = Benchmark(
    script="real_ucla.py",
    dataset="nwucla",
    raw=REPO.parent / "shared" / "realdata" / "zjyyjz556_ctrgcn" / "NW-UCLA",
    raw_help="NW-UCLA folder holding all_sqe/",
    max_frames=208,
    config="nwucla-xview",
    split="xview",
    store="data/nwucla.zarr",
    runs="runs/nwucla",
    out="docs/notes/real-ucla.md",
    # GPU-trained multi-stream ensembles (../shared/realdata/SOURCES.md section 6).
    published=(
        ("CTR-GCN (Chen et al., ICCV 2021)", "4 streams", "96.5", "paper"),
        ("InfoGCN (Chi et al., CVPR 2022)", "6 streams", "97.0", "paper"),
        ("Shift-GCN (Cheng et al., CVPR 2020)", "4 streams", "94.6", "from memory, unverified"),
        ("HD-GCN (Lee et al., ICCV 2023)", "ensemble", "96.9", "from memory, unverified"),
    ),
    dedup={"xview": "xview-dedup"},
)

if __name__ == "__main__":
    main(NWUCLA, __doc__)
