"""`skelprep semantic`: re-threshold a store's stored DTW distances with another rule.

This is the reuse the store exists for: changing the rule or eps costs well under a second
and never re-reads raw files or recomputes DTW.
"""

from __future__ import annotations

from pathlib import Path

import click

from skelprep.errors import SkelprepError
from skelprep.semantic import RULES
from skelprep.semantic_store import recompute


@click.command()
@click.argument("store", type=click.Path(path_type=Path))
@click.option(
    "--split", default="xsub", show_default=True, help="Split whose train part made the distances."
)
@click.option("--rule", type=click.Choice(sorted(RULES)), default="gaussian", show_default=True)
@click.option(
    "--eps", type=float, default=None, help="Threshold (gaussian, eq3); rule default if omitted."
)
@click.option("--sigma", type=float, default=None, help="Gaussian width (gaussian); default 0.1.")
@click.option("--k", type=int, default=None, help="Neighbours per joint (knn); default 3.")
def semantic(
    store: Path, split: str, rule: str, eps: float | None, sigma: float | None, k: int | None
) -> None:
    """Recompute semantic/<SPLIT>/adjacency of STORE from its stored distances."""
    given = {"eps": eps, "sigma": sigma, "k": k}
    try:
        summary = recompute(store, split, rule, **{n: v for n, v in given.items() if v is not None})
    except (SkelprepError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    joints = summary["joints"]
    params = ", ".join(f"{n}={v}" for n, v in summary["params"].items())
    click.echo(
        f"{summary['store']} semantic/{split}: rule {rule} ({params}) -> "
        f"{summary['edges']} edges of {joints * (joints - 1) // 2} joint pairs, "
        f"sparsity {summary['sparsity']:.3f}"
    )
