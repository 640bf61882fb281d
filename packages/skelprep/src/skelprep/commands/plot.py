"""`skelprep plot`: PNGs of a store's semantic graph (heatmaps, Fig. 5 skeleton, a sample).

The rest pose of the skeleton drawing is the first frame of body 0 of the split's first
training sample, so the picture shows the semantic edges on a real pose of the data.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import zarr

from skelprep.errors import SkelprepError, StoreError
from skelprep.plots import (
    draw_semantic_skeleton,
    draw_skeleton_frames,
    plot_heatmaps,
    spatial_channels,
)
from skelprep.semantic_store import open_semantic


def write_plots(store: Path, split: str, out: Path) -> list[Path]:
    """Write every PNG of `skelprep plot` for `split` of `store` into `out`; return the paths."""
    group = open_semantic(store, split)
    root = zarr.open_group(store, mode="r", use_consolidated=False)
    attrs = dict(root.attrs)
    layout = attrs.get("layout")
    if not layout:
        raise StoreError(f"{store}: root attrs carry no layout")
    train_key = f"splits/{split}/train"
    if train_key not in root or root[train_key].shape[0] == 0:
        raise StoreError(f"{store}: no training samples under {train_key}")
    first = int(root[train_key][0])
    sample = root["joints"][first]  # (C, T, V, M)
    channels = attrs.get("channels")
    pose = sample[spatial_channels(channels, sample.shape[0]), 0, :, 0].T
    rule = group.attrs.get("rule", "?")
    params = ", ".join(f"{k}={v}" for k, v in dict(group.attrs.get("params", {})).items())
    label = f"({split}, {attrs.get('dataset', '')})"
    paths = plot_heatmaps(
        group["distance"][...],
        group["adjacency"][...],
        layout["joints"],
        out,
        pair_distance=group["pair_distance"][...],
        class_names=attrs.get("classes"),
        title=label,
    )
    edges = group.attrs.get("edges", "?")
    paths.append(
        draw_semantic_skeleton(
            pose,
            layout,
            group["adjacency"][...],
            out / "skeleton_semantic.png",
            title=f"{edges} semantic edges, rule {rule} ({params}) {label}",
        )
    )
    name = np.asarray(root["sample"][first]).item() if "sample" in root else str(first)
    paths.append(
        draw_skeleton_frames(
            sample,
            layout,
            out / "sample_frames.png",
            frames=int(root["frames"][first]),
            channels=channels,
            title=f"first training sample of {split}: {name}",
        )
    )
    return paths


@click.command()
@click.argument("store", type=click.Path(path_type=Path))
@click.option(
    "--split", default="xsub", show_default=True, help="Split whose semantic graph to draw."
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("plots"), show_default=True,
    help="Folder for the PNGs.",
)  # fmt: skip
def plot(store: Path, split: str, out: Path) -> None:
    """Draw distance/adjacency heatmaps and the semantic skeleton of STORE's SPLIT."""
    try:
        paths = write_plots(store, split, out)
    except (SkelprepError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    for path in paths:
        click.echo(str(path))
