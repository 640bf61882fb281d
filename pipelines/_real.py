"""The real-benchmark pipelines (`just real-ucla`, `just real-msr`) as one function of a table row.

`main(benchmark, doc)` builds the store from the raw files, plots the split's semantic adjacency,
then trains and evaluates one model (`--model`, stg-node by default; `--model st-gcn` is the
baseline with the same config) once per input stream (joint, bone and their motions) and seed, and
fuses each seed's streams by adding their logits (`stgnode fuse`), the multi-stream ensemble that
2s-AGCN, CTR-GCN and PYSKL report. Each run is scored on `--views` clips (the whole sequence and
random temporal crops, logits averaged: `stgnode evaluate --views`). Where the split has a
copy-free variant (NW-UCLA's `xview-dedup`), every figure is also given on it: the same trained
runs scored without the test files that are exact copies of a training file. `--split <split>-val`
runs the same on the validation split, where recipes are compared; the test split is run once per
final recipe and seed. Runs go `--jobs` at a time, one torch thread each (on 2 cores two one-thread
runs finish sooner than one two-thread run after the other). Every step is the command a user would
type; finished runs are evaluated again, not retrained. The markdown table (with the published
figures beside ours) is printed and written to `--out`.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import zarr
from _run import REPO, run_all, step, train_and_evaluate, write_table

from stgnode.fuse import Scores, load_scores
from stgnode.metrics import summarize
from stgnode.plots import save_confusion_png

STREAMS = ("joint", "bone", "joint-motion", "bone-motion")


@dataclass(frozen=True)
class Benchmark:
    """One real dataset's pipeline: its store, config and split, and the papers to print beside."""

    script: str  # the entry point, for the command line in the table
    dataset: str  # `skelprep build --dataset`
    raw: Path  # default raw folder
    raw_help: str
    max_frames: int  # `skelprep build --max-frames`: at least the longest sequence
    config: str
    split: str  # the test split
    store: str
    runs: str
    out: str
    published: tuple[tuple[str, str, str, str], ...]  # method, input, top-1 %, source
    dedup: dict[str, str] = field(default_factory=dict)  # split -> its copy-free variant


def parse_args(bench: Benchmark, doc: str, argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see --help); `doc` is the entry point's docstring."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add = parser.add_argument
    add("--raw", default=str(bench.raw), help=f"{bench.raw_help} [%(default)s]")
    add("--model", default="stg-node", help="stg-node | st-gcn | ... [%(default)s]")
    add("--seeds", default="0", help="comma-separated seeds [%(default)s]")
    add("--streams", default=",".join(STREAMS), help="input streams [%(default)s]")
    add("--split", default=bench.split,
        help=f"{bench.split} (test) or {bench.split}-val (recipes) [%(default)s]")  # fmt: skip
    add("--config", default=bench.config, help="stgnode config [%(default)s]")
    add("--jobs", type=int, default=2, help="runs at a time [%(default)s]")
    add("--epochs", type=int, help="override the config's epochs")
    add("--views", type=int, default=10,  # chosen on xview-val and xsub-val (docs/results.md)
        help="clips averaged by `stgnode evaluate --views` (1: none) [%(default)s]")  # fmt: skip
    add("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    add("--store", default=bench.store, help="store path [%(default)s]")
    add("--runs", default=bench.runs, help="run directories go here [%(default)s]")
    add("--out", default=bench.out, help="table [%(default)s]")
    return parser.parse_args(argv)


def build_store(bench: Benchmark, args: argparse.Namespace) -> None:
    """The store (reused when unchanged; its summary lists the kept oddities) and a plot of the
    split's semantic adjacency."""
    if not Path(args.raw).is_dir():
        sys.exit(f"{bench.dataset} raw files not found at {args.raw}; pass --raw DIR "
                 f"({bench.raw_help})")  # fmt: skip
    step(
        f"build the {bench.dataset} store (reused when unchanged)",
        *("skelprep", "build", "--dataset", bench.dataset, "--raw", args.raw),
        *("--out", args.store, "--max-frames", str(bench.max_frames), "--max-bodies", "1"),
    )
    step("plot the semantic adjacency", "skelprep", "plot", args.store, "--split", args.split,
         "--out", f"{args.runs}/{args.split}/plots")  # fmt: skip


def run_dir(args: argparse.Namespace, stream: str, seed: int | str) -> str:
    """Where one run (or a seed's fusion, stream "fused") lives: `<runs>/<split>/<model>-...`."""
    return f"{args.runs}/{args.split}/{args.model}-{stream}-seed{seed}"


def subset(scores: Scores, keep: set[str]) -> Scores:
    """The rows of `scores` whose sample id is in `keep`."""
    rows = np.isin(scores.sample, sorted(keep))
    return Scores(scores.sample[rows], scores.label[rows], scores.logits[rows], scores.classes)


def dedup_samples(bench: Benchmark, store: str, split: str) -> set[str] | None:
    """Sample ids of the copy-free test part of `split`, or None when it has no such variant."""
    if split not in bench.dedup:
        return None
    root = zarr.open_group(str(REPO / store), mode="r")
    names = root["sample"][:]
    return {str(n) for n in names[root[f"splits/{bench.dedup[split]}/test"][:]]}


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


def table(
    bench: Benchmark, args: argparse.Namespace, rows: dict, fusions: dict, wall: float
) -> str:
    """Markdown: how it ran, one row per run and per fusion, the seed summaries, the papers."""
    first = next(iter(rows.values()))
    dedup = "dedup_top1" in first
    extra = f" | {bench.dedup.get(args.split)} top-1" if dedup else ""
    lines = [
        f"- command: `{shlex.join(['python', f'pipelines/{bench.script}', *sys.argv[1:]])}`",
        f"- date: {datetime.date.today().isoformat()}; CPU, torch {torch.__version__}",
        f"- store `{args.store}`, split `{args.split}`, config `{args.config}`, "
        f"{first['epochs']} epoch{'s' * (first['epochs'] != 1)}, {first['num_samples']} test "
        "sequences"
        + (f" ({first['dedup_samples']} without the view copies)" if dedup else "")
        + f", {first['num_classes']} classes (chance {first['chance']:.1%}); last epoch's weights"
        + (f", logits averaged over {args.views} test-time clips" if args.views > 1 else ""),
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
            text += f"; on {bench.dedup[args.split]}: {spread([m['dedup_top1'] for m in runs])}"
        lines.append(text)
    lines += ["", f"Published {bench.split} top-1, for comparison (not re-run here):", "",
              f"| method | input | {bench.split} top-1 % | source |", "|---|---|---:|---|"]  # fmt: skip
    lines += [f"| {name} | {kind} | {top1} | {source} |" for name, kind, top1, source
              in bench.published]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(bench: Benchmark, doc: str, argv: list[str] | None = None) -> None:
    """Build, train every (stream, seed) run `--jobs` at a time, evaluate, fuse, write the table."""
    start = time.perf_counter()
    args = parse_args(bench, doc, argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    streams = args.streams.split(",")
    build_store(bench, args)
    extra = ["--split", args.split] + (["--epochs", str(args.epochs)] if args.epochs else [])
    extra += [item for pair in args.set for item in ("--set", pair)]
    env = {"OMP_NUM_THREADS": "1"} if args.jobs > 1 else None
    runs = [(stream, seed) for seed in seeds for stream in streams]

    def one(stream: str, seed: int) -> dict:
        return train_and_evaluate(run_dir(args, stream, seed), args.store, args.config,
                                  args.model, seed, "--stream", stream, *extra, env=env,
                                  views=args.views)  # fmt: skip

    metrics = run_all(one, runs, args.jobs)
    dedup = dedup_samples(bench, args.store, args.split)
    rows = {}
    for (stream, seed), m in metrics.items():
        scores = load_scores(REPO / run_dir(args, stream, seed) / "eval" / "scores.npz")
        rows[stream, seed] = {**m, **figures(scores, dedup)}
    fusions = {seed: fuse(args, seed, streams, dedup) for seed in seeds} if len(streams) > 1 else {}
    write_table(table(bench, args, rows, fusions, time.perf_counter() - start), args.out)
