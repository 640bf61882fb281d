"""`just real-ucla`: NW-UCLA Multiview Action3D (real Kinect v1 skeletons) end to end on a CPU.

Builds the store from the 1,484 `all_sqe/*.json` files (one person, 20 joints, padded to 208
frames: the longest sequence has 201), then trains and evaluates one model (`--model`, stg-node
by default; `--model st-gcn` is the baseline with the same config) on the cross-view protocol
(views 1 and 2 train, view 3 tests), once per input stream (joint, bone and their motions) and
seed, and fuses each seed's streams by adding their logits (`stgnode fuse`). Every figure on
`xview` is also given on `xview-dedup`: the same trained runs scored without the 95 view-3 files
that are exact copies of their view-2 (training) file. `--split xview-val` runs the same on the
validation split (training subjects 5 and 10 of views 1 and 2 held out), where recipes are
compared; the test split is run once per final recipe and seed. Runs go `--jobs` at a time, one
torch thread each. Finished runs are evaluated again, not retrained. The markdown table (with
the published figures beside ours) is printed and written to `--out`.

    python pipelines/real_ucla.py [--raw DIR] [--model stg-node] [--seeds 0,1,2] [--jobs 2]
                                  [--split xview] [--streams ...] [--epochs N] [--set KEY=VALUE]
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import zarr
from _run import REPO, run_all, step, train_and_evaluate, write_table

from stgnode.fuse import Scores, load_scores
from stgnode.metrics import summarize
from stgnode.plots import save_confusion_png

DEFAULT_RAW = REPO.parent / "shared" / "realdata" / "zjyyjz556_ctrgcn" / "NW-UCLA"
STREAMS = ("joint", "bone", "joint-motion", "bone-motion")
MAX_FRAMES = 208
DEDUP = {"xview": "xview-dedup"}
"""Splits with a copy-free variant: the same training part, a test part without the copies."""

PUBLISHED = (
    ("CTR-GCN (Chen et al., ICCV 2021)", "4 (joint, bone, motions)", "96.5", "paper"),
    ("InfoGCN (Chi et al., CVPR 2022)", "6", "97.0", "paper"),
    ("Shift-GCN (Cheng et al., CVPR 2020)", "4", "94.6", "from memory, unverified"),
    ("HD-GCN (Lee et al., ICCV 2023)", "ensemble", "96.9", "from memory, unverified"),
)
"""Published cross-view top-1 (%), GPU-trained multi-stream ensembles (SOURCES.md section 6)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--raw", default=str(DEFAULT_RAW), help="NW-UCLA folder holding all_sqe/ [%(default)s]")
    add("--model", default="stg-node", help="stg-node | st-gcn | ... [%(default)s]")
    add("--seeds", default="0", help="comma-separated seeds [%(default)s]")
    add("--streams", default=",".join(STREAMS), help="input streams [%(default)s]")
    add("--split", default="xview", help="xview (test) or xview-val (recipes) [%(default)s]")
    add("--config", default="nwucla-xview", help="stgnode config [%(default)s]")
    add("--jobs", type=int, default=2, help="runs at a time [%(default)s]")
    add("--epochs", type=int, help="override the config's epochs")
    add("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    add("--store", default="data/nwucla.zarr", help="store path [%(default)s]")
    add("--runs", default="runs/nwucla", help="run directories go here [%(default)s]")
    add("--out", default="docs/notes/real-ucla.md", help="table [%(default)s]")
    return parser.parse_args(argv)


def build_store(raw: str, store: str) -> None:
    """The NW-UCLA store (reused when unchanged); its summary lists the kept oddities."""
    if not Path(raw).is_dir():
        sys.exit(f"NW-UCLA raw files not found at {raw}; pass --raw DIR (the folder of all_sqe/)")
    step(
        "build the NW-UCLA store (reused when unchanged)",
        *("skelprep", "build", "--dataset", "nwucla", "--raw", raw, "--out", store),
        *("--max-frames", str(MAX_FRAMES), "--max-bodies", "1"),
    )


def run_dir(args: argparse.Namespace, stream: str, seed: int | str) -> str:
    """Where one run (or a seed's fusion, stream "fused") lives: `<runs>/<split>/<model>-...`."""
    return f"{args.runs}/{args.split}/{args.model}-{stream}-seed{seed}"


def subset(scores: Scores, keep: set[str]) -> Scores:
    """The rows of `scores` whose sample id is in `keep`."""
    rows = np.isin(scores.sample, sorted(keep))
    return Scores(scores.sample[rows], scores.label[rows], scores.logits[rows], scores.classes)


def dedup_samples(store: str, split: str) -> set[str] | None:
    """Sample ids of the copy-free test part of `split`, or None when it has no such variant."""
    if split not in DEDUP:
        return None
    root = zarr.open_group(str(REPO / store), mode="r")
    names = root["sample"][:]
    return {str(n) for n in names[root[f"splits/{DEDUP[split]}/test"][:]]}


def figures(scores: Scores, dedup: set[str] | None) -> dict:
    """top-1/top-5/mean class of `scores`, and `dedup_top1` on the copy-free test part."""
    out = summarize(scores.logits, scores.label)
    if dedup is not None:
        kept = subset(scores, dedup)
        out["dedup_top1"] = summarize(kept.logits, kept.label)["top1"]
        out["dedup_samples"] = len(kept.sample)
    return out


def fuse(args: argparse.Namespace, seed: int, streams: list[str], dedup: set[str] | None) -> dict:
    """`stgnode fuse` of one seed's stream runs; its figures and confusion matrix PNG."""
    out = run_dir(args, "fused", seed)
    runs = [run_dir(args, stream, seed) for stream in streams]
    step(f"fuse {args.model} seed {seed}: {' + '.join(streams)}", "stgnode", "fuse", *runs,
         "--out", f"{out}.npz")  # fmt: skip
    scores = load_scores(REPO / f"{out}.npz")
    result = figures(scores, dedup)
    title = (
        f"{args.model} fused ({len(streams)} streams) on {args.split}: top-1 {result['top1']:.1%}"
    )
    save_confusion_png(result["confusion"], scores.classes, REPO / f"{out}.png", title)
    return result


def spread(values: list[float]) -> str:
    """`mean ± standard deviation (range)` of top-1 values over seeds, in %."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (
        f"{statistics.mean(values):.1%} ± {sd:.1%} ({len(values)} seed(s), "
        f"{min(values):.1%} to {max(values):.1%})"
    )


def table(args: argparse.Namespace, rows: dict, fusions: dict, wall: float) -> str:
    """Markdown: how it ran, one row per run and per fusion, the seed summaries, the papers."""
    first = next(iter(rows.values()))
    dedup = "dedup_top1" in first
    extra = f" | {DEDUP.get(args.split)} top-1" if dedup else ""
    lines = [
        f"- command: `{shlex.join(['python', 'pipelines/real_ucla.py', *sys.argv[1:]])}`",
        f"- date: {datetime.date.today().isoformat()}; CPU, torch {torch.__version__}",
        f"- store `{args.store}`, split `{args.split}`, config `{args.config}`, "
        f"{first['epochs']} epochs, {first['num_samples']} test sequences"
        + (f" ({first['dedup_samples']} without the view copies)" if dedup else "")
        + f", {first['num_classes']} classes (chance {first['chance']:.1%}); last epoch's weights",
        f"- wall time of this command: {wall / 60:.1f} min (runs already finished are reused)",
        "",
        f"| model | stream | seed | params | {args.split} top-1{extra} | top-5 | mean class "
        "| train s |",
        "|---|---|---:|---:|---:|" + ("---:|" if dedup else "") + "---:|---:|---:|",
    ]
    for (stream, seed), m in rows.items():
        lines.append(
            f"| {args.model} | {stream} | {seed} | {m['params']:,} | {m['top1']:.1%}"
            + (f" | {m['dedup_top1']:.1%}" if dedup else "")
            + f" | {m['top5']:.1%} | {m['mean_class_accuracy']:.1%} | {m['train_seconds']:.0f} |"
        )
    for seed, m in fusions.items():
        lines.append(
            f"| {args.model} | fused (sum of logits) | {seed} | - | **{m['top1']:.1%}**"
            + (f" | {m['dedup_top1']:.1%}" if dedup else "")
            + f" | {m['top5']:.1%} | {m['mean_class_accuracy']:.1%} | - |"
        )
    lines.append("")
    kinds = {stream: [m for (s, _), m in rows.items() if s == stream] for stream, _ in rows}
    if fusions:
        kinds["fused"] = list(fusions.values())
    for kind, runs in kinds.items():
        text = f"- {args.model} {kind} on {args.split}: {spread([m['top1'] for m in runs])}"
        if dedup:
            text += f"; on {DEDUP[args.split]}: {spread([m['dedup_top1'] for m in runs])}"
        lines.append(text)
    lines += ["", "Published cross-view top-1 (GPU-trained ensembles), for comparison:", "",
              "| method | streams | xview top-1 % | source |", "|---|---|---:|---|"]  # fmt: skip
    lines += [f"| {name} | {streams} | {top1} | {source} |" for name, streams, top1, source
              in PUBLISHED]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Build, train every (stream, seed) run `--jobs` at a time, evaluate, fuse, write the table."""
    start = time.perf_counter()
    args = parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    streams = args.streams.split(",")
    build_store(args.raw, args.store)
    extra = ["--split", args.split] + (["--epochs", str(args.epochs)] if args.epochs else [])
    extra += [item for pair in args.set for item in ("--set", pair)]
    env = {"OMP_NUM_THREADS": "1"} if args.jobs > 1 else None
    runs = [(stream, seed) for seed in seeds for stream in streams]

    def one(stream: str, seed: int) -> dict:
        return train_and_evaluate(run_dir(args, stream, seed), args.store, args.config,
                                  args.model, seed, "--stream", stream, *extra, env=env)  # fmt: skip

    metrics = run_all(one, runs, args.jobs)
    dedup = dedup_samples(args.store, args.split)
    rows = {}
    for (stream, seed), m in metrics.items():
        scores = load_scores(REPO / run_dir(args, stream, seed) / "eval" / "scores.npz")
        rows[stream, seed] = {**m, **figures(scores, dedup)}
    fusions = {seed: fuse(args, seed, streams, dedup) for seed in seeds} if len(streams) > 1 else {}
    write_table(table(args, rows, fusions, time.perf_counter() - start), args.out)


if __name__ == "__main__":
    main()
