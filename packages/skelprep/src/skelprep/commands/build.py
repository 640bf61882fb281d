"""`skelprep build`: raw dataset directory -> one store, reused when it is already current.

Why: the user's one command, `skelprep build --dataset ntu60 --eps 0.6`; everything else
(parallel parsing, resume, reuse, atomic replacement) happens behind it, in skelprep.build.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import MISSING
from pathlib import Path

import click

from skelprep.build import Action, BuildRequest, BuildResult, build_store, describe
from skelprep.build.params import PARAMS, BuildParams, Param
from skelprep.errors import SkelprepError, may_be_malformed


def _summary(result: BuildResult) -> str:
    """The end-of-build report: samples, skipped grouped by reason (and how many of them were
    malformed, which --strict would have stopped at), bodies dropped, time."""
    stats = result.stats
    rate = stats["samples"] / stats["seconds"] if stats["seconds"] else 0.0
    lines = [
        f"wrote {result.store}: {stats['samples']} samples in {stats['seconds']:.1f} s "
        f"({rate:.0f} samples/s overall)",
        "seconds per phase: "
        + ", ".join(f"{k} {v:.2f}" for k, v in stats.get("phase_seconds", {}).items()),
        f"bodies dropped by selection: {stats['bodies_dropped']}; bodies found per sample: "
        f"{stats['bodies_found_hist']}",
    ]
    reasons = Counter(entry["reason"][:90] for entry in result.skipped)
    malformed = sum(map(may_be_malformed, result.skipped))
    where = f" ({malformed} malformed; see attrs `skipped`)" if reasons else ""
    lines.append(f"skipped: {len(result.skipped)}{where}")
    lines += [f"  {count:6d} x {reason}" for reason, count in reasons.most_common()]
    return "\n".join(lines + result.notes)


def _option(param: Param) -> Callable:
    """The click option of one build parameter, from its declaration (build.params)."""
    if param.type is bool:  # `--no-align` stores False, `--strict` True
        kwargs = {"is_flag": True, "flag_value": not param.default, "default": param.default}
    elif param.default is MISSING:
        kwargs = {"type": param.type, "required": True}
    else:
        kwargs = {"type": param.type, "default": param.default, "show_default": param.default != ""}
    return click.option(param.flag, param.name, help=param.help, **kwargs)


def _param_options(command: Callable) -> Callable:
    """Every build parameter declared `cli` as an option of `command`, in declaration order."""
    for param in reversed([p for p in PARAMS if p.cli]):
        command = _option(param)(command)
    return command


@click.command()
@_param_options
@click.option("--raw", type=click.Path(path_type=Path), help="Raw directory [data/raw/<dataset>].")
@click.option("--out", type=click.Path(path_type=Path), help="Store path [data/<dataset>.zarr].")
@click.option("--force", is_flag=True, help="Rebuild a store built with other parameters.")
@click.option("--scheduler", help="dask.distributed scheduler address, e.g. tcp://host:8786.")
@click.option(
    "--workers",
    type=int,
    default=min(os.cpu_count() or 1, 8),
    show_default=True,
    help="Local worker processes; ignored with --scheduler (the cluster's workers are used).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def build(**opts: object) -> None:
    """Build (or reuse) the store of a raw skeleton dataset."""
    dataset = str(opts["dataset"])
    params = BuildParams(**{p.name: opts[p.name] for p in PARAMS if p.cli})
    request = BuildRequest(
        params=params,
        raw=opts["raw"] or Path("data/raw") / dataset,
        out=opts["out"] or Path("data") / f"{dataset}.zarr",
        force=opts["force"],
        scheduler=opts["scheduler"],
        workers=opts["workers"],
        # bars only on a terminal: in a batch job's log each redraw would be another line
        progress=not opts["quiet"] and click.get_text_stream("stderr").isatty(),
    )
    try:
        result = build_store(request)
    except (SkelprepError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if result.action is Action.REUSE:
        click.echo(f"reusing {result.store}: build parameters and raw files unchanged")
        for note in result.notes:
            click.echo(f"warning: {note}", err=True)
    elif result.action is Action.SEMANTIC:
        click.echo(
            f"{result.store}: only the adjacency rule differs:\n{describe(result.differences)}"
        )
        click.echo(
            f"re-applied it to the stored DTW distances of splits {result.notes} (no rebuild)"
        )
    else:
        if result.differences:
            click.echo(f"rebuilt (--force); differences:\n{describe(result.differences)}")
        click.echo(_summary(result))
