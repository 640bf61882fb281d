"""`just demo`: synthetic NTU-format raw files -> Zarr store -> STG-NODE training -> evaluation.

Every step is the command a user would type. A second run reuses the raw files, the store and a
finished run instead of recomputing them.
"""

from __future__ import annotations

import json
import time

from _run import DEMO_STORE, REPO, ensure_demo_store, step

STORE = DEMO_STORE
RUN = "runs/demo"


def main() -> None:
    start = time.perf_counter()
    ensure_demo_store()
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
