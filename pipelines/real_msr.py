"""`just real-msr`: MSR Action3D (real Kinect skeletons) end to end on a CPU.

Builds the store from the raw `aXX_sYY_eZZ_skeleton3D.txt` files (the CVPR'12 list of 557
sequences, one body, padded to 100 frames: the longest sequence has 76), plots the semantic
adjacency and real frames, then trains and evaluates `stg-node` over several seeds and `st-gcn`
with the same config and seed 0 on the cross-subject protocol (odd subjects train, even test,
all 20 actions). Every step is the command a user would type; finished runs are evaluated again,
not retrained. The markdown table is printed and written to docs/notes/real-msr.md.

    python pipelines/real_msr.py [--raw DIR] [--seeds 0,1,2] [--epochs N]
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import statistics
import sys

import torch
from _run import REPO, step, train_and_evaluate, write_table

DEFAULT_RAW = REPO.parent / "shared" / "realdata" / "skyleBrains_covMSRAction3D"
STORE, RUNS, CONFIG = "data/msr3d.zarr", "runs/msr3d", "msr3d-xsub"


def parse_args() -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", default=str(DEFAULT_RAW), help="raw MSR Action3D directory")
    parser.add_argument("--seeds", default="0,1,2", help="stg-node seeds [%(default)s]")
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


def table(rows: dict[str, dict], seeds: list[int], args: argparse.Namespace) -> str:
    """Markdown: how it was run, one row per run, then the seed summary of stg-node."""
    first = next(iter(rows.values()))
    node = [rows[f"stg-node seed {s}"]["top1"] for s in seeds]
    spread = statistics.stdev(node) if len(node) > 1 else 0.0
    lines = [
        f"- command: `{shlex.join(['python', 'pipelines/real_msr.py', *sys.argv[1:]])}`",
        f"- date: {datetime.date.today().isoformat()}; 2-core CPU VM, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}",
        f"- store `{STORE}`, split `xsub` (subjects 1, 3, 5, 7, 9 train / 2, 4, 6, 8, 10 test), "
        f"config `{CONFIG}`, {first['epochs']} epochs, {first['num_samples']} test sequences, "
        f"{first['num_classes']} classes (chance {first['chance']:.1%}); last epoch's weights",
        "",
        "| run | params | top-1 | top-5 | mean class | train s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in rows.items():
        lines.append(
            f"| {name} | {m['params']:,} | {m['top1']:.1%} | {m['top5']:.1%} | "
            f"{m['mean_class_accuracy']:.1%} | {m['train_seconds']:.0f} |"
        )
    lines += [
        "",
        f"stg-node over seeds {seeds}: top-1 mean {statistics.mean(node):.1%}, "
        f"standard deviation {spread:.1%}, range {min(node):.1%} to {max(node):.1%}",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Build, train every run, evaluate, write and print the table."""
    args = parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    build_store(args.raw)
    extra = ["--epochs", str(args.epochs)] if args.epochs else []
    runs = [("stg-node", seed) for seed in seeds] + [("st-gcn", seeds[0])]
    rows = {
        f"{model} seed {seed}": train_and_evaluate(
f"{RUNS}/{model}-seed{seed}", STORE, CONFIG, model, seed, *extra)
        for model, seed in runs
    }  # fmt: skip
    write_table(table(rows, seeds, args), args.out)


if __name__ == "__main__":
    main()
