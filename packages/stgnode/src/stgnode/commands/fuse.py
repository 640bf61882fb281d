"""`stgnode fuse RUN1 RUN2 ...`: fuse the saved scores of several runs and report the accuracy."""

from __future__ import annotations

from pathlib import Path

import click

from stgnode.errors import StgnodeError
from stgnode.fuse import FUSION_MODES, SCORES_FILE, load_scores, save_scores
from stgnode.fuse import fuse as fuse_scores
from stgnode.metrics import topk_accuracy


def _weights(ctx: click.Context, param: click.Parameter, value: str | None) -> list[float] | None:
    """Parse `--weights 1,0.5,...` into floats."""
    if value is None:
        return None
    try:
        return [float(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {value!r}") from None


def run_name(path: Path) -> str:
    """Short name of a run for the report: the run directory's name, or the scores file's stem."""
    if path.is_dir():
        return path.name
    if path.name == SCORES_FILE and path.parent.name == "eval":
        return path.parent.parent.name
    return path.stem


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--weights", callback=_weights, help="Comma-separated weight per run (default 1 each)."
)
@click.option(
    "--mode",
    type=click.Choice(sorted(FUSION_MODES)),
    default="raw",
    show_default=True,
    help="Add raw logits (as PYSKL and 2s-AGCN ensembles do) or per-run softmax probabilities.",
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Also write the fused scores.npz here."
)
def fuse(runs: tuple[Path, ...], weights: list[float] | None, mode: str, out: Path | None) -> None:
    """Fuse RUNS' eval/scores.npz (run directories or .npz files) by sample id and report top-1/top-5."""
    names = [run_name(path) for path in runs]
    try:
        scores = [load_scores(path) for path in runs]
        fused = fuse_scores(scores, weights, mode, names)
    except (StgnodeError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    width = max(map(len, [*names, "fused"]))
    click.echo(f"{'run':<{width}}  {'top-1':>6}  {'top-5':>6}   ({len(fused.sample)} samples)")
    for name, result in [*zip(names, scores, strict=True), ("fused", fused)]:
        top1, top5 = (100 * topk_accuracy(result.logits, result.label, k) for k in (1, 5))
        click.echo(f"{name:<{width}}  {top1:6.2f}  {top5:6.2f}")
    if out is not None:
        click.echo(f"wrote {save_scores(fused, out)}")
