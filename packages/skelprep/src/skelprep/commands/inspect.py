"""`skelprep info STORE` and `skelprep validate STORE`: what a store holds, and whether it
follows docs/store-format.md.

Why: a store is shared between machines and runs; these two commands answer "what is this?"
and "can I trust it?" without writing any code.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from skelprep.errors import StoreError
from skelprep.store import describe_preparation, open_store, read_attrs, validate_store


def describe_store(path: Path) -> list[str]:
    """The lines `skelprep info` prints: schema, dataset, sizes, splits, build, semantic."""
    attrs = read_attrs(path)
    group = open_store(path)
    joints = group["joints"]
    size = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    lines = [
        f"store      {path}",
        f"schema     {attrs['schema']}   (skelprep {attrs['skelprep_version']}, code "
        f"{attrs.get('skelprep_code', 'unrecorded')[:12]}, {attrs['created']})",
        f"dataset    {attrs['dataset']}   layout {attrs['layout']['name']}   "
        f"channels {','.join(attrs['channels'])}",
        f"joints     {joints.dtype} {joints.shape} (N, C, T, V, M), chunks {joints.chunks}, "
        f"{size / 2**20:.1f} MiB on disk",
        *describe_preparation(attrs),
        f"skipped    {len(attrs['skipped'])} raw files",
        f"source     {attrs['source']['file_count']} files in {attrs['source']['raw_root']}",
        "splits:",
    ]
    for name in sorted(group["splits"].group_keys()) if "splits" in group else []:
        train, test = (group[f"splits/{name}/{part}"].shape[0] for part in ("train", "test"))
        lines.append(f"  {name:10s} train {train:7d}  test {test:7d}")
    lines.append(f"build      {json.dumps(attrs['build'], sort_keys=True)}")
    semantic = group.get("semantic")
    lines.append("semantic:" if semantic is not None else "semantic: none")
    for name in [] if semantic is None else sorted(semantic.group_keys()):
        sem = semantic[name].attrs
        lines.append(
            f"  {name:10s} rule {sem['rule']} {json.dumps(sem['params'], sort_keys=True)}  "
            f"edges {sem['edges']}  sparsity {sem['sparsity']:.3f}  "
            f"samples {sem['samples_used']}"
        )
    return lines


@click.command()
@click.argument("store", type=click.Path(path_type=Path))
def info(store: Path) -> None:
    """Print what a store holds: schema, dataset, sizes, splits, build parameters, semantic."""
    try:
        click.echo("\n".join(describe_store(store)))
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.argument("store", type=click.Path(path_type=Path))
def validate(store: Path) -> None:
    """Check a store against the schema; exit non-zero naming the first problem."""
    try:
        checks = validate_store(store)
    except StoreError as exc:
        raise click.ClickException(f"invalid store: {exc}") from None
    click.echo(f"{store}: valid skelprep.store/1 ({', '.join(checks)} checked)")
