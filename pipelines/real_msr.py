"""`just real-msr`: MSR Action3D (real Kinect skeletons) end to end on a CPU.

Builds the store from the raw `aXX_sYY_eZZ_skeleton3D.txt` files (the CVPR'12 list of 557
sequences, one body, padded to 100 frames: the longest sequence has 76), then trains one model per
input stream and seed on the cross-subject protocol (odd subjects train, even test, all 20
actions) and fuses each seed's streams (see `_real.py`). `--split xsub-val` holds out training
subject 9 to compare recipes; `--model st-gcn` is the baseline with the same config.

    python pipelines/real_msr.py [--raw DIR] [--model stg-node] [--seeds 0,1,2] [--jobs 2]
                                 [--split xsub] [--streams ...] [--epochs N] [--set KEY=VALUE]

The default (stg-node, seed 0: four runs, two at a time) took 21.4 minutes on the quiet 2-core
VM; st-gcn's runs train in about half stg-node's time (docs/results.md, MSR section).
"""

from __future__ import annotations

from _real import Benchmark, main
from _run import REPO

MSR3D = Benchmark(
    script="real_msr.py",
    dataset="msr3d",
    raw=REPO.parent / "shared" / "realdata" / "skyleBrains_covMSRAction3D",
    raw_help="folder of the skeleton3D.txt files and the CVPR'12 sample list",
    max_frames=100,
    config="msr3d-xsub",
    split="xsub",
    store="data/msr3d.zarr",
    runs="runs/msr3d",
    out="docs/notes/real-msr.md",
    # Quoted from memory of the papers, not checked against them here (docs/results.md, MSR).
    published=(
        (
            "Actionlet ensemble (Wang et al., CVPR 2012)",
            "joints + depth",
            "88.2",
            "from memory, unverified",
        ),
        ("Moving Pose (Zanfir et al., ICCV 2013)", "joints", "91.7", "from memory, unverified"),
    ),
)

if __name__ == "__main__":
    main(MSR3D, __doc__)
