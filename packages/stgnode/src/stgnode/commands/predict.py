"""`stgnode predict RUN --store STORE`: the top-k classes of every sample, as a CSV."""

from __future__ import annotations

from pathlib import Path

import click

from stgnode.commands import checkpoint_option, views_option
from stgnode.errors import StgnodeError
from stgnode.predict import predict_store, summary, write_predictions_csv


@click.command()
@click.argument("run", type=click.Path(exists=True, path_type=Path))
@click.option("--store", required=True, type=click.Path(path_type=Path), help="The skelprep store.")
@checkpoint_option
@click.option("--split", help="Classify only this split's part (default: every sample).")
@click.option("--part", type=click.Choice(["train", "test"]), default="test", show_default=True)
@click.option("--top-k", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("predictions.csv"),
    show_default=True,
)
@click.option(
    "--onnx",
    type=click.Path(exists=True, path_type=Path),
    help="Run this exported model (stgnode export) with onnxruntime instead of torch.",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Default: the run's config.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@views_option
def predict(
    run: Path,
    store: Path,
    checkpoint: str,
    split: str | None,
    part: str,
    top_k: int,
    out: Path,
    onnx: Path | None,
    batch_size: int | None,
    device: str,
    views: int,
) -> None:
    """Classify the samples of STORE (labelled or not) with RUN's model."""
    try:
        predictions, source = predict_store(
            run, store, checkpoint, split, part, onnx, batch_size, device, views
        )
    except StgnodeError as err:
        raise click.ClickException(str(err)) from err
    write_predictions_csv(predictions, top_k, out)
    click.echo(summary(predictions, source, out))
