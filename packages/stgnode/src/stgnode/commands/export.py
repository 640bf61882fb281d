"""`stgnode export RUN --onnx OUT.onnx`: the trained model as ONNX, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import click
import torch

from stgnode.checkpoint import find_checkpoint, load_for_inference
from stgnode.commands import checkpoint_option
from stgnode.errors import StgnodeError
from stgnode.evaluate import CHECKPOINTS
from stgnode.export import OPSET, export_onnx, onnx_max_abs_diff

TOLERANCE = 1e-3
"""Largest |ONNX - PyTorch| accepted, relative to the largest |logit| (at least 1)."""


@click.command()
@click.argument("run", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--onnx",
    "onnx_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the .onnx file.",
)
@checkpoint_option
@click.option("--opset", type=click.IntRange(min=17), default=OPSET, show_default=True)
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Compare ONNX Runtime's output with PyTorch's on random input (needs onnxruntime).",
)
def export(run: Path, onnx_path: Path, checkpoint: str, opset: int, check: bool) -> None:
    """Export RUN's model (input N x C x T x V x M, N dynamic; output logits) to ONNX."""
    try:
        path = find_checkpoint(run, prefer=CHECKPOINTS[checkpoint])
        model, config, saved = load_for_inference(path, "cpu")
        context = saved["context"]
        shape = (
            context["in_channels"],
            config["data"]["window"],
            context["num_joints"],
            context["num_bodies"],
        )
        generator = torch.Generator().manual_seed(0)
        export_onnx(model, torch.randn(2, *shape, generator=generator), onnx_path, opset)
    except StgnodeError as err:  # config, checkpoint, a model that cannot be exported
        raise click.ClickException(str(err)) from err
    click.echo(f"wrote {onnx_path} (opset {opset}, input (batch, {', '.join(map(str, shape))}))")
    if check:
        inputs = torch.randn(3, *shape, generator=generator)  # another batch size than the trace's
        with torch.no_grad():
            scale = max(1.0, float(model(inputs).abs().max()))
        diff = onnx_max_abs_diff(onnx_path, model, inputs)
        click.echo(f"ONNX Runtime vs PyTorch on 3 random inputs: max abs diff {diff:.2e}")
        if diff > TOLERANCE * scale:
            raise click.ClickException(
                f"{onnx_path}: ONNX output differs from PyTorch by {diff:.2e}"
            )
