"""`just demo`: synthetic NTU-format raw files -> Zarr store -> STG-NODE training -> evaluation.

Every step is the command a user would type. A second run reuses the raw files, the store and a
finished run instead of recomputing them. `--seeds 0,1,2` trains and evaluates one run per seed
(the first in runs/demo, the others in runs/demo-seed<N>) and prints their mean and spread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from _run import DEMO_STORE, REPO, ensure_demo_store, step, train_and_evaluate

STORE = DEMO_STORE
RUN = "runs/demo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds [%(default)s]")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
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
        "--seed",
        str(seeds[0]),
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
    if len(seeds) > 1:
        top1 = [metrics["top1"]]
        for seed in seeds[1:]:
            run = f"{RUN}-seed{seed}"
            top1.append(train_and_evaluate(run, STORE, "demo", "stg-node", seed)["top1"])
        shown = ", ".join(f"seed {s} {t:.1%}" for s, t in zip(seeds, top1, strict=True))
        print(f"\n== {len(seeds)} seeds in {time.perf_counter() - start:.0f} s: {shown}")
        print(f"cross-subject test top-1 mean {statistics.mean(top1):.1%} "
              f"(standard deviation {statistics.stdev(top1):.1%})")  # fmt: skip


if __name__ == "__main__":
    main()
