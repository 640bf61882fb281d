"""`just real-msr`: MSR Action3D (real Kinect skeletons) end to end on a CPU.

Builds the store from the raw `aXX_sYY_eZZ_skeleton3D.txt` files (the CVPR'12 list of 557
sequences, one body, padded to 100 frames: the longest sequence has 76), plots the semantic
adjacency and real frames, then trains and evaluates `stg-node` (each seed) and `st-gcn` (the
first seed) with the same config on the cross-subject protocol (odd subjects train, even test,
all 20 actions), once per input stream (joint, bone and their motions), and fuses each model's
four streams by adding their logits (`stgnode fuse`), the multi-stream ensemble that 2s-AGCN,
CTR-GCN and PYSKL report. Runs go `--jobs` at a time, one torch thread each (on 2 cores two
one-thread runs finish sooner than one two-thread run after the other). Every step is the
command a user would type; finished runs are evaluated again, not retrained. The markdown
table is printed and written to docs/notes/real-msr.md.

    python pipelines/real_msr.py [--raw DIR] [--seeds 0] [--streams ...] [--jobs 2] [--epochs N]

The default (seed 0) takes about 23 minutes on the quiet 2-core VM; `--seeds 0,1,2` about an
hour (docs/results.md, MSR section).
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import statistics
import sys
import time

import torch
from _run import REPO, run_all, step, train_and_evaluate, write_table

from stgnode.fuse import load_scores
from stgnode.metrics import summarize
from stgnode.plots import save_confusion_png

DEFAULT_RAW = REPO.parent / "shared" / "realdata" / "skyleBrains_covMSRAction3D"
STORE, RUNS, CONFIG = "data/msr3d.zarr", "runs/msr3d", "msr3d-xsub"
STREAMS = ("joint", "bone", "joint-motion", "bone-motion")


def parse_args() -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", default=str(DEFAULT_RAW), help="raw MSR Action3D directory")
    parser.add_argument(
        "--seeds", default="0", help="stg-node seeds; st-gcn: the first [%(default)s]"
    )
    parser.add_argument("--streams", default=",".join(STREAMS), help="input streams [%(default)s]")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time [%(default)s]")
    parser.add_argument("--epochs", type=int, help="override the config's epochs")
    parser.add_argument("--out", default="docs/notes/real-msr.md", help="table [%(default)s]")
    return parser.parse_args()


def build_store(raw: str) -> None:
    """The MSR store (reused when unchanged) and its plots."""
    if not (REPO.parent / "shared").is_dir() and raw == str(DEFAULT_RAW):
        sys.exit(f"MSR Action3D raw files not found at {raw}; pass --raw DIR")
    step(
        "build the MSR Action3D store (reused when unchanged)",
        *("skelprep", "build", "--dataset", "msr3d", "--raw", raw, "--out", STORE),
        *("--max-frames", "100", "--max-bodies", "1"),
    )
    step("plot the semantic adjacency", "skelprep", "plot", STORE, "--split", "xsub",
         "--out", f"{RUNS}/plots")  # fmt: skip


def fused(model: str, seed: int, streams: list[str]) -> dict:
    """`stgnode fuse` of one model and seed's stream runs: its figures from the fused scores,
    and their confusion matrix as `<RUNS>/<model>-fused-seed<seed>.png`."""
    out = f"{RUNS}/{model}-fused-seed{seed}"
    runs = [f"{RUNS}/{model}-{stream}-seed{seed}" for stream in streams]
    step(f"fuse {model} seed {seed}: {' + '.join(streams)}", "stgnode", "fuse", *runs,
         "--out", f"{out}.npz")  # fmt: skip
    scores = load_scores(REPO / f"{out}.npz")
    figures = summarize(scores.logits, scores.label)
    title = f"{model} fused ({len(streams)} streams) on xsub: top-1 {figures['top1']:.1%}"
    save_confusion_png(figures["confusion"], scores.classes, REPO / f"{out}.png", title)
    return figures


def summary(name: str, values: list[float]) -> str:
    """Mean, standard deviation and range of one row kind over the seeds."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return (
        f"{name} over {len(values)} seed(s): top-1 mean {statistics.mean(values):.1%}, "
        f"standard deviation {spread:.1%}, range {min(values):.1%} to {max(values):.1%}"
    )


def table(
    rows: dict[tuple, dict], fusions: dict[tuple, dict], seeds: list[int], wall: float
) -> str:
    """Markdown: how it was run, one row per run and per fusion, then the seed summaries."""
    first = next(iter(rows.values()))
    lines = [
        f"- command: `{shlex.join(['python', 'pipelines/real_msr.py', *sys.argv[1:]])}`",
        f"- date: {datetime.date.today().isoformat()}; 2-core CPU VM, torch {torch.__version__}",
        f"- store `{STORE}`, split `xsub` (subjects 1, 3, 5, 7, 9 train / 2, 4, 6, 8, 10 test), "
        f"config `{CONFIG}`, {first['epochs']} epochs, {first['num_samples']} test sequences, "
        f"{first['num_classes']} classes (chance {first['chance']:.1%}); last epoch's weights",
        f"- wall time of this command: {wall / 60:.1f} min (runs already finished are reused)",
        "",
        "| model | stream | seed | params | top-1 | top-5 | mean class | train s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (model, stream, seed), m in rows.items():
        lines.append(
            f"| {model} | {stream} | {seed} | {m['params']:,} | {m['top1']:.1%} | {m['top5']:.1%}"
            f" | {m['mean_class_accuracy']:.1%} | {m['train_seconds']:.0f} |"
        )
    for (model, seed), m in fusions.items():
        lines.append(
            f"| {model} | fused (sum of logits) | {seed} | - | **{m['top1']:.1%}** "
            f"| {m['top5']:.1%} | {m['mean_class_accuracy']:.1%} | - |"
        )
    lines.append("")
    for stream in dict.fromkeys(stream for _, stream, _ in rows):
        values = [rows["stg-node", stream, s]["top1"] for s in seeds]
        lines.append(f"- {summary(f'stg-node {stream}', values)}")
    if fusions:
        values = [fusions["stg-node", s]["top1"] for s in seeds]
        lines.append(f"- {summary('stg-node fused', values)}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Build, train every run (`--jobs` at a time), evaluate, fuse, write and print the table."""
    start = time.perf_counter()
    args = parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    streams = args.streams.split(",")
    build_store(args.raw)
    extra = ["--epochs", str(args.epochs)] if args.epochs else []
    runs = [("stg-node", stream, seed) for seed in seeds for stream in streams]
    runs += [("st-gcn", stream, seeds[0]) for stream in streams]
    env = {"OMP_NUM_THREADS": "1"} if args.jobs > 1 else None

    def one(model: str, stream: str, seed: int) -> dict:
        return train_and_evaluate(f"{RUNS}/{model}-{stream}-seed{seed}", STORE, CONFIG, model,
                                  seed, "--stream", stream, *extra, env=env)  # fmt: skip

    rows = run_all(one, runs, args.jobs)
    fusions = {}
    if len(streams) > 1:
        for model, seed in dict.fromkeys((model, seed) for model, _, seed in runs):
            fusions[model, seed] = fused(model, seed, streams)
    write_table(table(rows, fusions, seeds, time.perf_counter() - start), args.out)


if __name__ == "__main__":
    main()
