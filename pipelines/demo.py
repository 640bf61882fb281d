"""`just demo`: synthetic NTU-format raw files -> Zarr store -> STG-NODE training -> evaluation.

Every step is the command a user would type. A second run reuses the raw files, the store and a
finished run instead of recomputing them.
"""

from __future__ import annotations

import json
import time

from _run import REPO, step

RAW = "data/raw/demo"
STORE = "data/demo.zarr"
RUN = "runs/demo"


def main() -> None:
    start = time.perf_counter()
    if (REPO / RAW).is_dir():
        print(f"reusing synthetic raw files in {RAW}")
    else:
        step(
            "synthesize NTU-format raw files",
            "skelprep",
            "synth",
            "--format",
            "ntu",
            "--out",
            RAW,
            "--seed",
            "0",
        )
    step(
        "build the store (reused when unchanged)",
        "skelprep",
        "build",
        "--dataset",
        "ntu60",
        "--raw",
        RAW,
        "--out",
        STORE,
    )
    step(
        "plot the semantic adjacency",
        "skelprep",
        "plot",
        STORE,
        "--split",
        "xsub",
        "--out",
        f"{RUN}/plots",
    )
    step(
        "train STG-NODE on CPU",
        "stgnode",
        "train",
        "--store",
        STORE,
        "--config",
        "demo",
        "--out",
        RUN,
        "--resume",
    )
    step("evaluate on the cross-subject test split", "stgnode", "evaluate", RUN, "--store", STORE)
    metrics = json.loads((REPO / RUN / "eval" / "metrics.json").read_text())
    print(f"\n== demo finished in {time.perf_counter() - start:.0f} s")
    print(
        f"cross-subject test top-1 {metrics['top1']:.1%}  top-5 {metrics['top5']:.1%}  "
        f"(chance {metrics['chance']:.1%}, {metrics['num_samples']} test samples)"
    )
    print(f"confusion matrix: {RUN}/eval/confusion.png")
    print(f"semantic adjacency plots: {RUN}/plots/")
    print(f"TensorBoard: .venv/bin/tensorboard --logdir {RUN}/tb")


if __name__ == "__main__":
    main()
