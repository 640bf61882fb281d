"""`just ablation`: the paper's ablation (Table 4) on a store: ST-GCN, STG-Semantic, STG-ODE*, STG-NODE.

Each variant is trained with the same config, seed and store, evaluated on the test part of the
config's split, and the table (params, top-1, top-5, mean class accuracy, training time) is
written as markdown to docs/notes/ablation.md. Every step is the command a user would type. By
default the store is the synthetic demo store, built first (as `just demo` does) when missing;
a variant whose run directory already holds a finished run is evaluated again, not retrained.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import shlex
import sys

import torch
from _run import DEMO_STORE, ensure_demo_store, train_and_evaluate, write_table

# variant -> what distinguishes it (the paper's ablation rows, in its order)
VARIANTS: dict[str, str] = {
    "st-gcn": "GCN-TCN only (ST-GCN baseline)",
    "stg-semantic": "+ GCN over the semantic adjacency",
    "stg-ode-star": "+ tensor ODE over the skeleton graph",
    "stg-node": "+ tensor ODE over the semantic adjacency",
}


def parse_args() -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEMO_STORE, help="store to train on [%(default)s]")
    parser.add_argument("--config", default="demo", help="config name or .toml [%(default)s]")
    parser.add_argument("--epochs", type=int, help="override the config's epochs")
    parser.add_argument("--seed", type=int, default=0, help="one seed for every variant [0]")
    parser.add_argument("--runs", default="runs/ablation", help="run directories [%(default)s]")
    parser.add_argument("--out", default="docs/notes/ablation.md", help="table [%(default)s]")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset")
    return parser.parse_args()


def table(rows: dict[str, dict], args: argparse.Namespace) -> str:
    """The markdown section: how it was run, then one row per variant."""
    first = next(iter(rows.values()))
    lines = [
        "## Ablation on the synthetic demo store" if args.store == DEMO_STORE else "## Ablation",
        "",
        f"- command: `{shlex.join(['python', 'pipelines/ablation.py', *sys.argv[1:]])}`",
        f"- date: {datetime.date.today().isoformat()}; machine: {platform.machine()} CPU VM, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}",
        f"- store `{args.store}`, split `{first['split']}`, config `{args.config}`, seed "
        f"{args.seed}, {first['epochs']} epochs; {first['num_samples']} test samples, "
        f"{first['num_classes']} classes (chance {first['chance']:.1%}); last epoch's weights",
        "",
        "| variant | what it adds | params | top-1 | top-5 | mean class | train s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for variant, m in rows.items():
        lines.append(
            f"| {variant} | {VARIANTS[variant]} | {m['params']:,} | {m['top1']:.1%} | "
            f"{m['top5']:.1%} | {m['mean_class_accuracy']:.1%} | {m['train_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Build the store if needed, run every variant, write and print the table."""
    args = parse_args()
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        sys.exit(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    if args.store == DEMO_STORE:
        ensure_demo_store()
    extra = ["--epochs", str(args.epochs)] if args.epochs else []
    rows = {
        variant: train_and_evaluate(
            f"{args.runs}/{variant}", args.store, args.config, variant, args.seed, *extra
        )
        for variant in variants
    }
    write_table(table(rows, args), args.out)


if __name__ == "__main__":
    main()
