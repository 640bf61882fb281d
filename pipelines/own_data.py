"""`just own-data`: your own skeletons in, predictions out, on real recordings.

The path a user copies to train on their own data (docs/own-data.md):
1. real Kinect recordings (MSR Action3D, from ../shared/realdata) are written into the folder
   format with a few lines of numpy, as a user would export theirs: `sequences/<name>.npy`
   (T, 20, 3), `labels.csv` (sample, label, subject, split_xsub: odd subjects train), and
   `classes.txt`; no skelprep reader is involved;
2. `skelprep build --dataset folder --layout msr20` twice: aligned (the default) and
   `--no-align` (the coordinates as exported);
3. `stgnode train` + `stgnode evaluate` of stg-node on each (config msr3d-xsub, joint stream),
   the two runs side by side, one torch thread each;
4. a handful of held-out recordings copied into a folder without labels.csv, built as an
   unlabelled store and classified with `stgnode predict`.
It prints the accuracy of both imports side by side: what alignment is worth.

    python pipelines/own_data.py [--raw DIR] [--epochs N] [--seeds 0,1,2] [--actions K]

Runs are `<runs>/<import>-seed<k>`; a finished run is evaluated again, not retrained.
"""

from __future__ import annotations

import argparse
import csv
import re
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _run import REPO, run_all, step, train_and_evaluate, write_table

from skelprep.classes import MSR3D_CLASSES

DEFAULT_RAW = REPO.parent / "shared" / "realdata" / "skyleBrains_covMSRAction3D"
CONFIG = "msr3d-xsub"
IMPORTS = {"aligned": [], "unaligned": ["--no-align"]}  # import name -> extra build options
NEW_SAMPLES = 8


def parse_args() -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", default=str(DEFAULT_RAW), help="MSR Action3D text files")
    parser.add_argument("--work", default="data/own", help="folders and stores [%(default)s]")
    parser.add_argument("--runs", default="runs/own", help="run directories [%(default)s]")
    parser.add_argument("--epochs", type=int, help="override the config's epochs")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds [%(default)s]")
    parser.add_argument("--actions", type=int, default=20, help="first K actions [all 20]")
    parser.add_argument("--out", default="runs/own/table.md", help="table [%(default)s]")
    return parser.parse_args()


def export_recordings(raw: Path, folder: Path, actions: int) -> None:
    """Write MSR Action3D text files into the folder format with numpy alone (what a user's
    own export script does)."""
    (folder / "sequences").mkdir(parents=True, exist_ok=True)
    rows = ["sample,label,subject,split_xsub"]
    for path in sorted(raw.glob("a*_s*_e*_skeleton3D.txt")):
        action, subject, _ = map(int, re.findall(r"\d+", path.name)[:3])
        if action > actions:
            continue
        xyz = np.loadtxt(path).reshape(-1, 20, 4)[..., :3]  # x y z (confidence dropped)
        xyz = xyz[xyz.any(axis=(1, 2))]  # frames the sensor lost are all zeros
        if not len(xyz):
            continue
        name = path.name.removesuffix("_skeleton3D.txt")
        np.save(folder / "sequences" / f"{name}.npy", xyz)  # (T, V, C)
        rows.append(f"{name},{action - 1},{subject},{'train' if subject % 2 else 'test'}")
    (folder / "classes.txt").write_text("\n".join(MSR3D_CLASSES[:actions]) + "\n")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")  # last: the folder is complete


def unlabelled_folder(folder: Path, new: Path) -> list[str]:
    """A few held-out recordings to classify: sequences only, no labels.csv; returns them."""
    with open(folder / "labels.csv", newline="") as handle:
        held_out = [row["sample"] for row in csv.DictReader(handle) if row["split_xsub"] == "test"]
    picked = held_out[:: max(1, len(held_out) // NEW_SAMPLES)][:NEW_SAMPLES]
    (new / "sequences").mkdir(parents=True, exist_ok=True)
    for name in picked:
        if not (new / "sequences" / f"{name}.npy").is_file():  # unchanged files: store reused
            shutil.copy(folder / "sequences" / f"{name}.npy", new / "sequences")
    return picked


def spread(values: list[float]) -> str:
    """Top-1 mean and standard deviation over seeds."""
    deviation = statistics.stdev(values) if len(values) > 1 else 0.0
    return (
        f"top-1 mean {statistics.mean(values):.1%}, sd {deviation:.1%} over {len(values)} seed(s)"
    )


def main() -> None:
    """Export, build both imports, train and evaluate them side by side, classify new ones."""
    start = time.perf_counter()
    args = parse_args()
    raw, work, runs = Path(args.raw), REPO / args.work, Path(args.runs)
    if not raw.is_dir():
        sys.exit(f"MSR Action3D raw files not found at {raw}; pass --raw DIR")
    if (work / "folder" / "labels.csv").is_file():
        print(f"reusing the exported folder {work / 'folder'}")
    else:
        export_recordings(raw, work / "folder", args.actions)
        print(f"wrote {work / 'folder'}: sequences/*.npy, labels.csv, classes.txt")
    build = ("skelprep", "build", "--dataset", "folder", "--layout", "msr20", "--max-bodies", "1",
             "--max-frames", "100", "--quiet")  # fmt: skip
    for name, extra in IMPORTS.items():
        step(f"build the {name} import", *build, "--raw", str(work / "folder"),
             "--out", str(work / f"{name}.zarr"), *extra)  # fmt: skip
    options = ["--stream", "joint", *(["--epochs", str(args.epochs)] if args.epochs else [])]
    seeds = [int(seed) for seed in args.seeds.split(",")]
    jobs = [(name, seed) for seed in seeds for name in IMPORTS]

    def one(name: str, seed: int) -> dict:
        return train_and_evaluate(str(runs / f"{name}-seed{seed}"), str(work / f"{name}.zarr"),
                                  CONFIG, "stg-node", seed, *options, env={"OMP_NUM_THREADS": "1"})  # fmt: skip

    results = run_all(one, jobs, len(IMPORTS))
    picked = unlabelled_folder(work / "folder", work / "new")
    step("build the recordings to classify (no labels.csv: unlabelled)", *build,
         "--raw", str(work / "new"), "--out", str(work / "new.zarr"))  # fmt: skip
    predictions = runs / "predictions.csv"
    step("classify them", "stgnode", "predict", str(runs / f"aligned-seed{seeds[0]}"), "--store",
         str(work / "new.zarr"), "--top-k", "3", "--out", str(predictions))  # fmt: skip
    with open(REPO / predictions, newline="") as handle:
        predicted = list(csv.DictReader(handle))
    truth = {name: MSR3D_CLASSES[int(name[1:3]) - 1] for name in picked}
    right = sum(row["class_1"] == truth[row["sample"]] for row in predicted)
    lines = [
        f"- command: `{shlex.join(['python', 'pipelines/own_data.py', *sys.argv[1:]])}`",
        f"- data: MSR Action3D, first {args.actions} actions, written as the folder format by "
        f"numpy; split xsub (odd subjects train); config {CONFIG}, stg-node, joint stream, "
        f"{results[jobs[0]]['epochs']} epochs; last epoch's weights",
        f"- wall time: {(time.perf_counter() - start) / 60:.1f} min (finished runs are reused)",
        "",
        "| import | seed | test samples | top-1 | top-5 | mean class |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {name} | {seed} | {m['num_samples']} | {m['top1']:.1%} | {m['top5']:.1%} | "
            f"{m['mean_class_accuracy']:.1%} |"
            for (name, seed), m in results.items()
        ),
        "",
        *(f"- {name}: {spread([results[name, s]['top1'] for s in seeds])}" for name in IMPORTS),
        f"- `stgnode predict` on {len(predicted)} unlabelled held-out recordings: {right} "
        f"right (their names carry the action): {predictions}",
    ]
    write_table("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
