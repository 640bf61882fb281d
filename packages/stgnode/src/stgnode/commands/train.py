"""`stgnode train`: train a model from a store with a config, locally or as one torchrun rank.

Options are shorthands for config overrides (`--epochs 5` is `--set train.epochs=5`); any key
can be set with `--set section.key=value`. The run directory defaults to
`runs/<config>-<model>-<stream>` (deterministic, so `--resume` finds it again).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from stgnode.transforms import STREAMS

# option name -> config key it overrides
SHORTHANDS: dict[str, str] = {
    "model": "model.name",
    "split": "data.split",
    "stream": "data.stream",
    "epochs": "train.epochs",
    "batch_size": "train.batch_size",
    "seed": "train.seed",
    "amp": "train.amp",
    "device": "train.device",
    "workers": "data.num_workers",
}


def default_run_dir(config: dict) -> Path:
    """runs/<config>-<model>-<stream>."""
    return Path("runs") / f"{config['name']}-{config['model']['name']}-{config['data']['stream']}"


@click.command()
@click.option(
    "--store",
    required=True,
    type=click.Path(path_type=Path),
    help="skelprep store (e.g. data/ntu60.zarr).",
)
@click.option(
    "--config",
    "config_name",
    default="demo",
    show_default=True,
    help="Shipped config name or a .toml file.",
)
@click.option("--model", default=None, help="stg-node | stg-semantic | stg-ode-star | st-gcn.")
@click.option(
    "--split", default=None, help="Split of the store (xsub, xview, xset, official, ...)."
)
@click.option("--stream", default=None, type=click.Choice(list(STREAMS)))
@click.option("--epochs", default=None, type=int)
@click.option(
    "--batch-size", default=None, type=int, help="GLOBAL batch (split over torchrun ranks)."
)
@click.option("--workers", default=None, type=int, help="DataLoader workers per rank.")
@click.option("--out", default=None, type=click.Path(path_type=Path), help="Run directory.")
@click.option("--resume", is_flag=True, help="Continue from <out>/last.pt when it exists.")
@click.option("--seed", default=None, type=int)
@click.option(
    "--deterministic", is_flag=True, help="Deterministic kernels (bit-exact resume on CPU)."
)
@click.option(
    "--amp",
    default=None,
    type=click.Choice(["none", "bf16", "fp16", "auto"]),
    help="Mixed precision; auto: bf16 where the device computes it natively, else none.",
)
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the model.")
@click.option("--device", default=None, type=click.Choice(["auto", "cpu", "cuda"]))
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override any config key (repeatable).",
)
@click.option("--quiet", is_flag=True, help="No progress bar or per-epoch lines.")
def train(store: Path, config_name: str, out: Path | None, resume: bool, deterministic: bool, compile_: bool,
          sets: tuple[str, ...], quiet: bool, **shorthands: object) -> None:  # fmt: skip
    """Train a model on a store's split and evaluate it after every epoch."""
    from stgnode.config import ConfigError, load_config
    from stgnode.errors import StgnodeError
    from stgnode.train import run_training

    overrides = [f"{SHORTHANDS[k]}={_toml(v)}" for k, v in shorthands.items() if v is not None]
    overrides += ["train.deterministic=true"] if deterministic else []
    overrides += ["train.compile=true"] if compile_ else []
    try:
        config = load_config(config_name, [*overrides, *sets])
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    run_dir = out or default_run_dir(config)
    main_rank = os.environ.get("RANK", "0") == "0"
    if main_rank and not quiet:
        click.echo(
            f"run: {run_dir}  (config {config['name']}, model {config['model']['name']}, store {store})"
        )
    try:
        result = run_training(config, store, run_dir, resume=resume, progress=not quiet)
    except (
        StgnodeError
    ) as exc:  # store, config, checkpoint and option checks; bugs keep a traceback
        raise click.ClickException(str(exc)) from None
    if main_rank:
        top1 = result.get("test_top1")
        shown = "n/a" if top1 is None else f"{top1:.2%}"
        click.echo(
            f"finished epoch {result.get('epoch')}: test top-1 {shown} (best {result['best_top1']:.2%}); run in {run_dir}"
        )


def _toml(value: object) -> str:
    """A click value as a TOML literal for an override (strings quoted)."""
    return f'"{value}"' if isinstance(value, str) else str(value)
