"""`stgnode evaluate RUN_OR_CHECKPOINT --store STORE`: test accuracy, confusion PNG, scores.npz."""

from __future__ import annotations

from pathlib import Path

import click

from stgnode.commands import checkpoint_option, views_option
from stgnode.errors import StgnodeError
from stgnode.evaluate import evaluate_run


@click.command()
@click.argument("run", type=click.Path(exists=True, path_type=Path))
@click.option("--store", required=True, type=click.Path(path_type=Path), help="The skelprep store.")
@click.option("--split", help="Split whose test part is scored (default: the run's).")
@checkpoint_option
@click.option(
    "--out", type=click.Path(path_type=Path), help="Output directory [default: RUN/eval]."
)
@click.option(
    "--batch-size", type=click.IntRange(min=1), help="Test batch size (default: config's)."
)
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@views_option
def evaluate(
    run: Path,
    store: Path,
    split: str | None,
    checkpoint: str,
    out: Path | None,
    batch_size: int | None,
    device: str,
    views: int,
) -> None:
    """Evaluate RUN (a run directory or a checkpoint file) on the test part of STORE."""
    try:
        result = evaluate_run(run, store, split, checkpoint, out, batch_size, device, views)
    except StgnodeError as err:  # checkpoint, store, config
        raise click.ClickException(str(err)) from err
    classes = f"{result['num_classes']} classes"
    if result["test_classes"] < result["num_classes"]:
        classes = f"{result['test_classes']} of the store's {classes}"
    averaged = f", {views} views averaged" if views > 1 else ""
    click.echo(
        f"{result['model']} on {result['split']} test ({result['num_samples']} samples, "
        f"{classes}{averaged}) from {result['checkpoint']}"
    )
    click.echo(
        f"top-1 {result['top1']:.2%}  top-5 {result['top5']:.2%}  "
        f"mean class {result['mean_class_accuracy']:.2%}  chance {result['chance']:.2%}"
    )
    click.echo(f"wrote metrics.json, confusion.png, scores.npz to {result['out']}")
